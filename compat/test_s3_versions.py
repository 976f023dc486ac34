"""Version ids on an S3 store that keeps no versions: `null` names the current object, any
other id a version that does not exist, and nothing but the current object is ever touched."""

import botocore.exceptions
import pytest

from conftest import err

UNKNOWN = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH"  # well-formed, never issued


@pytest.fixture(scope="module")
def s3(cairn):
    c = cairn.client("s3")
    c.create_bucket(Bucket="ver-bkt")
    c.put_object(Bucket="ver-bkt", Key="k", Body=b"live")
    return c


def live(s3):
    return s3.get_object(Bucket="ver-bkt", Key="k")["Body"].read()


def test_reads_name_only_the_null_version(s3):
    got = s3.get_object(Bucket="ver-bkt", Key="k", VersionId="null")
    assert got["Body"].read() == b"live"
    assert got["VersionId"] == "null"
    assert s3.head_object(Bucket="ver-bkt", Key="k", VersionId="null")["ContentLength"] == 4
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="ver-bkt", Key="k", VersionId=UNKNOWN)
    assert err(e) == ("NoSuchVersion", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="ver-bkt", Key="k", VersionId=UNKNOWN)
    assert err(e)[1] == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="ver-bkt", Key="k", VersionId="bogus")
    assert err(e) == ("InvalidArgument", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="ver-bkt", Key="k", VersionId="bogus")
    assert err(e)[1] == 400


def test_deleting_another_version_leaves_the_object(s3):
    out = s3.delete_object(Bucket="ver-bkt", Key="k", VersionId=UNKNOWN)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert live(s3) == b"live"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket="ver-bkt", Key="k", VersionId="bogus")
    assert err(e) == ("InvalidArgument", 400)
    assert live(s3) == b"live"
    out = s3.delete_objects(Bucket="ver-bkt", Delete={"Objects": [
        {"Key": "k", "VersionId": UNKNOWN}, {"Key": "k", "VersionId": "bogus"}]})
    assert [(d["Key"], d["VersionId"]) for d in out["Deleted"]] == [("k", UNKNOWN)]
    assert [(x["Key"], x["Code"]) for x in out["Errors"]] == [("k", "InvalidArgument")]
    assert live(s3) == b"live"


def test_copy_source_versions(s3):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="ver-bkt", Key="copy", CopySource={"Bucket": "ver-bkt", "Key": "k", "VersionId": UNKNOWN})
    assert err(e) == ("NoSuchVersion", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="ver-bkt", Key="copy", CopySource={"Bucket": "ver-bkt", "Key": "k", "VersionId": "bogus"})
    assert err(e) == ("InvalidArgument", 400)
    s3.copy_object(Bucket="ver-bkt", Key="copy", CopySource={"Bucket": "ver-bkt", "Key": "k", "VersionId": "null"})
    assert s3.get_object(Bucket="ver-bkt", Key="copy")["Body"].read() == b"live"


def test_delete_of_the_null_version_deletes_the_object(s3):
    s3.put_object(Bucket="ver-bkt", Key="gone", Body=b"x")
    out = s3.delete_object(Bucket="ver-bkt", Key="gone", VersionId="null")
    assert out["VersionId"] == "null"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="ver-bkt", Key="gone")
    assert err(e)[1] == 404


def test_naming_a_version_needs_the_version_actions(cairn, s3):
    """As on S3: GetObject/HeadObject with a versionId (even `null`) need s3:GetObjectVersion,
    DeleteObject with one s3:DeleteObjectVersion; without a versionId the plain actions do."""
    import json
    iam = cairn.client("iam")
    iam.create_user(UserName="plain-reader")
    iam.put_user_policy(UserName="plain-reader", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["s3:GetObject", "s3:DeleteObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::ver-bkt", "arn:aws:s3:::ver-bkt/*"]}]}))
    key = iam.create_access_key(UserName="plain-reader")["AccessKey"]
    user = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "s3")
    assert user.get_object(Bucket="ver-bkt", Key="k")["Body"].read() == b"live"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user.get_object(Bucket="ver-bkt", Key="k", VersionId="null")
    assert err(e) == ("AccessDenied", 403)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user.delete_object(Bucket="ver-bkt", Key="k", VersionId="null")
    assert err(e) == ("AccessDenied", 403)
    assert live(s3) == b"live"
    iam.put_user_policy(UserName="plain-reader", PolicyName="v", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjectVersion",
                                                "Resource": "arn:aws:s3:::ver-bkt/*"}]}))
    assert user.get_object(Bucket="ver-bkt", Key="k", VersionId="null")["Body"].read() == b"live"


def test_list_object_versions_lists_each_object_as_its_null_version(cairn):
    """ListObjectVersions used to answer NotImplemented, which broke the usual ways of
    emptying a bucket (boto3's `bucket.object_versions.delete()`, Terraform's force_destroy)
    (outside SDK tester)."""
    import boto3
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="versions-list")
    keys = [f"d/{i:02}" for i in range(5)] + ["top"]
    for k in keys:
        s3.put_object(Bucket="versions-list", Key=k, Body=k.encode())
    pages = list(s3.get_paginator("list_object_versions").paginate(
        Bucket="versions-list", PaginationConfig={"PageSize": 2}))
    listed = [v for p in pages for v in p.get("Versions", [])]
    assert [v["Key"] for v in listed] == keys and len(pages) == 3
    assert all(v["VersionId"] == "null" and v["IsLatest"] for v in listed)
    assert pages[0]["NextKeyMarker"] == "d/01" and pages[0]["NextVersionIdMarker"] == "null"
    grouped = s3.list_object_versions(Bucket="versions-list", Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["d/"]
    assert [v["Key"] for v in grouped["Versions"]] == ["top"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_object_versions(Bucket="versions-list", VersionIdMarker="null")
    assert err(e) == ("InvalidArgument", 400)
    # boto3's resource way of emptying a bucket, then deleting it.
    resource = boto3.resource("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                              aws_access_key_id=s3._request_signer._credentials.access_key,
                              aws_secret_access_key=s3._request_signer._credentials.secret_key)
    resource.Bucket("versions-list").object_versions.delete()
    assert "Contents" not in s3.list_objects_v2(Bucket="versions-list")
    s3.delete_bucket(Bucket="versions-list")
