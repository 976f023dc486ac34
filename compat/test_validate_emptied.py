"""A trail's digests cannot be made to vanish quietly (issue 7, section 4).

The stock `aws cloudtrail validate-logs` answers "No digests found" and exit 0 for a bucket
whose digests were all deleted, and cannot see deleted digests newer than the last one left.
`cairn validate-logs` asks GetTrailStatus when the trail last delivered a digest, and reads
the chain of the first digest after the range, so both fail. Time is driven with
`cairn flush --now` and `cairn lifecycle run --now`."""

import json
import time

import pytest

from conftest import Cairn, cairn_binary
from test_validate_logs import HOUR, assert_identical, cairn_validate, flush, make_trail, validate

DIGESTS = "AWSLogs/123456789012/CloudTrail-Digest/"


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(HOUR)])
    yield s
    s.stop()


def delivered(server, name, hours=3):
    """A trail with `hours` hourly digests; returns (t0, ct, s3, bucket, arn, digest keys)."""
    t0 = time.time()
    ct, s3, bucket, arn = make_trail(server, name)
    for hour in range(1, hours + 1):
        ct.describe_trails()
        flush(server, t0 + hour * HOUR)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=DIGESTS)["Contents"])
    assert len(keys) == hours
    return t0, ct, s3, bucket, arn, keys


def test_deleting_every_digest_fails(server):
    t0, ct, s3, bucket, arn, _ = delivered(server, "emptied-rm")
    assert validate(server, arn, t0 - 60, t0 + 4 * HOUR).returncode == 0
    server.cli("s3", "rm", f"s3://{bucket}/{DIGESTS}", "--recursive")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=DIGESTS)
    stock = validate(server, arn, t0 - 60, t0 + 4 * HOUR)
    assert stock.returncode == 0 and "No digests found" in stock.stdout, "the hole this closes"
    ours = cairn_validate(server, arn, t0 - 60, t0 + 4 * HOUR)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert "INVALID: none found, but trail " + arn + " delivered a digest file at" in ours.stderr, ours.stderr
    assert "No valid digests found in range" in ours.stdout and "1/1 digest files INVALID" in ours.stdout
    assert "not listed in any digest" in ours.stderr, "the log files left behind are unlisted"
    report = json.loads(cairn_validate(server, arn, t0 - 60, t0 + 4 * HOUR, "--json").stdout)
    assert report["Digests"]["Invalid"] == 1 and report["Digests"]["Valid"] == 0
    ct.delete_trail(Name="emptied-rm")


def test_a_lifecycle_rule_that_empties_the_bucket_fails(server):
    t0, ct, s3, bucket, arn, _ = delivered(server, "emptied-lc")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "expire-all", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
    expired = json.loads(server.admin("lifecycle", "run", "--now", str(t0 + 10 * 86400)))["Expired"]
    assert expired >= 6, "every log file and digest expired"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    stock = validate(server, arn, t0 - 60, t0 + 4 * HOUR)
    assert stock.returncode == 0 and "No digests found" in stock.stdout
    ours = cairn_validate(server, arn, t0 - 60, t0 + 4 * HOUR)
    assert ours.returncode == 1 and "INVALID: none found" in ours.stderr, ours.stdout + ours.stderr
    s3.delete_bucket_lifecycle(Bucket=bucket)
    ct.delete_trail(Name="emptied-lc")


def test_deleting_the_newest_digests_fails(server):
    t0, ct, s3, bucket, arn, keys = delivered(server, "emptied-tail")
    for key in keys[1:]:
        s3.delete_object(Bucket=bucket, Key=key)
    stock = validate(server, arn, t0 - 60, t0 + 4 * HOUR)
    assert stock.returncode == 0, "the stock tool starts from the newest digest left"
    ours = cairn_validate(server, arn, t0 - 60, t0 + 4 * HOUR)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert "INVALID: none after " in ours.stderr and "they have been deleted or moved" in ours.stderr
    assert "not listed in any digest" in ours.stderr, "the deleted digests' log files are orphans"
    ct.delete_trail(Name="emptied-tail")


def test_a_past_range_emptied_is_caught_by_the_next_digests_chain(server):
    t0, ct, s3, bucket, arn, keys = delivered(server, "emptied-past", hours=4)
    # Only the digest ending at t0+2h falls in [start, end + 1 h] for this range.
    start, end = t0 + HOUR + 30 * 60, t0 + HOUR + 40 * 60
    assert_identical(validate(server, arn, start, end), cairn_validate(server, arn, start, end, "--verbose"))
    s3.delete_object(Bucket=bucket, Key=keys[1])
    stock = validate(server, arn, start, end)
    assert stock.returncode == 0 and "No digests found" in stock.stdout
    ours = cairn_validate(server, arn, start, end)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Digest file\ts3://{bucket}/{keys[1]}\tINVALID: not found" in ours.stderr, ours.stderr
    ct.delete_trail(Name="emptied-past")


