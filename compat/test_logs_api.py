"""CloudWatch Logs through boto3: groups, streams, events, metric filters, tags, retention and
Logs Insights, with the modeled exceptions and messages AWS returns, and the CloudTrail events
the calls leave (control calls as management events, PutLogEvents as a data event)."""

import json
import time

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def logs(cairn):
    return cairn.client("logs")


def now_ms():
    return int(time.time() * 1000)


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_groups_with_aws_errors_and_pagination(logs):
    for k in range(7):
        logs.create_log_group(logGroupName=f"/compat/g{k}", tags={"k": str(k)})
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName="/compat/g0")
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.create_log_group(logGroupName="has space")
    assert "regular expression pattern" in error(e)[1]
    pages = list(logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix="/compat/", PaginationConfig={"PageSize": 3}))
    assert len(pages) == 3
    names = [g["logGroupName"] for p in pages for g in p["logGroups"]]
    assert names == [f"/compat/g{k}" for k in range(7)]
    # A token is bound to the call's filters, not to its page size: the CLI resumes
    # `--starting-token` without the `--page-size` that gave it.
    first = logs.describe_log_groups(logGroupNamePrefix="/compat/", limit=2)
    rest = logs.describe_log_groups(logGroupNamePrefix="/compat/", limit=50,
                                     nextToken=first["nextToken"])
    assert [g["logGroupName"] for g in rest["logGroups"]] == [f"/compat/g{k}" for k in range(2, 7)]
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.describe_log_groups(logGroupNamePrefix="/compat/g1", nextToken=first["nextToken"])
    assert error(e)[1] == "The specified nextToken is invalid."
    g = pages[0]["logGroups"][0]
    assert g["arn"].endswith(":log-group:/compat/g0:*")
    assert g["logGroupArn"].endswith(":log-group:/compat/g0")
    logs.put_retention_policy(logGroupName="/compat/g0", retentionInDays=30)
    assert logs.describe_log_groups(logGroupNamePrefix="/compat/g0")["logGroups"][0]["retentionInDays"] == 30
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_retention_policy(logGroupName="/compat/g0", retentionInDays=8)
    logs.delete_retention_policy(logGroupName="/compat/g0")
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix="/compat/g0")["logGroups"][0]
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as e:
        logs.delete_log_group(logGroupName="/compat/missing")
    assert error(e) == ("ResourceNotFoundException", "The specified log group does not exist.")


