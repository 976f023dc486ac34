"""CloudWatch Logs beyond the basics, as an outside tester found it against the model and
the user guide: FilterLogEvents pages of at most 1 MB, deletion protection that can be
turned off again, AssociateKmsKey/DisassociateKmsKey by `resourceIdentifier`, and
DescribeLogGroups' filter rules."""

import json
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import logs_key_policy


@pytest.fixture(scope="module")
def logs(cairn):
    return cairn.client("logs")


def raw_logs(cairn):
    """A client whose parameters only the server checks."""
    import boto3
    from conftest import ACCESS_KEY, SECRET
    return boto3.client("logs", endpoint_url=cairn.endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                        config=Config(parameter_validation=False))


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_filter_log_events_pages_hold_at_most_one_megabyte(logs):
    logs.create_log_group(logGroupName="/depth/big")
    logs.create_log_stream(logGroupName="/depth/big", logStreamName="s")
    now = int(time.time() * 1000)
    big = "b" * 400_000
    for k in range(5):
        logs.put_log_events(logGroupName="/depth/big", logStreamName="s",
                            logEvents=[{"timestamp": now + k, "message": f"{k}{big}"}])
    pages, token = [], None
    while True:
        args = {"nextToken": token} if token else {}
        page = logs.filter_log_events(logGroupName="/depth/big", **args)
        pages.append([e["message"][0] for e in page["events"]])
        assert sum(len(e["message"]) + 26 for e in page["events"]) <= 1_048_576
        token = page.get("nextToken")
        if not token:
            break
    assert [m for p in pages for m in p] == ["0", "1", "2", "3", "4"]
    assert len(pages) >= 3


def test_deletion_protection_can_be_turned_off(cairn, logs):
    logs.create_log_group(logGroupName="/depth/protected", deletionProtectionEnabled=True)
    with pytest.raises(ClientError) as e:
        logs.delete_log_group(logGroupName="/depth/protected")
    assert error(e) == ("ValidationException", "Cannot delete log group with deletion "
                        "protection enabled. Disable deletion protection first.")
    # Nor can its events go stream by stream.
    logs.create_log_stream(logGroupName="/depth/protected", logStreamName="kept")
    with pytest.raises(ClientError) as e:
        logs.delete_log_stream(logGroupName="/depth/protected", logStreamName="kept")
    assert error(e)[0] == "ValidationException" and "deletion protection" in error(e)[1]
    assert [s["logStreamName"] for s in logs.describe_log_streams(
        logGroupName="/depth/protected")["logStreams"]] == ["kept"]
    logs.put_log_group_deletion_protection(logGroupIdentifier="/depth/protected",
                                           deletionProtectionEnabled=False)
    group = logs.describe_log_groups(logGroupNamePrefix="/depth/protected")["logGroups"][0]
    assert group["deletionProtectionEnabled"] is False
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/depth/protected"
    logs.put_log_group_deletion_protection(logGroupIdentifier=arn, deletionProtectionEnabled=True)
    with pytest.raises(ClientError):
        logs.delete_log_group(logGroupName="/depth/protected")
    cairn.cli("logs", "put-log-group-deletion-protection", "--log-group-identifier",
              "/depth/protected", "--no-deletion-protection-enabled")
    logs.delete_log_group(logGroupName="/depth/protected")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_log_group_deletion_protection(logGroupIdentifier="/depth/protected",
                                               deletionProtectionEnabled=True)
    recorded = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "PutLogGroupDeletionProtection"}])["Events"]
    assert len(recorded) == 4
    assert {r["ResourceName"] for e in recorded[1:] for r in e["Resources"]} == {"/depth/protected"}


def test_kms_key_by_resource_identifier(cairn, logs):
    kms = cairn.client("kms")
    key = kms.create_key(Policy=logs_key_policy())["KeyMetadata"]["Arn"]
    logs.create_log_group(logGroupName="/depth/kms")
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/depth/kms"
    logs.associate_kms_key(resourceIdentifier=arn, kmsKeyId=key)
    group = logs.describe_log_groups(logGroupNamePrefix="/depth/kms")["logGroups"][0]
    assert group["kmsKeyId"] == key
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.associate_kms_key(resourceIdentifier=arn, logGroupName="/depth/kms", kmsKeyId=key)
    assert "mutually exclusive" in error(e)[1]
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.disassociate_kms_key()
    logs.disassociate_kms_key(resourceIdentifier=arn)
    group = logs.describe_log_groups(logGroupNamePrefix="/depth/kms")["logGroups"][0]
    assert "kmsKeyId" not in group
    with pytest.raises(ClientError) as e:
        logs.associate_kms_key(
            resourceIdentifier="arn:aws:logs:us-east-1:123456789012:query-result:*", kmsKeyId=key)
    assert error(e)[0] == "UnsupportedOperationException"


def test_describe_log_groups_filter_rules(cairn):
    logs = raw_logs(cairn)
    logs.create_log_group(logGroupName="/depth/filters")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.describe_log_groups(logGroupIdentifiers=["/depth/filters"], logGroupNamePrefix="/zzz")
    for bad in ("[*", "a b"):
        with pytest.raises(logs.exceptions.InvalidParameterException) as e:
            logs.describe_log_groups(logGroupNamePattern=bad)
        assert "regular expression pattern" in error(e)[1]
    found = logs.describe_log_groups(logGroupIdentifiers=["/depth/filters"])["logGroups"]
    assert [g["logGroupName"] for g in found] == ["/depth/filters"]


