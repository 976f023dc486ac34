"""boto3 and the AWS CLI driving STS: GetCallerIdentity for root, users and role sessions,
AssumeRole (trust policy, durations, session name), the assumed role's identity in the next
call's event, GetSessionToken, GetAccessKeyInfo decoding the account, and altered or missing
session tokens refused. (Expiry is tested in Rust, crates/cairn/tests/it/sts_sessions.rs,
by signing at a time past the expiry: the shortest session AWS allows is 15 minutes.)"""

import datetime
import json
import os
import subprocess

import boto3
import botocore.exceptions
import pytest

ACCOUNT = "123456789012"


def client_as(cairn, service, creds, region="eu-west-1"):
    return boto3.client(service, endpoint_url=cairn.endpoint, region_name=region,
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"))


def trust(principal):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def alice(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="sts-alice")
    return iam.create_access_key(UserName="sts-alice")["AccessKey"]


def test_get_caller_identity_and_access_key_info(cairn, alice):
    root = cairn.client("sts").get_caller_identity()
    assert root["Arn"] == f"arn:aws:iam::{ACCOUNT}:root" and root["UserId"] == ACCOUNT
    user = client_as(cairn, "sts", alice).get_caller_identity()
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/sts-alice"
    assert user["UserId"].startswith("AIDA") and user["Account"] == ACCOUNT
    sts = cairn.client("sts")
    assert sts.get_access_key_info(AccessKeyId=alice["AccessKeyId"])["Account"] == ACCOUNT
    # Any account-embedding key id decodes, not only ours.
    assert sts.get_access_key_info(AccessKeyId="ASIAQNZGKIQY56JQ7WML")["Account"] == "029608264753"


def test_assume_role_and_the_session_identity_in_events(cairn, alice):
    iam = cairn.client("iam")
    iam.create_role(RoleName="ops", Path="/team/",
                    AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:user/sts-alice"))
    sts = client_as(cairn, "sts", alice)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/team/ops"
    before = datetime.datetime.now(datetime.timezone.utc)
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="alice-session", DurationSeconds=900)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40 and creds["SessionToken"]
    lifetime = (creds["Expiration"] - before).total_seconds()
    assert 890 <= lifetime <= 910
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/alice-session"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice-session")

    session = client_as(cairn, "sts", creds)
    me = session.get_caller_identity()
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"]
    assert me["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]
    assert cairn.client("sts").get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"] == ACCOUNT

    ct = cairn.client("cloudtrail", region="eu-west-1")
    events = ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "Username", "AttributeValue": "alice-session"}])["Events"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["eventName"] == "GetCallerIdentity"
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == out["AssumedRoleUser"]["Arn"]
    assert identity["accessKeyId"] == creds["AccessKeyId"]
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role", "principalId": out["AssumedRoleUser"]["AssumedRoleId"].split(":")[0],
        "arn": role_arn, "accountId": ACCOUNT, "userName": "ops"}
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert "userName" not in identity

    assumed = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])["Events"]]
    event = next(r for r in assumed if r["requestParameters"]["roleSessionName"] == "alice-session")
    assert event["eventSource"] == "sts.amazonaws.com" and event["awsRegion"] == "eu-west-1"
    assert event["userIdentity"]["type"] == "IAMUser"
    assert event["resources"] == [{"ARN": role_arn, "accountId": ACCOUNT, "type": "AWS::IAM::Role"}]
    # As AWS records it: the key id, its expiry and the session token, never the secret.
    assert event["responseElements"]["credentials"]["accessKeyId"] == creds["AccessKeyId"]
    assert event["responseElements"]["credentials"]["sessionToken"] == creds["SessionToken"]
    assert creds["SecretAccessKey"] not in json.dumps(event)
    role = iam.get_role(RoleName="ops")["Role"]
    assert role["RoleLastUsed"]["Region"] == "eu-west-1"