def test_events_put_get_filter(logs):
    logs.create_log_group(logGroupName="/compat/events")
    logs.create_log_stream(logGroupName="/compat/events", logStreamName="a")
    logs.create_log_stream(logGroupName="/compat/events", logStreamName="b")
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName="/compat/events", logStreamName="a")
    t = now_ms()
    out = logs.put_log_events(logGroupName="/compat/events", logStreamName="a", logEvents=[
        {"timestamp": t - 20 * 86_400_000, "message": "ancient"},
        *({"timestamp": t + k, "message": f"ERROR {k}" if k % 2 else f"INFO {k}"} for k in range(30)),
        {"timestamp": t + 3 * 3_600_000, "message": "future"}])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 31}
    logs.put_log_events(logGroupName="/compat/events", logStreamName="b", sequenceToken="0" * 56,
                        logEvents=[{"timestamp": t + 100, "message": "ERROR from b"}])
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.put_log_events(logGroupName="/compat/events", logStreamName="a", logEvents=[
            {"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}])
    assert "chronological order" in error(e)[1]
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as e:
        logs.put_log_events(logGroupName="/compat/events", logStreamName="nope",
                            logEvents=[{"timestamp": t, "message": "x"}])
    assert error(e)[1] == "The specified log stream does not exist."
    # GetLogEvents: loop until the forward token comes back unchanged, as the SDKs document.
    seen, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = logs.get_log_events(logGroupName="/compat/events", logStreamName="a", startFromHead=True, limit=7, **kwargs)
        seen += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert seen == [f"ERROR {k}" if k % 2 else f"INFO {k}" for k in range(30)]
    # A token pages the stream it came from: on another stream it is refused, not reused.
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.get_log_events(logGroupName="/compat/events", logStreamName="b", nextToken=token)
    assert error(e)[1] == "The specified nextToken is invalid."
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName="/compat/events", filterPattern="ERROR", PaginationConfig={"PageSize": 4})
    events = [e for p in pages for e in p["events"]]
    assert len(events) == 16
    assert events[-1]["logStreamName"] == "b" and events[-1]["message"] == "ERROR from b"
    assert all(len(e["eventId"]) == 56 for e in events)
    only_b = logs.filter_log_events(logGroupName="/compat/events", logStreamNames=["b"])["events"]
    assert [e["message"] for e in only_b] == ["ERROR from b"]
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.filter_log_events(logGroupName="/compat/events", filterPattern='{ $.eventType > "x" }')
    assert error(e)[1] == "Invalid metric filter pattern"
    streams = logs.describe_log_streams(logGroupName="/compat/events", orderBy="LastEventTime", descending=True)
    assert [s["logStreamName"] for s in streams["logStreams"]] == ["b", "a"]
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.describe_log_streams(logGroupName="/compat/events", orderBy="LastEventTime", logStreamNamePrefix="a")


def test_metric_filters_and_test_metric_filter(logs):
    logs.create_log_group(logGroupName="/compat/filters")
    pattern = '{ ($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }'
    logs.put_metric_filter(logGroupName="/compat/filters", filterName="cmk", filterPattern=pattern,
                           metricTransformations=[{"metricName": "disable_or_delete_cmk_changes_metric",
                                                   "metricNamespace": "CISBenchmark", "metricValue": "1"}])
    described = logs.describe_metric_filters(logGroupName="/compat/filters")["metricFilters"]
    assert described[0]["filterPattern"] == pattern
    assert described[0]["metricTransformations"][0]["metricName"] == "disable_or_delete_cmk_changes_metric"
    by_metric = logs.describe_metric_filters(metricName="disable_or_delete_cmk_changes_metric", metricNamespace="CISBenchmark")
    assert [f["filterName"] for f in by_metric["metricFilters"]] == ["cmk"]
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.put_metric_filter(logGroupName="/compat/filters", filterName="bad", filterPattern="ERROR:",
                               metricTransformations=[{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}])
    assert error(e)[1] == "Invalid character(s) in term ':'"
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_metric_filter(logGroupName="/compat/filters", filterName="nope")
    result = logs.test_metric_filter(
        filterPattern="[ip, user, ..., status_code = 4*, bytes > 1000]",
        logEventMessages=['127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
                          '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 200 1534'])
    assert len(result["matches"]) == 1
    m = result["matches"][0]
    assert m["eventNumber"] == 1
    assert m["extractedValues"] == {"$ip": "127.0.0.1", "$user": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700",
                                    "$5": "GET /index.html HTTP/1.0", "$status_code": "404", "$bytes": "1534"}


def test_tags_both_api_generations(logs):
    logs.create_log_group(logGroupName="/compat/tags", tags={"a": "1"})
    arn = logs.describe_log_groups(logGroupNamePrefix="/compat/tags")["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"b": "2"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}
    logs.untag_log_group(logGroupName="/compat/tags", tags=["a"])
    assert logs.list_tags_log_group(logGroupName="/compat/tags")["tags"] == {"b": "2"}
    with pytest.raises(logs.exceptions.TooManyTagsException):
        logs.tag_resource(resourceArn=arn, tags={f"k{n}": "v" for n in range(50)})


def select_log_data_events(cairn):
    """PutLogEvents is a data event: recorded only while a logging trail selects it."""
    from conftest import cloudtrail_policy

    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="logs-data-trail")
    s3.put_bucket_policy(Bucket="logs-data-trail", Policy=cloudtrail_policy("logs-data-trail"))
    ct = cairn.client("cloudtrail")
    ct.create_trail(Name="logs-data", S3BucketName="logs-data-trail")
    ct.put_event_selectors(TrailName="logs-data", AdvancedEventSelectors=[{"Name": "log streams", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::Logs::LogStream"]}]}])
    ct.start_logging(Name="logs-data")


def test_insights_and_recorded_events(cairn, logs):
    select_log_data_events(cairn)
    logs.create_log_group(logGroupName="/compat/insights")
    logs.create_log_stream(logGroupName="/compat/insights", logStreamName="s")
    t = now_ms()
    logs.put_log_events(logGroupName="/compat/insights", logStreamName="s", logEvents=[
        {"timestamp": t + k, "message": json.dumps({"eventName": "ListBuckets" if k % 3 else "CreateTrail"})}
        for k in range(9)])
    qid = logs.start_query(logGroupName="/compat/insights", startTime=t // 1000 - 5, endTime=t // 1000 + 5,
                           queryString="stats count(*) as n by eventName | sort n desc")["queryId"]
    res = logs.get_query_results(queryId=qid)
    assert res["status"] == "Complete"
    assert [[(f["field"], f["value"]) for f in row] for row in res["results"]] == [
        [("eventName", "ListBuckets"), ("n", "6")], [("eventName", "CreateTrail"), ("n", "3")]]
    # A far-future end (ms would overflow i64) is an open end, not a 500.
    far = logs.start_query(logGroupName="/compat/insights", startTime=0, endTime=10**17,
                           queryString="stats count(*) as n")["queryId"]
    assert logs.get_query_results(queryId=far)["results"] == [[{"field": "n", "value": "9"}]]
    with pytest.raises(logs.exceptions.MalformedQueryException):
        logs.start_query(logGroupName="/compat/insights", startTime=0, endTime=1, queryString="fields |")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_query_results(queryId="00000000-0000-0000-0000-000000000000")
    assert qid in [q["queryId"] for q in logs.describe_queries(logGroupName="/compat/insights")["queries"]]
    # Reads of log events are read-only management events, as in AWS's event history: who
    # read which logs is audited without a data selector.
    logs.get_log_events(logGroupName="/compat/insights", logStreamName="s")
    logs.filter_log_events(logGroupName="/compat/insights")
    management = [r for r in cairn.records("Management") if r["eventSource"] == "logs.amazonaws.com"]
    names = {r["eventName"] for r in management}
    assert {"CreateLogGroup", "PutMetricFilter", "StartQuery", "DescribeLogGroups",
            "GetLogEvents", "FilterLogEvents"} <= names
    assert all(r["readOnly"] for r in management if r["eventName"] in ("GetLogEvents", "FilterLogEvents"))
    # StartQuery's record carries the id it returned, so GetQueryResults and StopQuery by that
    # id can be tied to who started the query and what it asked.
    started = [r for r in management if r["eventName"] == "StartQuery"]
    assert qid in [(r.get("responseElements") or {}).get("queryId") for r in started], started[-1]
    create = next(r for r in management if r["eventName"] == "CreateLogGroup")
    assert create["requestParameters"]["logGroupName"].startswith("/compat/")
    failed = [r for r in management if r.get("errorCode") == "ResourceAlreadyExistsException"]
    assert failed, "failed calls are recorded with AWS's error code"
    data = [r for r in cairn.records("Data") if r["eventSource"] == "logs.amazonaws.com"]
    assert {r["eventName"] for r in data} == {"PutLogEvents"}
    put = [r for r in data if r["eventName"] == "PutLogEvents"]
    assert put and "logEvents" not in put[0]["requestParameters"]
    assert put[0]["resources"][0]["type"] == "AWS::Logs::LogStream"


def test_insights_numbers_from_parse_sort_and_aggregate_by_value(logs):
    # Numbers pulled out of text by `parse` are strings; max, min and sort used to compare
    # them as text (max of 42, 58, 7 was "7"). Comments (`#`) are part of the language.
    logs.create_log_group(logGroupName="/compat/natural")
    logs.create_log_stream(logGroupName="/compat/natural", logStreamName="s")
    t = now_ms()
    logs.put_log_events(logGroupName="/compat/natural", logStreamName="s", logEvents=[
        {"timestamp": t + k, "message": f"latency := {v} port {p}"}
        for k, (v, p) in enumerate([(42, "22"), (58, "3389"), (7, "443"), (13, "8080"), (5, "80")])])

    def run(query):
        qid = logs.start_query(logGroupName="/compat/natural", startTime=t // 1000 - 5,
                               endTime=t // 1000 + 5, queryString=query)["queryId"]
        res = logs.get_query_results(queryId=qid)
        assert res["status"] == "Complete", res
        return [{f["field"]: f["value"] for f in row if f["field"] != "@ptr"} for row in res["results"]]

    assert run("parse @message /latency := (?<lat>\\d+)/ # the latency\n"
               "| stats max(lat) as mx, min(lat) as mn") == [{"mx": "58", "mn": "5"}]
    ports = run("parse @message /port (?<port>\\d+)/ | sort port asc | fields port")
    assert [r["port"] for r in ports] == ["22", "80", "443", "3389", "8080"]


def test_query_results_page_with_max_items(logs):
    logs.create_log_group(logGroupName="/compat/paged-results")
    logs.create_log_stream(logGroupName="/compat/paged-results", logStreamName="s")
    t = now_ms()
    logs.put_log_events(logGroupName="/compat/paged-results", logStreamName="s", logEvents=[
        {"timestamp": t + k, "message": f"row {k}"} for k in range(7)])
    qid = logs.start_query(logGroupName="/compat/paged-results", startTime=t // 1000 - 5,
                           endTime=t // 1000 + 5, queryString="fields @message | sort @timestamp asc")["queryId"]
    first = logs.get_query_results(queryId=qid, maxItems=3)
    assert len(first["results"]) == 3 and "nextToken" in first
    # The token is bound to the query, not to the page size.
    rest = logs.get_query_results(queryId=qid, maxItems=5, nextToken=first["nextToken"])
    assert "nextToken" not in rest
    messages = [f["value"] for row in first["results"] + rest["results"] for f in row
                if f["field"] == "@message"]
    assert messages == [f"row {k}" for k in range(7)]
    assert len(logs.get_query_results(queryId=qid)["results"]) == 7
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.get_query_results(queryId=qid, nextToken="forged")


def test_lists_shorter_than_the_model_allows_are_refused(cairn):
    """An empty `logGroupIdentifiers` or `tags` list (the model's min 1) was accepted, and
    UntagLogGroup with no tags answered 200 (model-driven fuzz tester). botocore checks this
    itself, so the client here skips its own validation, as the JavaScript SDK does."""
    from botocore.config import Config
    import boto3
    from conftest import ACCESS_KEY, SECRET
    raw = boto3.client("logs", endpoint_url=cairn.endpoint, region_name="us-east-1",
                       aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                       config=Config(parameter_validation=False))
    raw.create_log_group(logGroupName="/min/one")
    for call in (lambda: raw.describe_log_groups(logGroupIdentifiers=[]),
                 lambda: raw.untag_log_group(logGroupName="/min/one", tags=[])):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "InvalidParameterException"
        assert "Member must have length greater than or equal to 1" in e.value.response["Error"]["Message"]
