//! `X-Amz-Target: CloudTrail_20131101.<Op>`, the short form the JavaScript v3, Rust, Go v2
//! and other Smithy-based SDKs send (issue 7 §1), is answered and recorded like the long
//! form botocore sends; an unknown target's error names what was received.
//!
//! The first two FAIL until `cairn-api`'s CloudTrail dispatch accepts the short form and names an
//! unknown target in its error (the fix in `crates/cairn-api/src/cloudtrail/mod.rs`).

use serde_json::{Value, json};

use crate::harness::*;

/// A CloudTrail call with `target` as the whole `X-Amz-Target` value.
async fn call_with_target(server: &Server, target: &str, body: Value) -> (u16, Value) {
    let req = sign(
        &server.addr,
        "us-east-1",
        "cloudtrail",
        ACCESS_KEY,
        SECRET,
        "POST",
        "/",
        vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amz-target".into(), target.into()),
        ],
        body.to_string().into_bytes(),
        chrono::Utc::now(),
    );
    let (status, headers, bytes) = server.send(req).await;
    assert!(headers.contains_key("x-amzn-requestid"));
    (status, serde_json::from_slice(&bytes).expect("JSON body"))
}

#[tokio::test]
async fn short_target_form_is_answered_and_recorded() {
    let server = Server::start();
    server.bucket_for_trails("short-target-bucket").await;
    let (status, created) = call_with_target(
        &server,
        "CloudTrail_20131101.CreateTrail",
        json!({"Name": "short-form", "S3BucketName": "short-target-bucket"}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(
        created["TrailARN"],
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/short-form"
    );
    let (status, described) =
        call_with_target(&server, "CloudTrail_20131101.DescribeTrails", json!({})).await;
    assert_eq!(status, 200, "{described}");
    assert_eq!(described["trailList"][0]["Name"], "short-form");

    // Both calls are in event history, found through the long form as well.
    let (status, page) = server
        .ct(
            "LookupEvents",
            json!({"LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "cloudtrail.amazonaws.com"}]}),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let names = event_names(&page);
    assert!(names.contains(&"CreateTrail".to_owned()), "{names:?}");
    assert!(names.contains(&"DescribeTrails".to_owned()), "{names:?}");
}

#[tokio::test]
async fn unknown_targets_are_refused_naming_what_was_sent() {
    let server = Server::start();
    for target in [
        "CloudTrail_20131101.NoSuchOperation",
        "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.NoSuchOperation",
    ] {
        let (status, v) = call_with_target(&server, target, json!({})).await;
        assert_eq!(
            (status, error_type(&v)),
            (400, "UnknownOperationException"),
            "{target}: {v}"
        );
        let message = v["message"].as_str().unwrap_or("");
        assert!(message.contains("NoSuchOperation"), "{target}: {v}");
    }
    // A target for another service, or another API version, is not a CloudTrail operation.
    for target in [
        "DynamoDB_20120810.ListTables",
        "CloudTrail_20991231.DescribeTrails",
    ] {
        let (status, v) = call_with_target(&server, target, json!({})).await;
        assert_eq!(
            (status, error_type(&v)),
            (400, "UnknownOperationException"),
            "{target}: {v}"
        );
    }
}

/// CloudTrail's model names its exceptions' text `Message`, and the Smithy-based SDKs fill a
/// typed exception (the Go SDK's `*types.TrailNotFoundException`) from that member alone: an
/// operation's error carries it there, not under `message`. FAILED before the fix in
/// `crates/cairn-api/src/cloudtrail/mod.rs` (found by compat/go).
#[tokio::test]
async fn operation_errors_carry_the_modeled_message_member() {
    let server = Server::start();
    let (status, v) = call_with_target(
        &server,
        "CloudTrail_20131101.GetTrailStatus",
        json!({"Name": "no-such-trail"}),
    )
    .await;
    assert_eq!(
        (status, error_type(&v)),
        (400, "TrailNotFoundException"),
        "{v}"
    );
    let message = v["Message"].as_str().unwrap_or("");
    assert!(message.contains("no-such-trail"), "{v}");
    assert!(v.get("message").is_none(), "{v}");
}
