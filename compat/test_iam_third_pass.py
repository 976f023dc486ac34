"""IAM, third outside pass (iamapi3): creating a user, role or policy with Tags needs the
entity's Tag action too, with the request tags as its conditions (an ABAC Deny on tagging was
bypassed by creating with the tag); and a Query list or map index outside 1 to 1,000, which
IAM acted on but the record left out, is refused before anything runs."""

import json

import botocore.exceptions
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def test_creating_with_tags_needs_the_tag_action(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="tagger")
    iam.put_user_policy(UserName="tagger", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:CreateUser", "iam:CreateRole", "iam:CreatePolicy",
                                           "iam:TagUser", "iam:TagRole"], "Resource": "*"},
            {"Effect": "Deny", "Action": ["iam:TagUser", "iam:TagRole", "iam:TagPolicy"],
             "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/team": "admin"}}}]}))
    key = iam.create_access_key(UserName="tagger")["AccessKey"]
    tagger = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "iam")
    admin = [{"Key": "team", "Value": "admin"}]
    for call, action in [
        (lambda: tagger.create_user(UserName="sneaky", Tags=admin), "iam:TagUser"),
        (lambda: tagger.create_role(RoleName="sneaky", AssumeRolePolicyDocument=TRUST, Tags=admin),
         "iam:TagRole"),
        # TagPolicy is not allowed at all: any tag on a new policy is refused.
        (lambda: tagger.create_policy(PolicyName="sneaky", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                     "Resource": "*"}]}),
            Tags=[{"Key": "team", "Value": "ops"}]), "iam:TagPolicy"),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "AccessDenied", e.value.response
        assert action in e.value.response["Error"]["Message"]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="sneaky")
    # Other tags, and no tags, pass.
    tagger.create_user(UserName="fine", Tags=[{"Key": "team", "Value": "ops"}])
    tagger.create_role(RoleName="fine", AssumeRolePolicyDocument=TRUST)
    assert iam.list_user_tags(UserName="fine")["Tags"] == [{"Key": "team", "Value": "ops"}]


def raw_iam(cairn, body):
    req = AWSRequest(method="POST", url=cairn.endpoint, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "iam", "us-east-1").add_auth(req)
    return requests.post(cairn.endpoint, data=req.body, headers=dict(req.headers))


def test_list_indexes_outside_1_to_1000_are_refused(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="indexed")
    for index in ("0", "1001", "999999999999", "01"):
        r = raw_iam(cairn, f"Action=TagUser&Version=2010-05-08&UserName=indexed"
                           f"&Tags.member.{index}.Key=hidden&Tags.member.{index}.Value=v")
        assert r.status_code == 400, (index, r.text)
        assert "<Code>MalformedQueryString</Code>" in r.text, r.text
    assert iam.list_user_tags(UserName="indexed")["Tags"] == []
    r = raw_iam(cairn, "Action=TagUser&Version=2010-05-08&UserName=indexed"
                       "&Tags.member.1.Key=shown&Tags.member.1.Value=v")
    assert r.status_code == 200, r.text
    [record] = [r for r in cairn.records("Management")
                if r["eventName"] == "TagUser" and r["requestParameters"]["userName"] == "indexed"]
    assert record["requestParameters"]["tags"] == [{"key": "shown", "value": "v"}]


