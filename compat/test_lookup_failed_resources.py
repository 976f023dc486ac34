"""A failed or refused call that names a trail or a log group is found under it in event
history, as a successful one is (README, LookupEvents: "calls that name trails list each").
Before, a denied StopLogging or DeleteLogGroup had no resources, so an auditor asking event
history what happened to a trail (`--lookup-attributes AttributeKey=ResourceName`) never saw
the attempts to silence it."""

import json

import botocore.exceptions
import pytest

from conftest import cloudtrail_policy

ACCOUNT = "123456789012"
TRAIL = "watched-trail"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{TRAIL}"
GROUP = "watched-group"


def by_resource(cairn, name):
    ct = cairn.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": name}],
                              MaxResults=50)["Events"]
    return [(e["EventName"], json.loads(e["CloudTrailEvent"]).get("errorCode"), e.get("Resources", []))
            for e in events]


@pytest.fixture(scope="module")
def mallory(cairn):
    s3, ct = cairn.client("s3"), cairn.client("cloudtrail")
    s3.create_bucket(Bucket="watched-bkt")
    s3.put_bucket_policy(Bucket="watched-bkt", Policy=cloudtrail_policy("watched-bkt"))
    ct.create_trail(Name=TRAIL, S3BucketName="watched-bkt")
    ct.start_logging(Name=TRAIL)
    cairn.client("logs").create_log_group(logGroupName=GROUP)
    iam = cairn.client("iam")
    iam.create_user(UserName="mallory-lookup")
    key = iam.create_access_key(UserName="mallory-lookup")["AccessKey"]
    return lambda service: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], service)


def test_refused_calls_on_a_trail_are_found_under_it(cairn, mallory):
    ct = mallory("cloudtrail")
    for call in (lambda: ct.stop_logging(Name=TRAIL), lambda: ct.delete_trail(Name=TRAIL_ARN)):
        with pytest.raises(botocore.exceptions.ClientError):
            call()
    # A failed call of an allowed caller: the bucket does not exist.
    with pytest.raises(cairn.client("cloudtrail").exceptions.S3BucketDoesNotExistException):
        cairn.client("cloudtrail").update_trail(Name=TRAIL, S3BucketName="no-such-watched-bkt")
    found = by_resource(cairn, TRAIL_ARN)
    names = [(n, code) for n, code, _ in found]
    assert ("StopLogging", "AccessDenied") in names
    assert ("DeleteTrail", "AccessDenied") in names
    assert ("UpdateTrail", "S3BucketDoesNotExistException") in names
    assert ("StartLogging", None) in names
    stop = next(r for n, _, r in found if n == "StopLogging")
    assert stop == [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": TRAIL_ARN}]
    # A name that is no trail name lists nothing.
    with pytest.raises(botocore.exceptions.ClientError):
        ct.stop_logging(Name="-not a trail-")
    junk = [json.loads(e["CloudTrailEvent"]) for e in cairn.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "StopLogging"}])["Events"]]
    assert [r.get("resources") for r in junk if r["requestParameters"]["name"] == "-not a trail-"] == [None]


def test_a_refused_call_on_a_log_group_is_found_under_it(cairn, mallory):
    with pytest.raises(botocore.exceptions.ClientError):
        mallory("logs").delete_log_group(logGroupName=GROUP)
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{GROUP}"
    with pytest.raises(botocore.exceptions.ClientError):
        mallory("logs").untag_resource(resourceArn=group_arn, tagKeys=["protected"])
    names = [(n, code) for n, code, _ in by_resource(cairn, GROUP)]
    assert ("DeleteLogGroup", "AccessDenied") in names and ("CreateLogGroup", None) in names
    assert ("UntagResource", "AccessDenied") in names


def test_refused_tag_calls_on_a_trail_are_found_under_it(cairn, mallory):
    ct = mallory("cloudtrail")
    for call in (lambda: ct.remove_tags(ResourceId=TRAIL_ARN, TagsList=[{"Key": "protected"}]),
                 lambda: ct.add_tags(ResourceId=TRAIL_ARN, TagsList=[{"Key": "k", "Value": "v"}]),
                 lambda: ct.list_tags(ResourceIdList=[TRAIL_ARN])):
        with pytest.raises(botocore.exceptions.ClientError):
            call()
    names = [(n, code) for n, code, _ in by_resource(cairn, TRAIL_ARN)]
    for name in ("RemoveTags", "AddTags", "ListTags"):
        assert (name, "AccessDenied") in names, (name, names)


def test_a_root_record_names_the_account_alias(cairn):
    """The CloudTrail User Guide (userIdentity, type Root): "If the userIdentity type is Root
    and you set an alias for your account, the userName field contains your account alias."
    Event history's Username stays `root`."""
    iam, ct = cairn.client("iam"), cairn.client("cloudtrail")
    iam.create_account_alias(AccountAlias="watched-alias")
    try:
        ct.get_trail(Name=TRAIL)
        [event] = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetTrail"}],
                                   MaxResults=1)["Events"]
        identity = json.loads(event["CloudTrailEvent"])["userIdentity"]
        assert identity["type"] == "Root" and identity["userName"] == "watched-alias"
        assert list(identity)[list(identity).index("accessKeyId") + 1] == "userName"
        assert event["Username"] == "root"
    finally:
        iam.delete_account_alias(AccountAlias="watched-alias")


def test_the_store_still_verifies(cairn, mallory):
    cairn.proc.kill()
    cairn.proc.wait()
    out = cairn.admin("verify-store")
    assert "Chain intact" in out
