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
