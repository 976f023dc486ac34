"""S3's bucket owner condition (`ExpectedBucketOwner`, `x-amz-expected-bucket-owner`; and
`ExpectedSourceBucketOwner` for a copy's source): a request naming another account as the
owner is refused with 403 AccessDenied and acts on nothing, as S3's user guide ("Verifying
bucket ownership with bucket owner condition") says; the refusal is recorded like any other.
Before, the header was ignored and the call went ahead on the bucket. Also: the website
redirect location header, once dropped, is kept."""

import json

import botocore.exceptions
import pytest

ACCOUNT = "123456789012"
OTHER = "999988887777"
BUCKET = "owner-condition"
SOURCE = "owner-condition-src"


def refused(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    err = e.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(cairn):
    s3 = cairn.client("s3")
    for b in (BUCKET, SOURCE):
        s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=SOURCE, Key="src.txt", Body=b"source")
    return s3


def test_a_wrong_owner_writes_nothing(s3):
    assert refused(lambda: s3.put_object(
        Bucket=BUCKET, Key="k", Body=b"x", ExpectedBucketOwner=OTHER)) == ("AccessDenied", 403)
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
    assert refused(lambda: s3.get_object(
        Bucket=SOURCE, Key="src.txt", ExpectedBucketOwner=OTHER)) == ("AccessDenied", 403)
    # A copy: the destination's owner and the source's are each checked.
    assert refused(lambda: s3.copy_object(
        Bucket=BUCKET, Key="copy", CopySource={"Bucket": SOURCE, "Key": "src.txt"},
        ExpectedSourceBucketOwner=OTHER)) == ("AccessDenied", 403)
    assert refused(lambda: s3.copy_object(
        Bucket=BUCKET, Key="copy", CopySource={"Bucket": SOURCE, "Key": "src.txt"},
        ExpectedBucketOwner=OTHER, ExpectedSourceBucketOwner=ACCOUNT)) == ("AccessDenied", 403)
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
    # Bucket calls: nothing deleted, nothing set.
    assert refused(lambda: s3.delete_bucket(Bucket=SOURCE, ExpectedBucketOwner=OTHER)) == (
        "AccessDenied", 403)
    assert refused(lambda: s3.put_bucket_tagging(
        Bucket=BUCKET, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]},
        ExpectedBucketOwner=OTHER)) == ("AccessDenied", 403)
    assert refused(lambda: s3.get_bucket_tagging(Bucket=BUCKET))[0] == "NoSuchTagSet"
    assert s3.head_bucket(Bucket=SOURCE)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_the_right_owner_acts(s3):
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", ExpectedBucketOwner=ACCOUNT)
    s3.copy_object(Bucket=BUCKET, Key="copy", CopySource={"Bucket": SOURCE, "Key": "src.txt"},
                   ExpectedBucketOwner=ACCOUNT, ExpectedSourceBucketOwner=ACCOUNT)
    got = s3.get_object(Bucket=BUCKET, Key="copy", ExpectedBucketOwner=ACCOUNT)
    assert got["Body"].read() == b"source"


def test_the_refusal_is_recorded(cairn, s3):
    assert refused(lambda: s3.put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"},
        ExpectedBucketOwner=OTHER)) == ("AccessDenied", 403)
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "PutBucketVersioning"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    denied = [r for r in records if r.get("errorCode") == "AccessDenied"]
    assert len(denied) == 1
    assert denied[0]["errorMessage"] == "Access Denied"
    assert denied[0]["requestParameters"]["bucketName"] == BUCKET
    assert s3.get_bucket_versioning(Bucket=BUCKET).get("Status") is None


def test_a_website_redirect_location_is_kept_and_checked(s3):
    """`x-amz-website-redirect-location` was accepted and dropped; S3 keeps it with the object
    (GetObject and HeadObject return it), refuses one that is no path or http(s) URL, and a
    copy takes only the request's."""
    s3.put_object(Bucket=BUCKET, Key="redirected", Body=b"x", WebsiteRedirectLocation="/other")
    assert s3.head_object(Bucket=BUCKET, Key="redirected")["WebsiteRedirectLocation"] == "/other"
    got = s3.get_object(Bucket=BUCKET, Key="redirected")
    assert got["WebsiteRedirectLocation"] == "/other"
    assert refused(lambda: s3.put_object(
        Bucket=BUCKET, Key="bad-redirect", Body=b"x", WebsiteRedirectLocation="ftp://x"))[0] == \
        "InvalidArgument"
    s3.copy_object(Bucket=BUCKET, Key="copied", CopySource={"Bucket": BUCKET, "Key": "redirected"})
    assert "WebsiteRedirectLocation" not in s3.head_object(Bucket=BUCKET, Key="copied")
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="mpu-redirect",
                                        WebsiteRedirectLocation="https://example.com/x")["UploadId"]
    etag = s3.upload_part(Bucket=BUCKET, Key="mpu-redirect", UploadId=upload, PartNumber=1,
                          Body=b"p")["ETag"]
    s3.complete_multipart_upload(Bucket=BUCKET, Key="mpu-redirect", UploadId=upload,
                                 MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]})
    assert s3.head_object(Bucket=BUCKET, Key="mpu-redirect")["WebsiteRedirectLocation"] == \
        "https://example.com/x"
