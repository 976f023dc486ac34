"""boto3 against UploadPartCopy and S3 Bucket Keys: a multipart upload built from ranges of
an SSE-KMS source with `upload_part_copy` reads back byte for byte, AWS's range errors, and
`put_object` with `BucketKeyEnabled` reported by `head_object`, with one KMS
`GenerateDataKey` (bound to the bucket ARN) for many objects."""

import json
import os

import botocore.exceptions
import pytest

from conftest import serve_with_master_key

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server():
    yield from serve_with_master_key()


def s3_kms_calls(server, name):
    """S3's KMS calls (as the caller, via S3) with `name`, from the stored records."""
    return [r for r in server.records("Management")
            if r["eventSource"] == "kms.amazonaws.com" and r["eventName"] == name
            and r["userIdentity"].get("invokedBy") == "s3.amazonaws.com"]


def test_upload_part_copy_ranges_rebuild_an_sse_kms_source(server):
    s3 = server.client("s3")
    kms = server.client("kms")
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    for bucket in ("pc-src", "pc-dst"):
        s3.create_bucket(Bucket=bucket)
    source = os.urandom(6 * MIB + 4321)
    s3.put_object(Bucket="pc-src", Key="source.bin", Body=source,
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)

    upload = s3.create_multipart_upload(Bucket="pc-dst", Key="joined.bin")
    uid = upload["UploadId"]
    cut = 5 * MIB
    parts = []
    for n, (first, last) in enumerate([(0, cut - 1), (cut, len(source) - 1)], start=1):
        out = s3.upload_part_copy(Bucket="pc-dst", Key="joined.bin", UploadId=uid,
                                  PartNumber=n, CopySource={"Bucket": "pc-src", "Key": "source.bin"},
                                  CopySourceRange=f"bytes={first}-{last}")
        result = out["CopyPartResult"]
        assert result["ETag"].startswith('"'), result
        assert "LastModified" in result, result
        parts.append({"PartNumber": n, "ETag": result["ETag"]})
    listed = s3.list_parts(Bucket="pc-dst", Key="joined.bin", UploadId=uid)["Parts"]
    assert [p["Size"] for p in listed] == [cut, len(source) - cut]

    # A range outside the source, and one not in AWS's form.
    for bad, message in [(f"bytes=0-{len(source)}", f"of size: {len(source)}"),
                         ("0-10", "bytes=first-last")]:
        with pytest.raises(botocore.exceptions.ClientError) as err:
            s3.upload_part_copy(Bucket="pc-dst", Key="joined.bin", UploadId=uid, PartNumber=3,
                                CopySource="pc-src/source.bin", CopySourceRange=bad)
        assert err.value.response["Error"]["Code"] == "InvalidArgument"
        assert message in err.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as err:
        s3.upload_part_copy(Bucket="pc-dst", Key="joined.bin", UploadId=uid, PartNumber=3,
                            CopySource="pc-src/source.bin", CopySourceIfMatch='"not-it"')
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"

    s3.complete_multipart_upload(Bucket="pc-dst", Key="joined.bin", UploadId=uid,
                                 MultipartUpload={"Parts": parts})
    got = s3.get_object(Bucket="pc-dst", Key="joined.bin")
    assert got["ContentLength"] == len(source)
    assert got["Body"].read() == source
    assert got["ServerSideEncryption"] == "AES256"

    decrypts = [r for r in s3_kms_calls(server, "Decrypt")
                if r["requestParameters"]["encryptionContext"]["aws:s3:arn"]
                == "arn:aws:s3:::pc-src/source.bin"]
    assert len(decrypts) == 2, "the source opened as the caller, once per part copy"


def test_put_object_with_a_bucket_key_is_reported_and_asks_kms_once(server):
    s3 = server.client("s3")
    kms = server.client("kms")
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket="bk-objects")
    bodies = {f"o{i}": os.urandom(1000 + i) for i in range(8)}
    for name, body in bodies.items():
        out = s3.put_object(Bucket="bk-objects", Key=name, Body=body,
                            ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn,
                            BucketKeyEnabled=True)
        assert out["BucketKeyEnabled"] is True, out
        assert out["SSEKMSKeyId"] == key_arn
    head = s3.head_object(Bucket="bk-objects", Key="o3")
    assert head["BucketKeyEnabled"] is True, head
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key_arn
    for name, body in bodies.items():
        got = s3.get_object(Bucket="bk-objects", Key=name)
        assert got["BucketKeyEnabled"] is True
        assert got["Body"].read() == body

    generated = [r["requestParameters"]["encryptionContext"]["aws:s3:arn"]
                 for r in s3_kms_calls(server, "GenerateDataKey")
                 if "bk-objects" in json.dumps(r["requestParameters"])]
    assert generated == ["arn:aws:s3:::bk-objects"], generated

    # After a restart nothing is held: the objects still open (one Decrypt for all).
    server.restart()
    s3 = server.client("s3")
    for name, body in bodies.items():
        assert s3.get_object(Bucket="bk-objects", Key=name)["Body"].read() == body
    opened = [r for r in s3_kms_calls(server, "Decrypt")
              if r["requestParameters"]["encryptionContext"]["aws:s3:arn"]
              == "arn:aws:s3:::bk-objects"]
    assert len(opened) == 1, opened
