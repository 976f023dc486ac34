"""Object tags are kept (they used to be authorized and recorded, then dropped): the
`x-amz-tagging` header of PutObject, CreateMultipartUpload and CopyObject (with its
`x-amz-tagging-directive`), Put/Get/DeleteObjectTagging, GetObject's tag count, S3's limits
and messages, `s3:ExistingObjectTag/<key>` in policies (the S3 user guide's example 1), and
the data events of the tagging calls."""

import json

import botocore.exceptions
import pytest

from conftest import cloudtrail_policy, err

B = "tags-bkt"


@pytest.fixture(scope="module")
def s3(cairn):
    c = cairn.client("s3")
    c.create_bucket(Bucket="tags-trail")
    c.put_bucket_policy(Bucket="tags-trail", Policy=cloudtrail_policy("tags-trail"))
    ct = cairn.client("cloudtrail")
    ct.create_trail(Name="tags", S3BucketName="tags-trail")
    ct.put_event_selectors(TrailName="tags", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{B}/"]}]}])
    ct.start_logging(Name="tags")
    c.create_bucket(Bucket=B)
    return c


def user_s3(cairn, name, statements):
    """An S3 client of a new IAM user whose only policy is `statements`."""
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "s3")


def tags_of(s3, key):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=B, Key=key)["TagSet"]}


def test_put_object_keeps_the_header_tags_and_get_counts_them(s3):
    s3.put_object(Bucket=B, Key="a", Body=b"x", Tagging="env=prod&team=a%20b&empty=")
    assert tags_of(s3, "a") == {"env": "prod", "team": "a b", "empty": ""}
    assert s3.get_object(Bucket=B, Key="a")["TagCount"] == 3
    assert s3.head_object(Bucket=B, Key="a")["TagCount"] == 3
    s3.put_object(Bucket=B, Key="plain", Body=b"x")
    assert s3.get_object_tagging(Bucket=B, Key="plain")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=B, Key="plain")


