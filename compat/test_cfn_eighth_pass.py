"""CloudFormation found by outside tester cfn8 (each failed before its fix):
- a `DeletionPolicy: Retain` added by an update that changed nothing else was kept only in
  memory: the update said UPDATE_COMPLETE, then DeleteStack (or an update removing the
  resource, AWS's "retain, then remove" procedure) deleted the resource; a `Metadata`-only
  change was lost the same way."""

import json
import time

import pytest

from conftest import settled_stack

BUCKET = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n"
RETAINED = BUCKET + "    DeletionPolicy: Retain\n"


def physical(cfn, stack, logical):
    return cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical)[
        "StackResourceDetail"]["PhysicalResourceId"]


@pytest.mark.parametrize("how", ["update", "change-set"])
def test_retain_added_by_an_update_keeps_the_resource(cairn, how):
    cfn, s3 = cairn.client("cloudformation"), cairn.client("s3")
    name = f"dp-{how}"
    stack_id = cfn.create_stack(StackName=name, TemplateBody=BUCKET)["StackId"]
    assert settled_stack(cfn, name) == "CREATE_COMPLETE"
    bucket = physical(cfn, name, "B")
    if how == "update":
        cfn.update_stack(StackName=name, TemplateBody=RETAINED)
    else:
        cfn.create_change_set(StackName=name, ChangeSetName="retain", TemplateBody=RETAINED)
        cfn.get_waiter("change_set_create_complete").wait(StackName=name, ChangeSetName="retain",
                                                          WaiterConfig={"Delay": 1})
        cfn.execute_change_set(StackName=name, ChangeSetName="retain")
    assert settled_stack(cfn, name) == "UPDATE_COMPLETE"
    cfn.delete_stack(StackName=name)
    assert settled_stack(cfn, stack_id) == "DELETE_COMPLETE"
    statuses = {(e["LogicalResourceId"], e["ResourceStatus"])
                for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]}
    assert ("B", "DELETE_SKIPPED") in statuses, statuses
    s3.head_bucket(Bucket=bucket)


