"""A stack left CREATE_FAILED or UPDATE_FAILED with its resources preserved (rollback
disabled) is resumed by UpdateStack, as the CloudFormation User Guide's "Retry" and
"Update" (recheck31b F2; before, UpdateStack said the stack "can not be updated" and only
RollbackStack or DeleteStack were left): the failed resources are tried again, the
successful ones kept."""

from conftest import settled_stack

TOPIC = "  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: {}\n"
BUCKET = "  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: {}\n    DependsOn: T\n"


def physical(cfn, stack, logical):
    return cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical)[
        "StackResourceDetail"]["PhysicalResourceId"]


def test_retry_with_the_same_template_after_the_cause_is_fixed(cairn):
    cfn, s3 = cairn.client("cloudformation"), cairn.client("s3")
    s3.create_bucket(Bucket="resume-taken-1")
    body = "Resources:\n" + TOPIC.format("kept") + BUCKET.format("resume-taken-1")
    cfn.create_stack(StackName="resume-create", TemplateBody=body, DisableRollback=True)
    assert settled_stack(cfn, "resume-create") == "CREATE_FAILED"
    topic = physical(cfn, "resume-create", "T")
    s3.delete_bucket(Bucket="resume-taken-1")
    cfn.update_stack(StackName="resume-create", UsePreviousTemplate=True)
    assert settled_stack(cfn, "resume-create") == "UPDATE_COMPLETE"
    assert physical(cfn, "resume-create", "T") == topic, "the topic made before is kept"
    assert physical(cfn, "resume-create", "B") == "resume-taken-1"
    s3.head_bucket(Bucket="resume-taken-1")


def test_update_with_a_fixed_template_after_a_failed_update(cairn):
    cfn, s3 = cairn.client("cloudformation"), cairn.client("s3")
    s3.create_bucket(Bucket="resume-taken-2")
    stack_id = cfn.create_stack(StackName="resume-update",
                                TemplateBody="Resources:\n" + TOPIC.format("one"))["StackId"]
    assert settled_stack(cfn, "resume-update") == "CREATE_COMPLETE"
    cfn.update_stack(StackName="resume-update", DisableRollback=True,
                     TemplateBody="Resources:\n" + TOPIC.format("two") + BUCKET.format("resume-taken-2"))
    assert settled_stack(cfn, "resume-update") == "UPDATE_FAILED"
    cfn.update_stack(StackName="resume-update",
                     TemplateBody="Resources:\n" + TOPIC.format("two") + BUCKET.format("resume-free-2"))
    assert settled_stack(cfn, "resume-update") == "UPDATE_COMPLETE"
    assert physical(cfn, "resume-update", "B") == "resume-free-2"
    s3.head_bucket(Bucket="resume-taken-2")
    cfn.delete_stack(StackName="resume-update")
    assert settled_stack(cfn, stack_id) == "DELETE_COMPLETE"
