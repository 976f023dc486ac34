"""The CloudTrail guides' permission scenarios, end to end (issue 8 §4): trail administrators
with AWSCloudTrail_FullAccess, auditors with AWSCloudTrail_ReadOnlyAccess whose StopLogging is
denied and recorded, a least-privilege log bucket with the MFA-delete Deny that a user with
AmazonS3FullAccess cannot get round, users without policies denied everywhere, and temporary
credentials on S3."""

import json

import botocore.exceptions
import pytest

from conftest import cloudtrail_policy

ACCOUNT = "123456789012"
FULL = "arn:aws:iam::aws:policy/AWSCloudTrail_FullAccess"
READ = "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess"
S3FULL = "arn:aws:iam::aws:policy/AmazonS3FullAccess"


def denied(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    code = e.value.response["Error"]["Code"]
    # SNS names its denial AuthorizationError (403); the others AccessDenied(Exception).
    assert code in ("AccessDenied", "AccessDeniedException", "AuthorizationError"), \
        e.value.response["Error"]
    return e.value.response["Error"]["Message"]


def member(cairn, name, group, *policies):
    iam = cairn.client("iam")
    try:
        iam.create_group(GroupName=group)
        for p in policies:
            iam.attach_group_policy(GroupName=group, PolicyArn=p)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    iam.create_user(UserName=name)
    iam.add_user_to_group(GroupName=group, UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], service)


@pytest.fixture(scope="module")
def logs_bucket(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="aws-cloudtrail-logs-guide")
    s3.put_bucket_policy(Bucket="aws-cloudtrail-logs-guide", Policy=cloudtrail_policy("aws-cloudtrail-logs-guide"))
    return "aws-cloudtrail-logs-guide"


def test_trail_administrators_manage_trails(cairn, logs_bucket):
    admin = member(cairn, "trail-admin", "CloudTrailAdmins", FULL)
    ct = admin("cloudtrail")
    ct.create_trail(Name="guide-trail", S3BucketName=logs_bucket, IsMultiRegionTrail=True,
                    EnableLogFileValidation=True)
    ct.start_logging(Name="guide-trail")
    ct.put_event_selectors(TrailName="guide-trail", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    assert ct.get_trail_status(Name="guide-trail")["IsLogging"] is True
    # FullAccess creates buckets only named aws-cloudtrail-logs* and never deletes them.
    s3 = admin("s3")
    s3.create_bucket(Bucket="aws-cloudtrail-logs-admin")
    denied(lambda: s3.create_bucket(Bucket="my-logs"))
    denied(lambda: s3.delete_bucket(Bucket="aws-cloudtrail-logs-admin"))


def test_auditors_read_everything_and_cannot_stop_logging(cairn, logs_bucket):
    auditor = member(cairn, "auditor", "Auditors", READ)
    ct = auditor("cloudtrail")
    assert any(t["Name"] == "guide-trail" for t in ct.describe_trails()["trailList"])
    assert ct.get_trail_status(Name="guide-trail")["IsLogging"] is True
    assert ct.get_event_selectors(TrailName="guide-trail")["EventSelectors"]
    assert ct.lookup_events(MaxResults=5)["Events"]
    message = denied(lambda: ct.stop_logging(Name="guide-trail"))
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/auditor is not authorized to perform: "
                       f"cloudtrail:StopLogging on resource: arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/guide-trail "
                       "because no identity-based policy allows the cloudtrail:StopLogging action")
    root = cairn.client("cloudtrail")
    assert root.get_trail_status(Name="guide-trail")["IsLogging"] is True, "the trail kept logging"
    events = root.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "StopLogging"}])["Events"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["errorCode"] == "AccessDenied" and record["errorMessage"] == message
    assert record["userIdentity"]["userName"] == "auditor"
    # ReadOnlyAccess has no S3: reading log files needs its own grant.
    s3 = auditor("s3")
    denied(lambda: s3.list_objects_v2(Bucket=logs_bucket))
    cairn.client("iam").put_group_policy(GroupName="Auditors", PolicyName="read-logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{logs_bucket}/AWSLogs/{ACCOUNT}/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{logs_bucket}"}]}))
    cairn.client("s3").put_object(Bucket=logs_bucket, Key=f"AWSLogs/{ACCOUNT}/probe.json", Body=b"{}")
    assert s3.get_object(Bucket=logs_bucket, Key=f"AWSLogs/{ACCOUNT}/probe.json")["Body"].read() == b"{}"
    denied(lambda: s3.put_object(Bucket=logs_bucket, Key=f"AWSLogs/{ACCOUNT}/forged.json", Body=b"{}"))


def test_security_auditors_with_securityaudit_or_viewonlyaccess_cannot_silence_a_trail(cairn, logs_bucket):
    iam = cairn.client("iam")
    view = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    listed = iam.list_policies(Scope="AWS", PathPrefix="/job-function/")["Policies"]
    assert [p["Arn"] for p in listed] == [view]
    assert iam.get_policy(PolicyArn=view)["Policy"]["Path"] == "/job-function/"
    root = cairn.client("cloudtrail")
    root.create_trail(Name="audited-trail", S3BucketName=logs_bucket)
    root.start_logging(Name="audited-trail")
    for name, policy in [("sec-auditor", "arn:aws:iam::aws:policy/SecurityAudit"), ("viewer", view)]:
        ct = member(cairn, name, f"{name}-group", policy)("cloudtrail")
        assert any(t["Name"] == "audited-trail" for t in ct.describe_trails()["trailList"])
        assert ct.lookup_events(MaxResults=5)["Events"]
        for call in (lambda: ct.stop_logging(Name="audited-trail"),
                     lambda: ct.delete_trail(Name="audited-trail"),
                     lambda: ct.update_trail(Name="audited-trail", S3KeyPrefix="elsewhere")):
            denied(call)
    assert root.get_trail_status(Name="audited-trail")["IsLogging"] is True
    root.delete_trail(Name="audited-trail")


