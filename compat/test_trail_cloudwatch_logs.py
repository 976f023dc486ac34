"""A trail into CloudWatch Logs with the AWS CLI, as the CloudTrail guide does it: the log
group, the role CloudTrail assumes and its policy, `create-trail --cloud-watch-logs-log-group-arn
… --cloud-watch-logs-role-arn …`, calls while logging, and their records in the stream
`<account>_CloudTrail_<region>` after delivery. Each check CreateTrail makes fails with AWS's
exception; a role that loses its permission stops delivery visibly and loses nothing. Then the
CIS section 4 recipe end to end: `cairn monitoring install-cis`, a watched call, its record in
the group, the metric filter, the alarm in ALARM, the notification at an HTTP subscriber, and
OK again after a quiet period (notBreaching)."""

import json
import os
import subprocess
import time
import urllib.request

import pytest

from conftest import ACCESS_KEY, Cairn, SECRET, cairn_binary, cloudtrail_policy, http_subscriber

ACCOUNT = "123456789012"
REGION = "us-east-1"
STREAM = f"{ACCOUNT}_CloudTrail_{REGION}"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def role_policy(group):
    stream = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:{ACCOUNT}_CloudTrail_{REGION}*"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailCreateLogStream2014110", "Effect": "Allow",
         "Action": ["logs:CreateLogStream"], "Resource": [stream]},
        {"Sid": "AWSCloudTrailPutLogEvents20141101", "Effect": "Allow",
         "Action": ["logs:PutLogEvents"], "Resource": [stream]}]})


def group_arn(group):
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*"


def role_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def prepare(server, bucket, group, role="CloudTrail_CloudWatchLogs_Role"):
    """The guide's preparation with the CLI: bucket and policy, log group, role and policy."""
    server.cli("s3api", "create-bucket", "--bucket", bucket)
    server.cli("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", cloudtrail_policy(bucket))
    server.cli("logs", "create-log-group", "--log-group-name", group)
    server.cli("iam", "create-role", "--role-name", role, "--assume-role-policy-document", TRUST)
    server.cli("iam", "put-role-policy", "--role-name", role, "--policy-name", "cloudtrail-to-cwl",
               "--policy-document", role_policy(group))


def stream_messages(server, group):
    out = server.cli("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", STREAM,
                     "--start-from-head")
    return [json.loads(e["message"]) for e in json.loads(out.stdout)["events"]]


def error_code(out):
    assert out.returncode != 0, out.stdout
    return out.stderr.split("(")[1].split(")")[0], out.stderr.rsplit(": ", 1)[1].strip()


