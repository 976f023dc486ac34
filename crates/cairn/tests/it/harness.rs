//! Starting the real server and signing requests to it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use cairn_sigv4::{RequestParts, canonical_request, signature, signing_key, string_to_sign};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const ACCESS_KEY: &str = "AKIDCAIRNTEST";
pub const SECRET: &str = "cairn-test-secret";
pub const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

/// A running server with its data dir.
pub struct Server {
    pub addr: SocketAddr,
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
    extra: Vec<String>,
}

fn spawn_in(dir: &Path, extra: &[String], env: &[(String, String)]) -> (Child, SocketAddr) {
    spawn_logging_to(dir, extra, env, Stdio::inherit())
}

fn spawn_logging_to(
    dir: &Path,
    extra: &[String],
    env: &[(String, String)],
    stderr: Stdio,
) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env("CAIRN_LOG", "warn")
        .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start cairn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .expect("read stdout");
        if let Some(rest) = line.strip_prefix("cairn listening on http://") {
            break rest.parse().expect("listen address");
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

impl Server {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A server on a fresh data dir with extra `serve` flags and environment, its log to
    /// `stderr`.
    fn spawned(extra: &[&str], env: &[(String, String)], stderr: Stdio) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, addr) = spawn_logging_to(dir.path(), &extra, env, stderr);
        Self {
            addr,
            child,
            dir,
            client: reqwest::Client::new(),
            extra,
        }
    }

    /// Starts with extra `serve` flags and `CAIRN_LOG=info`, logging into a pipe whose
    /// reading end is closed at once: every log write fails (EPIPE).
    pub fn start_with_broken_logs(extra: &[&str]) -> Self {
        let env = [("CAIRN_LOG".to_owned(), "info".to_owned())];
        let mut server = Self::spawned(extra, &env, Stdio::piped());
        drop(server.child.stderr.take());
        server
    }

    /// Starts with extra `serve` flags.
    pub fn start_with(extra: &[&str]) -> Self {
        Self::spawned(extra, &[], Stdio::inherit())
    }

    /// Starts with extra `serve` flags, its log (stderr, `CAIRN_LOG=warn`) going to `log`.
    pub fn start_logging_into(extra: &[&str], log: std::fs::File) -> Self {
        Self::spawned(extra, &[], Stdio::from(log))
    }

    /// Starts on `dir` with extra environment variables (the power-cut shim's `LD_PRELOAD`).
    /// Restarts drop them.
    pub fn start_in_with_env(dir: tempfile::TempDir, env: &[(String, String)]) -> Self {
        let (child, addr) = spawn_in(dir.path(), &[], env);
        Self {
            addr,
            child,
            dir,
            client: reqwest::Client::new(),
            extra: Vec::new(),
        }
    }

    /// Waits until the server exits by itself and returns how; panics after `timeout`.
    pub fn wait_exit(&mut self, timeout: std::time::Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server was still running after {timeout:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// Runs `cairn iam <args> --data-dir` on this server's data dir (the operator's path, safe
    /// while it runs) and returns its JSON output (`Null` for commands that print nothing).
    pub fn admin_iam(&self, args: &[&str]) -> Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["iam", "--data-dir"])
            .arg(self.data_dir())
            .args(args)
            .output()
            .expect("cairn iam");
        assert!(
            out.status.success(),
            "cairn iam {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Kills the server with SIGKILL and leaves it stopped (see [`Self::start_again`]).
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    /// Starts a stopped server again on the same data dir.
    pub fn start_again(&mut self) {
        let (child, addr) = spawn_in(self.dir.path(), &self.extra, &[]);
        self.child = child;
        self.addr = addr;
    }

    /// Kills the server with SIGKILL and starts it again on the same data dir.
    pub fn kill9_and_restart(&mut self) {
        self.kill();
        self.restart();
    }

    /// Kills the server (SIGKILL) and waits for it, leaving its data dir for offline checks.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    /// Starts the server again on its data dir (after [`Server::kill`]).
    pub fn restart(&mut self) {
        let (child, addr) = spawn_in(self.dir.path(), &self.extra, &[]);
        self.child = child;
        self.addr = addr;
    }

    /// Stops the server, runs `cairn flush <extra>` on its data dir (refused beside a running
    /// server), starts it again, and returns the flush's JSON summary.
    pub fn flush(&mut self, extra: &[&str]) -> Value {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("flush")
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(extra)
            // Tests step time with `--now`, ahead of the clock.
            .args(extra.contains(&"--now").then_some("--allow-future-now"))
            .env("CAIRN_LOG", "warn")
            .output()
            .expect("run cairn flush");
        let (child, addr) = spawn_in(self.dir.path(), &self.extra, &[]);
        self.child = child;
        self.addr = addr;
        let report: Value = match serde_json::from_slice(&out.stdout) {
            Ok(v) => v,
            Err(_) => panic!("flush failed: {}", String::from_utf8_lossy(&out.stderr)),
        };
        // Exit 0 exactly when nothing failed; 3 when something stayed pending.
        let failed = report["Failed"].as_u64() != Some(0)
            || report["LogEventsFailed"].as_u64() != Some(0)
            || report["FinalDigestsOwed"].as_u64() != Some(0);
        assert_eq!(
            out.status.code(),
            Some(if failed { 3 } else { 0 }),
            "{report} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        report
    }

    /// Kills the server and starts it again on its data dir with `extra` flags, its log going
    /// to `log`.
    pub fn restart_logging_into(&mut self, extra: &[&str], log: std::fs::File) {
        self.extra = extra.iter().map(|s| s.to_string()).collect();
        self.respawn(&[], Stdio::from(log));
    }

    /// Kills the server and starts it again on its data dir with extra environment variables
    /// (they override root's keys: a rotated root secret).
    pub fn restart_with_env(&mut self, env: &[(String, String)]) {
        self.respawn(env, Stdio::inherit());
    }

    /// Kills the server and starts it again on its data dir with its flags, `env` and `stderr`.
    fn respawn(&mut self, env: &[(String, String)], stderr: Stdio) {
        self.kill();
        let (child, addr) = spawn_logging_to(self.dir.path(), &self.extra, env, stderr);
        self.child = child;
        self.addr = addr;
    }

    pub fn restart_with(&mut self, extra: &[&str]) {
        self.extra = extra.iter().map(|s| s.to_string()).collect();
        self.kill9_and_restart();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends a signed request and returns (status, headers, body).
    pub async fn send(&self, req: Signed) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        send_with(&self.client, &self.url("/"), req).await
    }

    /// Sends a signed request whose answer is JSON; returns (status, body).
    pub async fn send_json(&self, req: Signed) -> (u16, Value) {
        let (status, _, bytes) = self.send(req).await;
        (status, serde_json::from_slice(&bytes).expect("JSON body"))
    }

    /// A CloudTrail call signed with the root key in `region`; returns (status, JSON body).
    pub async fn ct(&self, op: &str, body: Value) -> (u16, Value) {
        self.ct_in("us-east-1", op, body).await
    }

    pub async fn ct_in(&self, region: &str, op: &str, body: Value) -> (u16, Value) {
        let req = sign_json(
            &self.addr,
            region,
            ACCESS_KEY,
            SECRET,
            op,
            body.to_string().into_bytes(),
            chrono::Utc::now(),
        );
        let (status, headers, bytes) = self.send(req).await;
        assert!(
            headers.contains_key("x-amzn-requestid"),
            "every response carries x-amzn-RequestId"
        );
        assert!(!headers.contains_key("x-amzn-query-error"));
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        (status, value)
    }

    /// A signed S3 call; returns (status, body text).
    pub async fn s3(&self, method: &str, path_and_query: &str, body: &[u8]) -> (u16, String) {
        let req = sign_s3(
            &self.addr,
            "us-east-1",
            method,
            path_and_query,
            body.to_vec(),
            chrono::Utc::now(),
        );
        let (status, _, bytes) = self.send(req).await;
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A POST to `/` for `service`, signed now as root in us-east-1 (JSON and Query calls).
    pub async fn post(
        &self,
        service: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let req = sign(
            &self.addr,
            "us-east-1",
            service,
            ACCESS_KEY,
            SECRET,
            "POST",
            "/",
            headers,
            body,
            chrono::Utc::now(),
        );
        self.send(req).await
    }

    /// A signed Query-protocol call (SNS, IAM, STS, …) as root: status and body.
    pub async fn query(&self, service: &str, params: &str) -> (u16, String) {
        let form = vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )];
        let (status, _, bytes) = self.post(service, form, params.as_bytes().to_vec()).await;
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Creates a bucket with the policy CloudTrail needs.
    pub async fn bucket_for_trails(&self, bucket: &str) {
        let (s, _) = self.s3("PUT", &format!("/{bucket}"), b"").await;
        assert_eq!(s, 200);
        let (s, body) = self
            .s3(
                "PUT",
                &format!("/{bucket}?policy"),
                cloudtrail_policy(bucket).as_bytes(),
            )
            .await;
        assert_eq!(s, 204, "{body}");
    }
}

/// Sends `req` to the server at `base` ("http://host:port/"); usable from spawned tasks.
pub async fn send_with(
    client: &reqwest::Client,
    base: &str,
    req: Signed,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let url = format!("{}{}", base.trim_end_matches('/'), req.path_and_query);
    let mut builder = client.request(req.method.parse().unwrap(), url);
    for (n, v) in &req.headers {
        if n != "host" {
            builder = builder.header(n, v);
        }
    }
    let resp = builder.body(req.body).send().await.expect("send");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

/// The `EventName`s of a LookupEvents page, in order.
pub fn event_names(page: &Value) -> Vec<String> {
    page["Events"]
        .as_array()
        .expect("Events")
        .iter()
        .map(|e| e["EventName"].as_str().expect("EventName").to_owned())
        .collect()
}

/// The records (`CloudTrailEvent`, parsed) of a LookupEvents page, newest first.
pub fn records(page: &Value) -> Vec<Value> {
    page["Events"]
        .as_array()
        .expect("Events")
        .iter()
        .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().expect("record")).unwrap())
        .collect()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn cloudtrail_policy(bucket: &str) -> String {
    serde_json::json!({"Version":"2012-10-17","Statement":[
        {"Sid":"AWSCloudTrailAclCheck20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
         "Action":"s3:GetBucketAcl","Resource":format!("arn:aws:s3:::{bucket}")},
        {"Sid":"AWSCloudTrailWrite20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
         "Action":"s3:PutObject","Resource":format!("arn:aws:s3:::{bucket}/AWSLogs/123456789012/*"),
         "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]})
    .to_string()
}

/// A request ready to send.
pub struct Signed {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[allow(clippy::too_many_arguments)]
pub fn sign(
    addr: &SocketAddr,
    region: &str,
    service: &str,
    access_key: &str,
    secret: &str,
    method: &str,
    path_and_query: &str,
    mut headers: Vec<(String, String)>,
    body: Vec<u8>,
    when: chrono::DateTime<chrono::Utc>,
) -> Signed {
    let amz_date = when.format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    headers.push(("host".into(), addr.to_string()));
    headers.push(("x-amz-date".into(), amz_date.clone()));
    let payload_hash = hex::encode(Sha256::digest(&body));
    if service == "s3" {
        headers.push(("x-amz-content-sha256".into(), payload_hash.clone()));
    }
    let mut signed: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    signed.sort();
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let canonical = canonical_request(
        &RequestParts {
            method,
            raw_path: path,
            raw_query: query,
            headers: &headers,
            payload_hash: &payload_hash,
        },
        &signed,
        service == "s3",
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let sig = signature(
        &signing_key(secret, date, region, service),
        &string_to_sign(&amz_date, &scope, &canonical),
    );
    headers.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={}, Signature={sig}",
            signed.join(";")
        ),
    ));
    Signed {
        method: method.into(),
        path_and_query: path_and_query.into(),
        headers,
        body,
    }
}

pub fn sign_json(
    addr: &SocketAddr,
    region: &str,
    access_key: &str,
    secret: &str,
    op: &str,
    body: Vec<u8>,
    when: chrono::DateTime<chrono::Utc>,
) -> Signed {
    sign(
        addr,
        region,
        "cloudtrail",
        access_key,
        secret,
        "POST",
        "/",
        vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amz-target".into(), format!("{TARGET_PREFIX}{op}")),
        ],
        body,
        when,
    )
}

pub fn sign_s3(
    addr: &SocketAddr,
    region: &str,
    method: &str,
    path_and_query: &str,
    body: Vec<u8>,
    when: chrono::DateTime<chrono::Utc>,
) -> Signed {
    sign(
        addr,
        region,
        "s3",
        ACCESS_KEY,
        SECRET,
        method,
        path_and_query,
        Vec::new(),
        body,
        when,
    )
}

/// The `__type` of an error body.
pub fn error_type(v: &Value) -> &str {
    v["__type"].as_str().unwrap_or("")
}
