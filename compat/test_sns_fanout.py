"""SNS fan-out keeps one copy of a message (hostile14 F4). Outside testing found that a
Publish queued the whole message once per subscriber, inside the transaction that accepts
it: one 256 KB Publish to a user's own topic with 2,000 subscribers wrote about 1 GB and held
every other call of the account for 19 s. The body every recipient shares is now kept once
and each subscriber's queue row names it; it goes with the last row that names it."""

import json
import time
import urllib.request


# Endpoints under `/gone` take their confirmation and refuse every message, so what was
# published stays queued for retry; the others accept.
from test_sns_sse import subscriber  # noqa: F401 (a fixture)

SUBSCRIBERS = 30
SIZE = 200_000




def stored(cairn):
    """(bytes of queue rows, bytes of bodies, number of bodies) in the store."""
    [(rows,)] = cairn.store_rows("SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM sns_queue")
    [bodies] = cairn.store_rows("SELECT COALESCE(SUM(LENGTH(body)), 0), COUNT(*) FROM sns_bodies")
    return rows, bodies[0], bodies[1]


def subscribe_confirmed(sns, topic, endpoint, received):
    arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    kind, confirmation = received.get(timeout=10)
    assert kind == "SubscriptionConfirmation"
    urllib.request.urlopen(confirmation["SubscribeURL"]).read()
    return arn


def test_a_message_to_many_subscribers_is_stored_once(cairn, subscriber):
    endpoint, received = subscriber
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="fan")["TopicArn"]
    # Retries a minute apart: the refused messages stay queued while the test looks.
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(
        {"http": {"defaultHealthyRetryPolicy": {"numRetries": 3, "minDelayTarget": 60,
                                                "maxDelayTarget": 60}}}))
    gone = [subscribe_confirmed(sns, topic, f"{endpoint}gone{i}", received)
            for i in range(SUBSCRIBERS)]
    subscribe_confirmed(sns, topic, f"{endpoint}ok", received)
    big = "x" * SIZE
    # Per-protocol messages still reach each protocol as published.
    sns.publish(TopicArn=topic, MessageStructure="json",
                Message=json.dumps({"default": "d", "http": big}))
    seen = {}
    while len(seen) < SUBSCRIBERS + 1:
        kind, note = received.get(timeout=20)
        assert kind == "Notification"
        assert note["Message"] == big
        seen[note["UnsubscribeURL"]] = True
    rows, bodies, count = stored(cairn)
    assert count == 1, "one body for the publication"
    assert SIZE <= bodies < 2 * SIZE, bodies
    # Before: every row held the message (30 × 200 KB).
    assert rows < SIZE, f"the queue rows hold {rows} bytes"
    # Unsubscribing some keeps the body the others still need; the topic's deletion drops it.
    for arn in gone[:5]:
        sns.unsubscribe(SubscriptionArn=arn)
    assert stored(cairn)[2] == 1
    sns.delete_topic(TopicArn=topic)
    assert stored(cairn) == (0, 0, 0)


def test_a_delivered_message_leaves_no_body(cairn, subscriber):
    endpoint, received = subscriber
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="fan-ok")["TopicArn"]
    for i in range(3):
        subscribe_confirmed(sns, topic, f"{endpoint}ok{i}", received)
    sns.publish(TopicArn=topic, Message="hello", Subject="s",
                MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    for _ in range(3):
        kind, note = received.get(timeout=10)
        assert (kind, note["Message"], note["Subject"]) == ("Notification", "hello", "s")
        assert note["MessageAttributes"]["k"] == {"Type": "String", "Value": "v"}
    # The last delivery's row goes just after its POST is answered: poll for it.
    for _ in range(200):
        if stored(cairn) == (0, 0, 0):
            break
        time.sleep(0.05)
    assert stored(cairn) == (0, 0, 0)
