"""Forged log files planted by a bucket writer are reported whatever the range validated
and whatever folder they are put in. recheck33: with `--start-time` after one of the trail's
own digests, that digest (read for files copied onto themselves) was taken for another
trail's newest and excused every file planted in the 70 minutes after it. digest7 G1: a
file planted today in an old day's folder (`2020/01/01/`) was never listed. (Object times
are the system clock's, so the server runs on it, with short intervals.) Two validated
trails sharing a bucket and prefix: files one delivered while its validation was off for a
while (digest7 G2), or listed by its digest in another prefix it moved to and back from
(G3), are no tampering."""

import gzip
import json
import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy
from test_validate_final_digest import digest_keys, new_digest
from test_validate_logs import cairn_validate, make_trail

FORGED = gzip.compress(b'{"Records":[{"eventName":"DeleteBucket"}]}')


def plant_today(s3, bucket, tag):
    """A forged log file in today's folder, named as CloudTrail names one; its key."""
    now = time.gmtime()
    key = (f"AWSLogs/123456789012/CloudTrail/us-east-1/{time.strftime('%Y/%m/%d', now)}/"
           f"123456789012_CloudTrail_us-east-1_{time.strftime('%Y%m%dT%H%MZ', now)}_{tag}.json.gz")
    s3.put_object(Bucket=bucket, Key=key, Body=FORGED)
    return key


def assert_unlisted(ours, bucket, key):
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Log file\ts3://{bucket}/{key}\tINVALID: not listed in any digest" in ours.stderr, \
        ours.stderr


def log_keys(s3, bucket, prefix=""):
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
            if "/CloudTrail/" in o["Key"]}


def new_log(s3, bucket, before, prefix=""):
    """Waits (up to a minute) for a log file not in `before`."""
    deadline = time.time() + 60
    while not log_keys(s3, bucket, prefix) - before:
        assert time.time() < deadline, "no log file came"
        time.sleep(0.1)


def wait_past(t):
    """Waits until the clock is past `t` (object times are whole seconds of it)."""
    while time.time() < t:
        time.sleep(0.1)


@pytest.fixture
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "1", "--digest-interval", "2"])
    yield s
    s.stop()


def test_a_range_starting_after_an_own_digest_still_reports_a_planted_file(server):
    ct, s3, bucket, arn = make_trail(server, "planted-late")
    ct.describe_trails()
    seen = new_digest(s3, bucket, [], "first digest")
    start = time.time() + 0.5
    wait_past(start + 1)
    forged = plant_today(s3, bucket, "FORGEDlateABCDE")
    ct.describe_trails()
    seen = new_digest(s3, bucket, seen, "digest after the planting")
    new_digest(s3, bucket, seen, "second digest after the planting")
    assert_unlisted(cairn_validate(server, arn, int(start), time.time() + 10), bucket, forged)



def test_an_own_file_from_before_the_range_rewritten_is_reported(server):
    """digest8 H1: a file of this trail's, listed by a digest from before `--start-time`, was
    taken as listed by name alone (a file copied onto itself keeps its bytes): rewritten
    with a forged record inside the range, it passed."""
    ct, s3, bucket, arn = make_trail(server, "rewritten-own")
    ct.describe_trails()
    seen = new_digest(s3, bucket, [], "first digest")
    before = sorted(log_keys(s3, bucket))
    assert before, "no log file before the first digest"
    start = time.time() + 0.5
    wait_past(start + 1)
    original = s3.get_object(Bucket=bucket, Key=before[0])["Body"].read()
    records = json.loads(gzip.decompress(original))
    records["Records"].append({"eventName": "DeleteTrail", "eventSource": "cloudtrail.amazonaws.com"})
    s3.put_object(Bucket=bucket, Key=before[0], Body=gzip.compress(json.dumps(records).encode()))
    ct.describe_trails()
    seen = new_digest(s3, bucket, seen, "digest after the rewrite")
    new_digest(s3, bucket, seen, "second digest after the rewrite")
    ours = cairn_validate(server, arn, int(start), time.time() + 10)
    # Not listed with these bytes by any digest (or, had a digest in the range listed it,
    # a hash that does not match): reported either way.
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert any(before[0] in line and "INVALID" in line for line in ours.stderr.splitlines()), ours.stderr

def test_a_file_planted_in_an_old_days_folder_is_reported(server):
    t0 = time.time()
    ct, s3, bucket, arn = make_trail(server, "planted-old")
    ct.describe_trails()
    seen = new_digest(s3, bucket, [], "first digest")
    forged = ("AWSLogs/123456789012/CloudTrail/us-east-1/2020/01/01/"
              "123456789012_CloudTrail_us-east-1_20200101T0000Z_FORGEDoldfolder1.json.gz")
    s3.put_object(Bucket=bucket, Key=forged, Body=FORGED)
    ct.describe_trails()
    seen = new_digest(s3, bucket, seen, "digest after the planting")
    new_digest(s3, bucket, seen, "second digest after the planting")
    assert_unlisted(cairn_validate(server, arn, t0 - 60, time.time() + 10), bucket, forged)
    assert digest_keys(s3, bucket)


