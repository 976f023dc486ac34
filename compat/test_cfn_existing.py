"""Stacks never take over what they did not make: a resource whose name (or attachment) already
exists fails its create with CloudFormation's "already exists", the existing one is left as it
was, and the rollback (or a later delete) does not delete it. Also a logical-id rename that keeps
the physical name, and service roles that cannot be assumed."""

import json

import botocore.exceptions
import pytest

ACCOUNT = "123456789012"


def template(resources):
    return json.dumps({"Resources": resources})


def rolled_back(cfn, name):
    """Waits for a create to end (the create waiter fails on its final failed states) and
    checks that it rolled back."""
    with pytest.raises(botocore.exceptions.WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName=name)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"


def create_and_roll_back(cfn, name, resources):
    """Creates a stack that must fail; returns its resource events (oldest first)."""
    cfn.create_stack(StackName=name, TemplateBody=template(resources))
    rolled_back(cfn, name)
    return list(reversed(cfn.describe_stack_events(StackName=name)["StackEvents"]))


def failure(events, logical_id):
    return [e.get("ResourceStatusReason") for e in events
            if e["LogicalResourceId"] == logical_id and e["ResourceStatus"] == "CREATE_FAILED"]


def delete(cfn, name):
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name)


def test_existing_bucket_is_refused_and_kept(cairn):
    s3, cfn = cairn.client("s3"), cairn.client("cloudformation")
    s3.create_bucket(Bucket="my-precious-bucket2")
    s3.put_bucket_tagging(Bucket="my-precious-bucket2",
                          Tagging={"TagSet": [{"Key": "owner", "Value": "me"}]})
    s3.put_object(Bucket="my-precious-bucket2", Key="k", Body=b"v")
    events = create_and_roll_back(cfn, "take-bucket", {
        "B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "my-precious-bucket2"}}})
    assert failure(events, "B") == ["my-precious-bucket2 already exists"]
    assert s3.get_bucket_tagging(Bucket="my-precious-bucket2")["TagSet"] == [
        {"Key": "owner", "Value": "me"}]
    delete(cfn, "take-bucket")
    assert s3.get_object(Bucket="my-precious-bucket2", Key="k")["Body"].read() == b"v"


def test_existing_topic_and_subscription_are_refused_and_kept(cairn):
    sns, cfn = cairn.client("sns"), cairn.client("cloudformation")
    arn = sns.create_topic(Name="precious-topic")["TopicArn"]
    # An email subscription awaits confirmation, listed without its ARN.
    sub = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="me@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    events = create_and_roll_back(cfn, "take-topic", {
        "T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "precious-topic"}}})
    assert failure(events, "T") == [
        f"Resource of type 'AWS::SNS::Topic' with identifier '{arn}' already exists."]
    events = create_and_roll_back(cfn, "take-sub", {
        "S": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": arn, "Protocol": "email", "Endpoint": "me@example.com"}}})
    assert failure(events, "S") == [
        "Resource of type 'AWS::SNS::Subscription' with identifier 'me@example.com' already exists."]
    delete(cfn, "take-topic")
    delete(cfn, "take-sub")
    assert [(s["Protocol"], s["Endpoint"]) for s in
            sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]] == [
        ("email", "me@example.com")]
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["TopicArn"] == arn


def test_existing_policy_alarm_filter_and_inline_policy_are_refused_and_kept(cairn):
    s3, cfn = cairn.client("s3"), cairn.client("cloudformation")
    cw, logs, iam = cairn.client("cloudwatch"), cairn.client("logs"), cairn.client("iam")
    s3.create_bucket(Bucket="has-a-policy")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
        "Resource": "arn:aws:s3:::has-a-policy"}]})
    s3.put_bucket_policy(Bucket="has-a-policy", Policy=policy)
    cw.put_metric_alarm(AlarmName="precious-alarm", Namespace="N", MetricName="M",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=5,
                        ComparisonOperator="GreaterThanThreshold")
    logs.create_log_group(logGroupName="g")
    logs.put_metric_filter(logGroupName="g", filterName="precious-filter", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "E", "metricNamespace": "N",
                                                   "metricValue": "1"}])
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "ec2.amazonaws.com"}}]}))
    inline = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})
    iam.put_role_policy(RoleName="r", PolicyName="mine", PolicyDocument=inline)

    cases = [
        ("P", {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": "has-a-policy", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::has-a-policy/*"}]}}},
         "The bucket policy already exists on bucket has-a-policy."),
        ("A", {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": "precious-alarm", "Namespace": "Other", "MetricName": "M",
            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1,
            "ComparisonOperator": "GreaterThanThreshold"}},
         "Resource of type 'AWS::CloudWatch::Alarm' with identifier 'precious-alarm' already exists."),
        ("F", {"Type": "AWS::Logs::MetricFilter", "Properties": {
            "LogGroupName": "g", "FilterName": "precious-filter", "FilterPattern": "WARN",
            "MetricTransformations": [{"MetricName": "W", "MetricNamespace": "N",
                                       "MetricValue": "1"}]}},
         "Resource of type 'AWS::Logs::MetricFilter' with identifier 'precious-filter' already exists."),
        ("I", {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "mine", "Roles": ["r"], "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}},
         "Resource of type 'AWS::IAM::Policy' with identifier 'mine|r' already exists."),
    ]
    for i, (logical_id, resource, reason) in enumerate(cases):
        name = f"take-{i}"
        kwargs = {"Capabilities": ["CAPABILITY_IAM"]} if logical_id == "I" else {}
        cfn.create_stack(StackName=name, TemplateBody=template({logical_id: resource}), **kwargs)
        rolled_back(cfn, name)
        events = list(reversed(cfn.describe_stack_events(StackName=name)["StackEvents"]))
        assert failure(events, logical_id) == [reason]
        delete(cfn, name)

    assert json.loads(s3.get_bucket_policy(Bucket="has-a-policy")["Policy"]) == json.loads(policy)
    alarm = cw.describe_alarms(AlarmNames=["precious-alarm"])["MetricAlarms"]
    assert [(a["Namespace"], a["Threshold"]) for a in alarm] == [("N", 5.0)]
    filters = logs.describe_metric_filters(logGroupName="g")["metricFilters"]
    assert [(f["filterName"], f["filterPattern"]) for f in filters] == [("precious-filter", "ERROR")]
    kept = iam.get_role_policy(RoleName="r", PolicyName="mine")["PolicyDocument"]
    assert kept["Statement"][0]["Action"] == "s3:ListBucket"


