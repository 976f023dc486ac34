"""A trail stopped, moved to another S3 key prefix and started again, twice or more (outside
tester ops3): each stop's final digest lies under the prefix the trail delivered to when it
stopped. `cairn validate-logs` used to look for it under the prefix being validated only and
reported "no final digest … deleted or moved" for an untouched bucket, which the stock tool
passes; and `--s3-prefix` without `--s3-bucket` was ignored."""

import json
import time

from test_validate_logs import cairn_validate, make_trail, server  # noqa: F401 (a fixture)


def policy(bucket, prefixes):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject",
         "Resource": [f"arn:aws:s3:::{bucket}/{p}AWSLogs/123456789012/*" for p in prefixes],
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]})


def next_second():
    """Waits for the wall clock's next second, so calls and flushes do not share one."""
    now = int(time.time())
    while int(time.time()) <= now:
        time.sleep(0.02)


def test_stops_under_other_prefixes_owe_their_digests_there(server):
    t0 = time.time()
    ct, s3, bucket, arn = make_trail(server, "twice")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(bucket, ["", "a/", "b/"]))
    ct.describe_trails()
    next_second()
    server.flush()
    for prefix in ["a", "b", "a"]:
        next_second()
        ct.stop_logging(Name="twice")
        next_second()
        server.flush()
        next_second()
        ct.update_trail(Name="twice", S3KeyPrefix=prefix)
        ct.start_logging(Name="twice")
        ct.describe_trails()
        next_second()
        server.flush()
        ct = server.client("cloudtrail")
    next_second()
    window = (t0 - 60, time.time() + 1)
    result = cairn_validate(server, arn, *window)
    assert result.returncode == 0, result.stdout + result.stderr
    # `--s3-prefix` alone is read in the trail's bucket, as the stock tool reads it.
    other = cairn_validate(server, arn, *window, "--s3-prefix", "b", "--verbose")
    assert other.returncode == 0, other.stdout + other.stderr
    assert f"s3://{bucket}/b/AWSLogs" in other.stdout, other.stdout
