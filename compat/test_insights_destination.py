"""PutInsightSelectors checks the trail's destination before it turns Insights on, as AWS
lists `S3BucketDoesNotExistException`, `InsufficientS3BucketPolicyException`,
`InsufficientEncryptionPolicyException` and `KmsException` for it (insights6: a deleted
bucket or policy, a disabled key, and a policy that lets CloudTrail write only under
`CloudTrail/` were accepted with 200, and every Insights file then failed to deliver).
Turning Insights off is never refused."""

import json

import botocore.exceptions
import pytest

from conftest import cloudtrail_policy, err

INSIGHTS = [{"InsightType": "ApiCallRateInsight"}]


def refused(ct, name):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.put_insight_selectors(TrailName=name, InsightSelectors=INSIGHTS)
    return err(e)


def trail(cairn, name, policy=None):
    s3, ct = cairn.client("s3"), cairn.client("cloudtrail")
    bucket = f"{name}-bucket"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy or cloudtrail_policy(bucket))
    ct.create_trail(Name=name, S3BucketName=bucket)
    return ct, s3, bucket


def test_a_bucket_gone_or_closed_to_insights_files_is_refused(cairn):
    ct, s3, bucket = trail(cairn, "ins-dest")
    ct.put_insight_selectors(TrailName="ins-dest", InsightSelectors=INSIGHTS)
    s3.delete_bucket_policy(Bucket=bucket)
    assert refused(ct, "ins-dest") == ("InsufficientS3BucketPolicyException", 400)
    # Turning Insights off needs no destination.
    ct.put_insight_selectors(TrailName="ins-dest", InsightSelectors=[])
    ct.delete_trail(Name="ins-dest")

    scoped = json.loads(cloudtrail_policy("ins-scoped-bucket"))
    for statement in scoped["Statement"]:
        if statement["Action"] == "s3:PutObject":
            statement["Resource"] = "arn:aws:s3:::ins-scoped-bucket/AWSLogs/123456789012/CloudTrail/*"
    ct, s3, bucket = trail(cairn, "ins-scoped", json.dumps(scoped))
    assert refused(ct, "ins-scoped") == ("InsufficientS3BucketPolicyException", 400)


def test_a_disabled_trail_key_is_refused(cairn):
    kms = cairn.client("kms")
    ct, s3, bucket = trail(cairn, "ins-kms")
    key = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"}]}))["KeyMetadata"]["Arn"]
    ct.update_trail(Name="ins-kms", KmsKeyId=key)
    ct.put_insight_selectors(TrailName="ins-kms", InsightSelectors=INSIGHTS)
    kms.disable_key(KeyId=key)
    code, status = refused(ct, "ins-kms")
    assert code in ("KmsException", "InsufficientEncryptionPolicyException") and status == 400, code


def test_update_trail_cannot_move_an_insights_trail_where_insights_files_are_refused(cairn):
    """recheck33: Insights turned on first, then UpdateTrail moved the trail to a bucket whose
    policy lets CloudTrail write only under `CloudTrail/`."""
    ct, s3, bucket = trail(cairn, "ins-moved")
    ct.put_insight_selectors(TrailName="ins-moved", InsightSelectors=INSIGHTS)
    scoped = json.loads(cloudtrail_policy("ins-narrow-bucket"))
    for statement in scoped["Statement"]:
        if statement["Action"] == "s3:PutObject":
            statement["Resource"] = "arn:aws:s3:::ins-narrow-bucket/AWSLogs/123456789012/CloudTrail/*"
    s3.create_bucket(Bucket="ins-narrow-bucket")
    s3.put_bucket_policy(Bucket="ins-narrow-bucket", Policy=json.dumps(scoped))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.update_trail(Name="ins-moved", S3BucketName="ins-narrow-bucket")
    assert err(e) == ("InsufficientS3BucketPolicyException", 400)
    assert ct.get_trail(Name="ins-moved")["Trail"]["S3BucketName"] == bucket
    # Without Insights the same move is taken.
    ct.put_insight_selectors(TrailName="ins-moved", InsightSelectors=[])
    ct.update_trail(Name="ins-moved", S3BucketName="ins-narrow-bucket")
