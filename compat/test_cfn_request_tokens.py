"""A retried CreateStack or UpdateStack, named by its `ClientRequestToken` (cfn8 left-out #10;
failed before the fix): the retry of a create whose answer was lost was refused with
AlreadyExistsException, and the retry of an update with "No updates are to be performed" or
a second run. AWS takes the token so that such a retry answers as the first call did."""

import botocore.exceptions
import pytest

from conftest import settled_stack

TOPIC = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: {}\n"


def stack_events(cfn, stack, status):
    return [e for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]
            if e["LogicalResourceId"] == e["StackName"] and e["ResourceStatus"] == status]


def test_a_retried_create_and_update_answer_as_the_first_call(cairn):
    cfn = cairn.client("cloudformation")
    first = cfn.create_stack(StackName="tok", TemplateBody=TOPIC.format("a"),
                             ClientRequestToken="create-1")["StackId"]
    again = cfn.create_stack(StackName="tok", TemplateBody=TOPIC.format("a"),
                             ClientRequestToken="create-1")["StackId"]
    assert again == first
    assert settled_stack(cfn, "tok") == "CREATE_COMPLETE"
    assert cfn.create_stack(StackName="tok", TemplateBody=TOPIC.format("a"),
                            ClientRequestToken="create-1")["StackId"] == first
    assert len(stack_events(cfn, first, "CREATE_IN_PROGRESS")) == 1
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.create_stack(StackName="tok", TemplateBody=TOPIC.format("a"),
                         ClientRequestToken="create-2")
    assert e.value.response["Error"]["Code"] == "AlreadyExistsException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.create_stack(StackName="tok", TemplateBody=TOPIC.format("a"))
    assert e.value.response["Error"]["Code"] == "AlreadyExistsException"

    cfn.update_stack(StackName="tok", TemplateBody=TOPIC.format("b"), ClientRequestToken="up-1")
    assert settled_stack(cfn, "tok") == "UPDATE_COMPLETE"
    assert cfn.update_stack(StackName="tok", TemplateBody=TOPIC.format("b"),
                            ClientRequestToken="up-1")["StackId"] == first
    assert settled_stack(cfn, "tok") == "UPDATE_COMPLETE"
    assert len(stack_events(cfn, first, "UPDATE_IN_PROGRESS")) == 1
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.update_stack(StackName="tok", TemplateBody=TOPIC.format("b"), ClientRequestToken="up-2")
    assert e.value.response["Error"]["Message"] == "No updates are to be performed."
    # Every event of the operation carries its token.
    tokens = {e.get("ClientRequestToken") for e in stack_events(cfn, first, "UPDATE_COMPLETE")}
    assert tokens == {"up-1"}


def test_a_retried_execute_change_set_answers_as_the_first_call(cairn):
    """cfn9: ExecuteChangeSet sent again with its ClientRequestToken was
    InvalidChangeSetStatus [EXECUTE_COMPLETE]."""
    cfn = cairn.client("cloudformation")
    cfn.create_change_set(StackName="tok-cs", ChangeSetName="first", ChangeSetType="CREATE",
                          TemplateBody=TOPIC.format("a"))
    cfn.get_waiter("change_set_create_complete").wait(StackName="tok-cs", ChangeSetName="first",
                                                      WaiterConfig={"Delay": 1})
    cfn.execute_change_set(StackName="tok-cs", ChangeSetName="first", ClientRequestToken="exec-1")
    assert settled_stack(cfn, "tok-cs") == "CREATE_COMPLETE"
    cfn.execute_change_set(StackName="tok-cs", ChangeSetName="first", ClientRequestToken="exec-1")
    assert settled_stack(cfn, "tok-cs") == "CREATE_COMPLETE"
    assert len(stack_events(cfn, "tok-cs", "CREATE_IN_PROGRESS")) == 1
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.execute_change_set(StackName="tok-cs", ChangeSetName="first",
                               ClientRequestToken="exec-2")
    assert e.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
