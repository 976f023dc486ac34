"""Deleting the newest digests of a trail with a short digest period is reported.

`cairn validate-logs` compares GetTrailStatus's LatestDigestDeliveryTime with the newest
digest in the bucket. The slack it allows between them is half the trail's digest period
(from the digests found) plus a few seconds, so with `--digest-interval 60` even the newest
digest alone cannot be deleted unseen, while an untampered bucket stays valid. Time is driven
with `cairn flush --now`."""

import pytest

from conftest import Cairn, cairn_binary
from test_validate_logs import cairn_validate, flush, make_trail

PERIOD = 60
DIGESTS = "AWSLogs/123456789012/CloudTrail-Digest/"


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(PERIOD)])
    yield s
    s.stop()


def minutely(server, name, periods=5):
    """A trail with `periods` digests a minute apart; returns (t0, ct, s3, bucket, arn, keys)."""
    import time
    t0 = time.time()
    ct, s3, bucket, arn = make_trail(server, name)
    for i in range(1, periods + 1):
        ct.describe_trails()
        flush(server, t0 + i * PERIOD)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=DIGESTS)["Contents"])
    assert len(keys) == periods
    return t0, ct, s3, bucket, arn, keys


@pytest.mark.parametrize("deleted", [1, 2, 4])
def test_deleting_the_newest_minutely_digests_is_reported(server, deleted):
    name = f"slack-{deleted}"
    t0, ct, s3, bucket, arn, keys = minutely(server, name)
    end = t0 + 6 * PERIOD
    untouched = cairn_validate(server, arn, t0 - 60, end)
    assert untouched.returncode == 0, untouched.stdout + untouched.stderr
    for key in keys[-deleted:]:
        s3.delete_object(Bucket=bucket, Key=key)
    ours = cairn_validate(server, arn, t0 - 60, end)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert "INVALID: none after " in ours.stderr and "they have been deleted or moved" in ours.stderr, ours.stderr
    ct.delete_trail(Name=name)
