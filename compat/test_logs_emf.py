"""Embedded Metric Format (sdk7: PutLogEvents stored EMF events and no metric ever came, so
an alarm on one stayed INSUFFICIENT_DATA). A batch sent with `x-amzn-logs-format: json/emf`
makes a metric of each directive's members; without the header, or with events that are not
valid EMF, the events are stored and make none."""

import json
import time


def emf_logs(cairn):
    logs = cairn.client("logs")

    def add_header(request, **_):
        request.headers["x-amzn-logs-format"] = "json/emf"
    logs.meta.events.register("before-sign.cloudwatch-logs.PutLogEvents", add_header)
    return logs


def test_emf_events_make_metrics(cairn):
    logs, cw = emf_logs(cairn), cairn.client("cloudwatch")
    logs.create_log_group(logGroupName="emf-group")
    logs.create_log_stream(logGroupName="emf-group", logStreamName="s")
    now = int(time.time() * 1000)
    event = {"_aws": {"Timestamp": now, "CloudWatchMetrics": [{
        "Namespace": "EmfApp", "Dimensions": [["Service"]],
        "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}]},
        "Service": "checkout", "Latency": [120, 80]}
    logs.put_log_events(logGroupName="emf-group", logStreamName="s", logEvents=[
        {"timestamp": now, "message": json.dumps(event)},
        {"timestamp": now, "message": "not EMF at all"}])
    metrics = cw.list_metrics(Namespace="EmfApp")["Metrics"]
    assert metrics == [{"Namespace": "EmfApp", "MetricName": "Latency",
                        "Dimensions": [{"Name": "Service", "Value": "checkout"}]}], metrics
    stats = cw.get_metric_statistics(
        Namespace="EmfApp", MetricName="Latency", Dimensions=[{"Name": "Service", "Value": "checkout"}],
        StartTime=now / 1000 - 120, EndTime=now / 1000 + 120, Period=60,
        Statistics=["Sum", "SampleCount"])["Datapoints"]
    assert [(d["Sum"], d["SampleCount"], d["Unit"]) for d in stats] == [(200.0, 2.0, "Milliseconds")], stats
    # The same event without the header makes no metric.
    plain = cairn.client("logs")
    plain.create_log_stream(logGroupName="emf-group", logStreamName="plain")
    event["_aws"]["CloudWatchMetrics"][0]["Namespace"] = "NotEmf"
    plain.put_log_events(logGroupName="emf-group", logStreamName="plain",
                         logEvents=[{"timestamp": now, "message": json.dumps(event)}])
    assert cw.list_metrics(Namespace="NotEmf")["Metrics"] == []


def test_emf_obeys_put_metric_data_rules_and_is_bounded(cairn):
    """recheck32b: EMF wrote into `AWS/` namespaces and a day ahead, which PutMetricData
    refuses, and one 31 KB event made a million writes. Such directives make no metric; an
    event making more than 1,000 series makes none."""
    logs, cw = emf_logs(cairn), cairn.client("cloudwatch")
    logs.create_log_group(logGroupName="emf-rules")
    logs.create_log_stream(logGroupName="emf-rules", logStreamName="s")
    now = int(time.time() * 1000)

    def event(namespace, stamp=now, sets=1, metrics=1):
        names = [f"m{i}" for i in range(metrics)]
        body = {"_aws": {"Timestamp": stamp, "CloudWatchMetrics": [{
            "Namespace": namespace, "Dimensions": [[] for _ in range(sets)],
            "Metrics": [{"Name": n} for n in names]}]}}
        body.update({n: list(range(100)) for n in names})
        return {"timestamp": now, "message": json.dumps(body)}
    logs.put_log_events(logGroupName="emf-rules", logStreamName="s", logEvents=[
        event("AWS/CloudTrail"), event("Ahead", stamp=now + 86_400_000),
        event("TooMany", sets=100, metrics=100), event("Fine", sets=1, metrics=3)])
    for refused in ("AWS/CloudTrail", "Ahead", "TooMany"):
        assert cw.list_metrics(Namespace=refused)["Metrics"] == [], refused
    assert len(cw.list_metrics(Namespace="Fine")["Metrics"]) == 3
    stats = cw.get_metric_statistics(Namespace="Fine", MetricName="m0", StartTime=now / 1000 - 120,
                                     EndTime=now / 1000 + 120, Period=60,
                                     Statistics=["SampleCount", "Maximum"])["Datapoints"]
    assert [(d["SampleCount"], d["Maximum"]) for d in stats] == [(100.0, 99.0)], stats


def test_emf_values_keep_their_percentiles(cairn):
    """alarms7: EMF values were stored as one statistic set per series and time, so no
    percentile had a value and a p90 alarm on EMF latency stayed INSUFFICIENT_DATA."""
    logs, cw = emf_logs(cairn), cairn.client("cloudwatch")
    logs.create_log_group(logGroupName="emf-pct")
    logs.create_log_stream(logGroupName="emf-pct", logStreamName="s")
    now = int(time.time() * 1000) // 60_000 * 60_000
    events = []
    for chunk in range(4):
        event = {"_aws": {"Timestamp": now, "CloudWatchMetrics": [{
            "Namespace": "EmfPct", "Dimensions": [[]], "Metrics": [{"Name": "Latency"}]}]},
            "Latency": list(range(chunk * 25 + 1, chunk * 25 + 26))}
        events.append({"timestamp": now + chunk, "message": json.dumps(event)})
    logs.put_log_events(logGroupName="emf-pct", logStreamName="s", logEvents=events)
    got = cw.get_metric_statistics(
        Namespace="EmfPct", MetricName="Latency", StartTime=now / 1000, EndTime=now / 1000 + 60,
        Period=60, ExtendedStatistics=["p50", "p90"])["Datapoints"]
    assert [d["ExtendedStatistics"] for d in got] == [{"p50": 50.0, "p90": 90.0}], got
