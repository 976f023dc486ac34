"""S3 answers found by outside testing (s3eight; each failed before the fix):
CompleteMultipartUpload with an empty part list is `MalformedXML`, as S3 answers it (and as
Cairn answered a request with no body), not `InvalidRequest`; a copy from a bucket that does
not exist does not name the destination bucket, which exists, in its `NoSuchBucket` error."""

import botocore.exceptions
import pytest


def test_completing_with_no_part_is_malformed_xml(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="s3eight-mpu")
    upload = s3.create_multipart_upload(Bucket="s3eight-mpu", Key="k")["UploadId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket="s3eight-mpu", Key="k", UploadId=upload,
                                     MultipartUpload={"Parts": []})
    assert e.value.response["Error"]["Code"] == "MalformedXML", e.value.response


def test_a_copy_from_a_missing_bucket_does_not_name_the_destination(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="s3eight-dest")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="s3eight-dest", Key="k", CopySource="s3eight-nowhere/missing")
    error = e.value.response["Error"]
    assert error["Code"] == "NoSuchBucket", error
    assert error.get("BucketName") != "s3eight-dest", error
