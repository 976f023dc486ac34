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

/// console8: the integrity check verified each digest it listed on its own, so a digest
/// deleted from the middle of the chain went unnoticed ("8/8 digest files valid"); and a
/// trail opened by its ARN found no digest at all.
#[tokio::test]
async fn the_integrity_check_reports_a_deleted_digest_and_works_by_arn() {
    let mut server = Server::start();
    server.bucket_for_trails("chain-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "chain", "S3BucketName": "chain-logs", "EnableLogFileValidation": true}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let arn = out["TrailARN"].as_str().unwrap().to_owned();
    server.ct("StartLogging", json!({"Name": "chain"})).await;
    let t0 = chrono::Utc::now().timestamp();
    for hour in 1..=3 {
        server.ct("DescribeTrails", json!({})).await;
        server.flush(&["--now", &(t0 + hour * 3700).to_string()]);
    }
    let (_, listing) = server
        .s3(
            "GET",
            "/chain-logs?list-type=2&prefix=AWSLogs/123456789012/CloudTrail-Digest/",
            b"",
        )
        .await;
    let digests: Vec<&str> = listing
        .split("<Key>")
        .skip(1)
        .filter_map(|k| k.split("</Key>").next())
        .collect();
    assert!(digests.len() >= 3, "{listing}");
    let middle = digests[1].to_owned();
    let (s, out) = server
        .s3("DELETE", &format!("/chain-logs/{middle}"), b"")
        .await;
    assert_eq!(s, 204, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let fmt = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    };
    let (start, end) = (fmt(t0 - 3600), fmt(t0 + 4 * 3700));
    let encoded: String = form_urlencoded::byte_serialize(arn.as_bytes()).collect();
    for trail in ["chain".to_owned(), encoded] {
        b.get(&format!("/console/trails/{trail}/logs")).await;
        let csrf = b.csrf.clone();
        let (status, _, page) = b
            .post(
                &format!("/console/trails/{trail}/logs/validate"),
                &[("csrf", &csrf), ("start", &start), ("end", &end)],
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let total = digests.len();
        assert!(
            page.contains(&format!("{}/{total} digest files valid", total - 1)),
            "{trail}: {page}"
        );
        assert!(page.contains(&middle), "{trail}: {page}");
    }
}

/// console8: the sign-in's double-submit token took any value in both places, even an empty
/// one; only a token of the form the sign-in page issues is taken now.
#[tokio::test]
async fn a_planted_sign_in_token_is_refused() {
    let server = Server::start();
    for planted in ["", "a", "zz"] {
        let mut b = Browser::new(&server);
        b.cookies.push(("cairn_signin".into(), planted.into()));
        let (status, _, page) = b
            .post(
                "/console/signin",
                &[
                    ("csrf", planted),
                    ("access_key_id", ACCESS_KEY),
                    ("secret_access_key", SECRET),
                    ("region", "us-east-1"),
                ],
            )
            .await;
        assert_eq!(status, 403, "{planted:?}: {page}");
        assert!(page.contains("The sign-in form expired"), "{page}");
    }
    // The page's own token still signs in.
    let mut b = Browser::new(&server);
    let (status, _, page) = b.sign_in(ACCESS_KEY, SECRET).await;
    assert_eq!(status, 303, "{page}");
}
