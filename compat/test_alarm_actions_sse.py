"""Alarm actions on an SNS topic encrypted with a KMS key (CloudWatch User Guide, "Using
Amazon CloudWatch alarms": an encrypted topic's key policy must let
`cloudwatch.amazonaws.com` use the key). CloudWatch asks KMS for the data key as itself,
with the alarm as `aws:SourceArn`: a key policy that allows it seals and delivers the
notification; one that does not fails the action, says so in the alarm history, and
delivers nothing. The KMS call is recorded either way. Before, alarm notifications to such
a topic were queued unsealed and sent whatever the key policy said."""

import json
import urllib.request

import pytest

from conftest import http_subscriber


@pytest.fixture()
def subscriber():
    with http_subscriber() as s:
        yield s


def sealed_topic(cairn, name, allow_cloudwatch):
    sns, kms = cairn.client("sns"), cairn.client("kms")
    account = cairn.client("sts").get_caller_identity()["Account"]
    statements = [{"Sid": "root", "Effect": "Allow",
                   "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                   "Action": "kms:*", "Resource": "*"}]
    if allow_cloudwatch:
        statements.append({"Sid": "cw", "Effect": "Allow",
                           "Principal": {"Service": "cloudwatch.amazonaws.com"},
                           "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                           "Resource": "*"})
    key = kms.create_key(Policy=json.dumps({"Version": "2012-10-17",
                                            "Statement": statements}))["KeyMetadata"]["Arn"]
    return sns.create_topic(Name=name, Attributes={"KmsMasterKeyId": key})["TopicArn"], key


def subscribe(cairn, arn, subscriber):
    endpoint, received = subscriber
    cairn.client("sns").subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint)
    _, confirmation = received.get(timeout=10)
    urllib.request.urlopen(confirmation["SubscribeURL"]).read()
    return received


def alarm_to(cairn, name, topic):
    cw = cairn.client("cloudwatch")
    cw.put_metric_alarm(AlarmName=name, Namespace="Cairn/Test", MetricName="Hits",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanOrEqualToThreshold",
                        AlarmActions=[topic])
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")
    return [json.loads(h["HistoryData"]) for h in cw.describe_alarm_history(
        AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]]


def cloudwatch_key_calls(cairn, key):
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GenerateDataKey"}])["Events"]
    return [r for r in (json.loads(e["CloudTrailEvent"]) for e in events)
            if r["userIdentity"].get("invokedBy") == "cloudwatch.amazonaws.com"
            and r["requestParameters"].get("keyId") == key]


def test_a_key_that_allows_cloudwatch_seals_and_delivers(cairn, subscriber):
    arn, key = sealed_topic(cairn, "alarm-sealed", allow_cloudwatch=True)
    received = subscribe(cairn, arn, subscriber)
    actions = alarm_to(cairn, "sealed-ok", arn)
    assert [a["actionState"] for a in actions] == ["Succeeded"], actions
    kind, note = received.get(timeout=10)
    assert kind == "Notification"
    assert json.loads(note["Message"])["NewStateValue"] == "ALARM"
    calls = cloudwatch_key_calls(cairn, key)
    assert len(calls) == 1 and "errorCode" not in calls[0], calls
    assert calls[0]["userIdentity"]["type"] == "AWSService"
    context = calls[0]["requestParameters"]["encryptionContext"]
    assert context == {"aws:sns:topicArn": arn}, context


def test_a_key_that_does_not_allow_cloudwatch_fails_the_action(cairn, subscriber):
    arn, key = sealed_topic(cairn, "alarm-refused", allow_cloudwatch=False)
    received = subscribe(cairn, arn, subscriber)
    actions = alarm_to(cairn, "sealed-refused", arn)
    assert [a["actionState"] for a in actions] == ["Failed"], actions
    assert "KMSAccessDenied" in actions[0]["error"], actions
    calls = cloudwatch_key_calls(cairn, key)
    assert len(calls) == 1 and calls[0]["errorCode"] == "AccessDenied", calls
    # Nothing was queued for the subscriber: a direct publish still arrives, and is the
    # first thing it gets.
    cairn.client("sns").publish(TopicArn=arn, Message="after-the-alarm")
    _, note = received.get(timeout=10)
    assert note["Message"] == "after-the-alarm"
