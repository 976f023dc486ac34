"""Wall time to CREATE_COMPLETE for the guide's three-resource stack and a 30-resource stack,
against the same resources made by the AWS CLI one call at a time, in the same run and on the
same server (BENCHMARKS.md).

Usage: CAIRN_BIN=... python compat/bench_cfn.py [runs]

For each run and each shape it times, on the client's clock:
- stack: `aws cloudformation create-stack` then `aws cloudformation wait stack-create-complete`;
- engine: the stack's first event (CREATE_IN_PROGRESS) to its CREATE_COMPLETE event, on the
  server's clock (what the engine itself takes);
- cli: the same resources made with one `aws` command per call, one after the other."""

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime

from conftest import Cairn, cairn_binary

HERE = os.path.dirname(__file__)
GUIDE = os.path.join(HERE, "cfn", "05-01-CloudTrail.yml")
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def thirty(tag):
    """10 buckets, 10 topics and 10 log groups, all named (so the CLI makes the same ones)."""
    lines = ["Resources:"]
    for i in range(10):
        lines += [f"  Bucket{i}:", "    Type: AWS::S3::Bucket", "    Properties:",
                  f"      BucketName: bench-{tag}-bucket-{i}"]
        lines += [f"  Topic{i}:", "    Type: AWS::SNS::Topic", "    Properties:",
                  f"      TopicName: bench-{tag}-topic-{i}"]
        lines += [f"  Group{i}:", "    Type: AWS::Logs::LogGroup", "    Properties:",
                  f"      LogGroupName: bench-{tag}-group-{i}"]
    return "\n".join(lines) + "\n"


def thirty_by_cli(server, tag):
    for i in range(10):
        server.cli("s3api", "create-bucket", "--bucket", f"bench-{tag}-bucket-{i}")
        server.cli("sns", "create-topic", "--name", f"bench-{tag}-topic-{i}")
        server.cli("logs", "create-log-group", "--log-group-name", f"bench-{tag}-group-{i}")


def guide_by_cli(server, tag):
    bucket = f"bench-{tag}-trail-bucket"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/123456789012/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]}
    server.cli("s3api", "create-bucket", "--bucket", bucket)
    server.cli("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", json.dumps(policy))
    server.cli("cloudtrail", "create-trail", "--name", f"bench-{tag}-trail", "--s3-bucket-name", bucket,
               "--is-multi-region-trail", "--include-global-service-events", "--enable-log-file-validation")
    server.cli("cloudtrail", "start-logging", "--name", f"bench-{tag}-trail")


def by_stack(server, name, body_file):
    start = time.perf_counter()
    server.cli("cloudformation", "create-stack", "--stack-name", name, "--template-body", f"file://{body_file}")
    server.cli("cloudformation", "wait", "stack-create-complete", "--stack-name", name)
    wall = time.perf_counter() - start
    events = json.loads(server.cli("cloudformation", "describe-stack-events", "--stack-name", name).stdout)["StackEvents"]
    mine = [e for e in events if e["LogicalResourceId"] == name]
    stamp = {e["ResourceStatus"]: e["Timestamp"] for e in mine}
    engine = (datetime.fromisoformat(stamp["CREATE_COMPLETE"]) - datetime.fromisoformat(stamp["CREATE_IN_PROGRESS"])).total_seconds()
    return wall, engine


def timed(f, *args):
    start = time.perf_counter()
    f(*args)
    return time.perf_counter() - start


def summary(xs):
    return {"median": round(statistics.median(xs), 3), "min": round(min(xs), 3), "max": round(max(xs), 3)}


server = Cairn(cairn_binary())
results = {k: [] for k in ("guide_stack", "guide_engine", "guide_cli", "thirty_stack", "thirty_engine", "thirty_cli")}
try:
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(RUNS):
            wall, engine = by_stack(server, f"guide-{run}", GUIDE)
            results["guide_stack"].append(wall)
            results["guide_engine"].append(engine)
            results["guide_cli"].append(timed(guide_by_cli, server, f"g{run}"))
            # Stay under the five-trails-per-region limit for the next run.
            for t in json.loads(server.cli("cloudtrail", "describe-trails").stdout)["trailList"]:
                server.cli("cloudtrail", "delete-trail", "--name", t["TrailARN"])
            path = os.path.join(tmp, f"thirty-{run}.yml")
            with open(path, "w") as f:
                f.write(thirty(f"s{run}"))
            wall, engine = by_stack(server, f"thirty-{run}", path)
            results["thirty_stack"].append(wall)
            results["thirty_engine"].append(engine)
            results["thirty_cli"].append(timed(thirty_by_cli, server, f"c{run}"))
            print(f"run {run}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in results.items()), flush=True)
    print(json.dumps({"runs": RUNS, **{k: summary(v) for k, v in results.items()}}))
finally:
    server.stop()
