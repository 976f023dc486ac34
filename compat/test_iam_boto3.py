"""boto3 driving IAM: customer and AWS managed policies with versions, attachments, inline
policies, roles and trust policies, paginators (Marker/IsTruncated/MaxItems), URL-encoded
documents decoded by botocore, GetAccountAuthorizationDetails, SimulateCustomPolicy and
SimulatePrincipalPolicy, and how IAM calls are recorded."""

import json
import re

import pytest

ACCOUNT = "123456789012"
READ_TRAILS = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "cloudtrail:Describe*", "Resource": "*"}]}


def trust(principal):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_managed_policy_versions_and_attachments(cairn):
    iam = cairn.client("iam")
    # Whitespace and key order are kept exactly as submitted.
    text = json.dumps(READ_TRAILS, indent=2)
    policy = iam.create_policy(PolicyName="TrailReaders", PolicyDocument=text,
                               Description="read trails")["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/TrailReaders"
    assert policy["DefaultVersionId"] == "v1" and policy["PolicyId"].startswith("ANPA")
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as e:
        iam.create_policy(PolicyName="trailreaders", PolicyDocument=text)
    assert "A policy called trailreaders already exists. Duplicate names are not allowed." == error_code(e)[1]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=True)
    with pytest.raises(iam.exceptions.LimitExceededException):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=text)
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert got["Document"] == READ_TRAILS  # URL-encoded on the wire, decoded by botocore
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_policy_version(PolicyArn=arn, VersionId="v5")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"

    iam.create_user(UserName="boto-bob")
    iam.attach_user_policy(UserName="boto-bob", PolicyArn=arn)
    iam.attach_user_policy(UserName="boto-bob", PolicyArn=arn)  # a no-op
    iam.attach_user_policy(UserName="boto-bob", PolicyArn="arn:aws:iam::aws:policy/AWSCloudTrail_FullAccess")
    attached = iam.list_attached_user_policies(UserName="boto-bob")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["TrailReaders", "AWSCloudTrail_FullAccess"]
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.attach_user_policy(UserName="boto-bob", PolicyArn="arn:aws:iam::aws:policy/AWSCloudTrailFullAccess")
    assert "does not exist or is not attachable" in error_code(e)[1]
    with pytest.raises(iam.exceptions.DeleteConflictException) as e:
        iam.delete_policy(PolicyArn=arn)
    assert error_code(e)[1] == "Cannot delete a policy attached to entities."
    aws = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AWSCloudTrail_FullAccess")["Policy"]
    assert aws["DefaultVersionId"] == "v3" and aws["AttachmentCount"] == 1
    doc = iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess",
                                 VersionId="v1")["PolicyVersion"]["Document"]
    assert doc["Statement"][0]["Action"] == ["cloudtrail:Get*", "cloudtrail:Describe*",
                                             "cloudtrail:List*", "cloudtrail:LookupEvents"]
    local = iam.list_policies(Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local] == ["TrailReaders"]
    only = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    assert [p["PolicyName"] for p in only] == ["AWSCloudTrail_FullAccess"]
    every_aws = [p["PolicyName"] for page in iam.get_paginator("list_policies").paginate(
        Scope="AWS", PaginationConfig={"PageSize": 4}) for p in page["Policies"]]
    assert "AdministratorAccess" in every_aws and "AWSCloudTrailFullAccess" not in every_aws
    iam.detach_user_policy(UserName="boto-bob", PolicyArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.detach_user_policy(UserName="boto-bob", PolicyArn=arn)
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_policy(PolicyArn=arn)  # more than one version left
    for v in ["v1", "v3", "v4", "v5"]:
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.get_policy(PolicyArn=arn)
    assert error_code(e)[1] == f"Policy {arn} was not found."


def test_roles_and_trust_policies(cairn):
    iam = cairn.client("iam")
    role = iam.create_role(RoleName="CloudTrail_CWLogs", Path="/service/",
                           AssumeRolePolicyDocument=trust({"Service": "cloudtrail.amazonaws.com"}),
                           Description="logs", MaxSessionDuration=7200,
                           Tags=[{"Key": "k", "Value": "v"}])["Role"]
    assert role["RoleId"].startswith("AROA") and role["MaxSessionDuration"] == 7200
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/service/CloudTrail_CWLogs"
    # CreateRole names the default duration only when asked for it, as AWS's answers and
    # records do; GetRole always does.
    plain = iam.create_role(RoleName="plain-duration", AssumeRolePolicyDocument=trust("*"))["Role"]
    assert "MaxSessionDuration" not in plain
    assert iam.get_role(RoleName="plain-duration")["Role"]["MaxSessionDuration"] == 3600
    [made] = [json.loads(e["CloudTrailEvent"]) for e in cairn.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "plain-duration"}])["Events"]
        if e["EventName"] == "CreateRole"]
    assert "maxSessionDuration" not in made["responseElements"]["role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName="cloudtrail_cwlogs", AssumeRolePolicyDocument=trust("*"))
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as e:
        iam.create_role(RoleName="bad", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                    "Action": "sts:AssumeRole", "Resource": "*"}]}))
    assert error_code(e)[1] == "Has prohibited field Resource."
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as e:
        iam.create_role(RoleName="ghost", AssumeRolePolicyDocument=trust(
            {"AWS": f"arn:aws:iam::{ACCOUNT}:user/ghost"}))
    assert error_code(e)[1] == f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCOUNT}:user/ghost"'
    iam.update_role(RoleName="CloudTrail_CWLogs", Description="changed", MaxSessionDuration=3600)
    iam.update_assume_role_policy(RoleName="CloudTrail_CWLogs", PolicyDocument=trust({"AWS": ACCOUNT}))
    got = iam.get_role(RoleName="CloudTrail_CWLogs")["Role"]
    assert got["Description"] == "changed" and got["MaxSessionDuration"] == 3600
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": ACCOUNT}
    assert got["Tags"] == [{"Key": "k", "Value": "v"}]
    iam.put_role_policy(RoleName="CloudTrail_CWLogs", PolicyName="logs", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream"],
                                                 "Resource": "*"}]}))
    assert iam.get_role_policy(RoleName="CloudTrail_CWLogs", PolicyName="logs")["PolicyDocument"]["Statement"][0][
        "Action"] == ["logs:CreateLogStream"]
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.get_role_policy(RoleName="CloudTrail_CWLogs", PolicyName="none")
    assert error_code(e)[1] == "The role policy with name none cannot be found."
    with pytest.raises(iam.exceptions.DeleteConflictException) as e:
        iam.delete_role(RoleName="CloudTrail_CWLogs")
    assert error_code(e)[1] == "Cannot delete entity, must delete policies first."
    iam.delete_role_policy(RoleName="CloudTrail_CWLogs", PolicyName="logs")
    iam.tag_role(RoleName="CloudTrail_CWLogs", Tags=[{"Key": "K", "Value": "w"}])
    assert iam.list_role_tags(RoleName="CloudTrail_CWLogs")["Tags"] == [{"Key": "K", "Value": "w"}]
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.tag_role(RoleName="CloudTrail_CWLogs", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    roles = [r["RoleName"] for r in iam.list_roles(PathPrefix="/service/")["Roles"]]
    assert roles == ["CloudTrail_CWLogs"]
    iam.delete_role(RoleName="CloudTrail_CWLogs")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.get_role(RoleName="CloudTrail_CWLogs")
    assert error_code(e)[1] == "The role with name CloudTrail_CWLogs cannot be found."


def test_paginators_and_authorization_details(cairn):
    iam = cairn.client("iam")
    for i in range(5):
        iam.create_user(UserName=f"details-{i}", Path="/details/")
    iam.create_group(GroupName="details-group", Path="/details/")
    iam.add_user_to_group(GroupName="details-group", UserName="details-0")
    iam.put_group_policy(GroupName="details-group", PolicyName="read",
                         PolicyDocument=json.dumps(READ_TRAILS))
    iam.attach_group_policy(GroupName="details-group", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    first = iam.list_users(PathPrefix="/details/", MaxItems=2)
    assert first["IsTruncated"] and first["Marker"] and len(first["Users"]) == 2
    names = [u["UserName"] for page in iam.get_paginator("list_users").paginate(
        PathPrefix="/details/", PaginationConfig={"PageSize": 2}) for u in page["Users"]]
    assert names == [f"details-{i}" for i in range(5)]
    pages = list(iam.get_paginator("get_account_authorization_details").paginate(
        Filter=["User", "Group", "AWSManagedPolicy"], PaginationConfig={"PageSize": 3}))
    assert len(pages) > 1
    users = {u["UserName"]: u for p in pages for u in p.get("UserDetailList", [])}
    assert users["details-0"]["GroupList"] == ["details-group"]
    groups = {g["GroupName"]: g for p in pages for g in p.get("GroupDetailList", [])}
    assert groups["details-group"]["GroupPolicyList"][0]["PolicyDocument"] == READ_TRAILS
    assert groups["details-group"]["AttachedManagedPolicies"][0]["PolicyName"] == "ReadOnlyAccess"
    # AWS managed policies appear while attached to something (and only then).
    policies = {p["PolicyName"]: p for page in pages for p in page.get("Policies", [])}
    assert "ReadOnlyAccess" in policies and "AdministratorAccess" not in policies
    version = policies["ReadOnlyAccess"]["PolicyVersionList"][0]
    assert version["IsDefaultVersion"] and isinstance(version["Document"], dict)


def test_simulate_custom_and_principal_policy(cairn):
    iam = cairn.client("iam")
    custom = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "*",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}]})],
        ActionNames=["cloudtrail:DescribeTrails", "cloudtrail:StopLogging", "s3:GetObject"],
        ContextEntries=[{"ContextKeyName": "aws:MultiFactorAuthPresent", "ContextKeyValues": ["false"],
                         "ContextKeyType": "boolean"}])["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in custom}
    assert decisions == {"cloudtrail:DescribeTrails": "allowed", "cloudtrail:StopLogging": "explicitDeny",
                         "s3:GetObject": "implicitDeny"}
    deny = next(r for r in custom if r["EvalActionName"] == "cloudtrail:StopLogging")
    assert deny["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    assert deny["MatchedStatements"][0]["StartPosition"]["Line"] == 1
    missing = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})],
        ActionNames=["s3:GetObject"])["EvaluationResults"][0]
    assert missing["EvalDecision"] == "implicitDeny"
    assert missing["MissingContextValues"] == ["aws:SourceIp"]
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.simulate_custom_policy(PolicyInputList=["{"], ActionNames=["s3:GetObject"])

    iam.create_user(UserName="sim-alice")
    iam.attach_user_policy(UserName="sim-alice", PolicyArn="arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess")
    results = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/sim-alice",
        ActionNames=["cloudtrail:GetTrailStatus", "cloudtrail:StopLogging"],
        ResourceArns=[f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/prod"])["EvaluationResults"]
    by_action = {r["EvalActionName"]: r for r in results}
    assert by_action["cloudtrail:GetTrailStatus"]["EvalDecision"] == "allowed"
    # As real SimulatePrincipalPolicy output names them (not the model's enum): an "IAM
    # Policy", a managed one by its name, an inline one as <kind>_<holder>_<policy>.
    matched = by_action["cloudtrail:GetTrailStatus"]["MatchedStatements"][0]
    assert (matched["SourcePolicyType"], matched["SourcePolicyId"]) == (
        "IAM Policy", "AWSCloudTrail_ReadOnlyAccess")
    iam.put_user_policy(UserName="sim-alice", PolicyName="stop", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudtrail:StopLogging", "Resource": "*"}]}))
    stop = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/sim-alice",
        ActionNames=["cloudtrail:StopLogging"])["EvaluationResults"][0]
    assert [(m["SourcePolicyType"], m["SourcePolicyId"]) for m in stop["MatchedStatements"]] == [
        ("IAM Policy", "user_sim-alice_stop")]
    # A simulation of every resource (*) has no EvalDecisionDetails.
    assert "EvalDecisionDetails" not in stop
    iam.delete_user_policy(UserName="sim-alice", PolicyName="stop")
    assert by_action["cloudtrail:StopLogging"]["EvalDecision"] == "implicitDeny"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody",
                                      ActionNames=["s3:GetObject"])


