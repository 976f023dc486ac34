//! Selectors apply as they were when each event happened, and data events are recorded only
//! when a logging trail selects them.

use serde_json::{Value, json};

use crate::events_log::{cairn, call, delivered, request_ids};
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
    let mut server = Server::start();
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
    server.flush(&[]);
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
    let mut server = Server::start();
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

    server.flush(&[]);
    let ids = request_ids(&delivered(&server, "mgmt-bucket").await);
    assert!(
        ids.contains(&selected),
        "the selected GetObject was delivered"
    );
    assert!(!ids.contains(&unselected));
}

#[tokio::test]
async fn a_data_selector_does_not_reach_back_to_events_recorded_before_it() {
    let mut server = Server::start();
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
    server.flush(&[]);
    let b = request_ids(&delivered(&server, "hist-b").await);
    assert!(b.contains(&before) && b.contains(&after));
    let a = request_ids(&delivered(&server, "hist-a").await);
    assert!(a.contains(&after));
    assert!(
        !a.contains(&before),
        "a PutObject recorded before the trail had a data selector was delivered"
    );
}

/// A logging trail whose selectors are `selectors` (serde form), for store-level tests.
fn stored_trail(selectors: Value) -> cairn_model::trail::Trail {
    serde_json::from_value(json!({
        "name": "sel", "account": "123456789012", "home_region": "us-east-1",
        "s3_bucket_name": "b", "s3_key_prefix": null, "sns_topic_arn": null,
        "include_global_service_events": true, "is_multi_region_trail": false,
        "log_file_validation_enabled": false, "cloud_watch_logs_log_group_arn": null,
        "cloud_watch_logs_role_arn": null, "kms_key_id": null, "is_organization_trail": false,
        "selectors": selectors, "has_custom_event_selectors": true, "insight_selectors": [],
        "tags": [],
        "status": {"is_logging": true, "start_logging_time": null, "stop_logging_time": null,
            "windows": [{"start_seq": 1, "end_seq": null}]},
        "created_at": 0.0
    }))
    .unwrap()
}

fn get_object_event() -> cairn_core::record::PreparedEvent {
    use cairn_model::event::{EVENT_VERSION, EventRecord, EventResource};
    let record = EventRecord {
        event_version: EVENT_VERSION.into(),
        user_identity: json!({"type": "Root", "arn": "arn:aws:iam::123456789012:root"}),
        event_time: "2026-01-01T00:00:00Z".into(),
        event_source: "s3.amazonaws.com".into(),
        event_name: "GetObject".into(),
        aws_region: "us-east-1".into(),
        source_ip_address: "127.0.0.1".into(),
        user_agent: "test".into(),
        error_code: None,
        error_message: None,
        request_parameters: json!({"bucketName": "d", "key": "k"}),
        response_elements: Value::Null,
        additional_event_data: None,
        request_id: "r".into(),
        event_id: uuid_like(),
        read_only: true,
        resources: vec![EventResource {
            arn: "arn:aws:s3:::d/k".into(),
            account_id: None,
            resource_type: "AWS::S3::Object".into(),
            arn_prefix: None,
        }],
        event_type: "AwsApiCall".into(),
        management_event: false,
        recipient_account_id: "123456789012".into(),
        event_category: "Data".into(),
    };
    cairn_core::record::PreparedEvent::new(&record, 1_767_225_600, "root", vec![])
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "00000000-0000-4000-8000-{:012}",
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[test]
fn the_data_selection_follows_committed_and_rolled_back_trail_changes() {
    use cairn_core::record::append;
    use cairn_store::{Store, StoreError, trails, with_savepoint};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.db")).unwrap();
    let appended = |store: &Store| {
        let e = get_object_event();
        store
            .write_blocking(move |c| append(c, &e).unwrap())
            .unwrap()
    };
    let data = json!({"Basic": [{"read_write_type": "All", "include_management_events": true,
        "data_resources": [{"resource_type": "AWS::S3::Object", "values": ["arn:aws:s3:::d/"]}],
        "exclude_management_event_sources": []}]});
    let management = json!({"Basic": [{"read_write_type": "All", "include_management_events": true,
        "data_resources": [], "exclude_management_event_sources": []}]});

    assert_eq!(appended(&store), None, "no trail: not written");
    let t = stored_trail(data.clone());
    store
        .write_blocking(move |c| trails::put(c, &t).unwrap())
        .unwrap();
    assert!(
        appended(&store).is_some(),
        "a committed data selector is seen at once"
    );

    // A change that rolls back must not leave a stale "nothing selects" behind.
    let t = stored_trail(management.clone());
    let inside = store
        .write_blocking(move |c| {
            let inside = with_savepoint(c, |c| -> Result<(), StoreError> {
                trails::put(c, &t)?;
                let e = get_object_event();
                assert_eq!(
                    append(c, &e)?,
                    None,
                    "the change is seen inside its transaction"
                );
                Err(StoreError::Corrupt("roll back".into()))
            });
            assert!(inside.is_err());
            let e = get_object_event();
            append(c, &e).unwrap()
        })
        .unwrap();
    assert!(
        inside.is_some(),
        "after the rollback the data selector applies again"
    );
    assert!(appended(&store).is_some());

    let t = stored_trail(management);
    store
        .write_blocking(move |c| trails::put(c, &t).unwrap())
        .unwrap();
    assert_eq!(
        appended(&store),
        None,
        "a committed removal is seen at once"
    );
    let mut stopped = stored_trail(data);
    stopped.status.is_logging = false;
    store
        .write_blocking(move |c| trails::put(c, &stopped).unwrap())
        .unwrap();
    assert_eq!(
        appended(&store),
        None,
        "a trail that is not logging selects nothing"
    );
}
