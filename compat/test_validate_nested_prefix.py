"""A trail whose S3 key prefix lies inside another trail's log folder (legal: the prefix is
free text), both validated, nothing touched (outside tester digest10 K2): `cairn
validate-logs` reported every file of the nested trail as unlisted in the other's folder, and
the nested trail's own digest as a log file of a place it had "moved" from. Both now pass, as
the stock tool passes them."""

import time

from conftest import Cairn, cairn_binary, cloudtrail_policy
from test_validate_final_digest import digest_keys, new_digest
from test_validate_logs import cairn_validate


def test_a_trail_nested_in_another_trails_log_folder_is_no_tampering():
    server = Cairn(cairn_binary(), ["--delivery-interval", "1", "--digest-interval", "2"])
    try:
        t0 = time.time()
        s3, ct = server.client("s3"), server.client("cloudtrail")
        bucket = "nested-prefix"
        nest = "AWSLogs/123456789012/CloudTrail/us-east-1/nest"
        s3.create_bucket(Bucket=bucket)
        policy = cloudtrail_policy(bucket)  # AWSLogs/<account>/* covers the nested place too
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)
        outer = ct.create_trail(Name="outer", S3BucketName=bucket, EnableLogFileValidation=True)["TrailARN"]
        inner = ct.create_trail(Name="inner", S3BucketName=bucket, S3KeyPrefix=nest,
                                EnableLogFileValidation=True)["TrailARN"]
        ct.start_logging(Name="outer")
        ct.start_logging(Name="inner")
        seen = []
        for _ in range(3):
            ct.describe_trails()
            seen = new_digest(s3, bucket, seen, "digest")
        assert any(k.startswith(nest + "/") for k in digest_keys(s3, bucket)), digest_keys(s3, bucket)
        for arn in (outer, inner):
            ours = cairn_validate(server, arn, t0 - 60, time.time() - 3)
            assert ours.returncode == 0, arn + ours.stdout + ours.stderr
            assert "not listed in any digest" not in ours.stderr, ours.stderr
    finally:
        server.stop()
