"""S3, fourth outside pass (s3four): every way of writing an object without a type stores
S3's `binary/octet-stream` (multipart uploads and CopyObject with REPLACE stored none)."""

import io

import boto3.s3.transfer


def test_objects_written_without_a_type_are_binary_octet_stream(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="typed-four")
    s3.put_object(Bucket="typed-four", Key="src", Body=b"x" * 1024, ContentType="text/plain")
    s3.copy_object(Bucket="typed-four", Key="replaced", CopySource="typed-four/src",
                   MetadataDirective="REPLACE", Metadata={"c": "3"})
    assert s3.head_object(Bucket="typed-four", Key="replaced")["ContentType"] == "binary/octet-stream"
    # A copy that keeps the source's metadata keeps its type.
    s3.copy_object(Bucket="typed-four", Key="copied", CopySource="typed-four/src")
    assert s3.head_object(Bucket="typed-four", Key="copied")["ContentType"] == "text/plain"
    upload = s3.create_multipart_upload(Bucket="typed-four", Key="mp")["UploadId"]
    part = s3.upload_part(Bucket="typed-four", Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * 100)
    s3.complete_multipart_upload(Bucket="typed-four", Key="mp", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket="typed-four", Key="mp")["ContentType"] == "binary/octet-stream"
    assert s3.get_object(Bucket="typed-four", Key="mp")["ContentType"] == "binary/octet-stream"
    # boto3's upload_fileobj switches to multipart above its threshold: the same type either way.

    config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * 1024 * 1024,
                                              multipart_chunksize=5 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(b"z" * (6 * 1024 * 1024)), "typed-four", "big", Config=config)
    s3.upload_fileobj(io.BytesIO(b"z" * 10), "typed-four", "small", Config=config)
    assert {s3.head_object(Bucket="typed-four", Key=k)["ContentType"] for k in ("big", "small")} \
        == {"binary/octet-stream"}


def test_no_such_upload_is_in_s3_words(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="uploads-four")
    try:
        s3.abort_multipart_upload(Bucket="uploads-four", Key="k", UploadId="nope")
        raise AssertionError("aborted an upload that does not exist")
    except s3.exceptions.NoSuchUpload as e:
        assert e.response["Error"]["Message"] == (
            "The specified upload does not exist. The upload ID may be invalid, "
            "or the upload may have been aborted or completed.")


def test_a_failed_precondition_names_its_header(cairn):
    """S3's PreconditionFailed carries a <Condition> element naming the header that failed."""
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="cond-four")
    s3.put_object(Bucket="cond-four", Key="k", Body=b"v")
    for call, header in [
        (lambda: s3.get_object(Bucket="cond-four", Key="k", IfMatch='"nope"'), "If-Match"),
        (lambda: s3.put_object(Bucket="cond-four", Key="k", Body=b"w", IfNoneMatch="*"), "If-None-Match"),
    ]:
        try:
            call()
            raise AssertionError(header)
        except s3.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "PreconditionFailed"
            assert e.response["Error"]["Condition"] == header, e.response["Error"]
