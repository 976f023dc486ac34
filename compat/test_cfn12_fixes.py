"""CloudFormation as cfn12 found it wanting: an update checks the type's required
properties as a create does (dropping a trail's `IsLogging` stopped the trail, dropping its
`S3BucketName` was taken); SetStackPolicy refuses a policy with no statement (recheck34)."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import cloudtrail_policy, settled_stack


def trail_template(bucket, **drop):
    props = {"S3BucketName": bucket, "IsLogging": True, "TrailName": "cfn12-trail"}
    for k in drop:
        props.pop(k)
    return json.dumps({"Resources": {"Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": props}}})


def test_an_update_dropping_a_required_property_fails_and_rolls_back(cairn):
    s3, cfn, ct = cairn.client("s3"), cairn.client("cloudformation"), cairn.client("cloudtrail")
    s3.create_bucket(Bucket="cfn12-bucket")
    s3.put_bucket_policy(Bucket="cfn12-bucket", Policy=cloudtrail_policy("cfn12-bucket"))
    stack = cfn.create_stack(StackName="cfn12-trail", TemplateBody=trail_template("cfn12-bucket"))["StackId"]
    assert settled_stack(cfn, stack) == "CREATE_COMPLETE"
    for key in ("IsLogging", "S3BucketName"):
        cfn.update_stack(StackName=stack, TemplateBody=trail_template("cfn12-bucket", **{key: None}))
        assert settled_stack(cfn, stack) == "UPDATE_ROLLBACK_COMPLETE"
        reasons = [e.get("ResourceStatusReason", "") for e in
                   cfn.describe_stack_events(StackName=stack)["StackEvents"]
                   if e["ResourceStatus"] == "UPDATE_FAILED" and e["LogicalResourceId"] == "Trail"]
        assert (f"Properties validation failed for resource Trail with message: "
                f"#: required key [{key}] not found") in reasons, reasons
        assert ct.get_trail_status(Name="cfn12-trail")["IsLogging"] is True
        assert ct.get_trail(Name="cfn12-trail")["Trail"]["S3BucketName"] == "cfn12-bucket"
    cfn.delete_stack(StackName=stack)
    assert settled_stack(cfn, stack) == "DELETE_COMPLETE"


def test_a_stack_policy_with_an_empty_statement_list_is_refused(cairn):
    """recheck34 F2: `{"Statement": []}` was taken, and then denied every update."""
    cfn = cairn.client("cloudformation")
    stack = cfn.create_stack(StackName="cfn12-policy", TemplateBody=json.dumps(
        {"Resources": {"M": {"Type": "AWS::CDK::Metadata"}}}))["StackId"]
    assert settled_stack(cfn, stack) == "CREATE_COMPLETE"
    with pytest.raises(ClientError) as e:
        cfn.set_stack_policy(StackName=stack, StackPolicyBody='{"Statement": []}')
    assert e.value.response["Error"]["Code"] == "ValidationError"
    cfn.set_stack_policy(StackName=stack, StackPolicyBody="{}")
    cfn.delete_stack(StackName=stack)


def test_resources_by_physical_id_are_authorized_on_their_stack(cairn):
    """cfn12 F2: DescribeStackResources by PhysicalResourceId was authorized on `*`, so a
    Deny on the stack did not apply (and an Allow on the stack alone did not either)."""
    from conftest import user_with
    cfn = cairn.client("cloudformation")
    stack = cfn.create_stack(StackName="cfn12-phys", TemplateBody=json.dumps(
        {"Resources": {"G": {"Type": "AWS::Logs::LogGroup",
                             "Properties": {"LogGroupName": "cfn12-phys-group"}}}}))["StackId"]
    assert settled_stack(cfn, stack) == "CREATE_COMPLETE"
    on_stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/cfn12-phys/*"
    denied = user_with(cairn, "cfn12-denied", [
        {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudformation:*", "Resource": on_stack}])("cloudformation")
    with pytest.raises(ClientError) as e:
        denied.describe_stack_resources(PhysicalResourceId="cfn12-phys-group")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    allowed = user_with(cairn, "cfn12-allowed", [
        {"Effect": "Allow", "Action": "cloudformation:DescribeStackResources",
         "Resource": on_stack}])("cloudformation")
    got = allowed.describe_stack_resources(PhysicalResourceId="cfn12-phys-group")["StackResources"]
    assert [r["LogicalResourceId"] for r in got] == ["G"]
    cfn.delete_stack(StackName=stack)
