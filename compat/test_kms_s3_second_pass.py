"""S3 and KMS found by a second outside pass (each failed before its fix):
- a write naming `aws:kms` itself dropped the bucket's S3 Bucket Key setting, so a key policy
  written for Bucket Keys (the bucket ARN as context) refused it;
- CreateTrail accepted a bucket whose Bucket Key uses a key CloudTrail may not use, and the
  trail then never delivered;
- SigV2-signed requests read and wrote SSE-KMS objects, which S3 refuses."""

import json
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET, cloudtrail_policy

ACCOUNT = "123456789012"


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"].get("Message")


@pytest.fixture(scope="module")
def key(cairn):
    return cairn.client("kms").create_key()["KeyMetadata"]["Arn"]


def bucket_key_default(cairn, bucket, key):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
        "BucketKeyEnabled": True}]})
    return s3


def test_a_kms_write_without_its_own_bucket_key_header_takes_the_buckets(cairn, key):
    s3 = bucket_key_default(cairn, "bk-inherit", key)
    put = s3.put_object(Bucket="bk-inherit", Key="named", Body=b"x", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId=key)
    assert put["BucketKeyEnabled"] is True
    assert s3.head_object(Bucket="bk-inherit", Key="named")["BucketKeyEnabled"] is True
    copy = s3.copy_object(Bucket="bk-inherit", Key="copied", CopySource={"Bucket": "bk-inherit", "Key": "named"},
                          ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    assert copy["BucketKeyEnabled"] is True
    up = s3.create_multipart_upload(Bucket="bk-inherit", Key="multi", ServerSideEncryption="aws:kms")
    assert up["BucketKeyEnabled"] is True
    # Turned off in the request, it stays off.
    off = s3.put_object(Bucket="bk-inherit", Key="off", Body=b"x", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId=key, BucketKeyEnabled=False)
    assert not off.get("BucketKeyEnabled")


def test_create_trail_refuses_a_bucket_key_cloudtrail_may_not_use(cairn, key):
    s3 = bucket_key_default(cairn, "bk-trail", key)
    s3.put_bucket_policy(Bucket="bk-trail", Policy=cloudtrail_policy("bk-trail"))
    ct = cairn.client("cloudtrail")
    # The key's default policy lets only the account use it, not cloudtrail.amazonaws.com.
    got = code(lambda: ct.create_trail(Name="bk-trail", S3BucketName="bk-trail"))
    assert got[0] == "InsufficientEncryptionPolicyException", got
    kms = cairn.client("kms")
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    policy["Statement"].append({"Sid": "CloudTrail", "Effect": "Allow",
                                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"})
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    assert ct.create_trail(Name="bk-trail", S3BucketName="bk-trail")["Name"] == "bk-trail"


def test_sigv2_requests_are_refused_for_kms_objects(cairn, key):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="v2-kms")
    s3.put_object(Bucket="v2-kms", Key="sealed", Body=b"secret", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    s3.put_object(Bucket="v2-kms", Key="plain", Body=b"open")
    v2 = boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET, config=Config(signature_version="s3"))
    refused = ("InvalidArgument",
               "Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.")
    assert code(lambda: v2.get_object(Bucket="v2-kms", Key="sealed")) == refused
    assert code(lambda: v2.put_object(Bucket="v2-kms", Key="new", Body=b"x", ServerSideEncryption="aws:kms",
                                      SSEKMSKeyId=key)) == refused
    url = v2.generate_presigned_url("get_object", Params={"Bucket": "v2-kms", "Key": "sealed"}, ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url)
    assert e.value.code == 400 and b"Signature Version 4" in e.value.read()
    # SSE-S3 objects and SigV4 reads are unaffected.
    assert v2.get_object(Bucket="v2-kms", Key="plain")["Body"].read() == b"open"
    assert s3.get_object(Bucket="v2-kms", Key="sealed")["Body"].read() == b"secret"


def test_sigv2_is_refused_under_a_bucket_key_a_sigv4_request_made(cairn, key):
    s3 = bucket_key_default(cairn, "v2-bk", key)
    s3.put_object(Bucket="v2-bk", Key="first", Body=b"sigv4 makes the bucket key")
    v2 = boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET, config=Config(signature_version="s3"))
    assert code(lambda: v2.put_object(Bucket="v2-bk", Key="second", Body=b"x"))[0] == "InvalidArgument"
    assert code(lambda: v2.get_object(Bucket="v2-bk", Key="first"))[0] == "InvalidArgument"


def test_a_presigned_url_sent_with_an_authorization_header_is_refused(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="two-auth")
    s3.put_object(Bucket="two-auth", Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "two-auth", "Key": "k"}, ExpiresIn=60)
    assert urllib.request.urlopen(url).read() == b"x"
    req = urllib.request.Request(url, headers={"Authorization": "junk"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    body = e.value.read()
    assert e.value.code == 400 and b"<Code>InvalidArgument</Code>" in body and b"Only one auth mechanism" in body