def test_messages_name_the_member_and_the_reason(cairn):
    logs = raw_logs(cairn)
    logs.create_log_group(logGroupName="/depth/messages")
    logs.create_log_stream(logGroupName="/depth/messages", logStreamName="s")
    now = int(time.time() * 1000)
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.put_log_events(logGroupName="/depth/messages", logStreamName="s", logEvents=[
            {"timestamp": now, "message": "a"}, {"timestamp": now, "message": "b"},
            {"timestamp": now, "message": ""}])
    assert "'logEvents.3.member.message'" in error(e)[1]
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.tag_resource(resourceArn="arn:aws:logs:us-east-1:123456789012:log-group:/depth/messages",
                          tags={"aws:x": "v"})
    assert "reserved" in error(e)[1]
    assert json.dumps(logs.list_tags_for_resource(
        resourceArn="arn:aws:logs:us-east-1:123456789012:log-group:/depth/messages")["tags"]) == "{}"


def test_resource_policies_read_as_none(logs):
    """No resource policy can exist (PutResourcePolicy is not carried out): scanners read the
    empty list AWS gives an account without one."""
    assert logs.describe_resource_policies()["resourcePolicies"] == []
    with pytest.raises(ClientError) as e:
        logs.put_resource_policy(policyName="p", policyDocument="{}")
    assert error(e)[0] == "UnsupportedOperationException"


def test_a_bare_name_as_resource_identifier_is_refused_and_authorized_on_the_group(cairn, logs):
    """`resourceIdentifier` takes an ARN; a bare group name is refused, after being
    authorized on that group (a Deny on the group was bypassed when the raw text was the
    resource)."""
    key = cairn.client("kms").create_key(Policy=logs_key_policy())["KeyMetadata"]["Arn"]
    logs.create_log_group(logGroupName="/depth/kms-deny")
    iam = cairn.client("iam")
    iam.create_user(UserName="kms-denied-logs")
    iam.put_user_policy(UserName="kms-denied-logs", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "logs:AssociateKmsKey",
             "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/depth/kms-deny"}]}))
    k = iam.create_access_key(UserName="kms-denied-logs")["AccessKey"]
    denied = cairn.client_with(k["AccessKeyId"], k["SecretAccessKey"], "logs")
    with pytest.raises(ClientError) as e:
        denied.associate_kms_key(resourceIdentifier="/depth/kms-deny", kmsKeyId=key)
    assert error(e)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        logs.associate_kms_key(resourceIdentifier="/depth/kms-deny", kmsKeyId=key)
    assert error(e)[0] == "InvalidParameterException"
    group = logs.describe_log_groups(logGroupNamePrefix="/depth/kms-deny")["logGroups"][0]
    assert "kmsKeyId" not in group


def test_metric_filter_members_cairn_cannot_carry_out_are_refused_not_dropped(logs):
    """logs3: a filter with `fieldSelectionCriteria` was stored without it and counted every
    event; `applyOnTransformedLogs: true` read back false. Now each is refused, and a filter
    without them is stored as before."""
    logs.create_log_group(logGroupName="/depth/sysfields")
    transform = [{"metricName": "M", "metricNamespace": "SYS", "metricValue": "1"}]
    put = dict(logGroupName="/depth/sysfields", filterPattern="", metricTransformations=transform)
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(filterName="sel", fieldSelectionCriteria='@aws.region = "us-west-2"', **put)
    assert error(e)[0] == "UnsupportedOperationException"
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(filterName="dims", emitSystemFieldDimensions=["@aws.region"], **put)
    assert error(e)[0] == "UnsupportedOperationException"
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(filterName="bogus", emitSystemFieldDimensions=["@bogus"], **put)
    assert error(e)[0] == "InvalidParameterException" and "@bogus" in error(e)[1]
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(filterName="tr", applyOnTransformedLogs=True, **put)
    assert error(e)[0] == "InvalidParameterException"
    assert logs.describe_metric_filters(logGroupName="/depth/sysfields")["metricFilters"] == []
    logs.put_metric_filter(filterName="plain", applyOnTransformedLogs=False, **put)
    [stored] = logs.describe_metric_filters(logGroupName="/depth/sysfields")["metricFilters"]
    assert stored["filterName"] == "plain" and stored["applyOnTransformedLogs"] is False


def test_tagging_by_resource_arn_needs_the_group_arn_itself(logs):
    """logs3: the `:*` ARN (DescribeLogGroups' `arn`) and a bare name are `ValidationException`
    "Invalid resourceArn", as AWS answers them (boto/boto3#4104 quotes it)."""
    logs.create_log_group(logGroupName="/depth/tagged")
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/depth/tagged"
    for bad in (arn + ":*", "/depth/tagged", "arn:aws:sns:us-east-1:123456789012:topic"):
        for call in (lambda a: logs.list_tags_for_resource(resourceArn=a),
                     lambda a: logs.tag_resource(resourceArn=a, tags={"k": "v"}),
                     lambda a: logs.untag_resource(resourceArn=a, tagKeys=["k"])):
            with pytest.raises(ClientError) as e:
                call(bad)
            assert error(e) == ("ValidationException", "Invalid resourceArn"), bad
    logs.tag_resource(resourceArn=arn, tags={"k": "v"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"k": "v"}
