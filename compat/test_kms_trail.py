"""The CloudTrail guide's recipe for a trail encrypted with a KMS key, with the stock AWS CLI:
a key with the guide's key policy and an alias, the bucket and its policy,
`create-trail --is-multi-region-trail --enable-log-file-validation --kms-key-id alias/… --tags-list`,
calls while logging, delivery, `head-object` showing aws:kms and the key ARN, `aws s3 cp` and
gunzip of a log file, and the stock `validate-logs` passing on the sealed files. Then a
disabled key holds delivery back (GetTrailStatus says so) and re-enabling it delivers
everything, exactly once. Time is driven with `cairn flush --now`."""

import gzip
import json
import os
import subprocess
import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy, ACCESS_KEY, SECRET

ACCT = "123456789012"
TRAIL = "enc-trail"
BUCKET = "enc-trail-logs"


def key_policy(trail_arn):
    """The CloudTrail guide's key policy (the console's first four statements)."""
    return json.dumps({"Version": "2012-10-17", "Id": "Key policy created by CloudTrail", "Statement": [
        {"Sid": "Enable IAM user permissions", "Effect": "Allow",
         "Principal": {"AWS": [f"arn:aws:iam::{ACCT}:root"]}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow CloudTrail to encrypt logs", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn},
                       "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCT}:trail/*"}}},
        {"Sid": "Allow CloudTrail to describe key", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:DescribeKey", "Resource": "*"},
        {"Sid": "Allow principals in the account to decrypt log files", "Effect": "Allow",
         "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": ACCT},
                       "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCT}:trail/*"}}}]})


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", "3600"])
    yield s
    s.stop()


def cli(server, *args, check=True):
    out = server.cli(*args, check=check)
    return json.loads(out.stdout) if check and out.stdout.strip() else out


def validate(server, arn, start, end):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_ENDPOINT_URL_S3=server.endpoint)
    return subprocess.run(["aws", "--endpoint-url", server.endpoint, "cloudtrail", "validate-logs",
                           "--trail-arn", arn, "--start-time", iso(start), "--end-time", iso(end)],
                          env=env, capture_output=True, text=True)


def log_records(server, s3):
    names = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"AWSLogs/{ACCT}/CloudTrail/"):
        for o in page.get("Contents", []):
            body = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read())
            names += json.loads(body)["Records"]
    return names


def test_the_guides_recipe_encrypts_and_validate_logs_passes(server, tmp_path):
    t0 = time.time()
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/{TRAIL}"
    policy_file = tmp_path / "key-policy.json"
    policy_file.write_text(key_policy(trail_arn))
    key = cli(server, "kms", "create-key", "--policy", f"file://{policy_file}",
              "--description", "CloudTrail log files")["KeyMetadata"]
    cli(server, "kms", "create-alias", "--alias-name", "alias/cloudtrail-logs", "--target-key-id", key["KeyId"])
    cli(server, "s3api", "create-bucket", "--bucket", BUCKET)
    bucket_policy = tmp_path / "bucket-policy.json"
    bucket_policy.write_text(cloudtrail_policy(BUCKET))
    cli(server, "s3api", "put-bucket-policy", "--bucket", BUCKET, "--policy", f"file://{bucket_policy}")
    trail = cli(server, "cloudtrail", "create-trail", "--name", TRAIL, "--s3-bucket-name", BUCKET,
                "--is-multi-region-trail", "--enable-log-file-validation",
                "--kms-key-id", "alias/cloudtrail-logs", "--tags-list", "Key=team,Value=audit")
    assert trail["KmsKeyId"] == key["Arn"]
    cli(server, "cloudtrail", "start-logging", "--name", TRAIL)
    for _ in range(3):
        cli(server, "cloudtrail", "describe-trails")
    assert cli(server, "cloudtrail", "get-trail", "--name", TRAIL)["Trail"]["KmsKeyId"] == key["Arn"]
    server.flush("--now", str(t0 + 3700))

    s3 = server.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"AWSLogs/{ACCT}/CloudTrail/")["Contents"]
    first = listed[0]["Key"]
    head = cli(server, "s3api", "head-object", "--bucket", BUCKET, "--key", first)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key["Arn"]
    local = tmp_path / "log.json.gz"
    env_s3 = ("s3", "cp", f"s3://{BUCKET}/{first}", str(local))
    server.cli(*env_s3)
    records = json.loads(gzip.decompress(local.read_bytes()))["Records"]
    assert records and all(r["recipientAccountId"] == ACCT for r in records)
    digests = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"AWSLogs/{ACCT}/CloudTrail-Digest/")["Contents"]
    # "Enabling server-side encryption encrypts the log files but not the digest files with
    # SSE-KMS. Digest files are encrypted with Amazon S3-managed encryption keys (SSE-S3)"
    # (CloudTrail User Guide; kms8: they were sealed under the trail's key, so a disabled key
    # held them back and a deleted one left the signed chain unreadable).
    digest_head = s3.head_object(Bucket=BUCKET, Key=digests[0]["Key"])
    assert digest_head["ServerSideEncryption"] == "AES256"
    assert "SSEKMSKeyId" not in digest_head

    result = validate(server, trail_arn, t0 - 60, t0 + 7200)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INVALID" not in result.stdout + result.stderr
    assert "log files valid" in result.stdout

    # CloudTrail's GenerateDataKey calls are recorded with its service identity.
    kms_events = [r for r in server.records("Management") if r["eventSource"] == "kms.amazonaws.com"]
    generated = [r for r in kms_events if r["eventName"] == "GenerateDataKey"]
    assert generated and all(r["userIdentity"]["invokedBy"] == "cloudtrail.amazonaws.com" for r in generated)
    # A service's call carries sharedEventID after recipientAccountId, as AWS's AWSService
    # KMS records do.
    for r in generated:
        keys = list(r)
        assert keys[keys.index("recipientAccountId") + 1] == "sharedEventID", keys
        assert len(r["sharedEventID"]) == 36
    # GenerateDataKey has no algorithm member; AWS's records of it never name one.
    assert all("encryptionAlgorithm" not in r["requestParameters"] for r in generated)
    decrypts = [r for r in kms_events if r["eventName"] == "Decrypt"]
    assert decrypts and all(r["userIdentity"].get("invokedBy") == "s3.amazonaws.com" for r in decrypts)
    assert all(r["requestParameters"]["encryptionAlgorithm"] == "SYMMETRIC_DEFAULT" for r in decrypts)


