"""Stack tags as CloudFormation propagates them: CreateStack's and UpdateStack's `Tags` reach
every resource that takes tags, SNS topics included, with the template's own `Tags` winning on
a shared key and CloudFormation's `aws:cloudformation:stack-name`/`stack-id`/`logical-id`
beside them; an update of the stack's tags alone (`UsePreviousTemplate`) retags them in place;
and a change set of such an update lists each taggable resource as a `Modify` of its `Tags`
(`Scope` `["Tags"]`, a `Target` of `{"Attribute": "Tags", "RequiresRecreation": "Never"}`),
which executing applies."""

import json

import botocore.exceptions
import pytest

ACCOUNT = "123456789012"
TAGS_DETAIL = {"Target": {"Attribute": "Tags", "RequiresRecreation": "Never"},
               "Evaluation": "Static", "ChangeSource": "DirectModification"}


def template(topic, bucket, display=None):
    topic_props = {"TopicName": topic, "Tags": [{"Key": "owner", "Value": "template"}]}
    if display:
        topic_props["DisplayName"] = display
    return json.dumps({"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": topic_props},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}},
        # AWS::SNS::TopicPolicy takes no tags.
        "Policy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": [{"Ref": "Topic"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sns:Publish", "Resource": {"Ref": "Topic"}}]}}}}})


def topic_tags(cairn, arn):
    tags = cairn.client("sns").list_tags_for_resource(ResourceArn=arn)["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def bucket_tags(cairn, bucket):
    tags = cairn.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]
    return {t["Key"]: t["Value"] for t in tags}


def system_tags(stack_id, stack, logical):
    return {"aws:cloudformation:stack-name": stack, "aws:cloudformation:stack-id": stack_id,
            "aws:cloudformation:logical-id": logical}


@pytest.fixture
def stack(cairn, request):
    """A stack named after the test with a topic, a bucket and a topic policy, made with the
    stack tags `team=sec` and `owner=stack`; deleted afterwards."""
    name = request.node.name.replace("_", "-")[:40].rstrip("-")
    topic, bucket = f"{name}-topic", f"{name}-bucket"
    cfn = cairn.client("cloudformation")
    stack_id = cfn.create_stack(
        StackName=name, TemplateBody=template(topic, bucket),
        Tags=[{"Key": "team", "Value": "sec"}, {"Key": "owner", "Value": "stack"}])["StackId"]
    cfn.get_waiter("stack_create_complete").wait(StackName=name)
    arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:{topic}"
    yield {"name": name, "id": stack_id, "topic": arn, "bucket": bucket, "topic_name": topic}
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name)


def test_stack_tags_reach_a_topic_on_create_with_its_own_tags_winning(cairn, stack):
    assert topic_tags(cairn, stack["topic"]) == {
        "team": "sec", "owner": "template", **system_tags(stack["id"], stack["name"], "Topic")}
    assert bucket_tags(cairn, stack["bucket"]) == {
        "team": "sec", "owner": "stack", **system_tags(stack["id"], stack["name"], "Bucket")}


def test_new_stack_tags_alone_retag_the_topic_in_place(cairn, stack):
    cfn = cairn.client("cloudformation")
    cfn.update_stack(StackName=stack["name"], UsePreviousTemplate=True,
                     Tags=[{"Key": "team", "Value": "ops"}])
    cfn.get_waiter("stack_update_complete").wait(StackName=stack["name"])
    system = system_tags(stack["id"], stack["name"], "Topic")
    # `owner` leaves the stack's tags, but the template's own `owner` stays.
    assert topic_tags(cairn, stack["topic"]) == {"team": "ops", "owner": "template", **system}
    resources = cfn.describe_stack_resources(StackName=stack["name"])["StackResources"]
    status = {r["LogicalResourceId"]: r["ResourceStatus"] for r in resources}
    assert status == {"Topic": "UPDATE_COMPLETE", "Bucket": "UPDATE_COMPLETE",
                      "Policy": "CREATE_COMPLETE"}
    assert next(r for r in resources if r["LogicalResourceId"] == "Topic")[
        "PhysicalResourceId"] == stack["topic"]

    # Without stack tags the topic keeps its own and CloudFormation's.
    cfn.update_stack(StackName=stack["name"], UsePreviousTemplate=True, Tags=[])
    cfn.get_waiter("stack_update_complete").wait(StackName=stack["name"])
    assert topic_tags(cairn, stack["topic"]) == {"owner": "template", **system}


def test_a_requester_cannot_set_or_remove_aws_prefixed_topic_tags(cairn, stack):
    sns = cairn.client("sns")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.tag_resource(ResourceArn=stack["topic"],
                         Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "x"}])
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    # Nor remove CloudFormation's own.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.untag_resource(ResourceArn=stack["topic"], TagKeys=["aws:cloudformation:stack-name"])
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    assert "aws:cloudformation:stack-name" in topic_tags(cairn, stack["topic"])
    # CloudFormation's three tags do not count toward the 50 a topic may carry.
    sns.tag_resource(ResourceArn=stack["topic"],
                     Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(48)])
    assert len(topic_tags(cairn, stack["topic"])) == 50 + 3


