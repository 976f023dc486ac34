"""boto3 against IAM/STS evaluation cases an outside tester found wrong: `aws:SourceIdentity` in
every request of a role session (and its chained sessions), transitive session tags inherited
through role chaining (and never overridden), the permissions-boundary AccessDenied wording,
AssumeRole refusals naming `sts:TagSession` / `sts:SetSourceIdentity`, `NotPrincipal` with
`Deny` (boundaries, sessions named only by their role) and GetSessionToken credentials
without MFA calling IAM."""

import json

import boto3
import botocore.exceptions
import pytest

ACCOUNT = "123456789012"
ALL_STS = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]


def client_as(cairn, service, creds):
    return boto3.client(service, endpoint_url=cairn.endpoint, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"))


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **kw):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **kw}


def refused(call, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def make_user(iam, name, *statements, boundary=None):
    kw = {"PermissionsBoundary": boundary} if boundary else {}
    iam.create_user(UserName=name, **kw)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(*statements))
    return iam.create_access_key(UserName=name)["AccessKey"]


@pytest.fixture(scope="module")
def chain(cairn):
    """User `chainer` and roles RoleA/RoleB: their policy denies DescribeTrails to
    `aws:PrincipalTag/project` blue and ListTrails to `aws:SourceIdentity` alice."""
    iam = cairn.client("iam")
    user = make_user(iam, "chainer", allow(ALL_STS))
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                 "Action": ALL_STS})
    perms = doc(allow(ALL_STS + ["cloudtrail:*"]),
                {"Effect": "Deny", "Action": "cloudtrail:DescribeTrails", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:PrincipalTag/project": "blue"}}},
                {"Effect": "Deny", "Action": "cloudtrail:ListTrails", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}}})
    for role in ["RoleA", "RoleB", "RoleC"]:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
        iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=perms)
    hop1 = client_as(cairn, "sts", user).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/RoleA", RoleSessionName="hop1",
        Tags=[{"Key": "project", "Value": "blue"}, {"Key": "local", "Value": "x"}],
        TransitiveTagKeys=["project"], SourceIdentity="alice")["Credentials"]
    return user, hop1


def test_source_identity_is_in_every_request_of_the_session(cairn, chain):
    _, hop1 = chain
    ct = client_as(cairn, "cloudtrail", hop1)
    code, message = refused(ct.list_trails)
    assert code == "AccessDeniedException"
    assert "cloudtrail:ListTrails" in message and "explicit deny" in message
    # A chained session keeps it (and a Deny on it in the next role's trust policy applies).
    hop2 = client_as(cairn, "sts", hop1).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/RoleB", RoleSessionName="hop2")["Credentials"]
    assert refused(client_as(cairn, "cloudtrail", hop2).list_trails)[0] == "AccessDeniedException"
    iam = cairn.client("iam")
    iam.create_role(RoleName="NoAlice", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": ALL_STS},
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}}}))
    code, message = refused(client_as(cairn, "sts", hop1).assume_role,
                            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/NoAlice", RoleSessionName="xx")
    assert code == "AccessDenied" and "sts:AssumeRole" in message
    # SimulatePrincipalPolicy decides with the context it is given.
    results = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/RoleA", ActionNames=["cloudtrail:ListTrails"],
        ContextEntries=[{"ContextKeyName": "aws:SourceIdentity", "ContextKeyValues": ["alice"],
                         "ContextKeyType": "string"}])["EvaluationResults"]
    assert results[0]["EvalDecision"] == "explicitDeny"


def test_transitive_tags_pass_through_role_chaining(cairn, chain):
    _, hop1 = chain
    assert refused(client_as(cairn, "cloudtrail", hop1).describe_trails)[0] == "AccessDeniedException"
    sts1 = client_as(cairn, "sts", hop1)
    hop2 = sts1.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/RoleB",
                            RoleSessionName="hop2tags")["Credentials"]
    assert refused(client_as(cairn, "cloudtrail", hop2).describe_trails)[0] == "AccessDeniedException"
    # Still transitive on the next hop.
    hop3 = client_as(cairn, "sts", hop2).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/RoleC", RoleSessionName="hop3")["Credentials"]
    assert refused(client_as(cairn, "cloudtrail", hop3).describe_trails)[0] == "AccessDeniedException"
    # A session tag with an inherited key is refused (case-insensitively).
    code, message = refused(sts1.assume_role, RoleArn=f"arn:aws:iam::{ACCOUNT}:role/RoleB",
                            RoleSessionName="override", Tags=[{"Key": "Project", "Value": "red"}])
    assert code == "InvalidParameterValue" and "Project" in message
    # The non-transitive tag did not pass on: a new one with its key is fine.
    sts1.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/RoleB", RoleSessionName="ok",
                     Tags=[{"Key": "local", "Value": "y"}])
    # The chained AssumeRole's record lists what it inherited.
    ct = cairn.client("cloudtrail")
    events = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])["Events"]]
    record = next(r for r in events
                  if (r.get("requestParameters") or {}).get("roleSessionName") == "hop2tags")
    assert record["requestParameters"]["incomingTransitiveTags"] == {"project": "blue"}
    first = next(r for r in events
                 if (r.get("requestParameters") or {}).get("roleSessionName") == "hop1")
    assert "incomingTransitiveTags" not in first["requestParameters"]


