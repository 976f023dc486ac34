"""SNS fixes from an outside tester: `FifoTopic=false` asks for an ordinary standard topic
(it was refused as an unknown attribute, in CreateTopic and in CloudFormation); a binary
message attribute counts its bytes toward the 256 KiB limit (its base64 text was counted),
and each type takes its own value field."""

import json
import time

import pytest
from botocore.exceptions import ClientError


def test_fifo_topic_false_is_a_standard_topic(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="spelled-out", Attributes={"FifoTopic": "false"})["TopicArn"]
    assert "FifoTopic" not in sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    # The same call again is the same topic.
    assert sns.create_topic(Name="spelled-out", Attributes={"FifoTopic": "false"})["TopicArn"] == arn
    with pytest.raises(ClientError) as e:
        sns.create_topic(Name="wants-fifo", Attributes={"FifoTopic": "true"})
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="std-explicit", TemplateBody=json.dumps({"Resources": {"T": {
        "Type": "AWS::SNS::Topic", "Properties": {"TopicName": "cfn-std-explicit", "FifoTopic": False}}}}))
    for _ in range(600):
        status = cfn.describe_stacks(StackName="std-explicit")["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.05)
    assert status == "CREATE_COMPLETE"


def test_binary_attributes_count_bytes_and_take_their_own_field(cairn):
    sns = cairn.client("sns")
    arn = sns.create_topic(Name="binary-attrs")["TopicArn"]
    blob = bytes(200_000)
    sns.publish(TopicArn=arn, Message="m", MessageAttributes={
        "a": {"DataType": "Binary", "BinaryValue": blob}})
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn, Message="m", MessageAttributes={
            "a": {"DataType": "Binary", "StringValue": "not base64!"}})
    assert e.value.response["Error"]["Code"] == "ParameterValueInvalid"
