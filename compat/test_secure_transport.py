"""`aws:SecureTransport` behind a TLS proxy. Cairn listens in plain HTTP; a trusted proxy
(`--trusted-proxies`) that terminates TLS says so with `X-Forwarded-Proto: https`, and
policies then read `aws:SecureTransport` as true. Before, it was always false, so CIS
2.1.1's "deny plain HTTP" bucket policy locked out every caller, and `aws cloudtrail
validate-logs` with it. The header from anyone else changes nothing."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import Cairn, cairn_binary


def deny_http(bucket):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def over_tls(client):
    """The client's requests as a TLS proxy forwards them."""
    def add(request, **_):
        request.headers["X-Forwarded-Proto"] = "https"
    client.meta.events.register("before-sign", add)
    return client


@pytest.fixture(scope="module")
def proxied():
    s = Cairn(cairn_binary(), ["--trusted-proxies", "127.0.0.1"])
    yield s
    s.stop()


def test_a_trusted_proxys_https_satisfies_secure_transport(proxied):
    s3 = proxied.client("s3")
    s3.create_bucket(Bucket="tls-only")
    s3.put_object(Bucket="tls-only", Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket="tls-only", Policy=deny_http("tls-only"))
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="tls-only", Key="k")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    tls = over_tls(proxied.client("s3"))
    assert tls.get_object(Bucket="tls-only", Key="k")["Body"].read() == b"v"
    assert tls.get_bucket_location(Bucket="tls-only")["LocationConstraint"] is None
    # The JSON and Query services read it too: an identity policy denying plain HTTP.
    iam = proxied.client("iam")
    iam.create_user(UserName="tls-user")
    iam.put_user_policy(UserName="tls-user", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudtrail:DescribeTrails", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}))
    key = iam.create_access_key(UserName="tls-user")["AccessKey"]
    plain = proxied.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudtrail")
    with pytest.raises(ClientError):
        plain.describe_trails()
    over_tls(proxied.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudtrail")).describe_trails()
    tls.delete_bucket_policy(Bucket="tls-only")


def test_the_header_from_anyone_else_counts_for_nothing(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="tls-untrusted")
    s3.put_object(Bucket="tls-untrusted", Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket="tls-untrusted", Policy=deny_http("tls-untrusted"))
    with pytest.raises(ClientError) as e:
        over_tls(cairn.client("s3")).get_object(Bucket="tls-untrusted", Key="k")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
