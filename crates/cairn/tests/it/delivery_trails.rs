//! Delivery seen through the API: a deleted trail's last events, the bucket policy checked
//! at delivery time with the error in GetTrailStatus, and a public key before any digest.

use serde_json::{Value, json};

use crate::delivery_notify::keys;
use crate::harness::{Server, cloudtrail_policy};

/// Every record delivered to `bucket`, file by file, in key order.
async fn delivered(server: &Server, bucket: &str) -> Vec<Value> {
    let mut records = Vec::new();
    for key in keys(server, bucket, "AWSLogs/123456789012/CloudTrail/").await {
        let req = crate::harness::sign_s3(
            &server.addr,
            "us-east-1",
            "GET",
            &format!("/{bucket}/{key}"),
            Vec::new(),
            chrono::Utc::now(),
        );
        let (status, _, gz) = server.send(req).await;
        assert_eq!(status, 200);
        let body = cairn_logfile::verify::gunzip(&gz).unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        records.extend(v["Records"].as_array().unwrap().iter().cloned());
    }
    records
}

fn names(records: &[Value]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect()
}

async fn ok(server: &Server, op: &str, body: Value) -> Value {
    let (s, v) = server.ct(op, body).await;
    assert_eq!(s, 200, "{op}: {v}");
    v
}

#[tokio::test]
async fn deleting_a_logging_trail_delivers_what_it_had_selected() {
    let mut server = Server::start_with(&["--delivery-interval", "86400"]);
    server.bucket_for_trails("drain-bucket").await;
    let create =
        json!({"Name": "doomed", "S3BucketName": "drain-bucket", "EnableLogFileValidation": true});
    ok(&server, "CreateTrail", create.clone()).await;
    ok(&server, "StartLogging", json!({"Name": "doomed"})).await;
    for _ in 0..3 {
        ok(&server, "DescribeTrails", json!({})).await;
    }
    ok(&server, "DeleteTrail", json!({"Name": "doomed"})).await;
    // A new trail of the same name is a different trail: it gets only its own events.
    ok(&server, "CreateTrail", create).await;
    ok(&server, "StartLogging", json!({"Name": "doomed"})).await;
    ok(&server, "GetTrailStatus", json!({"Name": "doomed"})).await;
    ok(&server, "StopLogging", json!({"Name": "doomed"})).await;

    let now = chrono::Utc::now().timestamp() as f64 + 2.0;
    server.flush(&["--now", &now.to_string()]);
    let records = delivered(&server, "drain-bucket").await;
    let mut got = names(&records);
    got.sort();
    let mut want = vec![
        "StartLogging",
        "DescribeTrails",
        "DescribeTrails",
        "DescribeTrails",
        "DeleteTrail",
        "StartLogging",
        "GetTrailStatus",
        "StopLogging",
    ];
    want.sort();
    assert_eq!(
        got, want,
        "the deleted trail's events through DeleteTrail, once"
    );
    let digests = keys(
        &server,
        "drain-bucket",
        "AWSLogs/123456789012/CloudTrail-Digest/",
    )
    .await;
    assert!(!digests.is_empty(), "the final files are digested");
}

