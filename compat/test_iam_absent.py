"""IAM calls about credentials Cairn keeps no record of answer as AWS answers an account
without them (empty lists; NoSuchEntity for a login profile or a password policy), so tools
that inventory an account or clean a user up before deleting it work; GetAccessKeyLastUsed
reads the newest recorded call signed with the key."""

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
