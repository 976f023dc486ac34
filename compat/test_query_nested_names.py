"""A Query parameter name is read by walking its operation's input shape, as AWS reads it;
a name that shape has not is ignored (outside tester hostile6). `AlarmNames.member.1.x` or
`AlarmNames.1` beside `AlarmNames.member.1` used to turn the list into an object: the call
was authorized on `*` instead of the alarm it named, and its record held a structure of the
caller's choosing."""

import json
import urllib.parse

from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET
from test_hostile_fifth_pass import send, user

ROOT = Credentials(ACCESS_KEY, SECRET)


def query(cairn, creds, service, params):
    return send(cairn, creds, service, urllib.parse.urlencode(params),
                {"Content-Type": "application/x-www-form-urlencoded"})


def records(cairn, name, user_name):
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
    found = [json.loads(e["CloudTrailEvent"]) for e in events]
    return [r for r in found if r["userIdentity"].get("userName") == user_name]


def test_names_nested_under_list_items_are_ignored(cairn):
    cw = cairn.client("cloudwatch")
    for alarm in ("mine-alarm", "rootalarm"):
        cw.put_metric_alarm(AlarmName=alarm, MetricName="M", Namespace="N", Statistic="Sum",
                            Period=60, EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator="GreaterThanThreshold", ActionsEnabled=True)
    mine = user(cairn, "cw-mine", [{"Effect": "Allow", "Action": "cloudwatch:*",
                                    "Resource": "arn:aws:cloudwatch:*:*:alarm:mine*"}])
    base = {"Version": "2010-08-01", "Action": "DisableAlarmActions", "AlarmNames.member.1": "mine-alarm"}
    for extra in ({"AlarmNames.member.1.x": "rootalarm"}, {"AlarmNames.1": "rootalarm"},
                  {"AlarmNames.entry.1.key": "rootalarm"}):
        status, out = query(cairn, mine, "monitoring", {**base, **extra})
        # Authorized on the alarm the call names, which the user may change.
        assert status == 200, (extra, status, out)
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
    assert alarms["rootalarm"]["ActionsEnabled"] is True
    assert alarms["mine-alarm"]["ActionsEnabled"] is False
    recorded = records(cairn, "DisableAlarmActions", "cw-mine")
    assert len(recorded) == 3, recorded
    for r in recorded:
        assert r["requestParameters"] == {"alarmNames": ["mine-alarm"]}, r
        assert "errorCode" not in r, r


def test_nested_names_the_shape_lacks_are_left_out_of_iam_and_sns_calls(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="nested-names")["TopicArn"]
    status, out = query(cairn, ROOT, "sns", {
        "Version": "2010-03-31", "Action": "TagResource", "ResourceArn": topic,
        "Tags.member.1.Key": "team", "Tags.member.1.Value": "audit",
        "Tags.member.1.Extra": "x", "Tags.member.1.Key.deeper": "y", "Tags.1": "z"})
    assert status == 200, out
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "team", "Value": "audit"}]
    iam = cairn.client("iam")
    iam.create_user(UserName="nested-tags")
    status, out = query(cairn, ROOT, "iam", {
        "Version": "2010-05-08", "Action": "TagUser", "UserName": "nested-tags",
        "Tags.member.1.Key": "k", "Tags.member.1.Value": "v", "UserName.x": "other"})
    assert status == 200, out
    assert iam.list_user_tags(UserName="nested-tags")["Tags"] == [{"Key": "k", "Value": "v"}]
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "TagUser"}])["Events"]
    params = json.loads(events[0]["CloudTrailEvent"])["requestParameters"]
    assert params == {"userName": "nested-tags", "tags": [{"key": "k", "value": "v"}]}, params
