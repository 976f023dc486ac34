"""Edge cases an outside fuzz tester found, driven by boto3 and raw signed requests:
Query parameter names nested thousands deep (they used to overflow a worker's stack and abort
the server), unsigned Query calls (they used to reach the S3 layer and get its 501), and S3
XML that echoed characters XML 1.0 forbids (botocore could not parse it)."""
import urllib.parse

import boto3
import botocore.config
import pytest
import urllib3
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET

HTTP = urllib3.PoolManager(retries=False)
ONE_TRY = botocore.config.Config(retries={"max_attempts": 1})

# (signing name, Action, Version) of every Query service Cairn serves.
QUERY_SERVICES = [
    ("sts", "GetCallerIdentity", "2011-06-15"),
    ("iam", "ListUsers", "2010-05-08"),
    ("monitoring", "ListMetrics", "2010-08-01"),
    ("cloudformation", "ListStacks", "2010-05-15"),
    ("sns", "ListTopics", "2010-03-31"),
]


def signed_post(cairn, service, body, access_key=ACCESS_KEY, secret=SECRET):
    req = AWSRequest("POST", cairn.endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(access_key, secret), service, "us-east-1").add_auth(req)
    return HTTP.request("POST", req.url, body=body, headers=dict(req.headers.items()))


def unsigned_post(cairn, body):
    return HTTP.request("POST", cairn.endpoint + "/", body=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})


def error_code(resp):
    body = resp.data.decode()
    assert "<ErrorResponse" in body, body
    return body.split("<Code>")[1].split("</Code>")[0]


@pytest.fixture(scope="module")
def nobody(cairn):
    """An IAM user with no permissions at all."""
    iam = cairn.client("iam")
    iam.create_user(UserName="fuzz-nobody")
    key = iam.create_access_key(UserName="fuzz-nobody")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.mark.parametrize("depth", [20_000, 100_000])
@pytest.mark.parametrize("service,action,version", QUERY_SERVICES)
def test_deeply_nested_names_get_a_query_400_and_the_server_stays_up(
        cairn, nobody, service, action, version, depth):
    name = ".".join(["a"] * depth)
    body = f"Action={action}&Version={version}&{name}=1".encode()
    resp = signed_post(cairn, service, body, *nobody)
    assert resp.status == 400, resp.data[:300]
    assert error_code(resp) == "MalformedQueryString"
    # Still serving, and a sane request still works.
    assert cairn.proc.poll() is None
    assert cairn.client("sts").get_caller_identity()["Account"]


def test_names_as_deep_as_any_query_shape_still_work(cairn):
    # 32 segments is the bound; a list of structures inside a structure is far below it.
    cw = cairn.client("cloudwatch")
    cw.put_metric_data(Namespace="Fuzz/Depth", MetricData=[{
        "MetricName": "m", "Value": 1.0, "Dimensions": [{"Name": "d", "Value": "v"}]}])
    name = ".".join(["a"] * 32)
    resp = signed_post(cairn, "sts", f"Action=GetCallerIdentity&Version=2011-06-15&{name}=1".encode())
    assert resp.status == 200, resp.data[:300]
    deeper = ".".join(["a"] * 33)
    resp = signed_post(cairn, "sts", f"Action=GetCallerIdentity&Version=2011-06-15&{deeper}=1".encode())
    assert resp.status == 400 and error_code(resp) == "MalformedQueryString"


def unsigned_sts(cairn):
    return boto3.client("sts", endpoint_url=cairn.endpoint, region_name="us-east-1",
                        config=botocore.config.Config(signature_version=UNSIGNED,
                                                      retries={"max_attempts": 1}))


def test_assume_role_with_web_identity_is_refused_in_query(cairn):
    # botocore sends it unsigned, whatever credentials the client has.
    sts = boto3.client("sts", endpoint_url=cairn.endpoint, region_name="us-east-1",
                       aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET, config=ONE_TRY)
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(
            RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="session",
            WebIdentityToken="eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlLmNvbSJ9.c2ln")
    err = e.value.response["Error"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Code"] == "InvalidIdentityToken"
    assert err["Message"] == "No OpenIDConnect provider found in your account for https://idp.example.com"
    assert type(e.value).__name__ == "InvalidIdentityTokenException"


def test_assume_role_with_saml_is_refused_in_query(cairn):
    with pytest.raises(ClientError) as e:
        unsigned_sts(cairn).assume_role_with_saml(
            RoleArn="arn:aws:iam::123456789012:role/r",
            PrincipalArn="arn:aws:iam::123456789012:saml-provider/p",
            SAMLAssertion="x" * 8)
    assert e.value.response["Error"]["Code"] == "InvalidIdentityToken"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("service,action,version", QUERY_SERVICES + [("", "DescribeThings", "2099-01-01")])
def test_unsigned_query_calls_get_missing_authentication_token(cairn, service, action, version):
    resp = unsigned_post(cairn, f"Action={action}&Version={version}".encode())
    assert resp.status == 403, resp.data[:300]
    assert error_code(resp) == "MissingAuthenticationToken"


def test_unsigned_get_caller_identity_through_boto3(cairn):
    with pytest.raises(ClientError) as e:
        unsigned_sts(cairn).get_caller_identity()
    assert e.value.response["Error"]["Code"] == "MissingAuthenticationToken"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unsigned_requests_without_an_action_are_still_s3(cairn):
    cairn.client("s3").create_bucket(Bucket="fuzz-anon")
    anon = boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                        config=botocore.config.Config(signature_version=UNSIGNED))
    with pytest.raises(ClientError) as e:
        anon.list_objects_v2(Bucket="fuzz-anon")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    resp = unsigned_post(cairn, urllib.parse.urlencode({"key": "k"}).encode())
    assert "<ErrorResponse" not in resp.data.decode()