def test_create_trail_checks_fail_with_awss_exceptions(cairn):
    prepare(cairn, "cwl-checks", "checks")
    cairn.cli("iam", "create-role", "--role-name", "ec2-only", "--assume-role-policy-document",
              TRUST.replace("cloudtrail.amazonaws.com", "ec2.amazonaws.com"))
    cairn.cli("iam", "put-role-policy", "--role-name", "ec2-only", "--policy-name", "p",
              "--policy-document", role_policy("checks"))
    cairn.cli("iam", "create-role", "--role-name", "no-perms", "--assume-role-policy-document", TRUST)

    def create(group, role):
        args = ["cloudtrail", "create-trail", "--name", "cwl-t", "--s3-bucket-name", "cwl-checks"]
        if group:
            args += ["--cloud-watch-logs-log-group-arn", group]
        if role:
            args += ["--cloud-watch-logs-role-arn", role]
        return cairn.cli(*args, check=False)

    cannot = ("InvalidCloudWatchLogsLogGroupArnException", "CloudTrail cannot validate the specified log group ARN.")
    assert error_code(create(group_arn("checks"), role_arn("ec2-only"))) == (
        "InvalidCloudWatchLogsRoleArnException", "Access denied. Check the trust relationships for your role.")
    assert error_code(create(group_arn("checks"), role_arn("nobody")))[0] == "InvalidCloudWatchLogsRoleArnException"
    assert error_code(create(group_arn("checks"), role_arn("no-perms"))) == (
        "InvalidCloudWatchLogsLogGroupArnException",
        "Access denied. Verify in IAM that the role has adequate permissions.")
    assert error_code(create(group_arn("missing"), role_arn("CloudTrail_CloudWatchLogs_Role"))) == cannot
    bare = group_arn("checks").removesuffix(":*")
    assert error_code(create(bare, role_arn("CloudTrail_CloudWatchLogs_Role"))) == cannot
    assert error_code(create(group_arn("checks"), None)) == (
        "InvalidCloudWatchLogsRoleArnException", "You must specify a role ARN as well as a log group.")
    assert json.loads(cairn.cli("cloudtrail", "describe-trails").stdout)["trailList"] == []

    created = json.loads(create(group_arn("checks"), role_arn("CloudTrail_CloudWatchLogs_Role")).stdout)
    assert created["CloudWatchLogsLogGroupArn"] == group_arn("checks")
    assert created["CloudWatchLogsRoleArn"] == role_arn("CloudTrail_CloudWatchLogs_Role")
    trail = json.loads(cairn.cli("cloudtrail", "get-trail", "--name", "cwl-t").stdout)["Trail"]
    assert trail["CloudWatchLogsLogGroupArn"] == group_arn("checks")
    described = json.loads(cairn.cli("cloudtrail", "describe-trails").stdout)["trailList"][0]
    assert described["CloudWatchLogsRoleArn"] == role_arn("CloudTrail_CloudWatchLogs_Role")
    streams = json.loads(cairn.cli("logs", "describe-log-streams", "--log-group-name", "checks").stdout)
    assert [s["logStreamName"] for s in streams["logStreams"]] == [STREAM]
    # UpdateTrail checks the same way, and empty strings clear both.
    out = cairn.cli("cloudtrail", "update-trail", "--name", "cwl-t", "--cloud-watch-logs-log-group-arn",
                    group_arn("checks"), "--cloud-watch-logs-role-arn", role_arn("no-perms"), check=False)
    assert error_code(out)[0] == "InvalidCloudWatchLogsLogGroupArnException"
    cleared = json.loads(cairn.cli("cloudtrail", "update-trail", "--name", "cwl-t", "--cloud-watch-logs-log-group-arn", "",
                                   "--cloud-watch-logs-role-arn", "").stdout)
    assert "CloudWatchLogsLogGroupArn" not in cleared and "CloudWatchLogsRoleArn" not in cleared
    cairn.cli("cloudtrail", "delete-trail", "--name", "cwl-t")


