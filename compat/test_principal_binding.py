"""A resource policy naming a user or role by ARN names that entity, not its name: once the
user or role is deleted, a new one of the same name gets none of its grants, and the policy
shows the old unique id (IAM user guide, role trust policies). Checked for role trust, bucket,
key and topic policies; while the entity exists every Get call shows its ARN."""

import json

import botocore.exceptions
import pytest

from conftest import err

ACCOUNT = "123456789012"


def doc(statement):
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def allow_all(iam, user):
    iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}))


def new_user(cairn, iam, name):
    """Creates `name` with an access key; returns (user id, key)."""
    uid = iam.create_user(UserName=name)["User"]["UserId"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return uid, key


def client(cairn, key, service):
    return cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], service)


def recreate(cairn, iam, name):
    """Deletes user `name` (keys and policies first) and creates it again with a key."""
    for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    for p in iam.list_user_policies(UserName=name)["PolicyNames"]:
        iam.delete_user_policy(UserName=name, PolicyName=p)
    iam.delete_user(UserName=name)
    return new_user(cairn, iam, name)


def test_a_trust_policy_names_the_user_it_was_written_for(cairn):
    iam = cairn.client("iam")
    old_id, _ = new_user(cairn, iam, "ghost")
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/ghost"
    iam.create_role(RoleName="ghost-target", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}))
    shown = iam.get_role(RoleName="ghost-target")["Role"]["AssumeRolePolicyDocument"]
    assert shown["Statement"][0]["Principal"]["AWS"] == user_arn

    _, key = recreate(cairn, iam, "ghost")
    allow_all(iam, "ghost")
    shown = iam.get_role(RoleName="ghost-target")["Role"]["AssumeRolePolicyDocument"]
    assert shown["Statement"][0]["Principal"]["AWS"] == old_id
    sts = client(cairn, key, "sts")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ghost-target", RoleSessionName="s1")
    assert err(e) == ("AccessDenied", 403)

    # Naming the user again binds the new one.
    iam.update_assume_role_policy(RoleName="ghost-target", PolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}))
    assert sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ghost-target",
                           RoleSessionName="s1")["Credentials"]["AccessKeyId"]


def test_a_trust_policy_naming_a_role_and_a_bucket_policy_naming_a_user(cairn):
    iam, s3 = cairn.client("iam"), cairn.client("s3")
    # Role → role: a new role of the deleted role's name cannot assume the target.
    iam.create_role(RoleName="src", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"}))
    src_arn = f"arn:aws:iam::{ACCOUNT}:role/src"
    iam.create_role(RoleName="tgt", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": src_arn}, "Action": "sts:AssumeRole"}))
    iam.delete_role(RoleName="src")
    listed = {r["RoleName"]: r for r in iam.list_roles()["Roles"]}
    assert listed["tgt"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"].startswith("AROA")
    iam.create_role(RoleName="src", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"}))
    iam.put_role_policy(RoleName="src", PolicyName="all", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}))
    _, key = new_user(cairn, iam, "hopper")
    allow_all(iam, "hopper")
    creds = client(cairn, key, "sts").assume_role(RoleArn=src_arn, RoleSessionName="a1")["Credentials"]
    chained = cairn.client_with(creds["AccessKeyId"], creds["SecretAccessKey"], "sts",
                                token=creds["SessionToken"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        chained.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/tgt", RoleSessionName="b1")
    assert err(e) == ("AccessDenied", 403)

    # Bucket policy naming a user.
    new_user(cairn, iam, "bpu")
    s3.create_bucket(Bucket="bound-bkt")
    s3.put_object(Bucket="bound-bkt", Key="secret", Body=b"x")
    bpu_arn = f"arn:aws:iam::{ACCOUNT}:user/bpu"
    s3.put_bucket_policy(Bucket="bound-bkt", Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": [bpu_arn]}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::bound-bkt/*"}))
    shown = json.loads(s3.get_bucket_policy(Bucket="bound-bkt")["Policy"])
    assert shown["Statement"][0]["Principal"]["AWS"] == [bpu_arn]
    _, key = recreate(cairn, iam, "bpu")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client(cairn, key, "s3").get_object(Bucket="bound-bkt", Key="secret")
    assert err(e) == ("AccessDenied", 403)
    shown = json.loads(s3.get_bucket_policy(Bucket="bound-bkt")["Policy"])
    assert shown["Statement"][0]["Principal"]["AWS"][0].startswith("AIDA")
    # A user that does not exist cannot be named at all.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_policy(Bucket="bound-bkt", Policy=doc(
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/nobody"},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bound-bkt/*"}))
    assert err(e) == ("MalformedPolicy", 400)


