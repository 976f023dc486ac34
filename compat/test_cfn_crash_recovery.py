"""A CloudFormation operation cut short by a crash (the test hook CAIRN_FAULT_CFN_ABORT_AFTER
aborts the process after N resource operations, the state `kill -9` leaves) resumes without
harm (outside tester upgrade3):
- a create cut short after a template-named resource's create failed ("already exists") was
  taken as the stack's, and the resumed rollback deleted the existing resource (another
  owner's log group with its events; the trail's bucket when empty). Such a resource is now
  retained, and its reason says why;
- a delete cut short was never tried again: the stack said ROLLBACK_COMPLETE over IAM users
  it had not deleted. It is tried again."""

import json
import os
import time
from unittest import mock

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET, Cairn, cairn_binary


def faulty(after):
    with mock.patch.dict(os.environ, CAIRN_FAULT_CFN_ABORT_AFTER=str(after)):
        return Cairn(cairn_binary())


def settled(cfn, name):
    """The stack's status once its resumed operation ends."""
    deadline = time.time() + 120
    while True:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS") or time.time() > deadline:
            return status
        time.sleep(0.1)


def create_and_crash(server, **stack):
    """CreateStack, during which the hook aborts the process (the call may not be answered);
    then a restart without the hook, which resumes the operation."""
    once = boto3.client("cloudformation", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    try:
        once.create_stack(**stack)
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError):
        pass
    server.proc.wait(timeout=120)
    server.restart()


def test_a_template_named_resource_whose_create_was_cut_short_is_retained():
    server = faulty(2)
    try:
        logs = server.client("logs")
        logs.create_log_group(logGroupName="/victim/lg")
        logs.create_log_stream(logGroupName="/victim/lg", logStreamName="s")
        logs.put_log_events(logGroupName="/victim/lg", logStreamName="s",
                            logEvents=[{"timestamp": int(time.time() * 1000), "message": "precious"}])
        create_and_crash(server, StackName="crash-named", TemplateBody=json.dumps({"Resources": {
            "Made": {"Type": "AWS::Logs::LogGroup"},
            "Taken": {"Type": "AWS::Logs::LogGroup", "DependsOn": "Made",
                      "Properties": {"LogGroupName": "/victim/lg"}}}}))
        cfn, logs = server.client("cloudformation"), server.client("logs")
        assert settled(cfn, "crash-named") == "ROLLBACK_COMPLETE"
        events = logs.get_log_events(logGroupName="/victim/lg", logStreamName="s")["events"]
        assert [e["message"] for e in events] == ["precious"]
        resources = {r["LogicalResourceId"]: r for r in
                     cfn.describe_stack_resources(StackName="crash-named")["StackResources"]}
        assert resources["Taken"]["ResourceStatus"] == "DELETE_SKIPPED", resources["Taken"]
        failed = [e for e in cfn.describe_stack_events(StackName="crash-named")["StackEvents"]
                  if e["LogicalResourceId"] == "Taken" and e["ResourceStatus"] == "CREATE_FAILED"]
        assert "retained" in failed[0]["ResourceStatusReason"], failed
        # What the stack did make, under a name of its own, is rolled back.
        groups = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
        assert groups == ["/victim/lg"], groups
    finally:
        server.stop()


@pytest.mark.parametrize("after", [5, 6, 7])
def test_deletes_cut_short_are_tried_again(after):
    server = faulty(after)
    try:
        server.client("logs").create_log_group(logGroupName="/victim/taken")
        users = {f"U{i}": {"Type": "AWS::IAM::User"} for i in range(3)}
        create_and_crash(server, StackName="crash-delete", Capabilities=["CAPABILITY_IAM"],
                         TemplateBody=json.dumps({"Resources": {
                             **users,
                             "Bad": {"Type": "AWS::Logs::LogGroup", "DependsOn": sorted(users),
                                     "Properties": {"LogGroupName": "/victim/taken"}}}}))
        cfn = server.client("cloudformation")
        assert settled(cfn, "crash-delete") == "ROLLBACK_COMPLETE"
        left = [u["UserName"] for u in server.client("iam").list_users()["Users"]]
        assert left == [], left
        statuses = {r["LogicalResourceId"]: r["ResourceStatus"] for r in
                    cfn.describe_stack_resources(StackName="crash-delete")["StackResources"]}
        assert all(s == "DELETE_COMPLETE" for k, s in statuses.items() if k != "Bad"), statuses
    finally:
        server.stop()


def test_a_cut_short_bucket_policy_is_rolled_back():
    """recheck28: a bucket policy's id is its bucket's name, but it names no resource of its
    own (its create overwrites, never fails "already exists"): the rollback deletes it."""
    server = faulty(1)
    try:
        server.client("s3").create_bucket(Bucket="bp-target")
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::bp-target/*"}]}
        create_and_crash(server, StackName="crash-policy", TemplateBody=json.dumps({"Resources": {
            "Open": {"Type": "AWS::S3::BucketPolicy",
                     "Properties": {"Bucket": "bp-target", "PolicyDocument": policy}}}}))
        assert settled(server.client("cloudformation"), "crash-policy") == "ROLLBACK_COMPLETE"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            server.client("s3").get_bucket_policy(Bucket="bp-target")
        assert e.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    finally:
        server.stop()


def test_a_cut_short_create_of_an_unknown_id_fails_the_rollback():
    """recheck28: a resource whose id is known only once made (a KMS key, an access key, an
    inline policy) was marked DELETE_COMPLETE after a crash cut its create short, though the
    stack never deleted what it may have made; the rollback now ends ROLLBACK_FAILED saying
    so, and DeleteStack then lets it go."""
    server = faulty(1)
    try:
        create_and_crash(server, StackName="crash-key", TemplateBody=json.dumps({"Resources": {
            "Key": {"Type": "AWS::KMS::Key"}}}))
        cfn = server.client("cloudformation")
        assert settled(cfn, "crash-key") == "ROLLBACK_FAILED"
        [key] = cfn.describe_stack_resources(StackName="crash-key")["StackResources"]
        assert key["ResourceStatus"] == "DELETE_FAILED", key
        assert "delete it by hand" in key["ResourceStatusReason"], key
        cfn.delete_stack(StackName="crash-key")

        def deleted():
            try:
                status = cfn.describe_stacks(StackName="crash-key")["Stacks"][0]["StackStatus"]
            except botocore.exceptions.ClientError:
                return True  # a deleted stack is no longer found by name
            assert status in ("DELETE_IN_PROGRESS", "DELETE_COMPLETE"), status
            return status == "DELETE_COMPLETE"
        deadline = time.time() + 60
        while not deleted():
            assert time.time() < deadline
            time.sleep(0.1)
    finally:
        server.stop()
