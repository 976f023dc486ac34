"""RollbackStack and DeleteStack's FORCE_DELETE_STACK (cfn8 left-outs #4 and #7; each failed
before its fix): a stack made with rollback disabled was a dead end once its create or update
failed (only DeleteStack cleared it), and a stack stuck in DELETE_FAILED ignored
`DeletionMode FORCE_DELETE_STACK`."""

import botocore.exceptions
import pytest

from conftest import settled_stack

TOPIC = "  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: {}\n"
TAKEN = "  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: {}\n"


def statuses(cfn, stack):
    return {(e["LogicalResourceId"], e["ResourceStatus"])
            for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]}


def test_rollback_stack_after_a_failed_create_deletes_what_was_made(cairn):
    cfn, s3, sns = (cairn.client(s) for s in ("cloudformation", "s3", "sns"))
    s3.create_bucket(Bucket="rbs-taken-1")
    body = "Resources:\n" + TOPIC.format("first") + TAKEN.format("rbs-taken-1") + \
        "    DependsOn: T\n"
    stack_id = cfn.create_stack(StackName="rbs-create", TemplateBody=body,
                                DisableRollback=True)["StackId"]
    assert settled_stack(cfn, "rbs-create") == "CREATE_FAILED"
    topic = cfn.describe_stack_resource(StackName="rbs-create", LogicalResourceId="T")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert topic in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert cfn.rollback_stack(StackName="rbs-create")["StackId"] == stack_id
    assert settled_stack(cfn, "rbs-create") == "ROLLBACK_COMPLETE"
    assert topic not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert ("T", "DELETE_COMPLETE") in statuses(cfn, stack_id)
    # The bucket the stack could not make is still its owner's.
    s3.head_bucket(Bucket="rbs-taken-1")
    cfn.delete_stack(StackName="rbs-create")
    assert settled_stack(cfn, stack_id) == "DELETE_COMPLETE"


def test_rollback_stack_after_a_failed_update_restores_the_previous_template(cairn):
    cfn, s3, sns = (cairn.client(s) for s in ("cloudformation", "s3", "sns"))
    s3.create_bucket(Bucket="rbs-taken-2")
    cfn.create_stack(StackName="rbs-update", TemplateBody="Resources:\n" + TOPIC.format("before"))
    assert settled_stack(cfn, "rbs-update") == "CREATE_COMPLETE"
    topic = cfn.describe_stack_resource(StackName="rbs-update", LogicalResourceId="T")[
        "StackResourceDetail"]["PhysicalResourceId"]
    body = "Resources:\n" + TOPIC.format("after") + TAKEN.format("rbs-taken-2") + \
        "    DependsOn: T\n"
    cfn.update_stack(StackName="rbs-update", TemplateBody=body, DisableRollback=True)
    assert settled_stack(cfn, "rbs-update") == "UPDATE_FAILED"
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == "after"
    cfn.rollback_stack(StackName="rbs-update")
    assert settled_stack(cfn, "rbs-update") == "UPDATE_ROLLBACK_COMPLETE"
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == "before"
    assert "after" not in cfn.get_template(StackName="rbs-update")["TemplateBody"]
    # Back in a stable state: updatable again.
    cfn.update_stack(StackName="rbs-update", TemplateBody="Resources:\n" + TOPIC.format("again"))
    assert settled_stack(cfn, "rbs-update") == "UPDATE_COMPLETE"


def test_rollback_stack_is_refused_outside_the_failed_states(cairn):
    cfn = cairn.client("cloudformation")
    stack_id = cfn.create_stack(StackName="rbs-fine",
                                TemplateBody="Resources:\n" + TOPIC.format("x"))["StackId"]
    assert settled_stack(cfn, "rbs-fine") == "CREATE_COMPLETE"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.rollback_stack(StackName="rbs-fine")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert e.value.response["Error"]["Message"] == \
        f"Stack:{stack_id} is in CREATE_COMPLETE state and can not be rolled back."
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.rollback_stack(StackName="rbs-none")
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_force_delete_skips_the_resources_that_failed_to_delete(cairn):
    cfn, s3, sns = (cairn.client(s) for s in ("cloudformation", "s3", "sns"))
    body = "Resources:\n" + TOPIC.format("t") + TAKEN.format("rbs-full")
    stack_id = cfn.create_stack(StackName="rbs-force", TemplateBody=body)["StackId"]
    assert settled_stack(cfn, "rbs-force") == "CREATE_COMPLETE"
    s3.put_object(Bucket="rbs-full", Key="keep", Body=b"data")
    cfn.delete_stack(StackName="rbs-force")
    assert settled_stack(cfn, stack_id) == "DELETE_FAILED"
    # STANDARD is the same as no mode: it fails again.
    cfn.delete_stack(StackName="rbs-force", DeletionMode="STANDARD")
    assert settled_stack(cfn, stack_id) == "DELETE_FAILED"
    cfn.delete_stack(StackName="rbs-force", DeletionMode="FORCE_DELETE_STACK")
    assert settled_stack(cfn, stack_id) == "DELETE_COMPLETE"
    assert ("B", "DELETE_SKIPPED") in statuses(cfn, stack_id)
    assert s3.get_object(Bucket="rbs-full", Key="keep")["Body"].read() == b"data"
    assert not [t for t in sns.list_topics()["Topics"] if ":rbs-force-" in t["TopicArn"]]
