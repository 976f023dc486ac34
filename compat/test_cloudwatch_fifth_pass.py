"""CloudWatch found by outside tester alarms5: a percentile rank, trimmed count or trimmed
sum of no values is 0, never -0.0; GetMetricStatistics' datapoint limit and GetMetricData's
query Id refusals are worded (and coded) as AWS words them."""

import datetime
import math

import botocore.exceptions
import pytest


def test_empty_extended_statistics_are_positive_zero(cairn):
    cw = cairn.client("cloudwatch")
    t = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0) \
        - datetime.timedelta(minutes=5)
    cw.put_metric_data(Namespace="P", MetricData=[{"MetricName": "few", "Value": 500, "Timestamp": t}])
    points = cw.get_metric_statistics(
        Namespace="P", MetricName="few", StartTime=t, EndTime=t + datetime.timedelta(minutes=1),
        Period=60, ExtendedStatistics=["PR(0:50)", "TC(600:700)", "TS(600:700)"])["Datapoints"]
    stats = points[0]["ExtendedStatistics"]
    assert set(stats) == {"PR(0:50)", "TC(600:700)", "TS(600:700)"}
    for name, value in stats.items():
        assert value == 0 and math.copysign(1.0, value) == 1.0, (name, value)


def test_limits_are_worded_as_aws_words_them(cairn):
    cw = cairn.client("cloudwatch")
    now = datetime.datetime.now(datetime.timezone.utc)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_metric_statistics(Namespace="P", MetricName="few", Statistics=["Sum"], Period=60,
                                 StartTime=now - datetime.timedelta(days=2), EndTime=now)
    assert "which exceeds the limit of 1440." in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_metric_data(StartTime=now - datetime.timedelta(hours=1), EndTime=now,
                           MetricDataQueries=[{"Id": "5xx_a", "MetricStat": {
                               "Metric": {"Namespace": "P", "MetricName": "few"},
                               "Period": 60, "Stat": "Sum"}}])
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert e.value.response["Error"]["Message"] == (
        "The value 5xx_a for parameter MetricDataQueries.member.1.Id is not matching the "
        "expected pattern ^[a-z][a-zA-Z0-9_]*$.")


def test_a_day_at_60_seconds_from_any_second_is_1440_datapoints(cairn):
    """The limit counts the range as asked, not as rounded down to the minute (recheck29:
    a day at 60 s from hh:mm:30 was refused as 1441 datapoints); a query Id over the model's
    255 characters is refused."""
    cw = cairn.client("cloudwatch")
    end = datetime.datetime.now(datetime.timezone.utc).replace(second=30, microsecond=0)
    cw.get_metric_statistics(Namespace="P", MetricName="few", Statistics=["Sum"], Period=60,
                             StartTime=end - datetime.timedelta(days=1), EndTime=end)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_metric_data(StartTime=end - datetime.timedelta(hours=1), EndTime=end,
                           MetricDataQueries=[{"Id": "a" * 256, "MetricStat": {
                               "Metric": {"Namespace": "P", "MetricName": "few"},
                               "Period": 60, "Stat": "Sum"}}])
    assert e.value.response["Error"]["Code"] == "ValidationError"
