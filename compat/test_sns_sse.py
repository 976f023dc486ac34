"""SNS server-side encryption: a topic's `KmsMasterKeyId` (SNS developer guide, "Encryption
at rest"). Publish asks KMS for a data key under the topic's key as the publisher through
SNS, recorded with `invokedBy` `sns.amazonaws.com`; the queued message is sealed under it
until delivered; a missing, disabled or forbidden key fails the publish with SNS's
KMS errors. Before, the attribute was stored and shown but never used: messages sat in the
store in the clear and a disabled key changed nothing."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import http_subscriber


@pytest.fixture()
def subscriber():
    with http_subscriber(status=lambda path, h: (
            # An endpoint under `/gone` takes its confirmation and refuses every message.
            500 if "gone" in path and h["x-amz-sns-message-type"] == "Notification" else 200)) as s:
        yield s


def code(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def test_publish_seals_under_the_topic_key_and_delivers(cairn, subscriber):
    endpoint, received = subscriber
    sns, kms = cairn.client("sns"), cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/sns-sse", TargetKeyId=key)
    arn = sns.create_topic(Name="sealed", Attributes={"KmsMasterKeyId": "alias/sns-sse"})["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint)
    _, confirmation = received.get(timeout=10)
    urllib.request.urlopen(confirmation["SubscribeURL"]).read()
    sns.publish(TopicArn=arn, Message="SEALED-MARKER-1")
    kind, note = received.get(timeout=10)
    assert kind == "Notification" and note["Message"] == "SEALED-MARKER-1"
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GenerateDataKey"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    made = [r for r in records
            if r["requestParameters"].get("encryptionContext", {}).get("aws:sns:topicArn") == arn]
    assert made, records
    assert made[0]["userIdentity"]["invokedBy"] == "sns.amazonaws.com"
    assert made[0]["sourceIPAddress"] == "sns.amazonaws.com"


def test_a_queued_message_is_never_stored_in_the_clear(cairn, subscriber):
    endpoint, received = subscriber
    sns, kms = cairn.client("sns"), cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    arn = sns.create_topic(Name="sealed-queue", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    # A confirmed subscriber whose endpoint then refuses: the message stays queued for retry.
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint + "gone")
    _, confirmation = received.get(timeout=10)
    urllib.request.urlopen(confirmation["SubscribeURL"]).read()
    sns.set_subscription_attributes(
        SubscriptionArn=sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"][0]["SubscriptionArn"],
        AttributeName="DeliveryPolicy",
        AttributeValue=json.dumps({"healthyRetryPolicy": {"numRetries": 3, "minDelayTarget": 60,
                                                          "maxDelayTarget": 60}}))
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError):
        sns.publish(TopicArn=arn, Message="never-queued")
    kms.enable_key(KeyId=key)
    sns.publish(TopicArn=arn, Message="SEALED-MARKER-2")
    rows = cairn.store_rows(
        "SELECT q.payload, b.body FROM sns_queue q JOIN sns_bodies b ON b.id = q.body_id"
        " WHERE q.subscription_arn LIKE ?", arn + ":%")
    assert rows, "the message is queued"
    # The body, which holds the message, is sealed; the row names only its recipient.
    assert all(b.startswith('{"v":2,') and "SEALED-MARKER-2" not in b + p for p, b in rows), rows


def test_an_unusable_key_fails_the_publish(cairn):
    sns, kms, iam = cairn.client("sns"), cairn.client("kms"), cairn.client("iam")
    missing = sns.create_topic(Name="sse-missing",
                               Attributes={"KmsMasterKeyId": "alias/no-such-key"})["TopicArn"]
    assert code(lambda: sns.publish(TopicArn=missing, Message="m")) == "KMSNotFound"
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    off = sns.create_topic(Name="sse-disabled", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    sns.publish(TopicArn=off, Message="m")
    kms.disable_key(KeyId=key)
    assert code(lambda: sns.publish(TopicArn=off, Message="m")) == "KMSDisabled"
    # The refused key request is recorded too, though the publish failed.
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GenerateDataKey"}])["Events"]
    refused = [r for r in (json.loads(e["CloudTrailEvent"]) for e in events)
               if r.get("errorCode") and r["requestParameters"].get("encryptionContext", {})
               .get("aws:sns:topicArn") == off]
    assert refused and refused[0]["userIdentity"]["invokedBy"] == "sns.amazonaws.com", refused
    kms.enable_key(KeyId=key)
    # A publisher allowed SNS but not the key's GenerateDataKey.
    iam.create_user(UserName="sse-publisher")
    iam.put_user_policy(UserName="sse-publisher", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"},
            {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}))
    k = iam.create_access_key(UserName="sse-publisher")["AccessKey"]
    publisher = cairn.client_with(k["AccessKeyId"], k["SecretAccessKey"], "sns")
    assert code(lambda: publisher.publish(TopicArn=off, Message="m")) == "KMSAccessDenied"
