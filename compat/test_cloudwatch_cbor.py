"""CloudWatch over Smithy RPC v2 CBOR, the protocol its model lists first (SDKs that support
it prefer it). botocore speaks it too but picks AWS JSON 1.0 by its own priority order, so
here it is given the model with CBOR as the only protocol: requests go to
`/service/GraniteServiceVersion20100801/operation/<Op>` as CBOR, answers come back as CBOR
with timestamps as tag 1, and errors carry the Query code."""

import datetime
import gzip
import json
import os

import botocore
import botocore.exceptions
import botocore.session
import pytest

from conftest import ACCESS_KEY, SECRET


@pytest.fixture(scope="module")
def cw(cairn, tmp_path_factory):
    models = os.path.join(os.path.dirname(botocore.__file__), "data", "cloudwatch", "2010-08-01")
    name = next(n for n in os.listdir(models) if n.startswith("service-2.json"))
    raw = open(os.path.join(models, name), "rb").read()
    model = json.loads(gzip.decompress(raw) if name.endswith(".gz") else raw)
    model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    root = tmp_path_factory.mktemp("models")
    (root / "cloudwatch" / "2010-08-01").mkdir(parents=True)
    (root / "cloudwatch" / "2010-08-01" / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(root))
    client = session.create_client("cloudwatch", endpoint_url=cairn.endpoint, region_name="us-east-1",
                                   aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)
    sent = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request))
    client.sent = sent
    return client


def test_metric_data_and_statistics_travel_as_cbor(cw):
    at = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0) - datetime.timedelta(minutes=2)
    cw.put_metric_data(Namespace="Cbor", MetricData=[
        {"MetricName": "Calls", "Value": v, "Unit": "Count", "Timestamp": at,
         "Dimensions": [{"Name": "Api", "Value": "DescribeTrails"}]} for v in (1.0, 2.0, 4.0)])
    request = cw.sent[-1]
    assert request.url.endswith("/service/GraniteServiceVersion20100801/operation/PutMetricData")
    content_type = request.headers["Content-Type"]
    assert (content_type.decode() if isinstance(content_type, bytes) else content_type) == "application/cbor"
    stats = cw.get_metric_statistics(
        Namespace="Cbor", MetricName="Calls", Dimensions=[{"Name": "Api", "Value": "DescribeTrails"}],
        StartTime=at - datetime.timedelta(minutes=1), EndTime=at + datetime.timedelta(minutes=1),
        Period=60, Statistics=["Sum", "Maximum", "SampleCount"])
    assert stats["ResponseMetadata"]["HTTPHeaders"]["smithy-protocol"] == "rpc-v2-cbor"
    [point] = stats["Datapoints"]
    assert (point["Sum"], point["Maximum"], point["SampleCount"]) == (7.0, 4.0, 3.0)
    assert point["Timestamp"] == at
    listed = cw.list_metrics(Namespace="Cbor")["Metrics"]
    assert [m["MetricName"] for m in listed] == ["Calls"]


def test_alarms_and_typed_errors_travel_as_cbor(cairn, cw):
    cw.put_metric_alarm(AlarmName="cbor-alarm", Namespace="Cbor", MetricName="Calls", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    [alarm] = cw.describe_alarms(AlarmNames=["cbor-alarm"])["MetricAlarms"]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert isinstance(alarm["StateUpdatedTimestamp"], datetime.datetime)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_metric_alarm(AlarmName="cbor-bad", Namespace="Cbor", MetricName="Calls", Statistic="Sum",
                            Period=7, EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanOrEqualToThreshold")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Recorded like a call in any other protocol.
    events = cairn.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutMetricAlarm"}])["Events"]
    records = [json.loads(ev["CloudTrailEvent"]) for ev in events]
    assert {r["requestParameters"]["alarmName"] for r in records} == {"cbor-alarm", "cbor-bad"}
    assert [r.get("errorCode") for r in records if r["requestParameters"]["alarmName"] == "cbor-bad"] == ["InvalidParameterValue"]
    cw.delete_alarms(AlarmNames=["cbor-alarm"])
    assert cw.describe_alarms(AlarmNames=["cbor-alarm"])["MetricAlarms"] == []


def test_an_unsigned_cbor_request_is_refused_in_cbor(cairn):
    """An unsigned request on the CBOR path was routed to S3 and answered in S3's XML
    (model-driven fuzz tester); it is CloudWatch's, refused in its own protocol."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request(
        cairn.endpoint.rstrip("/") + "/service/GraniteServiceVersion20100801/operation/ListMetrics",
        data=b"\xa0", method="POST",
        headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
                 "Accept": "application/cbor"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert e.value.headers["Content-Type"] == "application/cbor"
    assert b"MissingAuthenticationToken" in e.value.read()


def test_non_finite_numbers_are_the_operations_to_refuse(cw):
    """alarms7: CBOR carries NaN and the infinities natively, so such a body is valid input;
    it was a SerializationException, where JSON and Query answer InvalidParameterValue."""
    for call in (lambda: cw.put_metric_alarm(
                     AlarmName="nan", Namespace="N", MetricName="M", Statistic="Sum", Period=60,
                     EvaluationPeriods=1, Threshold=float("nan"), ComparisonOperator="GreaterThanThreshold"),
                 lambda: cw.put_metric_data(Namespace="N", MetricData=[
                     {"MetricName": "M", "Value": float("inf")}])):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "InvalidParameterValue", e.value.response
