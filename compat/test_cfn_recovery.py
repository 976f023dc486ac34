"""CloudFormation's way out of a failed update rollback, driven by boto3: ContinueUpdateRollback
after the cause is fixed, or with ResourcesToSkip; CancelUpdateStack of an update in progress
(held there by the test hook CAIRN_FAULT_CFN_HOLD_WHILE) and its state rule.

The rollback fails as AWS's own example does: the old configuration a resource rolls back to
was broken outside CloudFormation (here the bucket policy of the trail's old bucket)."""

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import botocore.exceptions
import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy


def wait(cfn, name, waiter):
    """Waits for an operation's end; returns the stack's status (failed ends included)."""
    try:
        cfn.get_waiter(waiter).wait(StackName=name)
    except botocore.exceptions.WaiterError:
        pass
    return cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]


def bucket(cairn, name):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=cloudtrail_policy(name))


def trail_on(bucket_name, failing=None, logging=True):
    resources = {"Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {
        "S3BucketName": bucket_name, "IsLogging": logging}}}
    if failing:
        # A second trail on a bucket without the policy CloudTrail needs: fails after Trail.
        resources["Bad"] = {"Type": "AWS::CloudTrail::Trail", "DependsOn": "Trail",
                            "Properties": {"S3BucketName": failing, "IsLogging": False}}
    return json.dumps({"Resources": resources})


def stuck_stack(cairn, name):
    """A stack in UPDATE_ROLLBACK_FAILED: its trail cannot go back to `<name>-old`, whose
    policy was deleted after the stack was made. Returns the trail's name."""
    old, new = f"{name}-old", f"{name}-new"
    bucket(cairn, old)
    bucket(cairn, new)
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=trail_on(old))
    assert wait(cfn, name, "stack_create_complete") == "CREATE_COMPLETE"
    cairn.client("s3").delete_bucket_policy(Bucket=old)
    cfn.update_stack(StackName=name, TemplateBody=trail_on(new, failing=old))
    assert wait(cfn, name, "stack_update_complete") == "UPDATE_ROLLBACK_FAILED"
    trail = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Trail")[
        "StackResourceDetail"]
    assert trail["ResourceStatus"] == "UPDATE_FAILED"
    assert "InsufficientS3BucketPolicyException" in trail["ResourceStatusReason"]
    return trail["PhysicalResourceId"]


def err(excinfo):
    """(code, message) of the botocore ClientError a `pytest.raises` caught."""
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def trail_bucket(cairn, trail):
    return cairn.client("cloudtrail").get_trail(Name=trail)["Trail"]["S3BucketName"]


def test_continue_after_the_cause_is_fixed_restores_the_old_configuration(cairn):
    cfn = cairn.client("cloudformation")
    trail = stuck_stack(cairn, "cur-fix")
    assert trail_bucket(cairn, trail) == "cur-fix-new"
    # Nothing fixed yet: the rollback fails again, and the stack can still be continued.
    cfn.continue_update_rollback(StackName="cur-fix")
    assert wait(cfn, "cur-fix", "stack_rollback_complete") == "UPDATE_ROLLBACK_FAILED"
    # An update is refused meanwhile.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.update_stack(StackName="cur-fix", TemplateBody=trail_on("cur-fix-new"))
    assert "UPDATE_ROLLBACK_FAILED state and can not be updated" in err(e)[1]
    cairn.client("s3").put_bucket_policy(Bucket="cur-fix-old",
                                         Policy=cloudtrail_policy("cur-fix-old"))
    cfn.continue_update_rollback(StackName="cur-fix", ClientRequestToken="continue-1")
    assert wait(cfn, "cur-fix", "stack_rollback_complete") == "UPDATE_ROLLBACK_COMPLETE"
    assert trail_bucket(cairn, trail) == "cur-fix-old"
    resources = cfn.describe_stack_resources(StackName="cur-fix")["StackResources"]
    assert [(r["LogicalResourceId"], r["ResourceStatus"]) for r in resources] == [
        ("Trail", "UPDATE_COMPLETE")]
    events = cfn.describe_stack_events(StackName="cur-fix")["StackEvents"]
    continued = [e for e in events if e["ResourceType"] == "AWS::CloudFormation::Stack"
                 and e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"
                 and e.get("ClientRequestToken") == "continue-1"]
    assert continued and continued[-1]["ResourceStatusReason"] == "User Initiated"
    # The call is recorded, and the stack updates again.
    names = [r["eventName"] for r in cairn.records("Management")]
    assert names.count("ContinueUpdateRollback") == 2
    cfn.update_stack(StackName="cur-fix", TemplateBody=trail_on("cur-fix-new"))
    assert wait(cfn, "cur-fix", "stack_update_complete") == "UPDATE_COMPLETE"
    assert trail_bucket(cairn, trail) == "cur-fix-new"


