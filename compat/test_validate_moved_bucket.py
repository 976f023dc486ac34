"""A trail moved to another bucket (UpdateTrail S3BucketName): its digest chain reaches back
into the old bucket (`previousDigestS3Bucket`), and a file forged there, in the span the old
bucket's digests cover, is reported like one in the current bucket (an outside tester found
it was not looked for)."""

import gzip
import time

from conftest import cloudtrail_policy
from test_validate_history import clocked, digests  # noqa: F401 (a fixture)
from test_validate_logs import HOUR, cairn_validate, flush, make_trail


def test_a_file_forged_in_the_old_bucket_is_reported(clocked):
    server, clock = clocked
    c0 = clock.now
    ct, s3, old, arn = make_trail(server, "mover")
    ct.describe_trails()
    flush(server, c0 + HOUR)
    ct.describe_trails()
    flush(server, c0 + 2 * HOUR)
    s3.create_bucket(Bucket="mover-new")
    s3.put_bucket_policy(Bucket="mover-new", Policy=cloudtrail_policy("mover-new"))
    ct.update_trail(Name="mover", S3BucketName="mover-new")
    ct.describe_trails()
    flush(server, c0 + 3 * HOUR)
    window = (c0 - 60, c0 + 3 * HOUR + 60)
    clean = cairn_validate(server, arn, *window, "--verbose")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "s3://" + old + "/" in clean.stdout, "the chain reaches the old bucket: " + clean.stdout
    # The old bucket validated on its own, as an archive: the trail's latest digest is in
    # the new bucket, so none is missing here (the stock tool passes it too).
    archive = cairn_validate(server, arn, *window, "--s3-bucket", old)
    assert archive.returncode == 0, archive.stdout + archive.stderr

    real = digests(s3, old)[0][1]["logFiles"][0]["s3Object"]
    forged = real[:-len("XXXXXXXXXXXXXXXX.json.gz")] + "OLDBUCKETforged1.json.gz"
    s3.put_object(Bucket=old, Key=forged, Body=gzip.compress(b'{"Records":[]}'))
    ours = cairn_validate(server, arn, *window)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Log file\ts3://{old}/{forged}\tINVALID: not listed in any digest" in ours.stderr, ours.stderr
    s3.delete_object(Bucket=old, Key=forged)
    # One named after the move, when only the new bucket's digests run: the chain's span
    # covers it, and nothing may be delivered to the old bucket then.
    stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime(c0 + 2 * HOUR + 30 * 60))
    day = time.strftime("%Y/%m/%d", time.gmtime(c0 + 2 * HOUR + 30 * 60))
    late = f"AWSLogs/123456789012/CloudTrail/us-east-1/{day}/123456789012_CloudTrail_us-east-1_{stamp}_OLDBUCKETforged2.json.gz"
    s3.put_object(Bucket=old, Key=late, Body=gzip.compress(b'{"Records":[]}'))
    ours = cairn_validate(server, arn, *window)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Log file\ts3://{old}/{late}\tINVALID: not listed in any digest" in ours.stderr, ours.stderr
    s3.delete_object(Bucket=old, Key=late)
    assert cairn_validate(server, arn, *window).returncode == 0
    ct.delete_trail(Name="mover")


def test_a_file_forged_under_the_old_prefix_is_reported(clocked):
    """Before (digest3 #3), only former buckets were looked in, under the current prefix: a
    file forged under the prefix the trail used before an UpdateTrail of `S3KeyPrefix` alone
    was never reported."""
    server, clock = clocked
    c0 = clock.now
    ct, s3, bucket, arn = make_trail(server, "reprefixed")
    ct.describe_trails()
    flush(server, c0 + HOUR)
    ct.describe_trails()
    flush(server, c0 + 2 * HOUR)
    s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket, "newp"))
    ct.update_trail(Name="reprefixed", S3KeyPrefix="newp")
    ct.describe_trails()
    flush(server, c0 + 3 * HOUR)
    window = (c0 - 60, c0 + 3 * HOUR + 60)
    clean = cairn_validate(server, arn, *window)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    real = digests(s3, bucket)[0][1]["logFiles"][0]["s3Object"]
    assert real.startswith("AWSLogs/"), real
    forged = real[:-len("XXXXXXXXXXXXXXXX.json.gz")] + "OLDPREFIXforged1.json.gz"
    s3.put_object(Bucket=bucket, Key=forged, Body=gzip.compress(b'{"Records":[]}'))
    ours = cairn_validate(server, arn, *window)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Log file\ts3://{bucket}/{forged}\tINVALID: not listed in any digest" in ours.stderr, ours.stderr
    s3.delete_object(Bucket=bucket, Key=forged)
    ct.delete_trail(Name="reprefixed")
