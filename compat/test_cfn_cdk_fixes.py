"""CloudFormation as the AWS CDK's CLI needs it (found by compat/cdk, which runs `cdk deploy`,
`cdk diff` and `cdk destroy` against Cairn): the `AWS::CDK::Metadata` resource every CDK stack
carries (under its `CDKMetadataAvailable` condition) is accepted as the no-op AWS makes of it;
DeleteChangeSet of a change set name a stack does not have succeeds, as the CLI relies on
before each deploy and diff ("the delete request is successful as long as the stack exists"),
and a tag added to the stack and its resources at once (`Tags.of(stack)`) reaches them."""

import json
import re

import botocore.exceptions
import pytest

from conftest import cloudtrail_policy

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def cdk_template(analytics, topic_name, metadata=True):
    """The shape `cdk synth` gives a stack: resources with `aws:cdk:path` metadata, the
    CDKMetadata resource and its region condition (none of the three without `metadata`, as
    `cdk synth --no-version-reporting` writes it)."""
    if not metadata:
        return json.dumps({"Resources": {"Topic": {
            "Type": "AWS::SNS::Topic", "Properties": {"TopicName": topic_name}}}})
    return json.dumps({
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": topic_name},
                      "Metadata": {"aws:cdk:path": "App/Topic/Resource"}},
            "CDKMetadata": {
                "Type": "AWS::CDK::Metadata",
                "Properties": {"Analytics": analytics},
                "Metadata": {"aws:cdk:path": "App/CDKMetadata/Default"},
                "Condition": "CDKMetadataAvailable"}},
        "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}},
        "Conditions": {"CDKMetadataAvailable": {"Fn::Or": [
            {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
            {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}]}}})


def metadata_resource(cfn, stack):
    rs = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    return next((r for r in rs if r["LogicalResourceId"] == "CDKMetadata"), None)


def test_cdk_metadata_resource_is_created_updated_and_deleted_without_a_service(cairn):
    cfn = cairn.client("cloudformation")
    cfn.validate_template(TemplateBody=cdk_template("v2:deflate64:AAAA", "cdk-meta-topic"))
    cfn.create_stack(StackName="cdk-meta", TemplateBody=cdk_template("v2:deflate64:AAAA", "cdk-meta-topic"))
    cfn.get_waiter("stack_create_complete").wait(StackName="cdk-meta")
    meta = metadata_resource(cfn, "cdk-meta")
    assert meta["ResourceType"] == "AWS::CDK::Metadata"
    assert meta["ResourceStatus"] == "CREATE_COMPLETE"
    assert UUID.match(meta["PhysicalResourceId"]), meta["PhysicalResourceId"]

    # A new CDK version's analytics string is an update in place that keeps the resource.
    cfn.update_stack(StackName="cdk-meta", TemplateBody=cdk_template("v2:deflate64:BBBB", "cdk-meta-topic"))
    cfn.get_waiter("stack_update_complete").wait(StackName="cdk-meta")
    again = metadata_resource(cfn, "cdk-meta")
    assert again["ResourceStatus"] == "UPDATE_COMPLETE"
    assert again["PhysicalResourceId"] == meta["PhysicalResourceId"]

    cfn.delete_stack(StackName="cdk-meta")
    cfn.get_waiter("stack_delete_complete").wait(StackName="cdk-meta")
    topics = cairn.client("sns").list_topics()["Topics"]
    assert not any(t["TopicArn"].endswith(":cdk-meta-topic") for t in topics)


def test_cdk_metadata_outside_its_condition_is_not_made(cairn):
    cfn = cairn.client("cloudformation", region="ap-south-1")
    cfn.create_stack(StackName="cdk-meta-elsewhere", TemplateBody=cdk_template("v2:x", "cdk-meta-elsewhere"))
    cfn.get_waiter("stack_create_complete").wait(StackName="cdk-meta-elsewhere")
    assert metadata_resource(cfn, "cdk-meta-elsewhere") is None
    cfn.delete_stack(StackName="cdk-meta-elsewhere")
    cfn.get_waiter("stack_delete_complete").wait(StackName="cdk-meta-elsewhere")


