"""Input checks found by outside tester recheck31 (each failed before its fix):
- a GetMetricData query's own `Period` was never read: 0, -5 or text passed;
- PutObject's `x-amz-sdk-checksum-algorithm` was never read (s3s leaves it out of the
  input): an algorithm S3 does not have, or one announcing a checksum never sent, was 200."""

import base64
import datetime
import zlib

import pytest
import urllib3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET
from test_cloudwatch_query_records import signed_query


@pytest.mark.parametrize("period,status,words", [
    ("0", 400, b"failed to satisfy constraint: Member must have value greater than or equal to 1"),
    ("-5", 400, b"greater than or equal to 1"),
    ("abc", 400, b"Period"),
    ("4294967356", 400, b"Period"),
    ("60", 200, b"MetricDataResults")])
def test_a_metric_data_querys_own_period_is_checked(cairn, period, status, words):
    now = datetime.datetime.now(datetime.timezone.utc)
    got = signed_query(cairn, {
        "Action": "GetMetricData",
        "StartTime": (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "EndTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "MetricDataQueries.member.1.Id": "q",
        "MetricDataQueries.member.1.Period": period,
        "MetricDataQueries.member.1.MetricStat.Metric.Namespace": "Cairn/P",
        "MetricDataQueries.member.1.MetricStat.Metric.MetricName": "m",
        "MetricDataQueries.member.1.MetricStat.Period": "60",
        "MetricDataQueries.member.1.MetricStat.Stat": "Sum"})
    assert got.status == status, got.data
    assert words in got.data, got.data


def put(cairn, key, headers):
    url = f"{cairn.endpoint}/sdk-algo/{key}"
    req = AWSRequest("PUT", url, data=b"hello", headers=headers)
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(req)
    return urllib3.PoolManager().request("PUT", url, body=b"hello", headers=dict(req.headers.items()))


def test_the_sdk_checksum_algorithm_header_is_checked(cairn):
    cairn.client("s3").create_bucket(Bucket="sdk-algo")
    crc = base64.b64encode(zlib.crc32(b"hello").to_bytes(4, "big")).decode()
    none = b"x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* " \
        b"or x-amz-trailer headers were found."
    invalid = b"Value for x-amz-sdk-checksum-algorithm header is invalid."
    for key, headers, words in [
            ("a", {"x-amz-sdk-checksum-algorithm": "CRC32"}, none),
            ("b", {"x-amz-sdk-checksum-algorithm": "SHA512"}, invalid),
            ("c", {"x-amz-sdk-checksum-algorithm": "FOO"}, invalid),
            ("d", {"x-amz-sdk-checksum-algorithm": "SHA256", "x-amz-checksum-crc32": crc}, invalid)]:
        got = put(cairn, key, headers)
        assert got.status == 400 and b"<Code>InvalidRequest</Code>" in got.data, got.data
        assert words in got.data, got.data
    ok = put(cairn, "e", {"x-amz-sdk-checksum-algorithm": "crc32", "x-amz-checksum-crc32": crc})
    assert ok.status == 200, ok.data
    keys = [o["Key"] for o in cairn.client("s3").list_objects_v2(Bucket="sdk-algo")["Contents"]]
    assert keys == ["e"]


def test_put_metric_data_over_one_megabyte_is_refused(cairn):
    """alarms6: a 2.3 MB PutMetricData was stored whole; AWS limits it to 1 MB (413
    RequestEntityTooLarge "Request size N exceeded 1048576 bytes"), GetMetricData to 614,400."""
    datum = {"MetricData.member.1.MetricName": "m", "MetricData.member.1.Value": "1",
             "Namespace": "Cairn/Big"}
    small = signed_query(cairn, {"Action": "PutMetricData", **datum})
    assert small.status == 200, small.data
    pad = "x" * 1_048_576
    big = signed_query(cairn, {"Action": "PutMetricData", **datum, "Padding": pad})
    assert big.status == 413, big.data
    assert b"<Code>RequestEntityTooLarge</Code>" in big.data, big.data
    assert b"exceeded 1048576 bytes" in big.data, big.data
    listed = cairn.client("cloudwatch").list_metrics(Namespace="Cairn/Big")["Metrics"]
    assert len(listed) == 1
    got = signed_query(cairn, {"Action": "GetMetricData", "Padding": "x" * 614_400,
                               "StartTime": "2026-01-01T00:00:00Z", "EndTime": "2026-01-01T01:00:00Z"})
    assert got.status == 413 and b"exceeded 614400 bytes" in got.data, got.data