def test_put_and_delete_object_tagging_replace_the_whole_set(s3):
    s3.put_object(Bucket=B, Key="b", Body=b"x", Tagging="old=1")
    s3.put_object_tagging(Bucket=B, Key="b", Tagging={"TagSet": [
        {"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}]})
    assert tags_of(s3, "b") == {"k1": "v1", "k2": "v2"}
    r = s3.delete_object_tagging(Bucket=B, Key="b")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, "b") == {}
    # Overwriting an object replaces its tags with the new write's.
    s3.put_object_tagging(Bucket=B, Key="b", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.put_object(Bucket=B, Key="b", Body=b"y")
    assert tags_of(s3, "b") == {}


def test_multipart_uploads_give_their_tags_to_the_object(s3):
    u = s3.create_multipart_upload(Bucket=B, Key="mp", Tagging="stage=raw")["UploadId"]
    etag = s3.upload_part(Bucket=B, Key="mp", UploadId=u, PartNumber=1, Body=b"p")["ETag"]
    s3.complete_multipart_upload(Bucket=B, Key="mp", UploadId=u, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert tags_of(s3, "mp") == {"stage": "raw"}


def test_copies_keep_the_source_tags_unless_told_to_replace_them(s3):
    s3.put_object(Bucket=B, Key="src", Body=b"x", Tagging="a=1")
    s3.copy_object(Bucket=B, Key="copy", CopySource=f"{B}/src")
    assert tags_of(s3, "copy") == {"a": "1"}
    # COPY ignores the header; REPLACE takes it (or nothing).
    s3.copy_object(Bucket=B, Key="copy2", CopySource=f"{B}/src", Tagging="b=2")
    assert tags_of(s3, "copy2") == {"a": "1"}
    s3.copy_object(Bucket=B, Key="copy3", CopySource=f"{B}/src", Tagging="b=2",
                   TaggingDirective="REPLACE")
    assert tags_of(s3, "copy3") == {"b": "2"}
    s3.copy_object(Bucket=B, Key="copy4", CopySource=f"{B}/src", TaggingDirective="REPLACE",
                   MetadataDirective="REPLACE")
    assert tags_of(s3, "copy4") == {}
    # Replacing the metadata keeps the tags (the directives are separate).
    s3.copy_object(Bucket=B, Key="copy5", CopySource=f"{B}/src", MetadataDirective="REPLACE")
    assert tags_of(s3, "copy5") == {"a": "1"}


def test_s3_limits_and_messages(s3):
    s3.put_object(Bucket=B, Key="lim", Body=b"x")
    cases = [
        ([{"Key": f"k{i}", "Value": "v"} for i in range(11)],
         ("BadRequest", 400), "Object tags cannot be greater than 10"),
        ([{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}],
         ("InvalidTag", 400), "Cannot provide multiple Tags with the same key"),
        ([{"Key": "k" * 129, "Value": "v"}], ("InvalidTag", 400), "The TagKey you have provided is invalid"),
        ([{"Key": "k", "Value": "v" * 257}], ("InvalidTag", 400), "The TagValue you have provided is invalid"),
        ([{"Key": "aws:x", "Value": "v"}], ("InvalidTag", 400), "System tags cannot be added/updated by requester"),
    ]
    for tag_set, code, message in cases:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_object_tagging(Bucket=B, Key="lim", Tagging={"TagSet": tag_set})
        assert err(e) == code, tag_set
        assert e.value.response["Error"]["Message"] == message
    # A key twice in the header is InvalidArgument, and nothing is written.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=B, Key="dup", Body=b"x", Tagging="a=1&a=2")
    assert err(e) == ("InvalidArgument", 400)
    assert "without tag name duplicates" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=B, Key="dup")
    assert err(e)[1] == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_tagging(Bucket=B, Key="missing")
    assert err(e) == ("NoSuchKey", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=B, Key="x", CopySource=f"{B}/lim", TaggingDirective="BOGUS")
    assert err(e) == ("InvalidArgument", 400)


def test_existing_object_tags_in_a_policy(cairn, s3):
    """The S3 user guide's "Tagging and access control policies", example 1: a user may read
    only objects tagged environment=production. Writing an object does not see the tags of
    the object it replaces."""
    s3.put_object(Bucket=B, Key="prod", Body=b"p", Tagging="environment=production")
    s3.put_object(Bucket=B, Key="dev", Body=b"d", Tagging="environment=dev")
    user = user_s3(cairn, "tag-reader", [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectTagging"],
         "Resource": f"arn:aws:s3:::{B}/*",
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/environment": "production"}}},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{B}/*",
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/environment": "production"}}},
        {"Effect": "Allow", "Action": "s3:PutObjectTagging", "Resource": f"arn:aws:s3:::{B}/*",
         "Condition": {"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["environment"]}}},
    ])
    assert user.get_object(Bucket=B, Key="prod")["Body"].read() == b"p"
    assert tags_of(user, "prod") == {"environment": "production"}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user.get_object(Bucket=B, Key="dev")
    assert err(e) == ("AccessDenied", 403)
    # PutObject never sees ExistingObjectTag, so that Allow never matches.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user.put_object(Bucket=B, Key="prod", Body=b"overwrite")
    assert err(e) == ("AccessDenied", 403)
    # Retagging dev as production makes it readable; other tag keys are refused.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        user.put_object_tagging(Bucket=B, Key="dev", Tagging={"TagSet": [{"Key": "owner", "Value": "me"}]})
    assert err(e) == ("AccessDenied", 403)
    user.put_object_tagging(Bucket=B, Key="dev", Tagging={"TagSet": [
        {"Key": "environment", "Value": "production"}]})
    assert user.get_object(Bucket=B, Key="dev")["Body"].read() == b"d"


def test_tagging_calls_are_data_events(cairn, s3):
    s3.put_object(Bucket=B, Key="ev", Body=b"x")
    s3.put_object_tagging(Bucket=B, Key="ev", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.get_object_tagging(Bucket=B, Key="ev")
    s3.delete_object_tagging(Bucket=B, Key="ev")
    by_name = {}
    for r in cairn.records("Data"):
        if r["requestParameters"].get("key") == "ev":
            by_name[r["eventName"]] = r
    for name, read_only in (("PutObjectTagging", False), ("GetObjectTagging", True),
                            ("DeleteObjectTagging", False)):
        r = by_name[name]
        assert r["eventCategory"] == "Data" and r["managementEvent"] is False
        assert r["readOnly"] is read_only
        assert r["requestParameters"]["tagging"] == ""
        assert {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{B}/ev"} in r["resources"]
    assert by_name["PutObjectTagging"]["requestParameters"]["Tagging"]["TagSet"] == {
        "Tag": {"Key": "k", "Value": "v"}}


def test_setting_or_counting_tags_needs_the_tagging_permissions(cairn, s3):
    """A write that sets tags also needs s3:PutObjectTagging (the S3 API reference's
    PutObject permissions), and GetObject counts tags only for a caller who may read them
    (reviewer: upload-only rights could tag an object into an ExistingObjectTag grant)."""
    s3.put_object(Bucket=B, Key="counted", Body=b"x", Tagging="k=v")
    user = user_s3(cairn, "plain-writer", [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
         "Resource": f"arn:aws:s3:::{B}/*"}])
    for call in (lambda: user.put_object(Bucket=B, Key="w1", Body=b"x", Tagging="classification=public"),
                 lambda: user.create_multipart_upload(Bucket=B, Key="w2", Tagging="a=b"),
                 lambda: user.copy_object(Bucket=B, Key="w3", CopySource=f"{B}/counted",
                                          Tagging="a=b", TaggingDirective="REPLACE")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert err(e) == ("AccessDenied", 403)
    user.put_object(Bucket=B, Key="w1", Body=b"x")
    assert "TagCount" not in user.get_object(Bucket=B, Key="counted")
    assert "TagCount" not in user.head_object(Bucket=B, Key="counted")
    assert s3.get_object(Bucket=B, Key="counted")["TagCount"] == 1
