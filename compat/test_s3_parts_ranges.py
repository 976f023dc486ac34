"""Reading one part of a multipart object (`partNumber`) and ranged HEADs."""

import botocore.exceptions
import pytest

from conftest import err

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(cairn):
    c = cairn.client("s3")
    c.create_bucket(Bucket="parts-bkt")
    return c


@pytest.fixture(scope="module")
def multipart(s3):
    first, second = b"a" * (5 * MIB), b"second part"
    up = s3.create_multipart_upload(Bucket="parts-bkt", Key="mp")["UploadId"]
    etags = [s3.upload_part(Bucket="parts-bkt", Key="mp", UploadId=up, PartNumber=n, Body=b)["ETag"]
             for n, b in ((1, first), (2, second))]
    s3.complete_multipart_upload(Bucket="parts-bkt", Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]})
    return first, second


def test_get_and_head_one_part(s3, multipart):
    first, second = multipart
    total = len(first) + len(second)
    got = s3.get_object(Bucket="parts-bkt", Key="mp", PartNumber=2)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == second
    assert got["ContentLength"] == len(second)
    assert got["ContentRange"] == f"bytes {len(first)}-{total - 1}/{total}"
    assert got["PartsCount"] == 2
    got = s3.get_object(Bucket="parts-bkt", Key="mp", PartNumber=1)
    assert got["Body"].read() == first
    head = s3.head_object(Bucket="parts-bkt", Key="mp", PartNumber=1)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == len(first)
    assert head["ContentRange"] == f"bytes 0-{len(first) - 1}/{total}"
    assert head["PartsCount"] == 2
    whole = s3.head_object(Bucket="parts-bkt", Key="mp")
    assert whole["ContentLength"] == total
    # The part count comes only with a read of one part.
    assert "PartsCount" not in whole
    assert "PartsCount" not in s3.get_object(Bucket="parts-bkt", Key="mp")


def test_a_part_beyond_the_count(s3, multipart):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="parts-bkt", Key="mp", PartNumber=3)
    assert err(e) == ("InvalidPartNumber", 416)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="parts-bkt", Key="mp", PartNumber=3)
    assert err(e)[1] == 416


def test_part_one_of_a_simple_object_is_all_of_it(s3):
    s3.put_object(Bucket="parts-bkt", Key="simple", Body=b"0123456789")
    got = s3.get_object(Bucket="parts-bkt", Key="simple", PartNumber=1)
    assert got["Body"].read() == b"0123456789"
    assert got["ContentRange"] == "bytes 0-9/10"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="parts-bkt", Key="simple", PartNumber=2)
    assert err(e) == ("InvalidPartNumber", 416)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="parts-bkt", Key="simple", PartNumber=1, Range="bytes=0-1")
    assert err(e) == ("InvalidRequest", 400)


def test_head_with_a_range(s3):
    s3.put_object(Bucket="parts-bkt", Key="ranged", Body=b"0123456789")
    head = s3.head_object(Bucket="parts-bkt", Key="ranged", Range="bytes=2-5")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == 4
    assert head["ContentRange"] == "bytes 2-5/10"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="parts-bkt", Key="ranged", Range="bytes=20-30")
    assert err(e)[1] == 416


def test_create_multipart_upload_names_its_checksum_algorithm(s3):
    # As on S3: the response carries x-amz-checksum-algorithm (and the type, when asked).
    up = s3.create_multipart_upload(Bucket="parts-bkt", Key="summed", ChecksumAlgorithm="CRC32")
    assert up["ChecksumAlgorithm"] == "CRC32"
    typed = s3.create_multipart_upload(Bucket="parts-bkt", Key="summed2", ChecksumAlgorithm="SHA256",
                                       ChecksumType="COMPOSITE")
    assert (typed["ChecksumAlgorithm"], typed["ChecksumType"]) == ("SHA256", "COMPOSITE")
    plain = s3.create_multipart_upload(Bucket="parts-bkt", Key="plain")
    assert "ChecksumAlgorithm" not in plain
    for key, u in (("summed", up), ("summed2", typed), ("plain", plain)):
        s3.abort_multipart_upload(Bucket="parts-bkt", Key=key, UploadId=u["UploadId"])
