"""CloudWatch metrics and alarms through boto3 and the AWS CLI (AWS JSON 1.0, what botocore
1.43 speaks): metric data, statistics, alarms, their errors as modeled exceptions, and an
alarm on the real clock notifying an HTTP subscriber."""

import datetime
import json
import time
import urllib.request

import pytest

from conftest import Cairn, cairn_binary, http_subscriber


@pytest.fixture()
def subscriber():
    with http_subscriber(lambda h, body: (time.time(), h["x-amz-sns-message-type"], json.loads(body))) as s:
        yield s


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def test_metric_data_statistics_and_listing(cairn):
    cw = cairn.client("cloudwatch")
    cw.put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": "Latency", "Dimensions": [{"Name": "Page", "Value": "cart"}],
         "Values": [10, 20, 30, 400], "Counts": [1, 1, 1, 1], "Unit": "Milliseconds"},
        {"MetricName": "Orders", "Value": 3, "Unit": "Count", "StorageResolution": 1},
        {"MetricName": "Orders", "StatisticValues": {"SampleCount": 2, "Sum": 5, "Minimum": 2, "Maximum": 3},
         "Unit": "Count"},
    ])
    metrics = cw.list_metrics(Namespace="Shop")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"Latency", "Orders"}
    assert cw.list_metrics(Dimensions=[{"Name": "Page"}])["Metrics"][0]["MetricName"] == "Latency"
    start, end = now() - datetime.timedelta(minutes=5), now() + datetime.timedelta(minutes=1)
    points = cw.get_metric_statistics(Namespace="Shop", MetricName="Orders", StartTime=start, EndTime=end,
                                      Period=3600, Statistics=["Sum", "SampleCount", "Maximum"])["Datapoints"]
    assert len(points) == 1 and points[0]["Sum"] == 8.0 and points[0]["SampleCount"] == 3.0
    assert points[0]["Maximum"] == 3.0 and points[0]["Unit"] == "Count"
    p = cw.get_metric_statistics(Namespace="Shop", MetricName="Latency", StartTime=start, EndTime=end,
                                 Dimensions=[{"Name": "Page", "Value": "cart"}], Period=3600,
                                 ExtendedStatistics=["p50", "p99"])["Datapoints"][0]
    assert p["ExtendedStatistics"] == {"p50": 20.0, "p99": 400.0}
    data = cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[
        {"Id": "latency", "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Latency",
                                                    "Dimensions": [{"Name": "Page", "Value": "cart"}]},
                                         "Period": 3600, "Stat": "Average"}}])["MetricDataResults"][0]
    assert data["Id"] == "latency" and data["Values"] == [115.0] and data["StatusCode"] == "Complete"
    # A dimension set is part of the metric's identity.
    assert cw.get_metric_statistics(Namespace="Shop", MetricName="Latency", StartTime=start, EndTime=end,
                                    Period=3600, Statistics=["Sum"])["Datapoints"] == []


def test_large_metric_data_arrives_gzipped_and_is_read(cairn):
    """botocore gzips PutMetricData bodies of 10 KiB or more (Content-Encoding: gzip)."""
    cw = cairn.client("cloudwatch")
    sent = []
    cw.meta.events.register("before-send.cloudwatch.PutMetricData",
                            lambda request, **_: sent.append(request.headers.get("Content-Encoding")))
    data = [{"MetricName": "Big", "Dimensions": [{"Name": "Shard", "Value": f"shard-{i:04d}"}],
             "Values": [float(v) for v in range(20)], "Unit": "Count"} for i in range(60)]
    cw.put_metric_data(Namespace="Gzipped", MetricData=data)
    assert sent == [b"gzip"] or sent == ["gzip"], sent
    metrics = cw.list_metrics(Namespace="Gzipped")["Metrics"]
    assert len(metrics) == 60


