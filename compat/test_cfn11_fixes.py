"""CloudFormation as cfn11 found it wanting: a stack's resolved resource properties are
bounded in all (4 MiB), so a small template cannot make every operation store hundreds of
megabytes on its resources and events (F7)."""

import json

from conftest import settled_stack


def amplifying(resources, properties=8):
    """A template of `resources` AWS::CDK::Metadata resources, each with `properties`
    properties that expand a 4 KB parameter about 16 times."""
    value = {"Fn::Join": ["x" * 30, {"Fn::Split": [",", {"Ref": "P"}]}]}
    return json.dumps({
        "Parameters": {"P": {"Type": "String"}},
        "Resources": {f"M{i}": {"Type": "AWS::CDK::Metadata",
                                "Properties": {f"p{j}": value for j in range(properties)}}
                      for i in range(resources)},
    })


def test_a_stacks_resolved_properties_are_bounded_in_all(cairn):
    cfn = cairn.client("cloudformation")
    param = [{"ParameterKey": "P", "ParameterValue": ",".join(["a"] * 2048)}]
    stack_id = cfn.create_stack(StackName="amplified", TemplateBody=amplifying(12),
                                Parameters=param)["StackId"]
    assert settled_stack(cfn, stack_id) == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in
               cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
               if e["ResourceStatus"] == "CREATE_FAILED"]
    assert any("would exceed 4194304 characters in all" in r for r in reasons), reasons
    # A stack below the bound is made.
    ok = cfn.create_stack(StackName="amplified-ok", TemplateBody=amplifying(4),
                          Parameters=param)["StackId"]
    assert settled_stack(cfn, ok) == "CREATE_COMPLETE"
    cfn.delete_stack(StackName=ok)
    assert settled_stack(cfn, ok) == "DELETE_COMPLETE"
