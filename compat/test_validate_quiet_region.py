"""A multi-region trail's region where the account never made a call has no digest at all
(Cairn writes a region's digest once it has log files). A file planted there was let pass
by the first validation of that region, "No digests found" and exit 0 (recheck33b F1): it
is reported once the home region has a digest written a minute after its delivery, as the
region's own digest would have been written in the same step."""

import time

from test_validate_logs import HOUR, cairn_validate, flush, server  # noqa: F401
from test_validate_planted import FORGED, assert_unlisted, wait_past
from conftest import cloudtrail_policy


def multi_region_trail(server, bucket, name):
    """A bucket with CloudTrail's policy and a multi-region trail, validated, logging into
    it: (s3, cloudtrail, the trail's ARN)."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket))
    ct = server.client("cloudtrail")
    arn = ct.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=True,
                          EnableLogFileValidation=True)["TrailARN"]
    ct.start_logging(Name=name)
    return s3, ct, arn


def planted_key(region, tag):
    """A log file key of `region`'s folder, named as CloudTrail names one now."""
    now = time.gmtime()
    return (f"AWSLogs/123456789012/CloudTrail/{region}/{time.strftime('%Y/%m/%d', now)}/"
            f"123456789012_CloudTrail_{region}_{time.strftime('%Y%m%dT%H%MZ', now)}_{tag}.json.gz")


def test_a_file_planted_in_a_region_never_used_is_reported(server):
    t0 = time.time()
    bucket = "quiet-region-bucket"
    s3, ct, arn = multi_region_trail(server, bucket, "quiet-region")
    key = planted_key("ap-south-1", "quiet")
    s3.put_object(Bucket=bucket, Key=key, Body=FORGED)
    ct.describe_trails()
    flush(server, t0 + HOUR)  # the home region's digest, an hour on
    ours = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, "--region", "ap-south-1")
    assert_unlisted(ours, bucket, key)
    # Nothing planted: the quiet region is valid (the home region's digest alone, no file).
    s3.delete_object(Bucket=bucket, Key=key)
    clean = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, "--region", "ap-south-1")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    ct.delete_trail(Name="quiet-region")


def test_another_regions_unvalidated_trail_excuses_nothing_here(server):
    """recheck34b: a single-region us-east-1 trail without validation, pointed at the bucket
    of a multi-region trail and started, turned the unlisted-file check off for every region
    (event history named it a sharer); it only ever writes us-east-1's folder, so a file
    planted in us-west-2's is reported."""
    t0 = time.time()
    bucket = "other-region-sharer-bucket"
    s3, ct, arn = multi_region_trail(server, bucket, "sharer-multi")
    ct.create_trail(Name="sharer-east-only", S3BucketName=bucket)
    ct.start_logging(Name="sharer-east-only")
    server.client("cloudtrail", region="us-west-2").describe_trails()  # activity there
    wait_past(time.time() + 2)  # past the first second of the region's chain
    key = planted_key("us-west-2", "westplant")
    s3.put_object(Bucket=bucket, Key=key, Body=FORGED)
    flush(server, t0 + HOUR)
    ours = cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, "--region", "us-west-2")
    assert_unlisted(ours, bucket, key)
    assert "sharer-east-only" not in ours.stderr, ours.stderr
    ct.delete_trail(Name="sharer-east-only")
    ct.delete_trail(Name="sharer-multi")
