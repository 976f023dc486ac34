"""Logs Insights answers compared with DuckDB's answers to the same questions over the same
CloudTrail records: the records go to a log group through PutLogEvents and, as JSON lines, to
DuckDB; each question is asked of both and the answers must agree."""

import json
import math
import random
import time

import duckdb
import pytest

SOURCES = ["ec2.amazonaws.com", "s3.amazonaws.com", "iam.amazonaws.com", "kms.amazonaws.com", "sts.amazonaws.com"]
NAMES = {
    "ec2.amazonaws.com": ["DescribeInstances", "RunInstances", "AuthorizeSecurityGroupIngress"],
    "s3.amazonaws.com": ["ListBuckets", "PutBucketPolicy", "GetBucketAcl"],
    "iam.amazonaws.com": ["ListUsers", "PutUserPolicy", "CreateAccessKey"],
    "kms.amazonaws.com": ["Decrypt", "DisableKey", "ScheduleKeyDeletion"],
    "sts.amazonaws.com": ["AssumeRole", "GetCallerIdentity"],
}


def make_records(n, start_ms):
    rng = random.Random(20260105)
    out = []
    for k in range(n):
        source = rng.choice(SOURCES)
        user = rng.choice(["alice", "bob", "carol", "deploy"])
        rec = {
            "eventVersion": "1.09",
            "userIdentity": {"type": "Root" if k % 41 == 0 else "IAMUser",
                             "arn": f"arn:aws:iam::123456789012:user/{user}", "userName": user},
            "eventTime": "2026-01-05T10:00:00Z",
            "eventSource": source,
            "eventName": rng.choice(NAMES[source]),
            "awsRegion": rng.choice(["us-east-1", "eu-west-1"]),
            "sourceIPAddress": f"203.0.113.{rng.randrange(1, 30)}",
            "requestParameters": {"maxResults": rng.randrange(1, 1000)},
            "readOnly": rng.random() < 0.6,
            "eventType": "AwsApiCall",
        }
        if rng.random() < 0.15:
            rec["errorCode"] = rng.choice(["AccessDenied", "Client.UnauthorizedOperation", "ThrottlingException"])
        out.append((start_ms + k * 1500, json.dumps(rec, separators=(",", ":"))))
    return out


@pytest.fixture(scope="module")
def loaded(cairn, tmp_path_factory):
    logs = cairn.client("logs")
    logs.create_log_group(logGroupName="CloudTrail/duck")
    logs.create_log_stream(logGroupName="CloudTrail/duck", logStreamName="123456789012_CloudTrail_us-east-1")
    start = (int(time.time()) - 3 * 3600) * 1000
    records = make_records(3000, start)
    for k in range(0, len(records), 500):
        logs.put_log_events(logGroupName="CloudTrail/duck", logStreamName="123456789012_CloudTrail_us-east-1",
                            logEvents=[{"timestamp": t, "message": m} for t, m in records[k:k + 500]])
    path = tmp_path_factory.mktemp("duck") / "records.jsonl"
    with open(path, "w") as f:
        for t, m in records:
            row = json.loads(m)
            row["ts_ms"] = t
            f.write(json.dumps(row) + "\n")
    db = duckdb.connect()
    db.execute(f"CREATE TABLE t AS SELECT * FROM read_json_auto('{path}', maximum_object_size=1048576)")
    return logs, db, start, records


def insights(logs, start, query):
    end = start // 1000 + 3 * 3600 + 120
    qid = logs.start_query(logGroupName="CloudTrail/duck", startTime=start // 1000, endTime=end, queryString=query)["queryId"]
    res = logs.get_query_results(queryId=qid)
    assert res["status"] == "Complete"
    return [{f["field"]: f["value"] for f in row} for row in res["results"]]


def same(a, b):
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return str(a) == str(b)


def check(rows, expected, columns):
    assert len(rows) == len(expected), (rows, expected)
    for got, want in zip(rows, expected):
        for col, value in zip(columns, want):
            assert same(got.get(col), value), (col, got, want)


def test_count_by_source(loaded):
    logs, db, start, _ = loaded
    rows = insights(logs, start, "stats count(*) as n by eventSource | sort eventSource")
    expected = db.execute("SELECT eventSource, count(*) FROM t GROUP BY eventSource ORDER BY eventSource").fetchall()
    check(rows, expected, ["eventSource", "n"])


def test_denied_calls_by_name_with_distinct_users(loaded):
    logs, db, start, _ = loaded
    rows = insights(logs, start, "filter errorCode like 'AccessDenied' or errorCode like /UnauthorizedOperation$/ "
                                 "| stats count(*) as n, count_distinct(userIdentity.arn) as users by eventName | sort eventName")
    expected = db.execute(
        "SELECT eventName, count(*), count(DISTINCT userIdentity.arn) FROM t "
        "WHERE errorCode LIKE '%AccessDenied%' OR regexp_matches(errorCode, 'UnauthorizedOperation$') "
        "GROUP BY eventName ORDER BY eventName").fetchall()
    assert expected
    check(rows, expected, ["eventName", "n", "users"])


def test_numeric_aggregates_by_region(loaded):
    logs, db, start, _ = loaded
    rows = insights(logs, start, "filter readOnly = 1 | stats sum(requestParameters.maxResults) as s, "
                                 "avg(requestParameters.maxResults) as a, min(requestParameters.maxResults) as lo, "
                                 "max(requestParameters.maxResults) as hi by awsRegion | sort awsRegion")
    expected = db.execute(
        "SELECT awsRegion, sum(requestParameters.maxResults), avg(requestParameters.maxResults), "
        "min(requestParameters.maxResults), max(requestParameters.maxResults) FROM t WHERE readOnly "
        "GROUP BY awsRegion ORDER BY awsRegion").fetchall()
    check(rows, expected, ["awsRegion", "s", "a", "lo", "hi"])


def test_hourly_bins(loaded):
    logs, db, start, _ = loaded
    rows = insights(logs, start, "stats count(*) as n by bin(1h) as hour | sort hour")
    expected = db.execute(
        "SELECT strftime(to_timestamp((ts_ms // 3600000) * 3600) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.000'), count(*) "
        "FROM t GROUP BY ts_ms // 3600000 ORDER BY 1").fetchall()
    check(rows, expected, ["hour", "n"])


def test_root_calls_listed_in_order(loaded):
    logs, db, start, _ = loaded
    rows = insights(logs, start, "fields @timestamp, eventName, sourceIPAddress | filter userIdentity.type = 'Root' "
                                 "and eventName in ['DescribeInstances', 'ListBuckets', 'Decrypt', 'AssumeRole', 'ListUsers', 'RunInstances'] "
                                 "| sort @timestamp desc | limit 10")
    expected = db.execute(
        "SELECT eventName, sourceIPAddress FROM t WHERE userIdentity.type = 'Root' AND eventName IN "
        "('DescribeInstances', 'ListBuckets', 'Decrypt', 'AssumeRole', 'ListUsers', 'RunInstances') "
        "ORDER BY ts_ms DESC LIMIT 10").fetchall()
    assert expected
    check(rows, expected, ["eventName", "sourceIPAddress"])
