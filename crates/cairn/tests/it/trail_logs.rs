//! A trail delivering to CloudWatch Logs against the real binary: the guide's role, a crash
//! before delivery loses nothing, a crash inside a delivery before its commit leaves nothing
//! behind, repeated deliveries (across restarts) never duplicate a record in the stream
//! `<account>_CloudTrail_<trail region>`, and a multi-region trail writes every region's
//! records to that stream, as the guide's role policy expects.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::harness::Server;

const STREAM: &str = "123456789012_CloudTrail_us-east-1";

async fn call(
    server: &Server,
    service: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> (u16, String) {
    let (status, _, bytes) = server.post(service, headers, body).await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn logs(server: &Server, op: &str, body: Value) -> Value {
    let (status, text) = call(
        server,
        "logs",
        vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amz-target".into(), format!("Logs_20140328.{op}")),
        ],
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{op}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn query(server: &Server, service: &str, params: &[(&str, &str)]) {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    let (status, text) = call(
        server,
        service,
        vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        )],
        s.finish().into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{params:?}: {text}");
}

/// The records in the trail's stream, oldest first.
async fn stream_records(server: &Server) -> Vec<Value> {
    records_in(server, STREAM).await
}

/// The records in `stream` of the group, oldest first.
async fn records_in(server: &Server, stream: &str) -> Vec<Value> {
    let page = logs(
        server,
        "GetLogEvents",
        json!({"logGroupName": "ct", "logStreamName": stream, "startFromHead": true}),
    )
    .await;
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["message"].as_str().unwrap()).unwrap())
        .collect()
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["eventID"].as_str().unwrap().to_owned())
        .collect()
}

const WHOLE_GROUP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:ct:*"}]}"#;

/// Makes the group `ct`, the guide's role `ct-role`, and a logging trail `name` (with a bucket
/// of the same name) that delivers to the group as the role.
async fn logging_to_group(server: &Server, name: &str) {
    logging_to_group_with(server, name, WHOLE_GROUP, false).await;
}

/// (Re)places the role's policy.
async fn role_policy(server: &Server, perms: &str) {
    query(
        server,
        "iam",
        &[
            ("Action", "PutRolePolicy"),
            ("Version", "2010-05-08"),
            ("RoleName", "ct-role"),
            ("PolicyName", "p"),
            ("PolicyDocument", perms),
        ],
    )
    .await;
}

