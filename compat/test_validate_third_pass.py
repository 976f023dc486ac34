"""`cairn validate-logs` findings of a third outside pass (digest3).

A trail's own digests are matched exactly (`<name>_<home>_<YYYYMMDDTHHMMSSZ>.json.gz`): a
trail named `main_us-east-1_0evil` in the same bucket no longer passes for `main`, so it can
neither stand in for `main`'s deleted newest digest nor make `main`'s genuine files look
unlisted. An object at a backfill-digest key, which Cairn never writes, is reported."""

import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy
from test_validate_logs import HOUR, cairn_validate, flush, validate

BUCKET = "masked-trails-bucket"
DIGESTS = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/"


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(HOUR)])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def trails(server):
    s3, ct = server.client("s3"), server.client("cloudtrail")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET))
    arns = {}
    for name in ("main", "main_us-east-1_0evil"):
        arns[name] = ct.create_trail(Name=name, S3BucketName=BUCKET,
                                     EnableLogFileValidation=True)["TrailARN"]
        ct.start_logging(Name=name)
    t0 = time.time()
    for hour in (1, 2):
        ct.describe_trails()
        flush(server, t0 + hour * HOUR)
    return t0, s3, arns


def digest_keys(s3, name):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=DIGESTS)
    head = f"123456789012_CloudTrail-Digest_us-east-1_{name}_us-east-1_2"
    return sorted(o["Key"] for p in pages for o in p.get("Contents", [])
                  if o["Key"].rsplit("/", 1)[-1].startswith(head))


def test_a_trail_whose_name_extends_anothers_is_not_its_own(server, trails):
    """Before, `main`'s genuine files were reported "not listed in any digest" (exit 1)
    whenever the other trail's chain was walked in its place."""
    t0, _, arns = trails
    for arn in arns.values():
        ours = cairn_validate(server, arn, t0 - 60, t0 + 3 * HOUR)
        assert ours.returncode == 0, ours.stdout + ours.stderr
        assert "not listed in any digest" not in ours.stderr, ours.stderr


def test_an_object_at_a_backfill_key_is_reported(server, trails):
    t0, s3, arns = trails
    [first, *_] = digest_keys(s3, "main")
    planted = first.replace(".json.gz", "_backfill.json.gz")
    s3.put_object(Bucket=BUCKET, Key=planted, Body=b"junk")
    try:
        stock = validate(server, arns["main"], t0 - 60, t0 + 3 * HOUR)
        assert stock.returncode == 1, stock.stdout + stock.stderr
        ours = cairn_validate(server, arns["main"], t0 - 60, t0 + 3 * HOUR)
        assert ours.returncode == 1, ours.stdout + ours.stderr
        assert f"s3://{BUCKET}/{planted}\tINVALID: a backfill digest" in ours.stderr, ours.stderr
    finally:
        s3.delete_object(Bucket=BUCKET, Key=planted)
    # One at a look-alike trail's backfill key (a trail that does not exist): the stock tool
    # takes it as main's and fails (recheck23b F3); Cairn reports it too.
    other = planted.replace("_main_us-east-1_", "_main_us-east-1_ghost_us-east-1_")
    s3.put_object(Bucket=BUCKET, Key=other, Body=b"junk")
    try:
        ours = cairn_validate(server, arns["main"], t0 - 60, t0 + 3 * HOUR)
        assert ours.returncode == 1, ours.stdout + ours.stderr
        assert f"s3://{BUCKET}/{other}\tINVALID: a backfill digest" in ours.stderr, ours.stderr
    finally:
        s3.delete_object(Bucket=BUCKET, Key=other)


def test_the_newest_digest_deleted_is_seen_despite_a_look_alike_trail(server, trails):
    """Before, the look-alike trail's fresh digest counted as `main`'s newest, and deleting
    `main`'s newest digest and the files it listed went unseen (exit 0)."""
    t0, s3, arns = trails
    newest = digest_keys(s3, "main")[-1]
    kept = s3.get_object(Bucket=BUCKET, Key=newest)
    body, metadata = kept["Body"].read(), kept["Metadata"]
    s3.delete_object(Bucket=BUCKET, Key=newest)
    try:
        ours = cairn_validate(server, arns["main"], t0 - 60, t0 + 3 * HOUR)
        assert ours.returncode == 1, ours.stdout + ours.stderr
    finally:
        s3.put_object(Bucket=BUCKET, Key=newest, Body=body, Metadata=metadata)
    assert cairn_validate(server, arns["main"], t0 - 60, t0 + 3 * HOUR).returncode == 0


def test_the_first_digest_deleted_counts_as_one(server, trails):
    """digest5: with the chain's first digest deleted and the range starting a day earlier,
    `cairn validate-logs` reported hundreds of digests missing, counting back to the start of
    the range; only the one the next digest names is known missing, as the stock tool says."""
    t0, s3, arns = trails
    [first, *_] = digest_keys(s3, "main")
    body = s3.get_object(Bucket=BUCKET, Key=first)
    saved = (body["Body"].read(), body.get("Metadata", {}))
    s3.delete_object(Bucket=BUCKET, Key=first)
    try:
        ours = cairn_validate(server, arns["main"], t0 - 86400, t0 + 3 * HOUR)
        assert ours.returncode == 1, ours.stdout + ours.stderr
        assert "missing from the chain" not in ours.stderr, ours.stderr
    finally:
        s3.put_object(Bucket=BUCKET, Key=first, Body=saved[0], Metadata=saved[1])
