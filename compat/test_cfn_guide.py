"""The guide's CloudFormation template (compat/cfn/05-01-CloudTrail.yml) with the real AWS CLI:
create-stack and wait, the same template without DependsOn and the policy, and delete-stack
with log files in the bucket."""

import json
import os
import re

import pytest

from conftest import Cairn, cairn_binary

HERE = os.path.dirname(__file__)
GUIDE = os.path.join(HERE, "cfn", "05-01-CloudTrail.yml")
NO_POLICY = os.path.join(HERE, "cfn", "05-01-CloudTrail-no-policy.yml")


def j(out):
    return json.loads(out.stdout)


def events(cairn, stack):
    return j(cairn.cli("cloudformation", "describe-stack-events", "--stack-name", stack))["StackEvents"]


def test_guide_template_deploys_a_logging_multi_region_trail(cairn):
    created = j(cairn.cli("cloudformation", "create-stack", "--template-body", f"file://{GUIDE}",
                          "--stack-name", "example-cloudtrail"))
    assert re.fullmatch(r"arn:aws:cloudformation:us-east-1:123456789012:stack/example-cloudtrail/[0-9a-f-]{36}",
                        created["StackId"])
    cairn.cli("cloudformation", "wait", "stack-create-complete", "--stack-name", "example-cloudtrail")

    stack = j(cairn.cli("cloudformation", "describe-stacks", "--stack-name", "example-cloudtrail"))["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    bucket = outputs["CloudTrailBucketName"]
    # A bucket without a name gets <stack>-<logical id>-<random>, lower case.
    assert re.fullmatch(r"example-cloudtrail-cloudtrailbucket-[a-z0-9]{12}", bucket), bucket

    policy = json.loads(j(cairn.cli("s3api", "get-bucket-policy", "--bucket", bucket))["Policy"])
    resources = [s["Resource"] for s in policy["Statement"]]
    assert resources == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/AWSLogs/123456789012/*"]

    resources = {r["LogicalResourceId"]: r for r in
                 j(cairn.cli("cloudformation", "list-stack-resources", "--stack-name",
                             "example-cloudtrail"))["StackResourceSummaries"]}
    assert set(resources) == {"CloudTrailBucket", "CloudTrailBucketPolicy", "CloudTrail"}
    assert all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in resources.values())
    trail_name = resources["CloudTrail"]["PhysicalResourceId"]
    assert re.fullmatch(r"example-cloudtrail-CloudTrail-[A-Z0-9]{12}", trail_name), trail_name

    trail = j(cairn.cli("cloudtrail", "get-trail", "--name", trail_name))["Trail"]
    assert trail["S3BucketName"] == bucket
    assert trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"] and trail["IncludeGlobalServiceEvents"]
    assert j(cairn.cli("cloudtrail", "get-trail-status", "--name", trail_name))["IsLogging"] is True
    shadow = j(cairn.cli("cloudtrail", "describe-trails", region="eu-west-1"))["trailList"]
    assert [t["Name"] for t in shadow] == [trail_name]

    # The calls CloudFormation made are recorded as the caller's, marked as AWS marks them.
    made = {}
    for name in ("CreateBucket", "PutBucketPolicy", "CreateTrail", "StartLogging"):
        found = j(cairn.cli("cloudtrail", "lookup-events", "--lookup-attributes",
                            f"AttributeKey=EventName,AttributeValue={name}"))["Events"]
        assert found, name
        made[name] = json.loads(found[0]["CloudTrailEvent"])
    for name, record in made.items():
        assert record["userIdentity"]["type"] == "Root", name
        assert record["userIdentity"]["invokedBy"] == "cloudformation.amazonaws.com", name
        assert record["sourceIPAddress"] == "cloudformation.amazonaws.com", name
        assert record["userAgent"] == "cloudformation.amazonaws.com", name
    assert made["CreateTrail"]["requestParameters"]["s3BucketName"] == bucket
    create_stack = json.loads(j(cairn.cli("cloudtrail", "lookup-events", "--lookup-attributes",
                                          "AttributeKey=EventName,AttributeValue=CreateStack"))["Events"][0]["CloudTrailEvent"])
    assert create_stack["eventSource"] == "cloudformation.amazonaws.com"
    assert create_stack["userAgent"].startswith("aws-cli/")
    assert create_stack["responseElements"]["stackId"] == created["StackId"]

    # Events, oldest first, as AWS emits them.
    seen = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events(cairn, "example-cloudtrail"))]
    assert seen[0] == ("example-cloudtrail", "CREATE_IN_PROGRESS")
    assert seen[-1] == ("example-cloudtrail", "CREATE_COMPLETE")
    order = [lid for lid, status in seen if status == "CREATE_COMPLETE" and lid != "example-cloudtrail"]
    assert order == ["CloudTrailBucket", "CloudTrailBucketPolicy", "CloudTrail"]

    # The template comes back byte for byte.
    body = j(cairn.cli("cloudformation", "get-template", "--stack-name", "example-cloudtrail"))["TemplateBody"]
    with open(GUIDE) as f:
        assert body == f.read()


def test_without_depends_on_and_the_policy_the_trail_fails_and_the_stack_rolls_back(cairn):
    cairn.cli("cloudformation", "create-stack", "--template-body", f"file://{NO_POLICY}",
              "--stack-name", "no-policy")
    waited = cairn.cli("cloudformation", "wait", "stack-create-complete", "--stack-name", "no-policy", check=False)
    assert waited.returncode != 0 and "ROLLBACK_COMPLETE" in waited.stderr
    stack = j(cairn.cli("cloudformation", "describe-stacks", "--stack-name", "no-policy"))["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    evs = events(cairn, "no-policy")
    failed = [e for e in evs if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["CloudTrail"]
    assert "InsufficientS3BucketPolicyException" in failed[0]["ResourceStatusReason"]
    assert failed[0]["ResourceStatusReason"].startswith("Incorrect S3 bucket policy is detected for bucket: no-policy-cloudtrailbucket-")
    rollback = [e for e in evs if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS"][0]
    assert rollback["ResourceStatusReason"] == "The following resource(s) failed to create: [CloudTrail]. Rollback requested by user."
    # Rolled back completely: the bucket is gone and no trail exists.
    summaries = j(cairn.cli("cloudformation", "list-stack-resources", "--stack-name", "no-policy"))["StackResourceSummaries"]
    assert {r["ResourceStatus"] for r in summaries} == {"DELETE_COMPLETE"}
    buckets = [b["Name"] for b in j(cairn.cli("s3api", "list-buckets"))["Buckets"]]
    assert not [b for b in buckets if b.startswith("no-policy-")]
    trails = [t["Name"] for t in j(cairn.cli("cloudtrail", "describe-trails"))["trailList"]]
    assert not [t for t in trails if t.startswith("no-policy-")]


def test_delete_stack_with_log_files_fails_until_the_bucket_is_emptied():
    server = Cairn(cairn_binary())
    try:
        server.cli("cloudformation", "create-stack", "--template-body", f"file://{GUIDE}",
                   "--stack-name", "example-cloudtrail")
        server.cli("cloudformation", "wait", "stack-create-complete", "--stack-name", "example-cloudtrail")
        stack = j(server.cli("cloudformation", "describe-stacks", "--stack-name", "example-cloudtrail"))["Stacks"][0]
        bucket = stack["Outputs"][0]["OutputValue"]
        # The trail delivers its log files (the delivery worker, run beside the stopped server).
        server.proc.kill()
        server.proc.wait()
        server.admin("flush")
        server.restart()
        keys = [o["Key"] for o in j(server.cli("s3api", "list-objects-v2", "--bucket", bucket)).get("Contents", [])]
        assert any("/CloudTrail/" in k for k in keys), keys

        server.cli("cloudformation", "delete-stack", "--stack-name", "example-cloudtrail")
        waited = server.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name",
                            "example-cloudtrail", check=False)
        assert waited.returncode != 0 and "DELETE_FAILED" in waited.stderr
        stack = j(server.cli("cloudformation", "describe-stacks", "--stack-name", "example-cloudtrail"))["Stacks"][0]
        assert stack["StackStatus"] == "DELETE_FAILED"
        assert stack["StackStatusReason"] == "The following resource(s) failed to delete: [CloudTrailBucket]. "
        failed = [e for e in events(server, "example-cloudtrail") if e["ResourceStatus"] == "DELETE_FAILED"
                  and e["LogicalResourceId"] == "CloudTrailBucket"][0]
        assert failed["ResourceStatusReason"].startswith(
            "The bucket you tried to delete is not empty (Service: Amazon S3; Status Code: 409; Error Code: BucketNotEmpty;")

        server.cli("s3", "rm", "--recursive", f"s3://{bucket}")
        server.cli("cloudformation", "delete-stack", "--stack-name", "example-cloudtrail")
        server.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "example-cloudtrail")
        gone = server.cli("cloudformation", "describe-stacks", "--stack-name", "example-cloudtrail", check=False)
        assert gone.returncode != 0 and "Stack with id example-cloudtrail does not exist" in gone.stderr
        summaries = j(server.cli("cloudformation", "list-stacks"))["StackSummaries"]
        assert [(s["StackName"], s["StackStatus"]) for s in summaries] == [("example-cloudtrail", "DELETE_COMPLETE")]
        assert j(server.cli("cloudtrail", "describe-trails"))["trailList"] == []
        assert bucket not in [b["Name"] for b in j(server.cli("s3api", "list-buckets"))["Buckets"]]
    finally:
        server.stop()


@pytest.mark.parametrize("template", [GUIDE, NO_POLICY])
def test_validate_template_accepts_the_guides_templates(cairn, template):
    out = j(cairn.cli("cloudformation", "validate-template", "--template-body", f"file://{template}"))
    assert out["Parameters"] == []
    assert not out.get("Capabilities")
    assert out["Description"]
