"""Deleting a big log group or stream does not hold the store's writer for all its events
(outside tester hostile16 F2: one DeleteLogGroup of 5 million events held every call of the
account for 16 s). The group or stream is gone at once for every reader; its events are
deleted afterwards by the periodic sweep, a bounded batch per write."""

import time

import pytest


@pytest.fixture(scope="module")
def server():
    from conftest import Cairn, cairn_binary
    s = Cairn(cairn_binary(), ["--sweep-interval-secs", "1"])
    yield s
    s.stop()


def stored_events(server):
    return server.store_rows("SELECT COUNT(*) FROM log_events")[0][0]


def put(logs, group, stream, n):
    now = int(time.time() * 1000)
    for start in range(0, n, 5000):
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": now, "message": f"event {i}"} for i in range(start, min(n, start + 5000))])


def test_deleted_groups_and_streams_are_gone_at_once_and_purged_later(server):
    logs = server.client("logs")
    logs.create_log_group(logGroupName="purged")
    for s in ("one", "two"):
        logs.create_log_stream(logGroupName="purged", logStreamName=s)
    put(logs, "purged", "one", 6000)
    put(logs, "purged", "two", 6000)
    logs.delete_log_stream(logGroupName="purged", logStreamName="two")
    logs.create_log_stream(logGroupName="purged", logStreamName="two")
    assert logs.get_log_events(logGroupName="purged", logStreamName="two",
                               startFromHead=True)["events"] == []
    assert len(logs.filter_log_events(logGroupName="purged", limit=10000)["events"]) == 6000
    logs.delete_log_group(logGroupName="purged")
    logs.create_log_group(logGroupName="purged")
    logs.create_log_stream(logGroupName="purged", logStreamName="one")
    assert logs.filter_log_events(logGroupName="purged")["events"] == []
    assert logs.get_log_events(logGroupName="purged", logStreamName="one",
                               startFromHead=True)["events"] == []
    group = logs.describe_log_groups(logGroupNamePrefix="purged")["logGroups"][0]
    assert group["storedBytes"] == 0
    # The sweep (every second here) deletes the orphaned events, 5,000 per write.
    deadline = time.time() + 60
    while stored_events(server) and time.time() < deadline:
        time.sleep(0.1)
    assert stored_events(server) == 0
    put(logs, "purged", "one", 3)
    assert len(logs.filter_log_events(logGroupName="purged")["events"]) == 3
