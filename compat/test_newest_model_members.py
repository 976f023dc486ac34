"""Members only the newest SDKs send (botocore 1.44; outside tester sdknew). The input
checks and records follow the newest models (`model_rules.json` names its botocore):
CreateTrail's `RecursiveLogging` is recorded, STS's `MinimumSessionTokenSize` is held to
its 4,096 maximum, and KMS ListKeys with `ResourceOwners` `OTHER_ACCOUNTS_VIA_RAM` lists
no key (Cairn has one account: no key is shared with it). Before, the members were left out
of records and ignored, and ListKeys listed the account's own keys."""

import json
import urllib.parse

import botocore.exceptions
import pytest
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


def json_call(cairn, service, target, members, version="1.1"):
    return signed(cairn, service, json.dumps(members), {
        "Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": target})


def test_recursive_logging_is_recorded(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="recursive-logs")
    s3.put_bucket_policy(Bucket="recursive-logs", Policy=cloudtrail_policy("recursive-logs"))
    resp = json_call(cairn, "cloudtrail", "CloudTrail_20131101.CreateTrail", {
        "Name": "recursive", "S3BucketName": "recursive-logs", "RecursiveLogging": False})
    assert resp.status == 200, resp.data
    rid = resp.headers["x-amzn-RequestId"]
    records = [json.loads(e["CloudTrailEvent"]) for e in cairn.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}])["Events"]]
    [record] = [r for r in records if r["requestID"] == rid]
    assert record["requestParameters"]["recursiveLogging"] is False, record["requestParameters"]


