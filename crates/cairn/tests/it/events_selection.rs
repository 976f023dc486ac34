//! Selectors apply as they were when each event happened, and data events are recorded only
//! when a logging trail selects them.

use serde_json::{Value, json};

use crate::events_log::{cairn, call, delivered, flush, request_ids};
use crate::harness::*;

async fn trail(server: &Server, name: &str, bucket: &str, selectors: Value) {
    server.bucket_for_trails(bucket).await;
    let (s, v) = server
        .ct("CreateTrail", json!({"Name": name, "S3BucketName": bucket}))
        .await;
    assert_eq!(s, 200, "{v}");
    let mut body = selectors;
    body["TrailName"] = json!(name);
    let (s, v) = server.ct("PutEventSelectors", body).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = server.ct("StartLogging", json!({"Name": name})).await;
    assert_eq!(s, 200, "{v}");
}

fn s3_data(values: &[&str], read_write: &str) -> Value {
    json!({"EventSelectors": [{"ReadWriteType": read_write, "IncludeManagementEvents": true,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": values}]}]})
}

/// Request ids of a signed S3 call.
async fn s3_call(server: &Server, method: &str, path: &str, body: &[u8]) -> String {
    let req = sign_s3(
        &server.addr,
        "us-east-1",
        method,
        path,
        body.to_vec(),
        chrono::Utc::now(),
    );
    let (s, headers, _) = server.send(req).await;
    assert_eq!(s, 200, "{method} {path}");
    headers["x-amz-request-id"].to_str().unwrap().to_owned()
}

/// Stored data records (`cairn events --category Data`).
fn stored_data(server: &Server) -> Vec<Value> {
    let dir = server.data_dir();
    let out = cairn(&[
        "events",
        "--data-dir",
        dir.to_str().unwrap(),
        "--category",
        "Data",
    ]);
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_switch_to_all_does_not_deliver_reads_recorded_before_it() {
    let server = Server::start();
    trail(
        &server,
        "writes",
        "writes-bucket",
        json!({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]}),
    )
    .await;
    let (_, _, read_before) = call(&server, "DescribeTrails", json!({})).await;
    let (_, _, write_before) = call(
        &server,
        "AddTags",
        json!({"ResourceId": "arn:aws:cloudtrail:us-east-1:123456789012:trail/writes", "TagsList": [{"Key": "k", "Value": "v"}]}),
    )
    .await;
    let (s, v) = server
        .ct(
            "PutEventSelectors",
            json!({"TrailName": "writes", "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, _, read_after) = call(&server, "DescribeTrails", json!({})).await;
    flush(&server.data_dir());
    let ids = request_ids(&delivered(&server, "writes-bucket").await);
    assert!(ids.contains(&write_before));
    assert!(ids.contains(&read_after));
    assert!(
        !ids.contains(&read_before),
        "a read recorded while the trail was write-only was delivered"
    );
}

#[tokio::test]
async fn unselected_data_events_are_not_written_and_selected_ones_are_delivered() {
    let server = Server::start();
    let (s, _) = server.s3("PUT", "/data-bkt", b"").await;
    assert_eq!(s, 200);
    trail(
        &server,
        "mgmt",
        "mgmt-bucket",
        json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}),
    )
    .await;
    s3_call(&server, "PUT", "/data-bkt/k", b"hello").await;
    let unselected = s3_call(&server, "GET", "/data-bkt/k", b"").await;
    assert!(
        stored_data(&server).is_empty(),
        "object calls nothing selects were written"
    );

    let mut body = s3_data(&["arn:aws:s3:::data-bkt/"], "All");
    body["TrailName"] = json!("mgmt");
    let (s, v) = server.ct("PutEventSelectors", body).await;
    assert_eq!(s, 200, "{v}");
    let selected = s3_call(&server, "GET", "/data-bkt/k", b"").await;
    let other_bucket = {
        let (s, _) = server.s3("PUT", "/other-bkt", b"").await;
        assert_eq!(s, 200);
        s3_call(&server, "PUT", "/other-bkt/k", b"x").await
    };
    let stored = request_ids(&stored_data(&server));
    assert_eq!(
        stored,
        vec![selected.clone()],
        "only the selected GetObject"
    );
    assert!(!stored.contains(&other_bucket));

    flush(&server.data_dir());
    let ids = request_ids(&delivered(&server, "mgmt-bucket").await);
    assert!(
        ids.contains(&selected),
        "the selected GetObject was delivered"
    );
    assert!(!ids.contains(&unselected));
}

#[tokio::test]
async fn a_data_selector_does_not_reach_back_to_events_recorded_before_it() {
    let server = Server::start();
    let (s, _) = server.s3("PUT", "/hist-data", b"").await;
    assert_eq!(s, 200);
    // Trail B selects the bucket's objects from the start, so they are recorded.
    trail(
        &server,
        "has-data",
        "hist-b",
        s3_data(&["arn:aws:s3:::hist-data/"], "All"),
    )
    .await;
    // Trail A logs management events only, for now.
    trail(
        &server,
        "adds-data",
        "hist-a",
        json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}),
    )
    .await;
    let before = s3_call(&server, "PUT", "/hist-data/one", b"1").await;
    let mut body = s3_data(&["arn:aws:s3:::hist-data/"], "All");
    body["TrailName"] = json!("adds-data");
    let (s, v) = server.ct("PutEventSelectors", body).await;
    assert_eq!(s, 200, "{v}");
    let after = s3_call(&server, "PUT", "/hist-data/two", b"2").await;
    flush(&server.data_dir());
    let b = request_ids(&delivered(&server, "hist-b").await);
    assert!(b.contains(&before) && b.contains(&after));
    let a = request_ids(&delivered(&server, "hist-a").await);
    assert!(a.contains(&after));
    assert!(
        !a.contains(&before),
        "a PutObject recorded before the trail had a data selector was delivered"
    );
}