def test_simulations_refuse_inputs_the_api_reference_rules_out(cairn):
    """iamapi3 #3: these were answered with a decision (mostly implicitDeny), so a tool asking
    "may X do this under that policy?" was told no when its question was invalid."""
    iam = cairn.client("iam")
    iam.create_role(RoleName="simrole", AssumeRolePolicyDocument=TRUST)
    pol = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    rp = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
        "Action": "sns:Publish", "Resource": "*"}]})
    role = "arn:aws:iam::123456789012:role/simrole"

    def refused(call, words):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "InvalidInput", e.value.response
        assert words in e.value.response["Error"]["Message"], e.value.response

    refused(lambda: iam.simulate_custom_policy(
        PolicyInputList=[pol], ActionNames=["sns:Publish"], ResourcePolicy=rp), "CallerArn")
    refused(lambda: iam.simulate_custom_policy(
        PolicyInputList=[pol], ActionNames=["sns:Publish"], ResourcePolicy=rp, CallerArn=role),
        "IAM user")
    refused(lambda: iam.simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["sns:Publish"], ResourcePolicy=rp), "CallerArn")
    refused(lambda: iam.simulate_custom_policy(PolicyInputList=[pol], ActionNames=["s3:*"]),
            "wildcards")
    for kind, values in [("numeric", ["abc"]), ("date", ["yesterday"]), ("ip", ["999.1.1.1"]),
                         ("boolean", ["maybe"]), ("boolean", ["true", "false"])]:
        refused(lambda: iam.simulate_custom_policy(
            PolicyInputList=[pol], ActionNames=["s3:ListBucket"], ContextEntries=[{
                "ContextKeyName": "s3:max-keys", "ContextKeyValues": values,
                "ContextKeyType": kind}]), "s3:max-keys")
    # The valid forms still answer.
    ok = iam.simulate_custom_policy(
        PolicyInputList=[pol], ActionNames=["s3:ListBucket"], ResourcePolicy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
                "Action": "s3:ListBucket", "Resource": "*"}]}),
        CallerArn="arn:aws:iam::123456789012:user/bob", ContextEntries=[
            {"ContextKeyName": "s3:max-keys", "ContextKeyValues": ["10"], "ContextKeyType": "numeric"},
            {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.0.0.0/8", "::1"],
             "ContextKeyType": "ipList"}])
    assert ok["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_update_access_key_has_one_enum_message(cairn):
    """iamapi3 #4: 'Expired' was refused naming [Active, Inactive] and 'inactive' naming
    [Active, Inactive, Expired]: one member had two value sets."""
    iam = cairn.client("iam")
    iam.create_user(UserName="keyed")
    key = iam.create_access_key(UserName="keyed")["AccessKey"]["AccessKeyId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.update_access_key(UserName="keyed", AccessKeyId=key, Status="inactive")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "[Active, Inactive, Expired]" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.update_access_key(UserName="keyed", AccessKeyId=key, Status="Expired")
    assert e.value.response["Error"]["Code"] == "InvalidInput"
    assert "enum value set" not in e.value.response["Error"]["Message"]
    iam.update_access_key(UserName="keyed", AccessKeyId=key, Status="Inactive")
    assert iam.list_access_keys(UserName="keyed")["AccessKeyMetadata"][0]["Status"] == "Inactive"


def test_a_simulation_computes_only_the_page_asked_for(cairn):
    """iamapi7 F2: 1,000 actions × 1,000 resources were all evaluated (22 s of a core and
    280 MB kept) for every page. Only the page is; pages chain in action-then-resource order."""
    iam = cairn.client("iam")
    actions = [f"s3:GetObject{i}" for i in range(1000)]
    resources = [f"arn:aws:s3:::b/{i}" for i in range(1000)]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject1", "Resource": "*"}]})
    first = iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=actions,
                                       ResourceArns=resources, MaxItems=700)
    assert first["IsTruncated"] and len(first["EvaluationResults"]) == 700
    assert first["EvaluationResults"][0]["EvalResourceName"] == resources[0]
    second = iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=actions,
                                        ResourceArns=resources, MaxItems=700, Marker=first["Marker"])
    got = second["EvaluationResults"]
    assert len(got) == 700 and second["IsTruncated"]
    # Positions 700..1399: action 0's last 300 resources, then action 1's first 400.
    assert (got[0]["EvalActionName"], got[0]["EvalResourceName"]) == (actions[0], resources[700])
    assert (got[300]["EvalActionName"], got[300]["EvalResourceName"]) == (actions[1], resources[0])
    assert got[300]["EvalDecision"] == "allowed" and got[0]["EvalDecision"] == "implicitDeny"


def test_a_simulation_takes_one_permissions_boundary(cairn):
    """iamapi7 F3: a second boundary was silently dropped (so a Deny in it did nothing); the
    API reference allows only one."""
    iam = cairn.client("iam")
    allow = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.simulate_custom_policy(PolicyInputList=[allow], ActionNames=["s3:GetObject"],
                                   PermissionsBoundaryPolicyInputList=[allow, deny])
    assert e.value.response["Error"]["Code"] == "InvalidInput"
    one = iam.simulate_custom_policy(PolicyInputList=[allow], ActionNames=["s3:GetObject"],
                                     PermissionsBoundaryPolicyInputList=[deny])
    assert one["EvaluationResults"][0]["EvalDecision"] == "explicitDeny"


def test_a_simulation_of_another_accounts_resource_needs_both_sides(cairn):
    """iamapi7 F1: `ResourceOwner` was read nowhere, so a resource of another account was
    allowed on the caller's identity policy alone. Across accounts "the request is allowed only
    if both evaluations return true" (API reference, EvaluationResult), and EvalDecisionDetails
    shows each side's decision."""
    iam = cairn.client("iam")
    me = cairn.client("sts").get_caller_identity()["Account"]
    caller = f"arn:aws:iam::{me}:user/u2"
    identity = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": caller}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::b/*"}]})

    def simulate(action, owner=None, resource="arn:aws:s3:::b/k"):
        extra = {"ResourceOwner": owner} if owner else {}
        return iam.simulate_custom_policy(
            PolicyInputList=[identity], ActionNames=[action], ResourceArns=[resource],
            ResourcePolicy=bucket_policy, CallerArn=caller, **extra)["EvaluationResults"][0]

    other = "arn:aws:iam::111111111111:root"
    got = simulate("s3:GetObject", other)
    assert got["EvalDecision"] == "implicitDeny"
    assert got["EvalDecisionDetails"] == {"IAM Policy": "allowed", "resource": "implicitDeny"}
    put = simulate("s3:PutObject", other)
    assert put["EvalDecision"] == "allowed"
    assert put["EvalDecisionDetails"] == {"IAM Policy": "allowed", "resource": "allowed"}
    # The caller's own account: the identity policy alone allows, and the details are empty.
    for owner in (None, f"arn:aws:iam::{me}:root"):
        same = simulate("s3:GetObject", owner)
        assert (same["EvalDecision"], same["EvalDecisionDetails"]) == ("allowed", {})
    # An ARN that names its account owns the resource whatever ResourceOwner says.
    queue = simulate("sqs:SendMessage", None, "arn:aws:sqs:us-east-1:111111111111:q")
    assert queue["EvalDecision"] == "implicitDeny"
    # All resources in one account: no details at all.
    star = iam.simulate_custom_policy(PolicyInputList=[identity], ActionNames=["s3:GetObject"])
    assert "EvalDecisionDetails" not in star["EvaluationResults"][0]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        simulate("s3:GetObject", "garbage-owner-value")
    assert e.value.response["Error"]["Code"] == "InvalidInput"
