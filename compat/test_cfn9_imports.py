"""CloudFormation found by outside tester cfn9 (each failed before its fix): an import of an
export no stack has fails the whole operation before anything is made, as on AWS (the
resources not needing it were created first, and only the resource importing it failed); a
stack's SNS call denied names SNS's own error code."""

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


def test_a_denied_sns_call_names_snss_own_code(cairn):
    """cfn9: a stack's SNS call denied for its caller was reported `Error Code: AccessDenied`;
    SNS answers and records `AuthorizationError`."""
    import json
    iam = cairn.client("iam")
    iam.create_user(UserName="cf-no-sns")
    iam.put_user_policy(UserName="cf-no-sns", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="cf-no-sns")["AccessKey"]
    cfn = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudformation")
    cfn.create_stack(StackName="no-sns", TemplateBody="Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    root = cairn.client("cloudformation")
    assert settled_stack(root, "no-sns") == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in
               root.describe_stack_events(StackName="no-sns")["StackEvents"]
               if e["LogicalResourceId"] == "T"]
    assert any("Error Code: AuthorizationError" in r for r in reasons), reasons
