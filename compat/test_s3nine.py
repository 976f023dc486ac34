"""S3 as s3nine found it wanting: a lifecycle configuration keeps and answers its
`x-amz-transition-default-minimum-object-size` (Terraform's provider waits to read it back,
F4); DeleteObjects needs `Content-MD5` or an `x-amz-checksum-*` header (F3); a read's
`If-Match`/`If-None-Match` may list several entity tags, any of which matches (F1)."""

import base64
import hashlib
import http.client
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET, err

RULES = {"Rules": [{"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                    "Expiration": {"Days": 30}}]}


def test_lifecycle_keeps_its_default_minimum_object_size(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="s3nine-lifecycle")
    out = s3.put_bucket_lifecycle_configuration(Bucket="s3nine-lifecycle", LifecycleConfiguration=RULES)
    assert out["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K", "S3's default"
    got = s3.get_bucket_lifecycle_configuration(Bucket="s3nine-lifecycle")
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    out = s3.put_bucket_lifecycle_configuration(
        Bucket="s3nine-lifecycle", LifecycleConfiguration=RULES,
        TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    assert out["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    got = s3.get_bucket_lifecycle_configuration(Bucket="s3nine-lifecycle")
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert [r["ID"] for r in got["Rules"]] == ["old"]
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(
            Bucket="s3nine-lifecycle", LifecycleConfiguration=RULES,
            TransitionDefaultMinimumObjectSize="all_storage_classes_1K")
    assert err(e) == ("InvalidArgument", 400)
    assert s3.get_bucket_lifecycle_configuration(Bucket="s3nine-lifecycle")[
        "TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class", "nothing changed"


def raw(cairn, method, path, body, headers):
    """A SigV4-signed request with exactly `headers` (and the signature's own)."""
    url = cairn.endpoint.rstrip("/") + path
    request = AWSRequest(method, url, data=body, headers=headers)
    request.context["payload_signing_enabled"] = True
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(request)
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request(method, path, body=body, headers=dict(request.headers.items()))
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    code = data.split(b"<Code>", 1)[1].split(b"</Code>", 1)[0].decode() if b"<Code>" in data else None
    return resp.status, code, data


def test_delete_objects_needs_content_md5_or_a_checksum(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="s3nine-delete")
    s3.put_object(Bucket="s3nine-delete", Key="zz1", Body=b"x")
    body = b"<Delete><Object><Key>zz1</Key></Object></Delete>"
    status, code, data = raw(cairn, "POST", "/s3nine-delete?delete", body, {})
    assert (status, code) == (400, "InvalidRequest"), data
    assert b"Missing required header for this request: Content-MD5" in data
    s3.head_object(Bucket="s3nine-delete", Key="zz1")  # still there
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    status, code, data = raw(cairn, "POST", "/s3nine-delete?delete", body, {"Content-MD5": md5})
    assert status == 200 and b"<Deleted>" in data, data
    # The SDK's own call (a checksum header) is taken.
    s3.put_object(Bucket="s3nine-delete", Key="zz2", Body=b"x")
    out = s3.delete_objects(Bucket="s3nine-delete", Delete={"Objects": [{"Key": "zz2"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["zz2"]


def test_a_read_may_list_several_entity_tags(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="s3nine-etags")
    etag = s3.put_object(Bucket="s3nine-etags", Key="k", Body=b"body")["ETag"]
    for listed in (f'"other", {etag}', f'{etag}, "other"', f'"a",{etag} ,"b"'):
        assert s3.get_object(Bucket="s3nine-etags", Key="k", IfMatch=listed)["Body"].read() == b"body"
        s3.head_object(Bucket="s3nine-etags", Key="k", IfMatch=listed)
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket="s3nine-etags", Key="k", IfNoneMatch=listed)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304, listed
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="s3nine-etags", Key="k", IfMatch='"a", "b"')
    assert err(e) == ("PreconditionFailed", 412)
    # If-Match compares strongly: a weak tag does not match; If-None-Match weakly.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="s3nine-etags", Key="k", IfMatch=f"W/{etag}")
    assert err(e) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="s3nine-etags", Key="k", IfNoneMatch=f"W/{etag}")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert s3.get_object(Bucket="s3nine-etags", Key="k", IfNoneMatch='"a", "b"')["Body"].read() == b"body"