def test_another_trail_here_with_validation_off_for_a_while_is_no_tampering(server):
    """digest7 G2: two validated trails share a bucket; B turns validation off for a while
    and on again. The files B delivered meanwhile are listed by no digest, as on AWS; they
    were reported against A as "not listed in any digest" on an untouched bucket."""
    t0 = time.time()
    ct, s3, bucket, arn_a = make_trail(server, "shared-off-a")
    ct.create_trail(Name="shared-off-b", S3BucketName=bucket, EnableLogFileValidation=True)
    ct.start_logging(Name="shared-off-b")
    ct.describe_trails()
    seen = new_digest(s3, bucket, [], "first digest")
    ct.update_trail(Name="shared-off-b", EnableLogFileValidation=False)
    before = log_keys(s3, bucket)
    ct.describe_trails()
    new_log(s3, bucket, before)  # files delivered while B's validation is off
    ct.update_trail(Name="shared-off-b", EnableLogFileValidation=True)
    ct.describe_trails()
    seen = new_digest(s3, bucket, seen, "digest after validation came back")
    seen = new_digest(s3, bucket, seen, "second digest after it")
    new_digest(s3, bucket, seen, "third digest after it")
    ours = cairn_validate(server, arn_a, t0 - 60, time.time() - 3)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert "not listed in any digest" not in ours.stderr, ours.stderr


def test_another_trail_here_that_moved_away_and_back_is_no_tampering(server):
    """digest7 G3: two validated trails share a bucket and prefix; B moves to another prefix
    and back. B's last file here is listed by its first digest in the other prefix, as on
    AWS, which the validator of A never read: reported as "not listed in any digest"."""
    s3, ct = server.client("s3"), server.client("cloudtrail")
    bucket = "shared-move-bucket"
    s3.create_bucket(Bucket=bucket)
    policy = json.loads(cloudtrail_policy(bucket, "p"))
    policy["Statement"][1]["Resource"] = f"arn:aws:s3:::{bucket}/*"
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    t0 = time.time()
    arn_a = ct.create_trail(Name="shared-move-a", S3BucketName=bucket, S3KeyPrefix="p",
                            EnableLogFileValidation=True)["TrailARN"]
    ct.create_trail(Name="shared-move-b", S3BucketName=bucket, S3KeyPrefix="p",
                    EnableLogFileValidation=True)
    ct.start_logging(Name="shared-move-a")
    ct.start_logging(Name="shared-move-b")
    ct.describe_trails()
    seen = new_digest(s3, bucket, [], "first digest")
    before = log_keys(s3, bucket, "p/")
    ct.describe_trails()
    new_log(s3, bucket, before, "p/")  # a file delivered here before the move
    ct.update_trail(Name="shared-move-b", S3KeyPrefix="q")
    seen = new_digest(s3, bucket, seen, "digest after the move")
    seen = new_digest(s3, bucket, seen, "second digest after the move")
    ct.update_trail(Name="shared-move-b", S3KeyPrefix="p")
    for what in ("digest after the move back", "second", "third"):
        ct.describe_trails()
        seen = new_digest(s3, bucket, seen, what)
    ours = cairn_validate(server, arn_a, t0 - 60, time.time() - 3)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert "not listed in any digest" not in ours.stderr, ours.stderr



def test_a_file_planted_after_a_same_second_re_creation_is_reported(server):
    """A trail deleted with validation off and re-created with it on in the same second:
    event history gives whole seconds, so either CreateTrail may have come last, and
    "validation may be off" was kept for good, excusing every file planted afterwards
    (found testing recheck33b F2; older than session 33). DescribeTrails says validation is
    on now and no later call set it: the re-creation came last."""
    s3, ct = server.client("s3"), server.client("cloudtrail")
    bucket = "recreated-bucket"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket))
    t0 = time.time()
    ct.create_trail(Name="recreated", S3BucketName=bucket)
    ct.start_logging(Name="recreated")
    ct.delete_trail(Name="recreated")
    arn = ct.create_trail(Name="recreated", S3BucketName=bucket, EnableLogFileValidation=True)["TrailARN"]
    ct.start_logging(Name="recreated")
    wait_past(time.time() + 4)  # past the new chain's first seconds
    forged = plant_today(s3, bucket, "FORGEDafterdel1")
    ct.describe_trails()
    seen = new_digest(s3, bucket, [], "first digest")
    seen = new_digest(s3, bucket, seen, "second digest")
    new_digest(s3, bucket, seen, "third digest")
    assert_unlisted(cairn_validate(server, arn, t0 - 60, time.time() + 10), bucket, forged)
