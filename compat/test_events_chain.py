"""The event log with boto3: data events recorded only when selected, selector and region
coverage changes not retroactive, and `cairn verify-store` catching an edited store."""

import gzip
import json
import sqlite3
import subprocess

from conftest import Cairn, cairn_binary, cloudtrail_policy


def delivered(s3, bucket):
    records = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="AWSLogs/"):
        for o in page.get("Contents", []):
            if "CloudTrail-Digest" in o["Key"]:
                continue
            body = gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
            records += json.loads(body)["Records"]
    return records


def verify_store(server):
    return subprocess.run([server.binary, "verify-store", "--data-dir", server.dir.name],
                          capture_output=True, text=True)


def test_data_events_follow_the_selectors_in_force_when_they_happen():
    server = Cairn(cairn_binary())
    try:
        ct, s3 = server.client("cloudtrail"), server.client("s3")
        s3.create_bucket(Bucket="chain-logs")
        s3.put_bucket_policy(Bucket="chain-logs", Policy=cloudtrail_policy("chain-logs"))
        s3.create_bucket(Bucket="chain-data")
        s3.put_object(Bucket="chain-data", Key="k", Body=b"v")
        ct.create_trail(Name="chain", S3BucketName="chain-logs")
        ct.start_logging(Name="chain")

        unselected = s3.get_object(Bucket="chain-data", Key="k")["ResponseMetadata"]["RequestId"]
        assert server.records("Data") == [], "an object call nothing selects was written"

        ct.put_event_selectors(TrailName="chain", EventSelectors=[{"ReadWriteType": "ReadOnly",
            "IncludeManagementEvents": True,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::chain-data/"]}]}])
        selected = s3.get_object(Bucket="chain-data", Key="k")["ResponseMetadata"]["RequestId"]
        put = s3.put_object(Bucket="chain-data", Key="k2", Body=b"w")["ResponseMetadata"]["RequestId"]
        assert [r["requestID"] for r in server.records("Data")] == [selected], "only the selected read"

        server.flush()
        ids = {r["requestID"] for r in delivered(s3, "chain-logs")}
        assert selected in ids
        assert unselected not in ids and put not in ids
    finally:
        server.stop()


def test_an_update_of_the_trails_regions_applies_only_to_later_events():
    """UpdateTrail of IsMultiRegionTrail / IncludeGlobalServiceEvents between deliveries:
    events recorded before it are delivered as the trail covered them then (a narrowed trail
    loses nothing it had taken, a widened one takes nothing it had not)."""
    server = Cairn(cairn_binary())
    try:
        ct, s3 = server.client("cloudtrail"), server.client("s3")
        for b in ("narrowed-logs", "widened-logs"):
            s3.create_bucket(Bucket=b)
            s3.put_bucket_policy(Bucket=b, Policy=cloudtrail_policy(b))
        ct.create_trail(Name="narrowed", S3BucketName="narrowed-logs", IsMultiRegionTrail=True)
        ct.create_trail(Name="widened", S3BucketName="widened-logs",
                        IncludeGlobalServiceEvents=False)
        ct.start_logging(Name="narrowed")
        ct.start_logging(Name="widened")
        west = server.client("kms", region="us-west-2").list_keys()["ResponseMetadata"]["RequestId"]
        iam = server.client("iam").list_users()["ResponseMetadata"]["RequestId"]
        ct.update_trail(Name="narrowed", IsMultiRegionTrail=False, IncludeGlobalServiceEvents=False)
        ct.update_trail(Name="widened", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)
        west_after = server.client("kms", region="us-west-2").list_keys()[
            "ResponseMetadata"]["RequestId"]
        iam_after = server.client("iam").list_users()["ResponseMetadata"]["RequestId"]

        server.flush()
        narrowed = {r["requestID"] for r in delivered(s3, "narrowed-logs")}
        widened = {r["requestID"] for r in delivered(s3, "widened-logs")}
        assert {west, iam} <= narrowed, "events the multi-region trail took were lost"
        assert not {west_after, iam_after} & narrowed
        assert not {west, iam} & widened, "events recorded before the trail covered them"
        assert {west_after, iam_after} <= widened
    finally:
        server.stop()


def test_verify_store_catches_an_edited_event():
    server = Cairn(cairn_binary())
    try:
        ct = server.client("cloudtrail")
        for _ in range(5):
            ct.list_trails()
        ok = verify_store(server)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "Chain intact" in ok.stdout

        server.tampered = True
        db = sqlite3.connect(f"{server.dir.name}/cairn.db", timeout=5)
        with db:
            db.execute("UPDATE events SET record = replace(record, 'ListTrails', 'Edited') WHERE seq = 2")
        db.close()
        bad = verify_store(server)
        assert bad.returncode == 1, bad.stdout
        assert "seq 2: event edited" in bad.stdout
    finally:
        server.stop()


def test_verify_store_catches_an_edited_username_or_resource_row():
    """The LookupEvents index beyond the plain columns: a username or resource row that no
    longer follows from the record would hide an event or show it under another name."""
    server = Cairn(cairn_binary())
    try:
        server.client("sns").create_topic(Name="indexed")
        ok = verify_store(server)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        path = f"{server.dir.name}/cairn.db"
        seq = sqlite3.connect(path).execute(
            "SELECT seq FROM events WHERE event_name = 'CreateTopic'").fetchone()[0]
        edits = [
            "UPDATE events SET username = 'someoneelse' WHERE seq = ?",
            "UPDATE event_resources SET resource_name = 'other' WHERE seq = ?",
            "DELETE FROM event_resources WHERE seq = ?",
        ]
        for edit in edits:
            subprocess.run(["cp", "-a", server.dir.name, server.dir.name + ".copy"], check=True)
            db = sqlite3.connect(f"{server.dir.name}.copy/cairn.db", timeout=5)
            with db:
                assert db.execute(edit, (seq,)).rowcount >= 1, edit
            db.close()
            bad = subprocess.run([cairn_binary(), "verify-store", "--data-dir", server.dir.name + ".copy"],
                                 capture_output=True, text=True)
            subprocess.run(["rm", "-rf", server.dir.name + ".copy"], check=True)
            assert bad.returncode == 1, (edit, bad.stdout)
            assert f"seq {seq}: index column" in bad.stdout, (edit, bad.stdout)
    finally:
        server.stop()


def test_verify_store_catches_index_edits_that_keep_a_name_the_record_mentions():
    """Edits that hid events from ResourceName lookups and passed: a trail row renamed to
    the bare name its request holds, a bucket row renamed to part of its name, a row moved to
    another region or time, and a service's Username changed."""
    from conftest import cloudtrail_policy
    server = Cairn(cairn_binary())
    try:
        s3, ct = server.client("s3"), server.client("cloudtrail")
        s3.create_bucket(Bucket="idx-bucket")
        s3.put_bucket_policy(Bucket="idx-bucket", Policy=cloudtrail_policy("idx-bucket"))
        ct.create_trail(Name="idx-trail", S3BucketName="idx-bucket")
        ct.start_logging(Name="idx-trail")
        ct.stop_logging(Name="idx-trail")
        server.proc.kill()
        server.proc.wait()
        subprocess.run([cairn_binary(), "iam", "--data-dir", server.dir.name, "create-user", "idx-mallory"],
                       check=True, capture_output=True)
        ok = verify_store(server)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        path = f"{server.dir.name}/cairn.db"
        db = sqlite3.connect(path)
        seq = {name: db.execute("SELECT max(seq) FROM events WHERE event_name = ?", (name,)).fetchone()[0]
               for name in ("StopLogging", "PutBucketPolicy", "StartLogging", "CreateUser")}
        db.close()
        edits = [
            ("UPDATE event_resources SET resource_name = 'idx-trail' WHERE seq = ?", seq["StopLogging"]),
            ("UPDATE event_resources SET resource_name = 'idx' WHERE seq = ? AND resource_type = 'AWS::S3::Bucket'",
             seq["PutBucketPolicy"]),
            ("UPDATE event_resources SET region = 'eu-west-1' WHERE seq = ?", seq["StartLogging"]),
            ("UPDATE event_resources SET event_time = event_time - 8640000 WHERE seq = ?", seq["StartLogging"]),
            ("UPDATE events SET username = 'root' WHERE seq = ?", seq["CreateUser"]),
            # The bucket row renamed to the bucket's ARN: no longer found by its name.
            ("UPDATE event_resources SET resource_name = 'arn:aws:s3:::idx-bucket' "
             "WHERE seq = ? AND resource_type = 'AWS::S3::Bucket'", seq["PutBucketPolicy"]),
        ]
        for edit, at in edits:
            copy = server.dir.name + ".copy"
            subprocess.run(["cp", "-a", server.dir.name, copy], check=True)
            db = sqlite3.connect(f"{copy}/cairn.db", timeout=5)
            with db:
                assert db.execute(edit, (at,)).rowcount >= 1, edit
            db.close()
            bad = subprocess.run([cairn_binary(), "verify-store", "--data-dir", copy],
                                 capture_output=True, text=True)
            subprocess.run(["rm", "-rf", copy], check=True)
            assert bad.returncode == 1, (edit, bad.stdout)
            assert f"seq {at}: index column" in bad.stdout, (edit, bad.stdout)
    finally:
        server.stop()


def test_verify_store_refuses_a_missing_data_dir(tmp_path):
    out = subprocess.run([cairn_binary(), "verify-store", "--data-dir", str(tmp_path / "typo")],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert not (tmp_path / "typo").exists()