def test_a_disabled_key_holds_delivery_until_enabled(server):
    t0 = time.time()
    ct = server.client("cloudtrail")
    kms = server.client("kms")
    key_arn = ct.get_trail(Name=TRAIL)["Trail"]["KmsKeyId"]
    kms.disable_key(KeyId=key_arn)
    ct.describe_trails(trailNameList=["while-disabled"])
    server.flush("--now", str(t0 + 2 * 3700))
    status = server.client("cloudtrail").get_trail_status(Name=TRAIL)
    assert status["LatestDeliveryError"] == "KMS.DisabledException", status

    kms = server.client("kms")
    kms.enable_key(KeyId=key_arn)
    server.flush("--now", str(t0 + 3 * 3700))
    status = server.client("cloudtrail").get_trail_status(Name=TRAIL)
    assert "LatestDeliveryError" not in status, status
    records = log_records(server, server.client("s3"))
    marked = [r for r in records if (r.get("requestParameters") or {}).get("trailNameList") == ["while-disabled"]]
    assert len(marked) == 1
    ids = [r["eventID"] for r in records]
    assert len(ids) == len(set(ids))


def test_readers_need_kms_decrypt_but_not_for_metadata(server):
    ct, kms, iam = server.client("cloudtrail"), server.client("kms"), server.client("iam")
    key_arn = ct.get_trail(Name=TRAIL)["Trail"]["KmsKeyId"]
    # Without the guide's account-wide decrypt statement, only principals whose own policies
    # allow kms:Decrypt (the key policy delegates to the account) may read the files.
    policy = json.loads(key_policy(f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/{TRAIL}"))
    policy["Statement"] = policy["Statement"][:3]
    kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))
    iam.create_user(UserName="log-reader")
    iam.put_user_policy(UserName="log-reader", PolicyName="read-logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}]}))
    ak = iam.create_access_key(UserName="log-reader")["AccessKey"]
    reader = server.client_with(ak["AccessKeyId"], ak["SecretAccessKey"], "s3")
    key = reader.list_objects_v2(Bucket=BUCKET, Prefix=f"AWSLogs/{ACCT}/CloudTrail/")["Contents"][0]["Key"]
    assert reader.head_object(Bucket=BUCKET, Key=key)["SSEKMSKeyId"] == key_arn
    with pytest.raises(Exception) as denied:
        reader.get_object(Bucket=BUCKET, Key=key)
    err = denied.value.response["Error"]
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err["Code"] == "AccessDenied"
    assert "kms:Decrypt" in err["Message"] and key_arn in err["Message"], err
    # Root, through the delegating statement, still reads them.
    assert server.client("s3").get_object(Bucket=BUCKET, Key=key)["ServerSideEncryption"] == "aws:kms"
    iam.put_user_policy(UserName="log-reader", PolicyName="decrypt", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn}]}))
    body = reader.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert json.loads(gzip.decompress(body))["Records"]
