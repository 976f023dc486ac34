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
