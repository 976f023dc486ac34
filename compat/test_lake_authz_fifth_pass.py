"""CloudTrail Lake authorization found by outside tester lake5 (the operations are not
carried out, but are authorized as AWS's Service Authorization Reference says, so a Deny is
recorded as AccessDenied): EnableFederation and StartImport need `iam:PassRole` for the
role they hand CloudTrail; CreateChannel is authorized on the stores it delivers to too;
CreateDashboard and UpdateDashboard need `cloudtrail:StartDashboardRefresh` and
`cloudtrail:StartQuery` on the stores their widgets read, StartDashboardRefresh
`cloudtrail:StartQuery`; StartImport has no resource-level permissions; a store list with
an item that is not an id is authorized on every store, never on none."""

import json

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

STORE_B = "0b7a2c11-1111-4222-8333-444455556666"
ARN_B = f"arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/{STORE_B}"
ROLE = "arn:aws:iam::123456789012:role/fed"


def user(cairn, name, statements):
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    return iam.create_access_key(UserName=name)["AccessKey"]


def call(cairn, key, op, body):
    req = AWSRequest(method="POST", url=cairn.endpoint, data=json.dumps(body), headers={
        "X-Amz-Target": f"CloudTrail_20131101.{op}",
        "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "cloudtrail",
              "us-east-1").add_auth(req)
    r = requests.post(cairn.endpoint, data=req.body, headers=dict(req.headers))
    return r.json().get("__type", "").split("#")[-1]


def test_roles_handed_to_cloudtrail_need_pass_role(cairn):
    key = user(cairn, "lake-nopass", [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}])
    assert call(cairn, key, "EnableFederation", {
        "EventDataStore": STORE_B, "FederationRoleArn": ROLE}) == "AccessDeniedException"
    source = {"S3": {"S3LocationUri": "s3://b/AWSLogs/", "S3BucketRegion": "us-east-1",
                     "S3BucketAccessRoleArn": ROLE}}
    assert call(cairn, key, "StartImport", {
        "Destinations": [STORE_B], "ImportSource": source}) == "AccessDeniedException"
    # Without a role there is nothing to pass.
    assert call(cairn, key, "DisableFederation", {"EventDataStore": STORE_B}) == \
        "UnsupportedOperationException"
    denied = [r for r in cairn.records("Management")
              if r["eventName"] in ("EnableFederation", "StartImport")
              and r["userIdentity"].get("userName") == "lake-nopass"]
    assert [r["errorCode"] for r in denied] == ["AccessDenied", "AccessDenied"]
    assert all("iam:PassRole" in r["errorMessage"] for r in denied)


def test_channels_and_imports_and_lists_name_their_stores(cairn):
    key = user(cairn, "lake-deny-b", [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:*",
         "Resource": f"arn:aws:cloudtrail:*:*:eventdatastore/{STORE_B}"}])
    for location in (ARN_B, STORE_B):
        assert call(cairn, key, "CreateChannel", {
            "Name": "chan1", "Source": "Custom",
            "Destinations": [{"Type": "EVENT_DATA_STORE", "Location": location}]}) == \
            "AccessDeniedException"
    assert call(cairn, key, "CreateChannel", {
        "Name": "chan1", "Source": "Custom",
        "Destinations": [{"Type": "EVENT_DATA_STORE", "Location": "other-store"}]}) == \
        "UnsupportedOperationException"
    # StartImport is authorized on `*`: a Deny on one store does not reach it.
    assert call(cairn, key, "StartImport", {"Destinations": [STORE_B]}) == \
        "UnsupportedOperationException"
    # An item that is not an id names every store, so the Deny applies.
    for bad in (None, [STORE_B], {"id": STORE_B}):
        assert call(cairn, key, "GenerateQuery", {
            "EventDataStores": [bad], "Prompt": "p"}) in (
            "AccessDeniedException", "SerializationException", "ValidationException")
        assert call(cairn, key, "GenerateQuery", {
            "EventDataStores": [bad], "Prompt": "p"}) != "UnsupportedOperationException"


def test_dashboards_need_start_query_and_refresh(cairn):
    key = user(cairn, "lake-noquery", [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:StartQuery", "Resource": ARN_B}])
    widgets = [{"QueryStatement": f"SELECT eventName FROM {STORE_B}", "ViewProperties": {"View": "Table"}}]
    assert call(cairn, key, "CreateDashboard", {"Name": "dash1", "Widgets": widgets}) == \
        "AccessDeniedException"
    assert call(cairn, key, "UpdateDashboard", {"DashboardId": "dash1", "Widgets": widgets}) == \
        "AccessDeniedException"
    other = [{"QueryStatement": "SELECT eventName FROM other-store", "ViewProperties": {"View": "Table"}}]
    assert call(cairn, key, "CreateDashboard", {"Name": "dash1", "Widgets": other}) == \
        "UnsupportedOperationException"
    # A refresh runs the dashboard's own widgets: StartQuery on any store.
    assert call(cairn, key, "StartDashboardRefresh", {"DashboardId": "dash1"}) == \
        "UnsupportedOperationException"
    key3 = user(cairn, "lake-noquery-any", [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:StartQuery",
         "Resource": "arn:aws:cloudtrail:*:*:eventdatastore/*"}])
    assert call(cairn, key3, "StartDashboardRefresh", {"DashboardId": "dash1"}) == \
        "AccessDeniedException"
    key2 = user(cairn, "lake-norefresh", [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:StartDashboardRefresh", "Resource": "*"}])
    assert call(cairn, key2, "CreateDashboard", {"Name": "dash1", "Widgets": other}) == \
        "AccessDeniedException"
