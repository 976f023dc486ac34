"""Values kept in one row (hostile15). A PutMetricData datum's `Values`/`Counts` were stored
one row a value, and a metric filter's datapoints one row a distinct value a minute: one
834 KB PutMetricData (1,000 metrics × 150 values) wrote 150,000 rows and held every other
call of the account for seconds, and one PutLogEvents under 100 filters a million. Each
datum, and each filter's minute, is now one row that keeps its distinct values and their
counts, so the statistics, percentiles included, are as before."""

import datetime
import time


def point_rows(cairn):
    return cairn.store_rows("SELECT COUNT(*) FROM metric_points")[0][0]


def test_a_datum_of_many_values_is_one_row_with_exact_statistics(cairn):
    cw = cairn.client("cloudwatch")
    before = point_rows(cairn)
    t = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    values = [float(v) for v in range(1, 151)]
    cw.put_metric_data(Namespace="Rows", MetricData=[
        {"MetricName": f"m{i}", "Values": values, "Counts": [2.0] * 150, "Timestamp": t}
        for i in range(20)])
    assert point_rows(cairn) - before == 20, "one row a datum"
    span = {"Namespace": "Rows", "MetricName": "m3", "Period": 60,
            "StartTime": t - datetime.timedelta(minutes=1), "EndTime": t + datetime.timedelta(minutes=1)}
    got = cw.get_metric_statistics(
        Statistics=["SampleCount", "Sum", "Minimum", "Maximum"], **span)["Datapoints"][0]
    assert (got["SampleCount"], got["Sum"], got["Minimum"], got["Maximum"]) == (
        300.0, 2.0 * sum(values), 1.0, 150.0)
    got = cw.get_metric_statistics(ExtendedStatistics=["p50", "p99"], **span)["Datapoints"][0]
    assert got["ExtendedStatistics"] == {"p50": 75.0, "p99": 149.0}


def test_a_metric_filter_minute_is_one_row_with_exact_statistics(cairn):
    logs, cw = cairn.client("logs"), cairn.client("cloudwatch")
    logs.create_log_group(logGroupName="/rows")
    logs.create_log_stream(logGroupName="/rows", logStreamName="s")
    logs.put_metric_filter(
        logGroupName="/rows", filterName="latency", filterPattern="[ms]",
        metricTransformations=[{"metricName": "lat", "metricNamespace": "RowsLogs",
                                "metricValue": "$ms"}])
    before = point_rows(cairn)
    now = int(time.time() * 1000) // 60_000 * 60_000
    logs.put_log_events(logGroupName="/rows", logStreamName="s", logEvents=[
        {"timestamp": now + i, "message": str(i)} for i in range(1, 201)])
    assert point_rows(cairn) - before == 1, "one row for the filter's minute"
    t = datetime.datetime.fromtimestamp(now / 1000, datetime.timezone.utc)
    span = {"Namespace": "RowsLogs", "MetricName": "lat", "Period": 60,
            "StartTime": t, "EndTime": t + datetime.timedelta(minutes=1)}
    got = cw.get_metric_statistics(Statistics=["SampleCount", "Sum", "Maximum"], **span)["Datapoints"][0]
    assert (got["SampleCount"], got["Sum"], got["Maximum"]) == (200.0, 20100.0, 200.0)
    got = cw.get_metric_statistics(ExtendedStatistics=["p90"], **span)["Datapoints"][0]
    assert got["ExtendedStatistics"] == {"p90": 180.0}
