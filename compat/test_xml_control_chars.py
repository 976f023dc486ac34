"""Control characters a caller sends (in a name, a stored attribute, a template) never make a
Query-protocol response unparseable: XML 1.0 cannot carry them, so they come back as U+FFFD.
Before, boto3 raised ResponseParserError, and one stored value broke ListStacks for everyone."""
import json

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET

# The SDK's own checks would refuse these names before they reach the server.
NO_VALIDATION = botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1})


def client(cairn, service):
    return boto3.client(service, endpoint_url=cairn.endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                        config=NO_VALIDATION)


def test_an_echoed_name_is_replaced_not_sent_raw(cairn):
    iam = client(cairn, "iam")
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="a\x01b")
    assert e.value.response["Error"]["Code"] in ("NoSuchEntity", "ValidationError")


def test_stored_values_stay_readable(cairn):
    sns = client(cairn, "sns")
    arn = sns.create_topic(Name="ctl-topic")["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="a\x01b")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "a\ufffdb"

    cfn = client(cairn, "cloudformation")
    template = {"Description": "d\u0001x", "Resources": {
        "G": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/ctl/group"}}}}
    cfn.create_stack(StackName="ctl-stack", TemplateBody=json.dumps(template))
    stacks = cfn.list_stacks()["StackSummaries"]
    assert any(s["StackName"] == "ctl-stack" for s in stacks)
