"""CloudTrail request bounds and name resolution found by outside testing: tag lists past the
model's 200 items, an empty EventSelectors list, a misspelt resources.type, and shadow trails
named without their ARN (GetTrailStatus and DescribeTrails take the ARN for those)."""

import botocore.exceptions
import pytest

from conftest import cloudtrail_policy, err


@pytest.fixture(scope="module")
def ct(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="limits-bkt")
    s3.put_bucket_policy(Bucket="limits-bkt", Policy=cloudtrail_policy("limits-bkt"))
    client = cairn.client("cloudtrail")
    client.create_trail(Name="limits", S3BucketName="limits-bkt", IsMultiRegionTrail=True)
    return client


def tags(n):
    return [{"Key": f"k{i}", "Value": "v"} for i in range(n)]


def test_tag_lists_past_the_models_200_items_are_refused(ct):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.create_trail(Name="many-tags", S3BucketName="limits-bkt", TagsList=tags(20000))
    assert err(e) == ("ValidationException", 400)
    assert "less than or equal to 200" in e.value.response["Error"]["Message"]
    arn = ct.get_trail(Name="limits")["Trail"]["TrailARN"]
    for call in (ct.add_tags, ct.remove_tags):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(ResourceId=arn, TagsList=tags(201))
        assert err(e) == ("ValidationException", 400)
    assert [t["Name"] for t in ct.list_trails()["Trails"]] == ["limits"]
    # At the bound the request is judged on its merits: 50 tags per trail.
    ct.add_tags(ResourceId=arn, TagsList=tags(50))
    assert len(ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"]) == 50


def test_an_empty_event_selector_list_is_refused(ct):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.put_event_selectors(TrailName="limits", EventSelectors=[])
    assert err(e) == ("InvalidEventSelectorsException", 400)
    # Both kinds, or neither: the model's one selector error too.
    for kinds in ({"EventSelectors": [{"ReadWriteType": "All"}],
                   "AdvancedEventSelectors": [{"FieldSelectors": [
                       {"Field": "eventCategory", "Equals": ["Management"]}]}]}, {}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ct.put_event_selectors(TrailName="limits", **kinds)
        assert err(e) == ("InvalidEventSelectorsException", 400)
    assert ct.get_trail(Name="limits")["Trail"]["HasCustomEventSelectors"] is False


@pytest.mark.parametrize("rtype", ["aws::s3::object", "AWS::S3", "AWS::S3::Object::x", "S3::Object"])
def test_a_misspelt_resources_type_is_refused(ct, rtype):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.put_event_selectors(TrailName="limits", AdvancedEventSelectors=[{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": [rtype]}]}])
    assert err(e) == ("InvalidEventSelectorsException", 400)


def test_a_shadow_trail_is_named_by_its_arn(cairn, ct):
    arn = ct.get_trail(Name="limits")["Trail"]["TrailARN"]
    west = cairn.client("cloudtrail", region="us-west-2")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        west.get_trail_status(Name="limits")
    assert err(e) == ("TrailNotFoundException", 400)
    assert "arn:aws:cloudtrail:us-west-2:123456789012:trail/limits" in e.value.response["Error"]["Message"]
    assert "IsLogging" in west.get_trail_status(Name=arn)
    assert west.describe_trails(trailNameList=["limits"])["trailList"] == []
    [shadow] = west.describe_trails(trailNameList=[arn])["trailList"]
    assert shadow["HomeRegion"] == "us-east-1"
    # In its home region the name is enough.
    assert "IsLogging" in ct.get_trail_status(Name="limits")


def test_an_arn_of_another_partition_names_no_trail(ct):
    arn = ct.get_trail(Name="limits")["Trail"]["TrailARN"]
    other = arn.replace("arn:aws:", "arn:aws-cn:")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.get_trail(Name=other)
    assert err(e) == ("TrailNotFoundException", 400)
    assert ct.describe_trails(trailNameList=[other])["trailList"] == []


def test_get_event_selectors_names_an_unknown_trail_by_its_arn(ct):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.get_event_selectors(TrailName="nosuch")
    assert err(e) == ("TrailNotFoundException", 400)
    assert e.value.response["Error"]["Message"] == (
        "Unknown trail: arn:aws:cloudtrail:us-east-1:123456789012:trail/nosuch for the user: 123456789012")


def test_network_activity_selectors_are_kept_and_checked(ct):
    ct.create_trail(Name="netact", S3BucketName="limits-bkt")
    selectors = [
        {"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "vpce denials", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["NetworkActivity"]},
            {"Field": "eventSource", "Equals": ["cloudtrail.amazonaws.com", "kms.amazonaws.com"]},
            {"Field": "errorCode", "Equals": ["VpceAccessDenied"]}]}]
    ct.put_event_selectors(TrailName="netact", AdvancedEventSelectors=selectors)
    got = ct.get_event_selectors(TrailName="netact")["AdvancedEventSelectors"]
    assert [s["Name"] for s in got] == ["mgmt", "vpce denials"]
    assert got[1]["FieldSelectors"][2] == {"Field": "errorCode", "Equals": ["VpceAccessDenied"]}
    for bad in ([{"Field": "eventCategory", "Equals": ["NetworkActivity"]}],
                [{"Field": "eventCategory", "Equals": ["NetworkActivity"]},
                 {"Field": "eventSource", "Equals": ["ec2.amazonaws.com"]},
                 {"Field": "errorCode", "Equals": ["AccessDenied"]}],
                [{"Field": "eventCategory", "Equals": ["NetworkActivity"]},
                 {"Field": "eventSource", "Equals": ["ec2.amazonaws.com"]},
                 {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ct.put_event_selectors(TrailName="netact", AdvancedEventSelectors=[{"FieldSelectors": bad}])
        assert err(e) == ("InvalidEventSelectorsException", 400)
    assert len(ct.get_event_selectors(TrailName="netact")["AdvancedEventSelectors"]) == 2
    ct.delete_trail(Name="netact")
