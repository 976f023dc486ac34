"""Two trails delivering to one bucket and prefix (issue 7, section 4).

Log file keys carry no trail name; digests do. A log file counts as listed when a valid
digest of any trail in the bucket lists it, so the other trail's files are not reported, a
file no digest lists is, and a trail that shares the place without validation makes the
check impossible (said once, not a failure)."""

import gzip
import json
import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy
from test_validate_logs import HOUR, assert_identical, cairn_validate, flush, validate

PREFIX = "shared"
BUCKET = "shared-trails-bucket"


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(HOUR)])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def trails(server):
    """Trails a and b, validation on, same bucket and prefix, two digest periods."""
    s3, ct = server.client("s3"), server.client("cloudtrail")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET, PREFIX))
    arns = {}
    for name in ("share-a", "share-b"):
        arns[name] = ct.create_trail(Name=name, S3BucketName=BUCKET, S3KeyPrefix=PREFIX,
                                     EnableLogFileValidation=True)["TrailARN"]
        ct.start_logging(Name=name)
    t0 = time.time()
    for hour in (1, 2):
        ct.describe_trails()
        flush(server, t0 + hour * HOUR)
    return t0, s3, ct, arns


def log_keys(s3):
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=f"{PREFIX}/AWSLogs/123456789012/CloudTrail/")
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


def test_the_other_trails_files_are_not_reported(server, trails):
    t0, s3, ct, arns = trails
    keys = log_keys(s3)
    assert len(keys) >= 4, "both trails delivered their own files"
    for arn in arns.values():
        stock = validate(server, arn, t0 - 60, t0 + 3 * HOUR)
        assert stock.returncode == 0, stock.stdout + stock.stderr
        ours = cairn_validate(server, arn, t0 - 60, t0 + 3 * HOUR, "--verbose")
        assert "not listed in any digest" not in ours.stderr, ours.stderr
        assert_identical(stock, ours)
        listed = [l for l in ours.stdout.splitlines() if l.startswith("Log file")]
        assert 0 < len(listed) < len(keys), "each trail lists only its own files"


def plant(s3, t0, tag):
    """A real log file, one byte changed, under a new name in the shared place; its key.
    Written past the chain's first seconds (a file delivered in the second the chain starts
    may be one the first digest does not list, and is not judged)."""
    while time.time() < t0 + 2:
        time.sleep(0.05)
    first = sorted(log_keys(s3))[0]
    day = time.strftime("%Y/%m/%d", time.gmtime(t0 + 30 * 60))
    stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime(t0 + 30 * 60))
    key = (f"{PREFIX}/AWSLogs/123456789012/CloudTrail/us-east-1/{day}/"
           f"123456789012_CloudTrail_us-east-1_{stamp}_{tag}.json.gz")
    # Changed by one byte: an exact copy of a file a digest lists is the same file under
    # another key, which the validator may take as a copy, not a plant.
    body = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=first)["Body"].read()) + b"\n"
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(body))
    return key


def test_a_file_no_trail_lists_is_reported(server, trails):
    t0, s3, ct, arns = trails
    planted = plant(s3, t0, "PLANTEDPLANTED00")
    day = time.strftime("%Y/%m/%d", time.gmtime(t0 + 30 * 60))
    body = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=planted)["Body"].read())
    # A name without CloudTrail's stamp is judged by its delivery time (it was never
    # reported, though Athena reads every object under the folder).
    unnamed = f"{PREFIX}/AWSLogs/123456789012/CloudTrail/us-east-1/{day}/evil.json.gz"
    s3.put_object(Bucket=BUCKET, Key=unnamed, Body=gzip.compress(body))
    try:
        stock = validate(server, arns["share-a"], t0 - 60, t0 + 3 * HOUR)
        assert stock.returncode == 0, "the stock tool only reads what digests list"
        ours = cairn_validate(server, arns["share-a"], t0 - 60, t0 + 3 * HOUR)
        assert ours.returncode == 1, ours.stdout + ours.stderr
        assert f"Log file\ts3://{BUCKET}/{planted}\tINVALID: not listed in any digest" in ours.stderr
        assert f"Log file\ts3://{BUCKET}/{unnamed}\tINVALID: not listed in any digest" in ours.stderr
        assert ours.stderr.count("not listed in any digest") == 2, ours.stderr
        found = [l for l in stock.stdout.splitlines() if l.startswith("Results found for")]
        assert found == [l for l in ours.stdout.splitlines() if l.startswith("Results found for")]
    finally:
        s3.delete_object(Bucket=BUCKET, Key=planted)
        s3.delete_object(Bucket=BUCKET, Key=unnamed)


def test_a_sharer_that_never_logged_excuses_nothing(server, trails):
    """A trail pointed at the bucket without validation and deleted without ever logging
    delivered nothing there: its CreateTrail in event history no longer turns the check for
    unlisted (forged) files off. Before, two API calls switched the check off for the bucket."""
    t0, s3, ct, arns = trails
    ct.create_trail(Name="share-never", S3BucketName=BUCKET, S3KeyPrefix=PREFIX)
    ct.delete_trail(Name="share-never")
    planted = plant(s3, t0, "NEVERLOGGED0000")
    try:
        ours = cairn_validate(server, arns["share-a"], t0 - 60, t0 + 3 * HOUR)
        assert ours.returncode == 1, ours.stdout + ours.stderr
        assert f"Log file\ts3://{BUCKET}/{planted}\tINVALID: not listed in any digest" in ours.stderr
        assert "share-never" not in ours.stderr
    finally:
        s3.delete_object(Bucket=BUCKET, Key=planted)


def test_a_sharing_trail_without_validation_disables_the_check_with_a_notice(server, trails):
    t0, s3, ct, arns = trails
    ct.create_trail(Name="share-c", S3BucketName=BUCKET, S3KeyPrefix=PREFIX)
    ct.start_logging(Name="share-c")
    ct.describe_trails()
    flush(server, t0 + 3 * HOUR)
    try:
        ours = cairn_validate(server, arns["share-a"], t0 - 60, t0 + 4 * HOUR, "--json")
        report = json.loads(ours.stdout)
        assert ours.returncode == 0, ours.stdout + ours.stderr
        assert "share-c" in report["Notice"] and "without log file validation" in report["Notice"]
        text = cairn_validate(server, arns["share-a"], t0 - 60, t0 + 4 * HOUR)
        assert text.returncode == 0 and "trail arn:aws:cloudtrail:us-east-1:123456789012:trail/share-c" \
            " also delivers to" in text.stderr, text.stderr
    finally:
        ct.delete_trail(Name="share-c")
    # Deleted, it is no longer in DescribeTrails, but files it delivered may still be there,
    # listed by no digest (one stands in for them here): event history (its CreateTrail)
    # still explains them, so they are no false alarm.
    stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime(t0 + 30 * 60))
    day = time.strftime("%Y/%m/%d", time.gmtime(t0 + 30 * 60))
    theirs = (f"{PREFIX}/AWSLogs/123456789012/CloudTrail/us-east-1/{day}/"
              f"123456789012_CloudTrail_us-east-1_{stamp}_SHARECSHARECSHAR.json.gz")
    s3.put_object(Bucket=BUCKET, Key=theirs, Body=gzip.compress(b'{"Records":[]}'))
    try:
        gone = cairn_validate(server, arns["share-a"], t0 - 60, t0 + 4 * HOUR)
        assert gone.returncode == 0, gone.stdout + gone.stderr
        assert "INVALID" not in gone.stderr
        assert "trail share-c also delivered to" in gone.stderr, gone.stderr
    finally:
        s3.delete_object(Bucket=BUCKET, Key=theirs)

