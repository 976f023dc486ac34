"""One table of policy-evaluation cases, each asked twice: of SimulateCustomPolicy, and of a
real call made by a user who holds exactly that policy. Both answers must agree, and must be the
expected one (issue 8: the evaluator that enforces is the one that simulates)."""

import json

import botocore.exceptions
import pytest

ACCOUNT = "123456789012"
USER = "table-user"
TRAIL = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/tr-a"
OTHER_TRAIL = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/other"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", condition=None, effect="Allow", key="Action", rkey="Resource"):
    st = {"Effect": effect, key: action, rkey: resource}
    if condition:
        st["Condition"] = condition
    return st


# (case, identity policy, call, expected decision). Calls name an action, its resource, and
# how to make it for real.
CASES = [
    ("allow-star", doc(allow("cloudtrail:DescribeTrails")), "describe", "allowed"),
    ("nothing-applies", doc(allow("s3:GetObject")), "describe", "implicitDeny"),
    ("explicit-deny-wins", doc(allow("cloudtrail:*"), allow("cloudtrail:DescribeTrails", effect="Deny")),
     "describe", "explicitDeny"),
    ("notaction-allows-others", doc(allow("iam:*", key="NotAction")), "describe", "allowed"),
    ("notaction-excludes", doc(allow("cloudtrail:*", key="NotAction")), "describe", "implicitDeny"),
    ("action-case-insensitive", doc(allow("CloudTrail:describe*")), "describe", "allowed"),
    ("action-question-mark", doc(allow("cloudtrail:GetTrai?")), "get-a", "allowed"),
    ("resource-glob-matches", doc(allow("cloudtrail:GetTrail", f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/tr-*")),
     "get-a", "allowed"),
    ("resource-glob-misses", doc(allow("cloudtrail:GetTrail", f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/tr-*")),
     "get-other", "implicitDeny"),
    ("notresource", doc(allow("cloudtrail:GetTrail", [OTHER_TRAIL], rkey="NotResource")), "get-a", "allowed"),
    ("notresource-excludes", doc(allow("cloudtrail:GetTrail", [TRAIL], rkey="NotResource")), "get-a",
     "implicitDeny"),
    ("ip-in-range", doc(allow("cloudtrail:DescribeTrails", condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})),
     "describe", "allowed"),
    ("ip-out-of-range", doc(allow("cloudtrail:DescribeTrails", condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
     "describe", "implicitDeny"),
    ("not-ip-deny", doc(allow("cloudtrail:*"), allow("cloudtrail:*", effect="Deny",
                                                      condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
     "describe", "explicitDeny"),
    ("string-equals-region", doc(allow("cloudtrail:*", condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}})),
     "describe", "allowed"),
    ("string-equals-other-region", doc(allow("cloudtrail:*", condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})),
     "describe", "implicitDeny"),
    ("string-not-equals", doc(allow("cloudtrail:*", condition={"StringNotEquals": {"aws:username": "someone-else"}})),
     "describe", "allowed"),
    ("string-equals-ignore-case", doc(allow("cloudtrail:*", condition={"StringEqualsIgnoreCase": {"aws:username": USER.upper()}})),
     "describe", "allowed"),
    ("string-like-principal", doc(allow("cloudtrail:*", condition={"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/table-*"}})),
     "describe", "allowed"),
    ("arn-like", doc(allow("cloudtrail:*", condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/*"}})),
     "describe", "allowed"),
    ("arn-not-like", doc(allow("cloudtrail:*", condition={"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/*"}})),
     "describe", "implicitDeny"),
    ("bool-secure-transport", doc(allow("cloudtrail:*", condition={"Bool": {"aws:SecureTransport": "true"}})),
     "describe", "implicitDeny"),
    ("bool-ifexists-mfa-deny", doc(allow("cloudtrail:*"), allow("cloudtrail:*", effect="Deny",
                                                                 condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})),
     "describe", "explicitDeny"),
    ("bool-mfa-absent-key", doc(allow("cloudtrail:*"), allow("cloudtrail:*", effect="Deny",
                                                              condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})),
     "describe", "allowed"),
    ("null-token", doc(allow("cloudtrail:*", condition={"Null": {"aws:TokenIssueTime": "true"}})), "describe", "allowed"),
    ("date-after", doc(allow("cloudtrail:*", condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})),
     "describe", "allowed"),
    ("date-before", doc(allow("cloudtrail:*", condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})),
     "describe", "implicitDeny"),
    ("numeric-epoch", doc(allow("cloudtrail:*", condition={"NumericGreaterThan": {"aws:EpochTime": "1600000000"}})),
     "describe", "allowed"),
    ("variable-resource", doc(allow("s3:GetObject", "arn:aws:s3:::table-bkt/${aws:username}/*")), "get-own-object",
     "allowed"),
    ("variable-resource-other", doc(allow("s3:GetObject", "arn:aws:s3:::table-bkt/${aws:username}/*")),
     "get-other-object", "implicitDeny"),
    ("s3-prefix-condition", doc(allow("s3:ListBucket", "arn:aws:s3:::table-bkt",
                                      {"StringLike": {"s3:prefix": ["${aws:username}/*"]}})), "list-own-prefix", "allowed"),
    ("s3-prefix-condition-other", doc(allow("s3:ListBucket", "arn:aws:s3:::table-bkt",
                                            {"StringLike": {"s3:prefix": ["${aws:username}/*"]}})), "list-other-prefix",
     "implicitDeny"),
    ("forallvalues-tag-keys", doc(allow("cloudtrail:AddTags", "*", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}})),
     "tag-team", "allowed"),
    ("forallvalues-tag-keys-extra", doc(allow("cloudtrail:AddTags", "*", {"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}})),
     "tag-team", "implicitDeny"),
    ("foranyvalue-request-tag", doc(allow("cloudtrail:AddTags", "*", {"StringEquals": {"aws:RequestTag/team": "audit"}})),
     "tag-team", "allowed"),
]

# What each call asks for, the context a real call carries, and how to make it.
CALLS = {
    "describe": ("cloudtrail:DescribeTrails", "*", {}),
    "get-a": ("cloudtrail:GetTrail", TRAIL, {}),
    "get-other": ("cloudtrail:GetTrail", OTHER_TRAIL, {}),
    "get-own-object": ("s3:GetObject", f"arn:aws:s3:::table-bkt/{USER}/f", {}),
    "get-other-object": ("s3:GetObject", "arn:aws:s3:::table-bkt/someone/f", {}),
    "list-own-prefix": ("s3:ListBucket", "arn:aws:s3:::table-bkt", {"s3:prefix": [f"{USER}/x"], "s3:max-keys": ["1000"]}),
    "list-other-prefix": ("s3:ListBucket", "arn:aws:s3:::table-bkt", {"s3:prefix": ["someone/x"], "s3:max-keys": ["1000"]}),
    "tag-team": ("cloudtrail:AddTags", TRAIL, {"aws:TagKeys": ["team"], "aws:RequestTag/team": ["audit"]}),
}


def real_call(name, ct, s3):
    if name == "describe":
        ct.describe_trails()
    elif name == "get-a":
        ct.get_trail(Name="tr-a")
    elif name == "get-other":
        ct.get_trail(Name="other")
    elif name == "get-own-object":
        s3.get_object(Bucket="table-bkt", Key=f"{USER}/f")
    elif name == "get-other-object":
        s3.get_object(Bucket="table-bkt", Key="someone/f")
    elif name == "list-own-prefix":
        s3.list_objects_v2(Bucket="table-bkt", Prefix=f"{USER}/x")
    elif name == "list-other-prefix":
        s3.list_objects_v2(Bucket="table-bkt", Prefix="someone/x")
    elif name == "tag-team":
        ct.add_tags(ResourceId=TRAIL, TagsList=[{"Key": "team", "Value": "audit"}])
    else:
        raise AssertionError(name)


@pytest.fixture(scope="module")
def setup(cairn):
    iam, root_ct, root_s3 = cairn.client("iam"), cairn.client("cloudtrail"), cairn.client("s3")
    from conftest import cloudtrail_policy
    root_s3.create_bucket(Bucket="table-trails")
    root_s3.put_bucket_policy(Bucket="table-trails", Policy=cloudtrail_policy("table-trails"))
    for name in ("tr-a", "other"):
        root_ct.create_trail(Name=name, S3BucketName="table-trails")
    root_s3.create_bucket(Bucket="table-bkt")
    for key in (f"{USER}/f", "someone/f"):
        root_s3.put_object(Bucket="table-bkt", Key=key, Body=b"x")
    iam.create_user(UserName=USER)
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    ct = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudtrail")
    s3 = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "s3")
    user_agent = ct.meta.config.user_agent
    return iam, ct, s3, user_agent


def simulate(iam, policy, action, resource, extra):
    entries = [
        {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["127.0.0.1"], "ContextKeyType": "ip"},
        {"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": ["us-east-1"], "ContextKeyType": "string"},
        {"ContextKeyName": "aws:username", "ContextKeyValues": [USER], "ContextKeyType": "string"},
        {"ContextKeyName": "aws:PrincipalArn", "ContextKeyValues": [f"arn:aws:iam::{ACCOUNT}:user/{USER}"],
         "ContextKeyType": "string"},
        {"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": ["false"], "ContextKeyType": "boolean"},
        {"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": ["2026-11-30T00:00:00Z"], "ContextKeyType": "date"},
        {"ContextKeyName": "aws:EpochTime", "ContextKeyValues": ["1796000000"], "ContextKeyType": "numeric"},
    ]
    for k, values in extra.items():
        entries.append({"ContextKeyName": k, "ContextKeyValues": values,
                        "ContextKeyType": "stringList" if len(values) > 1 or k == "aws:TagKeys" else "string"})
    result = iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=[action],
                                        ResourceArns=[resource], ContextEntries=entries)
    return result["EvaluationResults"][0]["EvalDecision"]


@pytest.mark.parametrize("case,policy,call,expected", CASES, ids=[c[0] for c in CASES])
def test_simulation_and_enforcement_agree(setup, case, policy, call, expected):
    iam, ct, s3, _ = setup
    action, resource, extra = CALLS[call]
    simulated = simulate(iam, policy, action, resource, extra)
    iam.put_user_policy(UserName=USER, PolicyName="case", PolicyDocument=policy)
    try:
        real_call(call, ct, s3)
        enforced = "allowed"
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
        assert code in ("AccessDenied", "AccessDeniedException"), (case, e.response["Error"])
        message = e.response["Error"]["Message"]
        enforced = "explicitDeny" if "explicit deny" in message else "implicitDeny"
    assert (simulated, enforced) == (expected, expected), case


def test_resource_policy_cross_cases(cairn, setup):
    """A bucket policy naming the user allows without any identity policy; a bucket Deny beats an
    identity Allow; SimulateCustomPolicy with the same ResourcePolicy agrees."""
    iam, _, s3, _ = setup
    root_s3 = cairn.client("s3")
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{USER}"
    iam.delete_user_policy(UserName=USER, PolicyName="case")
    bucket_allow = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::table-bkt/*"}]})
    root_s3.put_bucket_policy(Bucket="table-bkt", Policy=bucket_allow)
    assert s3.get_object(Bucket="table-bkt", Key="someone/f")["Body"].read() == b"x"
    sim = iam.simulate_custom_policy(PolicyInputList=[doc(allow("sns:ListTopics"))], ActionNames=["s3:GetObject"],
                                     ResourceArns=["arn:aws:s3:::table-bkt/someone/f"],
                                     ResourcePolicy=bucket_allow, CallerArn=user_arn)
    assert sim["EvaluationResults"][0]["EvalDecision"] == "allowed"
    bucket_deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": {"AWS": user_arn}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::table-bkt/*"}]})
    root_s3.put_bucket_policy(Bucket="table-bkt", Policy=bucket_deny)
    iam.put_user_policy(UserName=USER, PolicyName="case", PolicyDocument=doc(allow("s3:*")))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="table-bkt", Key="someone/f")
    assert "explicit deny in a resource-based policy" in e.value.response["Error"]["Message"]
    sim = iam.simulate_custom_policy(PolicyInputList=[doc(allow("s3:*"))], ActionNames=["s3:GetObject"],
                                     ResourceArns=["arn:aws:s3:::table-bkt/someone/f"],
                                     ResourcePolicy=bucket_deny, CallerArn=user_arn)
    assert sim["EvaluationResults"][0]["EvalDecision"] == "explicitDeny"
    root_s3.delete_bucket_policy(Bucket="table-bkt")
