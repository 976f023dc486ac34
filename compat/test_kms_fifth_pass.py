"""KMS behind S3 and CloudTrail, found by outside tester kms5 (each failed before its fix):
- CreateTrail checked a bucket default's S3 Bucket Key with CloudTrail's context, while the
  deliveries ask with S3's (the bucket ARN only): a key policy conditioned on
  `kms:EncryptionContext:aws:cloudtrail:arn`, as the CloudTrail guide writes it, passed the
  check and then refused every delivery;
- a SigV2 GetObject of an SSE-KMS object, which S3 refuses itself, was recorded as a KMS
  `Decrypt` failing with `KMSInternalException`, attributed to the caller;
- a `GenerateDataKey` S3 was refused on a writer's behalf named no key in `resources`."""

import json

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET, cloudtrail_policy

ACCOUNT = "123456789012"


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def records(cairn, name):
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in events]


def key_with(cairn, statement, describe=True):
    """A key whose policy adds `statement` and (unless `describe` is false) lets CloudTrail
    describe the key, as the CloudTrail guide's policy does in a statement of its own."""
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    policy["Statement"].append(statement)
    if describe:
        policy["Statement"].append({"Sid": "Describe", "Effect": "Allow",
                                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                    "Action": "kms:DescribeKey", "Resource": "*"})
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    return key


def test_a_bucket_key_is_checked_with_the_context_deliveries_use(cairn):
    cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
    guide_style = key_with(cairn, {
        "Sid": "CloudTrail", "Effect": "Allow", "Principal": cloudtrail,
        "Action": "kms:GenerateDataKey*", "Resource": "*",
        "Condition": {"StringLike": {
            "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"}}})
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="bk-context")
    s3.put_bucket_policy(Bucket="bk-context", Policy=cloudtrail_policy("bk-context"))
    s3.put_bucket_encryption(Bucket="bk-context", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": guide_style},
        "BucketKeyEnabled": True}]})
    ct = cairn.client("cloudtrail")
    assert code(lambda: ct.create_trail(Name="bk-context", S3BucketName="bk-context")) == \
        "InsufficientEncryptionPolicyException"
    # A key CloudTrail may use with S3's context (the bucket's ARN) is accepted, without
    # kms:DescribeKey, which delivery into a bucket's default never asks (recheck28).
    bucket_style = key_with(cairn, {
        "Sid": "CloudTrail", "Effect": "Allow", "Principal": cloudtrail,
        "Action": "kms:GenerateDataKey*", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::bk-context"}}},
        describe=False)
    s3.put_bucket_encryption(Bucket="bk-context", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": bucket_style},
        "BucketKeyEnabled": True}]})
    assert ct.create_trail(Name="bk-context", S3BucketName="bk-context")["Name"] == "bk-context"
    probe = [r for r in records(cairn, "GenerateDataKey")
             if r["userIdentity"].get("invokedBy") == "cloudtrail.amazonaws.com"
             or r["userIdentity"]["type"] == "AWSService"]
    assert probe and probe[0]["requestParameters"]["encryptionContext"] == {"aws:s3:arn": "arn:aws:s3:::bk-context"}


def test_s3_refusing_sigv2_itself_records_no_kms_call(cairn):
    key = cairn.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="v2-record")
    s3.put_object(Bucket="v2-record", Key="sealed", Body=b"secret", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    v2 = boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET, config=Config(signature_version="s3"))
    assert code(lambda: v2.get_object(Bucket="v2-record", Key="sealed")) == "InvalidArgument"
    assert code(lambda: v2.put_object(Bucket="v2-record", Key="new", Body=b"x", ServerSideEncryption="aws:kms",
                                      SSEKMSKeyId=key)) == "InvalidArgument"
    assert s3.get_object(Bucket="v2-record", Key="sealed")["Body"].read() == b"secret"
    decrypts = records(cairn, "Decrypt")
    assert decrypts and all("errorCode" not in r for r in decrypts), decrypts
    assert all(r.get("errorCode") != "KMSInternalException" for r in records(cairn, "GenerateDataKey"))


def test_a_refused_data_key_names_its_key(cairn):
    key = cairn.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="refused-key")
    s3.put_bucket_encryption(Bucket="refused-key", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    iam = cairn.client("iam")
    iam.create_user(UserName="s3-only")
    iam.put_user_policy(UserName="s3-only", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    k = iam.create_access_key(UserName="s3-only")["AccessKey"]
    theirs = cairn.client_with(k["AccessKeyId"], k["SecretAccessKey"], "s3")
    assert code(lambda: theirs.put_object(Bucket="refused-key", Key="k", Body=b"x")) == "AccessDenied"
    [refused] = [r for r in records(cairn, "GenerateDataKey")
                 if r["userIdentity"].get("userName") == "s3-only"]
    assert refused["errorCode"] == "AccessDenied", refused
    assert refused["resources"] == [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key}], refused


def test_writes_record_what_sealed_them(cairn):
    """S3 User Guide, "Monitoring default encryption with CloudTrail": a write's record says
    whether its headers or the bucket's default sealed it (`additionalEventData.SSEApplied`);
    for a multipart upload, its CreateMultipartUpload does."""
    key = cairn.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3 = cairn.client("s3")
    for bucket in ("sse-logs", "sse-kms-default", "sse-plain"):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket="sse-logs", Policy=cloudtrail_policy("sse-logs"))
    s3.put_bucket_encryption(Bucket="sse-kms-default", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    ct = cairn.client("cloudtrail")
    ct.create_trail(Name="sse-applied", S3BucketName="sse-logs")
    ct.put_event_selectors(TrailName="sse-applied", EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::sse-kms-default/",
                                                                 "arn:aws:s3:::sse-plain/"]}]}])
    ct.start_logging(Name="sse-applied")
    s3.put_object(Bucket="sse-kms-default", Key="by-default", Body=b"x")
    s3.put_object(Bucket="sse-plain", Key="by-default", Body=b"x")
    s3.put_object(Bucket="sse-plain", Key="kms-header", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    s3.put_object(Bucket="sse-kms-default", Key="s3-header", Body=b"x", ServerSideEncryption="AES256")
    s3.copy_object(Bucket="sse-kms-default", Key="copied", CopySource={"Bucket": "sse-plain", "Key": "by-default"})
    s3.create_multipart_upload(Bucket="sse-plain", Key="multi", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    with pytest.raises(botocore.exceptions.ClientError):
        s3.put_object(Bucket="sse-plain", Key="refused", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId="alias/none")
    applied = {(r["eventName"], r["requestParameters"]["bucketName"], r["requestParameters"]["key"]):
               r["additionalEventData"].get("SSEApplied") for r in cairn.records("Data")}
    assert applied == {
        ("PutObject", "sse-kms-default", "by-default"): "Default_SSE_KMS",
        ("PutObject", "sse-plain", "by-default"): "Default_SSE_S3",
        ("PutObject", "sse-plain", "kms-header"): "SSE_KMS",
        ("PutObject", "sse-kms-default", "s3-header"): "SSE_S3",
        ("CopyObject", "sse-kms-default", "copied"): "Default_SSE_KMS",
        ("CreateMultipartUpload", "sse-plain", "multi"): "SSE_KMS",
        ("PutObject", "sse-plain", "refused"): None,
    }, applied