def test_errors_are_modeled_exceptions(cairn):
    cw = cairn.client("cloudwatch")
    start, end = now() - datetime.timedelta(minutes=5), now()
    with pytest.raises(cw.exceptions.InvalidParameterValueException) as e:
        cw.get_metric_statistics(Namespace="n", MetricName="m", StartTime=start, EndTime=end, Period=61,
                                 Statistics=["Sum"])
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert e.value.response["Error"]["Message"] == "The parameter Period must be a multiple of 60."
    with pytest.raises(cw.exceptions.InvalidParameterValueException):
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "x", "Value": 1}])
    with pytest.raises(cw.exceptions.InvalidParameterCombinationException):
        cw.put_metric_data(Namespace="n", MetricData=[{"MetricName": "x", "Value": 1, "Values": [1]}])
    with pytest.raises(cw.exceptions.ResourceNotFound):
        cw.set_alarm_state(AlarmName="absent", StateValue="OK", StateReason="x")
    with pytest.raises(cw.exceptions.InvalidFormatFault):
        cw.put_metric_alarm(AlarmName="f", MetricName="m", Namespace="n", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
        cw.set_alarm_state(AlarmName="f", StateValue="OK", StateReason="x", StateReasonData="{not json")
    with pytest.raises(cw.exceptions.ClientError) as e:
        cw.put_metric_alarm(AlarmName="w", MetricName="m", Namespace="n", Statistic="Sum", Period=3600,
                            EvaluationPeriods=200, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    cw.delete_alarms(AlarmNames=["f"])


def test_alarm_api(cairn):
    cw = cairn.client("cloudwatch")
    for name in ("cpu-high", "cpu-low", "disk"):
        cw.put_metric_alarm(AlarmName=name, MetricName="CPU", Namespace="Host", Statistic="Average",
                            Dimensions=[{"Name": "Host", "Value": "a"}], Period=300, EvaluationPeriods=3,
                            DatapointsToAlarm=2, Threshold=80, ComparisonOperator="GreaterThanThreshold",
                            # No data: the evaluator keeps a state SetAlarmState set, so a
                            # minute boundary during the checks below changes nothing.
                            TreatMissingData="ignore",
                            Tags=[{"Key": "team", "Value": "ops"}])
    alarms = cw.describe_alarms(AlarmNamePrefix="cpu-")["MetricAlarms"]
    assert [a["AlarmName"] for a in alarms] == ["cpu-high", "cpu-low"]
    a = alarms[0]
    assert a["StateValue"] == "INSUFFICIENT_DATA" and a["StateReason"] == "Unchecked: Initial alarm creation"
    assert a["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high"
    assert a["DatapointsToAlarm"] == 2 and a["Threshold"] == 80.0 and a["ActionsEnabled"] is True
    assert cw.list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"] == [{"Key": "team", "Value": "ops"}]
    cw.tag_resource(ResourceARN=a["AlarmArn"], Tags=[{"Key": "env", "Value": "prod"}])
    cw.untag_resource(ResourceARN=a["AlarmArn"], TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"] == [{"Key": "env", "Value": "prod"}]
    for_metric = cw.describe_alarms_for_metric(MetricName="CPU", Namespace="Host",
                                               Dimensions=[{"Name": "Host", "Value": "a"}])["MetricAlarms"]
    assert len(for_metric) == 3
    cw.set_alarm_state(AlarmName="disk", StateValue="ALARM", StateReason="drill", StateReasonData="{}")
    assert [a["AlarmName"] for a in cw.describe_alarms(StateValue="ALARM")["MetricAlarms"]] == ["disk"]
    cw.disable_alarm_actions(AlarmNames=["disk"])
    assert cw.describe_alarms(AlarmNames=["disk"])["MetricAlarms"][0]["ActionsEnabled"] is False
    history = cw.describe_alarm_history(AlarmName="disk", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert json.loads(history[0]["HistoryData"])["newState"]["stateReason"] == "drill"
    pages = list(cw.get_paginator("describe_alarms").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["MetricAlarms"]) for p in pages] == [2, 1]
    cw.delete_alarms(AlarmNames=["cpu-low", "disk"])
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["cpu-high"]
    # The CLI speaks the same protocol.
    out = json.loads(cairn.cli("cloudwatch", "describe-alarms", "--alarm-names", "cpu-high").stdout)
    assert out["MetricAlarms"][0]["ComparisonOperator"] == "GreaterThanThreshold"
    # Alarm calls are management events of monitoring.amazonaws.com.
    names = [r["eventName"] for r in cairn.records("Management") if r["eventSource"] == "monitoring.amazonaws.com"]
    assert "PutMetricAlarm" in names and "DeleteAlarms" in names


def test_a_high_resolution_alarm_notifies_on_the_real_clock(subscriber):
    endpoint, received = subscriber
    server = Cairn(cairn_binary())
    try:
        sns, cw = server.client("sns"), server.client("cloudwatch")
        topic = sns.create_topic(Name="pager")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
        _, kind, confirmation = received.get(timeout=10)
        urllib.request.urlopen(confirmation["SubscribeURL"]).read()
        cw.put_metric_alarm(AlarmName="fast", MetricName="Hits", Namespace="App", Statistic="Maximum",
                            Period=10, EvaluationPeriods=1, Threshold=5,
                            ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])
        sent = time.time()
        cw.put_metric_data(Namespace="App", MetricData=[{"MetricName": "Hits", "Value": 9, "StorageResolution": 1}])
        at, kind, note = received.get(timeout=30)
        assert kind == "Notification" and note["Subject"] == 'ALARM: "fast" in US East (N. Virginia)'
        message = json.loads(note["Message"])
        assert message["NewStateValue"] == "ALARM" and message["Trigger"]["Period"] == 10
        # One period, a tick and delivery, with a period of slack for a loaded machine (a
        # minute-long wait, the regression this guards, is far beyond it).
        assert at - sent < 21, f"a 10-second alarm notifies within a period or two ({at - sent:.1f} s)"
        assert cw.describe_alarms(AlarmNames=["fast"])["MetricAlarms"][0]["StateValue"] == "ALARM"
    finally:
        server.stop()


def test_related_alarms_of_a_metric_alarm_are_none_and_entity_metrics_are_stored(cairn):
    """DescribeAlarms' ChildrenOfAlarmName/ParentsOfAlarmName list only the alarms a composite
    alarm's rule links (Cairn has no composite alarms: none), and allow no other filter;
    PutMetricData's EntityMetricData is stored as plain metric data."""
    cw = cairn.client("cloudwatch")
    for name in ("rel-a", "rel-b"):
        cw.put_metric_alarm(AlarmName=name, MetricName="m", Namespace="rel", Statistic="Sum",
                            Period=60, EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator="GreaterThanThreshold")
    for member in ("ChildrenOfAlarmName", "ParentsOfAlarmName"):
        out = cw.describe_alarms(**{member: "rel-a"}, MaxRecords=10)
        assert out["MetricAlarms"] == [] and out["CompositeAlarms"] == [], member
        with pytest.raises(cw.exceptions.InvalidParameterCombinationException):
            cw.describe_alarms(**{member: "rel-a"}, StateValue="OK")
    assert len(cw.describe_alarms(AlarmNamePrefix="rel-")["MetricAlarms"]) == 2
    cw.delete_alarms(AlarmNames=["rel-a", "rel-b"])

    cw.put_metric_data(Namespace="ent", StrictEntityValidation=False, EntityMetricData=[{
        "Entity": {"KeyAttributes": {"Type": "Service", "Name": "svc", "Environment": "test"}},
        "MetricData": [{"MetricName": "latency", "Value": 3.0}]}],
        MetricData=[{"MetricName": "plain", "Value": 1.0}])
    names = sorted(m["MetricName"] for m in cw.list_metrics(Namespace="ent")["Metrics"])
    assert names == ["latency", "plain"]


def test_a_new_alarm_with_tags_needs_the_tagging_permission(cairn):
    """alarms3: PutMetricAlarm's Tags tag a new alarm, which needs cloudwatch:TagResource too
    (PutMetricAlarm API reference, Tags), with the request tags as its conditions; an update
    ignores Tags and needs nothing more."""
    iam = cairn.client("iam")
    iam.create_user(UserName="alarm-tagger")
    iam.put_user_policy(UserName="alarm-tagger", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudwatch:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "cloudwatch:TagResource", "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestTag/owner": "me"}}}]}))
    key = iam.create_access_key(UserName="alarm-tagger")["AccessKey"]
    cw = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudwatch")
    alarm = dict(MetricName="CPU", Namespace="Host", Statistic="Average", Period=300,
                 EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    with pytest.raises(cw.exceptions.ClientError) as e:
        cw.put_metric_alarm(AlarmName="tagged-by-me", Tags=[{"Key": "owner", "Value": "me"}], **alarm)
    assert e.value.response["Error"]["Code"] == "AccessDenied", e.value.response
    assert "cloudwatch:TagResource" in e.value.response["Error"]["Message"]
    assert cw.describe_alarms(AlarmNames=["tagged-by-me"])["MetricAlarms"] == []
    # Other tags pass; an update's tags are ignored, so the Deny does not apply to it.
    cw.put_metric_alarm(AlarmName="tagged-by-me", Tags=[{"Key": "owner", "Value": "ops"}], **alarm)
    cw.put_metric_alarm(AlarmName="tagged-by-me", Tags=[{"Key": "owner", "Value": "me"}], **alarm)
    arn = cw.describe_alarms(AlarmNames=["tagged-by-me"])["MetricAlarms"][0]["AlarmArn"]
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "owner", "Value": "ops"}]


