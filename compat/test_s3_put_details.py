"""Smaller PutObject/CopyObject details S3 has: a default content type, and refusals of an
unknown metadata directive or canned ACL."""

import botocore.exceptions
import pytest

from conftest import err


@pytest.fixture(scope="module")
def s3(cairn):
    c = cairn.client("s3")
    c.create_bucket(Bucket="details-bkt")
    return c


def test_an_untyped_object_is_binary_octet_stream(s3):
    s3.put_object(Bucket="details-bkt", Key="untyped", Body=b"x")
    assert s3.head_object(Bucket="details-bkt", Key="untyped")["ContentType"] == "binary/octet-stream"
    s3.put_object(Bucket="details-bkt", Key="typed", Body=b"x", ContentType="text/plain")
    assert s3.head_object(Bucket="details-bkt", Key="typed")["ContentType"] == "text/plain"


def test_unknown_metadata_directive_and_acl_are_refused(s3):
    s3.put_object(Bucket="details-bkt", Key="src", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="details-bkt", Key="dst", CopySource="details-bkt/src", MetadataDirective="BOGUS")
    assert err(e) == ("InvalidArgument", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="details-bkt", Key="acl", Body=b"x", ACL="bogus-acl")
    assert err(e) == ("InvalidArgument", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="details-bkt", Key="acl")
    assert err(e)[1] == 404
    s3.put_object(Bucket="details-bkt", Key="acl", Body=b"x", ACL="bucket-owner-full-control")


def test_expires_is_kept_and_returned(s3):
    import datetime
    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    s3.put_object(Bucket="details-bkt", Key="expiring", Body=b"x", Expires=when)
    assert s3.head_object(Bucket="details-bkt", Key="expiring")["Expires"] == when
    assert s3.get_object(Bucket="details-bkt", Key="expiring")["Expires"] == when
    s3.copy_object(Bucket="details-bkt", Key="expiring-copy", CopySource="details-bkt/expiring")
    assert s3.head_object(Bucket="details-bkt", Key="expiring-copy")["Expires"] == when


def test_listings_name_each_objects_checksum_algorithm_and_type(s3):
    """The S3 `Object` shape's ChecksumAlgorithm and ChecksumType (outside SDK tester: the
    JavaScript SDK's default CRC32 was missing from listings)."""
    s3.put_object(Bucket="details-bkt", Key="sums/crc", Body=b"abc", ChecksumAlgorithm="CRC32")
    s3.put_object(Bucket="details-bkt", Key="sums/sha", Body=b"abc", ChecksumAlgorithm="SHA256")
    listed = {o["Key"]: o for o in s3.list_objects_v2(Bucket="details-bkt", Prefix="sums/")["Contents"]}
    assert listed["sums/crc"]["ChecksumAlgorithm"] == ["CRC32"]
    assert listed["sums/sha"]["ChecksumAlgorithm"] == ["SHA256"]
    assert {o["ChecksumType"] for o in listed.values()} == {"FULL_OBJECT"}
    versions = s3.list_object_versions(Bucket="details-bkt", Prefix="sums/")["Versions"]
    assert [v["ChecksumAlgorithm"] for v in versions] == [["CRC32"], ["SHA256"]]
