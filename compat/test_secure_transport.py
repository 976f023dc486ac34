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


def test_every_forwarded_for_line_counts_and_no_hop_is_skipped(proxied):
    """The client address behind a trusted proxy is the rightmost hop of all the
    `X-Forwarded-For` lines (a proxy may add a line of its own after the client's), and a
    hop the proxy wrote as `ip:port` is read as that address; before, the client's own first
    line was taken, so `sourceIPAddress` and `aws:SourceIp` could be forged."""
    import urllib3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from conftest import ACCESS_KEY, SECRET
    body = b"{}"
    target = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListTrails"
    for lines, want in [(["10.9.9.9", "6.6.6.6"], "6.6.6.6"),
                        (["10.9.9.9, 6.6.6.7:54321"], "6.6.6.7")]:
        req = AWSRequest("POST", proxied.endpoint + "/", data=body, headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
        SigV4Auth(Credentials(ACCESS_KEY, SECRET), "cloudtrail", "us-east-1").add_auth(req)
        headers = urllib3.HTTPHeaderDict(dict(req.headers.items()))
        for line in lines:
            headers.add("X-Forwarded-For", line)
        resp = urllib3.PoolManager().request("POST", req.url, body=body, headers=headers)
        assert resp.status == 200, resp.data
        rid = resp.headers["x-amzn-RequestId"]
        events = proxied.client("cloudtrail").lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "ListTrails"}])["Events"]
        [record] = [json.loads(e["CloudTrailEvent"]) for e in events
                    if json.loads(e["CloudTrailEvent"])["requestID"] == rid]
        assert record["sourceIPAddress"] == want, lines