def test_a_percentile_alarm_set_to_ignore_low_samples_keeps_its_state():
    """alarms3: EvaluateLowSampleCountPercentile=ignore was stored and shown but not applied.
    A p99 alarm needs 10/(1-0.99) = 1,000 samples a period before it changes state."""
    server = Cairn(cairn_binary(), ["--alarm-tick-secs", "0"])
    try:
        cw = server.client("cloudwatch")
        for name, setting in (("p99-ignore", "ignore"), ("p99-evaluate", "evaluate")):
            cw.put_metric_alarm(AlarmName=name, MetricName="lat", Namespace="LowSample",
                                ExtendedStatistic="p99", Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanThreshold",
                                EvaluateLowSampleCountPercentile=setting)
        start = int(time.time()) // 60 * 60 - 120
        cw.put_metric_data(Namespace="LowSample", MetricData=[
            {"MetricName": "lat", "Value": 5, "Timestamp": start}])
        server.admin("alarms", "run", "--now", str(start + 60))
        states = {a["AlarmName"]: a["StateValue"] for a in cw.describe_alarms(
            AlarmNamePrefix="p99-")["MetricAlarms"]}
        assert states == {"p99-ignore": "INSUFFICIENT_DATA", "p99-evaluate": "ALARM"}, states
        assert cw.describe_alarms(AlarmNames=["p99-ignore"])["MetricAlarms"][0][
            "EvaluateLowSampleCountPercentile"] == "ignore"
    finally:
        server.stop()


