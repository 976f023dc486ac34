"""SNS found by outside tester sns5: a webhook's password (`https://user:password@host/`) is
shown as `****` by the subscription listings and in the Subscribe record, as SNS shows it
(only GetSubscriptionAttributes gives the URL as made); a 429 answer is retried under the
delivery policy, as 5XX answers are; a message published with `MessageStructure=json` is
delivered without its attributes ("Message attributes are sent only when the message
structure is String, not JSON")."""

import json
import threading
import urllib.request

from conftest import http_subscriber


def confirm(sns, topic, endpoint, received):
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
    kind, msg = received.get(timeout=10)
    assert kind == "SubscriptionConfirmation"
    urllib.request.urlopen(msg["SubscribeURL"]).read()


def test_webhook_passwords_are_masked(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="masked")["TopicArn"]
    with http_subscriber() as (url, received):
        endpoint = url.replace("http://", "http://alice:S3cretPw@") + "hook"
        confirm(sns, topic, endpoint, received)
        masked = endpoint.replace("S3cretPw", "****")
        assert [s["Endpoint"] for s in sns.list_subscriptions_by_topic(
            TopicArn=topic)["Subscriptions"]] == [masked]
        listed = [s for s in sns.list_subscriptions()["Subscriptions"] if s["TopicArn"] == topic]
        assert [s["Endpoint"] for s in listed] == [masked]
        attrs = sns.get_subscription_attributes(
            SubscriptionArn=listed[0]["SubscriptionArn"])["Attributes"]
        assert attrs["Endpoint"] == endpoint
    text = json.dumps([r for r in cairn.records("Management") if r["eventName"] == "Subscribe"])
    assert "S3cretPw" not in text and "alice:****@" in text


def test_429_is_retried(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="throttled")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(
        {"http": {"defaultHealthyRetryPolicy": {
            "numRetries": 2, "numNoDelayRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1}}}))
    answered = []
    lock = threading.Lock()

    def status(path, headers):
        with lock:
            answered.append(headers["x-amz-sns-message-type"])
            notes = answered.count("Notification")
        return 429 if headers["x-amz-sns-message-type"] == "Notification" and notes == 1 else 200

    with http_subscriber(status=status) as (url, received):
        confirm(sns, topic, url, received)
        sns.publish(TopicArn=topic, Message="hello")
        first = received.get(timeout=10)
        second = received.get(timeout=10)
    assert first[0] == second[0] == "Notification"
    assert first[1]["MessageId"] == second[1]["MessageId"]


def test_json_structured_messages_carry_no_attributes(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="structured")["TopicArn"]
    attrs = {"k": {"DataType": "String", "StringValue": "v"}}
    with http_subscriber() as (url, received):
        confirm(sns, topic, url, received)
        sns.publish(TopicArn=topic, Message=json.dumps({"default": "D", "http": "H"}),
                    MessageStructure="json", MessageAttributes=attrs)
        _, structured = received.get(timeout=10)
        sns.publish(TopicArn=topic, Message="plain", MessageAttributes=attrs)
        _, plain = received.get(timeout=10)
    assert structured["Message"] == "H" and "MessageAttributes" not in structured
    assert plain["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
