# Shared steps of the benchmark scripts (sourced, not run).

# wait_health URL: waits until the server answers /health (10 s at most).
wait_health() {
  for _ in $(seq 1 200); do
    curl -fsS "$1/health" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "server at $1 did not start" >&2
  return 1
}

# cloudtrail_bucket AWS_CLI ENDPOINT BUCKET WORKDIR: the bucket with the policy CloudTrail needs.
cloudtrail_bucket() {
  local aws="$1" e="$2" bucket="$3" dir="$4"
  "$aws" --endpoint-url "$e" s3api create-bucket --bucket "$bucket" >/dev/null
  cat >"$dir/policy.json" <<JSON
{"Version":"2012-10-17","Statement":[
 {"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
  "Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::$bucket"},
 {"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
  "Action":"s3:PutObject","Resource":"arn:aws:s3:::$bucket/AWSLogs/*",
  "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}
JSON
  "$aws" --endpoint-url "$e" s3api put-bucket-policy --bucket "$bucket" --policy "file://$dir/policy.json"
}

# The binary and the AWS CLI every benchmark uses unless told otherwise: the release build,
# and the CLI of the compat venv (sourced after `cd` to the repository root).
BIN="${CAIRN_BIN:-${CARGO_TARGET_DIR:-target}/release/cairn}"
AWS="${AWS_CLI:-$PWD/.venv/bin/aws}"

# wrk_describe_trails ENDPOINT SECONDS: prints "req/s p50 p99" of signed DescribeTrails under
# wrk (1 thread, 64 connections), signed with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. SigV4
# lets one signed request be replayed inside its 5-minute window. Fails if the signed request
# is refused or any answer is not 2xx.
wrk_describe_trails() {
  local e="$1" secs="$2" headers lua out
  headers=$("$BIN" bench sign --endpoint "$e" --op DescribeTrails --body '{}')
  eval curl -fsS -X POST --data "'{}'" "$headers" "$e/" >/dev/null
  lua="$(mktemp "${TMPDIR:-/tmp}/cairn-wrk-XXXXXX.lua")"
  printf 'wrk.method = "POST"\nwrk.body = "{}"\n' >"$lua"
  out=$(eval wrk -t1 -c64 -d"${secs}s" -s "$lua" --latency "$headers" "$e/")
  rm -f "$lua"
  if grep -q "Non-2xx" <<<"$out"; then
    echo "$out" >&2
    return 1
  fi
  awk '/Requests\/sec/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {print r, p50, p99}' <<<"$out"
}
