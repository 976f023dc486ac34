"""CloudWatch metric statistics through boto3: units never added together, GetMetricData
paging (MaxDatapoints, NextToken, ScanBy), the extended statistics (percentiles, trimmed and
winsorized means, trimmed counts and sums, percentile rank, IQM) and when they have no value,
PutMetricData's counts, and alarm actions bound to the alarm's region."""

import datetime

import pytest


def minute(minutes_ago):
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    return now - datetime.timedelta(minutes=minutes_ago)


def stat_query(qid, name, stat, period=1200, unit=None, namespace="Stats"):
    ms = {"Metric": {"Namespace": namespace, "MetricName": name}, "Period": period, "Stat": stat}
    if unit:
        ms["Unit"] = unit
    return {"Id": qid, "MetricStat": ms}


def test_data_in_different_units_is_never_added_together(cairn):
    cw = cairn.client("cloudwatch")
    t = minute(10)
    cw.put_metric_data(Namespace="Units", MetricData=[
        {"MetricName": "lat", "Value": 2, "Unit": "Seconds", "Timestamp": t},
        {"MetricName": "lat", "Value": 500, "Unit": "Milliseconds",
         "Timestamp": t + datetime.timedelta(minutes=1)},
    ])
    start, end = t - datetime.timedelta(minutes=1), t + datetime.timedelta(minutes=5)
    points = cw.get_metric_statistics(Namespace="Units", MetricName="lat", StartTime=start, EndTime=end,
                                      Period=1200, Statistics=["Sum", "SampleCount"])["Datapoints"]
    got = sorted((p["Unit"], p["Sum"], p["SampleCount"]) for p in points)
    assert got == [("Milliseconds", 500.0, 1.0), ("Seconds", 2.0, 1.0)]
    only = cw.get_metric_statistics(Namespace="Units", MetricName="lat", StartTime=start, EndTime=end,
                                    Period=1200, Statistics=["Sum"], Unit="Seconds")["Datapoints"]
    assert [(p["Unit"], p["Sum"]) for p in only] == [("Seconds", 2.0)]
    # One series cannot carry units: GetMetricData reads one of them, never their sum.
    result = cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[
        stat_query("lat", "lat", "Sum", namespace="Units")])["MetricDataResults"][0]
    assert result["Values"] == [500.0]


def test_get_metric_data_pages_by_max_datapoints(cairn):
    cw = cairn.client("cloudwatch")
    t = minute(30)
    cw.put_metric_data(Namespace="Stats", MetricData=[
        {"MetricName": name, "Value": float(i), "Timestamp": t + datetime.timedelta(minutes=i)}
        for i in range(5) for name in ("a", "b")])
    start, end = t, t + datetime.timedelta(minutes=10)
    queries = [stat_query("a", "a", "Sum", period=60), stat_query("b", "b", "Sum", period=60)]
    first = cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=queries, MaxDatapoints=3)
    assert "NextToken" in first
    assert [len(r["Values"]) for r in first["MetricDataResults"]] == [2, 1]
    assert [r["StatusCode"] for r in first["MetricDataResults"]] == ["PartialData", "PartialData"]
    assert first["MetricDataResults"][0]["Values"] == [4.0, 3.0], "newest first by default"
    seen = {"a": [], "b": []}
    pages = cw.get_paginator("get_metric_data").paginate(
        StartTime=start, EndTime=end, MetricDataQueries=queries, ScanBy="TimestampAscending",
        PaginationConfig={"PageSize": 4})
    for page in pages:
        for r in page["MetricDataResults"]:
            seen[r["Id"]] += r["Values"]
    assert seen == {"a": [0.0, 1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 2.0, 3.0, 4.0]}
    everything = cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=queries)
    assert "NextToken" not in everything
    assert [r["StatusCode"] for r in everything["MetricDataResults"]] == ["Complete", "Complete"]
    with pytest.raises(cw.exceptions.InvalidNextToken):
        cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=queries, NextToken="bogus")
    with pytest.raises(cw.exceptions.InvalidNextToken):
        cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=queries[:1],
                           NextToken=first["NextToken"])
    with pytest.raises(cw.exceptions.InvalidParameterValueException):
        cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=queries, MaxDatapoints=0)


