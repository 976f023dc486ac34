"""A change set made before a direct UpdateStack is `OBSOLETE` and cannot be executed (it
was computed against the stack as it was: running it would silently undo the update), with
CloudFormation's message naming the execution status. Before, it stayed AVAILABLE and ran.
Also: a dynamic reference Cairn cannot resolve is refused."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import settled_stack
from test_cfn_fixes import user_client


def topic(display):
    return json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic",
                                           "Properties": {"DisplayName": display}}}})


def test_a_change_set_older_than_a_direct_update_is_obsolete(cairn):
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="stale", TemplateBody=topic("one"))
    assert settled_stack(cfn, "stale") == "CREATE_COMPLETE"
    cfn.create_change_set(StackName="stale", ChangeSetName="old", TemplateBody=topic("two"))
    for _ in range(600):
        cs = cfn.describe_change_set(StackName="stale", ChangeSetName="old")
        if cs["Status"] == "CREATE_COMPLETE":
            break
        time.sleep(0.05)
    assert cs["ExecutionStatus"] == "AVAILABLE"
    cfn.update_stack(StackName="stale", TemplateBody=topic("three"))
    assert settled_stack(cfn, "stale") == "UPDATE_COMPLETE"
    cs = cfn.describe_change_set(StackName="stale", ChangeSetName="old")
    assert cs["ExecutionStatus"] == "OBSOLETE"
    with pytest.raises(ClientError) as e:
        cfn.execute_change_set(StackName="stale", ChangeSetName="old")
    assert e.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    assert "current execution status of [OBSOLETE]" in e.value.response["Error"]["Message"]
    arn = cfn.describe_stack_resources(StackName="stale")["StackResources"][0]["PhysicalResourceId"]
    attrs = cairn.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "three"


def test_a_dynamic_reference_is_refused_not_stored_as_text(cairn):
    """`{{resolve:ssm:…}}` and `{{resolve:secretsmanager:…}}` were kept as the property's
    text (a topic named after the reference); Cairn has nothing to resolve them from."""
    cfn = cairn.client("cloudformation")
    for ref in ("{{resolve:ssm:/app/name}}", "{{resolve:secretsmanager:db:SecretString:pw}}"):
        with pytest.raises(ClientError) as e:
            cfn.create_stack(StackName="dynref", TemplateBody=json.dumps({"Resources": {"T": {
                "Type": "AWS::SNS::Topic", "Properties": {"DisplayName": ref}}}}))
        assert e.value.response["Error"]["Code"] == "ValidationError"
        assert ref in e.value.response["Error"]["Message"]


BAD = ("Resources:\n  T: {Type: AWS::SNS::Topic}\n"
       "  A: {Type: AWS::KMS::Alias, DependsOn: T, Properties: {AliasName: alias/aws/q, TargetKeyId: x}}\n")


def change_set_ready(cfn, stack, name):
    for _ in range(600):
        cs = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
        if cs["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return cs
        time.sleep(0.05)
    raise AssertionError("change set still being made")


@pytest.mark.parametrize("choice,ends", [("DO_NOTHING", "CREATE_FAILED"),
                                         ("ROLLBACK", "ROLLBACK_COMPLETE"),
                                         ("DELETE", "DELETE_COMPLETE")])
def test_on_stack_failure_decides_what_a_failed_create_leaves(cairn, choice, ends):
    """CreateChangeSet's OnStackFailure was ignored: every failed create rolled back."""
    cfn = cairn.client("cloudformation")
    stack = f"osf-{choice.lower().replace('_', '-')}"
    cfn.create_change_set(StackName=stack, ChangeSetName="x", ChangeSetType="CREATE",
                          OnStackFailure=choice, TemplateBody=BAD)
    change_set_ready(cfn, stack, "x")
    cfn.execute_change_set(StackName=stack, ChangeSetName="x")
    for _ in range(1200):
        summaries = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == stack]
        if summaries and not summaries[0]["StackStatus"].endswith("IN_PROGRESS"):
            break
        time.sleep(0.05)
    assert summaries[0]["StackStatus"] == ends


def test_a_change_set_named_by_arn_is_authorized_on_its_own_stack(cairn):
    """cfn4: ExecuteChangeSet (and Describe/DeleteChangeSet, GetTemplate) with a change set
    ARN was authorized on `*`, or on whatever `StackName` said, and ran on the change set's
    own stack: a user explicitly denied that stack executed its pending change set."""
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="prod-guarded", TemplateBody=topic("approved"))
    assert settled_stack(cfn, "prod-guarded") == "CREATE_COMPLETE"
    arn = cfn.create_change_set(StackName="prod-guarded", ChangeSetName="review-me",
                                TemplateBody=topic("UNAPPROVED"))["Id"]
    for _ in range(600):
        if cfn.describe_change_set(ChangeSetName=arn)["Status"] == "CREATE_COMPLETE":
            break
        time.sleep(0.05)
    cfn.create_stack(StackName="mine-1", TemplateBody=topic("mine"))
    assert settled_stack(cfn, "mine-1") == "CREATE_COMPLETE"
    user = user_client(cairn, "denyprod", [
        {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudformation:*",
         "Resource": "arn:aws:cloudformation:us-east-1:123456789012:stack/prod-*/*"}])()
    calls = [lambda **k: user.execute_change_set(ChangeSetName=arn, **k),
             lambda **k: user.delete_change_set(ChangeSetName=arn, **k),
             lambda **k: user.describe_change_set(ChangeSetName=arn, **k),
             lambda **k: user.get_template(ChangeSetName=arn, **k)]
    for call in calls:
        for extra in ({}, {"StackName": "mine-1"}):
            with pytest.raises(ClientError) as e:
                call(**extra)
            assert e.value.response["Error"]["Code"] == "AccessDenied", extra
    cs = cfn.describe_change_set(ChangeSetName=arn)
    assert cs["ExecutionStatus"] == "AVAILABLE" and cs["StackName"] == "prod-guarded"
    # The owner naming another stack beside the ARN finds no such change set there.
    with pytest.raises(ClientError) as e:
        cfn.execute_change_set(ChangeSetName=arn, StackName="mine-1")
    assert e.value.response["Error"]["Code"] == "ChangeSetNotFound"
    cfn.execute_change_set(ChangeSetName=arn, StackName="prod-guarded")
    assert settled_stack(cfn, "prod-guarded") == "UPDATE_COMPLETE"

