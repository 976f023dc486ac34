"""Alarm actions as CloudWatch runs them (outside tester, alarms2):
- the topic's policy is asked as `cloudwatch.amazonaws.com` (an explicit Deny fails the
  action; the default topic policy lets the owner's alarms publish);
- `alias/aws/sns`, SNS's AWS managed key, is made on first use, so a topic naming it works
  for the account's publishers, and fails an alarm's action (its key policy lets only the
  account's principals through SNS use it, as AWS warns);
- `email` subscribers get CloudWatch's alarm text, `email-json` the JSON message;
- notifications `cairn alarms run` sends carry links with the server's port.
Before, every action succeeded whatever the topic's policy, `alias/aws/sns` refused every
publish with KMSNotFound, emails held the raw JSON, and `alarms run`'s links named port 80."""

import glob
import json
import os
import re
import time
import urllib.request

import pytest
from cryptography import x509

from conftest import Cairn, cairn_binary, http_subscriber


@pytest.fixture()
def subscriber():
    with http_subscriber() as s:
        yield s


def subscribe(sns, arn, subscriber):
    endpoint, received = subscriber
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint)
    _, confirmation = received.get(timeout=10)
    urllib.request.urlopen(confirmation["SubscribeURL"]).read()
    return received


def alarm(cw, name, topic):
    cw.put_metric_alarm(AlarmName=name, AlarmDescription="too many root logins",
                        Namespace="CloudTrailMetrics", MetricName="RootAccountUsageCount",
                        Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanOrEqualToThreshold",
                        TreatMissingData="notBreaching", AlarmActions=[topic])


def actions(cw, name):
    return [(h["HistorySummary"], json.loads(h["HistoryData"])) for h in cw.describe_alarm_history(
        AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]]


