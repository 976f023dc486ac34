"""A record names what the call acted on, whatever the body repeats (outside tester's
findings): a JSON member sent twice with its first letter in another case (`Name` and
`name`) is one name in the record, and only the member the call reads counts; a Query
parameter sent twice is read once, its first value, by the call, its authorization and its
record. Before, StopLogging `{"Name": "main", "name": "other"}` stopped `main` and recorded
`other`, and AttachUserPolicy with two PolicyArns attached the first and recorded the last."""

import json

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET, cloudtrail_policy

HTTP = urllib3.PoolManager()


def signed(cairn, service, body, headers):
    req = AWSRequest("POST", cairn.endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), service, "us-east-1").add_auth(req)
    return HTTP.request("POST", req.url, body=body, headers=dict(req.headers.items()))


def last_record(cairn, name):
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
    return json.loads(events[0]["CloudTrailEvent"])


def test_a_json_member_in_another_case_never_replaces_it_in_the_record(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="case-logs")
    s3.put_bucket_policy(Bucket="case-logs", Policy=cloudtrail_policy("case-logs"))
    ct = cairn.client("cloudtrail")
    for name in ("case-main", "case-other"):
        ct.create_trail(Name=name, S3BucketName="case-logs")
        ct.start_logging(Name=name)
    for body in ({"Name": "case-main", "name": "case-other"},
                 {"name": "case-other", "Name": "case-main"}):
        resp = signed(cairn, "cloudtrail", json.dumps(body).encode(), {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.StopLogging"})
        assert resp.status == 200, resp.data
        assert ct.get_trail_status(Name="case-main")["IsLogging"] is False
        assert ct.get_trail_status(Name="case-other")["IsLogging"] is True
        assert last_record(cairn, "StopLogging")["requestParameters"] == {"name": "case-main"}
        ct.start_logging(Name="case-main")


def test_a_query_parameter_sent_twice_is_read_once_everywhere(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="dup-helper")
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    read = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    body = (f"Action=AttachUserPolicy&Version=2010-05-08&UserName=dup-helper"
            f"&PolicyArn={admin}&PolicyArn={read}").encode()
    resp = signed(cairn, "iam", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 200, resp.data
    attached = [p["PolicyArn"] for p in
                iam.list_attached_user_policies(UserName="dup-helper")["AttachedPolicies"]]
    assert attached == [admin]
    assert last_record(cairn, "AttachUserPolicy")["requestParameters"]["policyArn"] == admin

    body = b"Action=CreateUser&Version=2010-05-08&UserName=dup-shadow&UserName=dup-intern"
    assert signed(cairn, "iam", body, {"Content-Type": "application/x-www-form-urlencoded"}).status == 200
    iam.get_user(UserName="dup-shadow")
    found = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": "dup-shadow"}])["Events"]
    assert "CreateUser" in [e["EventName"] for e in found]


def test_a_name_differing_in_case_or_by_a_unicode_lookalike_never_replaces_the_member(cairn):
    """A Query parameter sent again with a lower-case first letter (`policyArn` beside
    `PolicyArn`) is no member and is not recorded over it; a JSON member spelled with the
    Kelvin sign (U+212A, which Unicode lowers to `k`) does not collide with `keyId`."""
    iam = cairn.client("iam")
    iam.create_user(UserName="dup-case")
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    read = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    body = (f"Action=AttachUserPolicy&Version=2010-05-08&UserName=dup-case"
            f"&PolicyArn={admin}&policyArn={read}").encode()
    resp = signed(cairn, "iam", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 200, resp.data
    records = [r for r in (json.loads(e["CloudTrailEvent"]) for e in cairn.client(
        "cloudtrail").lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "AttachUserPolicy"}])["Events"])
        if r["requestParameters"]["userName"] == "dup-case"]
    assert records[0]["requestParameters"]["policyArn"] == admin
    kms = cairn.client("kms")
    real = kms.create_key()["KeyMetadata"]["KeyId"]
    decoy = kms.create_key()["KeyMetadata"]["KeyId"]
    body = json.dumps({"KeyId": real, "\u212aeyId": decoy}).encode()
    resp = signed(cairn, "kms", body, {"Content-Type": "application/x-amz-json-1.1",
                                       "X-Amz-Target": "TrentService.DisableKey"})
    assert resp.status == 200, resp.data
    assert kms.describe_key(KeyId=real)["KeyMetadata"]["KeyState"] == "Disabled"
    assert last_record(cairn, "DisableKey")["requestParameters"]["keyId"] == real


def test_members_the_operation_does_not_have_are_never_recorded(cairn):
    """A member the operation's model lacks is ignored by the call and, as AWS records the
    request its service deserialized, never recorded: a caller cannot put JSON of its choosing
    into an audit record (an outside tester injected `{"eventName": "DeleteTrail"}`)."""
    injected = {"eventName": "DeleteTrail"}
    json_calls = [
        ("cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails",
         "application/x-amz-json-1.1", {"trailNameList": [], "note": "<img src=x>"}, "DescribeTrails"),
        ("kms", "TrentService.ListKeys", "application/x-amz-json-1.1", {"Limit": 1, "hello": "world"}, "ListKeys"),
        ("logs", "Logs_20140328.DescribeLogGroups", "application/x-amz-json-1.1",
         {"limit": 1, "injected": injected}, "DescribeLogGroups"),
    ]
    for service, target, content_type, body, name in json_calls:
        resp = signed(cairn, service, json.dumps(body).encode(),
                      {"Content-Type": content_type, "X-Amz-Target": target})
        assert resp.status == 200, resp.data
        recorded = last_record(cairn, name)["requestParameters"]
        assert not {"note", "hello", "injected"} & set(recorded or {}), (name, recorded)
    resp = signed(cairn, "iam", b"Action=ListUsers&Version=2010-05-08&MaxItems=1&Injected=yes",
                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 200, resp.data
    assert last_record(cairn, "ListUsers")["requestParameters"] == {"maxItems": 1}


def test_nested_members_the_model_lacks_are_never_recorded(cairn):
    """ctapi3: the record showed an event selector with a misspelt `values` as if it selected
    every S3 object, while the trail selected nothing. A member the model lacks is dropped at
    every depth, so the record says what the call did (as its responseElements do)."""
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="nested-logs")
    s3.put_bucket_policy(Bucket="nested-logs", Policy=cloudtrail_policy("nested-logs"))
    cairn.client("cloudtrail").create_trail(Name="nested-trail", S3BucketName="nested-logs")
    body = {"TrailName": "nested-trail", "EventSelectors": [{
        "ReadWriteType": "All", "IncludeManagementEvents": False, "eventName": "StopLogging",
        "DataResources": [{"Type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]}
    resp = signed(cairn, "cloudtrail", json.dumps(body).encode(), {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "CloudTrail_20131101.PutEventSelectors"})
    assert resp.status == 200, resp.data
    record = last_record(cairn, "PutEventSelectors")
    assert record["requestParameters"]["eventSelectors"] == [{
        "readWriteType": "All", "includeManagementEvents": False,
        "dataResources": [{"type": "AWS::S3::Object"}]}], record["requestParameters"]
    body = {"Description": "k", "Tags": [{"TagKey": "a", "TagValue": "b", "Note": "<x>"}]}
    resp = signed(cairn, "kms", json.dumps(body).encode(), {
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.CreateKey"})
    assert resp.status == 200, resp.data
    assert last_record(cairn, "CreateKey")["requestParameters"]["tags"] == [
        {"tagKey": "a", "tagValue": "b"}]
