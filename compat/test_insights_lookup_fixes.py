"""Findings from outside testing of ListInsightsMetricData, LookupEvents and the Insights
selector calls, against the real binary with boto3 and the AWS CLI: time ranges outside the
metric data's availability are empty series (and parameter errors are the one error the
operation declares), names and error codes are checked against the model, LookupEvents
keeps the fractions of its time bounds, tag calls name their trail as a resource, a trail
and an event data store together are a parameter combination error, and Insights events
carry no empty AccessKeyId/Username."""

import json
import time
from datetime import datetime, timezone

import boto3
import botocore.exceptions
import botocore.session
import pytest
from botocore.config import Config
from botocore.handlers import enable_millisecond_timestamp_precision

from conftest import ACCESS_KEY, SECRET, Cairn, cairn_binary, cloudtrail_policy, err

DAY = 86_400
ACCT = "123456789012"


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--insights-warm-up", "0", "--delivery-interval", "86400"])
    yield s
    s.stop()


def unvalidated(server):
    """A CloudTrail client that sends what it is given (no client-side bounds checks)."""
    return boto3.client(
        "cloudtrail", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
        config=Config(parameter_validation=False))


def millisecond_client(server):
    """A CloudTrail client that sends timestamps with their milliseconds (botocore sends
    whole seconds by default)."""
    session = botocore.session.get_session()
    session.register("creating-serializer.cloudtrail", enable_millisecond_timestamp_precision)
    return session.create_client("cloudtrail", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)


def make_trail(server, name):
    s3 = server.client("s3")
    bucket = f"{name}-bucket"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket))
    ct = server.client("cloudtrail")
    arn = ct.create_trail(Name=name, S3BucketName=bucket)["TrailARN"]
    ct.start_logging(Name=name)
    return ct, arn


def at(epoch):
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


SERIES = {"EventSource": "cloudtrail.amazonaws.com", "EventName": "AddTags",
          "InsightType": "ApiCallRateInsight"}


def test_metric_data_ranges_outside_availability_are_empty_series(server):
    ct = server.client("cloudtrail")
    now = time.time()
    for period, start, end in [
        (3600, now + DAY, now + 2 * DAY),                  # in the future
        (3600, now - 100 * DAY, now - 95 * DAY),           # before the 90 days of hours
        (300, now - 70 * DAY, now - 64 * DAY),             # before the 63 days of 5 minutes
        (60, now - 20 * DAY, now - 16 * DAY),              # before the 15 days of minutes
    ]:
        for data_type in ["NonZeroData", "FillWithZeros"]:
            out = ct.list_insights_metric_data(**SERIES, Period=period, DataType=data_type,
                                               StartTime=at(start), EndTime=at(end))
            assert (out["Timestamps"], out["Values"]) == ([], []), (period, start - now, out)
    # A range across the 15-day cutoff is zero-filled from the cutoff only.
    out = ct.list_insights_metric_data(**SERIES, Period=60, DataType="FillWithZeros",
                                       StartTime=at(now - 20 * DAY), EndTime=at(now - 14 * DAY))
    stamps = [t.timestamp() for t in out["Timestamps"]]
    assert 1439 <= len(stamps) <= 1441, len(stamps)
    assert min(stamps) >= now - 15 * DAY - 60 and max(stamps) < now - 14 * DAY


def test_metric_data_parameter_errors_are_invalid_parameter(server):
    ct = unvalidated(server)
    now = time.time()
    bad = [
        dict(StartTime=at(now - 3600), EndTime=at(now - 7200)),  # start after end
        dict(StartTime=at(now - 3600), EndTime=at(now - 3600)),  # start equal to end
        dict(StartTime=at(now + DAY)),                           # start after the default end
        dict(NextToken="bogus"),
        dict(MaxResults=0),
        dict(MaxResults=21_601),
    ]
    for extra in bad:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ct.list_insights_metric_data(**SERIES, **extra)
        assert err(e) == ("InvalidParameterException", 400), (extra, e.value.response)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.list_insights_metric_data(**SERIES, StartTime=at(now - 3600), EndTime=at(now - 7200))
    assert "must be earlier than EndTime" in e.value.response["Error"]["Message"]


