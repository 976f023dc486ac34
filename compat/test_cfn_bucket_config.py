"""`AWS::S3::Bucket`'s `BucketEncryption`, `VersioningConfiguration` and
`PublicAccessBlockConfiguration` and `Tags` with the AWS CLI: applied on create, changed in
place on update (same bucket), removed properties taken back as CloudFormation does, and a
public bucket policy beside a bucket that blocks them failing with S3's AccessDenied and
rolling back. Bucket tags also carry the stack's tags and CloudFormation's own
`aws:cloudformation:*` tags, as on AWS."""

import json
import os

from conftest import logs_key_policy

HERE = os.path.dirname(__file__)
CONFIG = os.path.join(HERE, "cfn", "bucket-config.yml")
PUBLIC = os.path.join(HERE, "cfn", "bucket-public-policy.yml")
TAGS = os.path.join(HERE, "cfn", "bucket-tags.yml")


def j(out):
    return json.loads(out.stdout)


def bucket_of(cairn, stack):
    outs = j(cairn.cli("cloudformation", "describe-stacks", "--stack-name", stack))["Stacks"][0]["Outputs"]
    return {o["OutputKey"]: o["OutputValue"] for o in outs}["BucketName"]


def encryption(cairn, bucket):
    rule = j(cairn.cli("s3api", "get-bucket-encryption", "--bucket", bucket))[
        "ServerSideEncryptionConfiguration"]["Rules"][0]
    return rule["ApplyServerSideEncryptionByDefault"], rule["BucketKeyEnabled"]


def versioning(cairn, bucket):
    return j(cairn.cli("s3api", "get-bucket-versioning", "--bucket", bucket)).get("Status")


def access_block(cairn, bucket):
    return j(cairn.cli("s3api", "get-public-access-block", "--bucket", bucket))[
        "PublicAccessBlockConfiguration"]


def deploy(cairn, *overrides):
    cairn.cli("cloudformation", "deploy", "--template-file", CONFIG, "--stack-name", "log-bucket",
              "--parameter-overrides", *overrides)


def test_bucket_settings_are_applied_and_changed_in_place(cairn):
    key = j(cairn.cli("kms", "create-key", "--description", "log bucket key"))["KeyMetadata"]["Arn"]
    deploy(cairn, f"KeyArn={key}")
    bucket = bucket_of(cairn, "log-bucket")
    assert bucket.startswith("log-bucket-logbucket-")
    assert encryption(cairn, bucket) == ({"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}, True)
    assert versioning(cairn, bucket) == "Enabled"
    assert access_block(cairn, bucket) == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                           "BlockPublicPolicy": True, "RestrictPublicBuckets": True}

    # Every setting changes on the same bucket (no interruption).
    deploy(cairn, "Algorithm=AES256", "Versioning=Suspended", "BlockPolicy=false")
    assert bucket_of(cairn, "log-bucket") == bucket
    assert encryption(cairn, bucket) == ({"SSEAlgorithm": "AES256"}, False)
    assert versioning(cairn, bucket) == "Suspended"
    assert access_block(cairn, bucket)["BlockPublicPolicy"] is False
    events = j(cairn.cli("cloudformation", "describe-stack-events", "--stack-name", "log-bucket"))["StackEvents"]
    bucket_events = [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "LogBucket"]
    assert bucket_events[:2] == ["UPDATE_COMPLETE", "UPDATE_IN_PROGRESS"]
    assert bucket_events.count("CREATE_COMPLETE") == 1

    # The calls were CloudFormation's, made as the caller and recorded.
    records = [json.loads(line) for line in cairn.admin("events", "--category", "Management").splitlines()]
    made = {r["eventName"] for r in records
            if r.get("requestParameters", {}).get("bucketName") == bucket
            and r.get("userIdentity", {}).get("invokedBy") == "cloudformation.amazonaws.com"}
    assert {"CreateBucket", "PutBucketEncryption", "PutBucketVersioning",
            "PutBucketPublicAccessBlock"} <= made, made

    cairn.cli("cloudformation", "delete-stack", "--stack-name", "log-bucket")
    cairn.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "log-bucket")


