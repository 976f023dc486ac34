"""Trail tag calls on another account's or region's trail, found by outside tester ctapi6
(each failed before its fix): another account's ARN (an organization trail's, which member
accounts list) was `ResourceNotFoundException`, where AWS answers `CloudTrailARNInvalidException`
"AccountID in ARN is wrong…", the code scanners look for; AddTags and RemoveTags from outside
a trail's home region answered `InvalidHomeRegionException`, which neither declares."""


import botocore.exceptions
import pytest

from conftest import cloudtrail_policy

OTHER = "arn:aws:cloudtrail:us-east-1:999999999999:trail/orgtrail"


def refused(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_another_accounts_trail_is_a_wrong_account_id(cairn):
    ct = cairn.client("cloudtrail")
    wrong = ("CloudTrailARNInvalidException",
             "AccountID in ARN is wrong, you can only access resources with AccountID 123456789012.")
    assert refused(lambda: ct.list_tags(ResourceIdList=[OTHER])) == wrong
    assert refused(lambda: ct.add_tags(ResourceId=OTHER, TagsList=[{"Key": "a", "Value": "b"}])) == wrong
    assert refused(lambda: ct.remove_tags(ResourceId=OTHER, TagsList=[{"Key": "a"}])) == wrong


def test_tags_of_a_trail_from_outside_its_home_region(cairn):
    s3, ct = cairn.client("s3"), cairn.client("cloudtrail")
    s3.create_bucket(Bucket="ctapi6-tags")
    s3.put_bucket_policy(Bucket="ctapi6-tags", Policy=cloudtrail_policy("ctapi6-tags"))
    arn = ct.create_trail(Name="tagged", S3BucketName="ctapi6-tags", IsMultiRegionTrail=True)["TrailARN"]
    west = cairn.client("cloudtrail", region="us-west-2")
    wrong = ("CloudTrailARNInvalidException",
             "Region in ARN is wrong, you can only access resources in region us-west-2.")
    assert refused(lambda: west.add_tags(ResourceId=arn, TagsList=[{"Key": "a", "Value": "b"}])) == wrong
    assert refused(lambda: west.remove_tags(ResourceId=arn, TagsList=[{"Key": "a"}])) == wrong
    assert refused(lambda: west.list_tags(ResourceIdList=[arn])) == wrong
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "a", "Value": "b"}])
    assert ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] == [
        {"Key": "a", "Value": "b"}]
