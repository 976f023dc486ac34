"""A trail sharing the validated place without validation but stopped now (recheck35 F6).
Such a trail switched the unlisted-file check off even when it never delivered a file
here: one that logged elsewhere, stopped, then moved here; one that logged here with
validation, stopped, then had validation turned off. Its calls in event history now decide:
it excuses the place's unlisted files only if it was logging here without validation at the
end of some second of them (calls of one second are taken in no particular order)."""

import time

import pytest

from conftest import cloudtrail_policy
from test_validate_logs import HOUR, cairn_validate
from test_validate_shared_bucket import BUCKET, PREFIX, plant, server, trails  # noqa: F401

ELSEWHERE = "stopped-sharers-elsewhere"


@pytest.fixture(scope="module")
def elsewhere(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket=ELSEWHERE)
    s3.put_bucket_policy(Bucket=ELSEWHERE, Policy=cloudtrail_policy(ELSEWHERE))
    return ELSEWHERE


def next_second():
    s = int(time.time())
    while int(time.time()) == s:
        time.sleep(0.02)


def reported(server, arns, t0, s3, tag):
    planted = plant(s3, t0, tag)
    try:
        out = cairn_validate(server, arns["share-a"], t0 - 60, t0 + 3 * HOUR)
        return out.returncode, tag in out.stderr, out.stderr
    finally:
        s3.delete_object(Bucket=BUCKET, Key=planted)


def test_moved_in_while_stopped_excuses_nothing(server, trails, elsewhere):
    t0, s3, ct, arns = trails
    ct.create_trail(Name="moved-in", S3BucketName=elsewhere)
    # All in one second, as a script would: event history gives no order within it.
    ct.start_logging(Name="moved-in")
    ct.stop_logging(Name="moved-in")
    ct.update_trail(Name="moved-in", S3BucketName=BUCKET, S3KeyPrefix=PREFIX)
    try:
        rc, seen, err = reported(server, arns, t0, s3, "MOVEDINSTOPPED00")
        assert rc == 1 and seen, err
    finally:
        ct.delete_trail(Name="moved-in")


def test_validation_off_once_stopped_excuses_nothing(server, trails):
    t0, s3, ct, arns = trails
    ct.create_trail(Name="off-later", S3BucketName=BUCKET, S3KeyPrefix=PREFIX,
                    EnableLogFileValidation=True)
    ct.start_logging(Name="off-later")
    ct.stop_logging(Name="off-later")
    next_second()
    ct.update_trail(Name="off-later", EnableLogFileValidation=False)
    try:
        rc, seen, err = reported(server, arns, t0, s3, "OFFWHILESTOPPED0")
        assert rc == 1 and seen, err
    finally:
        ct.delete_trail(Name="off-later")


def test_one_that_logged_here_unvalidated_still_excuses(server, trails):
    t0, s3, ct, arns = trails
    ct.create_trail(Name="honest", S3BucketName=BUCKET, S3KeyPrefix=PREFIX)
    ct.start_logging(Name="honest")
    next_second()
    ct.stop_logging(Name="honest")
    try:
        rc, seen, err = reported(server, arns, t0, s3, "HONESTSHARER0000")
        assert rc == 0 and not seen, err
        assert "honest" in err and "without log file validation" in err, err
    finally:
        ct.delete_trail(Name="honest")
