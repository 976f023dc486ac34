"""What detections of real attacks read in Cairn's records (outside tester "detect", who ran
panther-analysis rules and Stratus Red Team techniques against Cairn). Before:
- Stratus's `cloudtrail-event-selectors` call (management events off, data resources with
  empty `Values`) was refused, though AWS accepts it (the technique's real record), so the
  detections of a trail blinded this way could not be tested against Cairn;
- a refused SSE-C write (S3 ransomware) was recorded without its SSE-C headers, which the
  detections of it read (`x-amz-server-side-encryption-customer-algorithm`)."""

import base64
import hashlib

import pytest
from botocore.exceptions import ClientError

from conftest import cloudtrail_policy


@pytest.fixture(scope="module")
def s3(cairn):
    """A client, with a logging trail that selects every S3 data event."""
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="detect-logs")
    s3.put_bucket_policy(Bucket="detect-logs", Policy=cloudtrail_policy("detect-logs"))
    ct = cairn.client("cloudtrail")
    ct.create_trail(Name="detect", S3BucketName="detect-logs")
    ct.put_event_selectors(TrailName="detect", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
    ct.start_logging(Name="detect")
    return s3


def test_the_stratus_event_selector_blinding_is_accepted_and_recorded(cairn):
    s3, ct = cairn.client("s3"), cairn.client("cloudtrail")
    s3.create_bucket(Bucket="blind-logs")
    s3.put_bucket_policy(Bucket="blind-logs", Policy=cloudtrail_policy("blind-logs"))
    ct.create_trail(Name="blinded", S3BucketName="blind-logs")
    selectors = [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": False,
                  "DataResources": [{"Type": "AWS::S3::Object", "Values": []},
                                    {"Type": "AWS::Lambda::Function", "Values": []}]}]
    ct.put_event_selectors(TrailName="blinded", EventSelectors=selectors)
    got = ct.get_event_selectors(TrailName="blinded")["EventSelectors"]
    assert got[0]["IncludeManagementEvents"] is False
    assert [d["Values"] for d in got[0]["DataResources"]] == [[], []]
    [rec] = [r for r in cairn.records("Management") if r["eventName"] == "PutEventSelectors"
             and r["requestParameters"]["trailName"] == "blinded"]
    assert "errorCode" not in rec, rec
    assert rec["requestParameters"]["eventSelectors"][0]["includeManagementEvents"] is False


def test_a_refused_sse_c_write_records_its_sse_c_headers(cairn, s3):
    s3.create_bucket(Bucket="ssec-victim")
    s3.put_object(Bucket="ssec-victim", Key="db.csv", Body=b"rows")
    key = b"k" * 32
    md5 = base64.b64encode(hashlib.md5(key).digest()).decode()
    for call in (
        lambda: s3.put_object(Bucket="ssec-victim", Key="db.csv", Body=b"x",
                              SSECustomerAlgorithm="AES256", SSECustomerKey=key),
        lambda: s3.copy_object(Bucket="ssec-victim", Key="db.csv",
                               CopySource={"Bucket": "ssec-victim", "Key": "db.csv"},
                               SSECustomerAlgorithm="AES256", SSECustomerKey=key),
    ):
        with pytest.raises(ClientError):
            call()
    records = [r for r in cairn.records("Data")
               if (r.get("requestParameters") or {}).get("bucketName") == "ssec-victim"
               and r.get("errorCode")]
    assert {r["eventName"] for r in records} >= {"PutObject", "CopyObject"}, records
    for r in records:
        params = r["requestParameters"]
        assert params["x-amz-server-side-encryption-customer-algorithm"] == "AES256", r
        assert params["x-amz-server-side-encryption-customer-key-MD5"] == md5, r
        text = str(r)
        assert base64.b64encode(key).decode() not in text, "the key is never recorded"
