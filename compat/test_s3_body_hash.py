"""A signed S3 request whose XML body does not match its signed `x-amz-content-sha256`, or is
cut short, is the client's mistake: 400 `XAmzContentSHA256Mismatch` or `IncompleteBody`, and
the call is recorded (model-driven fuzz tester: 500 InternalError and no record, for every
bucket-configuration call, DeleteObjects, CompleteMultipartUpload and CreateBucket)."""

import socket
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
import boto3
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET

TAGGING = b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"
VERSIONING = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
DELETE = b"<Delete><Object><Key>a</Key></Object></Delete>"


def send(cairn, method, path, signed, sent, length=None, half_close=False):
    """Signs `signed` as the body and sends `sent` with Content-Length `length`; returns the
    status line's code and the error code."""
    url = cairn.endpoint.rstrip("/") + path
    request = AWSRequest(method, url, data=signed)
    request.context["payload_signing_enabled"] = True
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(request)
    u = urlsplit(url)
    head = f"{method} {path} HTTP/1.1\r\nHost: {u.netloc}\r\n"
    for k, v in request.headers.items():
        if k.lower() not in ("content-length", "host"):
            head += f"{k}: {v if isinstance(v, str) else v.decode()}\r\n"
    head += f"Content-Length: {len(sent) if length is None else length}\r\nConnection: close\r\n\r\n"
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(head.encode() + sent)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    code = data.split(b"<Code>", 1)[1].split(b"</Code>", 1)[0].decode() if b"<Code>" in data else None
    return status, code


@pytest.fixture(scope="module")
def bucket(cairn):
    cairn.client("s3").create_bucket(Bucket="body-hash")
    return "body-hash"


def test_a_body_that_is_not_the_signed_one_is_refused_and_recorded(cairn, bucket):
    cases = [
        ("PUT", f"/{bucket}?tagging", TAGGING, TAGGING.replace(b"<Value>b", b"<Value>c"),
         "PutBucketTagging"),
        ("PUT", f"/{bucket}?versioning", VERSIONING, VERSIONING.replace(b"Enabled", b"Enablex"),
         "PutBucketVersioning"),
        ("POST", f"/{bucket}?delete", DELETE, DELETE.replace(b"<Key>a", b"<Key>b"), "DeleteObjects"),
    ]
    for method, path, signed, sent, _ in cases:
        assert send(cairn, method, path, signed, sent) == (400, "XAmzContentSHA256Mismatch"), path
    # A Content-Length shorter than the body cuts it: its hash does not match either.
    assert send(cairn, "PUT", f"/{bucket}?tagging", TAGGING, TAGGING, length=len(TAGGING) - 5) == (
        400, "XAmzContentSHA256Mismatch")
    # A body that ends before its Content-Length is incomplete.
    assert send(cairn, "PUT", f"/{bucket}?versioning", VERSIONING, VERSIONING,
                length=len(VERSIONING) + 10, half_close=True) == (400, "IncompleteBody")
    recorded = [(r["eventName"], r.get("errorCode")) for r in cairn.records("Management")]
    for *_, name in cases[:2]:
        assert (name, "XAmzContentSHA256Mismatch") in recorded, name
    assert ("PutBucketVersioning", "IncompleteBody") in recorded
    # Nothing was changed: versioning was never enabled, no tags were set.
    s3 = cairn.client("s3")
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)


def test_a_client_that_half_closes_after_its_request_still_gets_the_answer(cairn, bucket):
    """A whole request followed by `shutdown(SHUT_WR)` ran (and was recorded) but got no
    answer (model-driven fuzz tester)."""
    assert send(cairn, "GET", "/", b"", b"", half_close=True) == (200, None)
    assert send(cairn, "PUT", "/half-closed-bucket", b"", b"", half_close=True) == (200, None)
    assert "half-closed-bucket" in [b["Name"] for b in cairn.client("s3").list_buckets()["Buckets"]]


def test_a_configuration_body_is_held_to_its_declared_digests(cairn, bucket):
    """A wrong Content-MD5 or x-amz-checksum-* on PutObjectTagging or a bucket configuration
    call was accepted (S3 features tester): S3 answers BadDigest, and the refusal is
    recorded."""
    import base64
    import hashlib
    s3 = cairn.client("s3")
    s3.put_object(Bucket=bucket, Key="digested", Body=b"x")

    def with_header(name, value):
        def add(request, **_):
            if name in request.headers:
                del request.headers[name]  # the client's own value, replaced
            request.headers[name] = value
        return add
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    for header, value in (("Content-MD5", wrong_md5), ("x-amz-checksum-crc32", "AAAAAA==")):
        # botocore retries BadDigest; one attempt is enough here.
        c = boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                         aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                         config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        c.meta.events.register_last("before-sign.s3.*", with_header(header, value))
        for call in (lambda: c.put_object_tagging(Bucket=bucket, Key="digested",
                                                  Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}),
                     lambda: c.put_bucket_versioning(Bucket=bucket,
                                                     VersioningConfiguration={"Status": "Enabled"})):
            with pytest.raises(Exception) as e:
                call()
            assert e.value.response["Error"]["Code"] == "BadDigest", (header, e.value.response)
    assert s3.get_object_tagging(Bucket=bucket, Key="digested")["TagSet"] == []
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    recorded = [(r["eventName"], r.get("errorCode")) for r in cairn.records("Management")]
    assert ("PutBucketVersioning", "BadDigest") in recorded
