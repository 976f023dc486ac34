"""The stock `aws cloudtrail validate-logs` covers the Insights files a trail delivers
(issue 13): the Insight file is listed in the trail's digest, its hash matches, and the
tool reports it valid beside the trail's ordinary log files; `cairn validate-logs` says the
same, byte for byte."""

import json
import time

from conftest import Cairn, cairn_binary
from test_validate_logs import HOUR, assert_identical, cairn_validate, flush, make_trail, validate

INSIGHT_PREFIX = "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/"


def test_stock_validate_logs_covers_the_insight_files():
    server = Cairn(cairn_binary(), ["--delivery-interval", "86400", "--digest-interval", str(HOUR),
                                    "--insights-warm-up", "0"])
    try:
        t0 = time.time()
        ct, s3, bucket, arn = make_trail(server, "insight-trail")
        ct.put_insight_selectors(TrailName="insight-trail",
                                 InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
        for i in range(12):
            ct.add_tags(ResourceId=arn, TagsList=[{"Key": f"k{i}", "Value": "v"}])
        # Half an hour on (the controllable clock): the burst and its quiet end are closed.
        report = json.loads(server.admin("insights", "run", "--now", str(int(t0) + 1800)))
        assert report["Written"] == 2, report
        flush(server, t0 + HOUR)
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=INSIGHT_PREFIX).get("Contents", [])
        assert len(listed) == 1, listed
        insight_key = listed[0]["Key"]

        stock = validate(server, arn, t0 - 60, t0 + 2 * HOUR)
        assert stock.returncode == 0, stock.stdout + stock.stderr
        assert f"Log file\ts3://{bucket}/{insight_key}\tvalid" in stock.stdout, stock.stdout
        assert "INVALID" not in stock.stdout + stock.stderr
        assert_identical(stock, cairn_validate(server, arn, t0 - 60, t0 + 2 * HOUR, "--verbose"))

        # Tampering with the Insight file is caught like tampering with any log file.
        s3.put_object(Bucket=bucket, Key=insight_key, Body=b"not the file CloudTrail wrote")
        tampered = validate(server, arn, t0 - 60, t0 + 2 * HOUR)
        assert tampered.returncode != 0
        assert f"Log file\ts3://{bucket}/{insight_key}\tINVALID" in tampered.stderr, tampered.stderr
    finally:
        server.stop()
