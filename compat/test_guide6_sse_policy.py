"""A trail bucket whose policy requires SSE-KMS uploads (the S3 guide's "deny objects that
are not SSE-KMS" statement), found by outside tester guide6 (failed before the fix): CloudTrail's
own upload of a KMS trail's files carries the SSE-KMS headers, but Cairn judged the policy
without them, so CreateTrail/UpdateTrail with the key was InsufficientS3BucketPolicyException
and a logging trail's deliveries failed with AccessDenied."""

import json
import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy
from test_kms_trail import key_policy

ACCT = "123456789012"
BUCKET = "sse-kms-only"


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", "3600"])
    yield s
    s.stop()


def test_a_policy_requiring_sse_kms_lets_a_kms_trail_deliver(server):
    t0 = time.time()
    s3, ct, kms = (server.client(x) for x in ("s3", "cloudtrail", "kms"))
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/sealed"
    key = kms.create_key(Policy=key_policy(arn))["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=BUCKET)
    policy = json.loads(cloudtrail_policy(BUCKET))
    policy["Statement"].append({
        "Sid": "DenyObjectsThatAreNotSSEKMS", "Effect": "Deny", "Principal": "*",
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
        "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}})
    policy["Statement"].append({
        "Sid": "RequireTheTrailKey", "Effect": "Deny", "Principal": "*",
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
        "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key}}})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    # Without a key the trail's uploads would be refused by that policy, as on AWS.
    with pytest.raises(Exception) as e:
        ct.create_trail(Name="plain", S3BucketName=BUCKET)
    assert "InsufficientS3BucketPolicyException" in str(e.value)
    assert ct.create_trail(Name="sealed", S3BucketName=BUCKET, KmsKeyId=key)["KmsKeyId"] == key
    ct.start_logging(Name="sealed")
    ct.describe_trails(trailNameList=["marker"])
    ct.update_trail(Name="sealed", KmsKeyId=key)
    server.flush("--now", str(t0 + 3700))
    ct = server.client("cloudtrail")
    status = ct.get_trail_status(Name="sealed")
    assert "LatestDeliveryError" not in status, status
    assert "LatestDigestDeliveryError" not in status, status
    keys = [o["Key"] for o in server.client("s3").list_objects_v2(
        Bucket=BUCKET, Prefix=f"AWSLogs/{ACCT}/CloudTrail/")["Contents"]]
    assert keys
    head = server.client("s3").head_object(Bucket=BUCKET, Key=keys[0])
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key
