"""Delivery as the AWS CLI and boto3 see it: a current public key before any digest, a
deleted trail's last events delivered, AccessDenied from a bucket policy in GetTrailStatus,
and `cairn flush` refused beside a running server."""

import gzip
import json
import subprocess

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400"])
    yield s
    s.stop()


def delivered(s3, bucket):
    records = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="AWSLogs/123456789012/CloudTrail/"):
        for o in page.get("Contents", []):
            records += json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))["Records"]
    return records


def test_list_public_keys_has_the_current_key_before_any_digest(server):
    keys = json.loads(server.cli("cloudtrail", "list-public-keys", region="eu-west-1").stdout)["PublicKeyList"]
    assert len(keys) == 1 and len(keys[0]["Fingerprint"]) == 32


def test_flush_is_refused_beside_the_running_server(server):
    out = subprocess.run([server.binary, "flush", "--data-dir", server.dir.name], capture_output=True, text=True)
    assert out.returncode != 0
    assert "stop the server" in out.stderr and "delivery loop" in out.stderr, out.stderr


def test_a_deleted_trail_delivers_its_last_events(server):
    ct, s3 = server.client("cloudtrail"), server.client("s3")
    s3.create_bucket(Bucket="drained")
    s3.put_bucket_policy(Bucket="drained", Policy=cloudtrail_policy("drained"))
    ct.create_trail(Name="drained-trail", S3BucketName="drained")
    ct.start_logging(Name="drained-trail")
    rid = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    ct.delete_trail(Name="drained-trail")
    server.flush()
    records = delivered(s3, "drained")
    assert rid in [r["requestID"] for r in records]
    assert [r["eventName"] for r in records].count("DeleteTrail") == 1


def test_a_denying_bucket_policy_shows_as_access_denied_and_loses_nothing(server):
    ct, s3 = server.client("cloudtrail"), server.client("s3")
    s3.create_bucket(Bucket="denying")
    s3.put_bucket_policy(Bucket="denying", Policy=cloudtrail_policy("denying"))
    ct.create_trail(Name="denied-trail", S3BucketName="denying")
    ct.start_logging(Name="denied-trail")
    s3.put_bucket_policy(Bucket="denying", Policy=cloudtrail_policy("denying", prefix="elsewhere"))
    rid = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    server.flush()
    status = json.loads(server.cli("cloudtrail", "get-trail-status", "--name", "denied-trail").stdout)
    assert status["LatestDeliveryError"] == "AccessDenied", status
    assert delivered(s3, "denying") == []
    s3.put_bucket_policy(Bucket="denying", Policy=cloudtrail_policy("denying"))
    server.flush()
    assert rid in [r["requestID"] for r in delivered(s3, "denying")]
    assert "LatestDeliveryError" not in ct.get_trail_status(Name="denied-trail")


def test_one_flush_writes_the_digest_of_the_files_it_delivered(server):
    # A digest ends at a whole second after the files it lists: a flush that delivers and
    # finishes within one second used to write no digest ("Digests": 0), so validate-logs
    # found none. Flush now steps into the next second while files are undigested.
    ct, s3 = server.client("cloudtrail"), server.client("s3")
    s3.create_bucket(Bucket="digested-now")
    s3.put_bucket_policy(Bucket="digested-now", Policy=cloudtrail_policy("digested-now"))
    ct.create_trail(Name="digested-now", S3BucketName="digested-now",
                    EnableLogFileValidation=True)
    ct.start_logging(Name="digested-now")
    ct.describe_trails()
    report = json.loads(server.flush())
    assert report["Files"] >= 1 and report["Digests"] >= 1, report
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="digested-now")["Contents"]]
    digests = [k for k in keys if "/CloudTrail-Digest/" in k]
    logs = {k for k in keys if "/CloudTrail/" in k}
    listed = set()
    for d in digests:
        body = json.loads(gzip.decompress(s3.get_object(Bucket="digested-now", Key=d)["Body"].read()))
        listed |= {f["s3Object"] for f in body["logFiles"]}
    assert logs and logs <= listed, (logs, listed)


def per_trail_policy(bucket, trails):
    """The user guide's policy with one write statement per trail (`aws:SourceArn`)."""
    statements = [{"Sid": "AclCheck", "Effect": "Allow",
                   "Principal": {"Service": "cloudtrail.amazonaws.com"},
                   "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"}]
    for t in trails:
        statements.append({
            "Sid": f"Write-{t}", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/123456789012/*",
            "Condition": {"StringEquals": {
                "s3:x-amz-acl": "bucket-owner-full-control",
                "aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:123456789012:trail/{t}"}}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def test_a_trail_that_cannot_deliver_holds_up_no_other_trail_on_its_bucket(server):
    """Outside testing found one trail's refused file stopping every trail on the bucket,
    with no error in their status, and for good once the failing trail was deleted."""
    ct, s3 = server.client("cloudtrail"), server.client("s3")
    s3.create_bucket(Bucket="shared-logs")
    s3.put_bucket_policy(Bucket="shared-logs", Policy=per_trail_policy("shared-logs", ["trail-a", "trail-b"]))
    for t in ("trail-a", "trail-b"):
        ct.create_trail(Name=t, S3BucketName="shared-logs")
        ct.start_logging(Name=t)
    server.flush()
    s3.put_bucket_policy(Bucket="shared-logs", Policy=per_trail_policy("shared-logs", ["trail-b"]))
    rid = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    for _ in range(2):
        server.flush()
        by_trail = [r for r in delivered(s3, "shared-logs") if r["requestID"] == rid]
        assert len(by_trail) == 1, by_trail  # trail-b's copy, once
    assert ct.get_trail_status(Name="trail-a")["LatestDeliveryError"] == "AccessDenied"
    assert "LatestDeliveryError" not in ct.get_trail_status(Name="trail-b")
    # The failing trail deleted: the other goes on.
    ct.delete_trail(Name="trail-a")
    later = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    server.flush()
    assert [r["requestID"] for r in delivered(s3, "shared-logs")].count(later) == 1
    # Its statement back: trail-a's last files arrive, once each.
    s3.put_bucket_policy(Bucket="shared-logs", Policy=per_trail_policy("shared-logs", ["trail-a", "trail-b"]))
    server.flush()
    assert [r["requestID"] for r in delivered(s3, "shared-logs")].count(rid) == 2


def test_the_call_that_blinds_a_trail_is_in_that_trails_files(server):
    """PutEventSelectors that stops a trail logging management events is judged by the
    selectors it replaces, as StopLogging is delivered by the trail it stops: an attacker's
    blinding call is never missing from the trail's own files (it was)."""
    s3, ct = server.client("s3"), server.client("cloudtrail")
    s3.create_bucket(Bucket="blinded-logs")
    s3.put_bucket_policy(Bucket="blinded-logs", Policy=cloudtrail_policy("blinded-logs"))
    ct.create_trail(Name="blinded", S3BucketName="blinded-logs")
    ct.start_logging(Name="blinded")
    ct.put_event_selectors(TrailName="blinded", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": [
            {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::blinded-logs/nothing/"]}]}])
    ct.create_trail(Name="unseen", S3BucketName="blinded-logs")
    server.flush()
    names = [r["eventName"] for r in delivered(s3, "blinded-logs")]
    assert names == ["StartLogging", "PutEventSelectors"], names  # then nothing: blinded
