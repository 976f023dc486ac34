//! Hostile and careless callers at the edge (issue 7 §1, §3): fake regions, unsigned or
//! tampered payloads, unsigned `x-amz-*` headers, presigned-URL limits, idle and slow sockets,
//! SNS endpoints aimed inside, secrets in logs, and errors in each protocol's own envelope.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use cairn_sigv4::{RequestParts, canonical_request, signature, signing_key, string_to_sign};
use serde_json::json;

use crate::harness::{ACCESS_KEY, SECRET, Server, error_type, send_with, sign, sign_json, sign_s3};

#[tokio::test]
async fn regions_that_do_not_exist_are_refused_by_every_protocol() {
    let server = Server::start();
    let (status, body) = server.ct_in("xx-nowhere-7", "ListTrails", json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(error_type(&body), "InvalidSignatureException");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Credential should be scoped to a valid region, not 'xx-nowhere-7'"),
        "{body}"
    );
    let req = sign_s3(
        &server.addr,
        "xx-nowhere-7",
        "PUT",
        "/fake-region-bucket",
        Vec::new(),
        chrono::Utc::now(),
    );
    let (status, _, body) = server.send(req).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("<Code>AuthorizationHeaderMalformed</Code>"),
        "{text}"
    );
    assert!(text.contains("xx-nowhere-7"), "{text}");
    // Nothing was created and nothing recorded in that non-region.
    let (status, _) = server.s3("HEAD", "/fake-region-bucket", b"").await;
    assert_eq!(status, 404);
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["events", "--category", "Management", "--data-dir"])
        .arg(server.data_dir())
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("xx-nowhere-7"));
}

#[tokio::test]
async fn json_bodies_must_be_covered_by_the_signature() {
    let server = Server::start();
    // UNSIGNED-PAYLOAD is S3's alone.
    let mut req = sign(
        &server.addr,
        "us-east-1",
        "cloudtrail",
        ACCESS_KEY,
        SECRET,
        "POST",
        "/",
        vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            (
                "x-amz-target".into(),
                "CloudTrail_20131101.DeleteTrail".into(),
            ),
            ("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()),
        ],
        br#"{"Name":"a"}"#.to_vec(),
        chrono::Utc::now(),
    );
    let (status, body) = server.send_json(req).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "InvalidSignatureException")
    );
    // A body changed in transit no longer matches its signature.
    req = sign_json(
        &server.addr,
        "us-east-1",
        ACCESS_KEY,
        SECRET,
        "GetTrail",
        br#"{"Name":"a"}"#.to_vec(),
        chrono::Utc::now(),
    );
    req.body = br#"{"Name":"b"}"#.to_vec();
    let (status, body) = server.send_json(req).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "InvalidSignatureException")
    );
}

#[tokio::test]
async fn every_amz_header_must_be_signed() {
    let server = Server::start();
    let mut req = sign_json(
        &server.addr,
        "us-east-1",
        ACCESS_KEY,
        SECRET,
        "ListTrails",
        b"{}".to_vec(),
        chrono::Utc::now(),
    );
    req.headers.push(("x-amz-extra".into(), "injected".into()));
    let (status, body) = server.send_json(req).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "'x-amz-extra' must be a 'SignedHeader' in the AWS Authorization."
    );
    // The operation itself cannot be swapped after signing.
    let mut req = sign(
        &server.addr,
        "us-east-1",
        "cloudtrail",
        ACCESS_KEY,
        SECRET,
        "POST",
        "/",
        vec![("content-type".into(), "application/x-amz-json-1.1".into())],
        b"{}".to_vec(),
        chrono::Utc::now(),
    );
    req.headers.push((
        "x-amz-target".into(),
        "CloudTrail_20131101.StopLogging".into(),
    ));
    let (status, body) = server.send_json(req).await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "InvalidSignatureException")
    );
    // S3 refuses unsigned x-amz-* headers too.
    let mut req = sign_s3(
        &server.addr,
        "us-east-1",
        "PUT",
        "/unsigned-hdr-bucket",
        Vec::new(),
        chrono::Utc::now(),
    );
    req.headers.push(("x-amz-acl".into(), "public-read".into()));
    let (status, _, body) = server.send(req).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("not signed"), "{text}");
}