/// [`logging_to_group`] with the role's policy `perms`, multi-region or not.
async fn logging_to_group_with(server: &Server, name: &str, perms: &str, multi_region: bool) {
    server.bucket_for_trails(name).await;
    logs(server, "CreateLogGroup", json!({"logGroupName": "ct"})).await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let v = ("Version", "2010-05-08");
    query(
        server,
        "iam",
        &[
            ("Action", "CreateRole"),
            v,
            ("RoleName", "ct-role"),
            ("AssumeRolePolicyDocument", trust),
        ],
    )
    .await;
    role_policy(server, perms).await;
    let (status, created) = server
        .ct(
            "CreateTrail",
            json!({"Name": name, "S3BucketName": name, "IsMultiRegionTrail": multi_region,
                "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:ct:*",
                "CloudWatchLogsRoleArn": "arn:aws:iam::123456789012:role/ct-role"}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let (status, _) = server.ct("StartLogging", json!({"Name": name})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn records_reach_the_stream_once_across_crashes_and_repeated_flushes() {
    let mut server = Server::start_with(&["--delivery-interval", "3600", "--alarm-tick-secs", "0"]);
    logging_to_group(&server, "cwl-it").await;
    for i in 0..20 {
        let (status, _) = server.ct("ListTrails", json!({})).await;
        assert_eq!(status, 200, "call {i}");
    }
    // A crash before any delivery loses nothing: the events are in the log, the cursor waits.
    server.kill9_and_restart();
    let first = server.flush(&[]);
    assert!(first["LogEvents"].as_u64().unwrap() >= 21, "{first}");
    let delivered = stream_records(&server).await;
    let first_ids = ids(&delivered);
    assert_eq!(delivered[0]["eventName"], "StartLogging");
    assert_eq!(
        delivered
            .iter()
            .filter(|r| r["eventName"] == "ListTrails")
            .count(),
        20
    );
    // Another crash and two more flushes: only what was recorded since is added.
    let (status, _) = server.ct("ListTrails", json!({})).await;
    assert_eq!(status, 200);
    server.kill9_and_restart();
    server.flush(&[]);
    server.flush(&[]);
    let again = ids(&stream_records(&server).await);
    assert_eq!(
        &again[..first_ids.len()],
        &first_ids[..],
        "delivered records stay in order"
    );
    let unique: BTreeSet<&String> = again.iter().collect();
    assert_eq!(unique.len(), again.len(), "no record is delivered twice");
    assert!(
        again.len() > first_ids.len(),
        "the calls since were delivered too"
    );
    let (_, status) = server.ct("GetTrailStatus", json!({"Name": "cwl-it"})).await;
    assert!(
        status["LatestCloudWatchLogsDeliveryTime"].is_number(),
        "{status}"
    );
    assert!(
        status.get("LatestCloudWatchLogsDeliveryError").is_none(),
        "{status}"
    );
}

#[tokio::test]
async fn insights_events_reach_the_group_of_the_trail_that_wrote_them() {
    let mut server = Server::start_with(&[
        "--delivery-interval",
        "86400",
        "--alarm-tick-secs",
        "0",
        "--insights-warm-up",
        "0",
    ]);
    logging_to_group(&server, "watched").await;
    let (status, set) = server
        .ct(
            "PutInsightSelectors",
            json!({"TrailName": "watched", "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]}),
        )
        .await;
    assert_eq!(status, 200, "{set}");
    for i in 0..12 {
        let (status, _) = server
            .ct(
                "AddTags",
                json!({"ResourceId": "arn:aws:cloudtrail:us-east-1:123456789012:trail/watched",
                       "TagsList": [{"Key": format!("k{i}"), "Value": "v"}]}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let now = chrono::Utc::now().timestamp() + 1800;
    let report = crate::insights::insights_run(&server, now);
    assert_eq!(report["Written"], 2, "{report}");
    server.flush(&["--now", &(now + 60).to_string()]);
    let insights: Vec<(String, String)> = stream_records(&server)
        .await
        .iter()
        .filter(|r| r["eventCategory"] == "Insight")
        .map(|r| {
            let d = &r["insightDetails"];
            (
                d["eventName"].as_str().unwrap().to_owned(),
                d["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        insights,
        [
            ("AddTags".to_owned(), "Start".to_owned()),
            ("AddTags".to_owned(), "End".to_owned())
        ]
    );
}

/// The crash window: a delivery that ends (abort) after ingesting and moving the cursor,
/// before its transaction commits, leaves nothing behind: the next deliveries bring each
/// record once.
#[tokio::test]
async fn a_delivery_ended_before_its_commit_leaves_nothing_and_is_done_once() {
    let mut server = Server::start_with(&["--delivery-interval", "3600", "--alarm-tick-secs", "0"]);
    logging_to_group(&server, "cwl-crash").await;
    for _ in 0..5 {
        let (status, _) = server.ct("ListTrails", json!({})).await;
        assert_eq!(status, 200);
    }
    server.child.kill().expect("kill");
    server.child.wait().expect("reap");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("flush")
        .arg("--data-dir")
        .arg(server.dir.path())
        .env("CAIRN_FAULT_ABORT_BEFORE_LOG_COMMIT", "1")
        .env("CAIRN_LOG", "error")
        .output()
        .expect("run cairn flush");
    assert_eq!(out.status.code(), None, "the flush aborted: {out:?}");
    // The restarted server may take its first delivery step at once (catch-up after
    // downtime), so what the abort left is judged by the end state: had the aborted step
    // committed its ingest without its cursor, the records would now be there twice.
    server.kill9_and_restart();
    server.flush(&[]);
    server.flush(&[]);
    let records = stream_records(&server).await;
    let all = ids(&records);
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no record is delivered twice");
    assert_eq!(
        records
            .iter()
            .filter(|r| r["eventName"] == "ListTrails")
            .count(),
        5
    );
}

/// A multi-region trail with the guide's role policy (the home region's stream only): every
/// region's records arrive in that stream, once per record across flushes; a policy that
/// allows another stream only moves nothing (GetTrailStatus says why), and once the guide's
/// policy is back the waiting records arrive, once.
#[tokio::test]
async fn a_multi_region_trail_writes_every_region_to_the_home_stream() {
    let mut server = Server::start_with(&["--delivery-interval", "3600", "--alarm-tick-secs", "0"]);
    let home_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:ct:log-stream:123456789012_CloudTrail_us-east-1*"}]}"#;
    logging_to_group_with(&server, "cwl-regions", home_only, true).await;
    let (status, _) = server.ct_in("eu-west-1", "ListTrails", json!({})).await;
    assert_eq!(status, 200);
    for round in 0..3 {
        let (status, _) = server.ct("ListTrails", json!({})).await;
        assert_eq!(status, 200);
        let report = server.flush(&[]);
        assert_eq!(report["LogEventsFailed"], 0, "round {round}: {report}");
        let home = ids(&stream_records(&server).await);
        let unique: BTreeSet<&String> = home.iter().collect();
        assert_eq!(unique.len(), home.len(), "round {round}: no record twice");
    }
    let home = stream_records(&server).await;
    let eu: Vec<&Value> = home
        .iter()
        .filter(|r| r["awsRegion"] == "eu-west-1")
        .collect();
    assert_eq!(eu.len(), 1, "{eu:?}");
    assert_eq!(eu[0]["eventName"], "ListTrails");
    let streams = logs(&server, "DescribeLogStreams", json!({"logGroupName": "ct"})).await;
    let names: Vec<&str> = streams["logStreams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["logStreamName"].as_str().unwrap())
        .collect();
    assert_eq!(names, [STREAM]);
    let eu_only = home_only.replace("us-east-1*", "eu-west-1*");
    role_policy(&server, &eu_only).await;
    let (status, _) = server.ct_in("eu-west-1", "ListTrails", json!({})).await;
    assert_eq!(status, 200);
    let report = server.flush(&[]);
    assert_eq!(report["LogEvents"], 0, "{report}");
    let (_, status) = server
        .ct("GetTrailStatus", json!({"Name": "cwl-regions"}))
        .await;
    assert_eq!(
        status["LatestCloudWatchLogsDeliveryError"],
        "Access denied. Verify in IAM that the role has adequate permissions."
    );
    role_policy(&server, home_only).await;
    let report = server.flush(&[]);
    assert_eq!(report["LogEventsFailed"], 0, "{report}");
    let home = stream_records(&server).await;
    let all = ids(&home);
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no record twice");
    assert_eq!(
        home.iter()
            .filter(|r| r["awsRegion"] == "eu-west-1")
            .count(),
        2
    );
    let (_, status) = server
        .ct("GetTrailStatus", json!({"Name": "cwl-regions"}))
        .await;
    assert!(
        status.get("LatestCloudWatchLogsDeliveryError").is_none(),
        "{status}"
    );
}

/// CloudWatch Logs delivery checks the event chain over each round's span, as S3 delivery
/// does over a file's: an event edited in the store after it was recorded is held back with
/// its span (nothing of it reaches the group, so no metric filter sees it), and
/// GetTrailStatus says why in `LatestCloudWatchLogsDeliveryError`.
#[tokio::test]
async fn an_edited_event_never_reaches_the_group() {
    let mut server = Server::start_with(&["--delivery-interval", "3600", "--alarm-tick-secs", "0"]);
    logging_to_group(&server, "cwl-chain").await;
    for _ in 0..3 {
        assert_eq!(server.ct("ListTrails", json!({})).await.0, 200);
    }
    let conn = cairn_store::Connection::open(server.data_dir().join("cairn.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute_batch(
        "UPDATE events SET record = replace(record, 'ListTrails', 'ListTrailz')
         WHERE seq = (SELECT max(seq) FROM events WHERE event_name = 'ListTrails')",
    )
    .unwrap();
    drop(conn);
    let flushed = server.flush(&[]);
    assert_eq!(flushed["LogEvents"], 0, "{flushed}");
    assert!(
        flushed["LogEventsFailed"].as_u64().unwrap() >= 1,
        "{flushed}"
    );
    let (_, text) = call(
        &server,
        "logs",
        vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amz-target".into(), "Logs_20140328.GetLogEvents".into()),
        ],
        json!({"logGroupName": "ct", "logStreamName": STREAM, "startFromHead": true})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert!(
        !text.contains("ListTrailz"),
        "an edited event was delivered: {text}"
    );
    let (_, status) = server
        .ct("GetTrailStatus", json!({"Name": "cwl-chain"}))
        .await;
    let error = status["LatestCloudWatchLogsDeliveryError"]
        .as_str()
        .unwrap_or_else(|| panic!("no CloudWatch Logs delivery error: {status}"));
    assert!(error.contains("InternalError"), "{error}");
}
