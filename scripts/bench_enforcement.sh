#!/usr/bin/env bash
# The cost of IAM enforcement on the control plane (issue 8): signed DescribeTrails with wrk as
# root and as an IAM user whose only permission is the AWSCloudTrail_ReadOnlyAccess managed
# policy, alternating in the same run against one release server.
#
#   bash scripts/bench_enforcement.sh [ROUNDS] [SECONDS]
#
# Needs: a release build (cargo build --release -p cairn), Debian's wrk, the AWS CLI in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench_common.sh
ROUNDS="${1:-3}"
SECONDS_PER_RUN="${2:-10}"
PORT="${PORT:-4711}"
E="http://127.0.0.1:$PORT"
work="$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-enforcement-XXXXXX")"
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

export AWS_ACCESS_KEY_ID=AKIDBENCHROOT AWS_SECRET_ACCESS_KEY=benchrootsecret AWS_DEFAULT_REGION=us-east-1
CAIRN_ROOT_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" CAIRN_ROOT_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
  "$BIN" serve --data-dir "$work/data" --listen "127.0.0.1:$PORT" >"$work/server.log" 2>&1 &
server=$!
wait_health "$E"

# A bucket with CloudTrail's policy and two trails, so DescribeTrails returns real data.
cloudtrail_bucket "$AWS" "$E" bench-bucket "$work"
for t in bench-a bench-b; do
  "$AWS" --endpoint-url "$E" cloudtrail create-trail --name "$t" --s3-bucket-name bench-bucket >/dev/null
done

# The auditor: an IAM user with the managed read-only policy and nothing else.
"$AWS" --endpoint-url "$E" iam create-user --user-name auditor >/dev/null
"$AWS" --endpoint-url "$E" iam attach-user-policy --user-name auditor \
  --policy-arn arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess
read -r USER_KEY USER_SECRET < <("$AWS" --endpoint-url "$E" iam create-access-key --user-name auditor \
  --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)

run() { # label key secret
  local rps p50 p99
  read -r rps p50 p99 < <(AWS_ACCESS_KEY_ID="$2" AWS_SECRET_ACCESS_KEY="$3" \
    wrk_describe_trails "$E" "$SECONDS_PER_RUN")
  [ -n "$rps" ] || { echo "$1: the measurement failed" >&2; exit 1; }
  echo "$1 req/s=$rps p50=$p50 p99=$p99"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r"
  run root "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
  run iam-user "$USER_KEY" "$USER_SECRET"
done