def test_a_topic_policy_that_denies_cloudwatch_fails_the_action(cairn, subscriber):
    sns, cw = cairn.client("sns"), cairn.client("cloudwatch")
    open_topic = sns.create_topic(Name="default-policy")["TopicArn"]
    denied = sns.create_topic(Name="deny-cloudwatch")["TopicArn"]
    policy = json.loads(sns.get_topic_attributes(TopicArn=denied)["Attributes"]["Policy"])
    policy["Statement"].append({"Sid": "no-alarms", "Effect": "Deny",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": "SNS:Publish", "Resource": denied})
    sns.set_topic_attributes(TopicArn=denied, AttributeName="Policy", AttributeValue=json.dumps(policy))
    received = subscribe(sns, denied, subscriber)
    alarm(cw, "to-open", open_topic)
    alarm(cw, "to-denied", denied)
    cw.set_alarm_state(AlarmName="to-open", StateValue="ALARM", StateReason="test")
    cw.set_alarm_state(AlarmName="to-denied", StateValue="ALARM", StateReason="test")
    assert [d["actionState"] for _, d in actions(cw, "to-open")] == ["Succeeded"]
    [(summary, data)] = actions(cw, "to-denied")
    assert data["actionState"] == "Failed"
    assert summary == (f'Failed to execute action {denied}. Received error: "CloudWatch Alarms is not '
                       f'authorized to perform: SNS:Publish on resource:{denied}"'), summary
    # Nothing was sent: the owner's own publish is the first thing the subscriber gets.
    sns.publish(TopicArn=denied, Message="owner")
    assert received.get(timeout=10)[1]["Message"] == "owner"


def test_the_aws_managed_sns_key_is_made_on_first_use(cairn, subscriber):
    sns, cw, kms = cairn.client("sns"), cairn.client("cloudwatch"), cairn.client("kms")
    topic = sns.create_topic(Name="managed", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    received = subscribe(sns, topic, subscriber)
    sns.publish(TopicArn=topic, Message="sealed under aws/sns")
    assert received.get(timeout=10)[1]["Message"] == "sealed under aws/sns"
    meta = kms.describe_key(KeyId="alias/aws/sns")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    # CloudWatch is no principal of the account: the managed key's policy refuses it.
    alarm(cw, "to-managed", topic)
    cw.set_alarm_state(AlarmName="to-managed", StateValue="ALARM", StateReason="test")
    [(summary, data)] = actions(cw, "to-managed")
    assert data["actionState"] == "Failed" and "encryption key" in summary, summary


def test_email_subscribers_get_the_alarm_text(cairn):
    sns, cw = cairn.client("sns"), cairn.client("cloudwatch")
    topic = sns.create_topic(Name="mailed-alarms")["TopicArn"]
    for protocol, to in (("email", "ops@example.com"), ("email-json", "bot@example.com")):
        sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=to)
        link = _wait_for_link(cairn, to)
        urllib.request.urlopen(link).read()
    alarm(cw, "root-usage", topic)
    cw.set_alarm_state(AlarmName="root-usage", StateValue="ALARM", StateReason="Threshold Crossed: test")
    text = _wait_for_mail(cairn, "ops@example.com", "Subject: ALARM")
    body = text.split("\r\n\r\n", 1)[1]
    assert body.startswith('You are receiving this email because your Amazon CloudWatch Alarm '
                           '"root-usage" in the US East (N. Virginia) region has entered the ALARM '
                           'state, because "Threshold Crossed: test" at "'), body
    for line in ("- Name:                       root-usage",
                 "- Description:                too many root logins",
                 "- The alarm is in the ALARM state when the metric is "
                 "GreaterThanOrEqualToThreshold 1.0 for at least 1 of the last 1 period(s) of 300 seconds.",
                 "- MetricName:                          RootAccountUsageCount",
                 "- TreatMissingData:                    notBreaching",
                 f"- ALARM: [{topic}]"):
        assert line in body.replace("\r\n", "\n"), (line, body)
    # The server's alarm loop may evaluate the new alarm (no data, notBreaching: OK) before
    # SetAlarmState (a full run on a busy machine did).
    assert re.search(r"\n- State Change: +(INSUFFICIENT_DATA|OK) -> ALARM\n", body.replace("\r\n", "\n")), body
    note = json.loads(_wait_for_mail(cairn, "bot@example.com", "Subject: ALARM").split("\r\n\r\n", 1)[1])
    assert json.loads(note["Message"])["AlarmName"] == "root-usage"


def test_alarms_run_sends_links_with_the_servers_port(subscriber):
    server = Cairn(cairn_binary(), ["--alarm-tick-secs", "0"])
    try:
        sns, cw = server.client("sns"), server.client("cloudwatch")
        topic = sns.create_topic(Name="stepped")["TopicArn"]
        received = subscribe(sns, topic, subscriber)
        alarm(cw, "stepped", topic)
        now = int(time.time())
        cw.put_metric_data(Namespace="CloudTrailMetrics", MetricData=[
            {"MetricName": "RootAccountUsageCount", "Value": 1, "Timestamp": now}])
        out = json.loads(server.admin("alarms", "run", "--now", str(now - now % 300 + 300)))
        assert out["Published"] == 1, out
        _, note = received.get(timeout=10)
        assert json.loads(note["Message"])["NewStateValue"] == "ALARM"
        endpoint = server.endpoint.rstrip("/")
        assert note["SigningCertURL"].startswith(endpoint + "/"), (note["SigningCertURL"], endpoint)
        assert note["UnsubscribeURL"].startswith(endpoint + "/"), note["UnsubscribeURL"]
        cert = x509.load_pem_x509_certificate(urllib.request.urlopen(note["SigningCertURL"]).read())
        assert cert.public_key() is not None
    finally:
        server.stop()


def _mail_texts(cairn):
    for path in glob.glob(os.path.join(cairn.dir.name, "mail", "new", "*")):
        yield open(path, encoding="utf-8", newline="").read()


def _wait_for_mail(cairn, to, marker):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for text in _mail_texts(cairn):
            if f"\nTo: {to}\r" in text and marker in text:
                return text
        time.sleep(0.05)
    raise AssertionError(f"no mail for {to} with {marker}")


def _wait_for_link(cairn, to):
    text = _wait_for_mail(cairn, to, "SubscribeURL" if to.startswith("bot") else "Confirm subscription")
    if to.startswith("bot"):
        return json.loads(text.split("\r\n\r\n", 1)[1])["SubscribeURL"]
    return text.split("Confirm subscription: ", 1)[1].split()[0]
