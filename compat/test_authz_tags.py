"""Tag-based and always-present condition keys, as AWS sets them: `aws:PrincipalTag/<k>`
(a user's or role's tags, a session's tags over them), a trail's `aws:ResourceTag/<k>`,
and `aws:ViaAWSService`/`aws:PrincipalIsAWSService`, present and `false` on a direct call.
A Deny written on any of them must stop the call; it used to be silently inert because the
key was never set, so a tagged contractor could stop a protected trail."""

import json

import botocore.exceptions
import pytest

from conftest import cloudtrail_policy

FULL = "arn:aws:iam::aws:policy/AWSCloudTrail_FullAccess"


def denied(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    assert e.value.response["Error"]["Code"] in (
        "AccessDenied", "AccessDeniedException", "AuthorizationError"), e.value.response
    return e.value.response["Error"]["Message"]


def user(cairn, name, deny_condition, tags=()):
    iam = cairn.client("iam")
    iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in tags])
    iam.attach_user_policy(UserName=name, PolicyArn=FULL)
    iam.put_user_policy(UserName=name, PolicyName="deny", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"],
            "Resource": "*", "Condition": deny_condition}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudtrail")


@pytest.fixture(scope="module")
def trail(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="tagged-trail-logs")
    s3.put_bucket_policy(Bucket="tagged-trail-logs", Policy=cloudtrail_policy("tagged-trail-logs"))
    ct = cairn.client("cloudtrail")
    ct.create_trail(Name="protected", S3BucketName="tagged-trail-logs",
                    TagsList=[{"Key": "protected", "Value": "yes"}])
    ct.create_trail(Name="plain", S3BucketName="tagged-trail-logs")
    for name in ("protected", "plain"):
        ct.start_logging(Name=name)
    return ct


def test_a_deny_on_the_callers_tag_applies(cairn, trail):
    contractor = user(cairn, "contractor", {"StringEquals": {"aws:PrincipalTag/contractor": "true"}},
                      tags=[("contractor", "true")])
    denied(lambda: contractor.stop_logging(Name="plain"))
    staff = user(cairn, "staff", {"StringEquals": {"aws:PrincipalTag/contractor": "true"}})
    staff.stop_logging(Name="plain")
    trail.start_logging(Name="plain")
    # Recorded with the denial, as every denied call is.
    records = [json.loads(e["CloudTrailEvent"]) for e in trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "StopLogging"}])["Events"]]
    assert any(r.get("errorCode") == "AccessDenied" and r["userIdentity"].get("userName") == "contractor"
               for r in records)


def test_a_deny_on_the_trails_tag_applies(cairn, trail):
    operator = user(cairn, "operator", {"StringEquals": {"aws:ResourceTag/protected": "yes"}})
    denied(lambda: operator.stop_logging(Name="protected"))
    denied(lambda: operator.delete_trail(Name="protected"))
    operator.stop_logging(Name="plain")
    trail.start_logging(Name="plain")
    assert trail.get_trail_status(Name="protected")["IsLogging"] is True


def test_service_keys_are_false_on_a_direct_call(cairn, trail):
    direct = user(cairn, "direct", {"Bool": {"aws:ViaAWSService": "false"}})
    denied(lambda: direct.stop_logging(Name="plain"))
    human = user(cairn, "human", {"Bool": {"aws:PrincipalIsAWSService": "false"}})
    denied(lambda: human.stop_logging(Name="plain"))
    assert trail.get_trail_status(Name="plain")["IsLogging"] is True


def test_iam_requests_carry_their_condition_keys(cairn):
    """iam:PolicyARN, aws:TagKeys/aws:RequestTag and iam:ResourceTag decide IAM calls: a
    user allowed IAM writes but denied AdministratorAccess cannot attach it to himself."""
    iam = cairn.client("iam")
    iam.create_user(UserName="mallory")
    iam.put_user_policy(UserName="mallory", PolicyName="iam", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:AttachUserPolicy", "iam:TagUser", "iam:CreateUser",
                                           "iam:CreateAccessKey"], "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:AttachUserPolicy", "Resource": "*",
             "Condition": {"ArnLike": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}},
            {"Effect": "Deny", "Action": ["iam:TagUser", "iam:CreateUser"], "Resource": "*",
             "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["admin"]}}},
            {"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "*",
             "Condition": {"StringEquals": {"iam:ResourceTag/protected": "yes"}}}]}))
    key = iam.create_access_key(UserName="mallory")["AccessKey"]
    mallory = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "iam")
    denied(lambda: mallory.attach_user_policy(UserName="mallory",
                                              PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"))
    mallory.attach_user_policy(UserName="mallory", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    denied(lambda: mallory.tag_user(UserName="mallory", Tags=[{"Key": "admin", "Value": "true"}]))
    denied(lambda: mallory.create_user(UserName="boss", Tags=[{"Key": "admin", "Value": "true"}]))
    mallory.tag_user(UserName="mallory", Tags=[{"Key": "team", "Value": "ops"}])
    iam.create_user(UserName="vault", Tags=[{"Key": "protected", "Value": "yes"}])
    denied(lambda: mallory.create_access_key(UserName="vault"))
    attached = iam.list_attached_user_policies(UserName="mallory")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["ReadOnlyAccess"]


def test_case_variant_tag_keys_cannot_dodge_a_tag_deny(cairn):
    """`env` and `Env` are one condition key (key names are case-insensitive), and SNS, Logs
    and KMS keep both tags. The last one used to win, so the order of a request's tags (or of
    a resource's, sorted) decided whether a Deny on `env=prod` applied. Now a Deny applies
    when any of the values satisfies it."""
    iam = cairn.client("iam")
    iam.create_user(UserName="tagger")
    iam.put_user_policy(UserName="tagger", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["sns:*", "logs:*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestTag/env": "prod"}}},
            {"Effect": "Deny", "Action": "sns:Publish", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/Env": "prod"}}}]}))
    key = iam.create_access_key(UserName="tagger")["AccessKey"]
    sns = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "sns")
    logs = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "logs")
    for i, tags in enumerate([[("env", "prod"), ("Env", "dev")], [("Env", "dev"), ("env", "prod")]]):
        denied(lambda: sns.create_topic(Name=f"case-{i}", Tags=[{"Key": k, "Value": v} for k, v in tags]))
        denied(lambda: logs.create_log_group(logGroupName=f"case-{i}", tags=dict(tags)))
    sns.create_topic(Name="case-ok", Tags=[{"Key": "env", "Value": "dev"}, {"Key": "Env", "Value": "dev"}])
    # A resource carrying both spellings: the Deny on `Env=prod` applies to it too.
    root_sns = cairn.client("sns")
    for name, tags in [("rt-a", [("Env", "prod")]), ("rt-b", [("Env", "prod"), ("env", "dev")])]:
        arn = root_sns.create_topic(Name=name, Tags=[{"Key": k, "Value": v} for k, v in tags])["TopicArn"]
        denied(lambda: sns.publish(TopicArn=arn, Message="m"))
    plain = root_sns.create_topic(Name="rt-c", Tags=[{"Key": "env", "Value": "dev"}])["TopicArn"]
    sns.publish(TopicArn=plain, Message="m")
