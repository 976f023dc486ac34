//! Starts the real `cairn` binary on port 0 with its own data dir (as compat/conftest.py and
//! compat/js/cairn.js do) and builds the SDK configuration pointed at it: static root
//! credentials, us-east-1, no retries, and the SDK's hyper client over plain HTTP (no TLS
//! stack is compiled in).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};

pub const ACCESS_KEY: &str = "AKIDCOMPATRUST";
pub const SECRET: &str = "compat-rust-secret";
pub const ACCOUNT: &str = "123456789012";

/// The binary under test: `CAIRN_BIN`, else the workspace's debug build.
fn binary() -> PathBuf {
    match std::env::var_os("CAIRN_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/cairn"),
    }
}

/// A fresh, empty directory under the system temp dir, unique to this process and call.
/// The data dir is `data` inside it, so the files the server keeps beside its data dir
/// (`data.kms-master-key`) go when the directory does.
fn fresh_dir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("cairn-rs-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("create the test's directory");
    dir
}

/// A running server with its own data dir; killed, and the dir removed, when dropped.
pub struct Cairn {
    child: Option<Child>,
    /// The test's directory; the data dir is `data` inside it.
    root: PathBuf,
    dir: PathBuf,
    /// `http://127.0.0.1:<port>`, as the server printed it.
    pub endpoint: String,
}

impl Cairn {
    pub fn start() -> Self {
        let root = fresh_dir();
        let mut server = Cairn {
            child: None,
            dir: root.join("data"),
            root,
            endpoint: String::new(),
        };
        server.spawn("127.0.0.1:0");
        server
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// Starts `serve` on `listen` and waits for its `cairn listening on <endpoint>` line.
    fn spawn(&mut self, listen: &str) {
        let mut child = Command::new(binary())
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(&self.dir)
            .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
            .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
            .env("CAIRN_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e} (set CAIRN_BIN)", binary().display()));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let endpoint = loop {
            line.clear();
            let n = stdout
                .read_line(&mut line)
                .expect("read the server's stdout");
            if n == 0 {
                let status = child.wait().expect("wait for cairn");
                panic!("cairn exited ({status}) before listening");
            }
            if let Some(rest) = line.strip_prefix("cairn listening on ") {
                break rest.trim().to_string();
            }
        };
        // Keep reading stdout so the server never writes into a closed pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stdout.read_to_end(&mut sink);
        });
        self.child = Some(child);
        self.endpoint = endpoint;
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs `cairn <args> --data-dir <dir>` (the server must be stopped for `flush`);
    /// returns its exit code and stdout.
    fn admin(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(binary())
            .args(args)
            .arg("--data-dir")
            .arg(&self.dir)
            .output()
            .expect("run a cairn admin command");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.code().is_some(),
            "cairn {args:?} was killed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), stdout)
    }

    /// Stops the server, runs `cairn flush` (refused beside a running server), and starts
    /// the server again on the same address so existing clients keep working. Returns
    /// flush's JSON report, after checking it delivered everything (exit 0).
    pub fn flush(&mut self) -> serde_json::Value {
        self.kill();
        let (code, out) = self.admin(&["flush"]);
        let listen = self
            .endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        self.spawn(&listen);
        assert_eq!(code, 0, "cairn flush: {out}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("flush report {out:?}: {e}"))
    }

    /// Stops the server and checks that the event store the test left is intact
    /// (`cairn verify-store`), as compat/conftest.py does after every module.
    pub fn stop_and_verify(mut self) {
        self.kill();
        let (code, out) = self.admin(&["verify-store"]);
        assert_eq!(code, 0, "verify-store after the test: {out}");
    }

    /// The SDK configuration every client of a test shares: this endpoint, root keys.
    pub async fn config(&self) -> SdkConfig {
        self.config_with(ACCESS_KEY, SECRET).await
    }

    /// The same with other static credentials (an IAM user's access key).
    pub async fn config_with(&self, access_key: &str, secret: &str) -> SdkConfig {
        let credentials = Credentials::new(access_key, secret, None, None, "cairn-compat");
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            // The SDK's own hyper client without TLS (a public, doc-hidden builder method;
            // the crate is pinned exactly).
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .retry_config(RetryConfig::disabled())
            .load()
            .await
    }

    /// An S3 client with path-style addressing (the endpoint is an IP address).
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

impl Drop for Cairn {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The bucket policy CloudTrail needs (README's quick start; compat/conftest.py's).
pub fn cloudtrail_policy(bucket: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": format!("arn:aws:s3:::{bucket}"),
            },
            {
                "Sid": "AWSCloudTrailWrite20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*"),
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
            },
        ],
    })
    .to_string()
}
