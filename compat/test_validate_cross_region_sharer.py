"""digest8 H4: a multi-region trail shares its bucket with a single-region trail of another
region, which turns its validation off for a while there. Its UpdateTrail calls are in that
region's event history only; the validator read the home region's, and reported that
trail's files from the off span as "not listed in any digest" on an untouched bucket."""

import time

from conftest import cloudtrail_policy
from test_validate_logs import cairn_validate
from test_validate_final_digest import digest_keys
from test_validate_planted import log_keys, server  # noqa: F401


def new_key(keys, seen, what):
    """Waits (up to a minute) for a key `keys()` gives that is not in `seen`; all keys then."""
    deadline = time.time() + 60
    while not set(keys()) - set(seen):
        assert time.time() < deadline, f"no {what} came"
        time.sleep(0.1)
    return keys()


def test_another_regions_sharer_off_for_a_while_is_no_tampering(server):
    s3 = server.client("s3")
    bucket = "xregion-bucket"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket))
    home, eu = server.client("cloudtrail"), server.client("cloudtrail", region="eu-west-1")
    t0 = time.time()
    arn = home.create_trail(Name="xr-multi", S3BucketName=bucket, IsMultiRegionTrail=True,
                            EnableLogFileValidation=True)["TrailARN"]
    home.start_logging(Name="xr-multi")
    eu.create_trail(Name="xr-eu", S3BucketName=bucket, EnableLogFileValidation=True)
    eu.start_logging(Name="xr-eu")
    eu_digests = lambda: [k for k in digest_keys(s3, bucket) if "/eu-west-1/" in k]  # noqa: E731
    eu_logs = lambda: [k for k in log_keys(s3, bucket) if "/eu-west-1/" in k]  # noqa: E731
    eu.describe_trails()
    seen = new_key(eu_digests, [], "eu-west-1 digest")
    eu.update_trail(Name="xr-eu", EnableLogFileValidation=False)
    logs = eu_logs()
    eu.describe_trails()
    new_key(eu_logs, logs, "eu-west-1 log file while validation is off")
    eu.update_trail(Name="xr-eu", EnableLogFileValidation=True)
    eu.describe_trails()
    seen = new_key(eu_digests, seen, "eu-west-1 digest after validation came back")
    new_key(eu_digests, seen, "second eu-west-1 digest after it")
    ours = cairn_validate(server, arn, t0 - 60, time.time() - 3, "--region", "eu-west-1")
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert "not listed in any digest" not in ours.stderr, ours.stderr
