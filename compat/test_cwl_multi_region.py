"""A multi-region trail into CloudWatch Logs with the role policy AWS documents (and the
console's wizard makes), which allows only `…:log-stream:<account>_CloudTrail_<home
region>*`, with the AWS CLI and `cairn flush`: every region's records go to that one stream
(the user guide names it `account_ID_CloudTrail_trail_region`), each exactly once across
flushes; a policy that does not allow the stream moves nothing and GetTrailStatus names the
failure; once it does, the waiting records arrive, once."""

import collections
import json

from conftest import cloudtrail_policy

ACCOUNT = "123456789012"
GROUP = "partial"
BUCKET = "cwl-partial"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
DENIED = "Access denied. Verify in IAM that the role has adequate permissions."
HOME_STREAM = f"{ACCOUNT}_CloudTrail_us-east-1"


def role_policy(stream_prefix):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{GROUP}:log-stream:{stream_prefix}*"}]})


def group_events(server):
    """Every log event in the group as (stream, record), through FilterLogEvents (the CLI
    follows the pages)."""
    out = json.loads(server.cli("logs", "filter-log-events", "--log-group-name", GROUP).stdout)
    return [(e["logStreamName"], json.loads(e["message"])) for e in out["events"]]


def flush(server):
    return json.loads(server.flush())


def assert_each_record_once(events):
    counts = collections.Counter(r["eventID"] for _, r in events)
    assert counts and set(counts.values()) == {1}, \
        f"records delivered more than once: {[i for i, n in counts.items() if n > 1]}"


def test_a_multi_region_trail_with_the_guides_role_delivers_every_region_once(cairn):
    cairn.cli("s3api", "create-bucket", "--bucket", BUCKET)
    cairn.cli("s3api", "put-bucket-policy", "--bucket", BUCKET, "--policy", cloudtrail_policy(BUCKET))
    cairn.cli("logs", "create-log-group", "--log-group-name", GROUP)
    cairn.cli("iam", "create-role", "--role-name", "partial-role", "--assume-role-policy-document", TRUST)
    cairn.cli("iam", "put-role-policy", "--role-name", "partial-role", "--policy-name", "p",
              "--policy-document", role_policy(HOME_STREAM))
    cairn.cli("cloudtrail", "create-trail", "--name", "partial", "--s3-bucket-name", BUCKET,
              "--is-multi-region-trail",
              "--cloud-watch-logs-log-group-arn", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{GROUP}:*",
              "--cloud-watch-logs-role-arn", f"arn:aws:iam::{ACCOUNT}:role/partial-role")
    cairn.cli("cloudtrail", "start-logging", "--name", "partial")
    cairn.cli("kms", "list-keys", region="eu-west-1")

    for _ in range(3):
        cairn.cli("sts", "get-caller-identity")
        report = flush(cairn)
        assert report["LogEventsFailed"] == 0, report
        events = group_events(cairn)
        assert_each_record_once(events)
        assert {s for s, _ in events} == {HOME_STREAM}
        names = [(r["eventName"], r["awsRegion"]) for _, r in events]
        assert ("GetCallerIdentity", "us-east-1") in names and ("ListKeys", "eu-west-1") in names
    status = json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "partial").stdout)
    assert "LatestCloudWatchLogsDeliveryError" not in status, status

    # A policy that does not allow the trail's stream moves nothing; the records wait.
    cairn.cli("iam", "put-role-policy", "--role-name", "partial-role", "--policy-name", "p",
              "--policy-document", role_policy(f"{ACCOUNT}_CloudTrail_eu-west-1"))
    cairn.cli("kms", "list-keys", region="eu-west-1")
    report = flush(cairn)
    assert report["LogEvents"] == 0 and report["LogEventsFailed"] >= 1, report
    status = json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "partial").stdout)
    assert status["LatestCloudWatchLogsDeliveryError"] == DENIED, status
    cairn.cli("iam", "put-role-policy", "--role-name", "partial-role", "--policy-name", "p",
              "--policy-document", role_policy(HOME_STREAM))
    report = flush(cairn)
    assert report["LogEventsFailed"] == 0, report
    events = group_events(cairn)
    assert_each_record_once(events)
    assert [r["awsRegion"] for _, r in events if r["eventName"] == "ListKeys"] == ["eu-west-1"] * 2
    status = json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "partial").stdout)
    assert "LatestCloudWatchLogsDeliveryError" not in status, status
