"""The CloudTrail operations around Lake that Cairn refuses or serves in part (outside tester
lake3):
- authorized on the resource they name: ListInsightsData on its `InsightSource` trail,
  Get/PutInsightSelectors on the event data store they name (never on `trail/` with an empty
  name), Get/PutEventConfiguration on the trail they name (never on `*`); so a scoped Allow
  reaches the operation and a scoped Deny is recorded as AccessDenied;
- time ranges (timestamp members) are recorded and type-checked: a non-numeric one is
  SerializationException."""

import datetime as dt
import json

import botocore
import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET, cloudtrail_policy, user_with

ACCOUNT = "123456789012"
STORE = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/0b6cd4a1-1111-2222-3333-444455556666"


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def trail(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="lake-edges")
    s3.put_bucket_policy(Bucket="lake-edges", Policy=cloudtrail_policy("lake-edges"))
    return cairn.client("cloudtrail").create_trail(Name="trail1", S3BucketName="lake-edges")["TrailARN"]


def test_operations_are_authorized_on_the_trail_or_store_they_name(cairn, trail):
    allowed = user_with(cairn, "allow-t1", [
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": [trail, STORE]},
        {"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"}])("cloudtrail")
    denied = user_with(cairn, "deny-t1", [
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:*", "Resource": [trail, STORE]}])("cloudtrail")
    calls = {
        "ListInsightsData": lambda c: c.list_insights_data(InsightSource=trail, DataType="InsightsEvents"),
        "GetEventConfiguration": lambda c: c.get_event_configuration(TrailName="trail1"),
        "GetInsightSelectors": lambda c: c.get_insight_selectors(EventDataStore=STORE),
    }
    for name, call in calls.items():
        assert code(lambda: call(allowed)) != "AccessDeniedException", name
        assert code(lambda: call(denied)) == "AccessDeniedException", name
    records = [json.loads(e["CloudTrailEvent"]) for e in cairn.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListInsightsData"}])["Events"]]
    denied_record = [r for r in records if r["userIdentity"].get("userName") == "deny-t1"][0]
    assert denied_record["errorCode"] == "AccessDenied"
    assert trail in denied_record["errorMessage"], denied_record["errorMessage"]


def test_time_ranges_are_recorded_and_checked(cairn, trail):
    ct = cairn.client("cloudtrail")
    start = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    end = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)
    rid = ct.lookup_events(StartTime=start, EndTime=end, MaxResults=1)["ResponseMetadata"]["RequestId"]
    record = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}])["Events"]
        if json.loads(e["CloudTrailEvent"])["requestID"] == rid][0]
    params = record["requestParameters"]
    assert params["startTime"] == start.timestamp() and params["endTime"] == end.timestamp(), params
    body = json.dumps({"StartTime": "yesterday"})
    req = AWSRequest("POST", cairn.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "CloudTrail_20131101.LookupEvents"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "cloudtrail", "us-east-1").add_auth(req)
    resp = urllib3.PoolManager().request("POST", req.url, body=body, headers=dict(req.headers.items()))
    assert resp.status == 400
    assert json.loads(resp.data)["__type"].endswith("SerializationException"), resp.data
