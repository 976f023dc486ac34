"""KMS key policies enforced through the one policy evaluator: an IAM user without kms
permissions is denied, a key policy can allow a user directly or deny even root, KMS condition
keys (encryption context, request alias, caller account) narrow statements, the lockout safety
check refuses a policy that would lock the caller out, the operator can reset a locked-out key
(and that is recorded), and grants let a grantee with no policy use a key."""

import json

import botocore.exceptions
import pytest

from conftest import serve_with_master_key

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


@pytest.fixture(scope="module")
def server():
    yield from serve_with_master_key()


@pytest.fixture(scope="module")
def kms(server):
    return server.client("kms")


def iam_user(server, name, inline=None):
    """A KMS client for a new IAM user, with an optional inline identity policy."""
    iam = server.client("iam")
    iam.create_user(UserName=name)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=json.dumps(inline))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client_with(key["AccessKeyId"], key["SecretAccessKey"], "kms")


@pytest.fixture(scope="module")
def alice(server):
    """IAM user alice, who has no identity policies."""
    return iam_user(server, "alice")


@pytest.fixture(scope="module")
def bob(server):
    """IAM user bob, whose identity policy allows kms:Encrypt and kms:GenerateDataKey only."""
    return iam_user(server, "bob", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*"}]})


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def admin_statement():
    return {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": ROOT},
            "Action": "kms:*", "Resource": "*"}


def denied(excinfo):
    e = excinfo.value.response["Error"]
    assert e["Code"] == "AccessDeniedException", e
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return e["Message"]


def test_user_without_kms_permissions_is_denied(kms, alice):
    key = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.decrypt(CiphertextBlob=blob)
    assert denied(e) == (f"User: {ALICE} is not authorized to perform: kms:Decrypt on resource: {key['Arn']} "
                         "because no identity-based policy allows the kms:Decrypt action")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.create_key()
    assert denied(e) == (f"User: {ALICE} is not authorized to perform: kms:CreateKey "
                         "because no identity-based policy allows the kms:CreateKey action")


def test_identity_policies_count_when_the_key_policy_delegates(kms, bob):
    key = kms.create_key()["KeyMetadata"]
    dk = bob.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
    assert len(dk["Plaintext"]) == 32
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bob.decrypt(CiphertextBlob=dk["CiphertextBlob"])
    assert denied(e) == (f"User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: kms:Decrypt "
                         f"on resource: {key['Arn']} because no identity-based policy allows the kms:Decrypt action")
    closed = kms.create_key(Policy=policy({
        "Sid": "root only, no delegation to IAM", "Effect": "Allow", "Principal": {"AWS": ROOT},
        "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalType": "Account"}}}))["KeyMetadata"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bob.encrypt(KeyId=closed["KeyId"], Plaintext=b"x")
    assert denied(e).endswith("because no resource-based policy allows the kms:Encrypt action")


def test_key_policy_naming_a_user_allows_by_itself(kms, alice):
    key = kms.create_key(Policy=policy(admin_statement(), {
        "Sid": "alice decrypts", "Effect": "Allow", "Principal": {"AWS": ALICE},
        "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}))["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"for alice")["CiphertextBlob"]
    assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == b"for alice"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert "kms:Encrypt" in denied(e)


def test_key_policy_can_deny_root_explicitly(kms):
    key = kms.create_key(Policy=policy(admin_statement(), {
        "Sid": "no decrypt here", "Effect": "Deny", "Principal": {"AWS": ROOT},
        "Action": "kms:Decrypt", "Resource": "*"}))["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.decrypt(CiphertextBlob=blob)
    assert denied(e) == (f"User: {ROOT} is not authorized to perform: kms:Decrypt on resource: {key['Arn']} "
                         "with an explicit deny in a resource-based policy")


def test_key_policy_that_neither_names_nor_delegates_denies_root(kms):
    key = kms.create_key(BypassPolicyLockoutSafetyCheck=True, Policy=policy({
        "Sid": "only alice", "Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "kms:*", "Resource": "*"}))["KeyMetadata"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.describe_key(KeyId=key["KeyId"])
    assert denied(e).endswith("because no resource-based policy allows the kms:DescribeKey action")


def test_condition_keys_narrow_statements(kms, alice):
    key = kms.create_key(Policy=policy(admin_statement(), {
        "Sid": "context bound", "Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "kms:Decrypt",
        "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:dept": "it",
                                                       "kms:CallerAccount": ACCOUNT}}}, {
        "Sid": "alias only", "Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "kms:Encrypt",
        "Resource": "*", "Condition": {"StringEquals": {"kms:RequestAlias": "alias/alice-only"}}}))["KeyMetadata"]
    kms.create_alias(AliasName="alias/alice-only", TargetKeyId=key["KeyId"])
    it = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"dept": "it"})["CiphertextBlob"]
    hr = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"dept": "hr"})["CiphertextBlob"]
    assert alice.decrypt(CiphertextBlob=it, EncryptionContext={"dept": "it"})["Plaintext"] == b"x"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.decrypt(CiphertextBlob=hr, EncryptionContext={"dept": "hr"})
    denied(e)
    assert alice.encrypt(KeyId="alias/alice-only", Plaintext=b"y")["KeyId"] == key["Arn"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.encrypt(KeyId=key["KeyId"], Plaintext=b"y")
    denied(e)


def test_lockout_check_and_operator_reset(server, kms):
    count = len(kms.list_keys(Limit=1000)["Keys"])
    lockout = policy({"Sid": "only alice", "Effect": "Allow", "Principal": {"AWS": ALICE},
                      "Action": "kms:*", "Resource": "*"})
    with pytest.raises(kms.exceptions.MalformedPolicyDocumentException) as e:
        kms.create_key(Policy=lockout)
    message = "The new key policy will not allow you to update the key policy in the future."
    assert e.value.response["Error"]["Message"] == message
    assert len(kms.list_keys(Limit=1000)["Keys"]) == count, "a refused CreateKey leaves no key"
    key = kms.create_key()["KeyMetadata"]
    with pytest.raises(kms.exceptions.MalformedPolicyDocumentException) as e:
        kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=lockout)
    assert e.value.response["Error"]["Message"] == message
    assert json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])["Id"] == "key-default-1"
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=lockout, BypassPolicyLockoutSafetyCheck=True)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy(admin_statement()))
    denied(e)
    out = json.loads(server.admin("kms", "reset-key-policy", "--key-id", key["KeyId"]))
    assert out["KeyId"] == key["Arn"]
    assert json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])["Id"] == "key-default-1"
    ct = server.client("cloudtrail")
    records = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "cairn-admin"}])["Events"]]
    reset = [r for r in records if r["resources"][0]["ARN"] == key["Arn"]]
    assert len(reset) == 1
    assert reset[0]["eventName"] == "PutKeyPolicy"
    assert reset[0]["userIdentity"] == {"type": "AWSService", "invokedBy": "cairn-admin"}