def test_retain_then_remove_keeps_the_log_group_and_its_events(cairn):
    cfn, logs = cairn.client("cloudformation"), cairn.client("logs")
    topic = "  T:\n    Type: AWS::SNS::Topic\n"
    group = "  L:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: cfn8-keep-me\n"
    cfn.create_stack(StackName="rm", TemplateBody="Resources:\n" + group + topic)
    assert settled_stack(cfn, "rm") == "CREATE_COMPLETE"
    logs.create_log_stream(logGroupName="cfn8-keep-me", logStreamName="s")
    logs.put_log_events(logGroupName="cfn8-keep-me", logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "important"}])
    cfn.update_stack(StackName="rm", TemplateBody="Resources:\n" + group + "    DeletionPolicy: Retain\n" + topic)
    assert settled_stack(cfn, "rm") == "UPDATE_COMPLETE"
    cfn.update_stack(StackName="rm", TemplateBody="Resources:\n" + topic)
    assert settled_stack(cfn, "rm") == "UPDATE_COMPLETE"
    assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="cfn8-keep")["logGroups"]] \
        == ["cfn8-keep-me"]
    events = logs.get_log_events(logGroupName="cfn8-keep-me", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["important"]


def test_a_metadata_only_update_is_kept(cairn):
    cfn = cairn.client("cloudformation")
    template = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata: {{v: {}}}\n"
    cfn.create_stack(StackName="md", TemplateBody=template.format(1))
    assert settled_stack(cfn, "md") == "CREATE_COMPLETE"
    cfn.update_stack(StackName="md", TemplateBody=template.format(2))
    assert settled_stack(cfn, "md") == "UPDATE_COMPLETE"
    detail = cfn.describe_stack_resource(StackName="md", LogicalResourceId="T")["StackResourceDetail"]
    assert json.loads(detail["Metadata"]) == {"v": 2}


KEY = "Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties: {{Description: k{extra}}}\n"


def test_a_kms_key_is_never_replaced_for_an_immutable_property(cairn):
    """AWS::KMS::Key: changing KeySpec, KeyUsage, Origin or MultiRegion "fails, regardless of
    the value of the UpdateReplacePolicy attribute". Cairn replaced the key and scheduled the
    old one, with everything encrypted under it, for deletion; spelling out the defaults was
    enough."""
    import botocore.exceptions
    cfn, kms = cairn.client("cloudformation"), cairn.client("kms")
    cfn.create_stack(StackName="kk", TemplateBody=KEY.format(extra=""))
    assert settled_stack(cfn, "kk") == "CREATE_COMPLETE"
    key = physical(cfn, "kk", "K")
    blob = kms.encrypt(KeyId=key, Plaintext=b"hello")["CiphertextBlob"]
    defaults = ", KeyUsage: ENCRYPT_DECRYPT, KeySpec: SYMMETRIC_DEFAULT, MultiRegion: false"
    try:
        cfn.update_stack(StackName="kk", TemplateBody=KEY.format(extra=defaults))
        assert settled_stack(cfn, "kk") == "UPDATE_COMPLETE"
    except botocore.exceptions.ClientError as e:
        assert "No updates are to be performed" in e.response["Error"]["Message"]
    assert physical(cfn, "kk", "K") == key
    cfn.update_stack(StackName="kk", TemplateBody=KEY.format(extra=", MultiRegion: true"))
    assert settled_stack(cfn, "kk") == "UPDATE_ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(StackName="kk")["StackEvents"]
               if e["LogicalResourceId"] == "K" and e["ResourceStatus"] == "UPDATE_FAILED"]
    assert reasons and "MultiRegion" in reasons[0], reasons
    assert physical(cfn, "kk", "K") == key
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"hello"
    assert len([k for k in kms.list_keys()["Keys"] if k["KeyId"] != key
                and kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"]) == 0


def test_stack_policies_by_url_are_read_and_applied(cairn):
    """StackPolicyURL (CreateStack, UpdateStack, SetStackPolicy) and
    StackPolicyDuringUpdateURL were accepted and dropped: the stack had no policy while its
    record named one."""
    import botocore.exceptions
    cfn, s3 = cairn.client("cloudformation"), cairn.client("s3")
    s3.create_bucket(Bucket="cfn8-pol")
    deny = {"Statement": [{"Effect": "Deny", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}
    allow = {"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}
    s3.put_object(Bucket="cfn8-pol", Key="deny.json", Body=json.dumps(deny).encode())
    s3.put_object(Bucket="cfn8-pol", Key="allow.json", Body=json.dumps(allow).encode())
    url = f"{cairn.endpoint}/cfn8-pol/"
    template = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {{DisplayName: {}}}\n"
    cfn.create_stack(StackName="spu", TemplateBody=template.format("a"), StackPolicyURL=url + "deny.json")
    assert settled_stack(cfn, "spu") == "CREATE_COMPLETE"
    assert json.loads(cfn.get_stack_policy(StackName="spu")["StackPolicyBody"]) == deny
    cfn.update_stack(StackName="spu", TemplateBody=template.format("b"))
    assert settled_stack(cfn, "spu") == "UPDATE_ROLLBACK_COMPLETE"
    # The policy during one update, by URL, lets that update through.
    cfn.update_stack(StackName="spu", TemplateBody=template.format("c"),
                     StackPolicyDuringUpdateURL=url + "allow.json")
    assert settled_stack(cfn, "spu") == "UPDATE_COMPLETE"
    cfn.set_stack_policy(StackName="spu", StackPolicyURL=url + "allow.json")
    assert json.loads(cfn.get_stack_policy(StackName="spu")["StackPolicyBody"]) == allow
    for call in (
        lambda: cfn.create_stack(StackName="spu2", TemplateBody=template.format("a"),
                                 StackPolicyURL=url + "missing.json"),
        lambda: cfn.set_stack_policy(StackName="spu", StackPolicyURL=url + "deny.json",
                                     StackPolicyBody=json.dumps(deny)),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "ValidationError", e.value.response
    assert json.loads(cfn.get_stack_policy(StackName="spu")["StackPolicyBody"]) == allow


def test_a_metric_filter_needs_its_pattern(cairn):
    """FilterPattern is required: left out, it was made as "" (which matches every event)."""
    cfn, logs = cairn.client("cloudformation"), cairn.client("logs")
    logs.create_log_group(logGroupName="cfn8-mf")
    template = ("Resources:\n  F:\n    Type: AWS::Logs::MetricFilter\n    Properties:\n"
                "      LogGroupName: cfn8-mf\n"
                "      MetricTransformations: [{MetricName: m, MetricNamespace: n, MetricValue: '1'}]\n")
    cfn.create_stack(StackName="mf", TemplateBody=template)
    assert settled_stack(cfn, "mf") == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(StackName="mf")["StackEvents"]
               if e["LogicalResourceId"] == "F" and e["ResourceStatus"] == "CREATE_FAILED"]
    assert reasons and "FilterPattern" in reasons[0], reasons
    assert logs.describe_metric_filters(logGroupName="cfn8-mf")["metricFilters"] == []


def test_retain_except_on_create_deletes_what_a_rolled_back_update_made(cairn):
    """RetainExceptOnCreate acted as Retain when the update that made the resource rolled
    back: the topic was orphaned and the corrected deploy failed on it."""
    cfn, sns = cairn.client("cloudformation"), cairn.client("sns")
    cfn.create_stack(StackName="ur", TemplateBody="Resources:\n  A: {Type: AWS::SNS::Topic}\n")
    assert settled_stack(cfn, "ur") == "CREATE_COMPLETE"
    template = ("Resources:\n  A: {{Type: AWS::SNS::Topic}}\n"
                "  R2:\n    Type: AWS::SNS::Topic\n    DeletionPolicy: RetainExceptOnCreate\n"
                "    Properties: {{TopicName: ur-roc}}\n"
                "  Bad:\n    Type: AWS::Logs::LogGroup\n    DependsOn: [R2]\n"
                "    Properties: {{RetentionInDays: {}}}\n")
    cfn.update_stack(StackName="ur", TemplateBody=template.format(8))
    assert settled_stack(cfn, "ur") == "UPDATE_ROLLBACK_COMPLETE"
    assert not [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":ur-roc")]
    cfn.update_stack(StackName="ur", TemplateBody=template.format(7))
    assert settled_stack(cfn, "ur") == "UPDATE_COMPLETE"