def test_delete_change_set_of_a_name_the_stack_lacks_succeeds(cairn):
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="cdk-cs", TemplateBody=cdk_template("", "cdk-cs-topic", metadata=False))
    cfn.get_waiter("stack_create_complete").wait(StackName="cdk-cs")

    # What `cdk deploy` does first on an existing stack, and `cdk diff` before its change set.
    cfn.delete_change_set(StackName="cdk-cs", ChangeSetName="cdk-deploy-change-set")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.describe_change_set(StackName="cdk-cs", ChangeSetName="cdk-deploy-change-set")
    assert e.value.response["Error"]["Code"] == "ChangeSetNotFound"

    # A change set that is there is deleted; deleting its name again still succeeds.
    made = cfn.create_change_set(StackName="cdk-cs", ChangeSetName="cdk-deploy-change-set",
                                 TemplateBody=cdk_template("", "cdk-cs-topic2", metadata=False))
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=made["Id"])
    cfn.delete_change_set(StackName="cdk-cs", ChangeSetName="cdk-deploy-change-set")
    assert cfn.list_change_sets(StackName="cdk-cs")["Summaries"] == []
    cfn.delete_change_set(StackName="cdk-cs", ChangeSetName="cdk-deploy-change-set")

    # An ARN names one change set: one that is gone is still not found, and a stack that does
    # not exist is still refused.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.delete_change_set(ChangeSetName=made["Id"])
    assert e.value.response["Error"]["Code"] == "ChangeSetNotFound"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.delete_change_set(StackName="cdk-no-such-stack", ChangeSetName="cdk-deploy-change-set")
    assert e.value.response["Error"]["Code"] == "ValidationError"

    cfn.delete_stack(StackName="cdk-cs")
    cfn.get_waiter("stack_delete_complete").wait(StackName="cdk-cs")


def test_a_tag_added_to_the_stack_and_its_resources_reaches_the_resources(cairn):
    # `Tags.of(stack).add(k, v)` in a CDK app adds the tag to the stack (CreateChangeSet's
    # Tags) and to every resource's `Tags`: an update that adds both must tag the resources,
    # though the new stack tag was already part of what the old properties are compared with.
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="cdk-tags-logs")
    s3.put_bucket_policy(Bucket="cdk-tags-logs", Policy=cloudtrail_policy("cdk-tags-logs"))

    def body(tags):
        extra = {"Tags": tags} if tags else {}
        return json.dumps({"Resources": {
            "Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {
                "TrailName": "cdk-tags-trail", "S3BucketName": "cdk-tags-logs", "IsLogging": True,
                **extra}},
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
                "BucketName": "cdk-tags-bucket", **extra}}}})

    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="cdk-tags", TemplateBody=body(None))
    cfn.get_waiter("stack_create_complete").wait(StackName="cdk-tags")
    tag = [{"Key": "revision", "Value": "2"}]
    cfn.update_stack(StackName="cdk-tags", TemplateBody=body(tag), Tags=tag)
    cfn.get_waiter("stack_update_complete").wait(StackName="cdk-tags")

    arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/cdk-tags-trail"
    listed = cairn.client("cloudtrail").list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"]
    assert {"Key": "revision", "Value": "2"} in listed
    bucket = s3.get_bucket_tagging(Bucket="cdk-tags-bucket")["TagSet"]
    assert {"Key": "revision", "Value": "2"} in bucket

    cfn.delete_stack(StackName="cdk-tags")
    cfn.get_waiter("stack_delete_complete").wait(StackName="cdk-tags")


def test_new_stack_tags_alone_reach_every_resource_that_takes_tags(cairn):
    # UpdateStack with the previous template and new Tags: CloudFormation propagates stack
    # tags to the resources that take tags, with their properties unchanged.
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="stack-tags-logs")
    s3.put_bucket_policy(Bucket="stack-tags-logs", Policy=cloudtrail_policy("stack-tags-logs"))
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="stack-tags", TemplateBody=json.dumps({"Resources": {
        "Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {
            "TrailName": "stack-tags-trail", "S3BucketName": "stack-tags-logs",
            "IsLogging": True}},
        "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": "stack-tags-group"}}}}))
    cfn.get_waiter("stack_create_complete").wait(StackName="stack-tags")
    cfn.update_stack(StackName="stack-tags", UsePreviousTemplate=True,
                     Tags=[{"Key": "team", "Value": "sec"}])
    cfn.get_waiter("stack_update_complete").wait(StackName="stack-tags")
    arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/stack-tags-trail"
    listed = cairn.client("cloudtrail").list_tags(ResourceIdList=[arn])["ResourceTagList"][0]
    assert listed["TagsList"] == [{"Key": "team", "Value": "sec"}]
    group = "arn:aws:logs:us-east-1:123456789012:log-group:stack-tags-group"
    tags = cairn.client("logs").list_tags_for_resource(resourceArn=group)["tags"]
    assert {k: v for k, v in tags.items() if not k.startswith("aws:cloudformation:")} == \
        {"team": "sec"}
    # And a stack tag removed alone leaves them.
    cfn.update_stack(StackName="stack-tags", UsePreviousTemplate=True, Tags=[])
    cfn.get_waiter("stack_update_complete").wait(StackName="stack-tags")
    listed = cairn.client("cloudtrail").list_tags(ResourceIdList=[arn])["ResourceTagList"][0]
    assert listed["TagsList"] == []
    cfn.delete_stack(StackName="stack-tags")
    cfn.get_waiter("stack_delete_complete").wait(StackName="stack-tags")
