"""SNS as a notification hub: Publish and PublishBatch with AWS's errors, subscription
listings and attributes, raw delivery, filter policies, email to the maildir, and signed
messages checked by an independent verifier written from AWS's documented procedure
(fetch SigningCertURL, rebuild the string to sign, RSA PKCS#1 v1.5 with SHA-1 for
SignatureVersion 1 and SHA-256 for 2)."""

import base64
import glob
import json
import os
import re
import urllib.request

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from conftest import http_subscriber

NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRMATION_KEYS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]


def verify(message):
    """AWS's documented verification, independent of Cairn's code."""
    keys = NOTIFICATION_KEYS if message["Type"] == "Notification" else CONFIRMATION_KEYS
    text = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message)
    pem = urllib.request.urlopen(message["SigningCertURL"]).read()
    cert = x509.load_pem_x509_certificate(pem)
    digest = {"1": hashes.SHA1(), "2": hashes.SHA256()}[message["SignatureVersion"]]
    cert.public_key().verify(base64.b64decode(message["Signature"]), text.encode(),
                             padding.PKCS1v15(), digest)


@pytest.fixture()
def subscriber():
    with http_subscriber(lambda h, body: (dict(h), body.decode())) as s:
        yield s


def confirmed_subscription(sns, topic, endpoint, received, **kw):
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint, **kw)
    headers, body = received.get(timeout=10)
    msg = json.loads(body)
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    verify(msg)
    urllib.request.urlopen(msg["SubscribeURL"]).read()
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    return [s["SubscriptionArn"] for s in subs if s["Endpoint"] == endpoint][0]


def test_publish_signed_v1_and_v2_and_unsubscribe_link(cairn, subscriber):
    endpoint, received = subscriber
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="hub")["TopicArn"]
    sub = confirmed_subscription(sns, topic, endpoint, received)
    assert sub.startswith(topic + ":")

    out = sns.publish(TopicArn=topic, Message="hello\nworld", Subject="greeting",
                      MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    headers, body = received.get(timeout=10)
    note = json.loads(body)
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == sub
    assert note["MessageId"] == out["MessageId"] and note["Message"] == "hello\nworld"
    assert note["Subject"] == "greeting" and note["SignatureVersion"] == "1"
    assert note["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert re.search(r"/SimpleNotificationService-[0-9a-f]{32}\.pem$", note["SigningCertURL"])
    verify(note)
    tampered = dict(note, Message="other")
    with pytest.raises(Exception):
        verify(tampered)

    sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SignatureVersion"] == "2"
    sns.publish(TopicArn=topic, Message="v2")
    _, body = received.get(timeout=10)
    note2 = json.loads(body)
    assert note2["SignatureVersion"] == "2" and "Subject" not in note2
    verify(note2)

    # The UnsubscribeURL works unsigned, and the endpoint is told.
    urllib.request.urlopen(note2["UnsubscribeURL"]).read()
    headers, body = received.get(timeout=10)
    assert headers["x-amz-sns-message-type"] == "UnsubscribeConfirmation"
    verify(json.loads(body))
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_publish_errors_are_aws_s(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="errs")["TopicArn"]
    cases = [
        (dict(TopicArn=topic + "-missing", Message="m"), "NotFound", "Topic does not exist"),
        (dict(TopicArn=topic, Message=""), "InvalidParameter", "Invalid parameter: Empty message"),
        (dict(TopicArn=topic, Message="x" * 262145), "InvalidParameter", "Invalid parameter: Message too long"),
        (dict(TopicArn=topic, Message="m", Subject="a\nb"), "InvalidParameter", "Invalid parameter: Subject"),
        (dict(TopicArn=topic, Message="{}", MessageStructure="json"), "InvalidParameter",
         "Invalid parameter: Message Structure - No default entry in JSON message body"),
        (dict(TopicArn=topic, Message="m",
              MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}}), "ParameterValueInvalid", None),
    ]
    for kwargs, code, message in cases:
        with pytest.raises(ClientError) as e:
            sns.publish(**kwargs)
        assert e.value.response["Error"]["Code"] == code, kwargs
        if message:
            assert e.value.response["Error"]["Message"] == message
    assert sns.publish(TopicArn=topic, Message="x" * 262144)["MessageId"]


def test_publish_batch(cairn, subscriber):
    endpoint, received = subscriber
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="batch")["TopicArn"]
    confirmed_subscription(sns, topic, endpoint, received)
    out = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one"}, {"Id": "b", "Message": ""}, {"Id": "c", "Message": "three"}])
    assert [s["Id"] for s in out["Successful"]] == ["a", "c"]
    assert out["Failed"] == [{"Id": "b", "Code": "InvalidParameter",
                              "Message": "Invalid parameter: Empty message", "SenderFault": True}]
    got = sorted(json.loads(received.get(timeout=10)[1])["Message"] for _ in range(2))
    assert got == ["one", "three"]
    for entries, exc in [
        ([], sns.exceptions.EmptyBatchRequestException),
        ([{"Id": str(i), "Message": "m"} for i in range(11)], sns.exceptions.TooManyEntriesInBatchRequestException),
        ([{"Id": "x", "Message": "m"}, {"Id": "x", "Message": "n"}], sns.exceptions.BatchEntryIdsNotDistinctException),
        ([{"Id": "a!", "Message": "m"}], sns.exceptions.InvalidBatchEntryIdException),
        ([{"Id": "a", "Message": "x" * 200000}, {"Id": "b", "Message": "x" * 200000}],
         sns.exceptions.BatchRequestTooLongException),
    ]:
        with pytest.raises(exc):
            sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)


