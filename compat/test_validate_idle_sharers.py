"""Trails sharing a bucket and prefix without validation, or with it off for a while, that
could not have delivered a file to the place in the range excuse nothing (recheck34): a
file planted there is reported. Own server: the notice test of
`test_validate_shared_bucket.py` leaves a legitimate unvalidated sharer in event history."""

import gzip
import json
import time

import pytest

from conftest import cloudtrail_policy
from test_validate_logs import HOUR, cairn_validate
from test_validate_shared_bucket import BUCKET, PREFIX, plant, server, trails  # noqa: F401


def assert_reported(server, arns, t0, planted, *quiet):
    ours = cairn_validate(server, arns["share-a"], t0 - 60, t0 + 3 * HOUR)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert f"Log file\ts3://{BUCKET}/{planted}\tINVALID: not listed in any digest" in ours.stderr
    for name in quiet:
        assert name not in ours.stderr, ours.stderr


@pytest.fixture(scope="module")
def elsewhere(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="share-elsewhere")
    s3.put_bucket_policy(Bucket="share-elsewhere", Policy=cloudtrail_policy("share-elsewhere"))
    return "share-elsewhere"


def test_an_unvalidated_sharer_that_never_logged_there_excuses_nothing(server, trails, elsewhere):
    """recheck34 F3: a trail in the place without validation that never started (so
    DescribeTrails shows it sharing), or started only after it moved away (event history),
    delivered nothing here: neither turns the check for unlisted files off."""
    t0, s3, ct, arns = trails
    ct.create_trail(Name="share-idle", S3BucketName=BUCKET, S3KeyPrefix=PREFIX)
    ct.create_trail(Name="share-away", S3BucketName=BUCKET, S3KeyPrefix=PREFIX)
    ct.update_trail(Name="share-away", S3BucketName=elsewhere, S3KeyPrefix="")
    ct.start_logging(Name="share-away")
    planted = plant(s3, t0, "IDLESHARER000000")
    try:
        assert_reported(server, arns, t0, planted, "share-idle", "share-away")
    finally:
        s3.delete_object(Bucket=BUCKET, Key=planted)
        ct.delete_trail(Name="share-idle")
        ct.delete_trail(Name="share-away")



def test_a_validated_trail_moved_in_without_the_flag_excuses_nothing(server, trails, elsewhere):
    """digest8 H2: an UpdateTrail that names only the place (as `update-trail
    --s3-bucket-name` sends it) leaves validation as it was; it was read as "off", and a
    trail that always had validation, moved in that way, turned the check off."""
    t0, s3, ct, arns = trails
    ct.create_trail(Name="share-movein", S3BucketName=elsewhere, EnableLogFileValidation=True)
    ct.start_logging(Name="share-movein")
    ct.update_trail(Name="share-movein", S3BucketName=BUCKET, S3KeyPrefix=PREFIX)
    planted = plant(s3, t0, "MOVEDINWITHVALID")
    try:
        assert_reported(server, arns, t0, planted, "share-movein")
    finally:
        s3.delete_object(Bucket=BUCKET, Key=planted)
        ct.delete_trail(Name="share-movein")

def test_another_trails_file_rewritten_is_reported(server, trails):
    """digest8 H1: a file another trail's digest lists counted as listed by name alone: one
    rewritten with a forged record passed the validation of the trail sharing the place."""
    t0, s3, ct, arns = trails
    digests = [o["Key"] for o in s3.list_objects_v2(
        Bucket=BUCKET, Prefix=f"{PREFIX}/AWSLogs/123456789012/CloudTrail-Digest/")["Contents"]
        if "_share-b_" in o["Key"]]
    listed = []
    for d in digests:
        body = json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=d)["Body"].read()))
        listed += [f["s3Object"] for f in body["logFiles"]]
    assert listed, digests
    key = listed[0]
    original = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    records = json.loads(gzip.decompress(original))
    records["Records"].append({"eventName": "DeleteTrail", "eventSource": "cloudtrail.amazonaws.com"})
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(json.dumps(records).encode()))
    try:
        assert_reported(server, arns, t0, key)
    finally:
        s3.put_object(Bucket=BUCKET, Key=key, Body=original)


def test_another_trails_validation_off_elsewhere_excuses_nothing(server, trails, elsewhere):
    """recheck34 F1: trail b shared the place, moved to another bucket, then turned its
    validation off for a while: it delivered nothing here meanwhile, so a file planted here
    then is reported (it was excused, as any call of b's had once named the place)."""
    t0, s3, ct, arns = trails
    ct.update_trail(Name="share-b", S3BucketName=elsewhere, S3KeyPrefix="")
    moved = int(time.time())
    while int(time.time()) == moved:  # event history has whole seconds: off after the move's
        time.sleep(0.05)
    ct.update_trail(Name="share-b", EnableLogFileValidation=False)
    planted = plant(s3, t0, "OFFELSEWHERE0000")
    ct.update_trail(Name="share-b", EnableLogFileValidation=True)
    try:
        assert_reported(server, arns, t0, planted)
    finally:
        s3.delete_object(Bucket=BUCKET, Key=planted)

