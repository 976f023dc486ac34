"""Starts the real cairn binary on port 0 with its own data dir for each test module."""

import contextlib
import http.server
import json
import os
import queue
import sqlite3
import subprocess
import tempfile
import threading
import time

import boto3
import pytest

# `cairn validate-logs` keeps a cache of the log files it hashed: the suite's is its own, so
# every test that validates twice (before and after tampering) goes through it.
os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="cairn-compat-cache-"))

ACCESS_KEY = "AKIDCOMPATTEST"
SECRET = "compat-test-secret"


class Cairn:
    def __init__(self, binary, extra_args=()):
        self.binary = binary
        self.extra_args = list(extra_args)
        self.dir = tempfile.TemporaryDirectory()
        self._spawn("127.0.0.1:0")

    def _spawn(self, listen):
        env = dict(os.environ, CAIRN_ROOT_ACCESS_KEY_ID=ACCESS_KEY,
                   CAIRN_ROOT_SECRET_ACCESS_KEY=SECRET, CAIRN_LOG="warn")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", listen, "--data-dir", self.dir.name, *self.extra_args],
            stdout=subprocess.PIPE, env=env, text=True)
        for line in self.proc.stdout:
            if line.startswith("cairn listening on "):
                self.endpoint = line.split()[-1]
                return
        raise RuntimeError("cairn exited before listening")

    def client(self, service, region="us-east-1"):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)

    def client_with(self, access_key, secret, service, region="us-east-1", token=None):
        """A client signing with other credentials (an IAM user's or a session's)."""
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region,
                            aws_access_key_id=access_key, aws_secret_access_key=secret,
                            aws_session_token=token)

    # The second the last `aws cloudformation deploy` started in.
    deploy_second = None

    def cli(self, *args, region="us-east-1", check=True):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET,
                   AWS_DEFAULT_REGION=region, AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        if args[:2] == ("cloudformation", "deploy"):
            # The CLI names its change set by the epoch second it starts in, and the executed
            # change set keeps its name: two deploys of a stack in one second collide
            # (AlreadyExistsException). Cairn is fast enough for that; AWS never is.
            # The CLI takes its second some time after it starts, so wait for a second later
            # than the one the previous deploy *ended* in.
            while Cairn.deploy_second is not None and int(time.time()) <= Cairn.deploy_second:
                time.sleep(0.02)
        out = subprocess.run(["aws", "--endpoint-url", self.endpoint, "--output", "json", *args],
                             env=env, capture_output=True, text=True)
        if args[:2] == ("cloudformation", "deploy"):
            Cairn.deploy_second = int(time.time())
        if check and out.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {out.stderr}")
        return out

    def store_rows(self, sql, *args):
        """The rows `sql` selects from this server's store, read-only (tests that check what
        the store holds: rows written, bodies kept, events purged)."""
        db = sqlite3.connect(f"file:{self.dir.name}/cairn.db?mode=ro", uri=True)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def admin(self, *args):
        """Runs a `cairn` admin command on this server's data dir; returns stdout."""
        out = subprocess.run([self.binary, *args, "--data-dir", self.dir.name],
                             capture_output=True, text=True, check=True)
        return out.stdout

    def records(self, category="Data"):
        """Every stored record of a category, oldest first."""
        return [json.loads(line) for line in self.admin("events", "--category", category).splitlines()]

    def restart(self):
        """Kills the server (SIGKILL) and starts it again on the same data dir."""
        self.proc.kill()
        self.proc.wait()
        self._spawn("127.0.0.1:0")

    def flush(self, *args):
        """Runs `cairn flush` on the data dir and returns its stdout. Flush is refused beside
        a running server (the data-dir lock), so the server is stopped first and started
        again afterwards, on the same address so existing clients keep working."""
        self.proc.kill()
        self.proc.wait()
        try:
            # Tests step time with `--now`, ahead of the clock.
            future = ["--allow-future-now"] if "--now" in args else []
            out = subprocess.run([self.binary, "flush", *args, *future, "--data-dir", self.dir.name],
                                 capture_output=True, text=True)
            report = json.loads(out.stdout) if out.stdout.strip() else None
            # Exit 0 exactly when nothing failed, 3 when a file, log event or final digest
            # stayed pending.
            failed = report is not None and (report["Failed"] or report["LogEventsFailed"]
                                             or report["FinalDigestsOwed"])
            assert report is not None and out.returncode == (3 if failed else 0), \
                f"cairn flush exited {out.returncode}: {out.stdout} {out.stderr}"
            return out.stdout
        finally:
            self._spawn(self.endpoint.removeprefix("http://").rstrip("/"))

    def stop(self):
        """Stops the server and checks its event store: every workload of the suite must
        leave a chain and a LookupEvents index that `cairn verify-store` finds intact
        (a test that tampers with the store on purpose sets `tampered`)."""
        self.proc.kill()
        self.proc.wait()
        try:
            if not getattr(self, "tampered", False):
                out = subprocess.run([self.binary, "verify-store", "--data-dir", self.dir.name],
                                     capture_output=True, text=True)
                assert out.returncode == 0, f"verify-store after the test: {out.stdout}{out.stderr}"
        finally:
            self.dir.cleanup()


