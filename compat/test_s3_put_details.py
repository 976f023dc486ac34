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


def test_an_object_uploaded_without_a_checksum_gets_s3s_default_crc64nvme(s3):
    """The S3 API reference's ChecksumCRC64NVME: present "if it was uploaded without a
    checksum (and Amazon S3 added the default checksum, CRC64NVME...)", for copies of such an
    object too (outside SDK tester). boto3 sends no checksum with `when_required`."""
    import base64
    import boto3
    from botocore.config import Config
    plain = boto3.client("s3", endpoint_url=s3.meta.endpoint_url, region_name="us-east-1",
                         aws_access_key_id=s3._request_signer._credentials.access_key,
                         aws_secret_access_key=s3._request_signer._credentials.secret_key,
                         config=Config(request_checksum_calculation="when_required"))
    put = plain.put_object(Bucket="details-bkt", Key="nosum", Body=b"hello")
    assert "ChecksumCRC32" not in put
    want = base64.b64encode(crc64nvme(b"hello").to_bytes(8, "big")).decode()
    assert put["ChecksumCRC64NVME"] == want and put["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket="details-bkt", Key="nosum", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == want
    result = s3.copy_object(Bucket="details-bkt", Key="nosum-copy",
                            CopySource="details-bkt/nosum")["CopyObjectResult"]
    assert result["ChecksumCRC64NVME"] == want and result["ChecksumType"] == "FULL_OBJECT"
    copy = s3.head_object(Bucket="details-bkt", Key="nosum-copy", ChecksumMode="ENABLED")
    assert copy["ChecksumCRC64NVME"] == want


def crc64nvme(data):
    """CRC-64/NVME, bit by bit (reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout all
    ones); its check value, of b"123456789", is 0xAE8B14860A799888."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x9A6C9329AC4BC9B5 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFFFFFFFFFF


def test_the_crc64nvme_helper_meets_its_check_value():
    assert crc64nvme(b"123456789") == 0xAE8B14860A799888


def test_values_outside_s3s_enums_are_refused(s3):
    """An unknown `encoding-type` or storage class used to be accepted (model-driven fuzz
    tester): S3 answers InvalidArgument "Invalid Encoding Method specified in Request" and
    InvalidStorageClass."""
    for call in (lambda: s3.list_objects(Bucket="details-bkt", EncodingType="bogus"),
                 lambda: s3.list_objects_v2(Bucket="details-bkt", EncodingType="bogus"),
                 lambda: s3.list_object_versions(Bucket="details-bkt", EncodingType="bogus"),
                 lambda: s3.list_multipart_uploads(Bucket="details-bkt", EncodingType="bogus")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert err(e) == ("InvalidArgument", 400)
        assert e.value.response["Error"]["Message"] == "Invalid Encoding Method specified in Request"
    s3.put_object(Bucket="details-bkt", Key="classy", Body=b"x")
    for call in (lambda: s3.put_object(Bucket="details-bkt", Key="c1", Body=b"x", StorageClass="BOGUS"),
                 lambda: s3.create_multipart_upload(Bucket="details-bkt", Key="c2", StorageClass="BOGUS"),
                 lambda: s3.copy_object(Bucket="details-bkt", Key="c3", CopySource="details-bkt/classy",
                                        StorageClass="BOGUS")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert err(e) == ("InvalidStorageClass", 400)
    s3.put_object(Bucket="details-bkt", Key="c4", Body=b"x", StorageClass="STANDARD_IA")


def test_a_copy_computes_the_checksum_it_asks_for(s3):
    """CopyObject's `x-amz-checksum-algorithm` gives the copy that checksum instead of the
    source's, also onto itself (how the S3 user guide changes an object's algorithm), and an
    unknown one is refused (S3 features tester)."""
    import base64
    import hashlib
    s3.put_object(Bucket="details-bkt", Key="resum", Body=b"abc", ChecksumAlgorithm="CRC32")
    out = s3.copy_object(Bucket="details-bkt", Key="resum-copy", CopySource="details-bkt/resum",
                         ChecksumAlgorithm="SHA256")["CopyObjectResult"]
    want = base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
    assert out["ChecksumSHA256"] == want and "ChecksumCRC32" not in out
    head = s3.head_object(Bucket="details-bkt", Key="resum-copy", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == want and "ChecksumCRC32" not in head
    s3.copy_object(Bucket="details-bkt", Key="resum", CopySource="details-bkt/resum",
                   ChecksumAlgorithm="SHA256")
    assert s3.head_object(Bucket="details-bkt", Key="resum", ChecksumMode="ENABLED")["ChecksumSHA256"] == want
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="details-bkt", Key="resum-bad", CopySource="details-bkt/resum",
                       ChecksumAlgorithm="BOGUS")
    assert err(e) == ("InvalidRequest", 400)
