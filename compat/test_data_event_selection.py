"""Data events of CloudWatch Logs and CloudWatch metrics, selected by a trail's advanced
selectors: a PutLogEvents that fails (missing stream, refused caller) is recorded as the
success is, naming its stream, and the metric calls (which name no resource) are selected by
`resources.type` `AWS::CloudWatch::Metric`."""

import datetime
import time

import botocore.exceptions
import pytest

from conftest import cloudtrail_policy


@pytest.fixture(scope="module")
def trail(cairn):
    s3, ct = cairn.client("s3"), cairn.client("cloudtrail")
    s3.create_bucket(Bucket="selection-logs")
    s3.put_bucket_policy(Bucket="selection-logs", Policy=cloudtrail_policy("selection-logs"))
    ct.create_trail(Name="selection", S3BucketName="selection-logs")
    data = lambda t: {"FieldSelectors": [  # noqa: E731
        {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": [t]}]}
    ct.put_event_selectors(TrailName="selection", AdvancedEventSelectors=[
        data("AWS::Logs::LogStream"), data("AWS::CloudWatch::Metric")])
    ct.start_logging(Name="selection")
    return cairn


def data_records(cairn, name):
    return [r for r in cairn.records("Data") if r["eventName"] == name]


def test_failed_and_refused_put_log_events_are_recorded_with_their_stream(trail):
    cairn = trail
    logs = cairn.client("logs")
    logs.create_log_group(logGroupName="sel")
    logs.create_log_stream(logGroupName="sel", logStreamName="s1")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="sel", logStreamName="s1",
                        logEvents=[{"timestamp": now, "message": "ok"}])
    with pytest.raises(botocore.exceptions.ClientError):
        logs.put_log_events(logGroupName="sel", logStreamName="missing",
                            logEvents=[{"timestamp": now, "message": "lost?"}])
    iam = cairn.client("iam")
    iam.create_user(UserName="no-logs")
    key = iam.create_access_key(UserName="no-logs")["AccessKey"]
    denied = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "logs")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        denied.put_log_events(logGroupName="sel", logStreamName="s1",
                              logEvents=[{"timestamp": now, "message": "refused"}])
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"

    records = data_records(cairn, "PutLogEvents")
    assert [r.get("errorCode") for r in records] == [
        None, "ResourceNotFoundException", "AccessDenied"], records
    arns = [[x["ARN"] for x in r["resources"]] for r in records]
    base = "arn:aws:logs:us-east-1:123456789012:log-group:sel:log-stream:"
    assert arns == [[base + "s1"], [base + "missing"], [base + "s1"]]
    assert records[2]["userIdentity"]["userName"] == "no-logs"


def test_metric_calls_are_selected_by_their_resource_type(trail):
    cairn = trail
    cw = cairn.client("cloudwatch")
    cw.put_metric_data(Namespace="Sel", MetricData=[{"MetricName": "m", "Value": 1.0}])
    end = datetime.datetime.now(datetime.timezone.utc)
    cw.get_metric_data(MetricDataQueries=[{"Id": "q", "MetricStat": {
        "Metric": {"Namespace": "Sel", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}}],
        StartTime=end - datetime.timedelta(minutes=5), EndTime=end)
    cw.list_metrics(Namespace="Sel")
    for name in ("PutMetricData", "GetMetricData", "ListMetrics"):
        records = data_records(cairn, name)
        assert len(records) == 1, (name, records)
        assert records[0]["eventSource"] == "monitoring.amazonaws.com"
        assert records[0]["eventCategory"] == "Data"
    # A trail selecting only log streams takes none of them.
    ct = cairn.client("cloudtrail")
    ct.put_event_selectors(TrailName="selection", AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::Logs::LogStream"]}]}])
    cw.list_metrics(Namespace="Sel")
    assert len(data_records(cairn, "ListMetrics")) == 1
