"""A log file with bytes after its gzip stream: CloudTrail writes one gzip member, the
digest hashes what it inflates to, and the stock `aws cloudtrail validate-logs` inflates only
the first member, so forged records appended as a second member (which `zcat`, pandas and
most readers show) pass it. `cairn validate-logs` reports the file."""

import gzip

from test_validate_history import clocked, digests  # noqa: F401 (a fixture)
from test_validate_logs import cairn_validate, flush, make_trail, validate


def test_records_appended_after_the_gzip_stream_are_reported(clocked):
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "appended")
    ct.describe_trails()
    flush(server, c0 + 30)
    ct.describe_trails()
    flush(server, c0 + 60)
    window = (c0 - 60, c0 + 120)
    assert cairn_validate(server, arn, *window).returncode == 0
    _, digest = digests(s3, bucket)[-1]
    target = digest["logFiles"][0]["s3Object"]
    original = s3.get_object(Bucket=bucket, Key=target)["Body"].read()
    forged = gzip.compress(b'{"Records":[{"eventName":"ForgedCall","sourceIPAddress":"6.6.6.6"}]}')
    s3.put_object(Bucket=bucket, Key=target, Body=original + forged)
    assert b"ForgedCall" in gzip.decompress(original + forged)  # what readers see
    stock = validate(server, arn, *window)
    assert stock.returncode == 0, "the stock tool hashes the first member only: " + stock.stdout
    ours = cairn_validate(server, arn, *window)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Log file\ts3://{bucket}/{target}\tINVALID: data after its gzip stream" in ours.stderr, ours.stderr
    # Plain trailing bytes too.
    s3.put_object(Bucket=bucket, Key=target, Body=original + b"\x00junk")
    ours = cairn_validate(server, arn, *window)
    assert ours.returncode == 1 and "INVALID: data after its gzip stream" in ours.stderr, ours.stderr
    s3.put_object(Bucket=bucket, Key=target, Body=original)
    assert cairn_validate(server, arn, *window).returncode == 0
