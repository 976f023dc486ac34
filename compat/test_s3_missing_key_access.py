"""A missing key is 404 only for callers who may list the bucket; others get 403, as on S3."""

import json

import botocore.exceptions
import pytest

from conftest import err


def user_with(cairn, name, actions, resource):
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in zip(actions, resource)]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "s3")


def test_missing_key_without_list_bucket_is_access_denied(cairn):
    root = cairn.client("s3")
    root.create_bucket(Bucket="hidden-bkt")
    root.put_object(Bucket="hidden-bkt", Key="public/there", Body=b"x")
    reader = user_with(cairn, "reader", ["s3:GetObject"], ["arn:aws:s3:::hidden-bkt/public/*"])
    assert reader.get_object(Bucket="hidden-bkt", Key="public/there")["Body"].read() == b"x"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        reader.get_object(Bucket="hidden-bkt", Key="public/missing")
    assert err(e) == ("AccessDenied", 403)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        reader.head_object(Bucket="hidden-bkt", Key="public/missing")
    assert err(e)[1] == 403
    lister = user_with(cairn, "lister", ["s3:GetObject", "s3:ListBucket"],
                       ["arn:aws:s3:::hidden-bkt/public/*", "arn:aws:s3:::hidden-bkt"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lister.get_object(Bucket="hidden-bkt", Key="public/missing")
    assert err(e) == ("NoSuchKey", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        root.head_object(Bucket="hidden-bkt", Key="public/missing")
    assert err(e)[1] == 404
