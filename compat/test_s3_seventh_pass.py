"""S3 found by outside tester s3seven (each failed before its fix):
- `s3:signatureAge` was never in the request context, so AWS's guardrail "deny presigned
  URLs whose signature is older than N ms" never denied."""

import datetime
import json
from unittest import mock

import boto3
import botocore.config
import urllib3

from conftest import ACCESS_KEY, SECRET


def presigned_get(s3, bucket, key, signed_ago):
    """A SigV4 presigned GetObject URL signed `signed_ago` seconds ago."""
    at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(seconds=signed_ago)
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)


def test_signature_age_limits_presigned_urls(cairn):
    s3 = boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                      aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                      config=botocore.config.Config(signature_version="s3v4"))
    s3.create_bucket(Bucket="sigage")
    s3.put_object(Bucket="sigage", Key="a.txt", Body=b"hi")
    s3.put_bucket_policy(Bucket="sigage", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "Deny a presigned URL request if the signature is more than 30 s old",
        "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "arn:aws:s3:::sigage/*",
        "Condition": {"NumericGreaterThan": {"s3:signatureAge": "30000"}}}]}))
    http = urllib3.PoolManager()
    fresh = http.request("GET", presigned_get(s3, "sigage", "a.txt", 0))
    assert fresh.status == 200 and fresh.data == b"hi", fresh.data
    old = http.request("GET", presigned_get(s3, "sigage", "a.txt", 120))
    assert old.status == 403 and b"AccessDenied" in old.data, old.data
    # A header-signed call made now is young too.
    assert s3.get_object(Bucket="sigage", Key="a.txt")["Body"].read() == b"hi"
