"""SNS found by outside tester sns5: a webhook's password (`https://user:password@host/`) is
shown as `****` by the subscription listings and in the Subscribe record, as SNS shows it
(only GetSubscriptionAttributes gives the URL as made); a 429 answer is retried under the
delivery policy, as 5XX answers are; a message published with `MessageStructure=json` is
delivered without its attributes ("Message attributes are sent only when the message
structure is String, not JSON"); a subscription pending for 48 hours is gone, as SNS
deletes it, and its token confirms nothing."""

import json
import os
import threading
import time
import urllib.error
import urllib.request

import botocore.exceptions
import pytest

from conftest import http_subscriber
from test_page_tokens import clocked  # noqa: F401 (a fixture)


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


def test_pending_subscriptions_expire_after_48_hours(clocked):
    """A subscription still pending 48 hours after Subscribe is gone, as SNS deletes it: not
    listed, its token and SubscribeURL confirm nothing, and a new Subscribe starts afresh."""
    server, clock = clocked
    sns = server.client("sns")
    topic = sns.create_topic(Name="pending")["TopicArn"]
    start = time.time() + clock.offset
    with http_subscriber() as (url, received):
        pending_arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url,
                                    ReturnSubscriptionArn=True)["SubscriptionArn"]
        _, first = received.get(timeout=10)
        clock.set(start + 47 * 3600)
        assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(
            TopicArn=topic)["Subscriptions"]] == ["PendingConfirmation"]
        clock.set(start + 49 * 3600)
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
        assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "0"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sns.get_subscription_attributes(SubscriptionArn=pending_arn)
        assert e.value.response["Error"]["Code"] == "NotFound"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sns.confirm_subscription(TopicArn=topic, Token=first["Token"])
        assert e.value.response["Error"]["Code"] == "InvalidParameter"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(first["SubscribeURL"]).read()
        # Subscribing again makes a new pending subscription, with a token that confirms it.
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
        _, second = received.get(timeout=10)
        assert second["Token"] != first["Token"]
        arn = sns.confirm_subscription(TopicArn=topic, Token=second["Token"])["SubscriptionArn"]
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(
        TopicArn=topic)["Subscriptions"]] == [arn]


def test_expired_pending_subscriptions_are_deleted_not_hidden():
    """recheck30: an expired pending subscription was only hidden: with the clock set back it
    was listed again and its old token confirmed it. The server's sweep deletes it."""
    import datetime

    import botocore.auth

    from conftest import Cairn, cairn_binary
    from test_page_tokens import Clock
    clock = Clock()
    server = Cairn(cairn_binary(), ["--clock-file", clock.path, "--alarm-tick-secs", "0",
                                    "--sweep-interval-secs", "1"])
    import botocore.compat
    # The module's other clock (a module fixture) may hold botocore's signing time: sign by
    # the real time plus this test's own clock.
    patched = botocore.auth.get_current_datetime
    real = botocore.compat.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a, **k: real(*a, **k) + datetime.timedelta(seconds=clock.offset)
    try:
        sns = server.client("sns")
        topic = sns.create_topic(Name="swept")["TopicArn"]
        start = time.time()
        with http_subscriber() as (url, received):
            arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url,
                                ReturnSubscriptionArn=True)["SubscriptionArn"]
            _, first = received.get(timeout=10)
            clock.set(start + 49 * 3600)
            # Back within the 48 hours: once the sweep has run, the subscription is gone.
            # (Polled, bounded: the sweep runs every second, at the clock's +49 h.)
            deadline = time.time() + 30
            while True:
                time.sleep(0.2)
                clock.set(start + 2 * 3600)
                try:
                    sns.get_subscription_attributes(SubscriptionArn=arn)
                except botocore.exceptions.ClientError as e:
                    assert e.response["Error"]["Code"] == "NotFound"
                    break
                assert time.time() < deadline, "the sweep never deleted the expired subscription"
                clock.set(start + 49 * 3600)
            assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
            with pytest.raises(botocore.exceptions.ClientError) as e:
                sns.confirm_subscription(TopicArn=topic, Token=first["Token"])
            assert e.value.response["Error"]["Code"] in ("InvalidParameter", "NotFound")
    finally:
        botocore.auth.get_current_datetime = patched
        server.stop()
        os.unlink(clock.path)
