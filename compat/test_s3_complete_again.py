"""CompleteMultipartUpload sent again after it succeeded answers the object it made, as S3
does (an SDK retries a completion whose answer was lost; NoSuchUpload would report a failed
upload whose object exists). Before, the repeat was NoSuchUpload, and of concurrent
completions only one succeeded."""

import concurrent.futures
import json

import pytest
from botocore.exceptions import ClientError


def start(s3, key):
    s3.create_bucket(Bucket="complete-again")  # us-east-1 answers 200 for a bucket you own
    upload = s3.create_multipart_upload(Bucket="complete-again", Key=key)["UploadId"]
    etag = s3.upload_part(Bucket="complete-again", Key=key, UploadId=upload, PartNumber=1,
                          Body=b"part one")["ETag"]
    return upload, {"Parts": [{"ETag": etag, "PartNumber": 1}]}


def test_a_repeated_completion_answers_the_same_object(cairn):
    s3 = cairn.client("s3")
    upload, parts = start(s3, "once")
    first = s3.complete_multipart_upload(Bucket="complete-again", Key="once", UploadId=upload,
                                         MultipartUpload=parts)
    again = s3.complete_multipart_upload(Bucket="complete-again", Key="once", UploadId=upload,
                                         MultipartUpload=parts)
    assert again["ETag"] == first["ETag"] and again["Key"] == "once"
    assert s3.get_object(Bucket="complete-again", Key="once")["Body"].read() == b"part one"
    # Once the key holds another object, the old upload id is gone for good.
    s3.put_object(Bucket="complete-again", Key="once", Body=b"replaced")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket="complete-again", Key="once", UploadId=upload,
                                     MultipartUpload=parts)
    assert e.value.response["Error"]["Code"] == "NoSuchUpload"


def test_concurrent_completions_all_succeed(cairn):
    """Completions of one upload take turns: a second one sent while the first runs waits,
    then answers the object (it could fail half way with NoSuchUpload)."""
    s3 = cairn.client("s3")
    clients = [cairn.client("s3") for _ in range(6)]
    for round_ in range(5):
        key = f"racing-{round_}"
        upload, parts = start(s3, key)

        def complete(client):
            return client.complete_multipart_upload(
                Bucket="complete-again", Key=key, UploadId=upload, MultipartUpload=parts)["ETag"]

        with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
            etags = list(pool.map(complete, clients))
        assert len(set(etags)) == 1, json.dumps(etags)
