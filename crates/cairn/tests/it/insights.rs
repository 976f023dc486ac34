//! CloudTrail Insights end to end on the controllable clock: a trail with both insight
//! types, a burst of write calls and a burst of AccessDenied errors, `cairn insights run
//! --now` in the future, then `cairn flush`: the Start/End pairs are in event history by
//! `EventCategory`, in the bucket's `CloudTrail-Insight/` folder, and listed in the digest.

use serde_json::{Value, json};

use crate::delivery_notify::keys;
use crate::harness::{Server, sign_json};

fn cairn() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
}

async fn ok(server: &Server, op: &str, body: Value) -> Value {
    let (s, v) = server.ct(op, body).await;
    assert_eq!(s, 200, "{op}: {v}");
    v
}

/// Runs `cairn insights run --now` on the server's data dir; its JSON report.
pub(crate) fn insights_run(server: &Server, now: i64) -> Value {
    let out = cairn()
        .args(["insights", "run", "--data-dir"])
        .arg(server.data_dir())
        .args(["--now", &now.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn object(server: &Server, bucket: &str, key: &str) -> Value {
    let req = crate::harness::sign_s3(
        &server.addr,
        "us-east-1",
        "GET",
        &format!("/{bucket}/{key}"),
        Vec::new(),
        chrono::Utc::now(),
    );
    let (status, _, gz) = server.send(req).await;
    assert_eq!(status, 200, "{key}");
    serde_json::from_slice(&cairn_logfile::verify::gunzip(&gz).unwrap()).unwrap()
}

fn summary(records: &[Value]) -> Vec<(String, String, String)> {
    let mut s: Vec<(String, String, String)> = records
        .iter()
        .map(|r| {
            let d = &r["insightDetails"];
            (
                d["insightType"].as_str().unwrap().to_owned(),
                d["eventName"].as_str().unwrap().to_owned(),
                d["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    s.sort();
    s
}

#[tokio::test]
async fn bursts_become_insight_pairs_in_history_bucket_and_digest() {
    let mut server =
        Server::start_with(&["--insights-warm-up", "0", "--delivery-interval", "86400"]);
    server.bucket_for_trails("insights-bucket").await;
    let trail = ok(
        &server,
        "CreateTrail",
        json!({"Name": "watch", "S3BucketName": "insights-bucket", "EnableLogFileValidation": true}),
    )
    .await;
    let arn = trail["TrailARN"].as_str().unwrap().to_owned();
    ok(&server, "StartLogging", json!({"Name": "watch"})).await;
    let (s, e) = server
        .ct("GetInsightSelectors", json!({"TrailName": "watch"}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(e["__type"], "InsightNotEnabledException");
    let set = ok(
        &server,
        "PutInsightSelectors",
        json!({"TrailName": "watch", "InsightSelectors": [
            {"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}]}),
    )
    .await;
    assert_eq!(set["InsightSelectors"].as_array().unwrap().len(), 2);
    let (s, e) = server
        .ct(
            "PutInsightSelectors",
            json!({"TrailName": "watch", "InsightSelectors": [{"InsightType": "ApiCallRateInsight",
                   "EventCategories": ["Management", "Management"]}]}),
        )
        .await;
    assert_eq!(
        (s, e["__type"].as_str()),
        (400, Some("InvalidInsightSelectorsException")),
        "{e}"
    );

    // A burst of write calls, and a burst of AccessDenied errors by a user with no policy.
    for i in 0..12 {
        ok(
            &server,
            "AddTags",
            json!({"ResourceId": arn, "TagsList": [{"Key": format!("k{i}"), "Value": "v"}]}),
        )
        .await;
    }
    let iam = |args: &[&str]| server.admin_iam(args);
    iam(&["create-user", "mallory"]);
    let key = iam(&["create-access-key", "mallory"]);
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap();
    let secret = key["AccessKey"]["SecretAccessKey"].as_str().unwrap();
    for _ in 0..12 {
        let req = sign_json(
            &server.addr,
            "us-east-1",
            id,
            secret,
            "ListTrails",
            b"{}".to_vec(),
            chrono::Utc::now(),
        );
        assert_eq!(server.send_json(req).await.0, 400);
    }

    // Thirty minutes on: the bursts and their quiet aftermath are closed minutes. (An End
    // event's time is the minute after the burst, later than the wall clock here.)
    let now = chrono::Utc::now().timestamp() + 1800;
    let first = insights_run(&server, now);
    assert_eq!(first["Written"], 4, "{first}");
    let again = insights_run(&server, now);
    assert_eq!(
        again["Written"], 0,
        "running twice writes nothing twice: {again}"
    );

    let (s, page) = server
        .ct(
            "LookupEvents",
            json!({"EventCategory": "insight", "EndTime": now}),
        )
        .await;
    assert_eq!(s, 200, "{page}");
    let history: Vec<Value> = page["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
        .collect();
    let want = vec![
        (
            "ApiCallRateInsight".to_owned(),
            "AddTags".to_owned(),
            "End".to_owned(),
        ),
        (
            "ApiCallRateInsight".to_owned(),
            "AddTags".to_owned(),
            "Start".to_owned(),
        ),
        (
            "ApiErrorRateInsight".to_owned(),
            "ListTrails".to_owned(),
            "End".to_owned(),
        ),
        (
            "ApiErrorRateInsight".to_owned(),
            "ListTrails".to_owned(),
            "Start".to_owned(),
        ),
    ];
    assert_eq!(summary(&history), want);
    for r in &history {
        assert_eq!(r["eventType"], "AwsCloudTrailInsight");
        assert_eq!(r["eventCategory"], "Insight");
        assert!(r.get("userIdentity").is_none());
    }
    let errors: Vec<&Value> = history
        .iter()
        .filter(|r| r["insightDetails"]["insightType"] == "ApiErrorRateInsight")
        .collect();
    assert_eq!(errors[0]["insightDetails"]["errorCode"], "AccessDenied");
    assert_eq!(errors[0]["sharedEventID"], errors[1]["sharedEventID"]);
    let (_, by_name) = server
        .ct(
            "LookupEvents",
            json!({"EventCategory": "insight", "EndTime": now,
                   "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "AddTags"}]}),
        )
        .await;
    assert_eq!(by_name["Events"].as_array().unwrap().len(), 2);
    // Management history does not show them.
    let (_, mgmt) = server.ct("LookupEvents", json!({})).await;
    assert!(mgmt["Events"].as_array().unwrap().iter().all(|e| {
        !e["CloudTrailEvent"]
            .as_str()
            .unwrap()
            .contains("AwsCloudTrailInsight")
    }));

    // The call-rate series is visible per minute.
    let (s, metric) = server
        .ct(
            "ListInsightsMetricData",
            json!({"EventSource": "cloudtrail.amazonaws.com", "EventName": "AddTags",
                   "InsightType": "ApiCallRateInsight", "Period": 60}),
        )
        .await;
    assert_eq!(s, 200, "{metric}");
    let total: f64 = metric["Values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert_eq!(total, 12.0, "{metric}");
    // `TrailName` asks for a trail's data-event series: the trail must exist (and has none).
    let series = |trail: &str| {
        json!({"EventSource": "cloudtrail.amazonaws.com", "EventName": "AddTags",
               "InsightType": "ApiCallRateInsight", "Period": 60, "TrailName": trail})
    };
    let (s, e) = server.ct("ListInsightsMetricData", series("nosuch")).await;
    assert_eq!(
        (s, e["__type"].as_str()),
        (400, Some("TrailNotFoundException")),
        "{e}"
    );
    let (s, e) = server
        .ct("ListInsightsMetricData", series("bad name!"))
        .await;
    assert_eq!(
        (s, e["__type"].as_str()),
        (400, Some("InvalidTrailNameException")),
        "{e}"
    );
    let (s, data) = server.ct("ListInsightsMetricData", series("watch")).await;
    assert_eq!(
        (s, data["Values"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{data}"
    );
    // Insight history takes three lookup attributes, and says so.
    let (s, e) = server
        .ct(
            "LookupEvents",
            json!({"EventCategory": "insight", "LookupAttributes":
                   [{"AttributeKey": "Username", "AttributeValue": "x"}]}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        e["Message"]
            .as_str()
            .unwrap()
            .ends_with("EventId, EventName, EventSource."),
        "{e}"
    );

    server.flush(&["--now", &(now + 60).to_string()]);
    let prefix = "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/";
    let files = keys(&server, "insights-bucket", prefix).await;
    assert_eq!(files.len(), 1, "{files:?}");
    let body = object(&server, "insights-bucket", &files[0]).await;
    let delivered: Vec<Value> = body["Records"].as_array().unwrap().clone();
    assert_eq!(summary(&delivered), want);
    // A second flush delivers nothing again.
    server.flush(&["--now", &(now + 120).to_string()]);
    assert_eq!(keys(&server, "insights-bucket", prefix).await.len(), 1);

    // The trail's digest lists the Insight file.
    let digests = keys(
        &server,
        "insights-bucket",
        "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/",
    )
    .await;
    let mut listed = Vec::new();
    for d in &digests {
        let digest = object(&server, "insights-bucket", d).await;
        for f in digest["logFiles"].as_array().unwrap() {
            listed.push(f["s3Object"].as_str().unwrap().to_owned());
        }
    }
    assert!(listed.contains(&files[0]), "{listed:?}");
}
