"""Documented quotas an outside tester found unenforced, each refused at AWS's bound:
CloudWatch alarm dimensions (as PutMetricData bounds them), SNS topic policies (30 KB, 100
statements) and filter policies (256 KB, numbers within ±10⁹), and CloudFormation's request
and template bounds (five notification ARNs, 4,096-byte parameter values, 255-character
names, 200 attributes per mapping)."""

import json

import pytest

from conftest import err

ACCT = "123456789012"


def test_alarm_dimensions_are_bounded_as_metric_dimensions(cairn):
    cw = cairn.client("cloudwatch")

    def alarm(name, value):
        cw.put_metric_alarm(AlarmName="dims", MetricName="m", Namespace="ns", Statistic="Sum",
                            Period=60, EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator="GreaterThanThreshold",
                            Dimensions=[{"Name": name, "Value": value}])

    for name, value in [("n" * 256, "v"), ("n", "v" * 1025)]:
        with pytest.raises(cw.exceptions.InvalidParameterValueException) as e:
            alarm(name, value)
        assert "must be between 1 and" in str(e.value)
    assert cw.describe_alarms(AlarmNames=["dims"])["MetricAlarms"] == []
    alarm("n" * 255, "v" * 1024)
    assert len(cw.describe_alarms(AlarmNames=["dims"])["MetricAlarms"]) == 1


def test_topic_policies_are_bounded(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="quota-topic")["TopicArn"]

    def policy(statements, pad=0):
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": f"s{i}" + "x" * pad, "Effect": "Allow", "Principal": {"AWS": ACCT},
             "Action": "sns:Publish", "Resource": arn} for i in range(statements)]})

    for bad in [policy(101), policy(20, pad=1500)]:
        with pytest.raises(sns.exceptions.InvalidParameterException) as e:
            sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=bad)
        assert "Invalid parameter: Policy Error" in str(e.value)
        with pytest.raises(sns.exceptions.InvalidParameterException):
            sns.create_topic(Name="quota-topic-2", Attributes={"Policy": bad})
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy(100))
    got = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert len(got["Statement"]) == 100


def test_filter_policies_are_bounded(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="quota-filter")["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="a@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    big = json.dumps({"a": ["x"]}) + " " * (256 * 1024)
    for bad in [big, json.dumps({"a": [{"numeric": [">", 1_000_000_001]}]}),
                json.dumps({"a": [{"numeric": ["<", -5e12]}]})]:
        with pytest.raises(sns.exceptions.InvalidParameterException) as e:
            sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                            AttributeValue=bad)
        assert "FilterPolicy" in str(e.value)
    ok = json.dumps({"a": [{"numeric": [">=", -1e9, "<=", 1e9]}]})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue=ok)


def test_cloudformation_request_and_template_bounds(cairn):
    cf = cairn.client("cloudformation")
    topic = {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}

    with pytest.raises(cf.exceptions.ClientError) as e:
        cf.create_stack(StackName="quota-arns", TemplateBody=json.dumps(topic),
                        NotificationARNs=[f"arn:aws:sns:us-east-1:{ACCT}:t{i}" for i in range(6)])
    assert err(e) == ("ValidationError", 400)
    assert "Member must have length less than or equal to 5" in str(e.value)

    with_param = {"Parameters": {"P": {"Type": "String"}}, **topic}
    with pytest.raises(cf.exceptions.ClientError) as e:
        cf.create_stack(StackName="quota-value", TemplateBody=json.dumps(with_param),
                        Parameters=[{"ParameterKey": "P", "ParameterValue": "v" * 4097}])
    assert err(e) == ("ValidationError", 400)
    assert "4096 bytes" in str(e.value)

    for body, words in [
        ({"Parameters": {"P" * 256: {"Type": "String", "Default": "x"}}, **topic}, "Parameter name"),
        ({"Resources": {"L" * 256: {"Type": "AWS::SNS::Topic"}}}, "Resource name"),
        ({"Mappings": {"M": {"k": {f"a{i}": "b" for i in range(201)}}}, **topic},
         "Mapping attribute count 201"),
    ]:
        with pytest.raises(cf.exceptions.ClientError) as e:
            cf.validate_template(TemplateBody=json.dumps(body))
        assert err(e) == ("ValidationError", 400) and words in str(e.value), str(e.value)
    cf.validate_template(TemplateBody=json.dumps(
        {"Mappings": {"M": {"k": {f"a{i}": "b" for i in range(200)}}}, **topic}))
