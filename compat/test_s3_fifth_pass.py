"""S3 found by outside tester s3five: the `s3:max-keys` condition key is present only when a
listing sends `max-keys`, with the value sent. It used to be always present and capped at
1,000, so a Deny above 2,000 let `max-keys=5000` through, and a Deny on its absence never
applied."""

import json

import botocore.exceptions
import pytest


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def test_max_keys_is_judged_as_sent(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="max-keys-guarded")
    s3.put_bucket_policy(Bucket="max-keys-guarded", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::max-keys-guarded",
             "Condition": {"NumericGreaterThan": {"s3:max-keys": "2000"}}}]}))
    s3.list_objects_v2(Bucket="max-keys-guarded", MaxKeys=2000)
    assert code(lambda: s3.list_objects_v2(Bucket="max-keys-guarded", MaxKeys=5000)) == "AccessDenied"
    s3.put_bucket_policy(Bucket="max-keys-guarded", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::max-keys-guarded",
             "Condition": {"Null": {"s3:max-keys": "true"}}}]}))
    assert code(lambda: s3.list_objects_v2(Bucket="max-keys-guarded")) == "AccessDenied"
    s3.list_objects_v2(Bucket="max-keys-guarded", MaxKeys=10)
