"""S3 from browsers and shared links, as outside testing found it wanting: a presigned URL
covers only the `x-amz-*` headers it signed (an unsigned `x-amz-copy-source` would turn a
presigned PutObject into a copy of another object); a browser POST signed with a session
carries its token as a form field; a form the policy refuses gets S3's 403 "Invalid according
to Policy" (each type of a listed `Content-Type` checked); a form without a file is
`InvalidArgument` and a POST that is no form `PreconditionFailed`; records say `HtmlForm` for forms and keep a presigned URL's `X-Amz-*`
parameters, as AWS's guidance on finding presigned requests relies on."""

import json

import botocore.exceptions
import pytest
import requests
from botocore.config import Config

from conftest import cloudtrail_policy


@pytest.fixture(scope="module")
def s3(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="web-trail")
    s3.put_bucket_policy(Bucket="web-trail", Policy=cloudtrail_policy("web-trail"))
    ct = cairn.client("cloudtrail")
    ct.create_trail(Name="web", S3BucketName="web-trail")
    ct.put_event_selectors(TrailName="web", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::web/"]}]}])
    ct.start_logging(Name="web")
    s3.create_bucket(Bucket="web")
    return s3


def v4(cairn):
    import boto3
    from conftest import ACCESS_KEY, SECRET
    return boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                        config=Config(signature_version="s3v4"))


def error(response):
    import xml.etree.ElementTree as ET
    doc = ET.fromstring(response.content)
    return doc.findtext("Code"), doc.findtext("Message")


def data_records(cairn, name, key):
    return [r for r in cairn.records("Data") if r["eventName"] == name
            and (r.get("requestParameters") or {}).get("key") == key]


def test_a_presigned_put_covers_only_the_headers_it_signed(s3, cairn):
    s3v4 = v4(cairn)
    s3.put_object(Bucket="web", Key="secret.txt", Body=b"top secret")
    url = s3v4.generate_presigned_url("put_object", Params={"Bucket": "web", "Key": "upload.bin"},
                                      ExpiresIn=300)
    for extra in ({"x-amz-copy-source": "/web/secret.txt"}, {"x-amz-tagging": "a=b"},
                  {"x-amz-meta-evil": "1"}, {"x-amz-server-side-encryption": "aws:kms"}):
        r = requests.put(url, data=b"mine", headers=extra)
        assert r.status_code == 403, (extra, r.text)
        assert error(r) == ("AccessDenied",
                            "There were headers present in the request which were not signed")
        assert f"<HeadersNotSigned>{next(iter(extra))}</HeadersNotSigned>" in r.text
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="web", Key="upload.bin")
    assert requests.put(url, data=b"mine").status_code == 200
    assert s3.get_object(Bucket="web", Key="upload.bin")["Body"].read() == b"mine"
    # A header the URL signed may be sent, with its signed value.
    signed = s3v4.generate_presigned_url("put_object", ExpiresIn=300, Params={
        "Bucket": "web", "Key": "meta.bin", "Metadata": {"foo": "bar"}})
    assert requests.put(signed, data=b"x", headers={"x-amz-meta-foo": "bar"}).status_code == 200
    r = requests.put(signed, data=b"x", headers={"x-amz-meta-foo": "bar", "x-amz-acl": "public-read"})
    assert r.status_code == 403


def test_a_presigned_get_is_recorded_with_its_parameters(s3, cairn):
    s3.put_object(Bucket="web", Key="shared.txt", Body=b"hello")
    url = v4(cairn).generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": "web", "Key": "shared.txt", "ResponseContentDisposition": "attachment",
        "ResponseExpires": "Sun, 01 Dec 2030 16:00:00 GMT"})
    r = requests.get(url)
    assert r.status_code == 200 and r.headers["Content-Disposition"] == "attachment"
    [record] = data_records(cairn, "GetObject", "shared.txt")
    params = record["requestParameters"]
    assert params["X-Amz-Expires"] == "300"
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-SignedHeaders"] == "host"
    assert "X-Amz-Date" in params and "X-Amz-Signature" not in params
    assert params["response-content-disposition"] == "attachment"
    assert params["response-expires"] == "Sun, 01 Dec 2030 16:00:00 GMT"
    assert record["additionalEventData"]["AuthenticationMethod"] == "QueryString"