def test_names_that_services_refuse_twice_are_still_refused(cairn):
    # Log groups, aliases, trails and IAM entities already fail a second create; the rollback
    # deletes nothing.
    logs, kms, cfn = cairn.client("logs"), cairn.client("kms"), cairn.client("cloudformation")
    logs.create_log_group(logGroupName="precious-group")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/precious", TargetKeyId=key)
    events = create_and_roll_back(cfn, "take-group", {
        "G": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "precious-group"}}})
    assert "already exists" in failure(events, "G")[0]
    events = create_and_roll_back(cfn, "take-alias", {
        "K": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Al": {"Type": "AWS::KMS::Alias", "Properties": {
            "AliasName": "alias/precious", "TargetKeyId": {"Ref": "K"}}}})
    assert "already exists" in failure(events, "Al")[0]
    delete(cfn, "take-group")
    delete(cfn, "take-alias")
    assert [g["logGroupName"] for g in logs.describe_log_groups(
        logGroupNamePrefix="precious")["logGroups"]] == ["precious-group"]
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/precious"] == key


def test_renaming_a_logical_id_with_the_same_bucket_name_rolls_back_and_keeps_the_bucket(cairn):
    s3, cfn = cairn.client("s3"), cairn.client("cloudformation")
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "renamed-bucket"}}
    cfn.create_stack(StackName="rename", TemplateBody=template({"Old": bucket}))
    cfn.get_waiter("stack_create_complete").wait(StackName="rename")
    s3.put_object(Bucket="renamed-bucket", Key="k", Body=b"v")

    # The new logical id names the bucket the stack already has as Old: its create fails,
    # and the update rolls back without deleting anything.
    cfn.update_stack(StackName="rename", TemplateBody=template({"New": bucket}))
    with pytest.raises(botocore.exceptions.WaiterError):
        cfn.get_waiter("stack_update_complete").wait(StackName="rename")
    stack = cfn.describe_stacks(StackName="rename")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    events = list(reversed(cfn.describe_stack_events(StackName="rename")["StackEvents"]))
    assert failure(events, "New") == ["renamed-bucket already exists"]
    assert not [e for e in events if e["LogicalResourceId"] == "Old"
                and e["ResourceStatus"].startswith("DELETE")]
    resources = cfn.describe_stack_resources(StackName="rename")["StackResources"]
    assert [(r["LogicalResourceId"], r["PhysicalResourceId"], r["ResourceStatus"])
            for r in resources] == [("Old", "renamed-bucket", "CREATE_COMPLETE")]
    assert s3.get_object(Bucket="renamed-bucket", Key="k")["Body"].read() == b"v"


def trusting(service):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}]})


def test_a_role_cloudformation_cannot_assume_is_refused_by_the_call(cairn):
    iam, cfn = cairn.client("iam"), cairn.client("cloudformation")
    iam.create_role(RoleName="notcfn", AssumeRolePolicyDocument=trusting("ec2.amazonaws.com"))
    good = iam.create_role(RoleName="cfn-role",
                           AssumeRolePolicyDocument=trusting("cloudformation.amazonaws.com"))
    iam.attach_role_policy(RoleName="cfn-role",
                           PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    body = template({"T": {"Type": "AWS::SNS::Topic", "Properties": {}}})
    other = template({"T": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "x"}}})

    def refused(call, role, **kwargs):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(RoleARN=f"arn:aws:iam::{ACCOUNT}:role/{role}", **kwargs)
        assert e.value.response["Error"]["Code"] == "ValidationError"
        assert e.value.response["Error"]["Message"] == (
            f"Role arn:aws:iam::{ACCOUNT}:role/{role} is invalid or cannot be assumed")

    for role in ("notcfn", "missing"):
        refused(cfn.create_stack, role, StackName="roled", TemplateBody=body)
        refused(cfn.create_change_set, role, StackName="roled-cs", TemplateBody=body,
                ChangeSetName="cs", ChangeSetType="CREATE")
    names = [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]]
    assert "roled" not in names and "roled-cs" not in names

    cfn.create_stack(StackName="roled", TemplateBody=body, RoleARN=good["Role"]["Arn"])
    cfn.get_waiter("stack_create_complete").wait(StackName="roled")
    refused(cfn.update_stack, "notcfn", StackName="roled", TemplateBody=other)
    refused(cfn.create_change_set, "notcfn", StackName="roled", TemplateBody=other,
            ChangeSetName="cs", ChangeSetType="UPDATE")
    refused(cfn.delete_stack, "notcfn", StackName="roled")
    stack = cfn.describe_stacks(StackName="roled")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["RoleARN"] == good["Role"]["Arn"]
    assert cfn.list_change_sets(StackName="roled")["Summaries"] == []
    delete(cfn, "roled")
