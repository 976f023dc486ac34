"""Found by outside tester recheck30, each failed before its fix:
- CloudWatch Logs counted a stack log group's three `aws:cloudformation:*` tags toward its
  50, so a stack whose group has 48 to 50 tags could not be updated (nor rolled back:
  UPDATE_ROLLBACK_FAILED); AWS's own tags do not count;
- CreateStack, UpdateStack and CreateChangeSet took stack tags with AWS's `aws:` prefix (any
  case) and stamped them on the stack's resources, where no one could remove them;
- Logs took `AWS:`/`Aws:` tag keys that every other service refuses;
- CloudWatch read 64-bit values for its 32-bit `integer` members over Query and nested
  (`MetricStat.Period`)."""

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import ACCESS_KEY, SECRET, settled_stack
from test_cloudwatch_query_records import signed_query


def error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def group_template(value):
    tags = "".join(f"        - {{Key: t{i}, Value: {value if i == 0 else 'v'}}}\n" for i in range(50))
    return ("Resources:\n  LG:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      Tags:\n" + tags)


def test_a_stack_log_group_with_fifty_tags_updates(cairn):
    cfn, logs = cairn.client("cloudformation"), cairn.client("logs")
    cfn.create_stack(StackName="lg50", TemplateBody=group_template("v"))
    assert settled_stack(cfn, "lg50") == "CREATE_COMPLETE"
    group = cfn.describe_stack_resource(StackName="lg50", LogicalResourceId="LG")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert len(logs.list_tags_log_group(logGroupName=group)["tags"]) == 53
    logs.tag_log_group(logGroupName=group, tags={"t1": "changed"})
    cfn.update_stack(StackName="lg50", TemplateBody=group_template("v2"))
    assert settled_stack(cfn, "lg50") == "UPDATE_COMPLETE"
    tags = logs.list_tags_log_group(logGroupName=group)["tags"]
    assert tags["t0"] == "v2" and tags["aws:cloudformation:logical-id"] == "LG"
    # A 51st tag of the requester's own is still one too many.
    code, _ = error(lambda: logs.tag_log_group(logGroupName=group, tags={"t50": "v"}))
    assert code == "InvalidParameterException"


def test_stack_tags_cannot_use_the_aws_prefix(cairn):
    cfn = cairn.client("cloudformation")
    topic = "Resources:\n  T: {Type: AWS::SNS::Topic}\n"
    for key in ("aws:createdBy", "AWS:x", "Aws:cloudformation:stack-name"):
        tags = [{"Key": "team", "Value": "a"}, {"Key": key, "Value": "forged"}]
        got = error(lambda: cfn.create_stack(StackName="forge", TemplateBody=topic, Tags=tags))
        assert got == ("ValidationError", "aws: prefixed tag key names are not allowed for external use."), got
        got = error(lambda: cfn.create_change_set(StackName="forge", ChangeSetName="c", ChangeSetType="CREATE",
                                                  TemplateBody=topic, Tags=tags))
        assert got[0] == "ValidationError", got
    assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "forge"]
    cfn.create_stack(StackName="forge", TemplateBody=topic, Tags=[{"Key": "team", "Value": "a"}])
    assert settled_stack(cfn, "forge") == "CREATE_COMPLETE"
    got = error(lambda: cfn.update_stack(StackName="forge", TemplateBody=topic,
                                         Tags=[{"Key": "aws:cloudformation:logical-id", "Value": "Z"}]))
    assert got[0] == "ValidationError", got
    assert cfn.describe_stacks(StackName="forge")["Stacks"][0]["Tags"] == [{"Key": "team", "Value": "a"}]


def test_logs_refuses_the_aws_prefix_in_any_case(cairn):
    logs = cairn.client("logs")
    for key in ("AWS:x", "Aws:cloudformation:logical-id"):
        code, _ = error(lambda: logs.create_log_group(logGroupName="upper", tags={key: "v"}))
        assert code == "InvalidParameterException"
    logs.create_log_group(logGroupName="upper")
    code, _ = error(lambda: logs.tag_resource(
        resourceArn="arn:aws:logs:us-east-1:123456789012:log-group:upper", tags={"AWS:cloudformation:stack-name": "e"}))
    assert code == "InvalidParameterException"
    assert logs.list_tags_log_group(logGroupName="upper")["tags"] == {}


def query(cairn, params):
    resp = signed_query(cairn, params)
    return resp.status, resp.data.decode()


def test_cloudwatch_integers_are_32_bits_everywhere(cairn):
    big = str(60 * 2**40)
    window = {"StartTime": "2026-12-05T00:00:00Z", "EndTime": "2026-12-05T01:00:00Z"}
    status, body = query(cairn, {"Action": "GetMetricStatistics", "Namespace": "n", "MetricName": "m",
                                 "Period": big, "Statistics.member.1": "Sum", **window})
    assert status == 400 and "InvalidParameterValue" in body, body
    stat = {"MetricDataQueries.member.1.Id": "a", "MetricDataQueries.member.1.MetricStat.Metric.Namespace": "n",
            "MetricDataQueries.member.1.MetricStat.Metric.MetricName": "m",
            "MetricDataQueries.member.1.MetricStat.Stat": "Sum"}
    status, body = query(cairn, {"Action": "GetMetricData", **stat,
                                 "MetricDataQueries.member.1.MetricStat.Period": big, **window})
    assert status == 400 and "Period" in body, body
    status, body = query(cairn, {"Action": "GetMetricData", **stat,
                                 "MetricDataQueries.member.1.MetricStat.Period": "60", **window})
    assert status == 200, body
    cw = boto3.client("cloudwatch", endpoint_url=cairn.endpoint, region_name="us-east-1",
                      aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                      config=botocore.config.Config(parameter_validation=False))
    code, _ = error(lambda: cw.get_metric_data(
        MetricDataQueries=[{"Id": "a", "MetricStat": {"Metric": {"Namespace": "n", "MetricName": "m"},
                                                      "Period": 60 * 2**40, "Stat": "Sum"}}],
        StartTime="2026-12-05T00:00:00Z", EndTime="2026-12-05T01:00:00Z"))
    assert code == "InvalidParameterValue", code
