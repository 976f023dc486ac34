"""SNS, fourth outside pass (sns4): a topic policy grants only the actions SNS lets a topic
policy grant (tagging and the subscription calls stay the identity's to allow); the records of
SNS's TagResource, UntagResource and ListTagsForResource name the topic (CloudWatch's calls
of the same names spell the member ResourceARN, and the recorder judged SNS's by theirs)."""

import json

import botocore.exceptions
import pytest

from conftest import user_with

TOPIC = "arn:aws:sns:us-east-1:123456789012:wide"


def test_a_topic_policy_grants_only_topic_policy_actions(cairn):
    sns = cairn.client("sns")
    sns.create_topic(Name="wide")
    sns.set_topic_attributes(TopicArn=TOPIC, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Sid": "all", "Effect": "Allow", "Principal": "*",
                                                "Action": "sns:*", "Resource": TOPIC}]}))
    sns.tag_resource(ResourceArn=TOPIC, Tags=[{"Key": "team", "Value": "sec"}])
    sub = sns.subscribe(TopicArn=TOPIC, Protocol="email", Endpoint="owner@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    nobody = user_with(cairn, "nop", [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets",
                                        "Resource": "*"}])("sns")
    # What the topic policy may grant, it grants.
    nobody.publish(TopicArn=TOPIC, Message="hello")
    nobody.get_topic_attributes(TopicArn=TOPIC)
    nobody.list_tags_for_resource(ResourceArn=TOPIC)
    # The rest needs the identity's own permission.
    for call in [
        lambda: nobody.tag_resource(ResourceArn=TOPIC, Tags=[{"Key": "team", "Value": "pwned"}]),
        lambda: nobody.untag_resource(ResourceArn=TOPIC, TagKeys=["team"]),
        lambda: nobody.get_subscription_attributes(SubscriptionArn=sub),
        lambda: nobody.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue='{"never":["match"]}'),
        lambda: nobody.unsubscribe(SubscriptionArn=sub),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "AuthorizationError", e.value.response
    assert sns.list_tags_for_resource(ResourceArn=TOPIC)["Tags"] == [{"Key": "team", "Value": "sec"}]
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"].get("FilterPolicy") is None


def test_tag_records_name_the_topic(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="tg")["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "2"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["z"])
    sns.list_tags_for_resource(ResourceArn=arn)
    missing = arn + "-absent"
    with pytest.raises(botocore.exceptions.ClientError):
        sns.tag_resource(ResourceArn=missing, Tags=[{"Key": "a", "Value": "2"}])
    records = [r for r in cairn.records("Management") if r["eventSource"] == "sns.amazonaws.com"
               and r["eventName"] in ("TagResource", "UntagResource", "ListTagsForResource")]
    named = [(r["eventName"], r["requestParameters"]["resourceArn"]) for r in records
             if ":tg" in r["requestParameters"]["resourceArn"]]
    assert named == [("TagResource", arn), ("UntagResource", arn), ("ListTagsForResource", arn),
                     ("TagResource", missing)], records


def test_a_key_named_twice_in_one_tagging_is_refused(cairn):
    """sns4: the last value won; SNS answers InvalidParameter "Duplicated keys are not allowed."
    (AWS's answer as LocalStack recorded it against AWS, localstack PR #6571)."""
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="dup")["TopicArn"]
    twice = [{"Key": "z", "Value": "1"}, {"Key": "z", "Value": "2"}]
    for call in [lambda: sns.tag_resource(ResourceArn=arn, Tags=twice),
                 lambda: sns.create_topic(Name="dup2", Tags=twice)]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "InvalidParameter"
        assert e.value.response["Error"]["Message"] == \
            "Invalid parameter: Duplicated keys are not allowed."
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
    assert all(not t["TopicArn"].endswith(":dup2") for t in sns.list_topics()["Topics"])
