"""Log group calls authorized on the resource AWS names (outside tester iamapi6; each failed
before its fix): DeleteLogGroup, PutLogGroupDeletionProtection, the KMS key and the
tag-by-name calls were judged on the bare group ARN, so a Deny written as the CloudWatch Logs
guide asks, `…:log-group:<name>:*`, did not stop DeleteLogGroup of the trail's group (nor
did such an Allow allow it); operations Cairn does not carry out (PutSubscriptionFilter) were
judged on `*`, so a Deny naming the group was answered UnsupportedOperationException."""

import botocore.exceptions
import pytest

from test_recheck31_authz import user as new_user

GROUP_ARN = "arn:aws:logs:*:123456789012:log-group:CloudTrail/*:*"


def user(cairn, name, statements):
    """A CloudWatch Logs client of a new user with `statements` as its policy."""
    return new_user(cairn, name, statements)("logs")


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def test_a_deny_in_the_guides_form_protects_the_trails_group(cairn):
    root = cairn.client("logs")
    root.create_log_group(logGroupName="CloudTrail/audit")
    logs = user(cairn, "lg-deny", [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["logs:DeleteLogGroup", "logs:PutLogGroupDeletionProtection",
                                      "logs:DisassociateKmsKey", "logs:UntagLogGroup",
                                      "logs:PutSubscriptionFilter"],
         "Resource": GROUP_ARN}])
    g = "CloudTrail/audit"
    assert code(lambda: logs.delete_log_group(logGroupName=g)) == "AccessDeniedException"
    assert code(lambda: logs.put_log_group_deletion_protection(
        logGroupIdentifier=g, deletionProtectionEnabled=False)) == "AccessDeniedException"
    assert code(lambda: logs.disassociate_kms_key(logGroupName=g)) == "AccessDeniedException"
    assert code(lambda: logs.untag_log_group(logGroupName=g, tags=["a"])) == "AccessDeniedException"
    assert code(lambda: logs.put_subscription_filter(
        logGroupName=g, filterName="x", filterPattern="",
        destinationArn="arn:aws:logs:us-east-1:999999999999:destination:exfil")) == "AccessDeniedException"
    assert [x["logGroupName"] for x in root.describe_log_groups(logGroupNamePrefix="CloudTrail/")[
        "logGroups"]] == [g]
    # Another group is the user's to delete.
    root.create_log_group(logGroupName="scratch")
    logs.delete_log_group(logGroupName="scratch")


def test_an_allow_in_the_guides_form_allows_deleting(cairn):
    cairn.client("logs").create_log_group(logGroupName="CloudTrail/old")
    logs = user(cairn, "lg-allow", [
        {"Effect": "Allow", "Action": ["logs:DeleteLogGroup", "logs:PutSubscriptionFilter"],
         "Resource": GROUP_ARN}])
    # Allowed, then refused as an operation Cairn does not carry out.
    assert code(lambda: logs.put_subscription_filter(
        logGroupName="CloudTrail/old", filterName="x", filterPattern="",
        destinationArn="arn:aws:logs:us-east-1:999999999999:destination:d")) == \
        "UnsupportedOperationException"
    logs.delete_log_group(logGroupName="CloudTrail/old")


def test_start_query_is_judged_on_the_bare_group_arn_too(cairn):
    """recheck31b: a Deny on the bare group ARN stopped every group call but StartQuery."""
    cairn.client("logs").create_log_group(logGroupName="bare-denied")
    logs = user(cairn, "lg-bare", [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "logs:*",
         "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:bare-denied"}])
    assert code(lambda: logs.start_query(
        logGroupName="bare-denied", startTime=0, endTime=10,
        queryString="fields @message")) == "AccessDeniedException"
    assert code(lambda: logs.filter_log_events(logGroupName="bare-denied")) == "AccessDeniedException"


def test_a_resource_tag_deny_holds_for_group_calls(cairn):
    """The group's tags are read for calls authorized on its streams' form too (before, a
    Deny on `aws:ResourceTag` never applied to FilterLogEvents or StartQuery)."""
    cairn.client("logs").create_log_group(logGroupName="tagged-prod", tags={"env": "prod"})
    logs = user(cairn, "lg-tagdeny", [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["logs:FilterLogEvents", "logs:StartQuery",
                                      "logs:DeleteLogGroup"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/env": "prod"}}}])
    assert code(lambda: logs.filter_log_events(logGroupName="tagged-prod")) == "AccessDeniedException"
    assert code(lambda: logs.start_query(logGroupName="tagged-prod", startTime=0, endTime=10,
                                         queryString="fields @message")) == "AccessDeniedException"
    assert code(lambda: logs.delete_log_group(logGroupName="tagged-prod")) == "AccessDeniedException"
