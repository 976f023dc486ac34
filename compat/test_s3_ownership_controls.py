"""Bucket ownership controls (s3ver3 F2). Before, PutBucketOwnershipControls and
DeleteBucketOwnershipControls answered 501 even for `BucketOwnerEnforced`, the setting every
Cairn bucket has, so Terraform's and CDK's ownership resources (and a CloudFormation bucket
with `OwnershipControls`) failed. Now `BucketOwnerEnforced` is put, read and deleted as on
S3; the ACL-keeping settings stay `NotImplemented`."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import settled_stack

ENFORCED = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def error(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_bucket_owner_enforced_is_put_read_and_deleted(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="owned-bkt")
    s3.put_bucket_ownership_controls(Bucket="owned-bkt", OwnershipControls=ENFORCED)
    got = s3.get_bucket_ownership_controls(Bucket="owned-bkt")["OwnershipControls"]
    assert got == ENFORCED
    for other in ("ObjectWriter", "BucketOwnerPreferred"):
        assert error(s3.put_bucket_ownership_controls, Bucket="owned-bkt", OwnershipControls={
            "Rules": [{"ObjectOwnership": other}]}) == ("NotImplemented", 501)
    assert s3.delete_bucket_ownership_controls(Bucket="owned-bkt")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error(s3.get_bucket_ownership_controls, Bucket="owned-bkt") == (
        "OwnershipControlsNotFoundError", 404)
    s3.put_bucket_ownership_controls(Bucket="owned-bkt", OwnershipControls=ENFORCED)
    assert s3.get_bucket_ownership_controls(Bucket="owned-bkt")["OwnershipControls"] == ENFORCED
    names = [r["eventName"] for r in cairn.records("Management")
             if (r.get("requestParameters") or {}).get("bucketName") == "owned-bkt"]
    assert names.count("PutBucketOwnershipControls") == 4, names
    assert "DeleteBucketOwnershipControls" in names
    put = [r for r in cairn.records("Management") if r["eventName"] == "PutBucketOwnershipControls"][0]
    assert put["requestParameters"]["OwnershipControls"]["Rule"] == {
        "ObjectOwnership": "BucketOwnerEnforced"}, put


def test_a_cloudformation_bucket_takes_bucket_owner_enforced(cairn):
    cfn, s3 = cairn.client("cloudformation"), cairn.client("s3")
    template = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {
        "BucketName": "cfn-owned-bkt", "OwnershipControls": ENFORCED}}}}
    cfn.create_stack(StackName="owned", TemplateBody=json.dumps(template))
    status = settled_stack(cfn, "owned")
    assert status == "CREATE_COMPLETE", cfn.describe_stack_events(StackName="owned")["StackEvents"]
    assert s3.get_bucket_ownership_controls(Bucket="cfn-owned-bkt")["OwnershipControls"] == ENFORCED
    del template["Resources"]["B"]["Properties"]["OwnershipControls"]
    cfn.update_stack(StackName="owned", TemplateBody=json.dumps(template))
    assert settled_stack(cfn, "owned") == "UPDATE_COMPLETE"

    assert error(s3.get_bucket_ownership_controls, Bucket="cfn-owned-bkt") == (
        "OwnershipControlsNotFoundError", 404)
