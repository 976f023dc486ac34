#!/usr/bin/env bash
# Delivery with and without a trail KMS key on the same synthetic events, then GetObject of
# the delivered files (sealed vs as written). Used for BENCHMARKS.md.
# Usage: scripts/bench_ssekms.sh CAIRN_BINARY [EVENTS]
set -euo pipefail
BIN=${1:?cairn binary}; EVENTS=${2:-200000}
PY=${PY:-python3}
W=$(mktemp -d /tmp/ssekms-bench.XXXX)
trap 'kill ${SERVE_PID:-} 2>/dev/null || true; rm -rf "$W"' EXIT
export CAIRN_ROOT_ACCESS_KEY_ID=AKIDBENCH CAIRN_ROOT_SECRET_ACCESS_KEY=bench-secret CAIRN_LOG=warn
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_DEFAULT_REGION=us-east-1
# The sealed copy's trail gets its key before it has any events: a server delivers what is
# pending when it starts, so keying a copy that already holds the events would deliver them
# unsealed. Both copies then get the same events.
"$BIN" bench delivery-data --data-dir "$W/sealed" --events 0 --event-bytes 950 >/dev/null

serve() { # data dir, port
  "$BIN" serve --data-dir "$1" --listen "127.0.0.1:$2" --delivery-interval 86400 > "$W/serve-$2.log" 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 200); do grep -q 'listening' "$W/serve-$2.log" && return; sleep 0.05; done; exit 1
}
stop() { kill "$SERVE_PID"; wait "$SERVE_PID" || true; }
serve "$W/sealed" 4612
$PY - <<'PY'
import boto3, json
kms = boto3.client("kms", endpoint_url="http://127.0.0.1:4612")
ct = boto3.client("cloudtrail", endpoint_url="http://127.0.0.1:4612")
policy = {"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
  {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"}]}
key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
ct.update_trail(Name="bench-delivery", KmsKeyId=key)
PY
stop
"$BIN" bench delivery-data --data-dir "$W/plain" --events "$EVENTS" --event-bytes 950 >/dev/null
"$BIN" bench delivery-data --data-dir "$W/sealed" --events "$EVENTS" --event-bytes 950 --append >/dev/null

for d in plain sealed; do
  /usr/bin/time -f "$d: %U user %S sys %e wall %M KB" "$BIN" flush --data-dir "$W/$d" --now 4102444800 --allow-future-now > "$W/flush-$d.json" 2> "$W/time-$d"
  echo "$d: $(cat "$W/flush-$d.json") $(tail -n1 "$W/time-$d")"
done

for d in plain sealed; do
  port=$([ $d = plain ] && echo 4613 || echo 4614)
  serve "$W/$d" $port
  $PY - "$d" "$port" <<'PY'
import boto3, sys, time
name, port = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}")
keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="bench-delivery", Prefix="AWSLogs/123456789012/CloudTrail/") for o in p.get("Contents", [])]
head = s3.head_object(Bucket="bench-delivery", Key=keys[0])
total, t = 0, time.perf_counter()
for _ in range(3):
    for k in keys:
        total += len(s3.get_object(Bucket="bench-delivery", Key=k)["Body"].read())
dt = time.perf_counter() - t
print(f"{name}: GetObject {3*len(keys)} files, {total/3/len(keys)/1e6:.2f} MB avg, {total/dt/1e6:.1f} MB/s, {3*len(keys)/dt:.1f} files/s, sse={head.get('ServerSideEncryption')}")
PY
  stop
done

# PutObject/GetObject with and without SSE-KMS, same server, same run.
rm -rf "$W/s3"; mkdir "$W/s3"
serve "$W/s3" 4615
$PY - <<'PY'
import boto3, os, time
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:4615")
s3.create_bucket(Bucket="bench-sse")
for size, n in ((1024, 300), (1 << 20, 60), (16 << 20, 6)):
    data = os.urandom(size)
    for mode, extra in (("none (as written)", {}), ("SSE-KMS", {"ServerSideEncryption": "aws:kms"})):
        t = time.perf_counter()
        for i in range(n):
            s3.put_object(Bucket="bench-sse", Key=f"{size}/{mode}/{i}", Body=data, **extra)
        put = time.perf_counter() - t
        t = time.perf_counter()
        for i in range(n):
            assert len(s3.get_object(Bucket="bench-sse", Key=f"{size}/{mode}/{i}")["Body"].read()) == size
        get = time.perf_counter() - t
        print(f"{size} B {mode}: PUT {n/put:.1f}/s {size*n/put/1e6:.1f} MB/s, GET {n/get:.1f}/s {size*n/get/1e6:.1f} MB/s")
PY
stop