@pytest.fixture(scope="module")
def session(cairn):
    iam = cairn.client("iam")
    iam.create_role(RoleName="uploader", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
    iam.put_role_policy(RoleName="uploader", PolicyName="put", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
                                                "Resource": "arn:aws:s3:::web/*"}]}))
    iam.create_user(UserName="web-backend")
    iam.put_user_policy(UserName="web-backend", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": "*"}]}))
    key = iam.create_access_key(UserName="web-backend")["AccessKey"]
    creds = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/uploader", RoleSessionName="browser")["Credentials"]
    return creds


def session_s3(cairn, creds, version="s3v4"):
    import boto3
    return boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"],
                        config=Config(signature_version=version))


def test_a_session_signs_a_browser_post_with_its_token(s3, cairn, session):
    post = session_s3(cairn, session).generate_presigned_post(Bucket="web", Key="from-browser.txt")
    assert "x-amz-security-token" in post["fields"]
    r = requests.post(post["url"], data=post["fields"], files={"file": ("a.txt", b"form bytes")})
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket="web", Key="from-browser.txt")["Body"].read() == b"form bytes"
    [record] = data_records(cairn, "PutObject", "from-browser.txt")
    assert record["additionalEventData"]["AuthenticationMethod"] == "HtmlForm"
    assert record["additionalEventData"]["SignatureVersion"] == "SigV4"
    assert record["userIdentity"]["type"] == "AssumedRole"
    # The token is the session's: another value is refused.
    fields = dict(post["fields"], **{"x-amz-security-token": "AQoDYXdzEJr" + "x" * 40})
    r = requests.post(post["url"], data=fields, files={"file": ("a.txt", b"x")})
    assert r.status_code in (400, 403), r.text


def test_forms_the_policy_refuses_get_s3s_words(s3, cairn):
    client = v4(cairn)
    post = client.generate_presigned_post(Bucket="web", Key="up/ok.txt",
                                          Conditions=[["starts-with", "$key", "up/"]])
    fields = dict(post["fields"], key="other/x.txt")
    r = requests.post(post["url"], data=fields, files={"file": ("x", b"x")})
    assert r.status_code == 403
    assert error(r) == ("AccessDenied", 'Invalid according to Policy: Policy Condition failed: '
                                        '["starts-with", "$key", "up/"]')
    fields = dict(post["fields"], **{"x-amz-meta-extra": "1"})
    r = requests.post(post["url"], data=fields, files={"file": ("x", b"x")})
    assert error(r) == ("AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-extra")
    typed = client.generate_presigned_post(
        Bucket="web", Key="img.png", Fields={"Content-Type": "image/png,text/html"},
        Conditions=[["starts-with", "$Content-Type", "image/"]])
    r = requests.post(typed["url"], data=typed["fields"], files={"file": ("x", b"x")})
    assert r.status_code == 403, r.text
    assert error(r)[1].endswith('["starts-with", "$Content-Type", "image/"]')
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="web", Key="img.png")
    typed["fields"]["Content-Type"] = "image/png, image/gif"
    r = requests.post(typed["url"], data=typed["fields"], files={"file": ("x", b"x")})
    assert r.status_code == 204, r.text
    # A form with no file.
    r = requests.post(post["url"], files={k: (None, v) for k, v in post["fields"].items()})
    assert r.status_code == 400, r.text
    assert error(r) == ("InvalidArgument", "POST requires exactly one file upload per request.")
    # A POST to a bucket that is no form at all.
    r = requests.post(post["url"], data=post["fields"])
    assert r.status_code == 412, r.text
    assert error(r) == ("PreconditionFailed",
                        "At least one of the pre-conditions you specified did not hold")