def test_key_and_topic_policies_bind_the_user_they_name(cairn):
    iam, kms, sns = cairn.client("iam"), cairn.client("kms"), cairn.client("sns")
    new_user(cairn, iam, "kmsghost")
    ghost_arn = f"arn:aws:iam::{ACCOUNT}:user/kmsghost"
    key_id = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": ghost_arn}, "Action": "kms:DescribeKey",
         "Resource": "*"}]}))["KeyMetadata"]["KeyId"]
    shown = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert shown["Statement"][1]["Principal"]["AWS"] == ghost_arn
    topic = sns.create_topic(Name="bound-topic")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=doc(
        {"Effect": "Allow", "Principal": {"AWS": ghost_arn}, "Action": "sns:Publish",
         "Resource": topic}))
    _, key = recreate(cairn, iam, "kmsghost")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client(cairn, key, "kms").describe_key(KeyId=key_id)
    assert err(e) == ("AccessDeniedException", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client(cairn, key, "sns").publish(TopicArn=topic, Message="hi")
    assert err(e)[0] == "AuthorizationError"
    shown = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert shown["Statement"][1]["Principal"]["AWS"].startswith("AIDA")
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert json.loads(attrs["Policy"])["Statement"][0]["Principal"]["AWS"].startswith("AIDA")


def session_kms(cairn, sts, role_arn):
    """A KMS client for the session `s1` of `role_arn`."""
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")["Credentials"]
    return cairn.client_with(creds["AccessKeyId"], creds["SecretAccessKey"], "kms",
                             token=creds["SessionToken"])


def assert_recreated_role_denied(cairn, iam, sts, role, blob):
    """Deletes `grant-role` and makes it again: its new session `s1` may not decrypt."""
    role_arn, trust = role
    iam.delete_role(RoleName="grant-role")
    iam.create_role(RoleName="grant-role", AssumeRolePolicyDocument=trust)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        session_kms(cairn, sts, role_arn).decrypt(CiphertextBlob=blob)
    assert err(e)[0] == "AccessDeniedException"


def test_a_kms_grant_names_the_user_and_role_it_was_made_for(cairn):
    """Before (iampol3 #1), a grant named its grantee by ARN: a new user or role of a deleted
    one's name inherited its grants, and a grant could wait for a name nobody held yet."""
    iam, kms = cairn.client("iam"), cairn.client("kms")
    old_id, _ = new_user(cairn, iam, "grantghost")
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/grantghost"
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"payroll")["CiphertextBlob"]
    kms.create_grant(KeyId=key_id, GranteePrincipal=user_arn, RetiringPrincipal=user_arn,
                     Operations=["Decrypt"])
    [g] = kms.list_grants(KeyId=key_id)["Grants"]
    assert (g["GranteePrincipal"], g["RetiringPrincipal"]) == (user_arn, user_arn), g
    assert kms.list_grants(KeyId=key_id, GranteePrincipal=user_arn)["Grants"]

    _, key = recreate(cairn, iam, "grantghost")
    [g] = kms.list_grants(KeyId=key_id)["Grants"]
    assert g["GranteePrincipal"] == old_id, g
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client(cairn, key, "kms").decrypt(CiphertextBlob=blob)
    assert err(e)[0] == "AccessDeniedException"

    # A role of a deleted role's name inherits nothing either.
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                 "Action": "sts:AssumeRole"})
    iam.create_role(RoleName="grant-role", AssumeRolePolicyDocument=trust)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/grant-role"
    kms.create_grant(KeyId=key_id, GranteePrincipal=role_arn, Operations=["Decrypt"])
    _, assumer = new_user(cairn, iam, "grant-assumer")
    allow_all(iam, "grant-assumer")
    sts = client(cairn, assumer, "sts")
    session = session_kms(cairn, sts, role_arn)
    assert session.decrypt(CiphertextBlob=blob)["Plaintext"] == b"payroll"
    assert_recreated_role_denied(cairn, iam, sts, (role_arn, trust), blob)

    # A grant to a role session names that role's id and the session (recheck23a F1: it was
    # matched by its ARN, so a re-created role's session of the same name inherited it).
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/grant-role/s1"
    kms.create_grant(KeyId=key_id, GranteePrincipal=session_arn, Operations=["Decrypt"])
    shown = [g["GranteePrincipal"] for g in kms.list_grants(KeyId=key_id)["Grants"]]
    assert session_arn in shown, shown
    session = session_kms(cairn, sts, role_arn)
    assert session.decrypt(CiphertextBlob=blob)["Plaintext"] == b"payroll"
    assert_recreated_role_denied(cairn, iam, sts, (role_arn, trust), blob)

    # No grant for a user or role (or a role's session) that does not exist.
    for missing in (f"arn:aws:iam::{ACCOUNT}:user/not-yet", f"arn:aws:iam::{ACCOUNT}:role/not-yet",
                    f"arn:aws:sts::{ACCOUNT}:assumed-role/not-yet/s1"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            kms.create_grant(KeyId=key_id, GranteePrincipal=missing, Operations=["Decrypt"])
        assert err(e)[0] == "InvalidArnException"


def test_an_iam_deny_stops_a_retiring_principal(cairn):
    """Before (iampol3 #2), the retiring principal retired a grant whatever its policies
    said; the KMS developer guide names an IAM Deny on kms:RetireGrant as the way to stop it."""
    iam, kms = cairn.client("iam"), cairn.client("kms")
    _, key = new_user(cairn, iam, "retirer")
    retirer = f"arn:aws:iam::{ACCOUNT}:user/retirer"
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    first = kms.create_grant(KeyId=key_id, GranteePrincipal=retirer, RetiringPrincipal=retirer,
                             Operations=["Decrypt"])
    second = kms.create_grant(KeyId=key_id, GranteePrincipal=retirer, RetiringPrincipal=retirer,
                              Operations=["Encrypt"])
    user_kms = client(cairn, key, "kms")
    # No policy is needed to retire a grant one is the retiring principal of.
    user_kms.retire_grant(GrantToken=first["GrantToken"])
    iam.put_user_policy(UserName="retirer", PolicyName="deny-retire", PolicyDocument=doc(
        {"Effect": "Deny", "Action": "kms:RetireGrant", "Resource": "*"}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user_kms.retire_grant(GrantToken=second["GrantToken"])
    assert err(e)[0] == "AccessDeniedException"
    assert [g["GrantId"] for g in kms.list_grants(KeyId=key_id)["Grants"]] == [second["GrantId"]]


def test_groups_policies_and_instance_profiles_are_no_principals(cairn):
    """Before (iampol3 #3), a bucket policy's Deny naming a group was saved and matched no one:
    the group's members read on. AWS refuses it: a group is no principal."""
    iam, s3, kms = cairn.client("iam"), cairn.client("s3"), cairn.client("kms")
    iam.create_group(GroupName="contractors")
    s3.create_bucket(Bucket="payroll-groups")
    for arn in (f"arn:aws:iam::{ACCOUNT}:group/contractors",
                f"arn:aws:iam::{ACCOUNT}:policy/anything",
                f"arn:aws:iam::{ACCOUNT}:instance-profile/web",
                "arn:aws:iam::210987654321:group/theirs"):
        statement = {"Effect": "Deny", "Principal": {"AWS": arn}, "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::payroll-groups/*"}
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_bucket_policy(Bucket="payroll-groups", Policy=doc(statement))
        assert err(e)[0] == "MalformedPolicy", arn
        with pytest.raises(botocore.exceptions.ClientError) as e:
            iam.create_role(RoleName="group-trust", AssumeRolePolicyDocument=doc(
                {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"}))
        assert err(e)[0] == "MalformedPolicyDocument", arn
        with pytest.raises(botocore.exceptions.ClientError) as e:
            kms.create_key(Policy=doc({"Effect": "Allow", "Principal": {"AWS": arn},
                                       "Action": "kms:*", "Resource": "*"}))
        assert err(e)[0] == "MalformedPolicyDocumentException", arn


def test_a_topic_policy_must_name_principals_that_exist(cairn):
    """Before, a topic policy naming a group, or a user that does not exist, was saved and
    matched no one (a Deny in it protected nothing). SNS refuses it: "Invalid parameter:
    Policy Error: PrincipalNotFound"."""
    sns = cairn.client("sns")
    cairn.client("iam").create_group(GroupName="topic-readers")
    topic = sns.create_topic(Name="principals-checked")["TopicArn"]
    for arn in (f"arn:aws:iam::{ACCOUNT}:group/topic-readers",
                f"arn:aws:iam::{ACCOUNT}:user/nobody-by-this-name"):
        policy = doc({"Effect": "Deny", "Principal": {"AWS": arn}, "Action": "sns:Publish",
                      "Resource": topic})
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)
        assert err(e) == ("InvalidParameter", 400), arn
        assert e.value.response["Error"]["Message"] == "Invalid parameter: Policy Error: PrincipalNotFound"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sns.create_topic(Name="principals-checked-2", Attributes={"Policy": policy})
        assert err(e)[0] == "InvalidParameter", arn
    assert "principals-checked-2" not in str(sns.list_topics()["Topics"])