def test_extended_statistics(cairn):
    cw = cairn.client("cloudwatch")
    t = minute(20)
    cw.put_metric_data(Namespace="Stats", MetricData=[
        {"MetricName": "set", "StatisticValues": {"SampleCount": 4, "Sum": 20, "Minimum": 2, "Maximum": 8},
         "Timestamp": t},
        {"MetricName": "neg", "Values": [-5, 1, 2, 3], "Timestamp": t},
        {"MetricName": "ten", "Values": [float(v) for v in range(1, 11)], "Timestamp": t},
    ])
    start, end = t - datetime.timedelta(minutes=1), t + datetime.timedelta(minutes=5)

    def extended(name, stats):
        points = cw.get_metric_statistics(Namespace="Stats", MetricName=name, StartTime=start, EndTime=end,
                                          Period=1200, ExtendedStatistics=stats)["Datapoints"]
        assert len(points) == 1
        return points[0].get("ExtendedStatistics", {})

    # Percentiles need raw, non-negative values.
    assert extended("set", ["p50", "p99"]) == {}
    assert extended("neg", ["p50"]) == {}
    assert extended("ten", ["p50", "tm90", "IQM"]) == {"p50": 5.0, "tm90": 5.0, "IQM": 5.5}
    stats = ["tm90", "TM(10%:90%)", "IQM", "wm90", "WM(10%:90%)", "tc90", "TC(1:5)", "ts90", "TS(80%:)",
             "PR(:3)", "PR(2:5)"]
    result = cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[
        stat_query(f"q{i}", "ten", s) for i, s in enumerate(stats)])["MetricDataResults"]
    assert {s: r["Values"] for s, r in zip(stats, result)} == {
        "tm90": [5.0], "TM(10%:90%)": [5.5], "IQM": [5.5], "wm90": [5.4], "WM(10%:90%)": [5.5],
        "tc90": [9.0], "TC(1:5)": [4.0], "ts90": [45.0], "TS(80%:)": [19.0], "PR(:3)": [30.0], "PR(2:5)": [30.0]}
    unavailable = cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[
        stat_query("s", "set", "tm90"), stat_query("total", "set", "Sum")])["MetricDataResults"]
    assert unavailable[0]["Values"] == [] and unavailable[1]["Values"] == [20.0]
    cw.put_metric_alarm(AlarmName="trimmed", MetricName="ten", Namespace="Stats", ExtendedStatistic="tm90",
                        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    assert cw.describe_alarms(AlarmNames=["trimmed"])["MetricAlarms"][0]["ExtendedStatistic"] == "tm90"
    # Errors name the parameter that is wrong.
    with pytest.raises(cw.exceptions.InvalidParameterValueException) as e:
        cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[
            stat_query("ok", "ten", "Sum"), stat_query("bad", "ten", "tm")])
    assert "parameter MetricDataQueries.member.2.MetricStat.Stat" in e.value.response["Error"]["Message"]
    with pytest.raises(cw.exceptions.InvalidParameterValueException) as e:
        cw.get_metric_statistics(Namespace="Stats", MetricName="ten", StartTime=start, EndTime=end,
                                 Period=1200, Statistics=["Sum", "Median"])
    assert e.value.response["Error"]["Message"].startswith("The parameter Statistics.member.2 ")
    with pytest.raises(cw.exceptions.InvalidParameterValueException) as e:
        cw.put_metric_alarm(AlarmName="bad", MetricName="ten", Namespace="Stats", ExtendedStatistic="TM(90%:10%)",
                            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    assert "parameter ExtendedStatistic " in e.value.response["Error"]["Message"]


def test_counts_out_of_range_are_refused(cairn):
    cw = cairn.client("cloudwatch")
    for counts in ([-3, 1], [1e308]):
        with pytest.raises(cw.exceptions.InvalidParameterValueException) as e:
            cw.put_metric_data(Namespace="Counts", MetricData=[
                {"MetricName": "c", "Values": [5.0] * len(counts), "Counts": counts}])
        assert "MetricData.member.1.Counts.member.1" in e.value.response["Error"]["Message"]
    assert cw.list_metrics(Namespace="Counts")["Metrics"] == []


def test_alarm_actions_must_be_in_the_alarm_region(cairn):
    cw = cairn.client("cloudwatch")
    with pytest.raises(cw.exceptions.ClientError) as e:
        cw.put_metric_alarm(AlarmName="far", MetricName="m", Namespace="n", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                            AlarmActions=["arn:aws:sns:eu-west-1:123456789012:pager"])
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert e.value.response["Error"]["Message"] == "Invalid region eu-west-1 specified. Only us-east-1 is supported."
    assert cw.describe_alarms(AlarmNames=["far"])["MetricAlarms"] == []


def test_get_metric_data_is_not_held_to_1440_periods(cairn):
    """1,440 datapoints is GetMetricStatistics' limit; GetMetricData reads two days at one
    minute (2,880 periods) and pages."""
    cw = cairn.client("cloudwatch")
    cw.put_metric_data(Namespace="Long", MetricData=[
        {"MetricName": "m", "Value": 1.0, "Timestamp": minute(5)}])
    start, end = minute(0) - datetime.timedelta(days=2), minute(0)
    query = {"Id": "q", "MetricStat": {"Metric": {"Namespace": "Long", "MetricName": "m"},
                                       "Period": 60, "Stat": "Sum"}}
    out = cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[query])
    assert out["MetricDataResults"][0]["Values"] == [1.0]
    with pytest.raises(cw.exceptions.InvalidParameterCombinationException):
        cw.get_metric_statistics(Namespace="Long", MetricName="m", StartTime=start, EndTime=end,
                                 Period=60, Statistics=["Sum"])