/// A SigV4 presigned GET for `path` valid `expires` seconds from `when`.
fn presign(
    addr: &std::net::SocketAddr,
    path: &str,
    expires: i64,
    when: chrono::DateTime<chrono::Utc>,
) -> String {
    let amz_date = when.format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let credential = format!("{ACCESS_KEY}/{scope}").replace('/', "%2F");
    let query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}&X-Amz-Date={amz_date}&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host"
    );
    let headers = vec![("host".to_owned(), addr.to_string())];
    let canonical = canonical_request(
        &RequestParts {
            method: "GET",
            raw_path: path,
            raw_query: &query,
            headers: &headers,
            payload_hash: "UNSIGNED-PAYLOAD",
        },
        &["host".to_owned()],
        true,
    );
    let sig = signature(
        &signing_key(SECRET, date, "us-east-1", "s3"),
        &string_to_sign(&amz_date, &scope, &canonical),
    );
    format!("{path}?{query}&X-Amz-Signature={sig}")
}

#[tokio::test]
async fn presigned_urls_have_aws_limits() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/presign-bucket", b"").await.0, 200);
    assert_eq!(server.s3("PUT", "/presign-bucket/k", b"v").await.0, 200);
    let now = chrono::Utc::now();
    let get = |url: String| {
        let client = server.client.clone();
        let base = server.url("");
        async move {
            let resp = client.get(format!("{base}{url}")).send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let (status, body) = get(presign(&server.addr, "/presign-bucket/k", 3600, now)).await;
    assert_eq!((status, body.as_str()), (200, "v"));
    let (status, body) = get(presign(&server.addr, "/presign-bucket/k", 604_801, now)).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("X-Amz-Expires must be less than a week"),
        "{body}"
    );
    let future = now + chrono::Duration::hours(2);
    let (status, body) = get(presign(&server.addr, "/presign-bucket/k", 60, future)).await;
    assert_eq!(status, 403, "{body}");
    let sigv2 = format!(
        "/presign-bucket/k?AWSAccessKeyId={ACCESS_KEY}&Expires={}&Signature=abc",
        now.timestamp() + 400 * 86_400
    );
    let (status, body) = get(sigv2).await;
    assert_eq!(status, 400, "{body}");
}

/// S3 objects come from the console's origin, so an HTML object must not run script there
/// (it could read the console's CSRF token and act as whoever is signed in).
#[tokio::test]
async fn stored_html_is_sandboxed_and_the_console_keeps_its_own_policy() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/html-bucket", b"").await.0, 200);
    let page = b"<script>fetch('/console/trails')</script>";
    let req = crate::s3_util::s3_request(
        &server.addr,
        "PUT",
        "/html-bucket/report.html",
        vec![("content-type".into(), "text/html".into())],
        page.to_vec(),
    );
    assert_eq!(server.send(req).await.0, 200);
    let url = presign(
        &server.addr,
        "/html-bucket/report.html",
        600,
        chrono::Utc::now(),
    );
    let resp = server.client.get(server.url(&url)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let h = resp.headers();
    assert_eq!(crate::s3_util::header(h, "content-type"), "text/html");
    assert_eq!(
        crate::s3_util::header(h, "content-security-policy"),
        "sandbox"
    );
    assert_eq!(
        crate::s3_util::header(h, "x-content-type-options"),
        "nosniff"
    );
    let console = server
        .client
        .get(server.url("/console/signin"))
        .send()
        .await
        .unwrap();
    let csp = crate::s3_util::header(console.headers(), "content-security-policy").to_owned();
    assert!(csp.contains("default-src") && csp != "sandbox", "{csp}");
}

