"""Conditional writes and deletes on S3 objects (If-Match, If-None-Match, DeleteObjects ETags):
a condition that does not hold changes nothing."""

import botocore.exceptions
import pytest

from conftest import err


@pytest.fixture(scope="module")
def s3(cairn):
    c = cairn.client("s3")
    c.create_bucket(Bucket="cond-bkt")
    return c


def body(s3, key):
    return s3.get_object(Bucket="cond-bkt", Key=key)["Body"].read()


def test_put_if_none_match_refuses_an_existing_key(s3):
    s3.put_object(Bucket="cond-bkt", Key="a", Body=b"first", IfNoneMatch="*")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="cond-bkt", Key="a", Body=b"second", IfNoneMatch="*")
    assert err(e) == ("PreconditionFailed", 412)
    assert body(s3, "a") == b"first"


def test_put_if_match(s3):
    etag = s3.put_object(Bucket="cond-bkt", Key="b", Body=b"one")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="cond-bkt", Key="b", Body=b"two", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert err(e) == ("PreconditionFailed", 412)
    assert body(s3, "b") == b"one"
    s3.put_object(Bucket="cond-bkt", Key="b", Body=b"three", IfMatch=etag)
    assert body(s3, "b") == b"three"
    # If-Match on a key that does not exist creates nothing.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="cond-bkt", Key="missing", Body=b"x", IfMatch=etag)
    assert err(e) == ("NoSuchKey", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="cond-bkt", Key="missing")
    assert err(e)[1] == 404


def test_put_if_none_match_takes_only_a_star(s3):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="cond-bkt", Key="star", Body=b"x", IfNoneMatch='"abc"')
    assert err(e) == ("NotImplemented", 501)


def test_delete_if_match(s3):
    etag = s3.put_object(Bucket="cond-bkt", Key="d", Body=b"keep")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket="cond-bkt", Key="d", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert err(e) == ("PreconditionFailed", 412)
    assert body(s3, "d") == b"keep"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket="cond-bkt", Key="nothing-here", IfMatch="*")
    assert err(e) == ("NoSuchKey", 404)
    s3.delete_object(Bucket="cond-bkt", Key="d", IfMatch=etag)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="cond-bkt", Key="d")
    assert err(e)[1] == 404


def test_delete_objects_entries_with_etags(s3):
    e1 = s3.put_object(Bucket="cond-bkt", Key="m1", Body=b"1")["ETag"]
    s3.put_object(Bucket="cond-bkt", Key="m2", Body=b"2")
    out = s3.delete_objects(Bucket="cond-bkt", Delete={"Objects": [
        {"Key": "m1", "ETag": e1},
        {"Key": "m2", "ETag": '"0123456789abcdef0123456789abcdef"'},
    ]})
    assert [d["Key"] for d in out["Deleted"]] == ["m1"]
    assert [(x["Key"], x["Code"]) for x in out["Errors"]] == [("m2", "PreconditionFailed")]
    assert body(s3, "m2") == b"2"


def test_copy_if_none_match_onto_an_existing_key(s3):
    s3.put_object(Bucket="cond-bkt", Key="src", Body=b"source")
    s3.put_object(Bucket="cond-bkt", Key="dst", Body=b"destination")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="cond-bkt", Key="dst", CopySource="cond-bkt/src", IfNoneMatch="*")
    assert err(e) == ("PreconditionFailed", 412)
    assert body(s3, "dst") == b"destination"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="cond-bkt", Key="dst", CopySource="cond-bkt/src",
                       IfMatch='"0123456789abcdef0123456789abcdef"')
    assert err(e) == ("PreconditionFailed", 412)
    assert body(s3, "dst") == b"destination"
    s3.copy_object(Bucket="cond-bkt", Key="fresh", CopySource="cond-bkt/src", IfNoneMatch="*")
    assert body(s3, "fresh") == b"source"


def test_complete_multipart_upload_conditions(s3):
    s3.put_object(Bucket="cond-bkt", Key="mp", Body=b"existing")
    up = s3.create_multipart_upload(Bucket="cond-bkt", Key="mp")["UploadId"]
    part = s3.upload_part(Bucket="cond-bkt", Key="mp", UploadId=up, PartNumber=1, Body=b"new")
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket="cond-bkt", Key="mp", UploadId=up, MultipartUpload=parts,
                                     IfNoneMatch="*")
    assert err(e) == ("PreconditionFailed", 412)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket="cond-bkt", Key="mp", UploadId=up, MultipartUpload=parts,
                                     IfMatch='"0123456789abcdef0123456789abcdef"')
    assert err(e) == ("PreconditionFailed", 412)
    assert body(s3, "mp") == b"existing"
    # The upload survives a failed condition and completes when it holds.
    etag = s3.head_object(Bucket="cond-bkt", Key="mp")["ETag"]
    s3.complete_multipart_upload(Bucket="cond-bkt", Key="mp", UploadId=up, MultipartUpload=parts, IfMatch=etag)
    assert body(s3, "mp") == b"new"


def test_a_suffix_range_of_an_empty_object_answers_the_whole_object(cairn):
    """Before, `bytes=-5` on an empty object was 206 with `Content-Range: bytes 0-0/0`, a
    byte the object does not have."""
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="empty-ranges")
    s3.put_object(Bucket="empty-ranges", Key="empty", Body=b"")
    got = s3.get_object(Bucket="empty-ranges", Key="empty", Range="bytes=-5")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "ContentRange" not in got and got["Body"].read() == b""
