"""Findings from outside testing, each against the real binary with boto3 and the AWS CLI:
SigV2 (header and presigned) on path-style bucket requests, AssumeRole's list bounds as
ValidationError, GetKeyRotationStatus of a key pending deletion, the algorithms KMS records
name for Encrypt/Decrypt/ReEncrypt, PutObject echoing its SSE-KMS encryption context, and a
trail's KMS key resolved in its bucket's region."""

import base64
import email.utils
import hashlib
import hmac
import json
import re
import time
import urllib.request

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET, cloudtrail_policy, err

ACCT = "123456789012"


def v2_client(cairn):
    return boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                        config=Config(signature_version="s3"))


def v2_get(cairn, path_and_query, resource):
    """A header-signed SigV2 GET of `path_and_query`, signing `resource`."""
    date = email.utils.formatdate(usegmt=True)
    to_sign = f"GET\n\n\n{date}\n{resource}"
    sig = base64.b64encode(hmac.new(SECRET.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
    req = urllib.request.Request(cairn.endpoint.rstrip("/") + path_and_query,
                                 headers={"Date": date, "Authorization": f"AWS {ACCESS_KEY}:{sig}"})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_sigv2_bucket_requests_verify_over_the_bucket_with_its_slash(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="v2test")
    s3.put_object(Bucket="v2test", Key="a.txt", Body=b"hi")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::v2test/*"}]})
    s3.put_bucket_policy(Bucket="v2test", Policy=policy)

    v2 = v2_client(cairn)
    assert [o["Key"] for o in v2.list_objects(Bucket="v2test")["Contents"]] == ["a.txt"]
    assert json.loads(v2.get_bucket_policy(Bucket="v2test")["Policy"]) == json.loads(policy)
    url = v2.generate_presigned_url("list_objects_v2", Params={"Bucket": "v2test"}, ExpiresIn=300)
    assert "Signature=" in url and "X-Amz-" not in url
    with urllib.request.urlopen(url) as resp:
        assert resp.status == 200 and b"<Key>a.txt</Key>" in resp.read()
    # Object-level SigV2 keeps working.
    assert v2.get_object(Bucket="v2test", Key="a.txt")["Body"].read() == b"hi"

    # Both resources verify: the path as sent, and S3's canonical `/bucket/`.
    assert v2_get(cairn, "/v2test?policy", "/v2test?policy")[0] == 200
    assert v2_get(cairn, "/v2test?policy", "/v2test/?policy")[0] == 200
    status, body = v2_get(cairn, "/v2test?policy", "/other/?policy")
    assert status == 403 and b"SignatureDoesNotMatch" in body


def test_assume_role_list_bounds_are_validation_errors(cairn):
    sts = cairn.client("sts")
    role = f"arn:aws:iam::{ACCT}:role/nobody"
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=role, RoleSessionName="s1", Tags=tags)
    assert err(e) == ("ValidationError", 400)
    assert e.value.response["Error"]["Message"].startswith("1 validation error detected: Value ")
    assert e.value.response["Error"]["Message"].endswith(
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=role, RoleSessionName="s1",
                        TransitiveTagKeys=[f"k{i}" for i in range(51)])
    assert err(e) == ("ValidationError", 400)
    assert "at 'transitiveTagKeys' failed to satisfy constraint: Member must have length less " \
           "than or equal to 50" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=role, RoleSessionName="s1",
                        PolicyArns=[{"arn": f"arn:aws:iam::{ACCT}:policy/p{i}"} for i in range(11)])
    assert err(e) == ("ValidationError", 400)
    assert "at 'policyArns' failed to satisfy constraint: Member must have length less " \
           "than or equal to 10" in e.value.response["Error"]["Message"]


def test_transitive_keys_must_be_tags_and_expirations_are_whole_seconds(cairn):
    sts = cairn.client("sts")
    role = f"arn:aws:iam::{ACCT}:role/nobody"
    for tags in ([{"Key": "a", "Value": "1"}], []):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role(RoleArn=role, RoleSessionName="s1", Tags=tags,
                            TransitiveTagKeys=["b"])
        assert err(e) == ("InvalidParameterValue", 400)
        assert e.value.response["Error"]["Message"] == \
            "The specified transitive tag key must be included in the requested tags."
    bodies = []
    sts.meta.events.register("after-call.sts.GetSessionToken",
                             lambda http_response, **_: bodies.append(http_response.text))
    sts.get_session_token(DurationSeconds=900)
    expiration = bodies[0].split("<Expiration>")[1].split("</Expiration>")[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", expiration), expiration


def test_rotation_status_of_a_key_pending_deletion_is_false_until_canceled(cairn):
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key)
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    status = kms.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] is False
    assert "RotationPeriodInDays" not in status and "NextRotationDate" not in status
    kms.cancel_key_deletion(KeyId=key)
    status = kms.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 365


def recorded(cairn, name):
    ct = cairn.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
    return [json.loads(e["CloudTrailEvent"]) for e in events["Events"]]


def test_kms_records_always_name_the_encryption_algorithm(cairn):
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=other)
    kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    (encrypt,) = recorded(cairn, "Encrypt")
    assert encrypt["requestParameters"]["encryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    (decrypt,) = recorded(cairn, "Decrypt")
    assert decrypt["requestParameters"] == {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    (reencrypt,) = recorded(cairn, "ReEncrypt")
    assert reencrypt["requestParameters"]["sourceEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert reencrypt["requestParameters"]["destinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    (generate,) = recorded(cairn, "GenerateDataKey")
    assert "encryptionAlgorithm" not in generate["requestParameters"]


def test_put_object_echoes_its_sse_kms_encryption_context(cairn):
    s3, kms = cairn.client("s3"), cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket="ctx-echo")
    context = base64.b64encode(json.dumps({"project": "alpha"}).encode()).decode()
    out = s3.put_object(Bucket="ctx-echo", Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId=key, SSEKMSEncryptionContext=context)
    assert out["ServerSideEncryption"] == "aws:kms" and out["SSEKMSKeyId"] == key
    assert out["SSEKMSEncryptionContext"] == context
    plain = s3.put_object(Bucket="ctx-echo", Key="p", Body=b"x")
    assert "SSEKMSEncryptionContext" not in plain


def trail_key_policy(trail_arn):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}}]})


def test_a_trails_key_resolves_in_its_buckets_region(cairn):
    bucket = "trw-logs-east"
    trail_arn = f"arn:aws:cloudtrail:us-west-2:{ACCT}:trail/trw"
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket))
    east = cairn.client("kms").create_key(Policy=trail_key_policy(trail_arn))["KeyMetadata"]
    west = cairn.client("kms", region="us-west-2").create_key(
        Policy=trail_key_policy(trail_arn))["KeyMetadata"]
    cairn.client("kms").create_alias(AliasName="alias/trw", TargetKeyId=east["KeyId"])

    refused = cairn.cli("cloudtrail", "create-trail", "--name", "trw", "--s3-bucket-name", bucket,
                        "--kms-key-id", west["Arn"], region="us-west-2", check=False)
    assert refused.returncode != 0 and "KmsKeyNotFoundException" in refused.stderr
    # A bare alias name is the bucket region's alias too.
    out = cairn.cli("cloudtrail", "create-trail", "--name", "trw", "--s3-bucket-name", bucket,
                    "--kms-key-id", "alias/trw", region="us-west-2")
    assert json.loads(out.stdout)["KmsKeyId"] == east["Arn"]
    out = cairn.cli("cloudtrail", "update-trail", "--name", "trw", "--kms-key-id", east["Arn"],
                    region="us-west-2")
    assert json.loads(out.stdout)["KmsKeyId"] == east["Arn"]
    refused = cairn.cli("cloudtrail", "update-trail", "--name", "trw", "--kms-key-id", west["KeyId"],
                        region="us-west-2", check=False)
    assert refused.returncode != 0 and "KmsKeyNotFoundException" in refused.stderr

    # Moving the trail to a bucket of another region keeps a key of the wrong region: refused.
    west_bucket = "trw-logs-west"
    cairn.client("s3", region="us-west-2").create_bucket(
        Bucket=west_bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    cairn.client("s3", region="us-west-2").put_bucket_policy(
        Bucket=west_bucket, Policy=cloudtrail_policy(west_bucket))
    refused = cairn.cli("cloudtrail", "update-trail", "--name", "trw", "--s3-bucket-name", west_bucket,
                        region="us-west-2", check=False)
    assert refused.returncode != 0 and "KmsKeyNotFoundException" in refused.stderr
    out = cairn.cli("cloudtrail", "get-trail", "--name", "trw", region="us-west-2")
    assert json.loads(out.stdout)["Trail"]["S3BucketName"] == bucket

    cairn.cli("cloudtrail", "start-logging", "--name", "trw", region="us-west-2")
    cairn.cli("cloudtrail", "describe-trails", region="us-west-2")
    cairn.flush("--now", str(time.time() + 3700))
    s3 = cairn.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"AWSLogs/{ACCT}/CloudTrail/us-west-2/")
    assert listed.get("Contents"), listed
    head = s3.head_object(Bucket=bucket, Key=listed["Contents"][0]["Key"])
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == east["Arn"]
    generated = [r for r in cairn.records("Management")
                 if r["eventName"] == "GenerateDataKey" and r["eventSource"] == "kms.amazonaws.com"]
    assert generated and all(r["awsRegion"] == "us-east-1" for r in generated)
