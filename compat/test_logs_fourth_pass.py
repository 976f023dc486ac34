"""CloudWatch Logs, fourth outside pass (logs4): StartQuery is authorized on each group's
streams (`…:log-group:<g>:log-stream:`, the resource AWS's denials name, as for
FilterLogEvents), so the documented `log-group:<g>:*` statements allow and deny it; before, it
was authorized on the bare group ARN, which a Deny on `log-group:<g>:*` does not match."""

import time

import botocore.exceptions
import pytest

from conftest import user_with

GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:{}:*"


def test_start_query_follows_the_groups_stream_statements(cairn):
    logs = cairn.client("logs")
    for g in ("q1", "q2"):
        logs.create_log_group(logGroupName=g)
    now = int(time.time())
    denied = user_with(cairn, "q-denied", [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["logs:StartQuery", "logs:FilterLogEvents"],
         "Resource": GROUP_ARN.format("q1")}])("logs")
    for call in [lambda: denied.start_query(logGroupName="q1", startTime=now - 60, endTime=now,
                                            queryString="fields @message"),
                 lambda: denied.filter_log_events(logGroupName="q1")]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "AccessDeniedException", e.value.response
    denied.start_query(logGroupName="q2", startTime=now - 60, endTime=now,
                       queryString="fields @message")
    # The policy form AWS documents for StartQuery: the group's ARN with `:*`.
    allowed = user_with(cairn, "q-allowed", [
        {"Effect": "Allow", "Action": "logs:StartQuery", "Resource": GROUP_ARN.format("q2")}])("logs")
    allowed.start_query(logGroupName="q2", startTime=now - 60, endTime=now,
                        queryString="fields @message")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        allowed.start_query(logGroupName="q1", startTime=now - 60, endTime=now,
                            queryString="fields @message")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert ":log-group:q1:log-stream:" in e.value.response["Error"]["Message"]


def test_describe_queries_filters_by_language(cairn):
    """logs4: `queryLanguage` was ignored; every query Cairn runs is Logs Insights QL."""
    logs = cairn.client("logs")
    logs.create_log_group(logGroupName="dq")
    now = int(time.time())
    qid = logs.start_query(logGroupName="dq", startTime=now - 60, endTime=now,
                           queryString="fields @message")["queryId"]
    ids = lambda **kw: [q["queryId"] for q in logs.describe_queries(logGroupName="dq", **kw)["queries"]]
    assert ids() == [qid]
    assert ids(queryLanguage="CWLI") == [qid]
    assert ids(queryLanguage="SQL") == []
    assert ids(queryLanguage="PPL") == []