#[test]
fn silent_and_slow_connections_are_closed() {
    let server = Server::start_with(&["--header-timeout-secs", "1", "--idle-timeout-secs", "2"]);
    let wait_for_close = |mut s: TcpStream| {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut buf = [0u8; 512];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    };
    // A connection that never sends a byte.
    let silent = TcpStream::connect(server.addr).unwrap();
    assert!(wait_for_close(silent), "an idle socket is closed");
    // A connection that trickles its headers.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    assert!(wait_for_close(slow), "a slow header is cut off");
    // The server still answers afterwards.
    let mut ok = TcpStream::connect(server.addr).unwrap();
    ok.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    ok.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A body dribbled a byte at a time (slowloris) moves bytes, so the idle deadline never
/// fires; the body-rate floor ends the request and frees the connection.
#[test]
fn a_dribbled_body_is_cut_off() {
    let server = Server::start_with(&["--header-timeout-secs", "1", "--min-body-rate", "1000"]);
    let answer = dribble(
        server.addr,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: CloudTrail_20131101.ListTrails\r\nContent-Length: 100000\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("RequestTimeout"), "{answer}");
}

#[tokio::test]
async fn sns_endpoints_cannot_aim_at_metadata_or_the_server_itself() {
    let server = Server::start();
    let (status, body) = server
        .query("sns", "Action=CreateTopic&Name=t&Version=2010-03-31")
        .await;
    assert_eq!(status, 200, "{body}");
    let topic = "arn:aws:sns:us-east-1:123456789012:t";
    for endpoint in [
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00:ec2::254]/".to_owned(),
        format!("http://{}/", server.addr),
    ] {
        let params = form_urlencoded::Serializer::new(String::new())
            .append_pair("Action", "Subscribe")
            .append_pair("TopicArn", topic)
            .append_pair("Protocol", "http")
            .append_pair("Endpoint", &endpoint)
            .finish();
        let (status, text) = server.query("sns", &params).await;
        assert_eq!(status, 400, "{endpoint}: {text}");
        assert!(text.contains("<Code>InvalidParameter</Code>"), "{text}");
    }
    // A host name that does not resolve is accepted, as SNS accepts it: the subscription
    // waits for a confirmation that can reach it (a delivery checks the host again).
    let params = form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "Subscribe")
        .append_pair("TopicArn", topic)
        .append_pair("Protocol", "https")
        .append_pair("Endpoint", "https://hooks.cairn-test.invalid/alert")
        .finish();
    let (status, text) = server.query("sns", &params).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("pending confirmation"), "{text}");
}

/// Sends `head`, then the body a byte at a time while no answer comes (each read waits up to
/// 100 ms; each miss sends one more byte); returns the answer.
pub(crate) fn dribble(addr: std::net::SocketAddr, head: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    for _ in 0..300 {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if !answer.is_empty() || s.write_all(b"x").is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Starts `serve` on a data dir in `dir` with the access log on and `CAIRN_LOG=log`, its log
/// going to `server.log` there: the child, its address and the log's path.
fn serve_logging(
    dir: &std::path::Path,
    log: &str,
) -> (
    std::process::Child,
    std::net::SocketAddr,
    std::path::PathBuf,
) {
    let log_path = dir.join("server.log");
    let file = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--access-log",
            "--data-dir",
        ])
        .arg(dir.join("data"))
        .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
        .env("CAIRN_LOG", log)
        .stdout(Stdio::piped())
        .stderr(file)
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        if let Some(rest) = line.trim().strip_prefix("cairn listening on http://") {
            break rest.parse().unwrap();
        }
    };
    (child, addr, log_path)
}

#[test]
fn secrets_never_reach_the_logs_even_at_trace() {
    // s3s named too: its logging writes whole requests, so it stays off (ops5).
    secrets_stay_out_of_logs_with("trace,s3s=trace");
}

/// ops6: a span directive turned s3s's events inside the span back on (its request dumps,
/// and on a bad signature the signature it expected).
#[test]
fn a_span_directive_does_not_turn_s3s_logging_back_on() {
    secrets_stay_out_of_logs_with("info,[call]=trace,[request]=trace");
}

