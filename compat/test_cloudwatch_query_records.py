"""One CloudWatch call, one record, whatever the protocol (outside tester sdknew): a Query
request (older SDKs and CLIs) folds its parameters into strings, but its record carries
the model's types, as the same call over AWS JSON 1.0 does (`threshold: 100.5`,
`period: 60`, `actionsEnabled: false`, timestamps as epoch seconds). Before, the Query
record held `"threshold": "100.5"`, which metric filters such as
`$.requestParameters.threshold > 50` never match."""

import json
import urllib.parse

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET


def signed_query(cairn, params):
    """A signed CloudWatch Query request (what older SDKs send); its urllib3 response."""
    body = urllib.parse.urlencode({"Version": "2010-08-01", **params})
    req = AWSRequest("POST", cairn.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "monitoring", "us-east-1").add_auth(req)
    return urllib3.PoolManager().request("POST", req.url, body=body, headers=dict(req.headers.items()))


def query(cairn, params):
    resp = signed_query(cairn, params)
    assert resp.status == 200, resp.data
    return resp.headers["x-amzn-RequestId"]


def record(cairn, name, request_id):
    for e in cairn.client("cloudtrail").lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": name}])["Events"]:
        r = json.loads(e["CloudTrailEvent"])
        if r["requestID"] == request_id:
            return r["requestParameters"]
    raise AssertionError(f"no {name} record {request_id}")


def test_a_query_request_is_recorded_with_the_models_types(cairn):
    alarm = {"Namespace": "Cairn/Q", "MetricName": "Hits", "Statistic": "Sum", "Period": 60,
             "Dimensions": [{"Name": "Port", "Value": "8080"}],
             "EvaluationPeriods": 2, "DatapointsToAlarm": 1, "Threshold": 100.5,
             "ComparisonOperator": "GreaterThanThreshold", "ActionsEnabled": False}
    by_json = cairn.client("cloudwatch").put_metric_alarm(AlarmName="by-json", **alarm)
    json_params = record(cairn, "PutMetricAlarm", by_json["ResponseMetadata"]["RequestId"])
    flat = {k: (str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in alarm.items() if k != "Dimensions"}
    rid = query(cairn, {"Action": "PutMetricAlarm", "AlarmName": "by-query", **flat,
                        "Dimensions.member.1.Name": "Port", "Dimensions.member.1.Value": "8080",
                        "Tags.member.1.Key": "n", "Tags.member.1.Value": "42"})
    query_params = record(cairn, "PutMetricAlarm", rid)
    assert query_params == {**json_params, "alarmName": "by-query",
                            "tags": [{"key": "n", "value": "42"}]}, (query_params, json_params)
    # Dimension and tag values stay strings, whatever they look like.
    assert query_params["dimensions"] == [{"name": "Port", "value": "8080"}]
    assert query_params["threshold"] == 100.5 and query_params["period"] == 60
    assert query_params["actionsEnabled"] is False
    rid = query(cairn, {"Action": "DescribeAlarmHistory", "AlarmName": "by-query",
                        "StartDate": "2026-11-01T00:00:00Z", "MaxRecords": "3"})
    history = record(cairn, "DescribeAlarmHistory", rid)
    assert history["startDate"] == 1793491200 and history["maxRecords"] == 3, history
