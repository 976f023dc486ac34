"""`cairn validate-logs` findings of a fourth outside pass (digest4): a log file copied onto
itself (new metadata, a re-encryption: the same bytes, a new `LastModified`) after the digest
that lists it was written is not reported "not listed in any digest" when the range starts
after that digest: this trail's digests from before the range are looked in too."""

import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy
from test_validate_logs import HOUR, cairn_validate, validate

BUCKET = "recopied-bucket"


def clock_passes(t):
    """Waits for the real clock to pass `t`: LastModified and digest times are whole seconds,
    and this test needs each step in a later second than the one before."""
    while time.time() < t:
        time.sleep(0.05)


@pytest.fixture()
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(HOUR)])
    yield s
    s.stop()


def test_a_file_copied_onto_itself_is_still_listed(server):
    s3, ct = server.client("s3"), server.client("cloudtrail")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET))
    arn = ct.create_trail(Name="recopied", S3BucketName=BUCKET,
                          EnableLogFileValidation=True)["TrailARN"]
    ct.start_logging(Name="recopied")
    t0 = time.time()
    ct.describe_trails()
    server.flush()
    first = time.time()
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix="AWSLogs/123456789012/CloudTrail/")
    logs = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert logs, "the first flush delivered a log file"
    clock_passes(first + 1.5)
    for key in logs:
        s3.copy_object(Bucket=BUCKET, Key=key, CopySource={"Bucket": BUCKET, "Key": key},
                       MetadataDirective="REPLACE", Metadata={"reviewed": "yes"},
                       ContentEncoding="gzip", ContentType="application/json")
    clock_passes(time.time() + 1.5)
    server.client("cloudtrail").describe_trails()
    server.flush()
    end = time.time() + 60
    stock = validate(server, arn, first + 1, end)
    assert stock.returncode == 0, stock.stdout + stock.stderr
    ours = cairn_validate(server, arn, first + 1, end)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert "not listed in any digest" not in ours.stderr, ours.stderr
    # The whole range, the first digest's included, checks the copies' bytes against it.
    whole = cairn_validate(server, arn, t0 - 60, end)
    assert whole.returncode == 0, whole.stdout + whole.stderr
