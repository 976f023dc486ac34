"""Log files are named by the minute they are delivered (CloudTrail user guide, log file
name format: "the year, month, day, hour, and minute when the log file was delivered").

A file that could not be written when it was planned (bucket policy removed, bucket
deleted) keeps no stale name: it is renamed before the attempt that writes it, so it lands in
the date folder and minute of its delivery. `cairn validate-logs` reads each log file's
LastModified: a file named inside the newest digest's span but delivered after that digest was
written is pending (a later digest lists it), not an unlisted file. Time is driven with
`cairn flush --now` and the server's `--clock-file`."""

import os
import tempfile
import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy
from test_validate_logs import HOUR, cairn_validate, flush, make_trail, validate

LOGS = "AWSLogs/123456789012/CloudTrail/"


def stamp(t):
    return time.strftime("%Y%m%dT%H%MZ", time.gmtime(t))


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(HOUR)])
    yield s
    s.stop()


def log_objects(s3, bucket):
    return s3.list_objects_v2(Bucket=bucket, Prefix=LOGS).get("Contents", [])


@pytest.mark.parametrize("outage", ["policy", "bucket"])
def test_a_late_file_is_named_by_its_delivery_minute(server, outage):
    name = f"late-{outage}"
    ct, s3, bucket, arn = make_trail(server, name)
    t0 = time.time()
    if outage == "policy":
        s3.delete_bucket_policy(Bucket=bucket)
    else:
        s3.delete_bucket(Bucket=bucket)
    ct.describe_trails()
    planned = t0 + 2 * 86400  # another day: the date folder changes too
    failed = flush(server, planned)
    assert failed["Failed"] >= 1, failed
    if outage == "bucket":
        s3.create_bucket(Bucket=bucket)
    assert log_objects(s3, bucket) == []
    s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket))
    delivered_at = planned + 86400 + 13 * 60 + 28
    done = flush(server, delivered_at)
    assert done["Failed"] == 0, done
    objects = log_objects(s3, bucket)
    assert objects
    day = time.strftime("%Y/%m/%d", time.gmtime(delivered_at))
    for o in objects:
        assert f"/{day}/" in o["Key"] and f"_{stamp(delivered_at)}_" in o["Key"], o["Key"]
        assert abs(o["LastModified"].timestamp() - delivered_at) < 2
    assert not any(f"_{stamp(planned)}_" in o["Key"] for o in objects)
    stock = validate(server, arn, t0 - 60, delivered_at + 60)
    assert stock.returncode == 0, stock.stdout + stock.stderr
    ours = cairn_validate(server, arn, t0 - 60, delivered_at + 60)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    ct.delete_trail(Name=name)


def test_a_file_delivered_after_the_newest_digest_is_pending_not_unlisted():
    # The API's clock runs four minutes behind S3's (within SigV4's skew), so the digest ends
    # before a file put now, whose name falls inside the digest's span.
    clock = tempfile.NamedTemporaryFile("w", delete=False)
    behind = time.time() - 240
    clock.write(str(behind))
    clock.close()
    server = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(HOUR),
                                    "--clock-file", clock.name])
    try:
        ct, s3, bucket, arn = make_trail(server, "pending-trail")
        ct.describe_trails()
        flush(server, behind + 200)
        digests = s3.list_objects_v2(Bucket=bucket, Prefix="AWSLogs/123456789012/CloudTrail-Digest/")["Contents"]
        assert len(digests) == 1
        first = log_objects(s3, bucket)[0]["Key"]
        named = (int(behind) // 60 + 2) * 60  # a whole minute inside the digest's span
        late = first.replace(first.split("_")[-2], stamp(named))
        late = late.replace(first.split("/")[-4] + "/" + first.split("/")[-3] + "/" + first.split("/")[-2],
                            time.strftime("%Y/%m/%d", time.gmtime(named)))
        late = late[:-len("XXXXXXXXXXXXXXXX.json.gz")] + "LateDeliveredFile.json.gz"[-25:]
        body = s3.get_object(Bucket=bucket, Key=first)["Body"].read()
        s3.put_object(Bucket=bucket, Key=late, Body=body)
        assert s3.head_object(Bucket=bucket, Key=late)["LastModified"].timestamp() > behind + 200
        ours = cairn_validate(server, arn, behind - 60, behind + 230)
        assert ours.returncode == 0, ours.stdout + ours.stderr
        assert "not listed in any digest" not in ours.stderr, ours.stderr
        assert f"{late}\tnot listed in a digest yet" in ours.stderr, ours.stderr
    finally:
        server.stop()
        os.unlink(clock.name)
