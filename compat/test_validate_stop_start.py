"""StopLogging and StartLogging within one delivery interval. On AWS, StopLogging ends the
digest chain with a final digest covering the logs up to and including the StopLogging
event, and the events from the next StartLogging on begin a new chain. Cairn once put the
StopLogging and StartLogging events in one log file listed only by the new chain, so the old
chain had no final digest and `cairn validate-logs` reported it "deleted or moved". Now a log
file never spans the two logging windows, and the final digest lists the StopLogging's file,
with or without a server crash between the stop and the start. Both validators pass.

`cairn flush --now` refuses a time before the last delivery, as it refuses a future one.

Time: `--clock-file` and `cairn flush --now`, as in test_validate_history.py."""

import gzip
import json
import subprocess
import time

import pytest

from test_validate_history import LOGS, clocked, digests  # noqa: F401 (a fixture)
from test_validate_logs import cairn_validate, flush, make_trail, validate


def event_names(s3, bucket):
    """{log file key: [eventName, …]}"""
    out = {}
    for o in s3.list_objects_v2(Bucket=bucket, Prefix=LOGS).get("Contents", []):
        body = gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
        out[o["Key"]] = [r["eventName"] for r in json.loads(body)["Records"]]
    return out


@pytest.mark.parametrize("crash", [False, True], ids=["running", "crash-between"])
def test_a_stop_and_start_in_one_delivery_interval_keep_the_final_digest(clocked, crash):
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "rapid")
    ct.list_trails()
    flush(server, c0 + 30)
    clock.set(c0 + 40)
    ct.list_trails()
    ct.stop_logging(Name="rapid")
    later = c0 + 60
    if crash:
        # After the crash, a delivery at the real clock (after the API's) delivers the stop's
        # file and the final digest before the start comes. The server's first step comes
        # one interval after its start, so a flush makes it.
        server.restart()
        server.flush()
        ct, s3 = server.client("cloudtrail"), server.client("s3")
        assert len(digests(s3, bucket)) == 2, "the final digest after the restart"
        later = time.time() + 2
    clock.set(c0 + 43)
    ct.start_logging(Name="rapid")
    ct.list_trails()
    flush(server, later)
    flush(server, later + 30)

    files = event_names(s3, bucket)
    chain = digests(s3, bucket)
    # After a crash the final digest came with the flush after it, so both later flushes
    # digest the new chain.
    assert len(chain) == (4 if crash else 3), [k for k, _ in chain]
    (first_key, first), (_, final), (restarted_key, restarted) = chain[:3]
    assert all(d["previousDigestS3Object"] == restarted_key for _, d in chain[3:])
    stop_file = next(k for k, names in files.items() if "StopLogging" in names)
    # The StartLogging after the stop (the first one's file is in the first digest).
    start_file = next(k for k, names in files.items()
                      if "StartLogging" in names and k not in [f["s3Object"] for f in first["logFiles"]])
    assert stop_file != start_file, files
    assert final["previousDigestS3Object"] == first_key
    assert stop_file in [f["s3Object"] for f in final["logFiles"]]
    assert restarted["previousDigestS3Object"] is None
    assert [f["s3Object"] for f in restarted["logFiles"]] == [start_file], files

    stock = validate(server, arn, c0 - 60, later + 40)
    assert stock.returncode == 0, stock.stdout + stock.stderr
    ours = cairn_validate(server, arn, c0 - 60, later + 40)
    assert ours.returncode == 0, ours.stdout + ours.stderr


def test_flush_refuses_a_time_before_the_last_delivery(clocked):
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "ordered")
    ct.list_trails()
    flush(server, c0 + 30)
    ct.list_trails()
    server.proc.kill()
    server.proc.wait()
    try:
        out = subprocess.run([server.binary, "flush", "--now", str(c0 - 3600), "--data-dir", server.dir.name],
                             capture_output=True, text=True)
    finally:
        server._spawn(server.endpoint.removeprefix("http://").rstrip("/"))
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"is before the last delivery of trail {arn}" in out.stderr, out.stderr
    assert len(digests(s3, bucket)) == 1, "nothing was delivered"
    # At or after the last delivery it goes ahead. The restarted server's first delivery step
    # (at the real clock) races this flush for the ListTrails file: whichever comes first
    # delivers it, once.
    flush(server, time.time() + 1)
    names = event_names(s3, bucket)
    assert sum(n.count("ListTrails") for n in names.values()) == 2, names


def test_a_burst_of_stops_leaves_final_digests_owed_until_written(clocked):
    """Each stop's final digest takes its own second (a digest's key names its end second):
    after a burst of stop/start pairs within one second, `cairn flush` says how many finals
    are still owed (`FinalDigestsOwed`) and exits 3 until a later flush has written them all;
    then both validators pass (found by an outside tester: flush said 0 and exited 0)."""
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "burst")
    ct.list_trails()
    flush(server, c0 + 30)
    clock.set(c0 + 40)
    for _ in range(3):
        ct.stop_logging(Name="burst")
        ct.start_logging(Name="burst")
    first = flush(server, c0 + 50)
    assert first["FinalDigestsOwed"] > 0, first
    at, reports = c0 + 51, [first]
    while reports[-1]["FinalDigestsOwed"] > 0:
        assert at < c0 + 60, reports
        reports.append(flush(server, at))
        at += 1
    assert [r["FinalDigestsOwed"] for r in reports] == sorted((r["FinalDigestsOwed"] for r in reports), reverse=True)
    flush(server, at + 30)
    stock = validate(server, arn, c0 - 60, at + 60)
    assert stock.returncode == 0, stock.stdout + stock.stderr
    ours = cairn_validate(server, arn, c0 - 60, at + 60)
    assert ours.returncode == 0, ours.stdout + ours.stderr