fn secrets_stay_out_of_logs_with(filter: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, log_path) = serve_logging(dir.path(), filter);
    let client = reqwest::Client::new();
    let base = format!("http://{addr}/");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut signatures = Vec::new();
    rt.block_on(async {
        let req = sign_json(
            &addr,
            "us-east-1",
            ACCESS_KEY,
            SECRET,
            "ListTrails",
            b"{}".to_vec(),
            chrono::Utc::now(),
        );
        signatures.push(signature_of(&req.headers));
        send_with(&client, &base, req).await;
        let req = sign_s3(
            &addr,
            "us-east-1",
            "PUT",
            "/log-bucket",
            Vec::new(),
            chrono::Utc::now(),
        );
        signatures.push(signature_of(&req.headers));
        send_with(&client, &base, req).await;
        let url = presign(&addr, "/log-bucket/missing", 60, chrono::Utc::now());
        signatures.push(url.rsplit('=').next().unwrap().to_owned());
        let _ = client
            .get(format!("http://{addr}{url}"))
            .send()
            .await
            .unwrap();
        // A wrong secret, too.
        let req = sign(
            &addr,
            "us-east-1",
            "cloudtrail",
            ACCESS_KEY,
            "not-the-secret",
            "POST",
            "/",
            vec![(
                "x-amz-target".into(),
                "CloudTrail_20131101.ListTrails".into(),
            )],
            b"{}".to_vec(),
            chrono::Utc::now(),
        );
        signatures.push(signature_of(&req.headers));
        send_with(&client, &base, req).await;
    });
    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(logged.len() > 1000, "trace logging produced output");
    assert!(
        !filter.contains("s3s") || logged.contains("CAIRN_LOG names s3s: its logging stays off"),
        "the operator is told"
    );
    assert!(
        !logged
            .lines()
            .any(|l| l.contains(" s3s::") || l.contains("\"target\":\"s3s")),
        "s3s logged: {}",
        logged
            .lines()
            .find(|l| l.contains("s3s::"))
            .unwrap_or_default()
    );
    assert!(logged.contains("cairn::access"), "the access log is on");
    // One token per field: the service, then the operation.
    assert!(
        logged.contains("service=cloudtrail operation=ListTrails"),
        "{}",
        logged
            .lines()
            .find(|l| l.contains("cairn::access"))
            .unwrap_or_default()
    );
    // Who asked: the client's address and the access key id the request names.
    assert!(
        logged.lines().any(|l| l.contains("cairn::access")
            && l.contains("operation=ListTrails")
            && l.contains("source_ip=127.0.0.1")
            && l.contains(&format!("access_key_id={ACCESS_KEY}"))),
        "{}",
        logged
            .lines()
            .filter(|l| l.contains("cairn::access"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!logged.contains(SECRET), "the secret key leaked");
    assert!(!logged.contains("not-the-secret"));
    for sig in &signatures {
        assert!(!logged.contains(sig.as_str()), "a signature leaked: {sig}");
    }
    assert!(
        !logged
            .to_ascii_lowercase()
            .contains("aws4-hmac-sha256 credential")
    );
    assert!(!logged.contains("X-Amz-Signature"));
}

fn signature_of(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .and_then(|(_, v)| v.rsplit("Signature=").next())
        .unwrap()
        .to_owned()
}

/// Logs that cannot be written (the reader of stderr went away) lose lines, never calls or
/// delivery: a failed log write used to panic the request (no response, with `--access-log`)
/// and the delivery loop (the trail silently stopped delivering).
#[tokio::test]
async fn a_closed_log_pipe_loses_log_lines_not_calls_or_delivery() {
    let server = Server::start_with_broken_logs(&["--access-log", "--delivery-interval", "1"]);
    server.bucket_for_trails("pipe-bucket").await;
    let (s, e) = server
        .ct(
            "CreateTrail",
            json!({"Name": "piped", "S3BucketName": "pipe-bucket"}),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    for _ in 0..3 {
        assert_eq!(server.ct("DescribeTrails", json!({})).await.0, 200);
    }
    assert_eq!(
        server.ct("StartLogging", json!({"Name": "piped"})).await.0,
        200
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, status) = server.ct("GetTrailStatus", json!({"Name": "piped"})).await;
        if status.get("LatestDeliveryTime").is_some() {
            assert!(status.get("LatestDeliveryError").is_none(), "{status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no delivery: {status}"
        );
        tokio::task::yield_now().await;
        server.ct("ListTrails", json!({})).await;
    }
}

/// A server whose stdout and stderr cannot be written (here /dev/full: every write fails
/// with ENOSPC) still starts and serves; it used to exit 101 on its first `println!`.
#[tokio::test]
async fn a_full_stdout_does_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("CAIRN_LOG", "info")
        .stdout(full())
        .stderr(full())
        .spawn()
        .unwrap();
    let endpoint = dir.path().join("ENDPOINT");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(&endpoint) {
            break url.lines().next().unwrap_or_default().trim().to_owned();
        }
        assert!(child.try_wait().unwrap().is_none(), "the server exited");
        assert!(std::time::Instant::now() < deadline, "never listened");
        std::thread::sleep(Duration::from_millis(20));
    };
    let health = reqwest::get(format!("{url}/health")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `--access-log` writes its lines whatever `CAIRN_LOG` says (ops5: `CAIRN_LOG=warn` hid them
/// all without a word).
#[test]
fn the_access_log_is_written_at_a_warn_level_too() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, log_path) = serve_logging(dir.path(), "warn");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let req = sign_json(
            &addr,
            "us-east-1",
            ACCESS_KEY,
            SECRET,
            "ListTrails",
            b"{}".to_vec(),
            chrono::Utc::now(),
        );
        send_with(&reqwest::Client::new(), &format!("http://{addr}/"), req).await;
    });
    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logged.contains("cairn::access") && logged.contains("operation=ListTrails"),
        "{logged}"
    );
    assert!(
        !logged.contains(" INFO cairn::serve"),
        "the level is still warn: {logged}"
    );
}
