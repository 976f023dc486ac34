"""KMS found by outside tester kms6 (each failed before its fix):
- UpdateAlias moved aliases onto a key that already had 50 (CreateAlias refused it);
- `cairn kms reset-key-policy --key-id <ARN>` reset the key with that id whatever region and
  account the ARN named."""

import subprocess

import botocore.exceptions
import pytest


def test_update_alias_keeps_the_fifty_aliases_limit(cairn):
    kms = cairn.client("kms")
    full = kms.create_key()["KeyMetadata"]["KeyId"]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    for n in range(50):
        kms.create_alias(AliasName=f"alias/full-{n}", TargetKeyId=full)
    kms.create_alias(AliasName="alias/mover", TargetKeyId=other)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.update_alias(AliasName="alias/mover", TargetKeyId=full)
    assert e.value.response["Error"]["Code"] == "LimitExceededException"
    # Pointing an alias of the full key at it again is no new alias.
    kms.update_alias(AliasName="alias/full-0", TargetKeyId=full)
    assert [a["TargetKeyId"] for a in kms.list_aliases(KeyId=other)["Aliases"]] == [other]


def test_reset_key_policy_takes_the_arn_as_a_whole(cairn):
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]
    elsewhere = key["Arn"].replace(":us-east-1:", ":eu-west-1:")
    with pytest.raises(subprocess.CalledProcessError) as e:
        cairn.admin("kms", "reset-key-policy", "--key-id", elsewhere)
    assert "does not exist" in (e.value.stderr or "") + (e.value.stdout or ""), e.value
    other_account = key["Arn"].replace(":123456789012:", ":999999999999:")
    with pytest.raises(subprocess.CalledProcessError):
        cairn.admin("kms", "reset-key-policy", "--key-id", other_account)
    assert cairn.admin("kms", "reset-key-policy", "--key-id", key["Arn"])


def test_a_grant_names_a_principal(cairn):
    """CreateGrant took groups, policies and instance profiles as grantee or retiring
    principal: the grant was listed and gave nobody access."""
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for arn in ("arn:aws:iam::123456789012:group/admins",
                "arn:aws:iam::123456789012:policy/p",
                "arn:aws:iam::123456789012:instance-profile/ip",
                "arn:aws:iam::123456789012:mfa/dev"):
        for member in ("GranteePrincipal", "RetiringPrincipal"):
            args = {"GranteePrincipal": "arn:aws:iam::123456789012:root", member: arn}
            with pytest.raises(botocore.exceptions.ClientError) as e:
                kms.create_grant(KeyId=key, Operations=["Decrypt"], **args)
            assert e.value.response["Error"]["Code"] == "InvalidArnException", (arn, member)
    assert kms.list_grants(KeyId=key)["Grants"] == []
    kms.create_grant(KeyId=key, Operations=["Decrypt"], GranteePrincipal="arn:aws:iam::123456789012:root")
