"""Trail delivery checked by the stock `aws cloudtrail validate-logs` (awscli 1.45.11), and
`cairn validate-logs` compared with it on the same bucket: where both report the same thing
the text must be the same, byte for byte.

The CLI's S3 client ignores --endpoint-url, so AWS_ENDPOINT_URL_S3 points it at Cairn.
Time is driven with `cairn flush --now`, so several digest periods pass without waiting."""

import gzip
import json
import os
import subprocess
import time

import pytest

from conftest import Cairn, cairn_binary, cloudtrail_policy, ACCESS_KEY, SECRET

HOUR = 3600


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@pytest.fixture(scope="module")
def server():
    s = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(HOUR)])
    yield s
    s.stop()


def validate(server, arn, start, end, *extra, verbose=True):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_ENDPOINT_URL_S3=server.endpoint)
    return subprocess.run(["aws", "--endpoint-url", server.endpoint, "cloudtrail", "validate-logs",
                           "--trail-arn", arn, "--start-time", iso(start), "--end-time", iso(end),
                           *(["--verbose"] if verbose else []), *extra],
                          env=env, capture_output=True, text=True)


def cairn_validate(server, arn, start, end, *extra, env=None):
    env = env or dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET,
                      AWS_DEFAULT_REGION="us-east-1")
    return subprocess.run([cairn_binary(), "validate-logs", "--endpoint-url", server.endpoint, "--trail-arn", arn,
                           "--start-time", iso(start), "--end-time", iso(end), *extra],
                          env=env, capture_output=True, text=True)


def assert_identical(stock, ours):
    """Same exit code, same stdout, same stderr, byte for byte."""
    assert (ours.returncode, ours.stdout, ours.stderr) == (stock.returncode, stock.stdout, stock.stderr), \
        f"stock:\n{stock.stdout}{stock.stderr}\nours:\n{ours.stdout}{ours.stderr}"


OUR_OWN = ("not listed in any digest", "digest file(s) missing from the chain", "Digest files\t")


def assert_stock_lines_kept(stock, ours):
    """Ours says everything the stock tool says, in its order and words; beyond that only
    Cairn's own findings, and counts that include them."""
    assert ours.returncode == stock.returncode, ours.stdout + ours.stderr
    ours_err = [l for l in ours.stderr.splitlines() if l and not any(m in l for m in OUR_OWN)]
    assert ours_err == [l for l in stock.stderr.splitlines() if l], ours.stderr
    ratio = lambda out: [l for l in out.splitlines() if l and " files valid" not in l]
    assert ratio(ours.stdout) == ratio(stock.stdout), ours.stdout
    found = [l for l in stock.stdout.splitlines() if l.startswith("Results found for")]
    assert found and found == [l for l in ours.stdout.splitlines() if l.startswith("Results found for")]


def flush(server, at):
    return json.loads(server.admin("flush", "--now", str(at)))


def make_trail(server, name):
    s3 = server.client("s3")
    bucket = f"{name}-bucket"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=cloudtrail_policy(bucket))
    ct = server.client("cloudtrail")
    arn = ct.create_trail(Name=name, S3BucketName=bucket, EnableLogFileValidation=True)["TrailARN"]
    ct.start_logging(Name=name)
    return ct, s3, bucket, arn


def test_chain_over_periods_restart_and_stop_start_is_valid(server):
    t0 = time.time()
    ct, s3, bucket, arn = make_trail(server, "chain-trail")
    for hour in range(1, 4):
        for _ in range(3):
            ct.describe_trails()
        if hour == 2:
            server.restart()
            ct, s3 = server.client("cloudtrail"), server.client("s3")
        out = flush(server, t0 + hour * HOUR)
        assert out["Digests"] >= 1, out
    ct.stop_logging(Name="chain-trail")
    flush(server, t0 + 3 * HOUR + 60)
    ct.start_logging(Name="chain-trail")
    ct.get_trail_status(Name="chain-trail")
    flush(server, t0 + 4 * HOUR)
    result = validate(server, arn, t0 - 60, t0 + 5 * HOUR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INVALID" not in result.stdout + result.stderr
    assert_identical(result, cairn_validate(server, arn, t0 - 60, t0 + 5 * HOUR, "--verbose"))
    assert_identical(validate(server, arn, t0 - 60, t0 + 5 * HOUR, verbose=False),
                     cairn_validate(server, arn, t0 - 60, t0 + 5 * HOUR))
    ours = cairn_validate(server, arn, t0 - 60, t0 + 5 * HOUR, "--json")
    assert ours.returncode == 0, ours.stdout + ours.stderr
    report = json.loads(ours.stdout)
    assert report["Digests"]["Invalid"] == 0 and report["LogFiles"]["Invalid"] == 0 and report["Digests"]["Valid"] >= 5
    digests = [line for line in result.stdout.splitlines() if line.startswith("Digest file")]
    assert len(digests) >= 5, result.stdout
    assert "log files valid" in result.stdout
    status = ct.get_trail_status(Name="chain-trail")
    assert "LatestDeliveryTime" in status and "LatestDigestDeliveryTime" in status
    # Exactly once: every event id delivered appears in exactly one file.
    ids = []
    bodies = b""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="AWSLogs/123456789012/CloudTrail/"):
        for o in page.get("Contents", []):
            body = gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
            bodies += body
            ids += [r["eventID"] for r in json.loads(body)["Records"]]
    assert len(ids) == len(set(ids)) and len(ids) > 10
    # One canonical record: the file carries the exact bytes LookupEvents returns.
    looked_up = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "StopLogging"}])["Events"][0]
    assert looked_up["CloudTrailEvent"].encode() in bodies
    # Turning validation off stops digests.
    ct.update_trail(Name="chain-trail", EnableLogFileValidation=False)
    ct.describe_trails()
    assert flush(server, t0 + 6 * HOUR)["Digests"] == 0