def test_raw_delivery_filters_json_structure_and_listing(cairn, subscriber):
    endpoint, received = subscriber
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="raw")["TopicArn"]
    sub = confirmed_subscription(sns, topic, endpoint, received)
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["RawMessageDelivery"] == "false" and attrs["PendingConfirmation"] == "false"
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.publish(TopicArn=topic, Message=json.dumps({"default": "d", "http": "for http"}), MessageStructure="json")
    headers, body = received.get(timeout=10)
    assert body == "for http" and headers["x-amz-sns-rawdelivery"] == "true"

    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"level": ["high"]}))
    sns.publish(TopicArn=topic, Message="low", MessageAttributes={"level": {"DataType": "String", "StringValue": "low"}})
    sns.publish(TopicArn=topic, Message="high", MessageAttributes={"level": {"DataType": "String", "StringValue": "high"}})
    assert received.get(timeout=10)[1] == "high"
    with pytest.raises(ClientError) as e:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="[")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"

    # A pending subscription shows as PendingConfirmation; pages hold at most 100.
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    listed = sns.list_subscriptions()["Subscriptions"]
    assert {"PendingConfirmation", sub} <= {s["SubscriptionArn"] for s in listed}
    many = sns.create_topic(Name="many")["TopicArn"]
    for i in range(105):
        sns.subscribe(TopicArn=many, Protocol="email", Endpoint=f"u{i}@example.com")
    page = sns.list_subscriptions_by_topic(TopicArn=many)
    assert len(page["Subscriptions"]) == 100 and page["NextToken"]
    rest = sns.list_subscriptions_by_topic(TopicArn=many, NextToken=page["NextToken"])
    assert len(rest["Subscriptions"]) == 5 and "NextToken" not in rest
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.list_subscriptions_by_topic(TopicArn=many + "x")


def mails(cairn, to):
    out = []
    for path in glob.glob(os.path.join(cairn.dir.name, "mail", "new", "*")):
        text = open(path, encoding="utf-8", newline="").read()
        if f"\nTo: {to}\r" in text:
            out.append(text)
    return out


def wait_for_mail(cairn, to, n):
    import time
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = mails(cairn, to)
        if len(found) >= n:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no mail for {to}")


def test_email_goes_to_the_maildir_and_confirms_by_link(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="mailed")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="alice@example.com")
    sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="bob@example.com")
    confirm = wait_for_mail(cairn, "alice@example.com", 1)[0]
    link = re.search(r"Confirm subscription: (\S+)", confirm).group(1)
    urllib.request.urlopen(link).read()
    bob = json.loads(wait_for_mail(cairn, "bob@example.com", 1)[0].split("\r\n\r\n", 1)[1])
    verify(bob)
    urllib.request.urlopen(bob["SubscribeURL"]).read()
    sns.publish(TopicArn=topic, Message="disk full", Subject="Alert")
    alice = [m for m in wait_for_mail(cairn, "alice@example.com", 2) if "Subject: Alert" in m][0]
    assert "disk full" in alice and "Action=Unsubscribe" in alice
    note = [json.loads(m.split("\r\n\r\n", 1)[1]) for m in wait_for_mail(cairn, "bob@example.com", 2)]
    note = [n for n in note if n["Type"] == "Notification"][0]
    assert note["Message"] == "disk full"
    verify(note)
    with pytest.raises(ClientError):
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="not-an-address")


def test_the_delivery_policy_sets_the_content_type(cairn, subscriber):
    """A subscription's `requestPolicy.headerContentType` (else its topic's
    `defaultRequestPolicy`) is the Content-Type its notifications are posted with."""
    endpoint, received = subscriber
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="typed")["TopicArn"]
    sub = confirmed_subscription(sns, topic, endpoint, received)
    sns.publish(TopicArn=topic, Message="plain")
    headers, _ = received.get(timeout=10)
    assert {k.lower(): v for k, v in headers.items()}["content-type"] == "text/plain; charset=UTF-8"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(
        {"http": {"defaultRequestPolicy": {"headerContentType": "application/json"}}}))
    sns.publish(TopicArn=topic, Message="topic default")
    headers, _ = received.get(timeout=10)
    assert {k.lower(): v for k, v in headers.items()}["content-type"] == "application/json"
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(
        {"requestPolicy": {"headerContentType": "application/xml; charset=UTF-8"}}))
    sns.publish(TopicArn=topic, Message="own")
    headers, body = received.get(timeout=10)
    assert {k.lower(): v for k, v in headers.items()}["content-type"] == "application/xml; charset=UTF-8"
    assert json.loads(body)["Message"] == "own"


def test_links_follow_the_listener_after_a_restart_on_another_port(subscriber):
    """Outside testing found SigningCertURL and UnsubscribeURL pinned to the address of the
    subscribing call, dead after a restart on another port, so every later message failed
    verification. A subscription made through the listener's own address follows it."""
    from conftest import Cairn, cairn_binary
    endpoint, received = subscriber
    server = Cairn(cairn_binary())
    try:
        sns = server.client("sns")
        topic = sns.create_topic(Name="moving")["TopicArn"]
        confirmed_subscription(sns, topic, endpoint, received)
        before = server.endpoint
        server.restart()
        assert server.endpoint != before
        server.client("sns").publish(TopicArn=topic, Message="after restart")
        _, body = received.get(timeout=10)
        note = json.loads(body)
        assert note["SigningCertURL"].startswith(server.endpoint.rstrip("/") + "/")
        assert note["UnsubscribeURL"].startswith(server.endpoint.rstrip("/") + "/")
        verify(note)
    finally:
        server.stop()
