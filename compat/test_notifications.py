"""SNS topics with HTTP subscribers and CloudTrail delivery notifications."""

import json
import urllib.request

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy, http_subscriber


@pytest.fixture()
def subscriber():
    with http_subscriber() as s:
        yield s


def topic_policy(arn):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AWSCloudTrailSNSPolicy20131101", "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish", "Resource": arn}]})


def test_delivered_files_are_notified_to_confirmed_http_subscribers(subscriber):
    endpoint, received = subscriber
    server = Cairn(cairn_binary(), ["--delivery-interval", "86400"])
    try:
        sns, s3, ct = server.client("sns"), server.client("s3"), server.client("cloudtrail")
        arn = sns.create_topic(Name="trail-notes")["TopicArn"]
        assert arn == "arn:aws:sns:us-east-1:123456789012:trail-notes"
        assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
        s3.create_bucket(Bucket="notes-bucket")
        s3.put_bucket_policy(Bucket="notes-bucket", Policy=cloudtrail_policy("notes-bucket"))
        with pytest.raises(ct.exceptions.InsufficientSnsTopicPolicyException):
            ct.create_trail(Name="noted", S3BucketName="notes-bucket", SnsTopicName="trail-notes")
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=topic_policy(arn))
        assert json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"][0]["Action"] == "SNS:Publish"

        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint)
        kind, confirmation = received.get(timeout=10)
        assert kind == "SubscriptionConfirmation" and confirmation["TopicArn"] == arn
        urllib.request.urlopen(confirmation["SubscribeURL"]).read()
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsConfirmed"] == "1"
        # The unsigned confirmation changed state, so it is recorded (without its token).
        confirmed = [r for r in server.records("Management") if r["eventName"] == "ConfirmSubscription"]
        assert len(confirmed) == 1 and confirmed[0]["userIdentity"]["accountId"] == "anonymous"
        assert confirmed[0]["requestParameters"] == {"topicArn": arn}
        assert confirmation["Token"] not in json.dumps(confirmed[0])

        trail = ct.create_trail(Name="noted", S3BucketName="notes-bucket", SnsTopicName="trail-notes")
        assert trail["SnsTopicARN"] == arn and trail["SnsTopicName"] == "trail-notes"
        ct.start_logging(Name="noted")
        ct.describe_trails()
        server.flush()
        kind, note = received.get(timeout=10)
        assert kind == "Notification" and note["TopicArn"] == arn
        message = json.loads(note["Message"])
        assert message["s3Bucket"] == "notes-bucket"
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="notes-bucket", Prefix="AWSLogs/123456789012/CloudTrail/")["Contents"]]
        assert message["s3ObjectKey"] == keys
        status = ct.get_trail_status(Name="noted")
        assert status["LatestNotificationTime"] == status["LatestDeliveryTime"], status
        assert "LatestNotificationError" not in status
        # Filled like their delivery twins, as the CLI's get-trail-status example shows them.
        assert status["LatestNotificationAttemptTime"] == status["LatestDeliveryAttemptTime"] != ""
        assert status["LatestNotificationAttemptSucceeded"] == status["LatestNotificationAttemptTime"]
        sns.delete_topic(TopicArn=arn)
        assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
        # With the topic gone, the next file is delivered and its notification fails.
        ct.describe_trails()
        server.flush()
        failed = ct.get_trail_status(Name="noted")
        assert failed["LatestNotificationError"] == "NotFound"
        assert failed["LatestNotificationAttemptSucceeded"] == ""
    finally:
        server.stop()


def test_an_encrypted_topic_needs_a_key_cloudtrail_may_use(subscriber):
    """A trail's topic with `KmsMasterKeyId`: CloudTrail asks KMS for the data key as itself,
    so the key policy must let `cloudtrail.amazonaws.com` use it (CloudTrail User Guide,
    SNS topic policy and encryption); otherwise the notification is refused
    (`LatestNotificationError`), as on AWS. Allowed, it is sealed and delivered."""
    endpoint, received = subscriber
    server = Cairn(cairn_binary(), ["--delivery-interval", "86400"])
    try:
        sns, s3, ct, kms = (server.client(s) for s in ("sns", "s3", "cloudtrail", "kms"))
        key = kms.create_key()["KeyMetadata"]["Arn"]
        arn = sns.create_topic(Name="sealed-notes", Attributes={"KmsMasterKeyId": key})["TopicArn"]
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=topic_policy(arn))
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint)
        kind, confirmation = received.get(timeout=10)
        urllib.request.urlopen(confirmation["SubscribeURL"]).read()
        s3.create_bucket(Bucket="sealed-notes-bkt")
        s3.put_bucket_policy(Bucket="sealed-notes-bkt", Policy=cloudtrail_policy("sealed-notes-bkt"))
        ct.create_trail(Name="sealed-noted", S3BucketName="sealed-notes-bkt", SnsTopicName=arn)
        ct.start_logging(Name="sealed-noted")
        ct.describe_trails()
        server.flush()
        assert ct.get_trail_status(Name="sealed-noted")["LatestNotificationError"] == "KMSAccessDenied"
        denied = [r for r in server.records("Management") if r["eventName"] == "GenerateDataKey"
                  and r["userIdentity"].get("invokedBy") == "cloudtrail.amazonaws.com"]
        assert denied and denied[-1]["errorCode"] == "AccessDenied"
        policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
        policy["Statement"].append({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                    "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"})
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
        ct.describe_trails()
        server.flush()
        kind, note = received.get(timeout=10)
        assert kind == "Notification" and json.loads(note["Message"])["s3Bucket"] == "sealed-notes-bkt"
        assert "LatestNotificationError" not in ct.get_trail_status(Name="sealed-noted")
    finally:
        server.stop()
