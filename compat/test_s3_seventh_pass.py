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


def test_conditional_write_keys_enforce_create_only_writes(cairn):
    """The S3 user guide's "Enforce conditional writes", Example 1: writes must carry
    If-None-Match; multipart uploads are exempted by s3:ObjectCreationOperation. The keys were
    never set: this Allow denied every write, and the Deny form never applied."""
    import botocore.exceptions
    import pytest
    iam = cairn.client("iam")
    iam.create_user(UserName="cw-alice")
    key = iam.create_access_key(UserName="cw-alice")["AccessKey"]
    alice = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "s3")
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="condwrite")
    who = {"AWS": "arn:aws:iam::123456789012:user/cw-alice"}
    s3.put_bucket_policy(Bucket="condwrite", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AllowConditionalPut", "Effect": "Allow", "Principal": who, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::condwrite/*", "Condition": {"Null": {"s3:if-none-match": "false"}}},
        {"Sid": "AllowConditionalPutwithMPUs", "Effect": "Allow", "Principal": who, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::condwrite/*", "Condition": {"Bool": {"s3:ObjectCreationOperation": "false"}}}]}))
    alice.put_object(Bucket="condwrite", Key="new", Body=b"1", IfNoneMatch="*")
    upload = alice.create_multipart_upload(Bucket="condwrite", Key="big")["UploadId"]
    etag = alice.upload_part(Bucket="condwrite", Key="big", UploadId=upload, PartNumber=1, Body=b"x")["ETag"]
    alice.complete_multipart_upload(Bucket="condwrite", Key="big", UploadId=upload, IfNoneMatch="*",
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.put_object(Bucket="condwrite", Key="new", Body=b"overwrite")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    # The Deny form: a write without If-None-Match is refused, one with it is not.
    s3.put_bucket_policy(Bucket="condwrite", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": who, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::condwrite/*"},
        {"Effect": "Deny", "Principal": who, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::condwrite/*",
         "Condition": {"Null": {"s3:if-none-match": "true"}, "Bool": {"s3:ObjectCreationOperation": "true"}}}]}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.put_object(Bucket="condwrite", Key="other", Body=b"2")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    alice.put_object(Bucket="condwrite", Key="other", Body=b"2", IfNoneMatch="*")
    assert s3.get_object(Bucket="condwrite", Key="new")["Body"].read() == b"1"


def test_a_put_without_a_length_is_refused_alike_for_every_key(cairn):
    """A PutObject with a chunked body and no Content-Length was answered 411 only after the
    signature check: a valid key got 411, a bad one 403, telling them apart without a record.
    Now it is 411 with S3's message whoever signs it."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    cairn.client("s3").create_bucket(Bucket="nolen")

    def put(key_id, secret):
        url = f"{cairn.endpoint}/nolen/k"
        req = AWSRequest("PUT", url, data=b"", headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        SigV4Auth(Credentials(key_id, secret), "s3", "us-east-1").add_auth(req)
        headers = {k: v for k, v in req.headers.items() if k.lower() != "content-length"}

        def chunks():
            yield b"hello"
        resp = urllib3.PoolManager().request("PUT", url, body=chunks(), headers=headers, chunked=True)
        return resp.status, resp.data

    for who in ((ACCESS_KEY, SECRET), ("AKIAXXXXXXXXXXXXXXXX", "nope"), (ACCESS_KEY, "wrong")):
        status, body = put(*who)
        assert status == 411, (who, body)
        assert b"You must provide the Content-Length HTTP header." in body, body


def test_checksums_cairn_does_not_compute_are_refused(cairn):
    """x-amz-checksum-sha512 (and MD5, XXHASH*) was ignored: a body not matching it was stored
    and answered 200. It is refused instead; the algorithms Cairn computes still work."""
    import base64
    import hashlib

    import botocore.exceptions
    import pytest
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="newsums")
    wrong = base64.b64encode(hashlib.sha512(b"other").digest()).decode()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="newsums", Key="k", Body=b"x", ChecksumSHA512=wrong)
    assert e.value.response["Error"]["Code"] == "InvalidRequest", e.value.response
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket="newsums", Key="k")
    s3.put_object(Bucket="newsums", Key="k", Body=b"x", ChecksumAlgorithm="SHA256")
