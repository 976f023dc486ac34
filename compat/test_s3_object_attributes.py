"""GetObjectAttributes (it answered NotImplemented): an object's ETag, checksum, parts,
storage class and size without its bytes, as S3 answers them (API reference,
GetObjectAttributes). It needs s3:GetObject and s3:GetObjectAttributes, and is a data event."""

import json

import botocore.exceptions
import pytest

from test_s3_boto3 import select_data_events

ACCOUNT = "123456789012"
BUCKET = "attrs-bkt"
ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    select_data_events(cairn, BUCKET)
    return s3


def test_a_whole_object_answers_its_attributes(s3):
    put = s3.put_object(Bucket=BUCKET, Key="whole.txt", Body=b"hello world", ChecksumAlgorithm="SHA256")
    got = s3.get_object_attributes(Bucket=BUCKET, Key="whole.txt", ObjectAttributes=ALL)
    # The document's ETag is unquoted, as S3 writes it there (the header's is quoted).
    assert got["ETag"] == put["ETag"].strip('"')
    assert got["ObjectSize"] == 11 and got["StorageClass"] == "STANDARD"
    assert got["Checksum"]["ChecksumSHA256"] == put["ChecksumSHA256"]
    assert got["Checksum"]["ChecksumType"] == "FULL_OBJECT"
    assert "ObjectParts" not in got
    assert got["LastModified"] == s3.head_object(Bucket=BUCKET, Key="whole.txt")["LastModified"]
    # Only what was asked for.
    only = s3.get_object_attributes(Bucket=BUCKET, Key="whole.txt", ObjectAttributes=["ObjectSize"])
    assert only["ObjectSize"] == 11 and "ETag" not in only and "Checksum" not in only


def test_a_multipart_object_lists_its_parts_a_page_at_a_time(s3):
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="multi.bin", ChecksumAlgorithm="CRC32")
    parts = []
    for n, body in enumerate([b"a" * 5 * 1024 * 1024, b"b" * 5 * 1024 * 1024, b"c" * 7], start=1):
        r = s3.upload_part(Bucket=BUCKET, Key="multi.bin", UploadId=up["UploadId"], PartNumber=n,
                           Body=body, ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    s3.complete_multipart_upload(Bucket=BUCKET, Key="multi.bin", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": parts})
    got = s3.get_object_attributes(Bucket=BUCKET, Key="multi.bin", ObjectAttributes=ALL, MaxParts=2)
    p = got["ObjectParts"]
    assert p["TotalPartsCount"] == 3 and p["IsTruncated"] is True and p["MaxParts"] == 2
    assert [x["PartNumber"] for x in p["Parts"]] == [1, 2] and p["NextPartNumberMarker"] == 2
    assert p["Parts"][0]["Size"] == 5 * 1024 * 1024
    assert p["Parts"][0]["ChecksumCRC32"] == parts[0]["ChecksumCRC32"]
    rest = s3.get_object_attributes(Bucket=BUCKET, Key="multi.bin", ObjectAttributes=["ObjectParts"],
                                    PartNumberMarker=2)["ObjectParts"]
    assert [x["PartNumber"] for x in rest["Parts"]] == [3] and rest["IsTruncated"] is False
    assert rest["Parts"][0]["Size"] == 7
    assert got["ObjectSize"] == 10 * 1024 * 1024 + 7 and got["ETag"].endswith("-3")


def test_errors_are_s3s(s3):
    assert code(lambda: s3.get_object_attributes(Bucket=BUCKET, Key="absent", ObjectAttributes=ALL)) == (
        "NoSuchKey", 404)
    assert code(lambda: s3.get_object_attributes(Bucket="no-such-attrs", Key="k", ObjectAttributes=ALL)) == (
        "NoSuchBucket", 404)
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    assert code(lambda: s3.get_object_attributes(Bucket=BUCKET, Key="k", ObjectAttributes=["Size"])) == (
        "InvalidArgument", 400)


def test_it_needs_both_actions_and_is_a_recorded_data_event(cairn, s3):
    s3.put_object(Bucket=BUCKET, Key="guarded", Body=b"x")
    iam = cairn.client("iam")
    iam.create_user(UserName="attrs-reader")
    iam.put_user_policy(UserName="attrs-reader", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjectAttributes",
                                                "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    key = iam.create_access_key(UserName="attrs-reader")["AccessKey"]
    reader = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "s3")
    assert code(lambda: reader.get_object_attributes(Bucket=BUCKET, Key="guarded", ObjectAttributes=ALL)) == (
        "AccessDenied", 403)
    iam.put_user_policy(UserName="attrs-reader", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObjectAttributes", "s3:GetObject"],
                                                "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    assert reader.get_object_attributes(Bucket=BUCKET, Key="guarded", ObjectAttributes=["ObjectSize"])["ObjectSize"] == 1
    mine = [r for r in cairn.records("Data") if r["eventName"] == "GetObjectAttributes"
            and r["userIdentity"].get("userName") == "attrs-reader"]
    assert [r.get("errorCode") for r in mine] == ["AccessDenied", None]
    assert "s3:GetObject" in mine[0]["errorMessage"]
    assert mine[1]["readOnly"] is True and mine[1]["eventCategory"] == "Data"
    assert mine[1]["requestParameters"]["key"] == "guarded"
    assert {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{BUCKET}/guarded"} in mine[1]["resources"]