def test_records_reach_the_stream_exactly_once_and_a_broken_role_loses_nothing(cairn):
    prepare(cairn, "cwl-deliver", "CloudTrail/deliver", role="deliver-role")
    cairn.cli("cloudtrail", "create-trail", "--name", "deliver", "--s3-bucket-name", "cwl-deliver",
              "--cloud-watch-logs-log-group-arn", group_arn("CloudTrail/deliver"),
              "--cloud-watch-logs-role-arn", role_arn("deliver-role"))
    cairn.cli("cloudtrail", "start-logging", "--name", "deliver")
    cairn.cli("sns", "create-topic", "--name", "first-batch")
    summary = json.loads(cairn.flush())
    assert summary["LogEvents"] >= 2
    names = [m["eventName"] for m in stream_messages(cairn, "CloudTrail/deliver")]
    assert names[0] == "StartLogging" and "CreateTopic" in names
    status = json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "deliver").stdout)
    assert "LatestCloudWatchLogsDeliveryTime" in status and "LatestCloudWatchLogsDeliveryError" not in status

    # The role loses its permission: delivery fails visibly; nothing is lost.
    cairn.cli("iam", "delete-role-policy", "--role-name", "deliver-role", "--policy-name", "cloudtrail-to-cwl")
    cairn.cli("sns", "create-topic", "--name", "while-broken")
    cairn.flush()
    status = json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "deliver").stdout)
    assert status["LatestCloudWatchLogsDeliveryError"] == \
        "Access denied. Verify in IAM that the role has adequate permissions."
    before = stream_messages(cairn, "CloudTrail/deliver")
    assert not any(m.get("requestParameters", {}).get("name") == "while-broken" for m in before)

    cairn.cli("iam", "put-role-policy", "--role-name", "deliver-role", "--policy-name", "cloudtrail-to-cwl",
              "--policy-document", role_policy("CloudTrail/deliver"))
    cairn.flush()
    status = json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "deliver").stdout)
    assert "LatestCloudWatchLogsDeliveryError" not in status
    after = stream_messages(cairn, "CloudTrail/deliver")
    ids = [m["eventID"] for m in after]
    assert len(ids) == len(set(ids)), "no record is delivered twice"
    assert [m["eventID"] for m in after[:len(before)]] == [m["eventID"] for m in before]
    delivered = {(m["eventName"], json.dumps(m.get("requestParameters"))) for m in after}
    assert ("DeleteRolePolicy", json.dumps({"roleName": "deliver-role", "policyName": "cloudtrail-to-cwl"})) in delivered
    assert any(m["eventName"] == "CreateTopic" and m["requestParameters"]["name"] == "while-broken" for m in after)
    # Every record the trail holds in the log (the S3 side) is in the stream too.
    logged = {r["eventID"] for r in cairn.records("Management")}
    assert set(ids) <= logged
    cairn.cli("cloudtrail", "stop-logging", "--name", "deliver")


@pytest.fixture()
def subscriber():
    with http_subscriber(lambda h, body: (time.time(), h["x-amz-sns-message-type"], json.loads(body))) as s:
        yield s


