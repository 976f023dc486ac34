"""CloudFormation as cfn10 found it wanting: an output naming a resource its condition
leaves out is refused by the call, before anything is made (F1); malformed
`NotificationARNs` are refused with SNS's reason (F2); DescribeStacks keeps the
`ChangeSetId` of the change set that made or last updated the stack (F3)."""

import pytest
from botocore.exceptions import ClientError

from conftest import err, settled_stack

LEFT_OUT = """Conditions:
  No: !Equals [a, b]
Resources:
  X: {Type: AWS::SNS::Topic, Condition: No}
  Y: {Type: AWS::SNS::Topic}
Outputs:
  O: {Value: !Ref X}
"""


def test_an_output_naming_a_left_out_resource_is_refused_by_the_call(cairn):
    cfn, sns = cairn.client("cloudformation"), cairn.client("sns")
    before = sns.list_topics()["Topics"]
    for call in (
        lambda: cfn.create_stack(StackName="cond-out", TemplateBody=LEFT_OUT),
        lambda: cfn.create_change_set(StackName="cond-out-cs", ChangeSetName="c",
                                      ChangeSetType="CREATE", TemplateBody=LEFT_OUT),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == ("ValidationError", 400)
        assert e.value.response["Error"]["Message"] == (
            "Template format error: Unresolved resource dependencies [X] in the Outputs block of the template")
    assert sns.list_topics()["Topics"] == before, "nothing was made"
    assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "cond-out"]


@pytest.mark.parametrize("arn, what", [
    ("not-an-arn", "TopicArn"),
    ("arn:aws:sns:us-east-1::some-sns-topic", "AccountId"),
    ("arn:aws:sns:us-east-1:12345:t", "AccountId"),
])
def test_malformed_notification_arns_are_refused(cairn, arn, what):
    cfn = cairn.client("cloudformation")
    body = "Resources:\n  T: {Type: AWS::SNS::Topic}\n"
    for call in (
        lambda: cfn.create_stack(StackName="notif-bad", TemplateBody=body, NotificationARNs=[arn]),
        lambda: cfn.create_change_set(StackName="notif-bad", ChangeSetName="c", ChangeSetType="CREATE",
                                      TemplateBody=body, NotificationARNs=[arn]),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == ("ValidationError", 400)
        assert e.value.response["Error"]["Message"].startswith(
            f"Invalid parameter: {what} (Service: AmazonSNS; Status Code: 400; Error Code: InvalidParameter")
    # A well-formed topic ARN is taken, and an update naming a malformed one is refused.
    good = cairn.client("sns").create_topic(Name="notif-good")["TopicArn"]
    stack_id = cfn.create_stack(StackName="notif-ok", TemplateBody=body, NotificationARNs=[good])["StackId"]
    assert settled_stack(cfn, "notif-ok") == "CREATE_COMPLETE"
    with pytest.raises(ClientError) as e:
        cfn.update_stack(StackName="notif-ok", UsePreviousTemplate=True, NotificationARNs=[arn])
    assert err(e) == ("ValidationError", 400)
    assert cfn.describe_stacks(StackName="notif-ok")["Stacks"][0]["NotificationARNs"] == [good]
    cfn.delete_stack(StackName="notif-ok")
    assert settled_stack(cfn, stack_id) == "DELETE_COMPLETE"


def test_describe_stacks_keeps_the_change_set_that_made_the_stack(cairn):
    cfn = cairn.client("cloudformation")

    def run(kind, body):
        cs = cfn.create_change_set(StackName="keeps-cs", ChangeSetName=f"cs-{kind.lower()}",
                                   ChangeSetType=kind, TemplateBody=body)["Id"]
        cfn.get_waiter("change_set_create_complete").wait(
            ChangeSetName=cs, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        cfn.execute_change_set(ChangeSetName=cs)
        return cs

    made = run("CREATE", "Resources:\n  T: {Type: AWS::SNS::Topic}\n")
    assert settled_stack(cfn, "keeps-cs") == "CREATE_COMPLETE"
    stack = cfn.describe_stacks(StackName="keeps-cs")["Stacks"][0]
    assert stack["ChangeSetId"] == made
    assert cfn.describe_change_set(ChangeSetName=made)["ExecutionStatus"] == "EXECUTE_COMPLETE"
    updated = run("UPDATE", "Resources:\n  T: {Type: AWS::SNS::Topic}\n  U: {Type: AWS::SNS::Topic}\n")
    assert settled_stack(cfn, "keeps-cs") == "UPDATE_COMPLETE"
    assert cfn.describe_stacks(StackName="keeps-cs")["Stacks"][0]["ChangeSetId"] == updated
    # An update of its own has no change set.
    cfn.update_stack(StackName="keeps-cs", TemplateBody="Resources:\n  T: {Type: AWS::SNS::Topic}\n")
    assert settled_stack(cfn, "keeps-cs") == "UPDATE_COMPLETE"
    assert "ChangeSetId" not in cfn.describe_stacks(StackName="keeps-cs")["Stacks"][0]
    stack_id = cfn.describe_stacks(StackName="keeps-cs")["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName="keeps-cs")
    assert settled_stack(cfn, stack_id) == "DELETE_COMPLETE"