def test_removed_settings_are_taken_back(cairn):
    cairn.cli("cloudformation", "deploy", "--template-file", CONFIG, "--stack-name", "trimmed",
              "--parameter-overrides", "Algorithm=AES256")
    bucket = bucket_of(cairn, "trimmed")
    trimmed = os.path.join(HERE, "cfn", "bucket-config-trimmed.yml")
    cairn.cli("cloudformation", "update-stack", "--stack-name", "trimmed",
              "--template-body", f"file://{trimmed}")
    cairn.cli("cloudformation", "wait", "stack-update-complete", "--stack-name", "trimmed")
    assert bucket_of(cairn, "trimmed") == bucket
    # Without the properties: SSE-S3 by default, versioning suspended (a versioned bucket is
    # never unversioned again), and no public access block.
    assert encryption(cairn, bucket) == ({"SSEAlgorithm": "AES256"}, False)
    assert versioning(cairn, bucket) == "Suspended"
    missing = cairn.cli("s3api", "get-public-access-block", "--bucket", bucket, check=False)
    assert missing.returncode != 0 and "NoSuchPublicAccessBlockConfiguration" in missing.stderr
    cairn.cli("cloudformation", "delete-stack", "--stack-name", "trimmed")
    cairn.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "trimmed")


def test_a_public_policy_on_a_blocking_bucket_fails_and_rolls_back(cairn):
    cairn.cli("cloudformation", "create-stack", "--stack-name", "public-site",
              "--template-body", f"file://{PUBLIC}")
    waited = cairn.cli("cloudformation", "wait", "stack-create-complete", "--stack-name", "public-site",
                       check=False)
    assert waited.returncode != 0
    stack = j(cairn.cli("cloudformation", "describe-stacks", "--stack-name", "public-site"))["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = j(cairn.cli("cloudformation", "describe-stack-events", "--stack-name", "public-site"))["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["SitePolicy"]
    reason = failed[0]["ResourceStatusReason"]
    assert "Error Code: AccessDenied" in reason, reason
    assert "because public policies are blocked by the BlockPublicPolicy block public access setting" in reason
    bucket = next(e["PhysicalResourceId"] for e in events
                  if e["LogicalResourceId"] == "SiteBucket" and e["ResourceStatus"] == "DELETE_COMPLETE")
    gone = cairn.cli("s3api", "head-bucket", "--bucket", bucket, check=False)
    assert gone.returncode != 0


def test_a_log_group_key_changes_in_place(cairn):
    template = os.path.join(HERE, "cfn", "log-group-key.yml")
    first, second = (j(cairn.cli("kms", "create-key", "--description", d, "--policy", logs_key_policy()))
                     ["KeyMetadata"]["Arn"] for d in ("first", "second"))

    def key():
        groups = j(cairn.cli("logs", "describe-log-groups", "--log-group-name-prefix", "cfn-trail-logs"))
        assert len(groups["logGroups"]) == 1
        return groups["logGroups"][0].get("kmsKeyId")

    def deploy(*overrides):
        cairn.cli("cloudformation", "deploy", "--template-file", template, "--stack-name", "trail-logs",
                  *(["--parameter-overrides", *overrides] if overrides else []))

    deploy(f"KeyArn={first}")
    assert key() == first
    deploy(f"KeyArn={second}")
    assert key() == second
    deploy("KeyArn=")
    assert key() is None
    events = j(cairn.cli("cloudformation", "describe-stack-events", "--stack-name", "trail-logs"))["StackEvents"]
    group_events = [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "TrailLogs"]
    assert group_events.count("CREATE_COMPLETE") == 1 and group_events.count("UPDATE_COMPLETE") == 2
    cairn.cli("cloudformation", "delete-stack", "--stack-name", "trail-logs")
    cairn.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "trail-logs")