def test_a_range_before_the_trail_existed_is_not_an_alarm(server):
    t0, ct, s3, bucket, arn, _ = delivered(server, "emptied-none", hours=2)
    # Before the first digest: no public key was in use yet, which both tools say alike.
    stock = validate(server, arn, t0 - 5 * HOUR, t0 - 4 * HOUR)
    assert stock.returncode == 255 and "No public keys found between" in stock.stderr, stock.stderr
    assert_identical(stock, cairn_validate(server, arn, t0 - 5 * HOUR, t0 - 4 * HOUR, "--verbose"))
    # A range just before the first digest, with the signing key in use by its end: the
    # first digest starts a chain, so no digest was due and none is missing.
    stock = validate(server, arn, t0 - 50 * 60, t0 - 40 * 60)
    assert stock.returncode == 0 and "No digests found" in stock.stdout, stock.stdout + stock.stderr
    assert_identical(stock, cairn_validate(server, arn, t0 - 50 * 60, t0 - 40 * 60, "--verbose"))
    ct.delete_trail(Name="emptied-none")


def test_deleting_another_regions_newest_digest_fails(server):
    """A multi-region trail digests a region other than its home every period once that
    region has had a log file, in the same step as the home region: deleting that region's
    newest digest is caught like the home region's (an outside tester found it was not)."""
    t0 = time.time()
    ct, s3, bucket, arn = make_trail(server, "emptied-region")
    ct.update_trail(Name="emptied-region", IsMultiRegionTrail=True)
    paris = server.client("cloudtrail", region="eu-west-3")
    for hour in range(1, 4):
        paris.describe_trails()
        flush(server, t0 + hour * HOUR)
    prefix = DIGESTS + "eu-west-3/"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"])
    assert len(keys) >= 2, keys
    args = (server, arn, t0 - 60, t0 + 4 * HOUR, "--region", "eu-west-3")
    before = cairn_validate(*args)
    assert before.returncode == 0, before.stdout + before.stderr
    s3.delete_object(Bucket=bucket, Key=keys[-1])
    ours = cairn_validate(*args)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert "INVALID: none after " in ours.stderr and "they have been deleted or moved" in ours.stderr
    # Every digest of that region deleted: its log files, delivered before the trail's
    # latest digest, are listed by none.
    for k in keys:
        s3.delete_object(Bucket=bucket, Key=k)
    assert validate(*args).returncode == 0  # the stock tool: "No digests found"
    ours = cairn_validate(*args)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert "/eu-west-3/" in ours.stderr and "INVALID: not listed in any digest" in ours.stderr, ours.stderr
    ct.delete_trail(Name="emptied-region")


def test_wiping_another_region_entirely_fails_and_status_is_per_region(server):
    """Every digest and log file of a non-home region deleted: GetTrailStatus asked in that
    region says when the trail last delivered a digest there (status is per region, as the
    API reference says), so `cairn validate-logs --region` reports the digests gone. A region
    where the trail delivered nothing has no delivery times (it reported the home region's)."""
    t0 = time.time()
    ct, s3, bucket, arn = make_trail(server, "wiped-region")
    ct.update_trail(Name="wiped-region", IsMultiRegionTrail=True)
    dublin = server.client("cloudtrail", region="eu-west-1")
    for hour in range(1, 3):
        dublin.describe_trails()
        flush(server, t0 + hour * HOUR)
    home = ct.get_trail_status(Name=arn)
    here = dublin.get_trail_status(Name=arn)
    quiet = server.client("cloudtrail", region="sa-east-1").get_trail_status(Name=arn)
    assert "LatestDigestDeliveryTime" in home and "LatestDigestDeliveryTime" in here
    assert "LatestDeliveryTime" not in quiet and "LatestDigestDeliveryTime" not in quiet, quiet
    assert quiet["IsLogging"] is True and quiet["LatestDeliveryAttemptSucceeded"] == ""
    region_keys = [o["Key"] for p in (DIGESTS + "eu-west-1/", "AWSLogs/123456789012/CloudTrail/eu-west-1/")
                   for o in s3.list_objects_v2(Bucket=bucket, Prefix=p).get("Contents", [])]
    assert len(region_keys) >= 3, region_keys
    args = (server, arn, t0 - 60, t0 + 3 * HOUR, "--region", "eu-west-1")
    assert cairn_validate(*args).returncode == 0
    for k in region_keys:
        s3.delete_object(Bucket=bucket, Key=k)
    assert validate(*args).returncode == 0  # the stock tool: "No digests found"
    ours = cairn_validate(*args)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert "CloudTrail-Digest/eu-west-1/" in ours.stderr and "INVALID: none found" in ours.stderr, ours.stderr
    # The quiet region: nothing was delivered there, and nothing is missing.
    quiet_run = cairn_validate(server, arn, t0 - 60, t0 + 3 * HOUR, "--region", "sa-east-1")
    assert quiet_run.returncode == 0, quiet_run.stdout + quiet_run.stderr
    ct.delete_trail(Name="wiped-region")
