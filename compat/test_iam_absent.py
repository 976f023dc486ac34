"""IAM calls about credentials Cairn keeps no record of answer as AWS answers an account
without them (empty lists; NoSuchEntity for a login profile or a password policy), so tools
that inventory an account or clean a user up before deleting it work; GetAccessKeyLastUsed
reads the newest recorded call signed with the key; UpdateUser and UpdateGroup rename."""

import json

import pytest
from botocore.exceptions import ClientError


def code(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_credentials_cairn_does_not_keep_are_none(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="inventoried")
    assert iam.list_mfa_devices(UserName="inventoried")["MFADevices"] == []
    assert iam.list_ssh_public_keys(UserName="inventoried")["SSHPublicKeys"] == []
    assert iam.list_signing_certificates(UserName="inventoried")["Certificates"] == []
    assert iam.list_service_specific_credentials(
        UserName="inventoried")["ServiceSpecificCredentials"] == []
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    assert iam.list_instance_profiles()["InstanceProfiles"] == []
    assert iam.list_server_certificates()["ServerCertificateMetadataList"] == []
    assert code(iam.list_server_certificates, PathPrefix="nope")[0] == "ValidationError"
    assert code(iam.list_instance_profiles, Marker="made-up") == ("InvalidInput", "Invalid Marker.")
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert iam.list_saml_providers()["SAMLProviderList"] == []
    assert code(iam.get_login_profile, UserName="inventoried") == (
        "NoSuchEntity", "Login Profile for User inventoried cannot be found.")
    assert code(iam.get_account_password_policy) == (
        "NoSuchEntity", "The Password Policy with domain name 123456789012 cannot be found.")
    assert code(iam.list_mfa_devices, UserName="nobody-here")[0] == "NoSuchEntity"
    # What Terraform's force_destroy does before DeleteUser.
    iam.delete_user(UserName="inventoried")


def test_access_key_last_used_is_the_newest_recorded_call(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="key-user")
    key = iam.create_access_key(UserName="key-user")["AccessKey"]
    unused = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert unused["UserName"] == "key-user"
    assert unused["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    sns = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "sns", region="eu-west-1")
    with pytest.raises(ClientError):
        sns.list_topics()  # refused, and recorded: the key was used
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("sns", "eu-west-1")
    assert "LastUsedDate" in used
    assert code(iam.get_access_key_last_used, AccessKeyId="AKIA0000000000000000")[0] == "NoSuchEntity"


def test_users_and_groups_are_renamed_keeping_what_they_have(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="bob")
    iam.create_group(GroupName="ops")
    iam.add_user_to_group(UserName="bob", GroupName="ops")
    iam.put_user_policy(UserName="bob", PolicyName="self", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:UpdateUser",
             "Resource": "arn:aws:iam::123456789012:user/bob"},
            {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    bob = lambda svc: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], svc)  # noqa: E731
    # Allowed on bob but not on robert: a rename needs both.
    with pytest.raises(ClientError) as e:
        bob("iam").update_user(UserName="bob", NewUserName="robert")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert "user/robert" in e.value.response["Error"]["Message"]
    iam.create_user(UserName="Robert")
    assert code(iam.update_user, UserName="bob", NewUserName="robert") == (
        "EntityAlreadyExists", "User with name robert already exists.")
    iam.delete_user(UserName="Robert")
    iam.update_user(UserName="bob", NewUserName="robert", NewPath="/team/")
    user = iam.get_user(UserName="robert")["User"]
    assert user["Arn"] == "arn:aws:iam::123456789012:user/team/robert"
    assert code(iam.get_user, UserName="bob")[0] == "NoSuchEntity"
    # The key, the group and the inline policy came along.
    assert bob("sts").get_caller_identity()["Arn"] == user["Arn"]
    assert [u["UserName"] for u in iam.get_group(GroupName="ops")["Users"]] == ["robert"]
    assert iam.list_user_policies(UserName="robert")["PolicyNames"] == ["self"]
    iam.update_group(GroupName="ops", NewGroupName="operations")
    assert iam.list_groups_for_user(UserName="robert")["Groups"][0]["GroupName"] == "operations"
    assert code(iam.update_group, GroupName="ops", NewGroupName="x")[0] == "NoSuchEntity"
