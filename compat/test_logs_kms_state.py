"""A log group's KMS key must stay usable for its events to be written or read (logs7 #1):
on AWS the group's data is encrypted with the key, and "CloudWatch Logs will need
permissions for the key whenever that data is accessed" (AssociateKmsKey). Disabling the
key, scheduling its deletion, or taking `logs.<region>.amazonaws.com` out of its policy
refuses PutLogEvents, GetLogEvents, FilterLogEvents and StartQuery with AssociateKmsKey's
AccessDeniedException; re-enabling the key brings the events back, nothing lost."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import err, logs_key_policy


def calls(logs, group):
    now = int(time.time() * 1000)
    return {
        "PutLogEvents": lambda: logs.put_log_events(
            logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now, "message": "later"}]),
        "GetLogEvents": lambda: logs.get_log_events(logGroupName=group, logStreamName="s"),
        "FilterLogEvents": lambda: logs.filter_log_events(logGroupName=group),
        "StartQuery": lambda: logs.start_query(
            logGroupName=group, startTime=0, endTime=now // 1000 + 60, queryString="fields @message"),
    }


def assert_refused(logs, group):
    for name, call in calls(logs, group).items():
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == ("AccessDeniedException", 400), name
        assert "The specified KMS key does not exist or is not allowed to be used with Arn" in \
            e.value.response["Error"]["Message"], name


def messages(logs, group):
    return [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName="s",
                                                       startFromHead=True)["events"]]


def test_a_disabled_deleted_or_revoked_key_cuts_off_the_groups_events(cairn):
    logs, kms = cairn.client("logs"), cairn.client("kms")
    key = kms.create_key(Policy=logs_key_policy())["KeyMetadata"]["Arn"]
    group = "kms-state-group"
    logs.create_log_group(logGroupName=group, kmsKeyId=key)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "secret1"}])
    assert messages(logs, group) == ["secret1"]

    kms.disable_key(KeyId=key)
    assert_refused(logs, group)
    kms.enable_key(KeyId=key)
    assert messages(logs, group) == ["secret1"], "nothing lost while the key was disabled"

    # The policy no longer lets CloudWatch Logs use the key.
    root_only = json.loads(logs_key_policy())
    root_only["Statement"] = [s for s in root_only["Statement"]
                              if "Service" not in json.dumps(s.get("Principal", {}))]
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(root_only))
    assert_refused(logs, group)
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=logs_key_policy())

    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert_refused(logs, group)
    kms.cancel_key_deletion(KeyId=key)
    kms.enable_key(KeyId=key)
    for call in calls(logs, group).values():
        call()
    assert messages(logs, group) == ["secret1", "later"]


def test_a_group_without_a_key_is_not_affected(cairn):
    logs = cairn.client("logs")
    logs.create_log_group(logGroupName="kms-state-plain")
    logs.create_log_stream(logGroupName="kms-state-plain", logStreamName="s")
    for call in calls(logs, "kms-state-plain").values():
        call()