def test_a_sub_minute_period_rounds_the_start_to_its_own_division(cairn):
    """With a Period of 10 seconds, a StartTime of hh:mm:23 starts at hh:mm:20 (the API
    reference's example), not at the minute."""
    cw = cairn.client("cloudwatch")
    base = minute(2)
    cw.put_metric_data(Namespace="HiRes", MetricData=[
        {"MetricName": "m", "Value": float(s), "StorageResolution": 1,
         "Timestamp": base + datetime.timedelta(seconds=s)} for s in range(0, 60, 5)])
    start = base + datetime.timedelta(seconds=23)
    end = base + datetime.timedelta(seconds=41)
    out = cw.get_metric_statistics(Namespace="HiRes", MetricName="m", StartTime=start, EndTime=end,
                                   Period=10, Statistics=["Sum"])
    stamps = sorted((p["Timestamp"] - base).total_seconds() for p in out["Datapoints"])
    assert stamps == [20, 30, 40], stamps
    query = {"Id": "q", "MetricStat": {"Metric": {"Namespace": "HiRes", "MetricName": "m"},
                                       "Period": 10, "Stat": "Sum"}}
    data = cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[query])
    got = sorted((t - base).total_seconds() for t in data["MetricDataResults"][0]["Timestamps"])
    assert got == [20, 30, 40], got


def test_another_accounts_metrics_are_not_this_accounts(cairn):
    """Without cross-account observability, a query naming another account finds nothing
    (it answered this account's data as the other's)."""
    cw = cairn.client("cloudwatch")
    cw.put_metric_data(Namespace="Mine", MetricData=[
        {"MetricName": "m", "Value": 7.0, "Timestamp": minute(3)}])
    query = {"Id": "q", "MetricStat": {"Metric": {"Namespace": "Mine", "MetricName": "m"},
                                       "Period": 60, "Stat": "Sum"}}
    start, end = minute(10), minute(0)
    mine = cw.get_metric_data(StartTime=start, EndTime=end,
                              MetricDataQueries=[dict(query, AccountId="123456789012")])
    assert mine["MetricDataResults"][0]["Values"] == [7.0]
    theirs = cw.get_metric_data(StartTime=start, EndTime=end,
                                MetricDataQueries=[dict(query, AccountId="210987654321")])
    assert theirs["MetricDataResults"][0]["Values"] == []
    assert cw.list_metrics(Namespace="Mine", OwningAccount="210987654321")["Metrics"] == []
    assert len(cw.list_metrics(Namespace="Mine")["Metrics"]) == 1
