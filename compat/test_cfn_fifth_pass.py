"""CloudFormation, fifth outside pass (cfn5): property values outside the type's schema fail
the resource before anything is made, as CloudFormation's schema validation does: an
`AWS::IAM::AccessKey` `Status` of `inactive` made a live key, a trail's
`IncludeManagementEvents: "yes"` silently became false, and an `AWS::KMS::Key`
`PendingWindowInDays` outside 7 to 30 failed only the stack's deletion."""

import json

import pytest

from conftest import cloudtrail_policy, settled_stack


def events_reason(cfn, stack, logical):
    for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]:
        if e["LogicalResourceId"] == logical and e["ResourceStatus"] == "CREATE_FAILED":
            return e.get("ResourceStatusReason", "")
    return None


@pytest.mark.parametrize("name,resources,logical,words", [
    ("bad-key-status", {
        "U": {"Type": "AWS::IAM::User", "Properties": {"UserName": "akuser-bad"}},
        "K": {"Type": "AWS::IAM::AccessKey",
              "Properties": {"UserName": {"Ref": "U"}, "Status": "inactive"}}},
     "K", "#/Status: inactive is not a valid enum value"),
    ("bad-window", {
        "K": {"Type": "AWS::KMS::Key", "Properties": {"PendingWindowInDays": 3}}},
     "K", "#/PendingWindowInDays: 3 is not greater or equal to 7"),
])
def test_values_outside_the_schema_fail_the_resource(cairn, name, resources, logical, words):
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": resources}),
                     Capabilities=["CAPABILITY_NAMED_IAM"])
    assert settled_stack(cfn, name) == "ROLLBACK_COMPLETE"
    reason = events_reason(cfn, name, logical)
    assert reason is not None and words in reason, reason
    if name == "bad-key-status":
        with pytest.raises(cairn.client("iam").exceptions.NoSuchEntityException):
            cairn.client("iam").list_access_keys(UserName="akuser-bad")


def test_include_management_events_must_be_a_boolean(cairn):
    s3, cfn = cairn.client("s3"), cairn.client("cloudformation")
    s3.create_bucket(Bucket="cfn5-trail-bucket")
    s3.put_bucket_policy(Bucket="cfn5-trail-bucket", Policy=cloudtrail_policy("cfn5-trail-bucket"))
    template = {"Resources": {"T": {"Type": "AWS::CloudTrail::Trail", "Properties": {
        "TrailName": "cfn5-trail", "S3BucketName": "cfn5-trail-bucket", "IsLogging": True,
        "EventSelectors": [{"IncludeManagementEvents": "yes", "ReadWriteType": "All",
                            "DataResources": [{"Type": "AWS::S3::Object",
                                               "Values": ["arn:aws:s3:::cfn5-trail-bucket/"]}]}]}}}}
    cfn.create_stack(StackName="bad-selectors", TemplateBody=json.dumps(template))
    assert settled_stack(cfn, "bad-selectors") == "ROLLBACK_COMPLETE"
    assert "IncludeManagementEvents" in events_reason(cfn, "bad-selectors", "T")
    assert cairn.client("cloudtrail").describe_trails(trailNameList=["cfn5-trail"])["trailList"] == []
    # "TRUE" in any case is a boolean, as before.
    template["Resources"]["T"]["Properties"]["EventSelectors"][0]["IncludeManagementEvents"] = "TRUE"
    cfn.create_stack(StackName="good-selectors", TemplateBody=json.dumps(template))
    assert settled_stack(cfn, "good-selectors") == "CREATE_COMPLETE"
    selectors = cairn.client("cloudtrail").get_event_selectors(TrailName="cfn5-trail")
    assert selectors["EventSelectors"][0]["IncludeManagementEvents"] is True
    cfn.delete_stack(StackName="good-selectors")


def test_a_topic_policy_has_its_documented_id_attribute(cairn):
    """cfn5 F8: `Fn::GetAtt TP.Id` was refused; AWS documents `Id`, the provider-assigned id
    (`Ref` gives the same)."""
    cfn = cairn.client("cloudformation")
    template = {"Resources": {
        "T": {"Type": "AWS::SNS::Topic"},
        "TP": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": [{"Ref": "T"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sns:Publish", "Resource": {"Ref": "T"}}]}}}},
        "Outputs": {"Id": {"Value": {"Fn::GetAtt": ["TP", "Id"]}},
                    "Ref": {"Value": {"Ref": "TP"}}}}
    cfn.create_stack(StackName="tp-id", TemplateBody=json.dumps(template))
    assert settled_stack(cfn, "tp-id") == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"]
               for o in cfn.describe_stacks(StackName="tp-id")["Stacks"][0]["Outputs"]}
    assert outputs["Id"] == outputs["Ref"] and outputs["Id"].startswith("tp-id-TP-"), outputs
