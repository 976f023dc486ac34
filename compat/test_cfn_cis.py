"""A CIS monitoring stack (compat/cfn/cis-monitoring.yml): trail to a CloudWatch Logs log group
with its role and policy, a metric filter for root usage, an alarm, a topic with an HTTP
subscription, a KMS key and alias. It deploys with `aws cloudformation deploy`, every resource
exists as the services show it, a root event written to the log group moves the alarm to
ALARM and the subscriber gets the alarm's notification; deleting the stack removes it all.

The alarm clock is driven with `cairn alarms run --now` (the server runs with
`--alarm-tick-secs 0`). The root event is put into the log group with PutLogEvents, in the
form CloudTrail sends to CloudWatch Logs."""

import json
import os
import time
import urllib.request

import pytest

from conftest import Cairn, cairn_binary, http_subscriber

HERE = os.path.dirname(__file__)
CIS = os.path.join(HERE, "cfn", "cis-monitoring.yml")


def j(out):
    return json.loads(out.stdout)


@pytest.fixture()
def subscriber():
    with http_subscriber() as s:
        yield s


def test_cis_monitoring_stack_deploys_and_its_alarm_fires(subscriber):
    endpoint, received = subscriber
    server = Cairn(cairn_binary(), ["--alarm-tick-secs", "0"])
    try:
        refused = server.cli("cloudformation", "deploy", "--template-file", CIS, "--stack-name", "cis",
                             "--parameter-overrides", f"AlertEndpoint={endpoint}", check=False)
        assert refused.returncode != 0 and "CAPABILITY_IAM" in refused.stderr, refused.stderr
        server.cli("cloudformation", "deploy", "--template-file", CIS, "--stack-name", "cis",
                   "--capabilities", "CAPABILITY_IAM", "--parameter-overrides", f"AlertEndpoint={endpoint}")
        stack = j(server.cli("cloudformation", "describe-stacks", "--stack-name", "cis"))["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in j(server.cli(
            "cloudformation", "list-stack-resources", "--stack-name", "cis"))["StackResourceSummaries"]}

        # The log group, named by CloudFormation, with its retention.
        group = resources["TrailLogGroup"]
        assert group.startswith("cis-TrailLogGroup-")
        assert out["LogGroupArn"] == f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:*"
        groups = j(server.cli("logs", "describe-log-groups", "--log-group-name-prefix", group))["logGroups"]
        assert [(g["logGroupName"], g.get("retentionInDays")) for g in groups] == [(group, 365)]
        filters = j(server.cli("logs", "describe-metric-filters", "--log-group-name", group))["metricFilters"]
        assert [f["filterName"] for f in filters] == [resources["RootUsageFilter"]]
        assert filters[0]["metricTransformations"][0]["metricName"] == "RootAccountUsageCount"

        # The trail sends to the log group with the stack's role.
        trail = j(server.cli("cloudtrail", "get-trail", "--name", out["TrailName"]))["Trail"]
        assert trail["CloudWatchLogsLogGroupArn"] == out["LogGroupArn"]
        assert trail["CloudWatchLogsRoleArn"].startswith("arn:aws:iam::123456789012:role/cis-TrailToLogsRole-")

        # The alarm, and the key with its alias and rotation.
        alarm = j(server.cli("cloudwatch", "describe-alarms", "--alarm-names",
                             "CIS-1.7-RootAccountUsage"))["MetricAlarms"][0]
        assert alarm["AlarmArn"] == out["AlarmArn"] and alarm["AlarmActions"] == [out["TopicArn"]]
        assert alarm["Threshold"] == 1.0 and alarm["Period"] == 60
        key_id = resources["LogKey"]
        assert out["KeyArn"] == f"arn:aws:kms:us-east-1:123456789012:key/{key_id}"
        assert j(server.cli("kms", "get-key-rotation-status", "--key-id", key_id))["KeyRotationEnabled"] is True
        aliases = j(server.cli("kms", "list-aliases", "--key-id", key_id))["Aliases"]
        assert [a["AliasName"] for a in aliases] == ["alias/cis-logs"]

        # The calls CloudFormation made for the new types are recorded with its markers.
        for source, name in (("logs.amazonaws.com", "CreateLogGroup"), ("logs.amazonaws.com", "PutMetricFilter"),
                             ("monitoring.amazonaws.com", "PutMetricAlarm"), ("kms.amazonaws.com", "CreateKey"),
                             ("kms.amazonaws.com", "CreateAlias")):
            found = j(server.cli("cloudtrail", "lookup-events", "--lookup-attributes",
                                 f"AttributeKey=EventName,AttributeValue={name}"))["Events"]
            assert found, name
            record = json.loads(found[0]["CloudTrailEvent"])
            assert record["eventSource"] == source, name
            assert record["userIdentity"]["invokedBy"] == "cloudformation.amazonaws.com", name
            assert record["sourceIPAddress"] == "cloudformation.amazonaws.com", name

        # The subscription the stack made is confirmed by its endpoint.
        kind, confirmation = received.get(timeout=15)
        assert kind == "SubscriptionConfirmation" and confirmation["TopicArn"] == out["TopicArn"]
        urllib.request.urlopen(confirmation["SubscribeURL"]).read()

        # A console sign-in by root, as CloudTrail writes it, put in the log group on a stream of
        # its own (the trail itself delivers to 123456789012_CloudTrail_us-east-1).
        now = time.time()
        minute = int(now // 60) * 60
        root_event = {"eventVersion": "1.08", "userIdentity": {"type": "Root", "principalId": "123456789012",
                      "arn": "arn:aws:iam::123456789012:root", "accountId": "123456789012"},
                      "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                      "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
                      "eventType": "AwsConsoleSignIn", "awsRegion": "us-east-1"}
        server.cli("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "cis-probe")
        server.cli("logs", "put-log-events", "--log-group-name", group, "--log-stream-name",
                   "cis-probe", "--log-events",
                   json.dumps([{"timestamp": int(now * 1000), "message": json.dumps(root_event)}]))

        run = json.loads(server.admin("alarms", "run", "--now", str(minute + 60)))
        assert run["Published"] == 1, run
        kind, note = received.get(timeout=15)
        assert kind == "Notification" and note["Subject"] == 'ALARM: "CIS-1.7-RootAccountUsage" in US East (N. Virginia)'
        message = json.loads(note["Message"])
        assert message["NewStateValue"] == "ALARM" and message["Trigger"]["MetricName"] == "RootAccountUsageCount"

        # Deleting the stack removes what it made (the key is scheduled for deletion).
        server.cli("cloudformation", "delete-stack", "--stack-name", "cis")
        server.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "cis")
        assert j(server.cli("logs", "describe-log-groups", "--log-group-name-prefix", group))["logGroups"] == []
        assert j(server.cli("cloudwatch", "describe-alarms"))["MetricAlarms"] == []
        key = j(server.cli("kms", "describe-key", "--key-id", key_id))["KeyMetadata"]
        assert key["KeyState"] == "PendingDeletion"
        assert j(server.cli("kms", "list-aliases", "--key-id", key_id))["Aliases"] == []
        assert j(server.cli("cloudtrail", "describe-trails"))["trailList"] == []
    finally:
        server.stop()


def test_an_unknown_resource_type_fails_with_the_unrecognized_type_error(cairn):
    body = "Resources:\n  Box:\n    Type: AWS::EC2::Instance\n  Topic:\n    Type: AWS::SNS::Topic\n"
    out = cairn.cli("cloudformation", "create-stack", "--stack-name", "unknown", "--template-body", body,
                    check=False)
    assert out.returncode != 0
    assert "Template format error: Unrecognized resource types: [AWS::EC2::Instance]" in out.stderr
    topics = j(cairn.cli("sns", "list-topics"))["Topics"]
    assert not [t for t in topics if "unknown-Topic" in t["TopicArn"]]


def test_an_https_endpoint_is_subscribed_with_protocol_https():
    """README's command: the stack subscribes an https endpoint with protocol https (the
    endpoint's scheme), so it deploys instead of rolling back."""
    server = Cairn(cairn_binary(), ["--alarm-tick-secs", "0"])
    try:
        server.cli("cloudformation", "deploy", "--template-file", CIS, "--stack-name", "cis",
                   "--capabilities", "CAPABILITY_IAM", "--parameter-overrides",
                   "AlertEndpoint=https://example.com/hook")
        stack = j(server.cli("cloudformation", "describe-stacks", "--stack-name", "cis"))["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        topic = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["TopicArn"]
        subs = j(server.cli("sns", "list-subscriptions-by-topic", "--topic-arn", topic))["Subscriptions"]
        assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("https", "https://example.com/hook")]
    finally:
        server.stop()
