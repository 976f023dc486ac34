"""A trail whose event selectors stop logging write management events after Insights was
turned on gets no call-rate Insights (AWS: "the trail must log write management events");
PutInsightSelectors checks this, and a later PutEventSelectors must not get around it."""

import json
import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--insights-warm-up", "0", "--delivery-interval", "86400"])
    yield s
    s.stop()


def test_a_trail_that_stops_logging_writes_gets_no_call_rate_insights(server):
    t0 = time.time()
    s3 = server.client("s3")
    s3.create_bucket(Bucket="starved-bucket")
    s3.put_bucket_policy(Bucket="starved-bucket", Policy=cloudtrail_policy("starved-bucket"))
    ct = server.client("cloudtrail")
    arn = ct.create_trail(Name="starved", S3BucketName="starved-bucket")["TrailARN"]
    ct.start_logging(Name="starved")
    ct.put_insight_selectors(TrailName="starved", InsightSelectors=[
        {"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}])
    # Accepted; from now on the trail logs no write calls for call-rate Insights to count.
    ct.put_event_selectors(TrailName="starved", EventSelectors=[
        {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    for i in range(12):
        ct.add_tags(ResourceId=arn, TagsList=[{"Key": f"s{i}", "Value": "v"}])
    report = json.loads(server.admin("insights", "run", "--now", str(int(t0) + 1800)))
    # The error-rate series were evaluated (the trail still logs management reads); nothing
    # was written: the burst was of successful writes.
    assert report["Minutes"] > 0 and report["Written"] == 0, report
