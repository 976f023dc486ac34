"""The calls a stack makes for a role session carry the session's SourceIdentity (outside
tester hostile7): it was lost when the stack stored its caller, so those calls were recorded
without it and a Deny on `aws:SourceIdentity` did not apply to them (the session created
through a stack the log group it was refused directly)."""

import json
import time

import botocore.exceptions
import pytest

from conftest import user_with

ACCOUNT = "123456789012"


def test_stack_calls_keep_the_sessions_source_identity(cairn):
    iam = cairn.client("iam")
    caller = user_with(cairn, "si-caller", [
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"], "Resource": "*"}])
    iam.create_role(RoleName="si-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/si-caller"},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"]}]}))
    iam.put_role_policy(RoleName="si-role", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["cloudformation:*", "logs:*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "logs:CreateLogGroup", "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}}}]}))
    creds = caller("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/si-role",
                                       RoleSessionName="si-session", SourceIdentity="alice")["Credentials"]

    def client(service):
        return cairn.client_with(creds["AccessKeyId"], creds["SecretAccessKey"], service,
                                 token=creds["SessionToken"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client("logs").create_log_group(logGroupName="si-direct")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    cfn = client("cloudformation")
    cfn.create_stack(StackName="si-stack", TemplateBody=json.dumps({"Resources": {
        "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "si-via-stack"}}}}))
    deadline = time.time() + 60
    while (status := cfn.describe_stacks(StackName="si-stack")["Stacks"][0]["StackStatus"]).endswith("_IN_PROGRESS"):
        assert time.time() < deadline
        time.sleep(0.1)
    assert status == "ROLLBACK_COMPLETE", status
    assert not cairn.client("logs").describe_log_groups(logGroupNamePrefix="si-via")["logGroups"]
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "CreateLogGroup"}])["Events"]
    via_stack = [json.loads(e["CloudTrailEvent"]) for e in events]
    via_stack = [r for r in via_stack if (r.get("requestParameters") or {}).get("logGroupName") == "si-via-stack"
                 or r.get("userIdentity", {}).get("invokedBy") == "cloudformation.amazonaws.com"]
    assert via_stack, events
    for r in via_stack:
        assert r["userIdentity"]["sessionContext"]["sourceIdentity"] == "alice", r
        assert r["errorCode"] == "AccessDenied", r