def describe_changes(cfn, change_set_id):
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change_set_id)
    described = cfn.describe_change_set(ChangeSetName=change_set_id)
    assert described["Status"] == "CREATE_COMPLETE"
    return {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
            for c in described["Changes"]}


def test_a_change_set_of_new_stack_tags_lists_each_taggable_resource(cairn, stack):
    cfn = cairn.client("cloudformation")
    made = cfn.create_change_set(StackName=stack["name"], ChangeSetName="retag",
                                 UsePreviousTemplate=True,
                                 Tags=[{"Key": "team", "Value": "cs"}])
    changes = describe_changes(cfn, made["Id"])
    assert sorted(changes) == ["Bucket", "Topic"]
    for logical, physical, kind in [("Topic", stack["topic"], "AWS::SNS::Topic"),
                                    ("Bucket", stack["bucket"], "AWS::S3::Bucket")]:
        assert changes[logical] == {
            "Action": "Modify", "LogicalResourceId": logical, "PhysicalResourceId": physical,
            "ResourceType": kind, "Replacement": "False", "Scope": ["Tags"],
            "Details": [TAGS_DETAIL]}

    cfn.execute_change_set(ChangeSetName=made["Id"])
    cfn.get_waiter("stack_update_complete").wait(StackName=stack["name"])
    assert topic_tags(cairn, stack["topic"]) == {
        "team": "cs", "owner": "template", **system_tags(stack["id"], stack["name"], "Topic")}
    assert bucket_tags(cairn, stack["bucket"]) == {
        "team": "cs", **system_tags(stack["id"], stack["name"], "Bucket")}
    assert cfn.describe_stacks(StackName=stack["name"])["Stacks"][0]["Tags"] == [
        {"Key": "team", "Value": "cs"}]


def test_a_change_set_of_new_properties_and_stack_tags_lists_both(cairn, stack):
    cfn = cairn.client("cloudformation")
    made = cfn.create_change_set(
        StackName=stack["name"], ChangeSetName="both",
        TemplateBody=template(stack["topic_name"], stack["bucket"], display="Shown"),
        Tags=[{"Key": "team", "Value": "both"}])
    changes = describe_changes(cfn, made["Id"])
    assert sorted(changes) == ["Bucket", "Topic"]
    topic = changes["Topic"]
    assert topic["Scope"] == ["Properties", "Tags"]
    assert topic["Replacement"] == "False"
    assert topic["Details"] == [
        {"Target": {"Attribute": "Properties", "Name": "DisplayName",
                    "RequiresRecreation": "Never"},
         "Evaluation": "Static", "ChangeSource": "DirectModification"},
        TAGS_DETAIL]
    assert changes["Bucket"]["Scope"] == ["Tags"]

    # Without new tags, the same template lists only the property.
    cfn.delete_change_set(ChangeSetName=made["Id"])
    made = cfn.create_change_set(
        StackName=stack["name"], ChangeSetName="props",
        TemplateBody=template(stack["topic_name"], stack["bucket"], display="Shown"))
    changes = describe_changes(cfn, made["Id"])
    assert sorted(changes) == ["Topic"]
    assert changes["Topic"]["Scope"] == ["Properties"]


def test_the_same_stack_tags_in_another_order_are_no_change(cairn, stack):
    cfn = cairn.client("cloudformation")
    reordered = [{"Key": "owner", "Value": "stack"}, {"Key": "team", "Value": "sec"}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.update_stack(StackName=stack["name"], UsePreviousTemplate=True, Tags=reordered)
    assert e.value.response["Error"]["Message"] == "No updates are to be performed."
    created = cfn.create_change_set(StackName=stack["name"], ChangeSetName="reordered",
                                    UsePreviousTemplate=True, Tags=reordered)
    with pytest.raises(botocore.exceptions.WaiterError):
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=created["Id"])
    described = cfn.describe_change_set(ChangeSetName=created["Id"])
    assert described["Status"] == "FAILED" and described["Changes"] == []
    assert "didn't contain changes" in described["StatusReason"]