def test_grants_let_a_grantee_without_policies_use_the_key(kms, alice):
    key = kms.create_key()["KeyMetadata"]
    ctx = {"project": "x"}
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"granted", EncryptionContext=ctx)["CiphertextBlob"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
    denied(e)
    g = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=ALICE, RetiringPrincipal=ALICE,
                         Operations=["Decrypt", "DescribeKey"], Name="alice-reads",
                         Constraints={"EncryptionContextSubset": ctx})
    assert len(g["GrantId"]) == 64 and g["GrantToken"]
    again = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=ALICE, RetiringPrincipal=ALICE,
                             Operations=["Decrypt", "DescribeKey"], Name="alice-reads",
                             Constraints={"EncryptionContextSubset": ctx})
    assert again["GrantId"] == g["GrantId"], "a named grant with identical parameters is not duplicated"
    out = alice.decrypt(CiphertextBlob=blob, EncryptionContext=ctx, GrantTokens=[g["GrantToken"]])
    assert out["Plaintext"] == b"granted"
    assert alice.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Arn"] == key["Arn"]
    other = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"no", EncryptionContext={"project": "y"})["CiphertextBlob"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.decrypt(CiphertextBlob=other, EncryptionContext={"project": "y"})
    denied(e)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext=ctx)
    denied(e)
    with pytest.raises(kms.exceptions.InvalidGrantTokenException):
        alice.decrypt(CiphertextBlob=blob, EncryptionContext=ctx, GrantTokens=["not-a-token"])
    listed = kms.list_grants(KeyId=key["KeyId"])["Grants"]
    assert [x["GrantId"] for x in listed] == [g["GrantId"]]
    assert listed[0]["GranteePrincipal"] == ALICE and listed[0]["Operations"] == ["Decrypt", "DescribeKey"]
    assert listed[0]["Constraints"] == {"EncryptionContextSubset": ctx}
    assert listed[0]["IssuingAccount"] == ROOT
    retirable = kms.list_retirable_grants(RetiringPrincipal=ALICE)["Grants"]
    assert g["GrantId"] in [x["GrantId"] for x in retirable]
    alice.retire_grant(GrantToken=g["GrantToken"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
    denied(e)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.retire_grant(GrantToken=g["GrantToken"])


def test_revoke_grant_and_grant_errors(kms, alice):
    key = kms.create_key()["KeyMetadata"]
    g = kms.create_grant(KeyId=key["Arn"], GranteePrincipal=ALICE, Operations=["Encrypt"])
    assert alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["KeyId"] == key["Arn"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.retire_grant(KeyId=key["KeyId"], GrantId=g["GrantId"])
    denied(e)
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=g["GrantId"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    denied(e)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.revoke_grant(KeyId=key["KeyId"], GrantId=g["GrantId"])
    with pytest.raises(kms.exceptions.InvalidGrantIdException):
        kms.revoke_grant(KeyId=key["KeyId"], GrantId="nope")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=ALICE, Operations=["Sign"])
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_a_key_policy_allow_does_not_let_anyone_retire_a_grant(server, kms):
    """"The kms:RetireGrant permission is not effective in a key policy" (KMS developer guide,
    "Retiring and revoking grants"): only the grant's principals, its account, and principals
    the account's IAM policies delegate it to may retire a grant."""
    carol = iam_user(server, "carol")
    key = kms.create_key(Policy=policy(admin_statement(), {
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/carol"},
        "Action": "kms:RetireGrant", "Resource": "*"}))["KeyMetadata"]
    g = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=ROOT, Operations=["Encrypt"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        carol.retire_grant(KeyId=key["KeyId"], GrantId=g["GrantId"])
    denied(e)
    assert [x["GrantId"] for x in kms.list_grants(KeyId=key["KeyId"])["Grants"]] == [g["GrantId"]]
    # Delegated by an identity policy of the key's account: allowed.
    dave = iam_user(server, "dave", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:RetireGrant", "Resource": key["Arn"]}]})
    dave.retire_grant(KeyId=key["KeyId"], GrantId=g["GrantId"])
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []
    # The account itself (its root) may always retire one.
    g = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=ROOT, Operations=["Encrypt"])
    kms.retire_grant(KeyId=key["KeyId"], GrantId=g["GrantId"])


def test_alias_changes_need_the_alias_permission_too(kms, alice):
    key = kms.create_key(Policy=policy(admin_statement(), {
        "Sid": "alice may alias this key", "Effect": "Allow", "Principal": {"AWS": ALICE},
        "Action": "kms:CreateAlias", "Resource": "*"}))["KeyMetadata"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alice.create_alias(AliasName="alias/alices", TargetKeyId=key["KeyId"])
    assert denied(e) == (f"User: {ALICE} is not authorized to perform: kms:CreateAlias on resource: "
                         f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/alices because no identity-based policy allows "
                         "the kms:CreateAlias action")


def test_denials_are_recorded(server, kms, alice):
    key = kms.create_key()["KeyMetadata"]
    with pytest.raises(botocore.exceptions.ClientError):
        alice.describe_key(KeyId=key["KeyId"])
    ct = server.client("cloudtrail")
    records = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "alice"}], MaxResults=50)["Events"]]
    mine = [r for r in records if r["eventName"] == "DescribeKey" and r.get("resources", [{}])[0].get("ARN") == key["Arn"]]
    assert len(mine) == 1
    assert mine[0]["errorCode"] == "AccessDenied"
    assert mine[0]["userIdentity"]["arn"] == ALICE


def test_a_grant_that_allows_create_grant_only_allows_narrower_grants(server, kms):
    """A grantee holding CreateGrant through a grant may pass on at most the grant's own
    operations, under constraints at least as strict (KMS developer guide, grants)."""
    iam_user(server, "granter")
    key = kms.create_key()["KeyMetadata"]
    granter_arn = ALICE.replace("alice", "granter")
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=granter_arn,
                     Operations=["CreateGrant", "Decrypt"],
                     Constraints={"EncryptionContextSubset": {"app": "a"}})
    iam = server.client("iam")
    access = iam.create_access_key(UserName="granter")["AccessKey"]
    granter = server.client_with(access["AccessKeyId"], access["SecretAccessKey"], "kms")
    for operations, constraints in (
            (["GenerateDataKey", "Encrypt", "Decrypt"], {"EncryptionContextSubset": {"app": "a"}}),
            (["Decrypt"], None),
            (["Decrypt"], {"EncryptionContextSubset": {"app": "zzz"}})):
        extra = {"Constraints": constraints} if constraints else {}
        with pytest.raises(botocore.exceptions.ClientError) as e:
            granter.create_grant(KeyId=key["Arn"], GranteePrincipal=ALICE, Operations=operations, **extra)
        denied(e)
    narrower = granter.create_grant(KeyId=key["Arn"], GranteePrincipal=ALICE, Operations=["Decrypt"],
                                    Constraints={"EncryptionContextSubset": {"app": "a", "env": "prod"}})
    assert len(narrower["GrantId"]) == 64


def test_a_key_policy_naming_a_missing_user_is_refused(kms):
    ghost = policy(admin_statement(), {"Effect": "Allow", "Principal": {"AWS": ALICE.replace("alice", "ghost")},
                                       "Action": "kms:Decrypt", "Resource": "*"})
    key = kms.create_key()["KeyMetadata"]
    for call in (lambda: kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=ghost),
                 lambda: kms.create_key(Policy=ghost)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        err = e.value.response["Error"]
        assert err["Code"] == "MalformedPolicyDocumentException", err
        assert "invalid principals" in err["Message"]


def test_resource_aliases_decide_like_aws(server, kms):
    """kms:ResourceAliases lists the key's aliases (ForAnyValue), as the KMS guide's
    alias-based access control uses it."""
    user = iam_user(server, "alias-user", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/team-a"}}}]})
    key = kms.create_key()["KeyMetadata"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    denied(e)
    kms.create_alias(AliasName="alias/team-a", TargetKeyId=key["KeyId"])
    assert user.encrypt(KeyId=key["Arn"], Plaintext=b"x")["KeyId"] == key["Arn"]
