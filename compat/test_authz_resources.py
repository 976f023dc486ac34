"""The resources calls are authorized on, as AWS's denials name them (outside tester's
findings): listings on a scoped ARN (IAM's `user/`, `role/`, `group/` plus the path prefix,
SNS's `arn:aws:sns:<region>:<account>:*`, CloudFormation's `stack/*/*`, Logs'
`log-group::log-stream:`), most calls on a log group on `…:log-group:<name>:log-stream:` (so
the usual `…:<name>:*` statements match), SNS's `SNS:` capitals in its messages, CloudFormation's
`iam:PassRole` with `iam:PassedToService`.
Before, listings were authorized on `*` (ARN-scoped Denies were skipped) and a Deny on
`log-group:CloudTrail/*:*` did not stop PutRetentionPolicy."""

import json

import botocore.exceptions
import pytest

from conftest import settled_stack, user_with

ACCOUNT = "123456789012"


def user_keys(cairn, name):
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def denial(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Message"]


def test_listings_are_authorized_on_scoped_arns(cairn):
    deny = user_with(cairn, "lister-denied", [
        {"Effect": "Allow", "Action": ["iam:*", "sns:*", "cloudformation:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:ListUsers", "Resource": f"arn:aws:iam::{ACCOUNT}:user/*"},
        {"Effect": "Deny", "Action": "sns:*", "Resource": "arn:aws:sns:*:*:*"},
        {"Effect": "Deny", "Action": "cloudformation:ListStacks",
         "Resource": f"arn:aws:cloudformation:*:{ACCOUNT}:stack/*"}])
    # IAM words ListPolicies' resource "policy path /".
    assert "iam:ListPolicies on resource: policy path /" in denial(
        lambda: cairn.client_with(*user_keys(cairn, "policies-nobody"), "iam").list_policies())
    message = denial(lambda: deny("iam").list_users())
    assert f"iam:ListUsers on resource: arn:aws:iam::{ACCOUNT}:user/ with an explicit deny" in message
    message = denial(lambda: deny("sns").list_topics())
    assert f"SNS:ListTopics on resource: arn:aws:sns:us-east-1:{ACCOUNT}:*" in message
    denial(lambda: deny("cloudformation").list_stacks())

    allow = user_with(cairn, "lister-allowed", [
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": f"arn:aws:iam::{ACCOUNT}:user/dev/*"},
        {"Effect": "Allow", "Action": "sns:ListTopics", "Resource": f"arn:aws:sns:us-east-1:{ACCOUNT}:*"},
        {"Effect": "Allow", "Action": "cloudformation:ListStacks",
         "Resource": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/*"},
        {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "arn:aws:logs:*:*:*"}])
    allow("iam").list_users(PathPrefix="/dev/")
    assert "iam:ListUsers on resource: arn:aws:iam::123456789012:user/ because" in denial(
        lambda: allow("iam").list_users())
    allow("sns").list_topics()
    allow("cloudformation").list_stacks()
    allow("logs").describe_log_groups()


def test_group_calls_match_the_usual_group_statements(cairn):
    logs = cairn.client("logs")
    logs.create_log_group(logGroupName="CloudTrail/audit")
    logs.put_retention_policy(logGroupName="CloudTrail/audit", retentionInDays=3653)
    user = user_with(cairn, "lambda-like", [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy"],
         "Resource": f"arn:aws:logs:*:{ACCOUNT}:log-group:CloudTrail/*:*"}])("logs")
    message = denial(lambda: user.put_retention_policy(
        logGroupName="CloudTrail/audit", retentionInDays=1))
    assert f"log-group:CloudTrail/audit:log-stream: with an explicit deny" in message
    denial(lambda: user.delete_retention_policy(logGroupName="CloudTrail/audit"))
    group = logs.describe_log_groups(logGroupNamePrefix="CloudTrail/audit")["logGroups"][0]
    assert group["retentionInDays"] == 3653

    fn = user_with(cairn, "lambda-fn", [
        {"Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:DescribeLogStreams", "logs:PutRetentionPolicy"],
         "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn*:*"}])("logs")
    fn.create_log_group(logGroupName="/aws/lambda/fn1")
    fn.describe_log_streams(logGroupName="/aws/lambda/fn1")
    fn.put_retention_policy(logGroupName="/aws/lambda/fn1", retentionInDays=7)


def test_a_stack_service_role_is_passed_to_cloudformation(cairn):
    iam = cairn.client("iam")
    role = iam.create_role(RoleName="stack-service-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "cloudformation.amazonaws.com"}}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName="stack-service-role", PolicyName="own", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:*", "Resource": "*"}]}))
    deployer = user_with(cairn, "deployer", [
        {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
         "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}}])
    cfn = deployer("cloudformation")
    cfn.create_stack(StackName="service-role-stack", RoleARN=role, TemplateBody=json.dumps({
        "Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "via-role"}}}}))
    assert settled_stack(cfn, "service-role-stack") == "CREATE_COMPLETE", cfn.describe_stack_events(
        StackName="service-role-stack")["StackEvents"][:3]