def test_a_session_signs_sigv2_presigned_urls_with_its_token(s3, cairn, session):
    s3.put_object(Bucket="web", Key="v2.txt", Body=b"legacy")
    url = session_s3(cairn, session, "s3").generate_presigned_url(
        "get_object", Params={"Bucket": "web", "Key": "v2.txt"}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in url and "x-amz-security-token=" in url
    r = requests.get(url)
    assert r.status_code == 200, r.text
    assert r.content == b"legacy"
    tampered = url.replace("x-amz-security-token=", "x-amz-security-token=X")
    assert requests.get(tampered).status_code == 403


def test_a_bucket_without_cors_answers_as_s3_does(s3, cairn):
    """PutBucketCors is not carried out, so every bucket is one without a CORS configuration:
    GetBucketCors is S3's 404 and a browser's preflight its 403 (they were 501s)."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_cors(Bucket="web")
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    url = f"{cairn.endpoint}/web/upload.bin"
    r = requests.options(url, headers={"Origin": "https://app.example",
                                       "Access-Control-Request-Method": "PUT"})
    assert r.status_code == 403
    code, message = error(r)
    assert code == "AccessForbidden" and message.startswith("CORSResponse: This CORS request")
    r = requests.options(url)
    assert r.status_code == 400 and error(r)[0] == "BadRequest"
    [record] = [r for r in cairn.records("Management") if r["eventName"] == "GetBucketCors"]
    assert record["errorCode"] == "NoSuchCORSConfiguration"


def test_x_amz_query_parameters_a_presigner_moved_out_of_the_headers_apply(s3, cairn):
    """The JavaScript SDK v3's presigner moves `x-amz-meta-*` and `x-amz-tagging` into the
    signed query string; S3 applies them as the headers they stand for."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from conftest import ACCESS_KEY, SECRET
    url = (f"{cairn.endpoint}/web/hoisted.txt?x-amz-meta-owner=alice"
           "&x-amz-tagging=team%3Dx")
    request = AWSRequest(method="PUT", url=url)
    S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1", expires=300).add_auth(request)
    r = requests.put(request.url, data=b"hoisted")
    assert r.status_code == 200, r.text
    assert s3.head_object(Bucket="web", Key="hoisted.txt")["Metadata"] == {"owner": "alice"}
    assert s3.get_object_tagging(Bucket="web", Key="hoisted.txt")["TagSet"] == [
        {"Key": "team", "Value": "x"}]
    # Changing a signed query parameter breaks the signature.
    tampered = request.url.replace("alice", "mallory")
    assert requests.put(tampered, data=b"x").status_code == 403


def test_a_form_asking_for_object_lock_is_refused(s3, cairn):
    """A browser form's `x-amz-object-lock-*` fields ask for a lock as the headers do: no
    Cairn bucket has Object Lock, so nothing is written (it was stored without the lock)."""
    client = v4(cairn)
    for extra in ({"x-amz-object-lock-mode": "COMPLIANCE",
                   "x-amz-object-lock-retain-until-date": "2030-01-01T00:00:00Z"},
                  {"x-amz-object-lock-legal-hold": "ON"},
                  # The newer SDKs' event hold, which the router does not know.
                  {"x-amz-object-lock-event-hold": "ON"}):
        post = client.generate_presigned_post(Bucket="web", Key="locked.txt", Fields=extra,
                                              Conditions=[{k: v} for k, v in extra.items()])
        r = requests.post(post["url"], data=post["fields"], files={"file": ("x", b"x")})
        assert r.status_code == 400, r.text
        assert error(r) == ("InvalidRequest", "Bucket is missing Object Lock Configuration")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="web", Key="locked.txt")
