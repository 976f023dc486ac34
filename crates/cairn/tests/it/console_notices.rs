//! What a client cannot choose in the console: a form's origin is compared by scheme, host
//! and port; `LoginTo` is never the client's `Host`; the trail page's notices are signed for
//! the session and trail. And the console's answers to bad input: a failed log file download
//! is the error page with its status, a check range or lookup attribute that is not one is
//! the API's error.

use serde_json::json;

use crate::console::{Browser, lookup};
use crate::console_fixes::user_with;
use crate::harness::{ACCESS_KEY, SECRET, Server};

async fn trail(server: &Server, name: &str) {
    server.bucket_for_trails("notice-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": name, "S3BucketName": "notice-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
}

/// Posts `fields` (with the session's token) to `path`; the status and `Location`.
async fn post(b: &mut Browser, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let csrf = b.csrf.clone();
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let (status, headers, _) = b.post(path, &form).await;
    let location = headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location)
}

fn set_origin(b: &mut Browser, origin: &str) {
    b.headers.retain(|(k, _)| k != "origin");
    b.headers.push(("origin".to_owned(), origin.to_owned()));
}

#[tokio::test]
async fn a_forms_origin_must_match_scheme_host_and_port() {
    let server = Server::start();
    trail(&server, "origins").await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails/origins").await;
    let port = server.addr.port();
    let tag = [("op", "add"), ("key", "o"), ("value", "v")];
    for (origin, want) in [
        (format!("https://127.0.0.1:{port}"), 403),
        (format!("HTTPS://127.0.0.1:{port}"), 403),
        (format!("http://127.0.0.1:{}", port.wrapping_add(1)), 403),
        (format!("HTTP://127.0.0.1:{port}"), 303),
        (format!("http://127.0.0.1:{port}"), 303),
    ] {
        set_origin(&mut b, &origin);
        let (status, _) = post(&mut b, "/console/trails/origins/tags", &tag).await;
        assert_eq!(status, want, "{origin}");
    }

    // Behind a trusted TLS proxy the origin is https and the forwarded host.
    let proxied = Server::start_with(&["--trusted-proxies", "127.0.0.1/32"]);
    for (origin, want) in [
        ("http://cairn.example", 403),
        ("https://other.example", 403),
        ("https://cairn.example", 303),
    ] {
        let mut b = Browser::new(&proxied);
        b.headers.extend([
            ("x-forwarded-proto".to_owned(), "https".to_owned()),
            ("x-forwarded-host".to_owned(), "cairn.example".to_owned()),
            ("origin".to_owned(), origin.to_owned()),
        ]);
        let (status, _, _) = b.sign_in(ACCESS_KEY, SECRET).await;
        assert_eq!(status, want, "{origin}");
    }
}

