//! Console escapes found by outside tester recheck31: the trail page's data-event selector
//! values and the log-file browser's names were shown raw, so a planted
//! `x\u202Egpj.json.gz` read as `xzg.nosj.jpg` in the very view used to inspect log files.

use serde_json::json;

use crate::console::Browser;
use crate::harness::{ACCESS_KEY, SECRET, Server};

#[tokio::test]
async fn selector_values_and_log_file_names_show_reordering_characters_as_escapes() {
    let server = Server::start();
    server.bucket_for_trails("bidi-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "bidi", "S3BucketName": "bidi-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let (s, out) = server
        .ct(
            "PutEventSelectors",
            json!({"TrailName": "bidi", "EventSelectors": [{"DataResources": [
                {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bidi-logs/x\u{202E}gpj.exe"]}]}]}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let folder = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/05/";
    let (s, out) = server
        .s3(
            "PUT",
            &format!("/bidi-logs/{folder}x%E2%80%AEgpj.json.gz"),
            b"planted",
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (status, _, page) = b.get("/console/trails/bidi").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("bidi-logs/x\\u202Egpj.exe"), "{page}");
    // Shown nowhere raw but in the editor's field, whose value must come back unchanged.
    let field = "<textarea class=\"wide\" id=\"s3_buckets\"";
    let shown = page.split(field).next().unwrap_or_default();
    assert!(!shown.contains('\u{202E}'), "{page}");
    let encoded: String = form_urlencoded::byte_serialize(folder.as_bytes()).collect();
    let (status, _, page) = b
        .get(&format!("/console/trails/bidi/logs?folder={encoded}"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("x\\u202Egpj.json.gz"), "{page}");
    assert!(!page.contains('\u{202E}'), "{page}");
}

/// recheck31b: an advanced selector's name and the trail's S3 key prefix were still shown raw.
#[tokio::test]
async fn advanced_selector_names_and_prefixes_show_reordering_characters_as_escapes() {
    let server = Server::start();
    server.bucket_for_trails("bidi2-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "bidi2", "S3BucketName": "bidi2-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let (s, out) = server
        .ct(
            "PutEventSelectors",
            json!({"TrailName": "bidi2", "AdvancedEventSelectors": [{
                "Name": "x\u{202E}gpj.exe",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (status, _, page) = b.get("/console/trails/bidi2").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("x\\u202Egpj.exe"), "{page}");
    let field = "<textarea class=\"wide\" id=\"s3_buckets\"";
    let shown = page.split(field).next().unwrap_or_default();
    assert!(!shown.contains('\u{202E}'), "{page}");
}