def test_assume_role_refusals(cairn, alice):
    iam = cairn.client("iam")
    iam.create_role(RoleName="closed", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    sts = client_as(cairn, "sts", alice)
    for arn in [f"arn:aws:iam::{ACCOUNT}:role/closed", f"arn:aws:iam::{ACCOUNT}:role/missing"]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role(RoleArn=arn, RoleSessionName="s1")
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        # STS states no reason (AWS's answers and records end at the role ARN).
        assert e.value.response["Error"]["Message"] == (
            f"User: arn:aws:iam::{ACCOUNT}:user/sts-alice is not authorized to perform: "
            f"sts:AssumeRole on resource: {arn}")
    iam.create_role(RoleName="short", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:user/sts-alice"))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/short", RoleSessionName="s1",
                        DurationSeconds=7200)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "exceeds the MaxSessionDuration" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/short", RoleSessionName="bad name")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(sts.exceptions.MalformedPolicyDocumentException):
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/short", RoleSessionName="s1", Policy="{")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cairn.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/short", RoleSessionName="s1")
    # Root may never assume a role (AWS: "Roles may not be assumed by root accounts."; here
    # the trust policy, which does not name root, refuses first).
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def test_altered_and_missing_tokens_are_refused(cairn, alice):
    iam = cairn.client("iam")
    iam.create_role(RoleName="tokens", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:user/sts-alice"))
    iam.attach_role_policy(RoleName="tokens", PolicyArn="arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess")
    creds = client_as(cairn, "sts", alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/tokens", RoleSessionName="t1")["Credentials"]
    token = creds["SessionToken"]
    altered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in [dict(creds, SessionToken=altered), {k: v for k, v in creds.items() if k != "SessionToken"},
                dict(alice, SessionToken=token)]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client_as(cairn, "sts", bad).get_caller_identity()
        assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
        assert e.value.response["Error"]["Message"] == "The security token included in the request is invalid."
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client_as(cairn, "cloudtrail", dict(creds, SessionToken=altered)).describe_trails()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert client_as(cairn, "cloudtrail", creds).describe_trails()["trailList"] is not None


def test_get_session_token_with_the_cli(cairn, alice):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=alice["AccessKeyId"], AWS_SECRET_ACCESS_KEY=alice["SecretAccessKey"],
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    out = subprocess.run(["aws", "--endpoint-url", cairn.endpoint, "--output", "json", "sts", "get-session-token",
                          "--duration-seconds", "900"], env=env, capture_output=True, text=True, check=True)
    creds = json.loads(out.stdout)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    session = client_as(cairn, "sts", creds, region="us-east-1")
    assert session.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/sts-alice"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        session.get_session_token()
    assert e.value.response["Error"]["Message"] == "Cannot call GetSessionToken with session credentials"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client_as(cairn, "iam", creds, region="us-east-1").list_users()
    # Without MFA such credentials may call no IAM operation: AWS refuses the token itself.
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client_as(cairn, "sts", alice).get_session_token(DurationSeconds=129601)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    ct = cairn.client("cloudtrail", region="us-east-1")
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "AccessKeyId",
                                                 "AttributeValue": creds["AccessKeyId"]}])["Events"]
    identity = json.loads(events[-1]["CloudTrailEvent"])["userIdentity"]
    assert identity["type"] == "IAMUser" and identity["accessKeyId"] == creds["AccessKeyId"]
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"


def test_session_tags_and_source_identity_need_their_own_permissions(cairn, alice):
    """AssumeRole with Tags needs sts:TagSession, with a SourceIdentity sts:SetSourceIdentity,
    and a source identity, once set, cannot be changed down a role chain."""
    iam = cairn.client("iam")
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/sts-alice"
    iam.put_user_policy(UserName="sts-alice", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*",
                                                "Action": ["sts:AssumeRole", "sts:TagSession",
                                                           "sts:SetSourceIdentity"]}]}))
    iam.create_role(RoleName="plain-trust", AssumeRolePolicyDocument=trust(user_arn))
    sts = client_as(cairn, "sts", alice)
    plain = f"arn:aws:iam::{ACCOUNT}:role/plain-trust"
    for extra in ({"Tags": [{"Key": "team", "Value": "x"}]}, {"SourceIdentity": "alice"}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role(RoleArn=plain, RoleSessionName="s0", **extra)
        assert e.value.response["Error"]["Code"] == "AccessDenied", extra
    full = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]}]})
    iam.create_role(RoleName="full-trust", AssumeRolePolicyDocument=full)
    iam.put_role_policy(RoleName="full-trust", PolicyName="chain", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}))
    full_arn = f"arn:aws:iam::{ACCOUNT}:role/full-trust"
    first = sts.assume_role(RoleArn=full_arn, RoleSessionName="s1", SourceIdentity="alice",
                            Tags=[{"Key": "team", "Value": "x"}])
    assert first["SourceIdentity"] == "alice"
    chained = client_as(cairn, "sts", first["Credentials"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        chained.assume_role(RoleArn=full_arn, RoleSessionName="s2", SourceIdentity="bob")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    # Without one, the chained session keeps alice.
    assert chained.assume_role(RoleArn=full_arn, RoleSessionName="s3")["SourceIdentity"] == "alice"


def test_refused_federation_attempts_are_recorded(cairn):
    """AssumeRoleWithWebIdentity and AssumeRoleWithSAML travel unsigned; a token no provider
    vouches for is refused and recorded with the caller it names, as CloudTrail records
    these calls (userIdentity `WebIdentityUser`/`SAMLUser`), so a forged token aimed at a
    role leaves a trace. The token and assertion themselves are never recorded."""
    import base64
    from botocore import UNSIGNED
    from botocore.config import Config
    sts = boto3.client("sts", endpoint_url=cairn.endpoint, region_name="us-east-1",
                       config=Config(signature_version=UNSIGNED))
    claims = base64.urlsafe_b64encode(json.dumps(
        {"iss": "https://token.example.net", "aud": "ci-app", "sub": "repo:acme/x"}).encode())
    token = "eyJhbGciOiJSUzI1NiJ9." + claims.decode().rstrip("=") + ".c2ln"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Federated": "token.example.net"}, "Action": "sts:AssumeRoleWithWebIdentity"}]})
    cairn.client("iam").create_role(RoleName="deploy", Path="/ci/", AssumeRolePolicyDocument=trust)
    for made_up in ["role/deploy", "role/ci/nope", "role/other/deploy", "user/ci/deploy"]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role_with_web_identity(
                RoleArn=f"arn:aws:iam::{ACCOUNT}:{made_up}", RoleSessionName="made-up",
                WebIdentityToken=token)
        assert e.value.response["Error"]["Code"] == "InvalidIdentityToken"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ci/deploy", RoleSessionName="forged",
            WebIdentityToken=token, DurationSeconds=900)
    assert e.value.response["Error"]["Code"] == "InvalidIdentityToken"
    saml = base64.b64encode(b"<Response><Issuer>https://sso.example.org</Issuer>"
                            b"<NameID>mallory@example.org</NameID></Response>").decode()
    with pytest.raises(botocore.exceptions.ClientError):
        sts.assume_role_with_saml(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ci/deploy",
                                  PrincipalArn=f"arn:aws:iam::{ACCOUNT}:saml-provider/sso",
                                  SAMLAssertion=saml)
    # Another account's role: AWS records it there, not here.
    with pytest.raises(botocore.exceptions.ClientError):
        sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::999999999999:role/x",
                                          RoleSessionName="elsewhere", WebIdentityToken=token)
    ct = cairn.client("cloudtrail")

    def recorded(name):
        events = ct.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
        return [json.loads(ev["CloudTrailEvent"]) for ev in events]

    web = recorded("AssumeRoleWithWebIdentity")
    assert len(web) == 1, web
    assert web[0]["userIdentity"] == {
        "type": "WebIdentityUser", "principalId": "token.example.net:ci-app:repo:acme/x",
        "userName": "repo:acme/x", "identityProvider": "token.example.net"}
    assert web[0]["errorCode"] == "InvalidIdentityToken"
    assert web[0]["requestParameters"] == {
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/ci/deploy", "roleSessionName": "forged",
        "durationSeconds": 900}
    assert web[0]["eventSource"] == "sts.amazonaws.com" and web[0]["recipientAccountId"] == ACCOUNT
    assert token not in json.dumps(web[0])
    saml_events = recorded("AssumeRoleWithSAML")
    assert len(saml_events) == 1
    assert saml_events[0]["userIdentity"]["type"] == "SAMLUser"
    assert saml_events[0]["userIdentity"]["userName"] == "mallory@example.org"
    assert "sAMLAssertion" not in saml_events[0]["requestParameters"]