def test_minimum_session_token_size_is_held_to_its_maximum(cairn):
    body = urllib.parse.urlencode({"Action": "GetSessionToken", "Version": "2011-06-15",
                                   "MinimumSessionTokenSize": "5000"})
    resp = signed(cairn, "sts", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 400 and b"<Code>ValidationError</Code>" in resp.data, resp.data
    assert b"minimumSessionTokenSize" in resp.data


def test_a_query_number_that_is_not_a_number_is_refused(cairn):
    """Before, `MinimumSessionTokenSize=abc` was accepted and recorded as the text (recheck22b
    F6), while `DurationSeconds=abc` in the same call was refused."""
    body = urllib.parse.urlencode({"Action": "GetSessionToken", "Version": "2011-06-15",
                                   "MinimumSessionTokenSize": "abc"})
    resp = signed(cairn, "sts", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 400 and b"<Code>ValidationError</Code>" in resp.data, resp.data
    text = resp.data.decode().replace("&apos;", "'")
    assert "Value 'abc' at 'minimumSessionTokenSize'" in text, text
    assert b"Member must be an integer" in resp.data, resp.data


def test_list_keys_shared_through_ram_lists_none(cairn):
    cairn.client("kms").create_key()
    own = json.loads(json_call(cairn, "kms", "TrentService.ListKeys", {"ResourceOwners": ["SELF"]}).data)
    assert own["Keys"], own
    shared = json.loads(json_call(cairn, "kms", "TrentService.ListKeys",
                                  {"ResourceOwners": ["OTHER_ACCOUNTS_VIA_RAM"]}).data)
    assert shared["Keys"] == [] and shared["Truncated"] is False, shared


def test_an_alarm_in_its_warm_up_stays_insufficient_data(cairn):
    """PutMetricAlarm's `WarmUpConfiguration`: the alarm is not evaluated for that long
    after it is created or updated, and DescribeAlarms returns it; a wall-clock window and
    tag propagation, which Cairn does not carry out, are refused rather than ignored."""
    import time
    now = int(time.time())
    cw = cairn.client("cloudwatch")
    cw.put_metric_data(Namespace="Cairn/Warm", MetricData=[
        {"MetricName": "Hits", "Value": 5, "Timestamp": now}])
    base = {"Namespace": "Cairn/Warm", "MetricName": "Hits", "Statistic": "Sum",
            "Period": 60, "EvaluationPeriods": 1, "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold"}
    # Data fills the one-period window: the default warm-up ends early (the model's
    # documentation); one that waits the whole warm-up does not evaluate.
    for name, warm in (("warming", {"WarmUpPeriodDurationInMinutes": 60,
                                    "OnlyStartEvaluatingAfterWarmUpPeriodEnds": True}),
                       ("ends-early", {"WarmUpPeriodDurationInMinutes": 60}),
                       ("cold", None)):
        body = {"AlarmName": name, **base}
        if warm:
            body["WarmUpConfiguration"] = warm
        else:
            body["EvaluationWindow"] = {"SlidingWindow": {}}
        resp = json_call(cairn, "monitoring", "GraniteServiceVersion20100801.PutMetricAlarm",
                         body, version="1.0")
        assert resp.status == 200, resp.data
    cairn.admin("alarms", "run", "--now", str(now - now % 60 + 60))
    alarms = {a["AlarmName"]: a for a in json.loads(json_call(
        cairn, "monitoring", "GraniteServiceVersion20100801.DescribeAlarms",
        {"AlarmNames": ["warming", "ends-early", "cold"]}, version="1.0").data)["MetricAlarms"]}
    assert alarms["cold"]["StateValue"] == "ALARM"
    assert alarms["cold"]["EvaluationWindow"] == {"SlidingWindow": {}}
    assert "EvaluationWindow" not in alarms["warming"]
    assert alarms["ends-early"]["StateValue"] == "ALARM"
    assert alarms["warming"]["StateValue"] == "INSUFFICIENT_DATA"
    assert alarms["warming"]["WarmUpConfiguration"] == {
        "WarmUpPeriodDurationInMinutes": 60, "OnlyStartEvaluatingAfterWarmUpPeriodEnds": True}
    for extra in ({"EvaluationWindow": {"WallClockWindow": {}}},
                  {"ActionConfiguration": {"AlarmTagsPropagation": {"Enabled": True}}}):
        resp = json_call(cairn, "monitoring", "GraniteServiceVersion20100801.PutMetricAlarm",
                         {"AlarmName": "refused", **base, **extra}, version="1.0")
        assert resp.status == 400 and b"not supported by Cairn" in resp.data, resp.data


def test_grants_for_aws_services_are_refused_not_widened(cairn):
    """kms7: CreateGrant's `Constraints.SourceArn` was dropped, so the grant allowed its
    grantee with no `aws:SourceArn` while the record showed the constraint; a grant naming
    only `GranteeServicePrincipal` was refused as missing `granteePrincipal`, and a ListGrants
    filter on it listed every grant. Cairn's services do not use grants: such grants are
    refused with UnsupportedOperationException, and the filter lists none."""
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    cairn.client("iam").create_user(UserName="dave")
    user = "arn:aws:iam::123456789012:user/dave"
    kms.create_grant(KeyId=key, GranteePrincipal=user, Operations=["Encrypt"])
    for members in [
        {"GranteePrincipal": user, "Operations": ["Encrypt"],
         "Constraints": {"SourceArn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"}},
        {"GranteeServicePrincipal": "cloudtrail.amazonaws.com", "Operations": ["Encrypt"]},
    ]:
        resp = json_call(cairn, "kms", "TrentService.CreateGrant", {"KeyId": key, **members})
        assert resp.status == 400, resp.data
        assert json.loads(resp.data)["__type"].endswith("UnsupportedOperationException"), resp.data
    assert len(kms.list_grants(KeyId=key)["Grants"]) == 1
    resp = json_call(cairn, "kms", "TrentService.ListGrants",
                     {"KeyId": key, "GranteeServicePrincipal": "cloudtrail.amazonaws.com"})
    assert resp.status == 200 and json.loads(resp.data)["Grants"] == [], resp.data


def test_get_key_last_usage_reads_event_history(cairn):
    """kms7: GetKeyLastUsage, in the newest model, was UnsupportedOperationException with a
    reason that did not apply. It answers the key's last successful cryptographic operation
    and that call's CloudTrail event id; failed calls do not count."""
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]
    last = lambda: json.loads(json_call(cairn, "kms", "TrentService.GetKeyLastUsage",  # noqa: E731
                                        {"KeyId": key["KeyId"]}).data)
    fresh = last()
    assert fresh["KeyId"] == key["Arn"] and "KeyLastUsage" not in fresh, fresh
    assert fresh["TrackingStartDate"] >= fresh["KeyCreationDate"] - 1, fresh
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"a": "b"})["CiphertextBlob"]
    with pytest.raises(botocore.exceptions.ClientError):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "other"})
    used = last()["KeyLastUsage"]
    assert used["Operation"] == "Encrypt", used
    [event] = [e for e in cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "Encrypt"}])["Events"]
        if key["Arn"] in e["CloudTrailEvent"]]
    assert used["CloudTrailEventId"] == event["EventId"], (used, event)
    assert used["KmsRequestId"] == json.loads(event["CloudTrailEvent"])["requestID"]
    # recheck32b: read back from event history, a flood of refused calls naming the key hid
    # its use. Uses are noted as they are recorded; refused calls note nothing.
    iam = cairn.client("iam")
    iam.create_user(UserName="no-rights")
    creds = iam.create_access_key(UserName="no-rights")["AccessKey"]
    nobody = cairn.client_with(creds["AccessKeyId"], creds["SecretAccessKey"], "kms")
    for call in [lambda: nobody.describe_key(KeyId=key["Arn"]),
                 lambda: nobody.encrypt(KeyId=key["Arn"], Plaintext=b"y")] * 25:
        with pytest.raises(botocore.exceptions.ClientError):
            call()
    assert last()["KeyLastUsage"] == used