def test_metric_data_checks_event_name_and_error_code(server):
    ct = unvalidated(server)
    error_rate = {**SERIES, "InsightType": "ApiErrorRateInsight"}
    for code in ["", "a/b", "<script>", "x" * 129]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ct.list_insights_metric_data(**error_rate, ErrorCode=code)
        assert err(e) == ("InvalidParameterException", 400), (code, e.value.response)
    for name in ["A" * 129, ""]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ct.list_insights_metric_data(**{**SERIES, "EventName": name})
        assert err(e) == ("InvalidParameterException", 400), (name, e.value.response)
    for code in ["AccessDenied", "Client.Unauthorized", "x" * 128]:
        ct.list_insights_metric_data(**error_rate, ErrorCode=code)
    ct.list_insights_metric_data(**{**SERIES, "EventName": "A" * 128})


def test_lookup_events_compares_time_bounds_to_the_millisecond(server):
    ct = millisecond_client(server)
    ct.list_trails()
    newest = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName",
                                                 "AttributeValue": "ListTrails"}])["Events"][0]
    t = newest["EventTime"].timestamp()
    assert t == int(t)
    by_id = [{"AttributeKey": "EventId", "AttributeValue": newest["EventId"]}]

    def found(**bounds):
        return [e["EventId"] for e in ct.lookup_events(LookupAttributes=by_id, **bounds)["Events"]]

    assert found(StartTime=at(t - 0.5), EndTime=at(t + 0.5)) == [newest["EventId"]]
    assert found(StartTime=at(t), EndTime=at(t)) == [newest["EventId"]]
    assert found(StartTime=at(t + 0.5), EndTime=at(t + 5)) == []
    assert found(StartTime=at(t - 10), EndTime=at(t - 0.5)) == []
    with pytest.raises(ct.exceptions.InvalidTimeRangeException):
        ct.lookup_events(StartTime=at(t + 0.9), EndTime=at(t + 0.1))


def test_tag_calls_name_their_trail_in_event_history(server):
    ct, arn = make_trail(server, "tagged")
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "team", "Value": "a"}])
    ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "team"}])
    ct.list_tags(ResourceIdList=[arn, arn])
    out = server.cli("cloudtrail", "lookup-events", "--lookup-attributes",
                     f"AttributeKey=ResourceName,AttributeValue={arn}")
    events = json.loads(out.stdout)["Events"]
    by_name = {}
    for e in events:
        by_name.setdefault(e["EventName"], e)
    for name in ["AddTags", "RemoveTags", "ListTags", "CreateTrail", "StartLogging"]:
        assert name in by_name, sorted(by_name)
        assert by_name[name]["Resources"] == [
            {"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": arn}], by_name[name]
        # The record names the trail event history names: the event index is derived from
        # the record alone (verify-store checks it), and StartLogging's request names the
        # trail only by name.
        record = json.loads(by_name[name]["CloudTrailEvent"])
        assert record["resources"] == [
            {"accountId": ACCT, "type": "AWS::CloudTrail::Trail", "ARN": arn}], record
    # A refused tag call names nothing.
    with pytest.raises(ct.exceptions.ResourceNotFoundException):
        ct.add_tags(ResourceId=arn + "x", TagsList=[{"Key": "k", "Value": "v"}])