def test_skipping_a_resource_leaves_it_as_the_update_made_it(cairn):
    cfn = cairn.client("cloudformation")
    trail = stuck_stack(cairn, "cur-skip")
    cfn.continue_update_rollback(StackName="cur-skip", ResourcesToSkip=["Trail"])
    assert wait(cfn, "cur-skip", "stack_rollback_complete") == "UPDATE_ROLLBACK_COMPLETE"
    # Skipped: marked UPDATE_COMPLETE, its real state still the failed update's.
    assert trail_bucket(cairn, trail) == "cur-skip-new"
    detail = cfn.describe_stack_resource(StackName="cur-skip", LogicalResourceId="Trail")[
        "StackResourceDetail"]
    assert detail["ResourceStatus"] == "UPDATE_COMPLETE"
    assert detail["ResourceStatusReason"] == "Resource skipped during UPDATE_ROLLBACK"
    # The resource the update added is gone; the stack has the old template again.
    trails = cairn.client("cloudtrail").describe_trails()["trailList"]
    assert [t["Name"] for t in trails if t["S3BucketName"] == "cur-skip-old"] == []
    body = cfn.get_template(StackName="cur-skip")["TemplateBody"]
    assert "Bad" not in json.dumps(body)
    cfn.delete_stack(StackName="cur-skip")
    cfn.get_waiter("stack_delete_complete").wait(StackName="cur-skip")
    assert cairn.client("cloudtrail").describe_trails(trailNameList=[trail])["trailList"] == []


def test_wrong_states_and_unknown_resources_are_validation_errors(cairn):
    cfn = cairn.client("cloudformation")
    bucket(cairn, "cur-state")
    cfn.create_stack(StackName="cur-state", TemplateBody=trail_on("cur-state"))
    assert wait(cfn, "cur-state", "stack_create_complete") == "CREATE_COMPLETE"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.continue_update_rollback(StackName="cur-state")
    code, message = err(e)
    assert code == "ValidationError"
    assert "CREATE_COMPLETE state and can not continue its update rollback" in message
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.cancel_update_stack(StackName="cur-state")
    assert err(e) == ("ValidationError",
                      "CancelUpdateStack cannot be called from current stack status")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.cancel_update_stack(StackName="cur-nowhere")
    assert err(e) == ("ValidationError", "Stack with id cur-nowhere does not exist")
    trail = stuck_stack(cairn, "cur-bad-skip")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.continue_update_rollback(StackName="cur-bad-skip", ResourcesToSkip=["Nope"])
    assert err(e)[0] == "ValidationError" and "Nope" in err(e)[1]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.continue_update_rollback(StackName="cur-bad-skip", ResourcesToSkip=["Bad"])
    assert err(e)[0] == "ValidationError" and "UPDATE_FAILED" in err(e)[1]
    # Refused calls change nothing.
    assert wait(cfn, "cur-bad-skip", "stack_rollback_complete") == "UPDATE_ROLLBACK_FAILED"
    assert trail_bucket(cairn, trail) == "cur-bad-skip-new"


@pytest.fixture(scope="module")
def held(tmp_path_factory):
    """A server whose stack engine waits after each resource operation while `hold` exists."""
    hold = tmp_path_factory.mktemp("hold") / "hold"
    with mock.patch.dict(os.environ, CAIRN_FAULT_CFN_HOLD_WHILE=str(hold)):
        server = Cairn(cairn_binary())
    server.hold = hold
    yield server
    server.stop()