def test_chained_assume_role_with_inherited_tags_needs_tag_session(cairn, chain):
    _, hop1 = chain
    iam = cairn.client("iam")
    iam.create_role(RoleName="NoTagging", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"}))
    code, message = refused(client_as(cairn, "sts", hop1).assume_role,
                            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/NoTagging", RoleSessionName="xx")
    assert code == "AccessDenied"
    assert message == (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/RoleA/hop1 is not authorized to "
                       f"perform: sts:TagSession on resource: arn:aws:iam::{ACCOUNT}:role/NoTagging")


def test_missing_tag_session_or_set_source_identity_is_named(cairn, chain):
    user, _ = chain
    iam = cairn.client("iam")
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/Plain"
    iam.create_role(RoleName="Plain", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"}))
    sts = client_as(cairn, "sts", user)
    prefix = f"User: arn:aws:iam::{ACCOUNT}:user/chainer is not authorized to perform: "
    code, message = refused(sts.assume_role, RoleArn=role_arn, RoleSessionName="ss",
                            Tags=[{"Key": "a", "Value": "b"}])
    assert code == "AccessDenied"
    assert message.startswith(prefix + f"sts:TagSession on resource: {role_arn}")
    code, message = refused(sts.assume_role, RoleArn=role_arn, RoleSessionName="ss",
                            SourceIdentity="alice")
    assert message.startswith(prefix + f"sts:SetSourceIdentity on resource: {role_arn}")
    # The identity side: the trust allows everything, the caller's policy lacks TagSession.
    narrow = make_user(iam, "narrow", allow("sts:AssumeRole"))
    code, message = refused(client_as(cairn, "sts", narrow).assume_role,
                            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/RoleA", RoleSessionName="ss",
                            Tags=[{"Key": "a", "Value": "b"}])
    assert code == "AccessDenied"
    assert message.startswith(f"User: arn:aws:iam::{ACCOUNT}:user/narrow is not authorized to "
                              f"perform: sts:TagSession on resource: arn:aws:iam::{ACCOUNT}:role/RoleA")


def test_permissions_boundary_denials_name_the_boundary(cairn):
    iam = cairn.client("iam")
    only_s3 = iam.create_policy(PolicyName="OnlyS3List", PolicyDocument=doc(
        allow("s3:ListAllMyBuckets")))["Policy"]["Arn"]
    deny_ct = iam.create_policy(PolicyName="DenyTrail", PolicyDocument=doc(
        allow("*"), {"Effect": "Deny", "Action": "cloudtrail:*", "Resource": "*"}))["Policy"]["Arn"]
    for name, boundary, ending in [
            ("bob-implicit", only_s3,
             "because no permissions boundary allows the cloudtrail:DescribeTrails action"),
            ("bob-explicit", deny_ct, "with an explicit deny in a permissions boundary")]:
        key = make_user(iam, name, allow("cloudtrail:*"), boundary=boundary)
        code, message = refused(client_as(cairn, "cloudtrail", key).describe_trails)
        assert code == "AccessDeniedException"
        assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: "
                           f"cloudtrail:DescribeTrails {ending}")


def test_not_principal_deny(cairn):
    iam, s3 = cairn.client("iam"), cairn.client("s3")
    everything = iam.create_policy(PolicyName="Everything", PolicyDocument=doc(allow("*")))
    bounded = make_user(iam, "np-bounded", allow(["s3:*", "sts:AssumeRole"]),
                        boundary=everything["Policy"]["Arn"])
    plain = make_user(iam, "np-plain", allow(["s3:*", "sts:AssumeRole"]))
    iam.create_role(RoleName="np-role", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"}))
    iam.put_role_policy(RoleName="np-role", PolicyName="p", PolicyDocument=doc(allow("s3:*")))
    s3.create_bucket(Bucket="np-bucket")
    s3.put_object(Bucket="np-bucket", Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket="np-bucket", Policy=doc(
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::np-bucket/*",
         "NotPrincipal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:user/np-bounded",
                                  f"arn:aws:iam::{ACCOUNT}:user/np-plain",
                                  f"arn:aws:iam::{ACCOUNT}:role/np-role",
                                  f"arn:aws:sts::{ACCOUNT}:assumed-role/np-role/listed",
                                  f"arn:aws:iam::{ACCOUNT}:root"]}}))
    assert client_as(cairn, "s3", plain).get_object(Bucket="np-bucket", Key="k")["Body"].read() == b"x"
    # Listed, but with a permissions boundary: the Deny applies all the same.
    code, message = refused(client_as(cairn, "s3", bounded).get_object, Bucket="np-bucket", Key="k")
    assert code == "AccessDenied" and "explicit deny in a resource-based policy" in message
    sts = client_as(cairn, "sts", plain)
    listed = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/np-role",
                             RoleSessionName="listed")["Credentials"]
    other = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/np-role",
                            RoleSessionName="other")["Credentials"]
    assert client_as(cairn, "s3", listed).get_object(Bucket="np-bucket", Key="k")["Body"].read() == b"x"
    # Only the role is listed for this session: it is not excluded.
    assert refused(client_as(cairn, "s3", other).get_object,
                   Bucket="np-bucket", Key="k")[0] == "AccessDenied"


def test_session_token_credentials_without_mfa_cannot_call_iam(cairn):
    iam = cairn.client("iam")
    key = make_user(iam, "gst-user", allow(["iam:*", "sts:*"]))
    creds = client_as(cairn, "sts", key).get_session_token()["Credentials"]
    code, message = refused(client_as(cairn, "iam", creds).get_user)
    assert code == "InvalidClientTokenId"
    assert message.startswith("The security token included in the request is invalid")
    # GetCallerIdentity still answers, and the long-term key still calls IAM.
    assert client_as(cairn, "sts", creds).get_caller_identity()["Arn"].endswith(":user/gst-user")
    assert client_as(cairn, "iam", key).get_user()["User"]["UserName"] == "gst-user"