def test_unknown_alarm_types_and_malformed_label_zones_are_refused(cairn):
    """alarms3: DescribeAlarms with an AlarmTypes value outside the model's enum answered 200
    with empty lists; a malformed LabelOptions.Timezone was accepted silently."""
    cw = cairn.client("cloudwatch")
    with pytest.raises(cw.exceptions.ClientError) as e:
        cw.describe_alarms(AlarmTypes=["Foo"])
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "enum value set: [CompositeAlarm, MetricAlarm]" in e.value.response["Error"]["Message"]
    assert cw.describe_alarms(AlarmTypes=["MetricAlarm"])["CompositeAlarms"] == []
    query = [{"Id": "q1", "MetricStat": {"Metric": {"Namespace": "Z", "MetricName": "m"},
                                         "Period": 60, "Stat": "Sum"}}]
    span = dict(StartTime=now() - datetime.timedelta(hours=1), EndTime=now())
    with pytest.raises(cw.exceptions.ClientError) as e:
        cw.get_metric_data(MetricDataQueries=query, LabelOptions={"Timezone": "xyz"}, **span)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    cw.get_metric_data(MetricDataQueries=query, LabelOptions={"Timezone": "-0430"}, **span)


def test_a_threshold_metric_id_on_a_static_alarm_is_refused(cairn):
    """alarms3: ThresholdMetricId (an anomaly-detection band's id) was accepted and dropped:
    DescribeAlarms showed no trace of it."""
    cw = cairn.client("cloudwatch")
    with pytest.raises(cw.exceptions.ClientError) as e:
        cw.put_metric_alarm(AlarmName="band", MetricName="m", Namespace="n", Statistic="Sum",
                            Period=60, EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator="GreaterThanThreshold", ThresholdMetricId="ad1")
    assert "ThresholdMetricId" in e.value.response["Error"]["Message"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert cw.describe_alarms(AlarmNames=["band"])["MetricAlarms"] == []


def test_alarms_for_a_metric_without_dimensions_are_those_on_no_dimensions(cairn):
    """alarms3: with no Dimensions, alarms on the metric's dimensioned variants were returned;
    a metric is its name with its dimensions ("If the metric has any associated dimensions,
    you must specify them")."""
    cw = cairn.client("cloudwatch")
    common = dict(MetricName="m", Namespace="ORD", Statistic="Sum", Period=60, EvaluationPeriods=1,
                  Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.put_metric_alarm(AlarmName="ord-dims", Dimensions=[{"Name": "A", "Value": "1"},
                                                          {"Name": "B", "Value": "2"}], **common)
    cw.put_metric_alarm(AlarmName="ord-plain", **common)
    names = lambda **kw: [a["AlarmName"] for a in cw.describe_alarms_for_metric(
        MetricName="m", Namespace="ORD", **kw)["MetricAlarms"]]
    assert names() == ["ord-plain"]
    assert names(Dimensions=[{"Name": "B", "Value": "2"}, {"Name": "A", "Value": "1"}]) == ["ord-dims"]
    assert names(Dimensions=[{"Name": "A", "Value": "1"}]) == []
    cw.delete_alarms(AlarmNames=["ord-dims", "ord-plain"])
