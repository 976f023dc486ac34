"""A StopLogging or PutEventSelectors that ends an open insight is still in its own trail's
files (outside tester insights4). The End events of the insights such a call ends used to be
appended after the call's own event number was taken, so StopLogging landed just past the
trail's logging window (missing from its log files and final digest, while both validators
said all was valid) and a blinding PutEventSelectors was judged by its new selectors."""

import gzip
import json
import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--insights-warm-up", "0"])
    yield s
    s.stop()


def open_insight(server, name):
    """A logging trail `name` with ApiCallRateInsight and an insight open on AddTags."""
    t0 = time.time()
    s3 = server.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=cloudtrail_policy(name))
    ct = server.client("cloudtrail")
    arn = ct.create_trail(Name=name, S3BucketName=name, EnableLogFileValidation=True)["TrailARN"]
    ct.start_logging(Name=name)
    ct.put_insight_selectors(TrailName=name, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    for i in range(12):
        ct.add_tags(ResourceId=arn, TagsList=[{"Key": f"k{i}", "Value": "v"}])
    server.admin("insights", "run", "--now", str(int(t0) + 420))
    states = [r["insightDetails"]["state"] for r in server.records("Insight")
              if r["insightDetails"]["eventName"] == "AddTags"
              and r["insightDetails"]["insightType"] == "ApiCallRateInsight"]
    assert states.count("Start") > states.count("End"), states
    return ct


def delivered(server, bucket):
    """(eventName, requestParameters) of every management record in `bucket`'s log files."""
    s3 = server.client("s3")
    found = []
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        if "/CloudTrail/" in o["Key"]:
            body = gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
            found += [(r["eventName"], r.get("requestParameters")) for r in json.loads(body)["Records"]]
    return found


def test_stop_logging_ending_an_insight_is_in_its_trails_files(server):
    ct = open_insight(server, "stop-open")
    ct.stop_logging(Name="stop-open")
    server.flush()
    records = delivered(server, "stop-open")
    # The last record the trail delivers is its own StopLogging.
    assert records[-1] == ("StopLogging", {"name": "stop-open"}), records[-3:]


def test_a_blinding_put_event_selectors_is_in_its_trails_files(server):
    ct = open_insight(server, "blind-open")
    ct.put_event_selectors(TrailName="blind-open", EventSelectors=[
        {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    server.flush()
    names = [n for n, p in delivered(server, "blind-open") if (p or {}).get("trailName") == "blind-open"]
    assert "PutEventSelectors" in names, names
