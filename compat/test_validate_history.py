"""Digests follow the trail's history, and `cairn validate-logs` reads it back from event
history (LookupEvents), which someone with only bucket access cannot change.

- Turning log file validation off and on again: CloudTrail creates no digest for the log
  files delivered while it was off, and re-enabling starts a new chain (null previous*
  fields). Both validators pass; the off-period files are not "unlisted".

Time: the API reads `--clock-file` (kept within SigV4's skew of the real clock), and
`cairn flush --now` delivers at chosen times after it, so events, files and digests are in
one order."""

import gzip
import json
import os
import re
import tempfile
import time

import pytest

from conftest import Cairn, cairn_binary
from test_validate_logs import HOUR, cairn_validate, flush, make_trail, validate

DIGESTS = "AWSLogs/123456789012/CloudTrail-Digest/"
LOGS = "AWSLogs/123456789012/CloudTrail/"


class Clock:
    def __init__(self):
        f = tempfile.NamedTemporaryFile("w", delete=False)
        f.close()
        self.path = f.name
        self.set(time.time() - 240)

    def set(self, t):
        self.now = t
        with open(self.path, "w") as f:
            f.write(str(t))


@pytest.fixture()
def clocked():
    clock = Clock()
    server = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(HOUR),
                                    "--clock-file", clock.path])
    yield server, clock
    server.stop()
    os.unlink(clock.path)


def digests(s3, bucket):
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=DIGESTS).get("Contents", []))
    return [(k, json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=k)["Body"].read()))) for k in keys]


def log_files(s3, bucket):
    return {o["Key"]: o["LastModified"].timestamp()
            for o in s3.list_objects_v2(Bucket=bucket, Prefix=LOGS).get("Contents", [])}


def test_files_delivered_while_validation_was_off_are_in_no_digest(clocked):
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "toggled")
    ct.describe_trails()
    flush(server, c0 + 30)
    clock.set(c0 + 40)
    ct.update_trail(Name="toggled", EnableLogFileValidation=False)
    ct.describe_trails()
    flush(server, c0 + 60)
    off_files = [k for k, t in log_files(s3, bucket).items() if abs(t - (c0 + 60)) < 2]
    assert off_files
    clock.set(c0 + 70)
    ct.update_trail(Name="toggled", EnableLogFileValidation=True)
    ct.describe_trails()
    flush(server, c0 + 100)
    chain = digests(s3, bucket)
    assert len(chain) == 3, [k for k, _ in chain]
    closing = chain[1][1]
    assert closing["logFiles"] == [], "validation went off while logging: the chain's closing digest"
    assert closing["digestEndTime"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c0 + 40))
    restarted = chain[2][1]
    assert restarted["previousDigestS3Object"] is None and restarted["previousDigestSignature"] is None
    assert restarted["digestStartTime"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c0 + 70))
    listed = {f["s3Object"] for _, d in chain for f in d["logFiles"]}
    assert not listed & set(off_files), "no digest lists a file delivered while validation was off"
    assert listed, "the files delivered while it was on are listed"
    stock = validate(server, arn, c0 - 60, c0 + 110)
    assert stock.returncode == 0, stock.stdout + stock.stderr
    assert "No log files were delivered by CloudTrail between" in stock.stderr, "a new chain: a gap"
    [(gap_from, gap_to)] = re.findall(r"delivered by CloudTrail between (\S+) and (\S+)", stock.stderr)
    assert gap_from <= gap_to, stock.stderr
    ours = cairn_validate(server, arn, c0 - 60, c0 + 110)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert "not listed" not in ours.stderr


def test_the_chain_validation_ended_ends_before_the_next_starts():
    """guide5: the last digest of a chain that turning validation off ended took the time it
    was written as its end, after the next chain had started, and the stock validator then
    reported a gap whose end came before its start. It ends when validation went off."""
    server = Cairn(cairn_binary(), ["--delivery-interval", "1"])
    try:
        ct, s3, bucket, arn = make_trail(server, "retoggled")
        t0 = time.time()
        ct.describe_trails()
        deadline = time.time() + 60
        while not log_files(s3, bucket):
            assert time.time() < deadline, "no log file delivered"
            time.sleep(0.2)
        ct.update_trail(Name="retoggled", EnableLogFileValidation=False)
        off = time.time()
        ct.update_trail(Name="retoggled", EnableLogFileValidation=True)
        # Digests written a few seconds after the change, as the delivery loop writes them.
        server.flush("--now", str(int(off) + 3))
        chain = [d for _, d in digests(s3, bucket)]
        old = [d for d in chain if d["previousDigestS3Object"] is None][0]
        new = [d for d in chain if d is not old and d["digestStartTime"] >= old["digestStartTime"]]
        assert new, chain
        assert old["digestEndTime"] <= new[0]["digestStartTime"], (old, new[0])
        assert old["digestEndTime"] <= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(off + 1))
        stock = validate(server, arn, t0 - 60, off + 10)
        assert stock.returncode == 0, stock.stdout + stock.stderr
        for gap_from, gap_to in re.findall(r"delivered by CloudTrail between (\S+) and (\S+)", stock.stderr):
            assert gap_from <= gap_to, stock.stderr
    finally:
        server.stop()