def test_the_s3api_calls_behind_the_properties(cairn):
    cairn.cli("s3api", "create-bucket", "--bucket", "cli-config-bucket")
    cairn.cli("s3api", "put-bucket-versioning", "--bucket", "cli-config-bucket",
              "--versioning-configuration", "Status=Enabled")
    cairn.cli("s3api", "put-bucket-versioning", "--bucket", "cli-config-bucket",
              "--versioning-configuration", "Status=Suspended,MFADelete=Disabled")
    assert j(cairn.cli("s3api", "get-bucket-versioning", "--bucket", "cli-config-bucket")) == {
        "Status": "Suspended", "MFADelete": "Disabled"}
    mfa = cairn.cli("s3api", "put-bucket-versioning", "--bucket", "cli-config-bucket",
                    "--versioning-configuration", "Status=Enabled,MFADelete=Enabled", check=False)
    assert mfa.returncode != 0 and "AccessDenied" in mfa.stderr
    cairn.cli("s3api", "put-public-access-block", "--bucket", "cli-config-bucket",
              "--public-access-block-configuration", "BlockPublicPolicy=true,RestrictPublicBuckets=true")
    assert access_block(cairn, "cli-config-bucket") == {
        "BlockPublicAcls": False, "IgnorePublicAcls": False,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    public = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::cli-config-bucket/*"}]})
    refused = cairn.cli("s3api", "put-bucket-policy", "--bucket", "cli-config-bucket",
                        "--policy", public, check=False)
    assert refused.returncode != 0
    assert "AccessDenied" in refused.stderr and "BlockPublicPolicy" in refused.stderr
    cairn.cli("s3api", "delete-public-access-block", "--bucket", "cli-config-bucket")
    cairn.cli("s3api", "put-bucket-policy", "--bucket", "cli-config-bucket", "--policy", public)


def bucket_tags(cairn, bucket):
    tags = j(cairn.cli("s3api", "get-bucket-tagging", "--bucket", bucket))["TagSet"]
    return {t["Key"]: t["Value"] for t in tags}


def test_bucket_tags_are_applied_and_changed_in_place(cairn):
    def deploy(*overrides):
        cairn.cli("cloudformation", "deploy", "--template-file", TAGS, "--stack-name", "tagged",
                  "--tags", "project=cairn", "team=stack-level",
                  *(["--parameter-overrides", *overrides] if overrides else []))

    deploy()
    bucket = bucket_of(cairn, "tagged")
    stack_id = j(cairn.cli("cloudformation", "describe-stacks", "--stack-name", "tagged"))["Stacks"][0]["StackId"]
    system = {"aws:cloudformation:stack-name": "tagged", "aws:cloudformation:stack-id": stack_id,
              "aws:cloudformation:logical-id": "TaggedBucket"}
    # The template's `team` wins over the stack tag of the same key.
    assert bucket_tags(cairn, bucket) == {"team": "ops", "cost-center": "1234", "project": "cairn", **system}

    deploy("Team=security", "CostCenter=42")
    assert bucket_of(cairn, "tagged") == bucket
    assert bucket_tags(cairn, bucket) == {"team": "security", "cost-center": "42", "project": "cairn", **system}
    events = j(cairn.cli("cloudformation", "describe-stack-events", "--stack-name", "tagged"))["StackEvents"]
    bucket_events = [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "TaggedBucket"]
    assert bucket_events[:2] == ["UPDATE_COMPLETE", "UPDATE_IN_PROGRESS"]
    assert bucket_events.count("CREATE_COMPLETE") == 1

    records = [json.loads(line) for line in cairn.admin("events", "--category", "Management").splitlines()]
    puts = [r for r in records if r["eventName"] == "PutBucketTagging"
            and r.get("requestParameters", {}).get("bucketName") == bucket]
    assert len(puts) == 2
    assert all(r["userIdentity"].get("invokedBy") == "cloudformation.amazonaws.com" for r in puts)

    cairn.cli("cloudformation", "delete-stack", "--stack-name", "tagged")
    cairn.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "tagged")


def test_the_s3api_tagging_calls(cairn):
    cairn.cli("s3api", "create-bucket", "--bucket", "cli-tag-bucket")
    missing = cairn.cli("s3api", "get-bucket-tagging", "--bucket", "cli-tag-bucket", check=False)
    assert missing.returncode != 0
    assert "NoSuchTagSet" in missing.stderr and "The TagSet does not exist" in missing.stderr
    cairn.cli("s3api", "put-bucket-tagging", "--bucket", "cli-tag-bucket",
              "--tagging", "TagSet=[{Key=env,Value=prod},{Key=team,Value=ops}]")
    assert bucket_tags(cairn, "cli-tag-bucket") == {"env": "prod", "team": "ops"}
    cairn.cli("s3api", "put-bucket-tagging", "--bucket", "cli-tag-bucket",
              "--tagging", "TagSet=[{Key=owner,Value=me}]")
    assert bucket_tags(cairn, "cli-tag-bucket") == {"owner": "me"}
    for tagset, code, message in [
        ("TagSet=[{Key=aws:x,Value=y}]", "InvalidTag", "System tags cannot be added/updated by requester"),
        ("TagSet=[{Key=a,Value=1},{Key=a,Value=2}]", "InvalidTag",
         "Cannot provide multiple Tags with the same key"),
    ]:
        refused = cairn.cli("s3api", "put-bucket-tagging", "--bucket", "cli-tag-bucket",
                            "--tagging", tagset, check=False)
        assert refused.returncode != 0
        assert code in refused.stderr and message in refused.stderr, refused.stderr
    assert bucket_tags(cairn, "cli-tag-bucket") == {"owner": "me"}
    cairn.cli("s3api", "delete-bucket-tagging", "--bucket", "cli-tag-bucket")
    gone = cairn.cli("s3api", "get-bucket-tagging", "--bucket", "cli-tag-bucket", check=False)
    assert gone.returncode != 0 and "NoSuchTagSet" in gone.stderr
