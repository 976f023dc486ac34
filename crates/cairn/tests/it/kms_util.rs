//! Helpers of the KMS integration tests: signed KMS calls, master key files, and starting the
//! binary with a chosen key (to see it refuse the wrong one).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{ACCESS_KEY, SECRET, send_with, sign};

/// A signed KMS call to `addr`; returns (status, JSON body).
pub async fn kms(
    client: &reqwest::Client,
    addr: &SocketAddr,
    op: &str,
    body: Value,
) -> (u16, Value) {
    let req = sign(
        addr,
        "us-east-1",
        "kms",
        ACCESS_KEY,
        SECRET,
        "POST",
        "/",
        vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amz-target".into(), format!("TrentService.{op}")),
        ],
        body.to_string().into_bytes(),
        chrono::Utc::now(),
    );
    let (status, _, bytes) = send_with(client, &format!("http://{addr}/"), req).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Writes a random master key (hex) to `path`, mode 0600.
pub fn write_master_key(path: &Path) -> Vec<u8> {
    use std::os::unix::fs::PermissionsExt;
    let key: [u8; 32] = rand::random();
    std::fs::write(path, hex::encode(key)).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    key.to_vec()
}

/// A server started by these tests (killed on drop).
pub struct Started {
    pub child: Child,
    pub addr: SocketAddr,
    /// Lines printed before the listening line.
    pub printed: Vec<String>,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
        .env("CAIRN_LOG", "warn")
        .env_remove("CAIRN_KMS_MASTER_KEY")
        .env_remove("CAIRN_KMS_MASTER_KEY_FILE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// Starts `cairn serve` and waits for it to listen.
pub fn start(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Started {
    start_logging_to(data_dir, args, envs, Stdio::inherit())
}

/// [`start`] with the server's log (`CAIRN_LOG=warn`) going to `log`.
pub fn start_logging_to(
    data_dir: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
    log: Stdio,
) -> Started {
    let mut child = command(data_dir, args, envs)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start cairn");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(rest) = line.strip_prefix("cairn listening on http://") {
            break rest.parse().unwrap();
        }
        printed.push(line);
    };
    std::thread::spawn(move || for _ in lines {});
    Started {
        child,
        addr,
        printed,
    }
}

/// Starts `cairn serve` expecting it to refuse: returns its stderr once it has exited.
pub fn refused(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let mut child = command(data_dir, args, envs)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cairn");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "cairn should have refused to start");
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return err;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cairn kept running with a master key it should refuse");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a `cairn kms …` command; returns its JSON output.
pub fn admin(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("kms")
        .args(args)
        .env_remove("CAIRN_KMS_MASTER_KEY")
        .output()
        .expect("run cairn kms");
    assert!(
        out.status.success(),
        "cairn kms {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Every regular file under `dir`, with its bytes.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

/// Base64 of `bytes`.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Bytes of a base64 member.
pub fn unb64(v: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("base64 string"))
        .unwrap()
}