def until(condition, what, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_cancel_update_stack_rolls_back_an_update_in_progress(held):
    cfn = held.client("cloudformation")
    bucket(held, "cancel-b")
    cfn.create_stack(StackName="cancel", TemplateBody=trail_on("cancel-b"))
    assert wait(cfn, "cancel", "stack_create_complete") == "CREATE_COMPLETE"
    trail = cfn.describe_stack_resource(StackName="cancel", LogicalResourceId="Trail")[
        "StackResourceDetail"]["PhysicalResourceId"]
    ct = held.client("cloudtrail")
    # The update stops the trail, then would add a second one that depends on it.
    update = json.loads(trail_on("cancel-b", logging=False))
    update["Resources"]["Second"] = {"Type": "AWS::CloudTrail::Trail", "DependsOn": "Trail",
                                     "Properties": {"S3BucketName": "cancel-b",
                                                    "IsLogging": False}}
    held.hold.touch()
    with ThreadPoolExecutor(1) as pool:
        updating = pool.submit(held.client("cloudformation").update_stack, StackName="cancel",
                               TemplateBody=json.dumps(update))
        until(lambda: not ct.get_trail_status(Name=trail)["IsLogging"], "the trail to stop")
        stack = cfn.describe_stacks(StackName="cancel")["Stacks"][0]
        assert stack["StackStatus"] == "UPDATE_IN_PROGRESS"
        # DeleteStack is refused in AWS's own words for it (not UpdateStack's).
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cfn.delete_stack(StackName="cancel")
        assert e.value.response["Error"]["Message"] == \
            f"Stack [{stack['StackId']}] cannot be deleted while in status UPDATE_IN_PROGRESS"
        cfn.cancel_update_stack(StackName="cancel")
        held.hold.unlink()
        updating.result()
    assert wait(cfn, "cancel", "stack_rollback_complete") == "UPDATE_ROLLBACK_COMPLETE"
    stack_events = [e for e in cfn.describe_stack_events(StackName="cancel")["StackEvents"]
                    if e["ResourceType"] == "AWS::CloudFormation::Stack"]
    assert [e.get("ResourceStatusReason") for e in stack_events
            if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"] == ["Stack update cancelled"]
    # The update is undone: the trail logs again and the second trail was never made.
    assert ct.get_trail_status(Name=trail)["IsLogging"] is True
    assert [t["Name"] for t in ct.describe_trails()["trailList"]] == [trail]
    assert [r["LogicalResourceId"] for r in
            cfn.describe_stack_resources(StackName="cancel")["StackResources"]] == ["Trail"]
    # The cancel was recorded; the next update is not cancelled by it.
    assert "CancelUpdateStack" in [r["eventName"] for r in held.records("Management")]
    cfn.update_stack(StackName="cancel", TemplateBody=json.dumps(update))
    assert wait(cfn, "cancel", "stack_update_complete") == "UPDATE_COMPLETE"


@pytest.fixture(scope="module")
def refusing(tmp_path_factory):
    """A server whose stack engine stops, as a full store stops it, while `full` exists."""
    full = tmp_path_factory.mktemp("full") / "full"
    with mock.patch.dict(os.environ, CAIRN_FAULT_CFN_UNAVAILABLE_WHILE=str(full)):
        server = Cairn(cairn_binary())
    server.full = full
    yield server
    server.stop()


def test_an_operation_a_full_store_stopped_rolls_back_once_space_returns(refusing):
    """Outside testing left a stack CREATE_IN_PROGRESS until a restart after a full disk.
    Now the operation is taken up again once writes go through: what it left in progress
    fails with the store's error as the reason, and the create rolls back."""
    cfn = refusing.client("cloudformation")
    # Named by the stack (`full-G0-…`): a resource the template names is retained when its
    # create's outcome is unknown (test_cfn_crash_recovery.py).
    template = {"Resources": {f"G{i}": {"Type": "AWS::Logs::LogGroup"} for i in range(3)}}
    refusing.full.touch()
    cfn.create_stack(StackName="full", TemplateBody=json.dumps(template))

    def reasons():
        events = cfn.describe_stack_events(StackName="full")["StackEvents"]
        return " ".join(e.get("ResourceStatusReason", "") for e in events)

    until(lambda: "the store is full" in reasons(), "the operation to be taken up again")
    refusing.full.unlink()
    assert wait(cfn, "full", "stack_create_complete") == "ROLLBACK_COMPLETE"
    assert "Resource operation cancelled: ServiceUnavailable" in reasons() or \
        "Resource operation cancelled: the store is full" in reasons(), reasons()
    assert "Cairn restarted" not in reasons()
    # What was created is deleted by the rollback.
    logs = refusing.client("logs")
    assert logs.describe_log_groups(logGroupNamePrefix="full-")["logGroups"] == []
