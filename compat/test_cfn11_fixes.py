"""CloudFormation as cfn11 found it wanting: a stack's resolved resource properties are
bounded in all (4 MiB), so a small template cannot make every operation store hundreds of
megabytes on its resources and events (F7); a key update orders enabling, rotation and
disabling as AWS's handler does (F1, F5); a trail with basic and advanced selectors fails
as CloudTrail refuses the pair (F2); written-out defaults are no change (F4); NoEcho values
are masked in stack events (F6)."""

import json
import time

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


def key_template(enabled, rotation):
    return json.dumps({"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "Enabled": enabled, "EnableKeyRotation": rotation}}}})


def test_a_key_update_that_disables_it_and_turns_rotation_on_completes(cairn):
    """F1: AWS's key handler updates rotation before it disables a key."""
    cfn, kms = cairn.client("cloudformation"), cairn.client("kms")
    stack = cfn.create_stack(StackName="key-off-rotate", TemplateBody=key_template(True, False))["StackId"]
    assert settled_stack(cfn, stack) == "CREATE_COMPLETE"
    cfn.update_stack(StackName=stack, TemplateBody=key_template(False, True))
    assert settled_stack(cfn, stack) == "UPDATE_COMPLETE"
    key = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Key")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"
    # And back: enabled first, then rotation off.
    cfn.update_stack(StackName=stack, TemplateBody=key_template(True, False))
    assert settled_stack(cfn, stack) == "UPDATE_COMPLETE"
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False


def test_rotation_of_a_key_that_stays_disabled_is_refused_with_the_handlers_reason(cairn):
    """F5: CloudFormation's reason, not KMS's DisabledException."""
    cfn = cairn.client("cloudformation")
    stack = cfn.create_stack(StackName="key-stays-off", TemplateBody=key_template(False, False))["StackId"]
    assert settled_stack(cfn, stack) == "CREATE_COMPLETE"
    cfn.update_stack(StackName=stack, TemplateBody=key_template(False, True))
    status = settled_stack(cfn, stack)
    reasons = [e.get("ResourceStatusReason", "") for e in
               cfn.describe_stack_events(StackName=stack)["StackEvents"]
               if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert any(r.startswith("You cannot modify the EnableKeyRotation property when the Enabled "
                            "property is false") for r in reasons), reasons
    assert status == "UPDATE_ROLLBACK_COMPLETE", status


def test_a_trail_with_basic_and_advanced_selectors_fails_as_cloudtrail_refuses_the_pair(cairn):
    """F2: the basic selectors were dropped silently and the trail logged less than its
    template said."""
    cfn, s3 = cairn.client("cloudformation"), cairn.client("s3")
    from conftest import cloudtrail_policy
    s3.create_bucket(Bucket="both-selectors")
    s3.put_bucket_policy(Bucket="both-selectors", Policy=cloudtrail_policy("both-selectors"))
    template = {"Resources": {"Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {
        "IsLogging": True, "S3BucketName": "both-selectors",
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}],
        "AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]}]}]}}}}
    stack = cfn.create_stack(StackName="both-selectors", TemplateBody=json.dumps(template))["StackId"]
    assert settled_stack(cfn, stack) == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in
               cfn.describe_stack_events(StackName=stack)["StackEvents"]
               if e["ResourceStatus"] == "CREATE_FAILED"]
    assert any("You cannot apply both EventSelectors and AdvancedEventSelectors" in r
               for r in reasons), reasons


def test_written_out_defaults_are_no_change(cairn):
    """F4: a template spelling out a property's default (as generated templates do) made the
    stack roll back although the value is what Cairn does anyway."""
    cfn = cairn.client("cloudformation")
    template = {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
            "AccessControl": "Private", "ObjectLockEnabled": False}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"Origin": "AWS_KMS"}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"ContentBasedDeduplication": "false"}},
    }}
    stack = cfn.create_stack(StackName="written-defaults", TemplateBody=json.dumps(template))["StackId"]
    assert settled_stack(cfn, stack) == "CREATE_COMPLETE"
    # Another value is still refused with Cairn's reason.
    template["Resources"]["Key"]["Properties"]["Origin"] = "EXTERNAL"
    cfn.update_stack(StackName=stack, TemplateBody=json.dumps(template))
    assert settled_stack(cfn, stack) == "UPDATE_ROLLBACK_COMPLETE"
    cfn.delete_stack(StackName=stack)
    assert settled_stack(cfn, stack) == "DELETE_COMPLETE"


def test_no_echo_values_are_masked_in_stack_events(cairn):
    """F6: DescribeStacks masked a NoEcho parameter but DescribeStackEvents'
    ResourceProperties (and the stack's notifications) showed it in clear."""
    cfn = cairn.client("cloudformation")
    template = {
        "Parameters": {"Secret": {"Type": "String", "NoEcho": True}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {
            "DisplayName": {"Ref": "Secret"},
            "Tags": [{"Key": "s", "Value": {"Fn::Sub": "x-${Secret}"}}]}}},
    }
    stack = cfn.create_stack(StackName="no-echo-events", TemplateBody=json.dumps(template),
                             Parameters=[{"ParameterKey": "Secret", "ParameterValue": "hunter2SECRET"}])["StackId"]
    assert settled_stack(cfn, stack) == "CREATE_COMPLETE"
    shown = [e["ResourceProperties"] for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]
             if "ResourceProperties" in e]
    assert shown, "the resource's properties are shown"
    assert all("hunter2SECRET" not in p for p in shown), shown
    assert any('"x-****"' in p for p in shown), shown


def test_a_change_set_of_the_same_large_template_has_no_changes(cairn):
    """recheck33b: a change set resolved every resource with one 1 MiB budget for the whole
    stack, so past it unchanged resources were listed as `Modify`."""
    cfn = cairn.client("cloudformation")
    param = [{"ParameterKey": "P", "ParameterValue": ",".join(["a"] * 2048)}]
    body = amplifying(3)
    stack = cfn.create_stack(StackName="same-large", TemplateBody=body, Parameters=param)["StackId"]
    assert settled_stack(cfn, stack) == "CREATE_COMPLETE"
    cs = cfn.create_change_set(StackName=stack, ChangeSetName="again", TemplateBody=body,
                               Parameters=param)["Id"]
    for _ in range(600):
        described = cfn.describe_change_set(ChangeSetName=cs)
        if not described["Status"].endswith("_IN_PROGRESS") and described["Status"] != "CREATE_PENDING":
            break
        time.sleep(0.05)
    assert described["Status"] == "FAILED", described
    assert "didn't contain changes" in described["StatusReason"], described
    assert described.get("Changes", []) == []
