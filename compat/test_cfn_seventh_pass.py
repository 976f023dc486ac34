"""CloudFormation found by outside tester cfn7 (and sdk5).

- An update that gives a logical id another resource type is refused before anything is
  touched, as AWS refuses it; a change set with one fails with the same reason. Before, the
  update "replaced" the resource and cleaned up the old physical id with the new type's
  handler: a bucket changed into a log group deleted an unrelated log group named like the
  bucket, and left the bucket behind.
- `Fn::GetAtt` of an attribute this resource has no value for says so ("Attribute ... does
  not exist"), not that the type lacks it."""

import time

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import settled_stack

V1 = "Resources:\n  X:\n    Type: AWS::S3::Bucket\n    Properties: {BucketName: victim-name}\n"
V2 = "Resources:\n  X:\n    Type: AWS::Logs::LogGroup\n"
MESSAGE = ("Update of resource type is not permitted. The new template modifies resource type "
           "of the following resources: [X]")


def test_type_change_is_refused_and_touches_nothing(cairn):
    logs, cfn, s3 = cairn.client("logs"), cairn.client("cloudformation"), cairn.client("s3")
    logs.create_log_group(logGroupName="victim-name")
    cfn.create_stack(StackName="vic", TemplateBody=V1)
    assert settled_stack(cfn, "vic") == "CREATE_COMPLETE"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.update_stack(StackName="vic", TemplateBody=V2)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert e.value.response["Error"]["Message"] == MESSAGE
    assert cfn.describe_stacks(StackName="vic")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    cs = cfn.create_change_set(StackName="vic", ChangeSetName="retype", TemplateBody=V2)
    for _ in range(200):
        d = cfn.describe_change_set(ChangeSetName=cs["Id"])
        if not d["Status"].endswith("IN_PROGRESS") and d["Status"] != "CREATE_PENDING":
            break
        time.sleep(0.05)
    assert d["Status"] == "FAILED" and d["StatusReason"] == MESSAGE
    assert d["ExecutionStatus"] == "UNAVAILABLE" and d["Changes"] == []

    assert [g["logGroupName"] for g in logs.describe_log_groups(
        logGroupNamePrefix="victim-name")["logGroups"]] == ["victim-name"]
    s3.head_bucket(Bucket="victim-name")
    resources = cfn.describe_stack_resources(StackName="vic")["StackResources"]
    assert [(r["LogicalResourceId"], r["ResourceType"]) for r in resources] == \
        [("X", "AWS::S3::Bucket")]
    assert not [r for r in cairn.records("Management")
                if r["eventName"] == "DeleteLogGroup"]


def test_a_new_logical_id_of_another_type_is_an_ordinary_update(cairn):
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="retype-ok", TemplateBody=V2)
    assert settled_stack(cfn, "retype-ok") == "CREATE_COMPLETE"
    cfn.update_stack(StackName="retype-ok", TemplateBody=V2.replace("X:", "Y:") + "  T: {Type: AWS::SNS::Topic}\n")
    assert settled_stack(cfn, "retype-ok") == "UPDATE_COMPLETE"


def test_get_att_of_an_attribute_without_value(cairn):
    cfn, s3 = cairn.client("cloudformation"), cairn.client("s3")
    template = """
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: cloudtrail.amazonaws.com},
             Action: s3:GetBucketAcl, Resource: !GetAtt Bucket.Arn}
          - {Effect: Allow, Principal: {Service: cloudtrail.amazonaws.com},
             Action: s3:PutObject, Resource: !Sub "${Bucket.Arn}/AWSLogs/*",
             Condition: {StringEquals: {s3:x-amz-acl: bucket-owner-full-control}}}
  T:
    Type: AWS::CloudTrail::Trail
    DependsOn: Policy
    Properties: {S3BucketName: !Ref Bucket, IsLogging: false}
Outputs:
  Topic: {Value: !GetAtt T.SnsTopicArn}
"""
    cfn.create_stack(StackName="no-topic", TemplateBody=template)
    settled_stack(cfn, "no-topic")
    reasons = [e.get("ResourceStatusReason", "") for e in
               cfn.describe_stack_events(StackName="no-topic")["StackEvents"]]
    assert any("Attribute 'SnsTopicArn' does not exist" in r for r in reasons), reasons
    assert not any("does not support attribute type" in r for r in reasons)


