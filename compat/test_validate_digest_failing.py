"""While a trail's digest delivery fails (outside tester digest10 K1: the bucket owner denied
CloudTrail the digest folder), `cairn validate-logs` said nothing: the log files delivered
since, a planted one among them, are listed by no digest and were neither checked nor
mentioned. It now says digest delivery is failing (GetTrailStatus
`LatestDigestDeliveryError`), and that those files were not checked."""

import json
import time

from conftest import Cairn, cairn_binary, cloudtrail_policy
from test_validate_logs import cairn_validate


def test_a_failing_digest_delivery_is_said():
    server = Cairn(cairn_binary(), ["--delivery-interval", "1", "--digest-interval", "2"])
    try:
        t0 = time.time()
        s3, ct = server.client("s3"), server.client("cloudtrail")
        bucket = "digest-denied"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket))
        arn = ct.create_trail(Name="denied", S3BucketName=bucket, EnableLogFileValidation=True)["TrailARN"]
        ct.start_logging(Name="denied")
        policy = json.loads(cloudtrail_policy(bucket))
        policy["Statement"].append({
            "Effect": "Deny", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/123456789012/CloudTrail-Digest/*"})
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        deadline = time.time() + 60
        while not ct.get_trail_status(Name="denied").get("LatestDigestDeliveryError"):
            assert time.time() < deadline, "digest delivery never failed"
            ct.describe_trails()
            time.sleep(0.2)
        ours = cairn_validate(server, arn, t0 - 60, time.time())
        assert ours.returncode == 0, ours.stdout + ours.stderr
        assert f"Digest delivery for trail {arn} is failing (GetTrailStatus " \
               "LatestDigestDeliveryError: AccessDenied" in ours.stderr, ours.stderr
    finally:
        server.stop()
