"""Event history has whole-second times: calls on a trail in the same second may have come in
any order, and `cairn validate-logs` reports only what every order requires.

The sequence an outside tester ran: validation off and StopLogging; then, within one second,
StartLogging, validation on, a few events, validation off, StopLogging; later a new chain.
Validation was off at that second StopLogging, so it owes no final digest, and the file
delivered after it was delivered while validation was off, so no digest lists it (as on AWS:
"CloudTrail does not create digest files for log files that were delivered during a period
in which log file integrity validation was disabled"). The stock tool passes; so must ours,
whatever order the lookups (one per event name) return the second's calls in. Time:
`--clock-file` and `cairn flush --now`, as in test_validate_history.py."""

from test_validate_history import clocked, digests, log_files  # noqa: F401 (a fixture)
from test_validate_logs import cairn_validate, flush, make_trail, validate


def test_a_stop_sharing_its_second_with_validation_off_owes_no_final_digest(clocked):
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "same-second")
    ct.describe_trails()
    flush(server, c0 + 30)
    clock.set(c0 + 40)
    ct.update_trail(Name="same-second", EnableLogFileValidation=False)
    ct.stop_logging(Name="same-second")
    flush(server, c0 + 50)
    # One second: on, events, off, stop.
    clock.set(c0 + 70)
    ct.start_logging(Name="same-second")
    ct.update_trail(Name="same-second", EnableLogFileValidation=True)
    for _ in range(3):
        ct.describe_trails()
    ct.update_trail(Name="same-second", EnableLogFileValidation=False)
    ct.stop_logging(Name="same-second")
    before = set(log_files(s3, bucket))
    flush(server, c0 + 80)
    off_file = set(log_files(s3, bucket)) - before
    assert len(off_file) == 1, off_file
    # A new chain later.
    clock.set(c0 + 100)
    ct.start_logging(Name="same-second")
    ct.update_trail(Name="same-second", EnableLogFileValidation=True)
    ct.describe_trails()
    flush(server, c0 + 130)
    clock.set(c0 + 140)
    ct.stop_logging(Name="same-second")
    flush(server, c0 + 150)

    chain = digests(s3, bucket)
    ends = [d["digestEndTime"] for _, d in chain]
    listed = {f["s3Object"] for _, d in chain for f in d["logFiles"]}
    assert not listed & off_file, "delivered while validation was off: in no digest"
    # The first chain's digest and closing digest (validation off while logging), the
    # closing digest of the second's chain (in the server's order validation went off while
    # logging), the new chain's digest and its final digest.
    assert len(chain) == 5, ends
    assert [len(d["logFiles"]) for _, d in chain][1:3] == [0, 0], ends
    stock = validate(server, arn, c0 - 60, c0 + 160)
    assert stock.returncode == 0, stock.stdout + stock.stderr
    ours = cairn_validate(server, arn, c0 - 60, c0 + 160)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert "no final digest" not in ours.stderr and "not listed" not in ours.stderr, ours.stderr