def test_a_least_privilege_log_bucket_with_mfa_delete_resists_s3_full_access(cairn, logs_bucket):
    root_s3 = cairn.client("s3")
    policy = json.loads(cloudtrail_policy(logs_bucket))
    policy["Statement"].append({
        "Sid": "DenyDeleteWithoutMFA", "Effect": "Deny", "Principal": "*",
        "Action": ["s3:DeleteObject", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucket"],
        "Resource": [f"arn:aws:s3:::{logs_bucket}", f"arn:aws:s3:::{logs_bucket}/*"],
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})
    root_s3.put_bucket_policy(Bucket=logs_bucket, Policy=json.dumps(policy))
    s3 = member(cairn, "s3-power", "S3Admins", S3FULL)("s3")
    key = f"AWSLogs/{ACCOUNT}/probe.json"
    for call in (lambda: s3.delete_object(Bucket=logs_bucket, Key=key),
                 lambda: s3.delete_bucket_policy(Bucket=logs_bucket),
                 lambda: s3.put_bucket_policy(Bucket=logs_bucket, Policy="{}"),
                 lambda: s3.delete_bucket(Bucket=logs_bucket)):
        assert "explicit deny in a resource-based policy" in denied(call)
    # Even root is bound by an explicit Deny in a bucket policy.
    denied(lambda: root_s3.delete_object(Bucket=logs_bucket, Key=key))
    assert root_s3.get_object(Bucket=logs_bucket, Key=key)["Body"].read() == b"{}"
    # Session credentials without MFA carry aws:MultiFactorAuthPresent=false: denied too.
    iam = cairn.client("iam")
    user_key = iam.create_access_key(UserName="s3-power")["AccessKey"]
    sts = cairn.client_with(user_key["AccessKeyId"], user_key["SecretAccessKey"], "sts")
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    session_s3 = cairn.client_with(creds["AccessKeyId"], creds["SecretAccessKey"], "s3",
                                   token=creds["SessionToken"])
    assert session_s3.get_object(Bucket=logs_bucket, Key=key)["Body"].read() == b"{}"
    denied(lambda: session_s3.delete_object(Bucket=logs_bucket, Key=key))


def test_a_user_without_policies_is_denied_everywhere(cairn, logs_bucket):
    iam = cairn.client("iam")
    iam.create_user(UserName="nobody-special")
    key = iam.create_access_key(UserName="nobody-special")["AccessKey"]
    client = lambda service: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], service)
    for call in (lambda: client("cloudtrail").describe_trails(),
                 lambda: client("cloudtrail").stop_logging(Name="guide-trail"),
                 lambda: client("cloudtrail").delete_trail(Name="guide-trail"),
                 lambda: client("s3").list_buckets(),
                 lambda: client("s3").get_object(Bucket=logs_bucket, Key=f"AWSLogs/{ACCOUNT}/probe.json"),
                 lambda: client("s3").put_bucket_policy(Bucket=logs_bucket, Policy="{}"),
                 lambda: client("sns").list_topics(),
                 lambda: client("iam").list_users(),
                 lambda: client("iam").attach_user_policy(UserName="nobody-special",
                                                          PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")):
        denied(call)
    # GetCallerIdentity is never denied.
    assert client("sts").get_caller_identity()["Arn"].endswith(":user/nobody-special")
    assert cairn.client("cloudtrail").get_trail_status(Name="guide-trail")["IsLogging"] is True


def test_temporary_credentials_work_on_s3_and_a_bad_token_is_refused(cairn, logs_bucket):
    iam = cairn.client("iam")
    iam.create_role(RoleName="log-reader", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                "Action": "sts:AssumeRole"}]}))
    iam.attach_role_policy(RoleName="log-reader", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    # A trust policy naming the account delegates to the caller's identity policies.
    iam.create_user(UserName="assumer")
    iam.put_user_policy(UserName="assumer", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": f"arn:aws:iam::{ACCOUNT}:role/log-reader"}]}))
    user_key = iam.create_access_key(UserName="assumer")["AccessKey"]
    sts = cairn.client_with(user_key["AccessKeyId"], user_key["SecretAccessKey"], "sts")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/log-reader",
                            RoleSessionName="reader")["Credentials"]
    s3 = cairn.client_with(creds["AccessKeyId"], creds["SecretAccessKey"], "s3", token=creds["SessionToken"])
    assert logs_bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    denied(lambda: s3.put_object(Bucket=logs_bucket, Key="x", Body=b"x"))
    forged = cairn.client_with(creds["AccessKeyId"], creds["SecretAccessKey"], "s3",
                               token=creds["SessionToken"][:-4] + "AAAA")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        forged.list_buckets()
    assert e.value.response["Error"]["Code"] in ("InvalidToken", "InvalidAccessKeyId")
    data = [r for r in cairn.records("Data") if r["eventName"] == "PutObject"
            and r["userIdentity"]["type"] == "AssumedRole"]
    assert all(r["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == "log-reader" for r in data)