def test_insight_selectors_with_trail_and_event_data_store_are_a_combination_error(server):
    ct, _ = make_trail(server, "combo")
    eds = f"arn:aws:cloudtrail:us-east-1:{ACCT}:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"
    with pytest.raises(ct.exceptions.InvalidParameterCombinationException):
        ct.get_insight_selectors(TrailName="combo", EventDataStore=eds)
    with pytest.raises(ct.exceptions.InvalidParameterCombinationException):
        ct.put_insight_selectors(TrailName="combo", EventDataStore=eds,
                                 InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    # Neither was changed.
    with pytest.raises(ct.exceptions.InsightNotEnabledException):
        ct.get_insight_selectors(TrailName="combo")


def test_insight_events_have_no_empty_access_key_or_username(server):
    t0 = time.time()
    ct, arn = make_trail(server, "burst")
    ct.put_insight_selectors(TrailName="burst", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    for i in range(12):
        ct.add_tags(ResourceId=arn, TagsList=[{"Key": f"k{i}", "Value": "v"}])
    report = json.loads(server.admin("insights", "run", "--now", str(int(t0) + 1800)))
    assert report["Written"] >= 2, report
    # The run's clock is half an hour ahead: the End event (the minute after the burst) may
    # still lie in the real future, which LookupEvents' default EndTime (now) leaves out.
    events = ct.lookup_events(EventCategory="insight",
                              EndTime=datetime.fromtimestamp(t0 + 3600, timezone.utc))["Events"]
    assert {json.loads(e["CloudTrailEvent"])["insightDetails"]["state"] for e in events} == {
        "Start", "End"}, events
    assert any(e["EventName"] == "AddTags" for e in events), events
    for e in events:
        assert "AccessKeyId" not in e and "Username" not in e, e
    # Management events keep theirs.
    mgmt = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName",
                                               "AttributeValue": "AddTags"}])["Events"]
    assert mgmt and all(e["AccessKeyId"] == ACCESS_KEY and e["Username"] == "root" for e in mgmt)


def test_metric_data_is_lookup_events_permission_and_a_named_trail_needs_list_insights_data(server):
    """ListInsightsMetricData without TrailName is authorized as cloudtrail:LookupEvents; with
    TrailName it also needs cloudtrail:ListInsightsData on the trail (the API reference)."""
    _, arn = make_trail(server, "metrics-perm")
    iam = server.client("iam")

    def analyst(name, actions):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return server.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudtrail")

    lookup_only = analyst("metrics-lookup", ["cloudtrail:LookupEvents"])
    lookup_only.list_insights_metric_data(**SERIES)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lookup_only.list_insights_metric_data(**SERIES, TrailName=arn)
    assert err(e)[0] == "AccessDeniedException"
    assert "cloudtrail:ListInsightsData" in e.value.response["Error"]["Message"]
    both = analyst("metrics-both", ["cloudtrail:LookupEvents", "cloudtrail:ListInsightsData"])
    both.list_insights_metric_data(**SERIES, TrailName=arn)
    old_name = analyst("metrics-old", ["cloudtrail:ListInsightsMetricData"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        old_name.list_insights_metric_data(**SERIES)
    assert "cloudtrail:LookupEvents" in e.value.response["Error"]["Message"]


def test_metric_data_names_the_error_code_and_data_trail_only_where_aws_does(server):
    ct, arn = make_trail(server, "metric-members")
    out = ct.list_insights_metric_data(**SERIES, ErrorCode="AccessDenied")
    assert "ErrorCode" not in out, out  # only for ApiErrorRateInsight
    errors = {**SERIES, "InsightType": "ApiErrorRateInsight"}
    assert ct.list_insights_metric_data(**errors, ErrorCode="AccessDenied")["ErrorCode"] == "AccessDenied"
    # TrailARN only for a trail with Insights on data events.
    assert "TrailARN" not in ct.list_insights_metric_data(**SERIES, TrailName="metric-members")
    ct.put_event_selectors(TrailName="metric-members", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
    ct.put_insight_selectors(TrailName="metric-members", InsightSelectors=[
        {"InsightType": "ApiCallRateInsight", "EventCategories": ["Data"]}])
    assert ct.list_insights_metric_data(**SERIES, TrailName="metric-members")["TrailARN"] == arn
    ct.delete_trail(Name="metric-members")  # five trails per region

