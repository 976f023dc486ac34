"""The CloudTrail setup recipe, driven by the real AWS CLI."""

import json

from conftest import cloudtrail_policy


def test_recipe_with_the_aws_cli(cairn, tmp_path):
    cairn.cli("s3api", "create-bucket", "--bucket", "bucket-for-cloudtrail")
    policy = tmp_path / "policy.json"
    policy.write_text(cloudtrail_policy("bucket-for-cloudtrail"))
    cairn.cli("s3api", "put-bucket-policy", "--bucket", "bucket-for-cloudtrail", "--policy", f"file://{policy}")
    out = json.loads(cairn.cli(
        "cloudtrail", "create-trail", "--name", "test-trail", "--s3-bucket-name", "bucket-for-cloudtrail",
        "--is-multi-region-trail", "--enable-log-file-validation",
        "--tags-list", "Key=createdBy,Value=ayush").stdout)
    assert out["TrailARN"] == "arn:aws:cloudtrail:us-east-1:123456789012:trail/test-trail"
    assert out["IsMultiRegionTrail"] and out["LogFileValidationEnabled"]
    trails = json.loads(cairn.cli("cloudtrail", "describe-trails").stdout)["trailList"]
    assert [t["Name"] for t in trails] == ["test-trail"]
    shadows = json.loads(cairn.cli("cloudtrail", "describe-trails", region="eu-west-1").stdout)["trailList"]
    assert shadows[0]["HomeRegion"] == "us-east-1"

    status = json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "test-trail").stdout)
    assert status["IsLogging"] is False
    cairn.cli("cloudtrail", "start-logging", "--name", "test-trail")
    assert json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "test-trail").stdout)["IsLogging"]
    cairn.cli("cloudtrail", "stop-logging", "--name", "test-trail")
    assert not json.loads(cairn.cli("cloudtrail", "get-trail-status", "--name", "test-trail").stdout)["IsLogging"]

    arn = out["TrailARN"]
    tags = json.loads(cairn.cli("cloudtrail", "list-tags", "--resource-id-list", arn).stdout)
    assert tags["ResourceTagList"][0]["TagsList"] == [{"Key": "createdBy", "Value": "ayush"}]
    cairn.cli("cloudtrail", "add-tags", "--resource-id", arn, "--tags-list", "Key=team,Value=sec")
    cairn.cli("cloudtrail", "remove-tags", "--resource-id", arn, "--tags-list", "Key=createdBy")
    tags = json.loads(cairn.cli("cloudtrail", "list-tags", "--resource-id-list", arn).stdout)
    assert tags["ResourceTagList"][0]["TagsList"] == [{"Key": "team", "Value": "sec"}]

    cairn.cli("cloudtrail", "put-event-selectors", "--trail-name", "test-trail", "--event-selectors",
              '[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::bucket-for-cloudtrail/"]}]}]')
    sel = json.loads(cairn.cli("cloudtrail", "get-event-selectors", "--trail-name", "test-trail").stdout)
    assert sel["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    assert sel["EventSelectors"][0]["DataResources"][0]["Values"] == ["arn:aws:s3:::bucket-for-cloudtrail/"]
    cairn.cli("cloudtrail", "put-insight-selectors", "--trail-name", "test-trail", "--insight-selectors",
              '[{"InsightType":"ApiCallRateInsight"},{"InsightType":"ApiErrorRateInsight"}]')
    ins = json.loads(cairn.cli("cloudtrail", "get-insight-selectors", "--trail-name", "test-trail").stdout)
    assert [s["InsightType"] for s in ins["InsightSelectors"]] == ["ApiCallRateInsight", "ApiErrorRateInsight"]

    events = json.loads(cairn.cli("cloudtrail", "lookup-events", "--lookup-attributes",
                                  "AttributeKey=EventName,AttributeValue=CreateTrail").stdout)["Events"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["userAgent"].startswith("aws-cli/1.45.11")
    assert record["requestParameters"]["tagsList"] == [{"key": "createdBy", "value": "ayush"}]

    err = cairn.cli("cloudtrail", "get-trail", "--name", "no-such-trail", check=False)
    assert err.returncode != 0 and "TrailNotFoundException" in err.stderr
