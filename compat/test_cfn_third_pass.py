"""CloudFormation, third outside pass (cfn3):
- an AWS::SNS::Topic's inline `Subscription` list is updated in place: entries added are
  subscribed, entries removed unsubscribed, so changing the alert address works and a
  rollback of an update that added one completes (it was stuck in UPDATE_ROLLBACK_FAILED);
- DeleteStack of a key already pending deletion treats it as gone, as AWS's key handler does
  (it was DELETE_FAILED with KMSInvalidStateException);
- an IAM user's or group's `Path` is updated in place, keeping the user and its keys (it
  replaced both)."""

import json
import time
import urllib.request

import pytest

from conftest import http_subscriber, settled_stack

TOPIC = """
Parameters:
  Email: {Type: String}
  Fail: {Type: String, Default: "no"}
Conditions:
  Failing: !Equals [!Ref Fail, "yes"]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      Subscription: [{Endpoint: !Ref Email, Protocol: http}]
  Broken:
    Type: AWS::SNS::Subscription
    Condition: Failing
    Properties: {TopicArn: !Ref Topic, Protocol: sqs, Endpoint: "arn:aws:sqs:us-east-1:123456789012:q"}
"""


@pytest.fixture()
def two_subscribers():
    with http_subscriber() as a, http_subscriber() as b:
        yield a, b


def confirm(received):
    kind, body = received.get(timeout=10)
    assert kind == "SubscriptionConfirmation"
    urllib.request.urlopen(body["SubscribeURL"]).read()


