"""S3 names what was missing in its error bodies, as AWS does: `NoSuchKey` carries `<Key>`,
`NoSuchBucket` carries `<BucketName>` and the message "The specified bucket does not exist"
(no name appended). boto3 exposes both in `e.response["Error"]`."""

import botocore.exceptions
import pytest


def test_no_such_key_names_the_key_and_no_such_bucket_the_bucket(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="err-elements")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="err-elements", Key="dir/not here+1")
    error = e.value.response["Error"]
    assert error["Code"] == "NoSuchKey" and error["Key"] == "dir/not here+1", error
    assert error["Message"] == "The specified key does not exist."
    for call in (lambda: s3.get_object(Bucket="err-nobucket", Key="k"),
                 lambda: s3.list_objects_v2(Bucket="err-nobucket"),
                 lambda: s3.put_object(Bucket="err-nobucket", Key="k", Body=b"x")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        error = e.value.response["Error"]
        assert error["Code"] == "NoSuchBucket", error
        assert error["Message"] == "The specified bucket does not exist", error
        assert error["BucketName"] == "err-nobucket", error


def test_apostrophes_in_error_messages_are_not_entities(cairn):
    """Before (sdk3 F1), every apostrophe of an S3 error message was written `&apos;`, and the
    AWS SDK for Java v1 kept only the text after the last one. S3 escapes only `&`, `<`, `>`."""
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="apostrophe-bkt")
    s3.put_object(Bucket="apostrophe-bkt", Key="self", Body=b"x")
    bodies = []
    s3.meta.events.register("after-call.s3.CopyObject",
                            lambda http_response, **_: bodies.append(http_response.content))
    try:
        s3.copy_object(Bucket="apostrophe-bkt", Key="self",
                       CopySource={"Bucket": "apostrophe-bkt", "Key": "self"})
    except s3.exceptions.ClientError as e:
        assert "object's metadata" in e.response["Error"]["Message"], e.response
    else:
        raise AssertionError("a copy onto itself is refused")
    assert b"object's metadata" in bodies[-1] and b"&apos;" not in bodies[-1], bodies[-1]