def test_iam_calls_are_recorded_as_global_events(cairn):
    iam = cairn.client("iam", region="eu-west-1")
    iam.create_user(UserName="recorded")
    key = iam.create_access_key(UserName="recorded")["AccessKey"]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="not-recorded-user")
    ct = cairn.client("cloudtrail", region="us-east-1")

    def record(name):
        events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
        return [json.loads(e["CloudTrailEvent"]) for e in events["Events"]]

    create = next(r for r in record("CreateUser") if r["requestParameters"]["userName"] == "recorded")
    assert create["eventSource"] == "iam.amazonaws.com" and create["awsRegion"] == "us-east-1"
    assert create["readOnly"] is False
    user = create["responseElements"]["user"]
    assert user["userName"] == "recorded" and user["arn"].endswith(":user/recorded")
    # IAM's record form: "Aug 1, 2024 1:33:28 PM" (no comma after the year, unlike STS and KMS).
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M", user["createDate"]), user
    access = next(r for r in record("CreateAccessKey") if r["requestParameters"]["userName"] == "recorded")
    assert access["responseElements"]["accessKey"]["accessKeyId"] == key["AccessKeyId"]
    assert key["SecretAccessKey"] not in json.dumps(access)
    assert "secretAccessKey" not in json.dumps(access)
    failed = next(r for r in record("GetUser") if r.get("errorCode") == "NoSuchEntityException")
    assert failed["readOnly"] is True and failed["responseElements"] is None
    assert failed["errorMessage"] == "The user with name not-recorded-user cannot be found."
    eu = cairn.client("cloudtrail", region="eu-west-1").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateAccessKey"}])["Events"]
    assert eu == []


def test_iam_calls_are_authorized_like_any_other(cairn):
    import boto3
    import botocore.exceptions
    iam = cairn.client("iam")
    iam.create_user(UserName="iam-reader")
    iam.attach_user_policy(UserName="iam-reader", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    key = iam.create_access_key(UserName="iam-reader")["AccessKey"]
    reader = boto3.client("iam", endpoint_url=cairn.endpoint, region_name="us-east-1",
                          aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    assert any(u["UserName"] == "iam-reader" for u in reader.list_users()["Users"])
    assert reader.get_user()["User"]["UserName"] == "iam-reader"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        reader.create_user(UserName="not-allowed")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e.value.response["Error"]["Message"].startswith(
        f"User: arn:aws:iam::{ACCOUNT}:user/iam-reader is not authorized to perform: iam:CreateUser "
        f"on resource: arn:aws:iam::{ACCOUNT}:user/not-allowed")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="not-allowed")
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "Username", "AttributeValue": "iam-reader"}])["Events"]
    denied = [json.loads(e["CloudTrailEvent"]) for e in events if e["EventName"] == "CreateUser"]
    assert denied and denied[0]["errorCode"] == "AccessDenied"
