"""CloudFormation as an outside tester's fourth pass found it (cfn4): export names that must
be known before any resource exists, and parameters that ask for their previous value while
giving a new one, are refused as CloudFormation refuses them."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import settled_stack


def test_use_previous_value_with_a_value_is_refused(cairn):
    """cfn4 #6: the value was dropped without a word; CloudFormation refuses the call."""
    cfn = cairn.client("cloudformation")
    body = json.dumps({"Parameters": {"P": {"Type": "String"}},
                       "Resources": {"T": {"Type": "AWS::SNS::Topic",
                                           "Properties": {"DisplayName": {"Ref": "P"}}}}})
    cfn.create_stack(StackName="prev-value", TemplateBody=body,
                     Parameters=[{"ParameterKey": "P", "ParameterValue": "one"}])
    assert settled_stack(cfn, "prev-value") == "CREATE_COMPLETE"
    with pytest.raises(ClientError) as e:
        cfn.update_stack(StackName="prev-value", UsePreviousTemplate=True, Parameters=[
            {"ParameterKey": "P", "ParameterValue": "two", "UsePreviousValue": True}])
    assert e.value.response["Error"] == {
        "Type": "Sender", "Code": "ValidationError",
        "Message": "Cannot specify usePreviousValue as true and non empty value for a parameter"}



def test_an_export_name_must_not_depend_on_resources_imports_or_azs(cairn):
    """cfn4 #2: such names were exported (`us-east-1a`, a topic's name, another stack's export
    value), and names with spaces too; AWS refuses the template before anything is made."""
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="shares", TemplateBody=json.dumps({
        "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"O": {"Value": "one", "Export": {"Name": "shared-disp"}}}}))
    assert settled_stack(cfn, "shares") == "CREATE_COMPLETE"
    names = {
        "Res": {"Fn::GetAtt": ["A", "TopicName"]},
        "Ref": {"Fn::Sub": "${A}-x"},
        "Azs": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "Imp": {"Fn::ImportValue": "shared-disp"},
    }
    for label, name in names.items():
        body = json.dumps({"Resources": {"A": {"Type": "AWS::SNS::Topic"}},
                           "Outputs": {"O": {"Value": "x", "Export": {"Name": name}}}})
        for call in (lambda: cfn.validate_template(TemplateBody=body),
                     lambda: cfn.create_stack(StackName=f"bad-export-{label.lower()}", TemplateBody=body)):
            with pytest.raises(ClientError) as e:
                call()
            assert e.value.response["Error"]["Message"] == (
                "Template format error: Output O is malformed.  The Name field of Export must not "
                "depend on any resources, imported values, or Fn::GetAZs."), label
    body = json.dumps({"Resources": {"A": {"Type": "AWS::SNS::Topic"}},
                       "Outputs": {"O": {"Value": "x", "Export": {"Name": "SOME_INVALID name"}}}})
    with pytest.raises(ClientError) as e:
        cfn.validate_template(TemplateBody=body)
    assert "consist only of alphanumeric characters, colons, or hyphens" in e.value.response["Error"]["Message"]
    exports = [x["Name"] for x in cfn.list_exports()["Exports"]]
    assert exports == ["shared-disp"], exports
    # A name built from parameters and pseudo parameters is fine.
    body = json.dumps({"Resources": {"A": {"Type": "AWS::SNS::Topic"}},
                       "Outputs": {"O": {"Value": "x", "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-topic"}}}}})
    cfn.create_stack(StackName="good-export", TemplateBody=body)
    assert settled_stack(cfn, "good-export") == "CREATE_COMPLETE"
    assert "good-export-topic" in [x["Name"] for x in cfn.list_exports()["Exports"]]


