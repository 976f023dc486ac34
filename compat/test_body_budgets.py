"""Bodies that ask the server to build far more than they weigh, refused before anything is
built (found by an outside tester measuring what one request can cost): gzip'd JSON and CBOR
bodies of millions of empty lists, Query bodies of millions of parameters, and CloudFormation
YAML whose aliases repeat a node into gigabytes. Each is refused with the protocol's error,
and the server answers the next call as before."""
import gzip
import json
import struct

import botocore.exceptions
import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET

HTTP = urllib3.PoolManager(retries=False)


def signed(cairn, service, path, body, headers):
    req = AWSRequest("POST", cairn.endpoint + path, data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), service, "us-east-1").add_auth(req)
    return HTTP.request("POST", req.url, body=body, headers=dict(req.headers.items()))


def rss_kb(cairn):
    with open(f"/proc/{cairn.proc.pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))


def test_a_gzip_json_body_of_millions_of_values_is_refused(cairn):
    body = gzip.compress(b'{"a":[' + b"[]," * 2_000_000 + b"[]]}")
    assert len(body) < 20_000
    resp = signed(cairn, "logs", "/", body, {
        "Content-Type": "application/x-amz-json-1.1", "Content-Encoding": "gzip",
        "X-Amz-Target": "Logs_20140328.DescribeLogGroups"})
    assert resp.status == 400, resp.data
    answer = json.loads(resp.data)
    assert answer["__type"] == "SerializationException"
    assert "more than 1000000 values" in answer["message"]
    # The count builds nothing: the server never held the tree (it used to take 600 MB).
    assert rss_kb(cairn) < 400_000
    assert cairn.client("logs").describe_log_groups()["logGroups"] == []


def test_a_cbor_body_of_millions_of_values_is_refused(cairn):
    # {"a": [[], [], …]}: a map of one key whose array declares 2,000,000 empty arrays.
    n = 2_000_000
    body = b"\xa1\x61a\x9b" + struct.pack(">Q", n) + b"\x80" * n
    resp = signed(cairn, "monitoring", "/service/GraniteServiceVersion20100801/operation/ListMetrics",
                  gzip.compress(body), {
                      "Content-Type": "application/cbor", "Accept": "application/cbor",
                      "smithy-protocol": "rpc-v2-cbor", "Content-Encoding": "gzip"})
    assert resp.status == 400, resp.data
    assert b"SerializationException" in resp.data and b"more than 1000000 values" in resp.data
    # A truncated body says so in words, not the decoder's internals.
    short = signed(cairn, "monitoring", "/service/GraniteServiceVersion20100801/operation/ListMetrics",
                   b"\xa1\x61a\x9b" + struct.pack(">Q", 5), {
                       "Content-Type": "application/cbor", "Accept": "application/cbor",
                       "smithy-protocol": "rpc-v2-cbor"})
    assert short.status == 400
    assert b"the body ends before its last item" in short.data and b"UnexpectedEof" not in short.data
    assert cairn.client("cloudwatch").list_metrics()["Metrics"] is not None


def test_a_query_body_of_millions_of_parameters_is_refused(cairn):
    body = gzip.compress(b"Action=ListUsers&Version=2010-05-08" + b"&a=1" * 2_000_000)
    resp = signed(cairn, "iam", "/", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"})
    assert resp.status == 400, resp.data
    assert b"<Code>MalformedQueryString</Code>" in resp.data
    assert b"more than 400000 parameters" in resp.data
    cairn.client("iam").list_users()


def test_yaml_aliases_that_repeat_nodes_are_refused(cairn):
    cfn = cairn.client("cloudformation")
    s = "x" * 2_000
    l1 = ", ".join(["*s"] * 100)
    l2 = ", ".join(["*l1"] * 100)
    # 100 × 100 copies of 2,000 bytes: 20 MB of strings from a 3 KB template.
    body = (f"Resources:\n  T:\n    Type: AWS::SNS::Topic\nMetadata:\n  s: &s {s}\n"
            f"  l1: &l1 [{l1}]\n  l2: [{l2}]\n")
    for call in (lambda: cfn.validate_template(TemplateBody=body),
                 lambda: cfn.create_stack(StackName="aliased", TemplateBody=body)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "ValidationError"
        assert e.value.response["Error"]["Message"] == (
            "Template error: YAML aliases are not allowed in CloudFormation templates")
    plain = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: 'a & b *c'\n"
    assert cfn.validate_template(TemplateBody=plain)["Parameters"] == []


def test_an_oversized_cbor_body_is_refused_in_cbor(cairn):
    body = gzip.compress(b"\x00" * (9 * 1024 * 1024))
    resp = signed(cairn, "monitoring", "/service/GraniteServiceVersion20100801/operation/ListMetrics",
                  body, {"Content-Type": "application/cbor", "Accept": "application/cbor",
                         "smithy-protocol": "rpc-v2-cbor", "Content-Encoding": "gzip"})
    assert resp.status == 413
    assert resp.headers["Content-Type"] == "application/cbor"
    assert b"RequestEntityTooLargeException" in resp.data and b"<" not in resp.data[:1]


def test_a_gzip_body_is_inflated_only_for_a_valid_signature(cairn):
    """recheck35: gzip bodies were inflated before the signature was checked, in one queue
    with the signed ones, so unsigned bombs delayed a signed gzip'd PutMetricData by 35 s. A
    body over the limit once inflated now gets the authentication error when it is unsigned
    or wrongly signed (it is never inflated), and the size error only when signed."""
    bomb = gzip.compress(b"\x00" * (9 * 1024 * 1024))
    headers = {"Content-Type": "application/x-amz-json-1.1", "Content-Encoding": "gzip",
               "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"}
    unsigned = HTTP.request("POST", cairn.endpoint + "/", body=bomb, headers=headers)
    assert unsigned.status in (400, 403), (unsigned.status, unsigned.data)
    assert b"TooLarge" not in unsigned.data, unsigned.data
    req = AWSRequest("POST", cairn.endpoint + "/", data=bomb, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, "not-the-secret"), "monitoring", "us-east-1").add_auth(req)
    forged = HTTP.request("POST", req.url, body=bomb, headers=dict(req.headers.items()))
    assert forged.status in (400, 403) and b"Signature" in forged.data, forged.data
    assert signed(cairn, "monitoring", "/", bomb, headers).status == 413
