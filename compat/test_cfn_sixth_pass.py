"""CloudFormation found by outside tester cfn6: a failed update rolls each resource back to
its old properties in the old template's dependency order, so a trail returns to its old S3
key prefix after the bucket policy allows that prefix again. Reverting in reverse order put
the trail back first, CloudTrail refused it (InsufficientS3BucketPolicyException), the stack
stopped in UPDATE_ROLLBACK_FAILED and the trail kept a prefix the restored policy denied."""

import json

import botocore.exceptions
import pytest

from conftest import settled_stack, user_with

TEMPLATE = """
Parameters:
  Prefix: {Type: String, Default: a}
  GroupName: {Type: String, Default: rollback-order-ok}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: rollback-order}
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Sid: Acl, Effect: Allow, Principal: {Service: cloudtrail.amazonaws.com},
             Action: s3:GetBucketAcl, Resource: !GetAtt Bucket.Arn}
          - Sid: Write
            Effect: Allow
            Principal: {Service: cloudtrail.amazonaws.com}
            Action: s3:PutObject
            Resource: !Sub "${Bucket.Arn}/${Prefix}/AWSLogs/${AWS::AccountId}/*"
            Condition: {StringEquals: {s3:x-amz-acl: bucket-owner-full-control}}
  Trail:
    Type: AWS::CloudTrail::Trail
    DependsOn: BucketPolicy
    Properties: {TrailName: rollback-order, S3BucketName: !Ref Bucket, S3KeyPrefix: !Ref Prefix,
                 IsLogging: true}
  Later:
    Type: AWS::Logs::LogGroup
    DependsOn: Trail
    Properties: {LogGroupName: !Ref GroupName}
"""


def test_a_failed_update_returns_the_trail_after_its_bucket_policy(cairn):
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="rollback-order", TemplateBody=TEMPLATE)
    assert settled_stack(cfn, "rollback-order") == "CREATE_COMPLETE"
    # The update's last step fails: the new group's name is taken.
    cairn.client("logs").create_log_group(logGroupName="rollback-order-taken")
    cfn.update_stack(StackName="rollback-order", UsePreviousTemplate=True, Parameters=[
        {"ParameterKey": "Prefix", "ParameterValue": "b"},
        {"ParameterKey": "GroupName", "ParameterValue": "rollback-order-taken"}])
    assert settled_stack(cfn, "rollback-order") == "UPDATE_ROLLBACK_COMPLETE"
    ct = cairn.client("cloudtrail")
    assert ct.get_trail(Name="rollback-order")["Trail"]["S3KeyPrefix"] == "a"
    policy = json.loads(cairn.client("s3").get_bucket_policy(Bucket="rollback-order")["Policy"])
    assert policy["Statement"][1]["Resource"].endswith("/a/AWSLogs/123456789012/*"), policy
    assert ct.get_trail_status(Name="rollback-order")["IsLogging"]
    # The rollback's events: the policy is back before the trail starts going back.
    events = cfn.describe_stack_events(StackName="rollback-order")["StackEvents"][::-1]
    start = max(i for i, e in enumerate(events) if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS")
    rolled = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events[start:]]
    assert rolled.index(("BucketPolicy", "UPDATE_COMPLETE")) < rolled.index(("Trail", "UPDATE_IN_PROGRESS")), rolled


def test_describe_stack_resources_takes_a_stack_name_or_a_physical_id_not_both(cairn):
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="both-named", TemplateBody=json.dumps({"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic"}}}))
    assert settled_stack(cfn, "both-named") == "CREATE_COMPLETE"
    topic = cfn.describe_stack_resources(StackName="both-named")["StackResources"][0]["PhysicalResourceId"]
    assert cfn.describe_stack_resources(PhysicalResourceId=topic)["StackResources"][0]["LogicalResourceId"] == "Topic"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.describe_stack_resources(StackName="both-named", PhysicalResourceId=topic)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "not both" in e.value.response["Error"]["Message"]


