"""EC2 DescribeRegions, which tools call before anything regional (ScoutSuite audited nothing
of CloudTrail, CloudWatch, KMS or SNS without it): every region Cairn serves, with AWS's
opt-in status, filters and names; authorized as `ec2:DescribeRegions` and recorded, a
denial as `Client.UnauthorizedOperation` the way CloudTrail records EC2's errors. Other EC2
actions stay the unserved service's InvalidAction."""

import json

import pytest
from botocore.exceptions import ClientError


def test_describe_regions_through_boto3_and_the_cli(cairn):
    ec2 = cairn.client("ec2", region="eu-west-1")
    regions = {r["RegionName"]: r for r in ec2.describe_regions()["Regions"]}
    assert {"us-east-1", "eu-west-1", "af-south-1", "sa-east-1"} <= set(regions)
    assert regions["us-east-1"]["Endpoint"] == "ec2.us-east-1.amazonaws.com"
    assert regions["us-east-1"]["OptInStatus"] == "opt-in-not-required"
    assert regions["af-south-1"]["OptInStatus"] == "opted-in"
    two = ec2.describe_regions(RegionNames=["us-west-2", "eu-north-1"])["Regions"]
    assert sorted(r["RegionName"] for r in two) == ["eu-north-1", "us-west-2"]
    default = ec2.describe_regions(Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required"]}])
    assert len(default["Regions"]) == 17
    # The CLI reference's own example: filter values take wildcards.
    us = ec2.describe_regions(Filters=[{"Name": "endpoint", "Values": ["*us*"]}])["Regions"]
    assert {r["RegionName"] for r in us} == {"us-east-1", "us-east-2", "us-west-1", "us-west-2"}
    with pytest.raises(ClientError) as e:
        ec2.describe_regions(Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        ec2.describe_regions(RegionNames=["xx-nowhere-7"])
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    out = json.loads(cairn.cli("ec2", "describe-regions", "--region-names", "us-east-1").stdout)
    assert out["Regions"][0]["RegionName"] == "us-east-1"
    with pytest.raises(ClientError) as e:
        ec2.describe_instances()
    assert e.value.response["Error"]["Code"] == "InvalidAction"


def test_describe_regions_is_authorized_and_recorded(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="regions-nobody")
    key = iam.create_access_key(UserName="regions-nobody")["AccessKey"]
    nobody = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "ec2")
    cairn.client("ec2").describe_regions()
    with pytest.raises(ClientError) as e:
        nobody.describe_regions()
    assert e.value.response["Error"]["Code"] == "UnauthorizedOperation"
    assert "ec2:DescribeRegions" in e.value.response["Error"]["Message"]
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "DescribeRegions"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    denied = [r for r in records if r["userIdentity"].get("userName") == "regions-nobody"]
    assert denied and denied[0]["errorCode"] == "Client.UnauthorizedOperation"
    assert denied[0]["eventSource"] == "ec2.amazonaws.com" and denied[0]["readOnly"] is True
    allowed = [r for r in records if r["userIdentity"]["type"] == "Root"]
    assert allowed and "errorCode" not in allowed[0]
    sets = [r["requestParameters"]["regionSet"] for r in allowed]
    assert {} in sets and {"items": [{"regionName": "us-east-1"}]} in sets


def test_dry_run_and_recorded_filters(cairn):
    """DryRun is authorized and answered DryRunOperation (412), not carried out; a denied
    dry run is UnauthorizedOperation. The record lists the filters asked for."""
    ec2 = cairn.client("ec2")
    with pytest.raises(ClientError) as e:
        ec2.describe_regions(DryRun=True)
    assert e.value.response["Error"]["Code"] == "DryRunOperation"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    ec2.describe_regions(Filters=[{"Name": "region-name", "Values": ["eu-west-1", "eu-west-2"]}])
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "DescribeRegions"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    assert any(r.get("errorCode") == "Client.DryRunOperation" for r in records)
    filtered = [r for r in records if "filterSet" in (r["requestParameters"] or {})]
    assert filtered[0]["requestParameters"]["filterSet"] == {"items": [{
        "name": "region-name", "valueSet": {"items": [{"value": "eu-west-1"}, {"value": "eu-west-2"}]}}]}