#[tokio::test]
async fn delivery_obeys_the_bucket_policy_and_loses_nothing_while_denied() {
    let mut server = Server::start_with(&["--delivery-interval", "86400"]);
    server.bucket_for_trails("guarded").await;
    ok(
        &server,
        "CreateTrail",
        json!({"Name": "guarded-trail", "S3BucketName": "guarded", "EnableLogFileValidation": true}),
    )
    .await;
    ok(&server, "StartLogging", json!({"Name": "guarded-trail"})).await;
    let acl_only = json!({"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
         "Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::guarded"}]})
    .to_string();
    let (s, body) = server
        .s3("PUT", "/guarded?policy", acl_only.as_bytes())
        .await;
    assert_eq!(s, 204, "{body}");
    ok(&server, "DescribeTrails", json!({})).await;
    let now = chrono::Utc::now().timestamp() as f64 + 2.0;
    server.flush(&["--now", &now.to_string()]);
    assert!(delivered(&server, "guarded").await.is_empty());
    let status = ok(&server, "GetTrailStatus", json!({"Name": "guarded-trail"})).await;
    assert_eq!(status["LatestDeliveryError"], "AccessDenied", "{status}");
    assert_eq!(
        status["LatestDigestDeliveryError"], "AccessDenied",
        "{status}"
    );

    let (s, body) = server
        .s3(
            "PUT",
            "/guarded?policy",
            cloudtrail_policy("guarded").as_bytes(),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    server.flush(&["--now", &(now + 2.0).to_string()]);
    let records = delivered(&server, "guarded").await;
    let got = names(&records);
    for wanted in [
        "StartLogging",
        "PutBucketPolicy",
        "DescribeTrails",
        "GetTrailStatus",
    ] {
        assert!(
            got.contains(&wanted),
            "the events recorded while denied are delivered: {got:?}"
        );
    }
    let mut ids: Vec<&str> = records
        .iter()
        .map(|r| r["eventID"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "each once");
    let status = ok(&server, "GetTrailStatus", json!({"Name": "guarded-trail"})).await;
    assert!(status.get("LatestDeliveryError").is_none(), "{status}");
    assert!(
        status.get("LatestDigestDeliveryError").is_none(),
        "{status}"
    );
}

#[tokio::test]
async fn list_public_keys_returns_the_current_key_before_any_digest() {
    let server = Server::start();
    let first = ok(&server, "ListPublicKeys", json!({})).await;
    let keys = first["PublicKeyList"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{first}");
    let now = chrono::Utc::now().timestamp() as f64;
    let k = &keys[0];
    assert!(k["ValidityStartTime"].as_f64().unwrap() <= now + 1.0);
    assert!(k["ValidityEndTime"].as_f64().unwrap() > now);
    assert_eq!(k["Fingerprint"].as_str().unwrap().len(), 32);
    let again = ok(&server, "ListPublicKeys", json!({})).await;
    assert_eq!(
        again["PublicKeyList"], first["PublicKeyList"],
        "the same key"
    );
    let (s, west) = server.ct_in("us-west-2", "ListPublicKeys", json!({})).await;
    assert_eq!(s, 200);
    let west = west["PublicKeyList"].as_array().unwrap();
    assert_eq!(west.len(), 1);
    assert_ne!(
        west[0]["Fingerprint"], k["Fingerprint"],
        "one key per region"
    );
}

/// A deleted trail whose bucket is deleted too gives up what it still owed (its last file,
/// its final digest) after one more attempt, instead of retrying it forever.
#[tokio::test]
async fn a_deleted_trail_whose_bucket_is_gone_gives_up_once() {
    let mut server = Server::start_with(&["--delivery-interval", "86400"]);
    server.bucket_for_trails("gone-bucket").await;
    let create = json!({"Name": "rolled-back", "S3BucketName": "gone-bucket", "EnableLogFileValidation": true});
    ok(&server, "CreateTrail", create).await;
    ok(&server, "StartLogging", json!({"Name": "rolled-back"})).await;
    ok(&server, "DescribeTrails", json!({})).await;
    let first = server.flush(&[]);
    assert_eq!(first["Failed"], 0, "{first}");
    ok(&server, "DescribeTrails", json!({})).await;
    ok(&server, "DeleteTrail", json!({"Name": "rolled-back"})).await;
    for key in keys(&server, "gone-bucket", "").await {
        let (s, body) = server
            .s3("DELETE", &format!("/gone-bucket/{key}"), b"")
            .await;
        assert_eq!(s, 204, "{body}");
    }
    let (s, body) = server.s3("DELETE", "/gone-bucket", b"").await;
    assert_eq!(s, 204, "{body}");
    let attempt = server.flush(&[]);
    assert!(attempt["Failed"].as_u64().unwrap() >= 1, "{attempt}");
    let after = server.flush(&[]);
    assert_eq!(after["Failed"], 0, "the deleted trail retried: {after}");
}
