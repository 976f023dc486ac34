#!/usr/bin/env bash
# `cairn validate-logs` against the stock `aws cloudtrail validate-logs`, alternating, on one
# trail of 100,001 events in 1,001 log files of 100 events (BENCHMARKS.md, "cairn
# validate-logs vs aws cloudtrail validate-logs").
#
#   bash scripts/bench_validate_logs.sh [RUNS]
#
# Needs: a release build (cargo build --release -p cairn), the AWS CLI in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench_common.sh
RUNS="${1:-5}"
B="$BIN"
PORT="${PORT:-4704}"
E="http://127.0.0.1:$PORT"
D="$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-validate-XXXXXX")"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$D"' EXIT
export CAIRN_ROOT_ACCESS_KEY_ID=AKIDBENCH CAIRN_ROOT_SECRET_ACCESS_KEY=bench-secret
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ENDPOINT_URL_S3="$E"

start() {
  "$B" serve --data-dir "$D/data" --listen "127.0.0.1:$PORT" --delivery-interval 86400 >>"$D/server.log" 2>&1 &
  server=$!
  wait_health "$E"
}

start
cloudtrail_bucket "$AWS" "$E" bench-bucket "$D"
"$AWS" --endpoint-url "$E" cloudtrail create-trail --name bench-trail --s3-bucket-name bench-bucket \
  --enable-log-file-validation >/dev/null
"$AWS" --endpoint-url "$E" cloudtrail start-logging --name bench-trail
kill "$server"; wait "$server" 2>/dev/null || true; server=""
"$B" bench populate --allow-existing-events --data-dir "$D/data" --events "${EVENTS:-100000}" >/dev/null
"$B" flush --data-dir "$D/data" --max-events-per-file "${PER_FILE:-100}" >/dev/null
start

A=arn:aws:cloudtrail:us-east-1:123456789012:trail/bench-trail
S=$(date -u -d '-1 day' +%FT%TZ)
T=$(date -u -d '+1 hour' +%FT%TZ)
secs() { # command...: wall seconds, output discarded, failure fatal
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$D/out" 2>&1 || { cat "$D/out" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
C="$D/cache"
# Ours twice a run: cold (--no-cache: every file read, as the stock tool does) and warm (a
# second validation of the same bucket with the cache a first one left: unchanged files are
# not read again).
"$B" validate-logs --endpoint-url "$E" --trail-arn "$A" --start-time "$S" --end-time "$T" \
  --cache-dir "$C" >/dev/null
for r in $(seq 1 "$RUNS"); do
  stock=$(secs "$AWS" --endpoint-url "$E" cloudtrail validate-logs \
    --trail-arn "$A" --start-time "$S" --end-time "$T")
  ours=$(secs "$B" validate-logs --endpoint-url "$E" --trail-arn "$A" --start-time "$S" --end-time "$T" \
    --no-cache)
  warm=$(secs "$B" validate-logs --endpoint-url "$E" --trail-arn "$A" --start-time "$S" --end-time "$T" \
    --cache-dir "$C")
  echo "run $r stock=${stock}s cairn=${ours}s ratio=$(echo "scale=1; $stock / $ours" | bc)" \
    "cairn_warm=${warm}s warm_ratio=$(echo "scale=1; $stock / $warm" | bc)"
done
