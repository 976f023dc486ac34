"""Every JSON and Query operation is authorized, run and recorded on its own members only
(outside tester hostile5). A member of another operation added by hand used to steer the
authorization to a resource of the caller's while the operation acted on the one named by
its own member: Logs PutLogGroupDeletionProtection with `logGroupName`, DisassociateKmsKey
with `logGroupIdentifier`, TagLogGroup with `resourceArn`; SNS Unsubscribe,
SetSubscriptionAttributes and TagResource with `TopicArn`. And a Logs ARN of another
partition (`arn:x:logs:…`) reached the group while a Deny on its `arn:aws:` ARN was judged
against the ARN as written."""

import json
import urllib.parse
import urllib.request

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import http_subscriber

GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:audit-lg"


def user(cairn, name, statements):
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def send(cairn, creds, service, body, headers):
    req = AWSRequest("POST", cairn.endpoint + "/", data=body, headers=headers)
    SigV4Auth(creds, service, "us-east-1").add_auth(req)
    resp = urllib3.PoolManager().request("POST", req.url, body=body, headers=dict(req.headers.items()))
    return resp.status, resp.data.decode()


def logs(cairn, creds, op, body):
    return send(cairn, creds, "logs", json.dumps(body), {
        "X-Amz-Target": f"Logs_20140328.{op}", "Content-Type": "application/x-amz-json-1.1"})


def sns(cairn, creds, params):
    body = urllib.parse.urlencode({"Version": "2010-03-31", **params})
    return send(cairn, creds, "sns", body, {"Content-Type": "application/x-www-form-urlencoded"})


def test_logs_operations_are_authorized_on_their_own_members(cairn):
    root = cairn.client("logs")
    for g in ("audit-lg", "mine-lg"):
        root.create_log_group(logGroupName=g)
    root.put_log_group_deletion_protection(logGroupIdentifier="audit-lg", deletionProtectionEnabled=True)
    root.tag_log_group(logGroupName="audit-lg", tags={"team": "audit"})
    mine = user(cairn, "logs-mine", [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:*:*:log-group:mine*"}])
    attempts = [
        ("PutLogGroupDeletionProtection",
         {"logGroupName": "mine-lg", "logGroupIdentifier": "audit-lg", "deletionProtectionEnabled": False}),
        ("DisassociateKmsKey", {"logGroupIdentifier": "mine-lg", "resourceIdentifier": GROUP}),
        ("UntagLogGroup", {"logGroupName": "mine-lg", "resourceArn": GROUP, "tags": ["team"]}),
        ("UntagResource", {"resourceArn": GROUP.replace("arn:aws:", "arn:x:"), "tagKeys": ["team"]}),
    ]
    for op, body in attempts:
        status, out = logs(cairn, mine, op, body)
        # Refused, or (UntagLogGroup, whose member names mine-lg) done to the caller's group.
        assert status == 200 or "AccessDenied" in out or "ResourceNotFound" in out, (op, status, out)
    assert logs(cairn, mine, *attempts[0])[0] == 400
    group = root.describe_log_groups(logGroupNamePrefix="audit-lg")["logGroups"][0]
    assert group["deletionProtectionEnabled"] is True
    assert root.list_tags_for_resource(resourceArn=GROUP)["tags"] == {"team": "audit"}
    # The record names the group the call acted on and only the operation's own members.
    ct = cairn.client("cloudtrail")
    records = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "PutLogGroupDeletionProtection"}])["Events"]]
    denied = [r for r in records if r["userIdentity"].get("userName") == "logs-mine"][0]
    assert denied["errorCode"] == "AccessDenied", denied
    assert "logGroupName" not in (denied.get("requestParameters") or {}), denied


def test_sns_operations_are_authorized_on_their_own_members(cairn):
    root = cairn.client("sns")
    audit = root.create_topic(Name="audit-topic")["TopicArn"]
    mine_topic = root.create_topic(Name="mine-topic")["TopicArn"]
    with http_subscriber() as (endpoint, received):
        root.subscribe(TopicArn=audit, Protocol="http", Endpoint=endpoint)
        _, confirmation = received.get(timeout=10)
        urllib.request.urlopen(confirmation["SubscribeURL"]).read()
    sub = root.list_subscriptions_by_topic(TopicArn=audit)["Subscriptions"][0]["SubscriptionArn"]
    root.tag_resource(ResourceArn=audit, Tags=[{"Key": "team", "Value": "audit"}])
    mine = user(cairn, "sns-mine", [
        {"Effect": "Allow", "Action": "sns:*", "Resource": "arn:aws:sns:*:*:mine-*"}])
    attempts = [
        {"Action": "SetSubscriptionAttributes", "TopicArn": mine_topic, "SubscriptionArn": sub,
         "AttributeName": "FilterPolicy", "AttributeValue": '{"x": ["never"]}'},
        {"Action": "Unsubscribe", "ResourceArn": mine_topic, "SubscriptionArn": sub},
        {"Action": "UntagResource", "TopicArn": mine_topic, "ResourceArn": audit,
         "TagKeys.member.1": "team"},
    ]
    for params in attempts:
        status, out = sns(cairn, mine, params)
        assert status == 403 and "AuthorizationError" in out, (params["Action"], status, out)
    attrs = root.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert "FilterPolicy" not in attrs, attrs
    assert root.list_tags_for_resource(ResourceArn=audit)["Tags"] == [{"Key": "team", "Value": "audit"}]


def test_an_unsigned_unsubscribe_link_is_recorded_in_its_subscriptions_region(cairn):
    """Review of the fix above: the unsigned link path read parameters unfiltered, so a
    `TopicArn` of another region added to an UnsubscribeURL filed the record there."""
    root = cairn.client("sns")
    topic = root.create_topic(Name="link-topic")["TopicArn"]
    with http_subscriber() as (endpoint, received):
        root.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
        _, confirmation = received.get(timeout=10)
        urllib.request.urlopen(confirmation["SubscribeURL"]).read()
    sub = root.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"]
    query = urllib.parse.urlencode({
        "Action": "Unsubscribe", "SubscriptionArn": sub,
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:elsewhere"})
    urllib.request.urlopen(f"{cairn.endpoint}/?{query}").read()
    assert root.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    records = [json.loads(e["CloudTrailEvent"]) for e in cairn.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Unsubscribe"}])["Events"]]
    assert any(r["requestParameters"].get("subscriptionArn") == sub for r in records), records
