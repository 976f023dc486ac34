"""boto3: errors as modeled exceptions, every lookup attribute, auto-pagination over > 500 events."""

import json

import botocore.exceptions
import pytest

from conftest import cloudtrail_policy


def test_modeled_exceptions_match(cairn):
    ct = cairn.client("cloudtrail")
    with pytest.raises(ct.exceptions.TrailNotFoundException):
        ct.get_trail(Name="missing-trail")
    with pytest.raises(ct.exceptions.InvalidTrailNameException):
        ct.create_trail(Name="a--b", S3BucketName="whatever")
    with pytest.raises(ct.exceptions.S3BucketDoesNotExistException):
        ct.create_trail(Name="abc", S3BucketName="no-such-bucket")
    with pytest.raises(ct.exceptions.InvalidMaxResultsException):
        ct.lookup_events(MaxResults=100)
    with pytest.raises(ct.exceptions.InvalidLookupAttributesException):
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "a"},
                                           {"AttributeKey": "EventName", "AttributeValue": "b"}])
    with pytest.raises(ct.exceptions.InvalidEventCategoryException):
        ct.lookup_events(EventCategory="nope")
    with pytest.raises(ct.exceptions.InvalidNextTokenException):
        ct.lookup_events(NextToken="forged.token")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cairn.client("s3").get_bucket_location(Bucket="no-such-bucket")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"


def test_each_attribute_and_auto_pagination(cairn):
    ct = cairn.client("cloudtrail", region="eu-central-1")
    s3 = cairn.client("s3", region="eu-central-1")
    s3.create_bucket(Bucket="paging-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    s3.put_bucket_policy(Bucket="paging-bucket", Policy=cloudtrail_policy("paging-bucket"))
    created = ct.create_trail(Name="paging", S3BucketName="paging-bucket")
    for _ in range(520):
        ct.get_trail_status(Name="paging")
    paginator = ct.get_paginator("lookup_events")
    events = [e for page in paginator.paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetTrailStatus"}],
        PaginationConfig={"PageSize": 50}) for e in page["Events"]]
    assert len(events) == 520
    assert len({e["EventId"] for e in events}) == 520
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)

    create = next(e for page in paginator.paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}]) for e in page["Events"])
    record = json.loads(create["CloudTrailEvent"])
    assert record["awsRegion"] == "eu-central-1"
    assert record["responseElements"]["trailARN"] == created["TrailARN"]
    values = {
        "EventId": create["EventId"],
        "EventName": "CreateTrail",
        "ReadOnly": "false",
        "Username": "root",
        "ResourceType": "AWS::CloudTrail::Trail",
        "ResourceName": created["TrailARN"],
        "EventSource": "cloudtrail.amazonaws.com",
        "AccessKeyId": create["AccessKeyId"],
    }
    for key, value in values.items():
        found = [e for page in paginator.paginate(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
                 for e in page["Events"]]
        assert create["EventId"] in {e["EventId"] for e in found}, key
