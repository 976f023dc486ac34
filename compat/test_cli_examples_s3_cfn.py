"""What running the AWS CLI's reference examples for s3api and cloudformation against Cairn
found, fixed: ListBuckets' filters and pages, lifecycle rules read back in the form they were
given (with the ID S3 assigns), upload listings' owners, whole-second times, change sets'
RollbackConfiguration, and an update-stack that changes only notification topics."""

import json

import botocore.exceptions
import pytest

ACCOUNT = "123456789012"


def test_list_buckets_filters_by_prefix_and_region_and_pages(cairn):
    s3, west = cairn.client("s3"), cairn.client("s3", region="eu-west-1")
    for name in ("lb-a", "lb-b", "lb-c", "other-lb"):
        s3.create_bucket(Bucket=name)
    west.create_bucket(Bucket="lb-west", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    got = s3.list_buckets(Prefix="lb-")
    assert [b["Name"] for b in got["Buckets"]] == ["lb-a", "lb-b", "lb-c", "lb-west"]
    assert got["Prefix"] == "lb-" and "ContinuationToken" not in got
    assert [b["Name"] for b in s3.list_buckets(Prefix="lb-", BucketRegion="eu-west-1")["Buckets"]] == ["lb-west"]
    # One at a time, with the paginator the CLI uses.
    pages = list(s3.get_paginator("list_buckets").paginate(Prefix="lb-", MaxBuckets=1))
    assert [[b["Name"] for b in p["Buckets"]] for p in pages] == [["lb-a"], ["lb-b"], ["lb-c"], ["lb-west"]]
    # A token is bound to its filters.
    token = s3.list_buckets(Prefix="lb-", MaxBuckets=1)["ContinuationToken"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_buckets(Prefix="other", ContinuationToken=token)
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    # Unfiltered, every bucket, as before.
    assert {"lb-a", "other-lb", "lb-west"} <= {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_lifecycle_rules_come_back_in_the_form_they_were_given_with_an_id(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="lc-forms")
    # The legacy call (put-bucket-lifecycle.rst / get-bucket-lifecycle.rst): a top-level Prefix.
    cairn.cli("s3api", "put-bucket-lifecycle", "--bucket", "lc-forms", "--lifecycle-configuration",
              json.dumps({"Rules": [{"Prefix": "logs/2014/", "Status": "Enabled",
                                     "Expiration": {"Days": 30}}]}))
    legacy = json.loads(cairn.cli("s3api", "get-bucket-lifecycle", "--bucket", "lc-forms").stdout)["Rules"]
    assert legacy[0]["Prefix"] == "logs/2014/" and legacy[0]["Expiration"] == {"Days": 30}
    # S3 gives a rule without an ID one of its own, which stays.
    assert legacy[0]["ID"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket="lc-forms")["Rules"]
    assert rules[0]["Prefix"] == "logs/2014/" and "Filter" not in rules[0]
    assert rules[0]["ID"] == legacy[0]["ID"]
    # A Filter stays a Filter.
    s3.put_bucket_lifecycle_configuration(Bucket="lc-forms", LifecycleConfiguration={"Rules": [
        {"ID": "f", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
    rule = s3.get_bucket_lifecycle_configuration(Bucket="lc-forms")["Rules"][0]
    assert rule["Filter"] == {"Prefix": "tmp/"} and "Prefix" not in rule


def test_upload_listings_name_the_owner_and_initiator_and_times_are_whole_seconds(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="mp-owners")
    upload = s3.create_multipart_upload(Bucket="mp-owners", Key="big")["UploadId"]
    s3.upload_part(Bucket="mp-owners", Key="big", UploadId=upload, PartNumber=1, Body=b"x" * 10)
    parts = s3.list_parts(Bucket="mp-owners", Key="big", UploadId=upload)
    me = {"DisplayName": ACCOUNT, "ID": ACCOUNT}
    assert (parts["Owner"], parts["Initiator"], parts["StorageClass"]) == (me, me, "STANDARD")
    listed = s3.list_multipart_uploads(Bucket="mp-owners")["Uploads"][0]
    assert (listed["Owner"], listed["Initiator"]) == (me, me)
    assert listed["Initiated"].microsecond == 0
    s3.put_object(Bucket="mp-owners", Key="small", Body=b"y")
    entry = s3.list_objects_v2(Bucket="mp-owners")["Contents"][0]
    head = s3.head_object(Bucket="mp-owners", Key="small")
    # The same instant in both, in whole seconds, as S3 gives them.
    assert entry["LastModified"] == head["LastModified"]
    assert entry["LastModified"].microsecond == 0


TEMPLATE = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {}}}})


def test_update_stack_of_notification_topics_alone_is_an_update(cairn):
    cfn, sns = cairn.client("cloudformation"), cairn.client("sns")
    notify = sns.create_topic(Name="cfn-notify")["TopicArn"]
    cfn.create_stack(StackName="notified", TemplateBody=TEMPLATE)
    cfn.get_waiter("stack_create_complete").wait(StackName="notified")
    # update-stack.rst, example 3: "adds two stack notification topics".
    cfn.update_stack(StackName="notified", UsePreviousTemplate=True, NotificationARNs=[notify])
    cfn.get_waiter("stack_update_complete").wait(StackName="notified")
    assert cfn.describe_stacks(StackName="notified")["Stacks"][0]["NotificationARNs"] == [notify]
    # The same topics again change nothing.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.update_stack(StackName="notified", UsePreviousTemplate=True, NotificationARNs=[notify])
    assert "No updates are to be performed." in e.value.response["Error"]["Message"]


def test_describe_change_set_has_a_rollback_configuration(cairn):
    cfn = cairn.client("cloudformation")
    cfn.create_change_set(StackName="cs-rollback", ChangeSetName="first", ChangeSetType="CREATE",
                          TemplateBody=TEMPLATE)
    cfn.get_waiter("change_set_create_complete").wait(StackName="cs-rollback", ChangeSetName="first")
    described = cfn.describe_change_set(StackName="cs-rollback", ChangeSetName="first")
    assert described["RollbackConfiguration"] == {}
