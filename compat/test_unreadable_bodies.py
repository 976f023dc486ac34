"""A signed call of a real operation whose body cannot be read (truncated JSON, not an
object, bad CBOR) is refused with `SerializationException` and recorded with that refusal
(outside tester logs5: a truncated PutRetentionPolicy left no record, so an attempted write
vanished from the trail, while a body with a member of the wrong type was recorded)."""

import json

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET

ROOT = Credentials(ACCESS_KEY, SECRET)
CALLS = [
    ("logs", "Logs_20140328.PutRetentionPolicy", "application/x-amz-json-1.1", "logs.amazonaws.com",
     "PutRetentionPolicy"),
    ("kms", "TrentService.ScheduleKeyDeletion", "application/x-amz-json-1.1", "kms.amazonaws.com",
     "ScheduleKeyDeletion"),
    ("cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.StopLogging",
     "application/x-amz-json-1.1", "cloudtrail.amazonaws.com", "StopLogging"),
    ("monitoring", "GraniteServiceVersion20100801.DeleteAlarms", "application/x-amz-json-1.0",
     "monitoring.amazonaws.com", "DeleteAlarms"),
]


def send(cairn, service, target, content_type, body):
    headers = {"X-Amz-Target": target, "Content-Type": content_type}
    req = AWSRequest("POST", cairn.endpoint + "/", data=body, headers=headers)
    SigV4Auth(ROOT, service, "us-east-1").add_auth(req)
    resp = urllib3.PoolManager().request("POST", req.url, body=body, headers=dict(req.headers.items()))
    return resp.status, resp.data.decode()


def test_unreadable_bodies_are_refused_and_recorded(cairn):
    for service, target, content_type, _, _ in CALLS:
        for body in ('{"logGroupName":"x",', "[1, 2]", "not json"):
            status, out = send(cairn, service, target, content_type, body)
            assert status == 400 and "SerializationException" in out, (target, body, status, out)
    # A name that is no operation is still refused unrecorded, as AWS does.
    status, out = send(cairn, "logs", "Logs_20140328.NoSuchOperation", "application/x-amz-json-1.1", "{")
    assert status == 400, out
    ct = cairn.client("cloudtrail")
    for _, _, _, source, name in CALLS:
        events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
        records = [json.loads(e["CloudTrailEvent"]) for e in events["Events"]]
        assert len(records) == 3, (name, records)
        for r in records:
            assert (r["eventSource"], r["errorCode"]) == (source, "SerializationException"), r
            assert r["requestParameters"] is None, r
            assert r["userIdentity"]["type"] == "Root", r
    assert not ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "NoSuchOperation"}])["Events"]
