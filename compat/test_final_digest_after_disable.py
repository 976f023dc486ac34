"""StopLogging, then turning log file validation off a few seconds later (before the next
digest step): CloudTrail still owes the stop its final digest, whose period holds the stop,
and `cairn validate-logs` (which reads the stop from event history) must not report it as
deleted on an untouched bucket. The scripted form:
`aws cloudtrail stop-logging …; aws cloudtrail update-trail --no-enable-log-file-validation …`.

Time: `--clock-file` and `cairn flush --now`, as in test_validate_history.py."""

import time

from test_validate_history import clocked, digests  # noqa: F401 (a fixture)
from test_validate_logs import cairn_validate, flush, make_trail, validate


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_a_stop_then_validation_off_still_gets_its_final_digest(clocked):
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "stopoff")
    ct.describe_trails()
    flush(server, c0 + 30)
    ct.describe_trails()
    clock.set(c0 + 50)
    ct.stop_logging(Name="stopoff")
    clock.set(c0 + 53)
    ct.update_trail(Name="stopoff", EnableLogFileValidation=False)
    flush(server, c0 + 60)
    chain = digests(s3, bucket)
    assert len(chain) == 2, [k for k, _ in chain]
    final = chain[1][1]
    assert final["digestStartTime"] <= iso(c0 + 50) <= final["digestEndTime"], final
    assert final["previousDigestS3Object"] == chain[0][0]
    # Nothing more while validation is off.
    flush(server, c0 + 90)
    assert len(digests(s3, bucket)) == 2
    stock = validate(server, arn, c0 - 60, c0 + 100)
    assert stock.returncode == 0, stock.stdout + stock.stderr
    ours = cairn_validate(server, arn, c0 - 60, c0 + 100)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert "no final digest" not in ours.stderr, ours.stderr