def install_cis(server, group, topic):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET)
    out = subprocess.run([server.binary, "monitoring", "install-cis", "--log-group", group, "--topic", topic,
                          "--endpoint-url", server.endpoint], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def alarms_run(server, now):
    out = subprocess.run([server.binary, "alarms", "run", "--data-dir", server.dir.name, "--now", str(now)],
                         capture_output=True, text=True, env=dict(os.environ, CAIRN_LOG="warn"))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_cis_section_4_end_to_end(subscriber):
    endpoint, received = subscriber
    # Alarms are stepped by `cairn alarms run --now` only: the server's own evaluation on the
    # real clock would take a period boundary that falls during the test.
    server = Cairn(cairn_binary(), ["--alarm-tick-secs", "0"])
    try:
        prepare(server, "cis-trail", "CloudTrail/cis", role="cis-role")
        server.cli("cloudtrail", "create-trail", "--name", "cis", "--s3-bucket-name", "cis-trail",
                   "--is-multi-region-trail", "--cloud-watch-logs-log-group-arn", group_arn("CloudTrail/cis"),
                   "--cloud-watch-logs-role-arn", role_arn("cis-role"))
        server.cli("cloudtrail", "start-logging", "--name", "cis")
        topic = json.loads(server.cli("sns", "create-topic", "--name", "cis-alarms").stdout)["TopicArn"]
        server.cli("sns", "subscribe", "--topic-arn", topic, "--protocol", "http", "--notification-endpoint", endpoint)
        _, kind, confirmation = received.get(timeout=10)
        assert kind == "SubscriptionConfirmation"
        urllib.request.urlopen(confirmation["SubscribeURL"]).read()

        installed = install_cis(server, group_arn("CloudTrail/cis"), topic)
        assert [i["Control"] for i in installed] == [f"4.{n}" for n in range(1, 16)]
        filters = json.loads(server.cli("logs", "describe-metric-filters", "--log-group-name", "CloudTrail/cis").stdout)
        by_name = {f["filterName"]: f for f in filters["metricFilters"]}
        assert len(by_name) == 15
        # 4.1 counts denied calls only (v3.0.0's text; v1.5.0's matched nearly every event).
        unauthorized = by_name["unauthorized_api_calls_metric"]["filterPattern"]
        probe = [json.dumps(m) for m in ({"eventName": "DescribeTrails", "sourceIPAddress": "127.0.0.1"},
                                         {"eventName": "StopLogging", "errorCode": "AccessDenied",
                                          "sourceIPAddress": "127.0.0.1"},
                                         {"eventName": "HeadBucket", "errorCode": "AccessDenied",
                                          "sourceIPAddress": "127.0.0.1"})]
        tested = json.loads(server.cli("logs", "test-metric-filter", "--filter-pattern", unauthorized,
                                       "--log-event-messages", *probe).stdout)
        assert [m["eventNumber"] for m in tested["matches"]] == [2]
        # 4.13 names EC2 as the source (Prowler's check needs it); 4.15 watches Organizations.
        for metric, hit, miss in (
                ("route_table_changes_metric", {"eventSource": "ec2.amazonaws.com", "eventName": "CreateRoute"},
                 {"eventSource": "ec2.amazonaws.com", "eventName": "CreateVpc"}),
                ("organizations_changes_metric",
                 {"eventSource": "organizations.amazonaws.com", "eventName": "EnableAllFeatures"},
                 {"eventSource": "iam.amazonaws.com", "eventName": "CreateAccount"})):
            pattern = by_name[metric]["filterPattern"]
            assert "$.eventSource = " in pattern
            tested = json.loads(server.cli("logs", "test-metric-filter", "--filter-pattern", pattern,
                                           "--log-event-messages", json.dumps(hit), json.dumps(miss)).stdout)
            assert [m["eventNumber"] for m in tested["matches"]] == [1], metric
        cfg = by_name["cloudtrail_cfg_changes_metric"]
        assert cfg["filterPattern"] == ("{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
                                        "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
                                        "($.eventName = StopLogging) }")
        assert cfg["metricTransformations"] == [{"metricName": "cloudtrail_cfg_changes_metric",
                                                 "metricNamespace": "CISBenchmark", "metricValue": "1"}]
        alarms = json.loads(server.cli("cloudwatch", "describe-alarms", "--alarm-name-prefix", "cloudtrail_cfg").stdout)
        alarm = alarms["MetricAlarms"][0]
        assert (alarm["AlarmName"], alarm["Namespace"], alarm["Statistic"], alarm["Period"], alarm["Threshold"],
                alarm["ComparisonOperator"], alarm["EvaluationPeriods"], alarm["AlarmActions"]) == \
            ("cloudtrail_cfg_changes_alarm", "CISBenchmark", "Sum", 300, 1.0,
             "GreaterThanOrEqualToThreshold", 1, [topic])
        # The installation's own calls are recorded like any user's.
        names = [r["eventName"] for r in server.records("Management")]
        assert names.count("PutMetricFilter") == 15 and names.count("PutMetricAlarm") == 15

        # Watched calls: a CloudTrail configuration change, and an unauthorized call.
        server.cli("cloudtrail", "update-trail", "--name", "cis", "--enable-log-file-validation")
        server.cli("iam", "create-user", "--user-name", "intruder")
        key = json.loads(server.cli("iam", "create-access-key", "--user-name", "intruder").stdout)["AccessKey"]
        denied = server.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudtrail")
        with pytest.raises(Exception):
            denied.stop_logging(Name="cis")
        at = time.time()
        server.flush("--now", str(at))
        messages = stream_messages(server, "CloudTrail/cis")
        assert any(m["eventName"] == "UpdateTrail" for m in messages)
        assert any(m.get("errorCode") == "AccessDenied" and m["eventName"] == "StopLogging" for m in messages)

        # The evaluation at the end of the period holding the delivery sees its datapoints.
        outcome = alarms_run(server, at + 300)
        assert outcome["Delivered"] >= 1, outcome
        notes = {}
        while not received.empty():
            _, kind, note = received.get()
            if kind == "Notification":
                message = json.loads(note["Message"])
                notes[message["AlarmName"]] = message
        for name in ["cloudtrail_cfg_changes_alarm", "unauthorized_api_calls_alarm", "root_usage_alarm"]:
            assert notes[name]["NewStateValue"] == "ALARM", name
            assert notes[name]["Trigger"]["Namespace"] == "CISBenchmark"
        assert "vpc_changes_alarm" not in notes
        # Past the evaluation range (which reaches back beyond the one period), quiet: OK.
        quiet = alarms_run(server, at + 3600)
        assert quiet["Published"] == 0  # the CIS alarms notify on ALARM only
        history = json.loads(server.cli("cloudwatch", "describe-alarm-history", "--alarm-name",
                                        "cloudtrail_cfg_changes_alarm", "--history-item-type", "StateUpdate").stdout)
        summaries = [h["HistorySummary"] for h in history["AlarmHistoryItems"]]
        assert any("to OK" in s for s in summaries) and any("to ALARM" in s for s in summaries), summaries
    finally:
        server.stop()


def test_taking_the_group_away_still_delivers_up_to_that_call(cairn):
    """Outside testing found the UpdateTrail that detaches a trail's log group never reaching
    the group, so CIS 4.5's alarm ("CloudTrail configuration changes") could not see it, and
    what was recorded just before it lost too. A group the trail leaves is owed everything up
    to the call that took it away, that call included; a group it moves to starts with it."""
    prepare(cairn, "cwl-leave", "leaving", role="leaver-role")
    cairn.cli("logs", "create-log-group", "--log-group-name", "arriving")
    cairn.cli("iam", "put-role-policy", "--role-name", "leaver-role",
              "--policy-name", "arriving", "--policy-document", role_policy("arriving"))
    cairn.cli("cloudtrail", "create-trail", "--name", "leaver", "--s3-bucket-name", "cwl-leave",
              "--cloud-watch-logs-log-group-arn", group_arn("leaving"),
              "--cloud-watch-logs-role-arn", role_arn("leaver-role"))
    cairn.cli("cloudtrail", "start-logging", "--name", "leaver")
    cairn.cli("iam", "create-user", "--user-name", "just-before")
    # Straight to another group: both get the call that moved the trail.
    cairn.cli("cloudtrail", "update-trail", "--name", "leaver",
              "--cloud-watch-logs-log-group-arn", group_arn("arriving"),
              "--cloud-watch-logs-role-arn", role_arn("leaver-role"))
    cairn.cli("iam", "create-user", "--user-name", "after-move")
    # Then away from any group.
    cairn.cli("cloudtrail", "update-trail", "--name", "leaver",
              "--cloud-watch-logs-log-group-arn", "", "--cloud-watch-logs-role-arn", "")
    cairn.cli("iam", "create-user", "--user-name", "after-detach")
    cairn.flush()

    def names(group):
        return [(m["eventName"], (m.get("requestParameters") or {}).get("userName"))
                for m in stream_messages(cairn, group)]

    leaving, arriving = names("leaving"), names("arriving")
    assert ("CreateUser", "just-before") in leaving
    assert [n for n, _ in leaving].count("UpdateTrail") == 1
    assert ("CreateUser", "after-move") not in leaving
    assert [n for n, _ in arriving].count("UpdateTrail") == 2
    assert ("CreateUser", "after-move") in arriving
    assert ("CreateUser", "just-before") not in arriving
    assert ("CreateUser", "after-detach") not in arriving
    # Delivered once: a second flush adds nothing.
    cairn.flush()
    assert names("leaving") == leaving and names("arriving") == arriving