def test_federated_calls_check_their_input_first(cairn):
    """recheck28: input the model refuses (a token over 20,000 characters) is a
    ValidationError, as for every STS call, not InvalidIdentityToken; the token is never
    quoted in the message."""
    from botocore import UNSIGNED
    from botocore.config import Config
    sts = boto3.client("sts", endpoint_url=cairn.endpoint, region_name="us-east-1",
                       config=Config(signature_version=UNSIGNED))
    token = "t" * 20_001
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/deploy",
                                          RoleSessionName="long-token", WebIdentityToken=token)
    error = e.value.response["Error"]
    assert error["Code"] == "ValidationError", error
    assert token not in error["Message"] and "webIdentityToken" in error["Message"], error
    # recheck34b: more than 10 PolicyArns is a ValidationError, as for AssumeRole.
    arns = [{"arn": f"arn:aws:iam::aws:policy/P{i}"} for i in range(11)]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/deploy",
                                          RoleSessionName="many-arns", WebIdentityToken="t" * 40,
                                          PolicyArns=arns)
    error = e.value.response["Error"]
    assert error["Code"] == "ValidationError" and "policyArns" in error["Message"], error


def test_unsigned_federated_calls_naming_a_role_are_throttled(cairn):
    """hostile14 F1: unsigned calls naming an existing role are recorded (as on AWS), and
    role ARNs are no secret: without a bound anyone could fill the event store. They are
    throttled as STS throttles (`Throttling`), and a throttled call is not recorded."""
    import base64
    from botocore import UNSIGNED
    from botocore.config import Config
    sts = boto3.client("sts", endpoint_url=cairn.endpoint, region_name="us-east-1",
                       config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Federated": "flood.example.net"}, "Action": "sts:AssumeRoleWithWebIdentity"}]})
    cairn.client("iam").create_role(RoleName="flooded", AssumeRolePolicyDocument=trust)
    claims = base64.urlsafe_b64encode(json.dumps({"iss": "https://flood.example.net", "sub": "x"}).encode())
    token = "eyJhbGciOiJSUzI1NiJ9." + claims.decode().rstrip("=") + ".c2ln"
    codes = []
    for i in range(60):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role_with_web_identity(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/flooded",
                                              RoleSessionName=f"flood-{i}", WebIdentityToken=token)
        codes.append(e.value.response["Error"]["Code"])
    assert "Throttling" in codes and "InvalidIdentityToken" in codes, codes
    ct = cairn.client("cloudtrail")
    pages = ct.get_paginator("lookup_events").paginate(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "AssumeRoleWithWebIdentity"}])
    flood = [ev for p in pages for ev in p["Events"] if "flood-" in ev["CloudTrailEvent"]]
    assert len(flood) == codes.count("InvalidIdentityToken") < 60, (len(flood), codes)
