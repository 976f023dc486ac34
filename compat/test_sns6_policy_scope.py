"""Topic policies and tags as SNS checks them. A topic policy grants only the actions SNS lets
one grant on a topic (sns6: any SNS
operation, or another service's action, was taken; AddPermission refused `Receive`, which
SNS takes): others are `InvalidParameter` "Policy statement action out of service scope!",
as AWS answers them (aws/aws-cli#3143, hashicorp/terraform#12740)."""

import json

import botocore.exceptions
import pytest


def policy(topic, action):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": action, "Resource": topic}]})


def refused(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]


def test_out_of_scope_actions_are_refused(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="scoped")["TopicArn"]
    for action in ["sns:CreateTopic", ["SNS:Publish", "SNS:SetSubscriptionAttributes"], "s3:GetObject"]:
        error = refused(lambda: sns.set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=policy(topic, action)))
        assert error["Code"] == "InvalidParameter", error
        assert "Policy statement action out of service scope!" in error["Message"], error
    error = refused(lambda: sns.create_topic(Name="scoped-2", Attributes={
        "Policy": policy("arn:aws:sns:us-east-1:123456789012:scoped-2", "sns:Unsubscribe")}))
    assert error["Code"] == "InvalidParameter", error
    for action in ["SNS:Publish", ["sns:Get*", "SNS:Subscribe", "SNS:Receive"], "sns:*"]:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy(topic, action))
    error = refused(lambda: sns.add_permission(TopicArn=topic, Label="bad", AWSAccountId=["123456789012"],
                                               ActionName=["SetSubscriptionAttributes"]))
    assert "out of service scope" in error["Message"], error
    sns.add_permission(TopicArn=topic, Label="ok", AWSAccountId=["123456789012"],
                       ActionName=["Subscribe", "ListSubscriptionsByTopic", "Receive"])


def test_a_tag_missing_its_key_or_value_is_refused(cairn):
    """sns6 #7: `Tags.member.1.Value` without a `Key` was dropped (200, nothing tagged), and a
    `Key` without a `Value` stored as "". The model requires both: `ValidationError`."""
    import urllib.parse

    from test_newest_model_members import signed
    topic = cairn.client("sns").create_topic(Name="tags-required")["TopicArn"]
    for given, member in [({"Tags.member.1.Value": "v"}, "tags.1.member.key"),
                          ({"Tags.member.1.Key": "k"}, "tags.1.member.value")]:
        body = urllib.parse.urlencode({"Action": "TagResource", "Version": "2010-03-31",
                                       "ResourceArn": topic, **given})
        resp = signed(cairn, "sns", body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status == 400 and b"<Code>ValidationError</Code>" in resp.data, resp.data
        assert member.encode() in resp.data, resp.data
    assert cairn.client("sns").list_tags_for_resource(ResourceArn=topic)["Tags"] == []
