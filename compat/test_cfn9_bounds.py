"""Bounded template results (outside tester cfn9; failed before the fix): a 50 KB template
repeating a 4 KB parameter in `Fn::Sub` made a 51 MB stack output, stored and shown by every
DescribeStacks (20 such stacks made one listing of 206 MB). `Fn::Sub` and `Fn::Join` make at
most 65,536 characters, and a stack's outputs hold at most 1 MiB together."""

import json

from conftest import settled_stack


def test_an_expanding_sub_fails_the_stack(cairn):
    cfn = cairn.client("cloudformation")
    big = "${P}" * 20
    body = ("Parameters:\n  P:\n    Type: String\n"
            "Resources:\n  T:\n    Type: AWS::SNS::Topic\n"
            f"Outputs:\n  O:\n    Value: !Sub '{big}'\n")
    cfn.create_stack(StackName="expand", TemplateBody=body,
                     Parameters=[{"ParameterKey": "P", "ParameterValue": "x" * 4096}])
    assert settled_stack(cfn, "expand") == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in
               cfn.describe_stack_events(StackName="expand")["StackEvents"]]
    assert any("longer than 65536 characters" in r for r in reasons), reasons
    stack = cfn.describe_stacks(StackName="expand")["Stacks"][0]
    assert "Outputs" not in stack or all(len(o["OutputValue"]) <= 65536 for o in stack["Outputs"])


def test_outputs_within_bounds_are_kept(cairn):
    cfn = cairn.client("cloudformation")
    body = ("Parameters:\n  P:\n    Type: String\n"
            "Resources:\n  T:\n    Type: AWS::SNS::Topic\n"
            "Outputs:\n  O:\n    Value: !Join ['-', [!Ref P, !Ref P]]\n")
    cfn.create_stack(StackName="fits", TemplateBody=body,
                     Parameters=[{"ParameterKey": "P", "ParameterValue": "y" * 4096}])
    assert settled_stack(cfn, "fits") == "CREATE_COMPLETE"
    outputs = cfn.describe_stacks(StackName="fits")["Stacks"][0]["Outputs"]
    assert outputs[0]["OutputValue"] == "y" * 4096 + "-" + "y" * 4096


def test_outputs_over_a_mebibyte_together_fail_the_stack(cairn):
    cfn = cairn.client("cloudformation")
    each = "${P}" * 16
    outputs = "".join(f"  O{i}:\n    Value: !Sub '{each}'\n" for i in range(17))
    body = ("Parameters:\n  P:\n    Type: String\n"
            "Resources:\n  T:\n    Type: AWS::SNS::Topic\n"
            f"Outputs:\n{outputs}")
    cfn.create_stack(StackName="many", TemplateBody=body,
                     Parameters=[{"ParameterKey": "P", "ParameterValue": "z" * 4096}])
    assert settled_stack(cfn, "many") == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in
               cfn.describe_stack_events(StackName="many")["StackEvents"]]
    assert any("more than 1048576" in r for r in reasons), reasons


SUB = """Resources:
  T:
    Type: AWS::SNS::Topic
  S:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref T
      Protocol: http
      Endpoint: http://127.0.0.1:9/hook
{extra}"""


def test_a_subscriptions_filter_policy_and_raw_delivery_come_from_the_template(cairn):
    """cfn9: `FilterPolicy`, `RawMessageDelivery` and `DeliveryPolicy` were refused in
    templates, though Subscribe and SetSubscriptionAttributes take them."""
    cfn, sns = cairn.client("cloudformation"), cairn.client("sns")
    first = ("      FilterPolicy:\n        event: [created]\n"
             "      RawMessageDelivery: 'true'\n")
    cfn.create_stack(StackName="subattrs", TemplateBody=SUB.format(extra=first))
    assert settled_stack(cfn, "subattrs") == "CREATE_COMPLETE"
    arn = cfn.describe_stack_resource(StackName="subattrs", LogicalResourceId="S")[
        "StackResourceDetail"]["PhysicalResourceId"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == {"event": ["created"]}
    assert attrs["RawMessageDelivery"] == "true"
    second = "      FilterPolicy:\n        event: [deleted]\n"
    cfn.update_stack(StackName="subattrs", TemplateBody=SUB.format(extra=second))
    assert settled_stack(cfn, "subattrs") == "UPDATE_COMPLETE"
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == {"event": ["deleted"]}
    assert attrs["RawMessageDelivery"] == "false"


def test_removed_subscription_attributes_go_back_to_the_defaults(cairn):
    """recheck32: removing `FilterPolicy`, `FilterPolicyScope` or `DeliveryPolicy` from the
    template sent SNS an empty value, which it refuses: the update failed, and rolling back
    one that added a property (or was refused, `MessageBody`) left UPDATE_ROLLBACK_FAILED."""
    cfn, sns = cairn.client("cloudformation"), cairn.client("sns")
    full = ("      FilterPolicy:\n        event: [created]\n"
            "      FilterPolicyScope: MessageAttributes\n"
            "      DeliveryPolicy:\n        healthyRetryPolicy:\n          numRetries: 5\n")
    cfn.create_stack(StackName="subremove", TemplateBody=SUB.format(extra=full))
    assert settled_stack(cfn, "subremove") == "CREATE_COMPLETE"
    arn = cfn.describe_stack_resource(StackName="subremove", LogicalResourceId="S")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert "DeliveryPolicy" in sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    cfn.update_stack(StackName="subremove", TemplateBody=SUB.format(extra=""))
    assert settled_stack(cfn, "subremove") == "UPDATE_COMPLETE"
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert "FilterPolicy" not in attrs and "DeliveryPolicy" not in attrs, attrs
    # A refused update (Cairn does not filter message bodies) rolls back cleanly.
    refused = "      FilterPolicy:\n        event: [created]\n      FilterPolicyScope: MessageBody\n"
    cfn.update_stack(StackName="subremove", TemplateBody=SUB.format(extra=refused))
    assert settled_stack(cfn, "subremove") == "UPDATE_ROLLBACK_COMPLETE"
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert "FilterPolicy" not in attrs, attrs
    # SNS itself: an empty JSON object removes a filter policy, as AWS's CLI example does.
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                    AttributeValue='{"a": ["b"]}')
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue="{}")
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]


def test_nested_base64_is_bounded(cairn):
    """recheck32: `Fn::Base64` was not bounded; each level makes a third more, so a 2 KB
    template built a 229 MB string. It is refused like `Fn::Join` and `Fn::Sub`."""
    cfn = cairn.client("cloudformation")
    value = "!Ref P"
    for _ in range(12):
        value = f'{{"Fn::Base64": {value.replace("!Ref P", "{Ref: P}")}}}'
    body = ("Parameters:\n  P:\n    Type: String\n"
            "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n"
            f"      DisplayName: {value}\n")
    cfn.create_stack(StackName="b64", TemplateBody=body,
                     Parameters=[{"ParameterKey": "P", "ParameterValue": "q" * 4096}])
    assert settled_stack(cfn, "b64") == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in
               cfn.describe_stack_events(StackName="b64")["StackEvents"]]
    assert any("Fn::Base64 makes a string longer than 65536" in r for r in reasons), reasons