def endpoints(sns, topic):
    return sorted(s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"])


def params(email, fail="no"):
    return [{"ParameterKey": "Email", "ParameterValue": email},
            {"ParameterKey": "Fail", "ParameterValue": fail}]


def test_a_topics_subscription_list_is_updated_in_place(cairn, two_subscribers):
    (old, old_received), (new, new_received) = two_subscribers
    cfn, sns = cairn.client("cloudformation"), cairn.client("sns")
    cfn.create_stack(StackName="alerts", TemplateBody=TOPIC, Parameters=params(old))
    assert settled_stack(cfn, "alerts") == "CREATE_COMPLETE"
    confirm(old_received)
    topic = cfn.describe_stack_resource(StackName="alerts", LogicalResourceId="Topic")[
        "StackResourceDetail"]["PhysicalResourceId"]
    # The alert address changes: the new endpoint is subscribed, the old one unsubscribed.
    cfn.update_stack(StackName="alerts", TemplateBody=TOPIC, Parameters=params(new))
    assert settled_stack(cfn, "alerts") == "UPDATE_COMPLETE"
    confirm(new_received)
    assert endpoints(sns, topic) == [new]
    # An update that changes it back but fails elsewhere rolls back to the list it had: the
    # new endpoint, unsubscribed by the update, is subscribed again (to be confirmed again,
    # as on AWS); the old one the update subscribed awaits confirmation, which SNS cannot
    # unsubscribe, and never receives a notification.
    cfn.update_stack(StackName="alerts", TemplateBody=TOPIC, Parameters=params(old, fail="yes"))
    assert settled_stack(cfn, "alerts") == "UPDATE_ROLLBACK_COMPLETE"
    assert new_received.get(timeout=10)[0] == "UnsubscribeConfirmation"
    confirm(new_received)
    assert confirmed(sns, topic) == [new]


def confirmed(sns, topic):
    return sorted(s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
                  if s["SubscriptionArn"].startswith("arn:"))


def test_deleting_a_stack_whose_key_is_pending_deletion(cairn):
    cfn, kms = cairn.client("cloudformation"), cairn.client("kms")
    stack = cfn.create_stack(StackName="keyed", TemplateBody=json.dumps(
        {"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {}}}}))["StackId"]
    assert settled_stack(cfn, "keyed") == "CREATE_COMPLETE"
    key = cfn.describe_stack_resource(StackName="keyed", LogicalResourceId="K")[
        "StackResourceDetail"]["PhysicalResourceId"]
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    cfn.delete_stack(StackName="keyed")
    assert settled_stack(cfn, stack) == "DELETE_COMPLETE"
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingDeletion"


def test_an_iam_path_change_keeps_the_user_and_its_key(cairn):
    cfn, iam = cairn.client("cloudformation"), cairn.client("iam")
    template = """
Parameters: {P: {Type: String}}
Resources:
  U: {Type: AWS::IAM::User, Properties: {Path: !Ref P}}
  G: {Type: AWS::IAM::Group, Properties: {Path: !Ref P}}
  AK: {Type: AWS::IAM::AccessKey, Properties: {UserName: !Ref U}}
Outputs:
  UserArn: {Value: !GetAtt U.Arn}
  GroupArn: {Value: !GetAtt G.Arn}
"""
    cfn.create_stack(StackName="paths", TemplateBody=template, Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": "P", "ParameterValue": "/a/"}])
    assert settled_stack(cfn, "paths") == "CREATE_COMPLETE"
    before = {r["LogicalResourceId"]: r["PhysicalResourceId"]
              for r in cfn.describe_stack_resources(StackName="paths")["StackResources"]}
    cfn.create_change_set(StackName="paths", ChangeSetName="move", UsePreviousTemplate=True,
                          Capabilities=["CAPABILITY_IAM"],
                          Parameters=[{"ParameterKey": "P", "ParameterValue": "/b/"}])
    for _ in range(600):
        if cfn.describe_change_set(StackName="paths", ChangeSetName="move")["Status"] != "CREATE_PENDING" \
                and cfn.describe_change_set(StackName="paths", ChangeSetName="move")["Status"] != "CREATE_IN_PROGRESS":
            break
        time.sleep(0.05)
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"].get("Replacement")
               for c in cfn.describe_change_set(StackName="paths", ChangeSetName="move")["Changes"]}
    assert changes["U"] == "False" and changes["G"] == "False", changes
    cfn.execute_change_set(StackName="paths", ChangeSetName="move")
    assert settled_stack(cfn, "paths") == "UPDATE_COMPLETE"
    after = {r["LogicalResourceId"]: r["PhysicalResourceId"]
             for r in cfn.describe_stack_resources(StackName="paths")["StackResources"]}
    assert after == before
    assert iam.get_user(UserName=before["U"])["User"]["Path"] == "/b/"
    assert iam.get_group(GroupName=before["G"])["Group"]["Path"] == "/b/"
    keys = iam.list_access_keys(UserName=before["U"])["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [before["AK"]]
    # The ARNs carry the new path, in GetAtt and so in the outputs.
    outputs = {o["OutputKey"]: o["OutputValue"]
               for o in cfn.describe_stacks(StackName="paths")["Stacks"][0]["Outputs"]}
    assert outputs["UserArn"] == f"arn:aws:iam::123456789012:user/b/{before['U']}", outputs
    assert outputs["GroupArn"] == f"arn:aws:iam::123456789012:group/b/{before['G']}", outputs


def test_stack_events_reach_the_notification_topics(cairn):
    """CreateStack's `NotificationARNs`: every stack event is published to the topic in
    CloudFormation's text form (outside tester cfn3: they were kept and shown, and nothing
    was ever sent). A topic whose policy denies CloudFormation gets nothing."""
    cfn, sns = cairn.client("cloudformation"), cairn.client("sns")
    with http_subscriber() as (endpoint, received):
        topic = sns.create_topic(Name="stack-events")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
        confirm(received)
        denied = sns.create_topic(Name="stack-events-denied")["TopicArn"]
        policy = json.loads(sns.get_topic_attributes(TopicArn=denied)["Attributes"]["Policy"])
        policy["Statement"].append({"Effect": "Deny", "Principal": {"Service": "cloudformation.amazonaws.com"},
                                    "Action": "SNS:Publish", "Resource": denied})
        sns.set_topic_attributes(TopicArn=denied, AttributeName="Policy", AttributeValue=json.dumps(policy))
        sns.subscribe(TopicArn=denied, Protocol="http", Endpoint=endpoint + "denied")
        confirm(received)
        stack = cfn.create_stack(StackName="notified", NotificationARNs=[topic, denied],
                                 TemplateBody=json.dumps({"Resources": {
                                     "T": {"Type": "AWS::SNS::Topic", "Properties": {}}}}))["StackId"]
        assert settled_stack(cfn, "notified") == "CREATE_COMPLETE"
        seen = []
        while not any("ResourceStatus='CREATE_COMPLETE'" in m and "LogicalResourceId='notified'" in m
                      for m in seen):
            kind, note = received.get(timeout=30)
            assert kind == "Notification" and note["TopicArn"] == topic, note
            assert note["Subject"] == "AWS CloudFormation Notification"
            seen.append(note["Message"])
        first = seen[0]
        assert first.startswith(f"StackId='{stack}'\nTimestamp='"), first
        assert "ResourceStatus='CREATE_IN_PROGRESS'\n" in first
        assert "ResourceType='AWS::CloudFormation::Stack'\n" in first
        assert any("LogicalResourceId='T'" in m for m in seen)


def test_an_encrypted_alarm_topic_is_made_with_its_key(cairn):
    """`AWS::SNS::Topic` `KmsMasterKeyId` (the encrypted alarm topic of SNS.1 and CIS
    templates) is set on the topic, and changed in place; it was refused as a property Cairn
    could not honour (recheck)."""
    cfn, sns = cairn.client("cloudformation"), cairn.client("sns")
    template = """
Parameters: {Key: {Type: String}}
Resources:
  K: {Type: AWS::KMS::Key, Properties: {}}
  T:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: !If [UseStackKey, !Ref K, !Ref Key]
Conditions:
  UseStackKey: !Equals [!Ref Key, ""]
Outputs:
  Topic: {Value: !Ref T}
  KeyId: {Value: !Ref K}
"""
    cfn.create_stack(StackName="sealed-alarms", TemplateBody=template,
                     Parameters=[{"ParameterKey": "Key", "ParameterValue": ""}])
    assert settled_stack(cfn, "sealed-alarms") == "CREATE_COMPLETE"
    out = {o["OutputKey"]: o["OutputValue"]
           for o in cfn.describe_stacks(StackName="sealed-alarms")["Stacks"][0]["Outputs"]}
    attrs = sns.get_topic_attributes(TopicArn=out["Topic"])["Attributes"]
    assert attrs["KmsMasterKeyId"] == out["KeyId"], attrs
    sns.publish(TopicArn=out["Topic"], Message="sealed")
    cfn.update_stack(StackName="sealed-alarms", TemplateBody=template,
                     Parameters=[{"ParameterKey": "Key", "ParameterValue": "alias/aws/sns"}])
    assert settled_stack(cfn, "sealed-alarms") == "UPDATE_COMPLETE"
    assert sns.get_topic_attributes(TopicArn=out["Topic"])["Attributes"]["KmsMasterKeyId"] == "alias/aws/sns"