def deleted(cfn, name):
    """Deletes a stack (as the admin would) and waits for the deletion's end."""
    stack_id = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=name)
    assert settled_stack(cfn, stack_id) == "DELETE_COMPLETE"


def test_a_refused_topic_policy_never_resets_a_topic_it_did_not_set(cairn):
    """hostile6: an AWS::SNS::TopicPolicy naming the trail's topic, refused for the stack's
    caller, was still counted as made: its rollback tried to restore SNS's default policy on
    that topic (refused too, ROLLBACK_FAILED), and the admin's DeleteStack then did, cutting
    CloudTrail's notifications off."""
    sns = cairn.client("sns")
    audit = sns.create_topic(Name="audit-notes")["TopicArn"]
    audit_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AWSCloudTrailSNSPolicy", "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish",
        "Resource": audit}]})
    sns.set_topic_attributes(TopicArn=audit, AttributeName="Policy", AttributeValue=audit_policy)
    mine = sns.create_topic(Name="mine-notes")["TopicArn"]
    user = user_with(cairn, "cfn-mine", [
        {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "sns:*", "Resource": "arn:aws:sns:*:*:mine-*"}])
    cfn = user("cloudformation")

    def template(topics):
        return json.dumps({"Resources": {"Policy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": topics, "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "SNS:Publish", "Resource": "*"}]}}}}})

    def audit_policy_now():
        return json.loads(sns.get_topic_attributes(TopicArn=audit)["Attributes"]["Policy"])

    cfn.create_stack(StackName="grab-topic", TemplateBody=template([mine, audit]))
    assert settled_stack(cfn, "grab-topic") == "ROLLBACK_COMPLETE"
    assert audit_policy_now() == json.loads(audit_policy)
    deleted(cairn.client("cloudformation"), "grab-topic")
    assert audit_policy_now() == json.loads(audit_policy)

    cfn.create_stack(StackName="widen-topic", TemplateBody=template([mine]))
    assert settled_stack(cfn, "widen-topic") == "CREATE_COMPLETE"
    cfn.update_stack(StackName="widen-topic", TemplateBody=template([mine, audit]))
    assert settled_stack(cfn, "widen-topic") == "UPDATE_ROLLBACK_COMPLETE"
    deleted(cairn.client("cloudformation"), "widen-topic")
    assert audit_policy_now() == json.loads(audit_policy)


def test_an_inline_policy_resource_never_deletes_one_it_did_not_put(cairn):
    """recheck27: an update of an AWS::IAM::Policy naming a second role, refused there, had its
    rollback (and then the admin's cleanup) delete that role's own same-named policy."""
    iam = cairn.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    for role in ("cfn-own-role", "audit-role"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    kept = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}
    iam.put_role_policy(RoleName="audit-role", PolicyName="shared", PolicyDocument=json.dumps(kept))
    cfn = user_with(cairn, "cfn-roles", [
        {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:*RolePolicy", "Resource": "arn:aws:iam::*:role/cfn-own-*"}])(
        "cloudformation")

    def template(roles):
        return json.dumps({"Resources": {"P": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "shared", "Roles": roles, "PolicyDocument": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}}}})

    cfn.create_stack(StackName="inline-widen", TemplateBody=template(["cfn-own-role"]),
                     Capabilities=["CAPABILITY_IAM"])
    assert settled_stack(cfn, "inline-widen") == "CREATE_COMPLETE"
    cfn.update_stack(StackName="inline-widen", TemplateBody=template(["cfn-own-role", "audit-role"]),
                     Capabilities=["CAPABILITY_IAM"])
    assert settled_stack(cfn, "inline-widen") == "UPDATE_ROLLBACK_COMPLETE"
    deleted(cairn.client("cloudformation"), "inline-widen")
    doc = iam.get_role_policy(RoleName="audit-role", PolicyName="shared")["PolicyDocument"]
    assert doc == kept, doc
    assert iam.list_role_policies(RoleName="cfn-own-role")["PolicyNames"] == []