TOPIC = "Resources:\n  T: {Type: AWS::SNS::Topic}\n"


def test_import_existing_resources_is_refused(cairn):
    cfn = cairn.client("cloudformation")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.create_change_set(StackName="imp", ChangeSetName="c", ChangeSetType="CREATE",
                              TemplateBody=TOPIC, ImportExistingResources=True)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "import" in e.value.response["Error"]["Message"]


def test_stack_tags_and_integers_are_bounded(cairn):
    # What the SDK would refuse itself is sent as is, as a client without the model sends it.
    from conftest import ACCESS_KEY, SECRET
    cfn = boto3.client("cloudformation", endpoint_url=cairn.endpoint, region_name="us-east-1",
                       aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                       config=botocore.config.Config(parameter_validation=False))
    for tags, where in (([{"Key": "", "Value": "v"}], "tags.1.member.key"),
                        ([{"Key": "k", "Value": "v"}, {"Key": "k" * 129, "Value": "v"}],
                         "tags.2.member.key")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cfn.create_stack(StackName="tagged", TemplateBody=TOPIC, Tags=tags)
        assert where in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.create_stack(StackName="tagged", TemplateBody=TOPIC, TimeoutInMinutes=2**31)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "tagged"]
    cfn.create_stack(StackName="tagged", TemplateBody=TOPIC, TimeoutInMinutes=2**31 - 1)
    assert settled_stack(cfn, "tagged") == "CREATE_COMPLETE"


def test_availability_zones(cairn):
    cfn = cairn.client("cloudformation")
    template = ('Parameters:\n  AZ: {Type: "List<AWS::EC2::AvailabilityZone::Name>"}\n'
                'Resources:\n  T: {Type: AWS::SNS::Topic}\n'
                'Outputs:\n  O: {Value: !Join [",", !GetAZs ""]}\n')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.create_stack(StackName="azs", TemplateBody=template,
                         Parameters=[{"ParameterKey": "AZ", "ParameterValue": "us-east-1a,us-east-1z"}])
    assert "does not exist" in e.value.response["Error"]["Message"]
    cfn.create_stack(StackName="azs", TemplateBody=template,
                     Parameters=[{"ParameterKey": "AZ", "ParameterValue": "us-east-1a,us-east-1b"}])
    assert settled_stack(cfn, "azs") == "CREATE_COMPLETE"
    outputs = cfn.describe_stacks(StackName="azs")["Stacks"][0]["Outputs"]
    assert outputs[0]["OutputValue"] == "us-east-1a,us-east-1b,us-east-1c"

    mars = 'Resources:\n  T: {Type: AWS::SNS::Topic}\nOutputs:\n  A: {Value: !Join [",", !GetAZs mars-1]}\n'
    cfn.create_stack(StackName="mars", TemplateBody=mars)
    assert settled_stack(cfn, "mars") in ("ROLLBACK_COMPLETE", "CREATE_FAILED")
    reasons = [e.get("ResourceStatusReason", "") for e in
               cfn.describe_stack_events(StackName="mars")["StackEvents"]]
    assert any("mars-1" in r for r in reasons), reasons


def test_cancel_ends_the_monitoring_period(cairn):
    cfn, cw = cairn.client("cloudformation"), cairn.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="trig", MetricName="m", Namespace="n", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanThreshold")
    template = ("Parameters:\n  R: {Type: Number, Default: 7}\nResources:\n  G:\n"
                "    Type: AWS::Logs::LogGroup\n    Properties: {RetentionInDays: !Ref R}\n")
    cfn.create_stack(StackName="cu", TemplateBody=template)
    assert settled_stack(cfn, "cu") == "CREATE_COMPLETE"
    cfn.update_stack(StackName="cu", UsePreviousTemplate=True,
                     Parameters=[{"ParameterKey": "R", "ParameterValue": "14"}],
                     RollbackConfiguration={"MonitoringTimeInMinutes": 180, "RollbackTriggers": [
                         {"Arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:trig",
                          "Type": "AWS::CloudWatch::Alarm"}]})
    # Wait until the resource is updated and the stack is in its monitoring period.
    for _ in range(1200):
        events = cfn.describe_stack_events(StackName="cu")["StackEvents"]
        if any(e["LogicalResourceId"] == "G" and e["ResourceStatus"] == "UPDATE_COMPLETE"
               for e in events):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the update never reached its monitoring period")
    assert cfn.describe_stacks(StackName="cu")["Stacks"][0]["StackStatus"] == "UPDATE_IN_PROGRESS"
    cfn.cancel_update_stack(StackName="cu")
    # settled_stack gives up after about a minute: far inside the three-hour period.
    assert settled_stack(cfn, "cu") == "UPDATE_ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason") for e in
               cfn.describe_stack_events(StackName="cu")["StackEvents"]]
    assert "Stack update cancelled" in reasons


