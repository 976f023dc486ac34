//! CloudWatch Logs over HTTP against the real server: the API with AWS's errors, the
//! filter-pattern conformance table through TestMetricFilter, metric filters feeding the
//! datapoint store, retention through `cairn logs sweep`, Logs Insights, and the CloudTrail
//! events every call leaves.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::harness::{ACCESS_KEY, SECRET, Server, error_type, sign};

pub(crate) async fn logs(server: &Server, op: &str, body: Value) -> (u16, Value) {
    let req = sign(
        &server.addr,
        "us-east-1",
        "logs",
        ACCESS_KEY,
        SECRET,
        "POST",
        "/",
        vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amz-target".into(), format!("Logs_20140328.{op}")),
        ],
        body.to_string().into_bytes(),
        chrono::Utc::now(),
    );
    let (status, headers, bytes) = server.send(req).await;
    assert!(headers.contains_key("x-amzn-requestid"));
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON body")
    };
    (status, value)
}

pub(crate) async fn ok(server: &Server, op: &str, body: Value) -> Value {
    let (status, v) = logs(server, op, body).await;
    assert_eq!(status, 200, "{op}: {v}");
    v
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test]
async fn groups_streams_and_events_with_aws_errors() {
    let s = Server::start();
    ok(
        &s,
        "CreateLogGroup",
        json!({"logGroupName": "CloudTrail/logs", "tags": {"team": "sec"}}),
    )
    .await;
    let (st, e) = logs(
        &s,
        "CreateLogGroup",
        json!({"logGroupName": "CloudTrail/logs"}),
    )
    .await;
    assert_eq!(
        (st, error_type(&e)),
        (400, "ResourceAlreadyExistsException")
    );
    let (_, e) = logs(&s, "CreateLogGroup", json!({"logGroupName": "bad name"})).await;
    assert_eq!(error_type(&e), "InvalidParameterException");
    let groups = ok(&s, "DescribeLogGroups", json!({})).await;
    let g = &groups["logGroups"][0];
    assert_eq!(
        g["arn"],
        "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:*"
    );
    assert_eq!(
        g["logGroupArn"],
        "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs"
    );
    assert!(g.get("retentionInDays").is_none());
    ok(
        &s,
        "CreateLogStream",
        json!({"logGroupName": "CloudTrail/logs", "logStreamName": "s"}),
    )
    .await;
    let now = now_ms();
    let put = ok(&s, "PutLogEvents", json!({"logGroupName": "CloudTrail/logs", "logStreamName": "s", "sequenceToken": "ignored", "logEvents": [
        {"timestamp": now - 15 * 86_400_000, "message": "too old"},
        {"timestamp": now - 2, "message": "ERROR first"},
        {"timestamp": now - 1, "message": "INFO second"},
        {"timestamp": now + 3 * 3_600_000, "message": "too new"}]})).await;
    assert_eq!(
        put["rejectedLogEventsInfo"],
        json!({"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 3})
    );
    assert_eq!(put["nextSequenceToken"].as_str().unwrap().len(), 56);
    let (_, e) = logs(
        &s,
        "PutLogEvents",
        json!({"logGroupName": "CloudTrail/logs", "logStreamName": "s", "logEvents": [
        {"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]}),
    )
    .await;
    assert_eq!(
        e["message"],
        "Log events in a single PutLogEvents request must be in chronological order."
    );
    let (st, e) = logs(&s, "PutLogEvents", json!({"logGroupName": "CloudTrail/logs", "logStreamName": "nope", "logEvents": [{"timestamp": now, "message": "x"}]})).await;
    assert_eq!(
        (st, error_type(&e), e["message"].as_str().unwrap()),
        (
            400,
            "ResourceNotFoundException",
            "The specified log stream does not exist."
        )
    );
    let got = ok(
        &s,
        "GetLogEvents",
        json!({"logGroupName": "CloudTrail/logs", "logStreamName": "s", "startFromHead": true}),
    )
    .await;
    let messages: Vec<&str> = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["ERROR first", "INFO second"]);
    assert!(got["nextForwardToken"].as_str().unwrap().starts_with("f/"));
    let again = ok(&s, "GetLogEvents", json!({"logGroupName": "CloudTrail/logs", "logStreamName": "s", "startFromHead": true, "nextToken": got["nextForwardToken"]})).await;
    assert_eq!(again["events"], json!([]));
    assert_eq!(
        again["nextForwardToken"], got["nextForwardToken"],
        "the end of the stream returns the token unchanged"
    );
    let filtered = ok(&s, "FilterLogEvents", json!({"logGroupIdentifier": "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs", "filterPattern": "ERROR"})).await;
    assert_eq!(filtered["events"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["events"][0]["logStreamName"], "s");
    assert_eq!(filtered["searchedLogStreams"], json!([]));
    let (_, e) = logs(
        &s,
        "FilterLogEvents",
        json!({"logGroupName": "CloudTrail/logs", "filterPattern": "{ $.a = "}),
    )
    .await;
    assert_eq!(
        (error_type(&e), e["message"].as_str().unwrap()),
        ("InvalidParameterException", "Invalid metric filter pattern")
    );
    let (_, e) = logs(
        &s,
        "PutRetentionPolicy",
        json!({"logGroupName": "CloudTrail/logs", "retentionInDays": 2}),
    )
    .await;
    assert_eq!(error_type(&e), "InvalidParameterException");
    ok(
        &s,
        "PutRetentionPolicy",
        json!({"logGroupName": "CloudTrail/logs", "retentionInDays": 7}),
    )
    .await;
    ok(&s, "TagResource", json!({"resourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs", "tags": {"env": "prod"}})).await;
    let tags = ok(
        &s,
        "ListTagsLogGroup",
        json!({"logGroupName": "CloudTrail/logs"}),
    )
    .await;
    assert_eq!(tags["tags"], json!({"env": "prod", "team": "sec"}));
    ok(&s, "UntagResource", json!({"resourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs", "tagKeys": ["team"]})).await;
    let tags = ok(
        &s,
        "ListTagsForResource",
        json!({"resourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs"}),
    )
    .await;
    assert_eq!(tags["tags"], json!({"env": "prod"}));
    let streams = ok(
        &s,
        "DescribeLogStreams",
        json!({"logGroupName": "CloudTrail/logs", "orderBy": "LastEventTime", "descending": true}),
    )
    .await;
    assert_eq!(
        streams["logStreams"][0]["lastEventTimestamp"],
        json!(now - 1)
    );
    ok(
        &s,
        "DeleteLogGroup",
        json!({"logGroupName": "CloudTrail/logs"}),
    )
    .await;
    let (_, e) = logs(
        &s,
        "DeleteLogGroup",
        json!({"logGroupName": "CloudTrail/logs"}),
    )
    .await;
    assert_eq!(e["message"], "The specified log group does not exist.");
    // An operation Cairn does not carry out is checked against the model first.
    let (_, e) = logs(&s, "PutSubscriptionFilter", json!({})).await;
    assert_eq!(error_type(&e), "InvalidParameterException");
    let filter = json!({"logGroupName": "g", "filterName": "f", "filterPattern": "",
                        "destinationArn": "arn:aws:lambda:us-east-1:123456789012:function:f"});
    let (_, e) = logs(&s, "PutSubscriptionFilter", filter).await;
    assert_eq!(error_type(&e), "UnsupportedOperationException");
}

/// The conformance table of `cairn-filter`, row by row through TestMetricFilter.
#[tokio::test]
async fn conformance_table_through_test_metric_filter() {
    let s = Server::start();
    let table: Value = serde_json::from_str(include_str!(
        "../../../cairn-filter/tests/data/conformance.json"
    ))
    .unwrap();
    let message = |row: &Value| -> String {
        let m = row["message"].as_str().unwrap();
        match m.strip_prefix('@') {
            Some(id) => table["messages"][id].as_str().unwrap().to_owned(),
            None => m.to_owned(),
        }
    };
    let mut by_pattern: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    let mut checked = 0;
    for row in table["rows"].as_array().unwrap() {
        let pattern = row["pattern"].as_str().unwrap().to_owned();
        if let Some(err) = row.get("error") {
            let (st, e) = logs(
                &s,
                "TestMetricFilter",
                json!({"filterPattern": pattern, "logEventMessages": ["x"]}),
            )
            .await;
            assert_eq!(
                (st, error_type(&e)),
                (400, "InvalidParameterException"),
                "{pattern}"
            );
            assert_eq!(&e["message"], err, "{pattern}");
            checked += 1;
        } else {
            by_pattern.entry(pattern).or_default().push(row);
        }
    }
    for (pattern, rows) in by_pattern {
        for chunk in rows.chunks(50) {
            let messages: Vec<String> = chunk.iter().map(|r| message(r)).collect();
            let answer = ok(
                &s,
                "TestMetricFilter",
                json!({"filterPattern": pattern, "logEventMessages": messages}),
            )
            .await;
            let matches = answer["matches"].as_array().unwrap();
            for (k, row) in chunk.iter().enumerate() {
                let found = matches.iter().find(|m| m["eventNumber"] == json!(k + 1));
                assert_eq!(
                    found.is_some(),
                    row["match"].as_bool().unwrap(),
                    "{pattern} on {}",
                    messages[k]
                );
                if let Some(m) = found {
                    assert_eq!(m["eventMessage"], json!(messages[k]));
                    assert_eq!(m["extractedValues"], row["extracted"], "{pattern}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 150, "{checked} rows checked");
}

#[tokio::test]
async fn metric_filters_feed_the_datapoint_store_and_calls_are_recorded() {
    let s = Server::start();
    ok(&s, "CreateLogGroup", json!({"logGroupName": "trail"})).await;
    ok(
        &s,
        "CreateLogStream",
        json!({"logGroupName": "trail", "logStreamName": "123456789012_CloudTrail_us-east-1"}),
    )
    .await;
    let pattern = "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }";
    ok(&s, "PutMetricFilter", json!({"logGroupName": "trail", "filterName": "root_usage",
        "filterPattern": pattern,
        "metricTransformations": [{"metricName": "root_usage_metric", "metricNamespace": "CISBenchmark", "metricValue": "1"}]})).await;
    let (_, e) = logs(&s, "PutMetricFilter", json!({"logGroupName": "trail", "filterName": "bad", "filterPattern": "ERROR:",
        "metricTransformations": [{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}]})).await;
    assert_eq!(e["message"], "Invalid character(s) in term ':'");
    let described = ok(
        &s,
        "DescribeMetricFilters",
        json!({"logGroupName": "trail"}),
    )
    .await;
    assert_eq!(
        described["metricFilters"][0]["filterPattern"], pattern,
        "stored verbatim"
    );
    let groups = ok(&s, "DescribeLogGroups", json!({"logGroupNamePrefix": "tr"})).await;
    assert_eq!(groups["logGroups"][0]["metricFilterCount"], 1);
    let now = now_ms();
    let root = json!({"eventName": "ListBuckets", "userIdentity": {"type": "Root"}, "eventType": "AwsApiCall"}).to_string();
    let user = json!({"eventName": "ListBuckets", "userIdentity": {"type": "IAMUser"}, "eventType": "AwsApiCall"}).to_string();
    ok(&s, "PutLogEvents", json!({"logGroupName": "trail", "logStreamName": "123456789012_CloudTrail_us-east-1",
        "logEvents": [{"timestamp": now, "message": root}, {"timestamp": now, "message": user}, {"timestamp": now, "message": root}]})).await;
    let store = cairn_store::Store::open(&s.data_dir().join("cairn.db")).unwrap();
    let periods = store
        .read_blocking(move |c| {
            let q = cairn_core::metrics::MetricQuery {
                metric: cairn_store::metrics::MetricKey {
                    account: "123456789012",
                    region: "us-east-1",
                    namespace: "CISBenchmark",
                    name: "root_usage_metric",
                    dimensions: &[],
                },
                start_ms: now - 300_000,
                end_ms: now + 300_000,
                period_secs: 600,
                unit: None,
                values: true,
            };
            Ok(cairn_core::metrics::query(c, &q).unwrap())
        })
        .unwrap();
    assert_eq!(periods.len(), 1);
    assert_eq!(
        (periods[0].stats.sum, periods[0].stats.sample_count),
        (2.0, 2.0)
    );
    let (_, lookup) = s.ct("LookupEvents", json!({"LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "logs.amazonaws.com"}]})).await;
    let names = crate::harness::event_names(&lookup);
    assert!(names.contains(&"PutMetricFilter".to_owned()), "{names:?}");
    assert!(names.contains(&"CreateLogGroup".to_owned()), "{names:?}");
    assert!(
        !names.contains(&"PutLogEvents".to_owned()),
        "PutLogEvents is a data event: {names:?}"
    );
    let record: Value =
        serde_json::from_str(lookup["Events"][0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(record["eventSource"], "logs.amazonaws.com");
}

#[tokio::test]
async fn retention_sweep_with_a_chosen_clock_and_insights() {
    let s = Server::start();
    ok(&s, "CreateLogGroup", json!({"logGroupName": "g"})).await;
    ok(
        &s,
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s"}),
    )
    .await;
    let now = now_ms();
    let events: Vec<Value> = (0..4)
        .map(|k| json!({"timestamp": now + k, "message": json!({"eventName": if k % 2 == 0 {"A"} else {"B"}, "n": k}).to_string()}))
        .collect();
    ok(
        &s,
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "logEvents": events}),
    )
    .await;
    let started = ok(
        &s,
        "StartQuery",
        json!({"logGroupName": "g", "startTime": now / 1000 - 60, "endTime": now / 1000 + 60,
        "queryString": "stats count(*) as n, sum(n) as total by eventName | sort eventName"}),
    )
    .await;
    let results = ok(
        &s,
        "GetQueryResults",
        json!({"queryId": started["queryId"]}),
    )
    .await;
    assert_eq!(results["status"], "Complete");
    assert_eq!(
        results["results"],
        json!([
        [{"field": "eventName", "value": "A"}, {"field": "n", "value": "2"}, {"field": "total", "value": "2"}],
        [{"field": "eventName", "value": "B"}, {"field": "n", "value": "2"}, {"field": "total", "value": "4"}]])
    );
    assert_eq!(results["statistics"]["recordsScanned"], json!(4.0));
    let queries = ok(&s, "DescribeQueries", json!({"logGroupName": "g"})).await;
    assert_eq!(queries["queries"][0]["queryId"], started["queryId"]);
    let (_, e) = logs(
        &s,
        "StartQuery",
        json!({"logGroupName": "g", "startTime": 0, "endTime": 1, "queryString": "stats nothing"}),
    )
    .await;
    assert_eq!(error_type(&e), "MalformedQueryException");
    ok(
        &s,
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 1}),
    )
    .await;
    let sweep = |at_ms: i64| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["logs", "sweep", "--data-dir"])
            .arg(s.data_dir())
            .args(["--now", &(at_ms as f64 / 1000.0).to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["Expired"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        sweep(now + 3_600_000),
        0,
        "within retention nothing expires"
    );
    assert_eq!(sweep(now + 2 * 86_400_000), 4);
    let got = ok(
        &s,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true}),
    )
    .await;
    assert_eq!(got["events"], json!([]));
}
