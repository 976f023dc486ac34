"""CloudWatch fixes from outside testing (alarms7): a chunked gzip'd PutMetricData over
1 MB as sent, which declares no Content-Length, was never measured and was stored; and
DatapointsToAlarm above EvaluationPeriods is CloudWatch's ValidationError."""

import gzip
import json
import random

import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET


def test_a_chunked_gzip_body_over_1_mb_as_sent_is_refused(cairn):
    rnd = random.Random(7)
    data = [{"MetricName": f"m{i}", "Values": [rnd.random() * 1e6 for _ in range(150)]}
            for i in range(1000)]
    body = gzip.compress(json.dumps({"Namespace": "Chunked", "MetricData": data}).encode())
    assert len(body) > 1_048_576
    headers = {"Content-Type": "application/x-amz-json-1.0", "Content-Encoding": "gzip",
               "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"}
    req = AWSRequest("POST", cairn.endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "monitoring", "us-east-1").add_auth(req)
    sent = {k: v for k, v in req.headers.items() if k.lower() != "content-length"}
    pieces = (body[i:i + 65536] for i in range(0, len(body), 65536))
    resp = urllib3.PoolManager().request("POST", req.url, body=pieces, headers=sent, chunked=True)
    assert resp.status == 413 and b"RequestEntityTooLarge" in resp.data, (resp.status, resp.data)
    assert cairn.client("cloudwatch").list_metrics(Namespace="Chunked")["Metrics"] == []


def test_datapoints_to_alarm_above_evaluation_periods_is_a_validation_error(cairn):
    cw = cairn.client("cloudwatch")
    with pytest.raises(ClientError) as e:
        cw.put_metric_alarm(AlarmName="dta", Namespace="N", MetricName="M", Statistic="Sum",
                            Period=60, EvaluationPeriods=3, DatapointsToAlarm=5, Threshold=1,
                            ComparisonOperator="GreaterThanThreshold")
    err = e.value.response["Error"]
    assert (err["Code"], err["Message"]) == (
        "ValidationError", "DatapointsToAlarm must be less than or equal to EvaluationPeriods")


def test_evaluation_interval_on_a_metric_alarm_is_refused(cairn):
    """alarms7: `EvaluationInterval` "cannot be specified for alarms configured with
    MetricName or Metrics" (the model); it was taken and silently dropped."""
    cw = cairn.client("cloudwatch")
    with pytest.raises(ClientError) as e:
        cw.put_metric_alarm(AlarmName="ei", Namespace="N", MetricName="M", Statistic="Sum",
                            Period=60, EvaluationPeriods=1, Threshold=1, EvaluationInterval=60,
                            ComparisonOperator="GreaterThanThreshold")
    assert e.value.response["Error"]["Code"] == "InvalidParameterCombination"
    assert cw.describe_alarms(AlarmNames=["ei"])["MetricAlarms"] == []


def test_alarm_actions_are_of_a_kind_cloudwatch_takes(cairn):
    """alarms7: an EC2 action on an alarm that watches no EC2 instance, and an SQS queue or
    S3 bucket as an action, were accepted; CloudWatch refuses them."""
    cw = cairn.client("cloudwatch")
    alarm = dict(Namespace="N", MetricName="M", Statistic="Sum", Period=60, EvaluationPeriods=1,
                 Threshold=1, ComparisonOperator="GreaterThanThreshold")
    for action in ("arn:aws:automate:us-east-1:ec2:stop",
                   "arn:aws:swf:us-east-1:123456789012:action/actions/AWS_EC2.InstanceId.Stop/1.0"):
        with pytest.raises(ClientError) as e:
            cw.put_metric_alarm(AlarmName="ec2", AlarmActions=[action], **alarm)
        err = e.value.response["Error"]
        assert (err["Code"], err["Message"]) == ("ValidationError", "Invalid use of EC2 action. "
                                                 "An EC2 action can only be used if the alarm is monitoring an EC2 instance.")
    for action in ("arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:s3:::bucket"):
        with pytest.raises(ClientError) as e:
            cw.put_metric_alarm(AlarmName="other", AlarmActions=[action], **alarm)
        assert e.value.response["Error"]["Code"] == "ValidationError"
    on_instance = dict(alarm, Namespace="AWS/EC2", MetricName="CPUUtilization", Statistic="Average",
                       Dimensions=[{"Name": "InstanceId", "Value": "i-0123456789abcdef0"}])
    cw.put_metric_alarm(AlarmName="ec2-ok", AlarmActions=["arn:aws:automate:us-east-1:ec2:stop"], **on_instance)
    cw.put_metric_alarm(AlarmName="sns-ok", AlarmActions=["arn:aws:sns:us-east-1:123456789012:t"], **alarm)
