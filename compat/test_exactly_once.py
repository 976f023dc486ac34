"""Exactly-once delivery across SIGKILLs at arbitrary points of load and delivery."""

import gzip
import json
import random
import threading

import botocore.exceptions

from conftest import Cairn, cairn_binary, cloudtrail_policy


def test_every_event_lands_in_exactly_one_file_across_kill_9():
    server = Cairn(cairn_binary(), ["--delivery-interval", "0.05"])
    try:
        ct, s3 = server.client("cloudtrail"), server.client("s3")
        s3.create_bucket(Bucket="once-bucket")
        s3.put_bucket_policy(Bucket="once-bucket", Policy=cloudtrail_policy("once-bucket"))
        ct.create_trail(Name="once", S3BucketName="once-bucket")
        ct.start_logging(Name="once")

        acked = []
        lock = threading.Condition()
        stop = threading.Event()

        def load():
            client = server.client("cloudtrail")
            while not stop.is_set():
                try:
                    rid = client.describe_trails()["ResponseMetadata"]["RequestId"]
                    with lock:
                        acked.append(rid)
                        lock.notify_all()
                except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
                        botocore.exceptions.ReadTimeoutError, botocore.exceptions.ClientError):
                    client = server.client("cloudtrail")  # the server is being restarted

        workers = [threading.Thread(target=load) for _ in range(4)]
        for w in workers:
            w.start()
        rng = random.Random(20261124)
        for _ in range(5):
            target = len(acked) + rng.randint(20, 120)
            with lock:
                lock.wait_for(lambda: len(acked) >= target, timeout=60)
            server.restart()  # SIGKILL mid-load, mid-delivery
        stop.set()
        for w in workers:
            w.join()
        ct = server.client("cloudtrail")
        ct.stop_logging(Name="once")
        server.proc.kill()
        server.proc.wait()
        server.admin("flush")
        server.restart()
        s3 = server.client("s3")

        delivered = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="once-bucket", Prefix="AWSLogs/123456789012/CloudTrail/"):
            for o in page.get("Contents", []):
                body = gzip.decompress(s3.get_object(Bucket="once-bucket", Key=o["Key"])["Body"].read())
                delivered += json.loads(body)["Records"]
        ids = [r["eventID"] for r in delivered]
        assert len(ids) == len(set(ids)), "an event was delivered twice"

        records = server.records("Management")
        start = next(i for i, r in enumerate(records) if r["eventName"] == "StartLogging")
        end = next(i for i, r in enumerate(records) if r["eventName"] == "StopLogging")
        window = {r["eventID"] for r in records[start:end + 1]}
        assert set(ids) == window, f"missing {len(window - set(ids))}, unexpected {len(set(ids) - window)}"
        delivered_requests = {r["requestID"] for r in delivered}
        missing_acked = [rid for rid in acked if rid not in delivered_requests]
        assert not missing_acked, f"{len(missing_acked)} acknowledged calls were never delivered"
        assert len(acked) > 100
    finally:
        server.stop()