def test_an_import_must_not_depend_on_resources(cairn):
    """cfn4 #4: the stack made topic B, then failed with "No export named <B's ARN> found";
    CloudFormation refuses the template before anything is made."""
    cfn = cairn.client("cloudformation")
    body = json.dumps({"Resources": {
        "B": {"Type": "AWS::SNS::Topic"},
        "A": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::ImportValue": {"Ref": "B"}}}}}})
    for call in (lambda: cfn.validate_template(TemplateBody=body),
                 lambda: cfn.create_stack(StackName="import-from-resource", TemplateBody=body)):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Message"] == (
            "Template error: the attribute in Fn::ImportValue must not depend on any resources, "
            "imported values, or Fn::GetAZs")
    assert "import-from-resource" not in str(cfn.list_stacks()["StackSummaries"])


@pytest.mark.parametrize("template, message", [
    ({"Conditions": {"C": {"Fn::Equals": ["a"]}}},
     "Template error: every Fn::Equals object requires a list of 2 string parameters."),
    ({"Conditions": {"C": {"Fn::Not": ["a", "b"]}}},
     "Template error: every Fn::Not object requires a list of at least 1 and at most 1 parameters."),
    ({"Conditions": {"C": {"Fn::And": [{"Fn::Equals": ["a", "a"]}]}}},
     "Template error: every Fn::And object requires a list of at least 2 and at most 10 parameters."),
    ({"Conditions": {"C": {"Fn::Equals": ["a", "a"]}},
      "Properties": {"DisplayName": {"Fn::If": ["C", "a"]}}},
     "Template error: Fn::If requires a list argument with three elements: a condition name, "
     "a value if true and a value if false"),
])
def test_validate_template_refuses_what_create_stack_refuses(cairn, template, message):
    """cfn4 #5: ValidateTemplate passed these; CreateStack refused them, or (Fn::If) failed a
    resource partway through the create."""
    cfn = cairn.client("cloudformation")
    body = {"Resources": {"A": {"Type": "AWS::SNS::Topic"}}, "Conditions": template["Conditions"]}
    if "Properties" in template:
        body["Resources"]["A"]["Properties"] = template["Properties"]
    for call in (lambda: cfn.validate_template(TemplateBody=json.dumps(body)),
                 lambda: cfn.create_stack(StackName="shape-checked", TemplateBody=json.dumps(body))):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Message"] == message


def test_rollback_triggers_roll_an_operation_back(cairn):
    """cfn4 #3: RollbackConfiguration was accepted and dropped. Now a trigger alarm in ALARM,
    or missing, rolls the operation back, DescribeStacks shows the configuration, and an
    update without one keeps the stack's (the API reference's RollbackConfiguration)."""
    cfn, cw = cairn.client("cloudformation"), cairn.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="deploy-guard", Namespace="App", MetricName="Errors",
                        Statistic="Sum", Period=86400, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    arn = cw.describe_alarms(AlarmNames=["deploy-guard"])["MetricAlarms"][0]["AlarmArn"]
    config = {"RollbackTriggers": [{"Arn": arn, "Type": "AWS::CloudWatch::Alarm"}],
              "MonitoringTimeInMinutes": 0}

    def topic(display):
        return json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic",
                                               "Properties": {"DisplayName": display}}}})

    cw.set_alarm_state(AlarmName="deploy-guard", StateValue="OK", StateReason="healthy")
    cfn.create_stack(StackName="guarded", TemplateBody=topic("one"), RollbackConfiguration=config)
    assert settled_stack(cfn, "guarded") == "CREATE_COMPLETE"
    shown = cfn.describe_stacks(StackName="guarded")["Stacks"][0]["RollbackConfiguration"]
    assert shown == config, shown
    # The update gives no configuration: the stack's is used, and its alarm is in ALARM.
    cw.set_alarm_state(AlarmName="deploy-guard", StateValue="ALARM", StateReason="errors")
    cfn.update_stack(StackName="guarded", TemplateBody=topic("two"))
    assert settled_stack(cfn, "guarded") == "UPDATE_ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in
               cfn.describe_stack_events(StackName="guarded")["StackEvents"]]
    assert any(arn in r and "ALARM" in r for r in reasons), reasons
    arn_topic = cfn.describe_stack_resources(StackName="guarded")["StackResources"][0]["PhysicalResourceId"]
    attrs = cairn.client("sns").get_topic_attributes(TopicArn=arn_topic)["Attributes"]
    assert attrs["DisplayName"] == "one"
    # A create watched by an alarm in ALARM, or by one that does not exist, rolls back.
    cfn.create_stack(StackName="guarded-2", TemplateBody=topic("x"), RollbackConfiguration=config)
    assert settled_stack(cfn, "guarded-2") == "ROLLBACK_COMPLETE"
    missing = {"RollbackTriggers": [{"Arn": arn + "-gone", "Type": "AWS::CloudWatch::Alarm"}]}
    cfn.create_stack(StackName="guarded-3", TemplateBody=topic("x"), RollbackConfiguration=missing)
    assert settled_stack(cfn, "guarded-3") == "ROLLBACK_COMPLETE"
    reason = cfn.describe_stacks(StackName="guarded-3")["Stacks"][0].get("StackStatusReason", "")
    events = [e.get("ResourceStatusReason", "") for e in
              cfn.describe_stack_events(StackName="guarded-3")["StackEvents"]]
    assert any("was not found" in r for r in events + [reason]), events
    # An update that clears the triggers goes through.
    cfn.update_stack(StackName="guarded", TemplateBody=topic("three"),
                     RollbackConfiguration={"RollbackTriggers": []})
    assert settled_stack(cfn, "guarded") == "UPDATE_COMPLETE"


@pytest.mark.parametrize("config, words", [
    ({"RollbackTriggers": [{"Arn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:a{n}",
                            "Type": "AWS::CloudWatch::Alarm"} for n in range(6)]},
     "Member must have length less than or equal to 5"),
    ({"MonitoringTimeInMinutes": 181}, "Member must have value less than or equal to 180"),
    ({"RollbackTriggers": [{"Arn": "bogus", "Type": "AWS::CloudWatch::Alarm"}]}, "not the ARN of an alarm"),
    ({"RollbackTriggers": [{"Arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a",
                            "Type": "Foo"}]}, "Rollback trigger type Foo"),
])
def test_a_rollback_configuration_out_of_bounds_is_refused(cairn, config, words):
    cfn = cairn.client("cloudformation")
    body = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}})
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName="bad-rollback-config", TemplateBody=body,
                         RollbackConfiguration=config)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert words in e.value.response["Error"]["Message"]
