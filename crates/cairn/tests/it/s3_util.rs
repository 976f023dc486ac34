//! Helpers the S3 integration tests share: signing with extra headers or an unsigned
//! payload, IAM users and requests signed as them, a trail that selects a bucket's data
//! events, and the stored data records.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::harness::*;

/// A signed S3 request with extra headers (the payload hash is the body's SHA-256).
pub fn s3_request(
    addr: &SocketAddr,
    method: &str,
    path_and_query: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Signed {
    sign(
        addr,
        "us-east-1",
        "s3",
        ACCESS_KEY,
        SECRET,
        method,
        path_and_query,
        headers,
        body,
        chrono::Utc::now(),
    )
}

/// Creates the IAM user `name` (no policy of its own) with an access key; returns its
/// (access key id, secret).
pub fn new_user(server: &Server, name: &str) -> (String, String) {
    server.admin_iam(&["create-user", name]);
    let key = server.admin_iam(&["create-access-key", name]);
    (
        key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned(),
        key["AccessKey"]["SecretAccessKey"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// An S3 request signed with `who`'s (access key id, secret), with extra headers; the status
/// and the body as text.
pub async fn s3_as(
    server: &Server,
    who: &(String, String),
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let headers = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let req = sign(
        &server.addr,
        "us-east-1",
        "s3",
        &who.0,
        &who.1,
        method,
        path,
        headers,
        body.to_vec(),
        chrono::Utc::now(),
    );
    let (status, _, bytes) = server.send(req).await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A response header's value as text ("" when absent).
pub fn header<'a>(m: &'a reqwest::header::HeaderMap, n: &str) -> &'a str {
    m.get(n).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// A signed S3 request whose body is not covered (`UNSIGNED-PAYLOAD`), as SDKs send large
/// uploads; signing then costs nothing in proportion to the body.
pub fn s3_unsigned(addr: &SocketAddr, method: &str, path_and_query: &str, body: Vec<u8>) -> Signed {
    let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let mut headers = vec![
        ("host".to_owned(), addr.to_string()),
        (
            "x-amz-content-sha256".to_owned(),
            "UNSIGNED-PAYLOAD".to_owned(),
        ),
        ("x-amz-date".to_owned(), amz_date.clone()),
    ];
    let names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let canonical = cairn_sigv4::canonical_request(
        &cairn_sigv4::RequestParts {
            method,
            raw_path: path,
            raw_query: query,
            headers: &headers,
            payload_hash: "UNSIGNED-PAYLOAD",
        },
        &names,
        true,
    );
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let sig = cairn_sigv4::signature(
        &cairn_sigv4::signing_key(SECRET, date, "us-east-1", "s3"),
        &cairn_sigv4::string_to_sign(&amz_date, &scope, &canonical),
    );
    headers.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, SignedHeaders={}, Signature={sig}",
            names.join(";")
        ),
    ));
    Signed {
        method: method.into(),
        path_and_query: path_and_query.into(),
        headers,
        body,
    }
}

/// Creates a logging trail whose data selector takes `bucket`'s object events, so they are
/// recorded whether or not data events nothing selects are.
pub async fn select_data_events(server: &Server, bucket: &str) {
    let logs = format!("{bucket}-trail-logs");
    server.bucket_for_trails(&logs).await;
    let trail = format!("{bucket}-data");
    let (s, v) = server
        .ct("CreateTrail", json!({"Name": trail, "S3BucketName": logs}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = server
        .ct(
            "PutEventSelectors",
            json!({"TrailName": trail, "EventSelectors": [{
                "ReadWriteType": "All", "IncludeManagementEvents": true,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": [format!("arn:aws:s3:::{bucket}/")]}]}]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = server.ct("StartLogging", json!({"Name": trail})).await;
    assert_eq!(s, 200, "{v}");
}

/// Every stored record of a category, from `cairn events` on the data dir.
pub fn stored_records(server: &Server, category: &str) -> Vec<Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["events", "--data-dir"])
        .arg(server.data_dir())
        .args(["--category", category])
        .output()
        .expect("cairn events");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON record"))
        .collect()
}

/// Percent-encodes an object key for a request path, byte for byte (only unreserved
/// characters and `/` stay as they are; dots are encoded too, so no client or server path
/// normalisation can treat `..` as a segment).
pub fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
