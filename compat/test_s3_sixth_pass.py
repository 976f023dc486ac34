"""S3 found by outside tester s3six: HeadObject answers its `response-*` overrides as
GetObject does (and its record lists them); a copy of an object onto itself that sets a
website redirect or another storage class is legal, as S3's own message says; an over-long
website redirect is refused for its length, not its prefix."""

import botocore.exceptions
import pytest
import urllib.request

from conftest import cloudtrail_policy, err


@pytest.fixture(scope="module")
def s3(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="sixth-pass")
    s3.put_object(Bucket="sixth-pass", Key="k", Body=b"abc", ContentType="text/plain",
                  CacheControl="max-age=5")
    return s3


def test_head_object_answers_response_overrides(s3):
    r = s3.head_object(Bucket="sixth-pass", Key="k", ResponseContentType="text/html",
                       ResponseCacheControl="no-store",
                       ResponseContentDisposition="attachment; filename=x.txt")
    h = r["ResponseMetadata"]["HTTPHeaders"]
    assert h["content-type"] == "text/html"
    assert h["cache-control"] == "no-store"
    assert h["content-disposition"] == "attachment; filename=x.txt"
    plain = s3.head_object(Bucket="sixth-pass", Key="k")["ResponseMetadata"]["HTTPHeaders"]
    assert plain["content-type"] == "text/plain" and plain["cache-control"] == "max-age=5"

    url = s3.generate_presigned_url("head_object", Params={
        "Bucket": "sixth-pass", "Key": "k", "ResponseContentType": "application/x-test"})
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as resp:
        assert resp.headers["Content-Type"] == "application/x-test"


def test_head_object_record_lists_the_overrides(cairn, s3):
    ct = cairn.client("cloudtrail")
    s3.put_bucket_policy(Bucket="sixth-pass", Policy=cloudtrail_policy("sixth-pass"))
    ct.create_trail(Name="sixth-data", S3BucketName="sixth-pass")
    ct.put_event_selectors(TrailName="sixth-data", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::sixth-pass/"]}]}])
    ct.start_logging(Name="sixth-data")
    s3.head_object(Bucket="sixth-pass", Key="k", ResponseContentLanguage="fr")
    heads = [r for r in cairn.records("Data") if r["eventName"] == "HeadObject"]
    assert heads and heads[-1]["requestParameters"]["response-content-language"] == "fr"


def test_copy_in_place_setting_redirect_or_storage_class(s3):
    s3.copy_object(Bucket="sixth-pass", Key="k", CopySource="sixth-pass/k",
                   WebsiteRedirectLocation="/elsewhere")
    assert s3.head_object(Bucket="sixth-pass", Key="k")["WebsiteRedirectLocation"] == "/elsewhere"
    s3.copy_object(Bucket="sixth-pass", Key="k", CopySource="sixth-pass/k",
                   StorageClass="STANDARD_IA")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="sixth-pass", Key="k", CopySource="sixth-pass/k")
    assert err(e)[0] == "InvalidRequest"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="sixth-pass", Key="k", CopySource="sixth-pass/k",
                       StorageClass="STANDARD")
    assert err(e)[0] == "InvalidRequest"


def test_long_redirect_refused_for_its_length(s3):
    s3.put_object(Bucket="sixth-pass", Key="r", Body=b"", WebsiteRedirectLocation="/" + "a" * 2047)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="sixth-pass", Key="r", Body=b"",
                      WebsiteRedirectLocation="/" + "a" * 2048)
    assert err(e)[0] == "InvalidArgument"
    message = e.value.response["Error"]["Message"]
    assert "2048" in message and "prefix" not in message


def test_head_object_refuses_an_override_no_header_can_carry(cairn, s3):
    """A control character in a `response-*` override is refused with a 400, as GetObject
    refuses it, and recorded as refused (recheck29: HeadObject answered 500 after recording a
    success)."""
    for call in (s3.head_object, s3.get_object):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(Bucket="sixth-pass", Key="k", ResponseContentType="text/plain\x01x")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    heads = [r for r in cairn.records("Data") if r["eventName"] == "HeadObject"
             and r["requestParameters"].get("response-content-type", "").endswith("x")]
    assert heads and all(r.get("errorCode") == "InvalidRequest" for r in heads), heads