RULES = """
Parameters:
  Env: {Type: String, Default: dev}
  Zones: {Type: CommaDelimitedList, Default: "a,b"}
Rules:
  ProdOnly:
    RuleCondition: !Equals [!Ref Env, prod]
    Assertions:
      - Assert: {"Fn::Contains": [[a, b], !Ref Env]}
        AssertDescription: Env must be a or b in prod
  Always:
    Assertions:
      - Assert: !Not [!Equals [!Ref Env, bad]]
        AssertDescription: Env must not be bad
      - Assert: {"Fn::EachMemberIn": [!Ref Zones, [a, b, c]]}
        AssertDescription: Zones are a, b or c
Resources:
  T: {Type: AWS::SNS::Topic}
"""


def test_rules_refuse_parameter_values_before_anything_is_made(cairn):
    """The template's Rules are checked before a stack is created or updated (cfn7: they
    were ignored and the stacks made)."""
    cfn = cairn.client("cloudformation")

    def refused(name, **params):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cfn.create_stack(StackName=name, TemplateBody=RULES, Parameters=[
                {"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])
        assert e.value.response["Error"]["Code"] == "ValidationError"
        return e.value.response["Error"]["Message"]

    assert refused("rules1", Env="bad") == "Env must not be bad"
    assert refused("rules2", Env="prod") == "Env must be a or b in prod"
    assert refused("rules3", Zones="a,d") == "Zones are a, b or c"
    assert not [s for s in cfn.list_stacks()["StackSummaries"]
                if s["StackName"].startswith("rules")]
    cfn.create_stack(StackName="rules-ok", TemplateBody=RULES,
                     Parameters=[{"ParameterKey": "Env", "ParameterValue": "qa"}])
    assert settled_stack(cfn, "rules-ok") == "CREATE_COMPLETE"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.update_stack(StackName="rules-ok", UsePreviousTemplate=True,
                         Parameters=[{"ParameterKey": "Env", "ParameterValue": "bad"}])
    assert e.value.response["Error"]["Message"] == "Env must not be bad"


def test_malformed_rules_are_refused_by_validate_template(cairn):
    cfn = cairn.client("cloudformation")
    for rules in ('Rules:\n  R1:\n    Assertions: notalist\n',
                  'Rules:\n  R3:\n    Assertions:\n      - Assert: {"Fn::Bogus": [1]}\n',
                  'Rules:\n  R4:\n    Assertions:\n      - AssertDescription: no assert\n'):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cfn.validate_template(TemplateBody=rules + TOPIC)
        assert e.value.response["Error"]["Code"] == "ValidationError"
        assert "Template format error" in e.value.response["Error"]["Message"]


def test_rules_that_create_stack_refuses_validate_template_refuses(cairn):
    """recheck30: a Ref to an unknown name or to a resource, and Fn::And with one condition,
    passed ValidateTemplate and were refused only by CreateStack (one with an internal
    message)."""
    cfn = cairn.client("cloudformation")
    params = "Parameters:\n  P: {Type: String, Default: x}\n"
    for assertion, words in (('{"Fn::Equals": [{"Ref": "Nope"}, "x"]}', "Rules block"),
                             ('{"Fn::Equals": [{"Ref": "T"}, "x"]}', "Rules block"),
                             ('{"Fn::And": [{"Fn::Equals": ["a", "a"]}]}', "at least 2")):
        template = params + f"Rules:\n  A:\n    Assertions:\n      - Assert: {assertion}\n" + TOPIC
        for call in (lambda: cfn.validate_template(TemplateBody=template),
                     lambda: cfn.create_stack(StackName="bad-rules", TemplateBody=template)):
            with pytest.raises(botocore.exceptions.ClientError) as e:
                call()
            assert e.value.response["Error"]["Code"] == "ValidationError"
            assert words in e.value.response["Error"]["Message"], e.value.response["Error"]
    ok = params + 'Rules:\n  A:\n    Assertions:\n      - Assert: {"Fn::Equals": [{"Ref": "P"}, {"Ref": "AWS::Region"}]}\n'
    cfn.validate_template(TemplateBody=ok + TOPIC)


def test_stack_log_groups_carry_cloudformation_tags(cairn):
    """A stack's log groups carry `aws:cloudformation:stack-name`, `stack-id` and
    `logical-id`, as AWS tags them (and as Cairn tags a stack's buckets and topics); a
    requester still cannot use the `aws:` prefix."""
    cfn, logs = cairn.client("cloudformation"), cairn.client("logs")
    template = ('Resources:\n  G:\n    Type: AWS::Logs::LogGroup\n'
                '    Properties:\n      Tags: [{Key: own, Value: "1"}]\n')
    stack_id = cfn.create_stack(StackName="tg", TemplateBody=template,
                                Tags=[{"Key": "team", "Value": "blue"}])["StackId"]
    assert settled_stack(cfn, "tg") == "CREATE_COMPLETE"
    group = cfn.describe_stack_resource(StackName="tg", LogicalResourceId="G")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {
        "own": "1", "team": "blue", "aws:cloudformation:stack-name": "tg",
        "aws:cloudformation:stack-id": stack_id, "aws:cloudformation:logical-id": "G"}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.create_log_group(logGroupName="forged",
                              tags={"aws:cloudformation:stack-name": "tg"})
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_rule_functions_have_yaml_short_forms(cairn):
    cfn = cairn.client("cloudformation")
    short = ("Parameters:\n  Env: {Type: String, Default: dev}\n"
             "Rules:\n  R:\n    Assertions:\n"
             "      - Assert: !Contains [[dev, qa], !Ref Env]\n"
             "        AssertDescription: dev or qa\n"
             "      - Assert: !EachMemberIn [[!Ref Env], [dev, qa]]\n"
             "      - Assert: !EachMemberEquals [[!Ref Env], !Ref Env]\n" + TOPIC)
    cfn.validate_template(TemplateBody=short)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.create_stack(StackName="short-rules", TemplateBody=short,
                         Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}])
    assert e.value.response["Error"]["Message"] == "dev or qa"


def test_cloudformation_tags_cannot_be_removed_by_a_requester(cairn):
    cfn, logs = cairn.client("cloudformation"), cairn.client("logs")
    cfn.create_stack(StackName="tg-keep", TemplateBody="Resources:\n  G: {Type: AWS::Logs::LogGroup}\n")
    assert settled_stack(cfn, "tg-keep") == "CREATE_COMPLETE"
    group = cfn.describe_stack_resource(StackName="tg-keep", LogicalResourceId="G")[
        "StackResourceDetail"]["PhysicalResourceId"]
    arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{group}"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.untag_resource(resourceArn=arn, tagKeys=["aws:cloudformation:stack-name"])
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "aws:cloudformation:stack-name" in logs.list_tags_for_resource(resourceArn=arn)["tags"]


def test_stack_bucket_system_tags_stay(cairn):
    """S3 takes a requester's tag set only with the bucket's system tags as they are (the way
    AWS requires a tag to be added to a stack's bucket), refuses one that drops them, and
    DeleteBucketTagging leaves them (recheck29: any user could strip them)."""
    cfn, s3 = cairn.client("cloudformation"), cairn.client("s3")
    cfn.create_stack(StackName="tg-bucket", TemplateBody="Resources:\n  B: {Type: AWS::S3::Bucket}\n")
    assert settled_stack(cfn, "tg-bucket") == "CREATE_COMPLETE"
    bucket = cfn.describe_stack_resource(StackName="tg-bucket", LogicalResourceId="B")[
        "StackResourceDetail"]["PhysicalResourceId"]
    system = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert {t["Key"] for t in system} >= {"aws:cloudformation:stack-name"}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "x", "Value": "y"}]})
    assert e.value.response["Error"]["Message"] == "System tags cannot be removed by requester"
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": system + [{"Key": "x", "Value": "y"}]})
    assert {t["Key"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]} == \
        {t["Key"] for t in system} | {"x"}
    s3.delete_bucket_tagging(Bucket=bucket)
    assert sorted(s3.get_bucket_tagging(Bucket=bucket)["TagSet"], key=lambda t: t["Key"]) == \
        sorted(system, key=lambda t: t["Key"])
