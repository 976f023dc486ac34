"""Every Insights Start gets its End (outside tester insights2): an open insight ends when
its trail stops evaluating it (Insights turned off, the type removed or starved by event
selectors, the region dropped, the trail deleted), at the minute after its last active
one. A deleted trail's Insights events go to its own bucket, never to a later trail of the
same name (same ARN), which starts with no state of the old one. Before, such a Start never
got an End, and a recreated trail received the old trail's End, stamped before it existed."""

import gzip
import json
import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--insights-warm-up", "0", "--delivery-interval", "1"])
    yield s
    s.stop()


def bucket(server, name):
    s3 = server.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=cloudtrail_policy(name))


def insight_trail(server, name, bucket_name):
    ct = server.client("cloudtrail")
    arn = ct.create_trail(Name=name, S3BucketName=bucket_name)["TrailARN"]
    ct.start_logging(Name=name)
    ct.put_insight_selectors(TrailName=name, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    return ct, arn


def started_insight(server, t0, event_name, burst):
    """Runs `burst` (a dozen calls of `event_name` this minute), evaluates the minutes after
    it, and returns the sharedEventID of the one insight it opened."""
    burst()
    server.admin("insights", "run", "--now", str(int(t0) + 420))
    [(shared, states)] = pairs(server, event_name).items()
    assert states == ["Start"]
    return shared


def pairs(server, name):
    out = {}
    for r in server.records("Insight"):
        if r["insightDetails"]["eventName"] == name:
            out.setdefault(r["sharedEventID"], []).append(r["insightDetails"]["state"])
    return out


def insight_files(server, bucket_name):
    s3 = server.client("s3")
    found = []
    for o in s3.list_objects_v2(Bucket=bucket_name).get("Contents", []):
        if "/CloudTrail-Insight/" in o["Key"]:
            body = gzip.decompress(s3.get_object(Bucket=bucket_name, Key=o["Key"])["Body"].read())
            found += [(r["insightDetails"]["state"], r["sharedEventID"]) for r in json.loads(body)["Records"]]
    return found


def test_turning_insights_off_ends_the_open_insight(server):
    t0 = time.time()
    bucket(server, "closing-off")
    ct, arn = insight_trail(server, "closing-off", "closing-off")
    shared = started_insight(server, t0, "AddTags", lambda: [
        ct.add_tags(ResourceId=arn, TagsList=[{"Key": f"k{i}", "Value": "v"}]) for i in range(12)])
    ct.put_insight_selectors(TrailName="closing-off", InsightSelectors=[])
    assert pairs(server, "AddTags")[shared] == ["Start", "End"]


def test_a_deleted_trails_insights_go_to_its_own_bucket(server):
    t0 = time.time()
    bucket(server, "reborn-old")
    bucket(server, "reborn-new")
    ct, arn = insight_trail(server, "reborn", "reborn-old")
    logs = server.client("logs")
    shared = started_insight(server, t0, "CreateLogGroup", lambda: [
        logs.create_log_group(logGroupName=f"reborn-{i}") for i in range(12)])
    ct.delete_trail(Name="reborn")
    assert pairs(server, "CreateLogGroup")[shared] == ["Start", "End"]
    _, again = insight_trail(server, "reborn", "reborn-new")
    assert again == arn
    server.admin("insights", "run", "--now", str(int(t0) + 900))
    deadline = time.monotonic() + 20
    old = []
    while time.monotonic() < deadline and len(old) < 2:
        old = sorted(state for state, s in insight_files(server, "reborn-old") if s == shared)
        time.sleep(0.1)
    assert old == ["End", "Start"]
    # The new trail has delivered since (its own log files): none of the old insight with it.
    s3 = server.client("s3")
    while time.monotonic() < deadline and not any(
            "/CloudTrail/" in o["Key"] for o in s3.list_objects_v2(Bucket="reborn-new").get("Contents", [])):
        time.sleep(0.1)
    assert any("/CloudTrail/" in o["Key"] for o in s3.list_objects_v2(Bucket="reborn-new").get("Contents", []))
    assert all(s != shared for _, s in insight_files(server, "reborn-new"))


def test_stopping_logging_ends_the_open_insight(server):
    """StopLogging: the trail evaluates nothing while stopped, so its open insight ends now
    (recheck: it stayed open, and a burst after StartLogging was merged into it)."""
    t0 = time.time()
    bucket(server, "closing-stop")
    ct, arn = insight_trail(server, "closing-stop", "closing-stop")
    sns = server.client("sns")
    shared = started_insight(server, t0, "CreateTopic", lambda: [
        sns.create_topic(Name=f"closing-stop-{i}") for i in range(12)])
    ct.stop_logging(Name="closing-stop")
    assert pairs(server, "CreateTopic")[shared] == ["Start", "End"]
