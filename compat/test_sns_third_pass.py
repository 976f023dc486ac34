"""SNS findings of a third outside pass (sns3). Each test failed before its fix:
CreateTopic kept no `DataProtectionPolicy` yet answered success (and recorded the policy);
filter policies with `true`, `false` or `null` were refused; SNS's own reserved SMS and mobile
attribute names were refused on Publish; delivery-status logging attributes were "unknown";
`MessageDeduplicationId` was accepted on a standard topic; reversed numeric ranges were kept
and matched nothing; a `RedrivePolicy` was kept and never used; a `.fifo` topic was told its
name was wrong; a malformed subscription ARN was NotFound; an email subscription took a
delivery policy."""

import json
import re
import urllib.request

import pytest
from botocore.exceptions import ClientError


def error(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return e.value.response["Error"]


def test_a_data_protection_policy_is_refused_not_dropped(cairn):
    sns = cairn.client("sns")
    policy = json.dumps({"Name": "deny-emails", "Version": "2021-06-01", "Statement": [{
        "DataDirection": "Inbound", "Principal": ["*"],
        "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
        "Operation": {"Deny": {}}}]})
    e = error(sns.create_topic, Name="dpp", DataProtectionPolicy=policy)
    assert e["Code"] == "InvalidParameter" and "DataProtectionPolicy" in e["Message"], e
    assert not [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":dpp")]


def test_filter_policy_literals_are_accepted(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="literals")["TopicArn"]
    # The SNS developer guide's own example ("A policy that rejects messages").
    guide = {"store": ["example_corp"], "event": ["order_cancelled"], "encrypted": [False],
             "customer_interests": ["basketball", "baseball"]}
    sub = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="a@example.com",
                        Attributes={"FilterPolicy": json.dumps(guide)},
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"a": [None, True]}))
    got = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["FilterPolicy"]
    assert json.loads(got) == {"a": [None, True]}


def test_filter_policy_ranges_and_reasons_are_checked(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="ranges")["TopicArn"]
    e = error(sns.subscribe, TopicArn=arn, Protocol="email", Endpoint="b@example.com",
              Attributes={"FilterPolicy": json.dumps({"p": [{"numeric": [">", 10, "<", 5]}]})})
    assert e["Message"] == ("Invalid parameter: Attributes Reason: FilterPolicy: "
                            "Bottom must be less than top"), e
    sub = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="b@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    e = error(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="FilterPolicy",
              AttributeValue=json.dumps({"ip": [{"cidr": "10.0.0.300/24"}]}))
    assert e["Message"] == "Invalid parameter: FilterPolicy: Nonstandard IP address: 10.0.0.300", e


def test_reserved_sms_and_mobile_attributes_are_accepted_others_are_not(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="fanout")["TopicArn"]
    sns.publish(TopicArn=arn, Message="m", MessageAttributes={
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Cairn"},
        "AWS.SNS.MOBILE.FCM.TTL": {"DataType": "String", "StringValue": "60"}})
    e = error(sns.publish, TopicArn=arn, Message="m", MessageAttributes={
        "AWS.Mine": {"DataType": "String", "StringValue": "x"}})
    assert e["Code"] == "ParameterValueInvalid", e


def test_a_deduplication_id_is_refused_on_a_standard_topic(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="standard")["TopicArn"]
    e = error(sns.publish, TopicArn=arn, Message="m", MessageDeduplicationId="d1")
    assert e["Code"] == "InvalidParameter" and "MessageDeduplicationId" in e["Message"], e
    out = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "ok", "Message": "m"},
        {"Id": "dedup", "Message": "m", "MessageDeduplicationId": "d2"}])
    assert [s["Id"] for s in out["Successful"]] == ["ok"], out
    assert [f["Id"] for f in out["Failed"]] == ["dedup"], out


def test_unserved_topic_and_subscription_features_say_so(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="features")["TopicArn"]
    for name in ["HTTPSuccessFeedbackRoleArn", "HTTPFailureFeedbackRoleArn",
                 "HTTPSuccessFeedbackSampleRate"]:
        e = error(sns.set_topic_attributes, TopicArn=arn, AttributeName=name, AttributeValue="1")
        assert "Cairn does not log delivery status" in e["Message"], e
    e = error(sns.create_topic, Name="orders.fifo", Attributes={"FifoTopic": "true"})
    assert "Cairn does not serve FIFO topics" in e["Message"], e
    sub = sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint="c@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    e = error(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="RedrivePolicy",
              AttributeValue=json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq"}))
    assert "Cairn does not serve SQS" in e["Message"], e
    e = error(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="DeliveryPolicy",
              AttributeValue=json.dumps({"healthyRetryPolicy": {"numRetries": 3}}))
    assert "does not support delivery policies" in e["Message"], e
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert "RedrivePolicy" not in attrs and "DeliveryPolicy" not in attrs, attrs
    for call in (sns.get_subscription_attributes, sns.unsubscribe):
        e = error(call, SubscriptionArn="garbage")
        assert (e["Code"], e["Message"]) == ("InvalidParameter", "Invalid parameter: SubscriptionArn"), e


def test_a_publish_to_a_phone_number_is_recorded(cairn):
    """Before (sns3 F10), a Publish naming a PhoneNumber was classed as a data event with no
    resource, which no selector can select: the attempt left no record at all."""
    sns = cairn.client("sns")
    e = error(sns.publish, PhoneNumber="+15555550100", Message="pump")
    assert e["Code"] == "InvalidParameter", e
    [rec] = [r for r in cairn.records("Management") if r["eventName"] == "Publish"]
    assert rec["errorCode"] == "InvalidParameter", rec
    assert "+15555550100" not in json.dumps(rec) and "pump" not in json.dumps(rec), rec


def test_a_topics_display_name_is_its_emails_sender(cairn):
    """Before (sns3 F12), every email came from "AWS Notifications", whatever the topic's
    DisplayName; SNS sends the confirmation and the notifications under it."""
    from test_sns_publish import wait_for_mail
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="billing", Attributes={"DisplayName": "Billing Alerts"})["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="finance@example.com")
    [confirm] = wait_for_mail(cairn, "finance@example.com", 1)
    assert confirm.startswith('From: "Billing Alerts" <'), confirm[:200]
    link = re.search(r"Confirm subscription: (\S+)", confirm).group(1)
    urllib.request.urlopen(link).read()
    sns.publish(TopicArn=topic, Message="over budget", Subject="Budget")
    mail = [m for m in wait_for_mail(cairn, "finance@example.com", 2) if "Subject: Budget" in m][0]
    assert mail.startswith('From: "Billing Alerts" <'), mail[:200]
