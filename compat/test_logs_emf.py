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
