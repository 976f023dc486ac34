"""Presigned Query requests outside S3, as `generate_presigned_url` makes them: the signature in
the query string (X-Amz-Credential names the service, which routes the request). The pattern
identity brokers use (Vault's AWS auth, EKS tokens): a presigned STS GetCallerIdentity that a
third party sends to prove who signed it. As on AWS, outside S3 `X-Amz-Expires` is not
honoured; the URL lives within the signing time's skew window (AWS: 15 minutes; Cairn's
window for every signature is 5 minutes)."""

import datetime
import json
from unittest import mock

import requests

from conftest import ACCESS_KEY


def presigned(client, method, http_method="GET", at=None, **params):
    if at is None:
        return client.generate_presigned_url(method, Params=params, HttpMethod=http_method)
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        return client.generate_presigned_url(method, Params=params, HttpMethod=http_method)


def code(response):
    return response.text.split("<Code>")[1].split("</Code>")[0]


def test_a_presigned_get_caller_identity_proves_who_signed_it(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="presigner")
    key = iam.create_access_key(UserName="presigner")["AccessKey"]
    sts = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "sts")
    url = presigned(sts, "get_caller_identity")
    assert "X-Amz-Signature=" in url and "/sts/aws4_request" in url.replace("%2F", "/")
    r = requests.get(url)
    assert r.status_code == 200, r.text
    assert "<Arn>arn:aws:iam::123456789012:user/presigner</Arn>" in r.text
    # The call is recorded as the signer's, with no signature among its parameters.
    [record] = [e for e in cairn.records("Management") if e["eventName"] == "GetCallerIdentity"
                and e["userIdentity"].get("userName") == "presigner"]
    assert record["requestParameters"] is None
    assert "X-Amz" not in json.dumps(record)


def test_session_credentials_presign_with_their_token(cairn):
    iam = cairn.client("iam")
    iam.create_role(RoleName="presigned-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
    iam.create_user(UserName="assumer")
    iam.put_user_policy(UserName="assumer", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": "*"}]}))
    key = iam.create_access_key(UserName="assumer")["AccessKey"]
    creds = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/presigned-role", RoleSessionName="s1")["Credentials"]
    sts = cairn.client_with(creds["AccessKeyId"], creds["SecretAccessKey"], "sts",
                            token=creds["SessionToken"])
    url = presigned(sts, "get_caller_identity")
    assert "X-Amz-Security-Token=" in url
    r = requests.get(url)
    assert r.status_code == 200, r.text
    assert "assumed-role/presigned-role/s1" in r.text


def test_a_changed_url_or_method_does_not_match(cairn):
    sts = cairn.client("sts")
    url = presigned(sts, "get_caller_identity")
    assert requests.get(url).status_code == 200
    r = requests.get(url.replace("Action=GetCallerIdentity", "Action=GetSessionToken"))
    assert (r.status_code, code(r)) == (403, "SignatureDoesNotMatch")
    # Signed for GET, sent as POST.
    r = requests.post(url)
    assert (r.status_code, code(r)) == (403, "SignatureDoesNotMatch")
    r = requests.get(url.replace(ACCESS_KEY, "AKIDNOBODY"))
    assert (r.status_code, code(r)) == (403, "InvalidClientTokenId")
    r = requests.get(url.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-X"))
    assert (r.status_code, code(r)) == (400, "IncompleteSignature")


def test_the_url_lives_by_the_skew_window_not_x_amz_expires(cairn):
    sts = cairn.client("sts")
    signed_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) \
        - datetime.timedelta(minutes=20)
    url = presigned(sts, "get_caller_identity", at=signed_at)
    assert "X-Amz-Expires=3600" in url
    r = requests.get(url)
    assert (r.status_code, code(r)) == (403, "SignatureDoesNotMatch")
    assert "Signature expired" in r.text
    recent = signed_at + datetime.timedelta(minutes=18)
    assert requests.get(presigned(sts, "get_caller_identity", at=recent)).status_code == 200


def test_other_query_services_take_presigned_calls_too(cairn):
    r = requests.get(presigned(cairn.client("iam"), "list_users"))
    assert r.status_code == 200 and "<ListUsersResult>" in r.text
    r = requests.get(presigned(cairn.client("sns"), "list_topics"))
    assert r.status_code == 200 and "<ListTopicsResult>" in r.text
