#!/usr/bin/env bash
# Signed DescribeTrails with wrk against Cairn and against moto's server, alternating in one
# run (BENCHMARKS.md, "Control plane vs moto"). Each server gets a bucket with CloudTrail's
# policy first; every Cairn request also commits its CloudTrail event before it answers.
#
#   bash scripts/bench_control_plane_vs_moto.sh [ROUNDS] [SECONDS]
#
# Needs: a release build (cargo build --release -p cairn), Debian's wrk, the AWS CLI in .venv
# and moto's server in a venv of its own, so the test venv holds only compat/requirements.txt:
#   python3 -m venv .venv-moto && .venv-moto/bin/pip install "moto[server]==5.2.1"
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench_common.sh
ROUNDS="${1:-3}"
SECONDS_PER_RUN="${2:-10}"
MOTO="${MOTO_SERVER:-.venv-moto/bin/moto_server}"
CAIRN_PORT="${CAIRN_PORT:-4712}"
MOTO_PORT="${MOTO_PORT:-5055}"
work="$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-moto-XXXXXX")"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=benchsecret AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
CAIRN_ROOT_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" CAIRN_ROOT_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
  "$BIN" serve --data-dir "$work/data" --listen "127.0.0.1:$CAIRN_PORT" >"$work/cairn.log" 2>&1 &
pids+=($!)
"$MOTO" -H 127.0.0.1 -p "$MOTO_PORT" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_health "http://127.0.0.1:$CAIRN_PORT"
for _ in $(seq 1 200); do
  curl -fsS "http://127.0.0.1:$MOTO_PORT/moto-api/" >/dev/null 2>&1 && break
  sleep 0.05
done

measure() { # PORT: "req/s p50 p99" of one wrk run of signed DescribeTrails
  wrk_describe_trails "http://127.0.0.1:$1" "$SECONDS_PER_RUN" || exit 1
}

for port in "$CAIRN_PORT" "$MOTO_PORT"; do
  cloudtrail_bucket "$AWS" "http://127.0.0.1:$port" bench-bucket "$work"
done
for r in $(seq 1 "$ROUNDS"); do
  read -r c c50 c99 < <(measure "$CAIRN_PORT")
  read -r m m50 m99 < <(measure "$MOTO_PORT")
  echo "round $r: cairn ${c} req/s (p50 ${c50}, p99 ${c99}); moto ${m} req/s (p50 ${m50}, p99 ${m99}); ratio $(echo "scale=1; $c / $m" | bc)"
done