/// The `LoginTo` of the latest ConsoleLogin.
async fn login_to(server: &Server) -> String {
    lookup(server, "EventName", "ConsoleLogin").await[0]["additionalEventData"]["LoginTo"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn login_to_is_this_console_not_the_clients_host() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    b.headers.extend([
        ("host".to_owned(), "evil.example".to_owned()),
        ("origin".to_owned(), "http://evil.example".to_owned()),
        ("x-forwarded-host".to_owned(), "evil.example".to_owned()),
    ]);
    b.sign_in(ACCESS_KEY, SECRET).await;
    assert_eq!(
        login_to(&server).await,
        format!("http://{}/console/", server.addr)
    );

    // A trusted proxy's forwarded host is the address the browser used.
    let proxied = Server::start_with(&["--trusted-proxies", "127.0.0.1/32"]);
    let mut b = Browser::new(&proxied);
    b.headers.extend([
        ("x-forwarded-proto".to_owned(), "https".to_owned()),
        ("x-forwarded-host".to_owned(), "cairn.example".to_owned()),
        ("origin".to_owned(), "https://cairn.example".to_owned()),
    ]);
    assert_eq!(b.sign_in(ACCESS_KEY, SECRET).await.0, 303);
    assert_eq!(login_to(&proxied).await, "https://cairn.example/console/");
}

#[tokio::test]
async fn the_trail_pages_notices_are_signed_for_the_session_and_trail() {
    let server = Server::start();
    trail(&server, "noted").await;
    trail(&server, "other").await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails/noted").await;
    let (status, location) = post(&mut b, "/console/trails/noted/start", &[]).await;
    assert_eq!(status, 303);
    assert!(
        location.starts_with("/console/trails/noted?done=started&sig="),
        "{location}"
    );
    let (_, _, page) = b.get(&location).await;
    assert!(page.contains("Logging started."), "{page}");

    // A link anyone can write shows nothing, nor does this one for another session or trail.
    let (_, _, page) = b.get("/console/trails/noted?done=stopped").await;
    assert!(!page.contains("Logging stopped."), "{page}");
    let (_, _, page) = b.get("/console/trails/noted?done=started&sig=00").await;
    assert!(!page.contains("Logging started."), "{page}");
    let (_, _, page) = b
        .get(&location.replace("/trails/noted?", "/trails/other?"))
        .await;
    assert!(!page.contains("Logging started."), "{page}");
    let mut other = Browser::new(&server);
    other.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, page) = other.get(&location).await;
    assert!(!page.contains("Logging started."), "{page}");
}

#[tokio::test]
async fn failed_downloads_bad_ranges_and_bad_attributes_show_the_apis_error() {
    let server = Server::start();
    trail(&server, "files").await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    for (path, status, code) in [
        (
            "/console/trails/files/logs/file?key=AWSLogs/none.json.gz",
            404,
            "NoSuchKey",
        ),
        (
            "/console/trails/missing/logs/file?key=x",
            404,
            "TrailNotFoundException",
        ),
    ] {
        let (got, headers, body) = b.get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(body.contains(code), "{path}: {body}");
    }
    let reader = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:*","Resource":"*"}]}"#;
    let (id, secret) = user_with(&server, "nos3", reader).await;
    let mut denied = Browser::new(&server);
    denied.sign_in(&id, &secret).await;
    let (status, headers, body) = denied
        .get("/console/trails/files/logs/file?key=AWSLogs/x.json.gz")
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("AccessDenied: "), "{body}");

    // The integrity check's range is read as Event history reads one.
    b.get("/console/trails/files/logs").await;
    let (status, _, _) = b.get("/console/trails/files/logs").await;
    assert_eq!(status, 200);
    let csrf = b.csrf.clone();
    let (status, _, body) = b
        .post(
            "/console/trails/files/logs/validate",
            &[("csrf", &csrf), ("start", "not-a-time"), ("end", "")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("InvalidTimeRangeException"), "{body}");
    assert!(
        body.contains("value=\"not-a-time\""),
        "kept as typed: {body}"
    );

    // An attribute LookupEvents does not have is its error, not every event.
    let (status, _, body) = b.get("/console/events?attr=Bogus&value=x").await;
    assert_eq!(status, 200);
    assert!(body.contains("InvalidLookupAttributesException"), "{body}");
    assert!(!body.contains("ConsoleLogin"), "nothing listed: {body}");
    let (status, _, body) = b
        .get("/console/events/download?format=json&attr=Bogus&value=x")
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("InvalidLookupAttributesException"), "{body}");
    assert!(
        body.contains("<!doctype html>"),
        "the console's error page: {body}"
    );
}

/// console4: a denied Event history download answered 400 text; it is the console's error
/// page with the denial's 403, as the log-file download answers.
#[tokio::test]
async fn a_denied_event_download_is_the_403_error_page() {
    let server = Server::start();
    let (id, secret) = user_with(
        &server,
        "nolookup",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:DescribeTrails","Resource":"*"}]}"#,
    )
    .await;
    let mut b = Browser::new(&server);
    b.sign_in(&id, &secret).await;
    let (status, headers, body) = b.get("/console/events/download?format=csv").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{headers:?}"
    );
    assert!(body.contains("AccessDeniedException"), "{body}");
}