def cairn_binary():
    return os.environ.get("CAIRN_BIN", os.path.join(os.path.dirname(__file__), "..", "target", "debug", "cairn"))


@pytest.fixture(scope="module")
def cairn():
    server = Cairn(cairn_binary())
    yield server
    server.stop()


def logs_key_policy(region="us-east-1"):
    """A key policy CloudWatch Logs may use a key under (the CloudWatch Logs User Guide's
    "Encrypt log data in CloudWatch Logs using AWS KMS"): the account's root, and
    `logs.<region>.amazonaws.com` for the account's log groups."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow CloudWatch Logs", "Effect": "Allow",
         "Principal": {"Service": f"logs.{region}.amazonaws.com"},
         "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                    "kms:Describe*"], "Resource": "*",
         "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                   f"arn:aws:logs:{region}:123456789012:log-group:*"}}}]})


def cloudtrail_policy(bucket, prefix=""):
    path = f"{prefix}/AWSLogs/123456789012/*" if prefix else "AWSLogs/123456789012/*"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/{path}",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]})


def serve_with_master_key(extra_args=()):
    """A fixture body: a Cairn server with its KMS master key in a 0600 file of its own
    (hex, as `cairn kms` writes it); the file's path is `server.master_key_file`."""
    keys = tempfile.TemporaryDirectory()
    master = os.path.join(keys.name, "master.key")
    with open(master, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    os.chmod(master, 0o600)
    s = Cairn(cairn_binary(), ["--kms-master-key-file", master, *extra_args])
    s.master_key_file = master
    yield s
    s.stop()
    keys.cleanup()


def user_with(cairn, name, statements):
    """An IAM user with an inline policy of `statements` and an access key; returns a function
    that makes a client of a service signing as that user."""
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], service)


def err(excinfo):
    """(code, HTTP status) of the botocore ClientError a `pytest.raises` caught."""
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def settled_stack(cfn, name):
    """A stack's status once its operation ended (polled, never slept on blindly)."""
    for _ in range(1200):
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"{name} still in progress")


@contextlib.contextmanager
def http_subscriber(item=None, status=None):
    """A local HTTP endpoint for SNS subscriptions: yields (its URL, a queue of what it was
    posted). `item(headers, body)` is what a post queues (default: the SNS message type and
    the JSON body); `status(path, headers)` what it answers (default 200)."""
    received = queue.Queue()
    item = item or (lambda h, body: (h["x-amz-sns-message-type"], json.loads(body)))
    status = status or (lambda path, h: 200)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put(item(self.headers, body))
            self.send_response(status(self.path, self.headers))
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", received
    finally:
        httpd.shutdown()
