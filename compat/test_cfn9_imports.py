"""An import of an export no stack has fails the whole operation before anything is made, as
on AWS (outside tester cfn9; failed before the fix): the resources not needing it were
created first, and only the resource importing it failed."""

from conftest import settled_stack


def test_a_missing_export_fails_the_create_before_anything_is_made(cairn):
    cfn, sns = cairn.client("cloudformation"), cairn.client("sns")
    body = """Resources:
  First:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: made-before-import
  Second:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !ImportValue no-such-export
"""
    cfn.create_stack(StackName="imports", TemplateBody=body)
    assert settled_stack(cfn, "imports") == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="imports")["StackEvents"]
    assert not [e for e in events if e["LogicalResourceId"] == "First"], events
    reasons = [e.get("ResourceStatusReason", "") for e in events]
    assert any("No export named no-such-export found." in r for r in reasons), reasons
    assert not [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":made-before-import")]


def test_a_missing_export_fails_an_update_before_anything_changes(cairn):
    cfn = cairn.client("cloudformation")
    body = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: {}\n"
    cfn.create_stack(StackName="imports-up", TemplateBody=body.format("before"))
    assert settled_stack(cfn, "imports-up") == "CREATE_COMPLETE"
    cfn.update_stack(StackName="imports-up",
                     TemplateBody=body.format("!ImportValue no-such-export"))
    assert settled_stack(cfn, "imports-up") == "UPDATE_ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="imports-up")["StackEvents"]
    assert not [e for e in events if e["LogicalResourceId"] == "T"
                and e["ResourceStatus"] == "UPDATE_IN_PROGRESS"], events
