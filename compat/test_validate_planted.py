"""Forged log files planted by a bucket writer are reported whatever the range validated
and whatever folder they are put in. recheck33: with `--start-time` after one of the trail's
own digests, that digest (read for files copied onto themselves) was taken for another
trail's newest and excused every file planted in the 70 minutes after it. digest7 G1: a
file planted today in an old day's folder (`2020/01/01/`) was never listed. (Object times
are the system clock's, so the server runs on it, with short intervals.)"""

import gzip
import time

import pytest

from conftest import Cairn, cairn_binary
from test_validate_final_digest import digest_keys, new_digest
from test_validate_logs import cairn_validate, make_trail

FORGED = gzip.compress(b'{"Records":[{"eventName":"DeleteBucket"}]}')


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "1", "--digest-interval", "2"])
    yield s
    s.stop()


def test_a_range_starting_after_an_own_digest_still_reports_a_planted_file(server):
    ct, s3, bucket, arn = make_trail(server, "planted-late")
    ct.describe_trails()
    seen = new_digest(s3, bucket, [], "first digest")
    start = time.time() + 0.5
    while time.time() < start + 1:
        time.sleep(0.1)
    now = time.gmtime()
    forged = (f"AWSLogs/123456789012/CloudTrail/us-east-1/{time.strftime('%Y/%m/%d', now)}/"
              f"123456789012_CloudTrail_us-east-1_{time.strftime('%Y%m%dT%H%MZ', now)}_FORGEDlateABCDE.json.gz")
    s3.put_object(Bucket=bucket, Key=forged, Body=FORGED)
    ct.describe_trails()
    seen = new_digest(s3, bucket, seen, "digest after the planting")
    new_digest(s3, bucket, seen, "second digest after the planting")
    ours = cairn_validate(server, arn, int(start), time.time() + 10)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Log file\ts3://{bucket}/{forged}\tINVALID: not listed in any digest" in ours.stderr, \
        ours.stderr


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
    ours = cairn_validate(server, arn, t0 - 60, time.time() + 10)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Log file\ts3://{bucket}/{forged}\tINVALID: not listed in any digest" in ours.stderr, \
        ours.stderr
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
    for _ in range(3):
        ct.describe_trails()
        time.sleep(0.6)
    ct.update_trail(Name="shared-off-b", EnableLogFileValidation=True)
    ct.describe_trails()
    seen = new_digest(s3, bucket, seen, "digest after validation came back")
    seen = new_digest(s3, bucket, seen, "second digest after it")
    new_digest(s3, bucket, seen, "third digest after it")
    ours = cairn_validate(server, arn_a, t0 - 60, time.time() - 3)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert "not listed in any digest" not in ours.stderr, ours.stderr