def tampered(server, name, tamper):
    t0 = time.time()
    ct, s3, bucket, arn = make_trail(server, name)
    ct.describe_trails()
    flush(server, t0 + HOUR)
    ct.describe_trails()
    flush(server, t0 + 2 * HOUR)
    ct.describe_trails()
    flush(server, t0 + 3 * HOUR)
    assert validate(server, arn, t0 - 60, t0 + 4 * HOUR).returncode == 0
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    logs = [k for k in keys if "/CloudTrail/" in k]
    digests = [k for k in keys if "/CloudTrail-Digest/" in k]
    tamper(s3, bucket, logs, digests)
    stock = validate(server, arn, t0 - 60, t0 + 4 * HOUR)
    ours = cairn_validate(server, arn, t0 - 60, t0 + 4 * HOUR, "--verbose")
    ct.delete_trail(Name=name)  # stay under the five-trails-per-region limit
    return stock, ours


def test_a_changed_record_is_reported(server):
    def change(s3, bucket, logs, digests):
        body = gzip.decompress(s3.get_object(Bucket=bucket, Key=logs[0])["Body"].read())
        s3.put_object(Bucket=bucket, Key=logs[0], Body=gzip.compress(body.replace(b"DescribeTrails", b"DescribeTrailz", 1)))
    stock, ours = tampered(server, "tamper-record", change)
    assert stock.returncode == 1 and "INVALID: hash value doesn't match" in stock.stderr, stock.stderr
    assert_identical(stock, ours)


def test_a_deleted_log_file_is_reported(server):
    stock, ours = tampered(server, "tamper-logdel", lambda s3, b, logs, d: s3.delete_object(Bucket=b, Key=logs[0]))
    assert stock.returncode == 1 and "Log file" in stock.stderr and "INVALID: not found" in stock.stderr, stock.stderr
    assert_identical(stock, ours)


def test_a_deleted_digest_is_reported(server):
    stock, ours = tampered(server, "tamper-digdel", lambda s3, b, logs, digests: s3.delete_object(Bucket=b, Key=digests[1]))
    assert stock.returncode == 1 and "Digest file" in stock.stderr and "INVALID: not found" in stock.stderr, stock.stderr
    assert_stock_lines_kept(stock, ours)
    assert "not listed in any digest" in ours.stderr, "the deleted digest's log files are orphans"


def test_two_consecutive_deleted_digests_only_cairn_reports(server):
    def delete_two(s3, bucket, logs, digests):
        for key in digests[0:2]:
            s3.delete_object(Bucket=bucket, Key=key)
    stock, ours = tampered(server, "tamper-two", delete_two)
    assert_stock_lines_kept(stock, ours)
    # aws-cli issue 7054: the stock tool sees at most the newest missing digest.
    assert "2 digest file(s) missing" in ours.stderr and ours.returncode == 1, ours.stderr
    assert "not listed in any digest" in ours.stderr, "the orphaned log files are reported too"
    assert "not listed in any digest" not in stock.stderr


def test_a_forged_signature_is_reported(server):
    def forge(s3, bucket, logs, digests):
        obj = s3.get_object(Bucket=bucket, Key=digests[-1])
        meta = dict(obj["Metadata"])
        meta["signature"] = "00" * 256
        s3.put_object(Bucket=bucket, Key=digests[-1], Body=obj["Body"].read(), Metadata=meta)
    stock, ours = tampered(server, "tamper-sig", forge)
    assert "INVALID: signature verification failed" in stock.stderr, stock.stderr
    assert_stock_lines_kept(stock, ours)


def test_a_moved_file_is_reported(server):
    def move(s3, bucket, logs, digests):
        newest = digests[-1]
        stamp = newest[-24:-8]  # YYYYMMDDTHHMMSSZ
        moved = newest.replace(stamp, stamp[:13] + ("58Z" if stamp[13:15] == "59" else "59Z"))
        s3.copy_object(Bucket=bucket, Key=moved, CopySource={"Bucket": bucket, "Key": newest})
        s3.delete_object(Bucket=bucket, Key=newest)
    stock, ours = tampered(server, "tamper-move", move)
    assert "has been moved from its original location" in stock.stderr, stock.stderr
    assert_stock_lines_kept(stock, ours)
