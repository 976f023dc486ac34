"""S3 lifecycle rules through boto3, as S3 applies them: expiration rounded up to the next
midnight UTC, `Date` expiration, aborting incomplete multipart uploads, and S3's validation.
Tag and object-size filters select what they name (objects keep their tags). A rule with an
action Cairn does not apply is refused whole (`NotImplemented`): it used to be stored without
its filter, which widened it to the whole bucket."""

import json
import time

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
        {"Filter": {"ObjectSizeGreaterThan": 10}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
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


def test_tag_and_size_filters_select_what_they_name(s3, cairn):
    b = "lc-filters"
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="t/match", Body=b"x", Tagging="class=temp&team=a")
    s3.put_object(Bucket=b, Key="t/other-value", Body=b"x", Tagging="class=keep")
    s3.put_object(Bucket=b, Key="t/untagged", Body=b"x")
    s3.put_object(Bucket=b, Key="and/match", Body=b"x" * 50, Tagging="class=temp")
    s3.put_object(Bucket=b, Key="and/too-small", Body=b"x" * 5, Tagging="class=temp")
    s3.put_object(Bucket=b, Key="and/no-tag", Body=b"x" * 50)
    s3.put_object(Bucket=b, Key="size/big", Body=b"x" * 200)
    s3.put_object(Bucket=b, Key="size/small", Body=b"x" * 20)
    s3.put_object(Bucket=b, Key="size/exact", Body=b"x" * 100)
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "tag", "Status": "Enabled", "Filter": {"Tag": {"Key": "class", "Value": "temp"}},
         "Expiration": {"Days": 1}},
        {"ID": "and", "Status": "Enabled", "Expiration": {"Days": 1}, "Filter": {"And": {
            "Prefix": "and/", "Tags": [{"Key": "class", "Value": "temp"}],
            "ObjectSizeGreaterThan": 10}}},
        {"ID": "size", "Status": "Enabled", "Expiration": {"Days": 1},
         "Filter": {"ObjectSizeGreaterThan": 100}},
    ]})
    rules = {r["ID"]: r["Filter"] for r in s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]}
    assert rules["tag"] == {"Tag": {"Key": "class", "Value": "temp"}}
    assert rules["and"] == {"And": {"Prefix": "and/", "Tags": [{"Key": "class", "Value": "temp"}],
                                    "ObjectSizeGreaterThan": 10}}
    assert rules["size"] == {"ObjectSizeGreaterThan": 100}
    report = run(cairn, 4102444800)  # 2100-01-01
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"])
    assert left == ["and/no-tag", "size/exact", "size/small", "t/other-value", "t/untagged"]
    assert report["Expired"] == 4


