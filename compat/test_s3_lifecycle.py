"""S3 lifecycle rules through boto3, as S3 applies them: expiration rounded up to the next
midnight UTC, `Date` expiration, aborting incomplete multipart uploads, and S3's validation.
A rule with a filter or action Cairn does not apply is refused whole (`NotImplemented`): it
used to be stored without its filter, which widened it to the whole bucket."""

import json

import botocore.exceptions
import pytest

DAY = 86400


@pytest.fixture(scope="module")
def s3(cairn):
    return cairn.client("s3")


def refused(s3, bucket, rules):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    err = e.value.response["Error"]
    return err["Code"], err["Message"]


def run(cairn, now):
    return json.loads(cairn.admin("lifecycle", "run", "--now", str(now)))


def test_rules_cairn_cannot_apply_are_refused_and_nothing_expires(s3, cairn):
    s3.create_bucket(Bucket="lc-refuse")
    s3.put_object(Bucket="lc-refuse", Key="keep/untagged", Body=b"x")
    for rule in [
        {"Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Expiration": {"Days": 1}},
        {"Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}]}}, "Expiration": {"Days": 1}},
        {"Filter": {"ObjectSizeGreaterThan": 10}, "Expiration": {"Days": 1}},
        {"Filter": {"Prefix": ""}, "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},
        {"Filter": {"Prefix": ""}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    ]:
        code, message = refused(s3, "lc-refuse", [dict(rule, ID="r", Status="Enabled")])
        assert code == "NotImplemented", (rule, code, message)
        assert "Cairn does not apply lifecycle" in message, message
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket="lc-refuse")
    assert e.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
    assert run(cairn, 4102444800)["Expired"] == 0  # 2100-01-01
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="lc-refuse")["Contents"]] == ["keep/untagged"]


def test_s3_validation(s3):
    s3.create_bucket(Bucket="lc-valid")
    days = {"Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}}
    assert refused(s3, "lc-valid", [dict(days, ID="same"), dict(days, ID="same")]) == (
        "InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule")
    assert refused(s3, "lc-valid", [dict(days, Expiration={"Date": "2030-01-01T10:00:00Z"})]) == (
        "InvalidArgument", "'Date' must be at midnight GMT")
    assert refused(s3, "lc-valid", [dict(days, Expiration={"Days": 0})]) == (
        "InvalidArgument", "'Days' for Expiration action must be a positive integer")
    code, message = refused(s3, "lc-valid", [{"ID": "none", "Filter": {"Prefix": ""}, "Status": "Enabled"}])
    assert (code, message) == ("InvalidRequest", "At least one action needs to be specified in a rule")


def test_days_round_up_to_midnight_and_dates_and_uploads(s3, cairn):
    s3.create_bucket(Bucket="lc-time")
    s3.put_object(Bucket="lc-time", Key="days/a", Body=b"a")
    s3.put_object(Bucket="lc-time", Key="date/b", Body=b"b")
    created = s3.head_object(Bucket="lc-time", Key="days/a")["LastModified"].timestamp()
    upload = s3.create_multipart_upload(Bucket="lc-time", Key="big/c")["UploadId"]
    s3.put_bucket_lifecycle_configuration(Bucket="lc-time", LifecycleConfiguration={"Rules": [
        {"ID": "days", "Filter": {"Prefix": "days/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "date", "Filter": {"Prefix": "date/"}, "Status": "Enabled",
         "Expiration": {"Date": "2100-01-01T00:00:00Z"}},
        {"ID": "uploads", "Filter": {"Prefix": ""}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
    ]})
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket="lc-time")["Rules"]}
    assert rules["date"]["Expiration"]["Date"].year == 2100
    assert rules["uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 2

    # One day after creation, rounded up to the next midnight UTC.
    due = (int(created) // DAY + 2) * DAY
    assert run(cairn, due - 1) == {"Expired": 0, "AbortedUploads": 0}
    assert run(cairn, due + 1) == {"Expired": 1, "AbortedUploads": 0}
    # Two days after the upload began, rounded likewise.
    assert run(cairn, due + DAY + 1) == {"Expired": 0, "AbortedUploads": 1}
    assert s3.list_multipart_uploads(Bucket="lc-time").get("Uploads", []) == []
    with pytest.raises(botocore.exceptions.ClientError):
        s3.list_parts(Bucket="lc-time", Key="big/c", UploadId=upload)
    # The date rule applies from its date on.
    assert run(cairn, 4102444800 - 1)["Expired"] == 0
    assert run(cairn, 4102444800)["Expired"] == 1
    assert s3.list_objects_v2(Bucket="lc-time").get("Contents", []) == []