@pytest.fixture(scope="module")
def s3(cairn):
    client = boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET, config=ONE_TRY)
    client.create_bucket(Bucket="fuzz-xml")
    return client


def raw_s3(s3, method, **params):
    """The raw XML answer of an S3 call (botocore would refuse to parse what S3 sends)."""
    url = s3.generate_presigned_url(method, Params=params)
    resp = urllib3.request("POST" if method in ("create_multipart_upload",) else "GET", url)
    return resp.status, resp.data.decode()


def raw_list(cairn, bucket, prefix):
    """ListObjects (v1) without `encoding-type=url`, which botocore always adds."""
    url = f"{cairn.endpoint}/{bucket}?prefix={urllib.parse.quote(prefix)}"
    req = AWSRequest("GET", url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(req)
    resp = HTTP.request("GET", req.url, headers=dict(req.headers.items()))
    return resp.data.decode()


def test_list_multipart_uploads_writes_forbidden_characters_as_references(s3):
    """S3 writes a character XML 1.0 forbids as a numeric reference (`&#x1;`): a strict
    parser refuses the document (hence `encoding-type=url`), a lenient one reads the key as
    it is; nothing is silently changed into another key."""
    status, body = raw_s3(s3, "list_multipart_uploads", Bucket="fuzz-xml", KeyMarker="k",
                          UploadIdMarker="a\x01")
    assert status == 200 and "<UploadIdMarker>a&#x1;</UploadIdMarker>" in body, body
    status, body = raw_s3(s3, "list_multipart_uploads", Bucket="fuzz-xml", Prefix="p\x02\uffff",
                          Delimiter="\x03", KeyMarker="m\x1f")
    assert "<Prefix>p&#x2;&#xffff;</Prefix>" in body and "<Delimiter>&#x3;</Delimiter>" in body
    assert "<KeyMarker>m&#x1f;</KeyMarker>" in body, body


def test_list_multipart_uploads_honours_encoding_type_url(s3):
    # (botocore cannot read CreateMultipartUpload's answer for this key: S3 echoes it raw.)
    _, body = raw_s3(s3, "create_multipart_upload", Bucket="fuzz-xml", Key="enc/a\x01b")
    upload = {"UploadId": body.split("<UploadId>")[1].split("</UploadId>")[0]}
    try:
        out = s3.list_multipart_uploads(Bucket="fuzz-xml", Prefix="enc/", EncodingType="url")
        assert out["EncodingType"] == "url"
        assert [u["Key"] for u in out["Uploads"]] == ["enc/a%01b"]
    finally:
        s3.abort_multipart_upload(Bucket="fuzz-xml", Key="enc/a\x01b", UploadId=upload["UploadId"])


def test_keys_with_forbidden_characters_keep_their_identity(cairn, s3):
    status, body = raw_s3(s3, "create_multipart_upload", Bucket="fuzz-xml", Key="a\x01")
    assert status == 200 and "<Key>a&#x1;</Key>" in body, body
    upload = body.split("<UploadId>")[1].split("</UploadId>")[0]
    # The upload is the key's as sent: it completes under the real key.
    s3.upload_part(Bucket="fuzz-xml", Key="a\x01", UploadId=upload, PartNumber=1, Body=b"x")
    status, body = raw_s3(s3, "list_parts", Bucket="fuzz-xml", Key="a\x01", UploadId=upload)
    assert status == 200 and "<Key>a&#x1;</Key>" in body, body
    s3.abort_multipart_upload(Bucket="fuzz-xml", Key="a\x01", UploadId=upload)
    s3.put_object(Bucket="fuzz-xml", Key="a\x01", Body=b"x")
    s3.put_object(Bucket="fuzz-xml", Key="a\ufffd", Body=b"y")
    # Listed without encoding-type=url: two distinct keys, not two copies of one.
    body = raw_list(cairn, "fuzz-xml", "a")
    assert "<Key>a&#x1;</Key>" in body and "<Key>a\ufffd</Key>" in body, body
    # botocore's ListObjects asks for EncodingType=url itself, so the keys come back exact.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="fuzz-xml", Prefix="a").get("Contents", [])]
    assert keys == ["a\x01", "a\ufffd"]
    assert s3.get_object(Bucket="fuzz-xml", Key="a\x01")["Body"].read() == b"x"


def test_delete_objects_refuses_a_raw_forbidden_character_as_malformed_xml(s3):
    s3.put_object(Bucket="fuzz-xml", Key="b\x01", Body=b"y")
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket="fuzz-xml", Delete={"Objects": [{"Key": "b\x01"}]})
    assert e.value.response["Error"]["Code"] == "MalformedXML"
    # Nothing was deleted.
    assert s3.get_object(Bucket="fuzz-xml", Key="b\x01")["Body"].read() == b"y"
    # A carriage return is legal XML (botocore sends it as &#13;) and round-trips.
    s3.put_object(Bucket="fuzz-xml", Key="cr\rkey", Body=b"z")
    out = s3.delete_objects(Bucket="fuzz-xml", Delete={"Objects": [{"Key": "cr\rkey"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["cr\rkey"]