/// console5: a download that stops before the filter's last match (it reads at most 5,000
/// events of the first attribute) says so in its file name, which the browser shows; a
/// download of every match has the plain name.
#[tokio::test]
async fn a_download_that_stops_early_is_named_partial() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["bench", "populate", "--events", "5200", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let server = Server::start_in_with_env(dir, &[]);
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let name = |headers: &reqwest::header::HeaderMap| {
        headers["content-disposition"].to_str().unwrap().to_owned()
    };
    let (status, headers, body) = b
        .get("/console/events/download?format=json&readonly=show&q=no-event-says-this")
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(name(&headers).contains("_partial.json"), "{headers:?}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["Records"],
        json!([])
    );
    let (status, headers, body) = b
        .get("/console/events/download?format=csv&attr=EventName&value=ConsoleLogin")
        .await;
    assert_eq!(status, 200, "{body}");
    let disposition = name(&headers);
    assert!(
        disposition.ends_with(".csv\"") && !disposition.contains("_partial"),
        "{disposition}"
    );
    assert!(body.contains("ConsoleLogin"), "{body}");
}

/// console9: the integrity check verified the first 200 digests of a range and called the
/// range valid; it read whole days around the range; a digest it was refused read as "Not
/// found". More than 200 digests in the range is refused; only the range's digests are
/// read; a refusal is "Not read".
#[tokio::test]
async fn the_integrity_check_never_checks_a_range_in_part() {
    let server = Server::start();
    trail(&server, "many").await;
    let now = chrono::Utc::now();
    let folder = format!(
        "/notice-logs/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/{}",
        now.format("%Y/%m/%d")
    );
    let digest = |at: chrono::DateTime<chrono::Utc>| {
        format!(
            "{folder}/123456789012_CloudTrail-Digest_us-east-1_many_us-east-1_{}.json.gz",
            at.format("%Y%m%dT%H%M%SZ")
        )
    };
    for i in 0..201 {
        let at = now - chrono::Duration::seconds(i);
        assert_eq!(server.s3("PUT", &digest(at), b"x").await.0, 200);
    }
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails/many/logs").await;
    let csrf = b.csrf.clone();
    let form = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        (
            from.format("%Y-%m-%dT%H:%M:%S").to_string(),
            to.format("%Y-%m-%dT%H:%M:%S").to_string(),
        )
    };
    let (start, end) = form(now - chrono::Duration::seconds(600), now);
    let (status, _, body) = b
        .post(
            "/console/trails/many/logs/validate",
            &[("csrf", &csrf), ("start", &start), ("end", &end)],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("more than 200 digest files: check a shorter range"),
        "{body}"
    );
    // A short range reads only its own digests (the 201 are in the same day folder).
    let (start, end) = form(
        now - chrono::Duration::seconds(2),
        now - chrono::Duration::seconds(1),
    );
    let (_, _, body) = b
        .post(
            "/console/trails/many/logs/validate",
            &[("csrf", &csrf), ("start", &start), ("end", &end)],
        )
        .await;
    // (those ending from the start to an hour after the end: now - 2, now - 1, now)
    assert!(body.contains("0/3 digest files valid"), "{body}");
    // A user refused the digests sees them not read, not missing.
    let reader = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:*","s3:ListBucket"],"Resource":"*"}]}"#;
    let (id, secret) = user_with(&server, "nogets", reader).await;
    let mut denied = Browser::new(&server);
    denied.sign_in(&id, &secret).await;
    denied.get("/console/trails/many/logs").await;
    let csrf = denied.csrf.clone();
    let (_, _, body) = denied
        .post(
            "/console/trails/many/logs/validate",
            &[("csrf", &csrf), ("start", &start), ("end", &end)],
        )
        .await;
    assert!(body.contains("Not read"), "{body}");
    assert!(!body.contains("Not found"), "{body}");
}