def test_filter_validation(s3):
    s3.create_bucket(Bucket="lc-filter-valid")
    tags = [{"Key": "k", "Value": "v"}]
    assert refused(s3, "lc-filter-valid", [{
        "ID": "a", "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        "Filter": {"Tag": tags[0]}}]) == (
        "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags.")
    assert refused(s3, "lc-filter-valid", [{
        "ID": "d", "Status": "Enabled", "Expiration": {"Days": 1},
        "Filter": {"And": {"Prefix": "p", "Tags": tags + tags}}}]) == (
        "InvalidRequest", "Duplicate Tag Keys are not allowed.")
    code, _ = refused(s3, "lc-filter-valid", [{
        "ID": "s", "Status": "Enabled", "Expiration": {"Days": 1},
        "Filter": {"And": {"ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 10}}}])
    assert code == "InvalidArgument"


def test_a_filter_naming_two_predicates_outside_and_is_malformed(s3):
    """S3: a Filter names exactly one of Prefix, Tag, a size bound or And. Reading one
    predicate and dropping the other would widen the rule (reviewer)."""
    s3.create_bucket(Bucket="lc-two")
    s3.put_object(Bucket="lc-two", Key="keep", Body=b"x")
    for f in ({"Prefix": "tmp/", "Tag": {"Key": "k", "Value": "v"}},
              {"ObjectSizeGreaterThan": 1, "ObjectSizeLessThan": 10}):
        code, _ = refused(s3, "lc-two", [{"ID": "r", "Status": "Enabled", "Filter": f,
                                          "Expiration": {"Days": 1}}])
        assert code == "MalformedXML", f


def test_what_the_schema_does_not_allow_is_refused_not_widened(cairn, s3):
    """A lowercase Status was stored as Disabled, an empty And expired the whole bucket, a
    top-level Prefix beside a Filter was dropped, a tag without a key was taken (S3 features
    tester)."""
    import boto3
    from botocore.config import Config
    from conftest import ACCESS_KEY, SECRET
    raw = boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                       aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                       config=Config(parameter_validation=False))
    s3.create_bucket(Bucket="lc-schema")
    s3.put_object(Bucket="lc-schema", Key="keep", Body=b"x")
    days = {"Expiration": {"Days": 1}}
    for rule, code in [
        ({"Status": "enabled", "Filter": {"Prefix": ""}}, "MalformedXML"),
        ({"Status": "Enabled", "Filter": {"And": {}}}, "MalformedXML"),
        ({"Status": "Enabled", "Filter": {"Prefix": "a/"}, "Prefix": "b/"}, "MalformedXML"),
        ({"Status": "Enabled", "Filter": {"Tag": {"Value": "v"}}}, "InvalidTag"),
        ({"Status": "Enabled", "Filter": {"Tag": {"Key": "k" * 129, "Value": "v"}}}, "InvalidTag"),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            raw.put_bucket_lifecycle_configuration(Bucket="lc-schema", LifecycleConfiguration={
                "Rules": [dict(rule, ID="r", **days)]})
        assert e.value.response["Error"]["Code"] == code, rule
    assert run(cairn, 4102444800)["Expired"] == 0
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="lc-schema")["Contents"]] == ["keep"]


def test_the_record_carries_the_configuration_as_sent(cairn, s3):
    """PutBucketLifecycle's record keeps `LifecycleConfiguration`, as AWS's does: detections
    of a short expiration on a trail's bucket (Stratus Red Team's
    cloudtrail-lifecycle-rule) read `requestParameters.LifecycleConfiguration.Rule`."""
    s3.create_bucket(Bucket="lc-recorded")
    s3.put_bucket_lifecycle_configuration(Bucket="lc-recorded", LifecycleConfiguration={"Rules": [
        {"ID": "nuke", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]})
    record = [r for r in cairn.records("Management") if r["eventName"] == "PutBucketLifecycle"
              and r["requestParameters"]["bucketName"] == "lc-recorded"][-1]
    rule = record["requestParameters"]["LifecycleConfiguration"]["Rule"]
    # `Days` a number, as Panther's AWS.CloudTrail.ShortLifecycle compares it with one.
    assert rule["ID"] == "nuke" and rule["Expiration"] == {"Days": 1} and rule["Status"] == "Enabled"


def test_objects_a_rule_expires_carry_x_amz_expiration(s3):
    s3.create_bucket(Bucket="lc-header")
    assert "Expiration" not in s3.put_object(Bucket="lc-header", Key="keep/a", Body=b"a")
    s3.put_bucket_lifecycle_configuration(Bucket="lc-header", LifecycleConfiguration={"Rules": [
        {"ID": "month", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 30}},
        {"ID": "logs-day", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
         "Expiration": {"Days": 1}},
        {"ID": "off", "Filter": {"Prefix": "logs/"}, "Status": "Disabled",
         "Expiration": {"Date": "2000-01-01T00:00:00Z"}},
    ]})
    put = s3.put_object(Bucket="lc-header", Key="logs/b", Body=b"b")
    head = s3.head_object(Bucket="lc-header", Key="logs/b")
    def expected_for(key):
        """The logs-day rule's header for `key`: from its own creation day (a copy made just
        after midnight UTC expires a day later than its source)."""
        created = int(s3.head_object(Bucket="lc-header", Key=key)["LastModified"].timestamp())
        when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime((created // DAY + 2) * DAY))
        return f'expiry-date="{when}", rule-id="logs-day"'

    expected = expected_for("logs/b")
    assert put["Expiration"] == expected
    assert head["Expiration"] == expected
    assert s3.get_object(Bucket="lc-header", Key="logs/b")["Expiration"] == expected
    # The object put before the rule is covered by the 30-day rule from its creation.
    older = s3.head_object(Bucket="lc-header", Key="keep/a")
    assert older["Expiration"].endswith('rule-id="month"')
    # CopyObject and CompleteMultipartUpload answer it too.
    copied = s3.copy_object(Bucket="lc-header", Key="logs/c", CopySource="lc-header/keep/a")
    assert copied["Expiration"] == expected_for("logs/c")
    upload = s3.create_multipart_upload(Bucket="lc-header", Key="logs/d")["UploadId"]
    part = s3.upload_part(Bucket="lc-header", Key="logs/d", UploadId=upload, PartNumber=1, Body=b"d")
    done = s3.complete_multipart_upload(
        Bucket="lc-header", Key="logs/d", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["Expiration"] == expected_for("logs/d")
    s3.delete_bucket_lifecycle(Bucket="lc-header")
    assert "Expiration" not in s3.head_object(Bucket="lc-header", Key="logs/b")


def test_uploads_a_rule_aborts_carry_the_abort_date_and_rule(s3):
    s3.create_bucket(Bucket="lc-abort")
    plain = s3.create_multipart_upload(Bucket="lc-abort", Key="big/a")
    assert "AbortDate" not in plain and "AbortRuleId" not in plain
    s3.put_bucket_lifecycle_configuration(Bucket="lc-abort", LifecycleConfiguration={"Rules": [
        {"ID": "week", "Filter": {"Prefix": ""}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        {"ID": "big uploads", "Filter": {"Prefix": "big/"}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
        {"ID": "off", "Filter": {"Prefix": "big/"}, "Status": "Disabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
    ]})
    before = time.time()
    started = s3.create_multipart_upload(Bucket="lc-abort", Key="big/b")
    after = time.time()
    # Two days after it began, rounded up to midnight UTC: the day the sweep aborts it.
    due = {(int(t) + 2 * DAY + DAY - 1) // DAY * DAY for t in (before, after)}
    assert int(started["AbortDate"].timestamp()) in due, started["AbortDate"]
    assert started["AbortRuleId"] == "big uploads"
    other = s3.create_multipart_upload(Bucket="lc-abort", Key="small/c")
    assert other["AbortRuleId"] == "week"
    assert other["AbortDate"] > started["AbortDate"]
    # ListParts says the same (s3ver3 F5: it said nothing).
    parts = s3.list_parts(Bucket="lc-abort", Key="big/b", UploadId=started["UploadId"])
    assert (parts["AbortDate"], parts["AbortRuleId"]) == (started["AbortDate"], "big uploads")
    parts = s3.list_parts(Bucket="lc-abort", Key="big/a", UploadId=plain["UploadId"])
    assert parts["AbortRuleId"] == "big uploads", "the rules of now judge an older upload"

