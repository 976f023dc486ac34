"""`cairn validate-logs`'s cache of hashed log files: a second validation reads only the
files whose ETag, Last-Modified or size changed since, and a rewritten file is read again
whatever it holds (the same bytes, or changed ones)."""

import gzip
import json
import time

from test_validate_logs import HOUR, cairn_validate, flush, make_trail, server  # noqa: F401


def report(server, arn, start, end, *extra):
    out = cairn_validate(server, arn, start, end, "--json", *extra)
    return out.returncode, json.loads(out.stdout)


def test_a_second_run_reads_only_what_changed(server, tmp_path):
    t0 = time.time()
    ct, s3, bucket, arn = make_trail(server, "cache-trail")
    for hour in range(1, 4):
        ct.describe_trails()
        flush(server, t0 + hour * HOUR)
    window = (t0 - 60, t0 + 4 * HOUR)
    cache = ("--cache-dir", str(tmp_path))
    rc, first = report(server, arn, *window, *cache)
    total = first["LogFiles"]["Valid"]
    assert rc == 0 and total >= 3 and first["LogFilesFromCache"] == 0, first

    rc, second = report(server, arn, *window, *cache)
    assert rc == 0 and second["LogFiles"]["Valid"] == total, second
    assert second["LogFilesFromCache"] == total, second
    assert list(tmp_path.glob("validate-logs/*.json")), "no cache file was written"

    logs = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"] if "/CloudTrail/" in o["Key"])
    # The same bytes written again: a new Last-Modified, so the file is read again.
    same = s3.get_object(Bucket=bucket, Key=logs[0])["Body"].read()
    before = s3.head_object(Bucket=bucket, Key=logs[0])["LastModified"]
    while s3.head_object(Bucket=bucket, Key=logs[0])["LastModified"] == before:  # whole seconds
        s3.put_object(Bucket=bucket, Key=logs[0], Body=same)
    rc, third = report(server, arn, *window, *cache)
    assert rc == 0 and third["LogFilesFromCache"] == total - 1, third

    # A changed record: read again and reported, cached or not.
    body = gzip.decompress(s3.get_object(Bucket=bucket, Key=logs[1])["Body"].read())
    s3.put_object(Bucket=bucket, Key=logs[1], Body=gzip.compress(body.replace(b"DescribeTrails", b"DescribeTrailz", 1)))
    for extra in [(), ("--no-cache",)]:
        rc, tampered = report(server, arn, *window, *cache, *extra)
        assert rc == 1 and tampered["LogFiles"]["Invalid"] == 1, tampered
        assert any(p["Object"].endswith(logs[1]) and p["Problem"] == "hash value doesn't match"
                   for p in tampered["Problems"]), tampered
    assert tampered["LogFilesFromCache"] == 0
    # The changed file's hash is cached as read: it is still reported without reading it.
    rc, again = report(server, arn, *window, *cache)
    assert rc == 1 and again["LogFiles"]["Invalid"] == 1 and again["LogFilesFromCache"] == total, again
    ct.delete_trail(Name="cache-trail")
