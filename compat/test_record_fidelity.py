"""Record details compared with AWS's own records (the CloudTrail and IAM user guides' examples
and the detonation logs in the shared datasets), found by an outside tester: a denied IAM or
STS call records `requestParameters` as null, an error without a message has no
`errorMessage`."""

import json

import botocore.exceptions
import pytest

ACCOUNT = "123456789012"


def user(cairn, name, statements=None):
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda svc: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], svc)


def record(cairn, name, user_name):
    found = [r for r in cairn.records("Management") if r["eventName"] == name
             and r["userIdentity"].get("userName") == user_name]
    assert found, f"no {name} by {user_name}"
    return found[-1]


def test_denied_iam_and_sts_calls_record_null_parameters(cairn):
    client = user(cairn, "nobody-rf")
    with pytest.raises(botocore.exceptions.ClientError):
        client("iam").create_user(UserName="mallory")
    with pytest.raises(botocore.exceptions.ClientError):
        client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/none", RoleSessionName="s1")
    for name in ("CreateUser", "AssumeRole"):
        r = record(cairn, name, "nobody-rf")
        assert r["errorCode"] == "AccessDenied"
        assert r["requestParameters"] is None, r
    # An IAM call that fails for another reason keeps its parameters.
    with pytest.raises(botocore.exceptions.ClientError):
        cairn.client("iam").get_user(UserName="nobody-else")
    [failed] = [r for r in cairn.records("Management") if r["eventName"] == "GetUser"
                and r.get("errorCode") == "NoSuchEntityException"]
    assert failed["requestParameters"] == {"userName": "nobody-else"}


def test_an_error_without_a_message_records_none(cairn):
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"a": "1"})["CiphertextBlob"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "2"})
    assert e.value.response["Error"]["Code"] == "InvalidCiphertextException"
    [r] = [r for r in cairn.records("Management") if r["eventName"] == "Decrypt"]
    assert r["errorCode"] == "InvalidCiphertextException"
    assert "errorMessage" not in r, r


def latest(cairn, name):
    found = [r for r in cairn.records("Management") if r["eventName"] == name]
    assert found, f"no {name}"
    return found[-1]


def test_records_match_real_iam_sns_and_kms_records(cairn):
    """Shapes a detection rule reads, as real records have them (Stratus Red Team's detonation
    logs and the KMS developer guide's examples in the shared datasets)."""
    iam = cairn.client("iam")
    # A login profile Cairn does not carry out still names its target, never the password.
    iam.create_user(UserName="erin", Tags=[{"Key": "team", "Value": "sec"}])
    with pytest.raises(botocore.exceptions.ClientError):
        iam.create_login_profile(UserName="erin", Password="Xx1!secret-word", PasswordResetRequired=False)
    profile = latest(cairn, "CreateLoginProfile")
    assert profile["requestParameters"] == {"userName": "erin", "passwordResetRequired": False}
    assert "secret-word" not in json.dumps(profile)
    # A created user carries its tags; errors are recorded by their model shape names.
    created = latest(cairn, "CreateUser")["responseElements"]["user"]
    assert created["tags"] == [{"key": "team", "value": "sec"}]
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName="erin")
    assert latest(cairn, "CreateUser")["errorCode"] == "EntityAlreadyExistsException"
    # A permissions boundary is recorded as type `Policy` (Stratus's CreateRole record); the
    # API says `PermissionsBoundaryPolicy`.
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="bounded-rf", AssumeRolePolicyDocument=trust,
                    PermissionsBoundary="arn:aws:iam::aws:policy/AWSDenyAll")
    assert iam.get_role(RoleName="bounded-rf")["Role"]["PermissionsBoundary"][
        "PermissionsBoundaryType"] == "PermissionsBoundaryPolicy"
    assert latest(cairn, "CreateRole")["responseElements"]["role"]["permissionsBoundary"] == {
        "permissionsBoundaryArn": "arn:aws:iam::aws:policy/AWSDenyAll", "permissionsBoundaryType": "Policy"}
    # An empty list (sent over Query as `Tags=`) is recorded as a list, as the model types it.
    iam.create_user(UserName="empty-tags-rf", Tags=[])
    assert latest(cairn, "CreateUser")["requestParameters"] == {"userName": "empty-tags-rf", "tags": []}
    # SNS members as structures, not Query wire keys.
    sns = cairn.client("sns")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sns:Publish", "Resource": "*"}]})
    sns.create_topic(Name="fidelity", Attributes={"Policy": policy, "DisplayName": "d"},
                     Tags=[{"Key": "a", "Value": "b"}])
    topic = latest(cairn, "CreateTopic")["requestParameters"]
    assert topic == {"name": "fidelity", "attributes": {"Policy": policy, "DisplayName": "d"},
                     "tags": [{"key": "a", "value": "b"}]}
    # KMS records CreateKey's defaults.
    cairn.client("kms").create_key(Description="k1")
    key = latest(cairn, "CreateKey")["requestParameters"]
    assert key == {"description": "k1", "keySpec": "SYMMETRIC_DEFAULT",
                   "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT",
                   "origin": "AWS_KMS", "bypassPolicyLockoutSafetyCheck": False}


def test_sts_dates_and_denied_unserved_calls(cairn):
    """STS records its credentials' expiration with a comma after the year (IAM without);
    an operation Cairn does not carry out, when denied, records no parameters (as real
    denied IAM and STS records have none)."""
    import re
    iam = cairn.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="dated", AssumeRolePolicyDocument=trust)
    assumer = user(cairn, "assumer", [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}])
    assumer("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/dated", RoleSessionName="dated")
    expiration = latest(cairn, "AssumeRole")["responseElements"]["credentials"]["expiration"]
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2} [AP]M", expiration), expiration
    client = user(cairn, "nobody-unserved")
    with pytest.raises(botocore.exceptions.ClientError):
        client("iam").create_login_profile(UserName="nobody-unserved", Password="Xx1!secret-word")
    denied = record(cairn, "CreateLoginProfile", "nobody-unserved")
    assert denied["errorCode"] == "AccessDenied" and denied["requestParameters"] is None, denied
