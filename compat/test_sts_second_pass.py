"""STS and IAM found by a second outside pass (each failed before its fix):
- a chained AssumeRole's trust condition on `sts:SourceIdentity` did not see the source
  identity the calling session passes on, though the core check counted it;
- AssumeRole took `ProvidedContexts` with a made-up assertion and issued credentials;
- GetFederationToken, and IAM's CreateServiceLinkedRole, CreateInstanceProfile (its path),
  CreateOpenIDConnectProvider and CreateVirtualMFADevice, which Cairn does not carry out,
  were authorized on `*`, so a Deny scoped to their resources was skipped and the attempt
  recorded as InvalidAction instead of AccessDenied;
- a user named by a role's trust policy assumed it although the user's permissions boundary
  does not allow sts:AssumeRole (sts6)."""

import json

import botocore.exceptions
import pytest

from conftest import user_with as user

ACCOUNT = "123456789012"


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def role(cairn, name, principal, condition=None):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal},
                 "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"]}
    if condition:
        statement["Condition"] = condition
    cairn.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]}))
    cairn.client("iam").put_role_policy(RoleName=name, PolicyName="assume", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def test_a_chained_session_passes_its_source_identity_to_the_trust_condition(cairn):
    sts = user(cairn, "si-user", [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}])("sts")
    first = role(cairn, "si-first", f"arn:aws:iam::{ACCOUNT}:user/si-user")
    second = role(cairn, "si-second", first, {"StringEquals": {"sts:SourceIdentity": "alice-si"}})
    creds = sts.assume_role(RoleArn=first, RoleSessionName="h1", SourceIdentity="alice-si")["Credentials"]
    session = cairn.client_with(creds["AccessKeyId"], creds["SecretAccessKey"], "sts", token=creds["SessionToken"])
    chained = session.assume_role(RoleArn=second, RoleSessionName="h2")
    assert chained["SourceIdentity"] == "alice-si"


def test_provided_contexts_are_refused(cairn):
    sts = user(cairn, "ctx-user", [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}])("sts")
    target = role(cairn, "ctx-role", f"arn:aws:iam::{ACCOUNT}:user/ctx-user")
    cairn.client("iam").update_assume_role_policy(RoleName="ctx-role", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetContext"],
                                                 "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/ctx-user"}}]}))
    contexts = [{"ProviderArn": "arn:aws:iam::aws:contextProvider/IdentityCenter",
                 "ContextAssertion": "not-a-signed-assertion"}]
    got = code(lambda: sts.assume_role(RoleArn=target, RoleSessionName="pc", ProvidedContexts=contexts))
    assert got[0] == "InvalidParameterValue", got
    assert sts.assume_role(RoleArn=target, RoleSessionName="plain")["Credentials"]


def test_unserved_operations_are_authorized_on_their_resources(cairn):
    deny = {"Effect": "Deny", "Action": ["iam:*", "sts:*"], "Resource": [
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/*", f"arn:aws:iam::{ACCOUNT}:instance-profile/p/*",
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/*", f"arn:aws:iam::{ACCOUNT}:mfa/*"]}
    allow = {"Effect": "Allow", "Action": ["iam:*", "sts:*"], "Resource": "*"}
    client = user(cairn, "scoped-deny", [allow, deny])
    iam = client("iam")
    for call in (lambda: iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com"),
                 lambda: iam.create_instance_profile(InstanceProfileName="ipx", Path="/p/"),
                 lambda: iam.create_open_id_connect_provider(Url="https://example.com", ThumbprintList=["a" * 40]),
                 lambda: iam.create_virtual_mfa_device(VirtualMFADeviceName="dev")):
        got = code(call)
        assert got[0] == "AccessDenied", got
    # Outside the denied resources they are authorized, then not carried out.
    assert code(lambda: iam.create_instance_profile(InstanceProfileName="ipx", Path="/q/"))[0] == "InvalidAction"
    scoped = user(cairn, "fed-scoped", [{"Effect": "Allow", "Action": "sts:GetFederationToken",
                                         "Resource": f"arn:aws:sts::{ACCOUNT}:federated-user/fed1"}])
    assert code(lambda: scoped("sts").get_federation_token(Name="fed1"))[0] == "InvalidAction"
    denied = code(lambda: scoped("sts").get_federation_token(Name="fed2"))
    assert denied[0] == "AccessDenied" and "federated-user/fed2" in denied[1], denied


def test_a_bounded_user_named_by_a_trust_policy_needs_its_boundary(cairn):
    """IAM user guide, "Update a role trust policy": "If a permissions boundary is set for
    the user, then it must allow the sts:AssumeRole action." A user bounded to S3 reads
    assumed an administrator role whose trust policy named it."""
    clients = user(cairn, "bounded", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    iam = cairn.client("iam")
    iam.put_user_permissions_boundary(
        UserName="bounded", PermissionsBoundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.create_role(RoleName="bounded-ops", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bounded"}}]}))
    iam.attach_role_policy(RoleName="bounded-ops", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    sts = clients("sts")
    got = code(lambda: sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/bounded-ops", RoleSessionName="esc"))
    assert got[0] == "AccessDenied", got
    assert got[1] == (f"User: arn:aws:iam::{ACCOUNT}:user/bounded is not authorized to perform: "
                      f"sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/bounded-ops"), got
    # With a boundary that allows it, the trust policy alone lets the user in.
    iam.put_user_permissions_boundary(
        UserName="bounded", PermissionsBoundary="arn:aws:iam::aws:policy/AdministratorAccess")
    sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/bounded-ops", RoleSessionName="ok")
