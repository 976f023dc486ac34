"""KMS, third outside pass (kms3): a refused DescribeKey of a predefined alias names the one
AWS managed key later calls find (its id is fixed before it exists), not a key rolled back
with the refusal, and still makes no key; a key pending
deletion can still have its policy fixed (the key-state table allows PutKeyPolicy in every
state); and alias changes name the alias among the record's resources, with the key's ARN in
`responseElements.keyId`, as the KMS developer guide's CloudTrail examples show."""

import json

import botocore.exceptions
import pytest

# The same module-scoped server (with a master key) and KMS client as the other KMS passes.
from test_kms_access import kms, server  # noqa: F401  (pytest fixtures)

ACCOUNT = "123456789012"


def nobody(server):
    iam = server.client("iam")
    iam.create_user(UserName="kms3-nobody")
    key = iam.create_access_key(UserName="kms3-nobody")["AccessKey"]
    return server.client_with(key["AccessKeyId"], key["SecretAccessKey"], "kms")


def management(server, name):
    return [r for r in server.records("Management") if r["eventName"] == name]


def test_a_refused_describe_key_names_the_managed_key_that_stays(server, kms):
    denied = nobody(server)
    messages = []
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            denied.describe_key(KeyId="alias/aws/ebs")
        assert e.value.response["Error"]["Code"] == "AccessDeniedException"
        messages.append(e.value.response["Error"]["Message"])
    # A refusal changes nothing: the key is still to be made...
    listed = {a["AliasName"]: a for a in kms.list_aliases()["Aliases"]}
    assert "TargetKeyId" not in listed["alias/aws/ebs"]
    # ...and it is made with the id the refusals named.
    real = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
    assert all(real in m for m in messages), (real, messages)
    refused = [r for r in management(server, "DescribeKey") if r.get("errorCode") == "AccessDenied"]
    assert len(refused) == 2
    assert all([x["ARN"] for x in r["resources"]] == [real] for r in refused), refused


def test_the_policy_of_a_key_pending_deletion_can_be_fixed(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    policy["Statement"][0]["Sid"] = "Fixed while pending deletion"
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    got = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    assert got["Statement"][0]["Sid"] == "Fixed while pending deletion"
    # The other management calls the key-state table marks as refused still are.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.update_key_description(KeyId=key, Description="x")
    assert e.value.response["Error"]["Code"] == "KMSInvalidStateException"


def test_alias_changes_name_the_alias_in_their_records(server, kms):
    a = kms.create_key()["KeyMetadata"]["Arn"]
    b = kms.create_key()["KeyMetadata"]["Arn"]
    alias = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/kms3-rec"
    kms.create_alias(AliasName="alias/kms3-rec", TargetKeyId=a)
    kms.update_alias(AliasName="alias/kms3-rec", TargetKeyId=b)
    kms.delete_alias(AliasName="alias/kms3-rec")
    for name, keys, target in [("CreateAlias", [a], a), ("UpdateAlias", [a, b], b),
                               ("DeleteAlias", [b], b)]:
        [r] = [r for r in management(server, name)
               if r["requestParameters"]["aliasName"] == "alias/kms3-rec"]
        arns = [x["ARN"] for x in r["resources"]]
        assert alias in arns and all(k in arns for k in keys), (name, arns)
        assert all(x["type"] == "AWS::KMS::Key" for x in r["resources"]), r["resources"]
        assert r["responseElements"] == {"keyId": target}, (name, r["responseElements"])
    found = server.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": alias}])["Events"]
    assert sorted(e["EventName"] for e in found) == ["CreateAlias", "DeleteAlias", "UpdateAlias"]


def test_key_arns_of_another_partition_name_no_key_here(kms):
    """kms3: any partition starting with `aws` resolved to the `aws` key."""
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    for other in ("aws-cn", "aws-us-gov"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            kms.describe_key(KeyId=arn.replace("arn:aws:", f"arn:{other}:"))
        assert e.value.response["Error"]["Code"] == "NotFoundException"
        assert "does not exist" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.encrypt(KeyId=arn.replace("arn:aws:", "arn:awsXYZ:"), Plaintext=b"hi")
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    assert e.value.response["Error"]["Message"].startswith("Invalid keyId")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.generate_data_key_pair(KeyId=arn, KeyPairSpec="ML_KEM_768")
    assert "China" not in e.value.response["Error"]["Message"]


def test_a_grant_of_create_grant_alone_is_refused(kms):
    """kms4: accepted; AWS answers ValidationException "Grants must not contain only the
    CreateGrant operation." (a boto3 run against AWS quoted in ansible/ansible#31960)."""
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.create_grant(KeyId=key, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:root",
                         Operations=["CreateGrant"])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"] == \
        "Grants must not contain only the CreateGrant operation."
    assert kms.list_grants(KeyId=key)["Grants"] == []
    kms.create_grant(KeyId=key, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:root",
                     Operations=["CreateGrant", "Decrypt"])
