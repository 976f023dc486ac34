"""A multi-region trail into CloudWatch Logs whose role may write only the home region's stream
(AWS's documented policy, `…:log-stream:<account>_CloudTrail_us-east-1*`), with the AWS CLI
and `cairn flush`: an event recorded in another region cannot be delivered, and that must
not make the home region's records arrive again on every retry. Each record reaches the group
exactly once; the home region's stream goes on while the other region's records wait; the
flush report counts what was written and what waits; GetTrailStatus names the failure; and
once the policy allows every region's stream, the waiting records arrive, once."""

import collections
import json

from conftest import cloudtrail_policy

ACCOUNT = "123456789012"
GROUP = "partial"
BUCKET = "cwl-partial"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
DENIED = "Access denied. Verify in IAM that the role has adequate permissions."


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


def test_a_refused_region_waits_alone_and_nothing_is_delivered_twice(cairn):
    cairn.cli("s3api", "create-bucket", "--bucket", BUCKET)
    cairn.cli("s3api", "put-bucket-policy", "--bucket", BUCKET, "--policy", cloudtrail_policy(BUCKET))
    cairn.cli("logs", "create-log-group", "--log-group-name", GROUP)
    cairn.cli("iam", "create-role", "--role-name", "partial-role", "--assume-role-policy-document", TRUST)
    cairn.cli("iam", "put-role-policy", "--role-name", "partial-role", "--policy-name", "p",
              "--policy-document", role_policy(f"{ACCOUNT}_CloudTrail_us-east-1"))
    cairn.cli("cloudtrail", "create-trail", "--name", "partial", "--s3-bucket-name", BUCKET,
              "--is-multi-region-trail",
              "--cloud-watch-logs-log-group-arn", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{GROUP}:*",
              "--cloud-watch-logs-role-arn", f"arn:aws:iam::{ACCOUNT}:role/partial-role")
    cairn.cli("cloudtrail", "start-logging", "--name", "partial")
    cairn.cli("kms", "list-keys", region="eu-west-1")

    written = 0
    for _ in range(3):
        cairn.cli("sts", "get-caller-identity")
        report = flush(cairn)
        written += report["LogEvents"]
        events = group_events(cairn)
        assert_each_record_once(events)
        # The report tells the truth: every log event written is counted, and the one record
        # of the refused region is what waits.
        # (The restarted server's own first delivery step may also bring the calls made
        # since the flush, so the group can hold more than the flushes wrote, never less.)
        assert report["LogEvents"] >= 1, report
        assert len(events) >= written, (report, len(events))
        assert report["LogEventsFailed"] == 1, report
        streams = {s for s, _ in events}
        assert streams == {f"{ACCOUNT}_CloudTrail_us-east-1"}, streams
        names = [r["eventName"] for _, r in events]
        assert "GetCallerIdentity" in names and "ListKeys" not in names, names
    status = json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "partial").stdout)
    assert status["LatestCloudWatchLogsDeliveryError"] == DENIED, status
    assert "LatestCloudWatchLogsDeliveryTime" in status, status

    # The policy now allows every region's stream: the waiting record arrives, once.
    cairn.cli("iam", "put-role-policy", "--role-name", "partial-role", "--policy-name", "p",
              "--policy-document", role_policy(f"{ACCOUNT}_CloudTrail_"))
    for _ in range(2):
        report = flush(cairn)
        assert report["LogEventsFailed"] == 0, report
        written += report["LogEvents"]
    events = group_events(cairn)
    assert_each_record_once(events)
    assert len(events) >= written
    eu = [r for s, r in events if s == f"{ACCOUNT}_CloudTrail_eu-west-1"]
    assert [(r["eventName"], r["awsRegion"]) for r in eu] == [("ListKeys", "eu-west-1")]
    status = json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "partial").stdout)
    assert "LatestCloudWatchLogsDeliveryError" not in status, status
