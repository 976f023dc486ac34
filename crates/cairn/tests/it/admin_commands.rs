//! The admin commands a newcomer meets first (issue 7 §5): they refuse a data dir that does
//! not exist instead of creating an empty one, validate their arguments, end quietly when
//! their reader stops early, `cairn env` prints working credentials, and a server stopped
//! the usual way logs no error.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::harness::{ACCESS_KEY, SECRET, Server};

fn cairn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
}

/// Starts `serve` (a `cairn serve` command) with root's keys and `CAIRN_LOG=info`, its log in
/// `log_path`; returns the child and the address it listens on.
fn serve_logging_to(
    mut serve: Command,
    log_path: &std::path::Path,
) -> (std::process::Child, String) {
    let mut child = serve
        .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
        .env("CAIRN_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log_path).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "serve ended early"
        );
        if let Some(a) = line.trim().strip_prefix("cairn listening on ") {
            break a
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned();
        }
    };
    (child, addr)
}

#[test]
fn a_missing_data_dir_is_refused_not_created() {
    let parent = tempfile::tempdir().unwrap();
    let typo = parent.path().join("typo");
    for args in [vec!["events"], vec!["lifecycle", "run"]] {
        let out = cairn()
            .args(&args)
            .arg("--data-dir")
            .arg(&typo)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is not a Cairn data dir"), "{args:?}: {err}");
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
}

#[test]
fn help_says_what_cairn_is_and_lists_the_commands() {
    let out = cairn().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.lines()
            .next()
            .unwrap()
            .contains("wire-compatible AWS CloudTrail"),
        "{help}"
    );
    for sub in [
        "serve",
        "env",
        "events",
        "lifecycle",
        "validate-logs",
        "flush",
        "bench",
    ] {
        assert!(
            help.contains(&format!("  {sub} ")),
            "{sub} missing from {help}"
        );
    }
    // `serve --help` names the variables it reads that no flag carries.
    let out = cairn().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "CAIRN_LOG ",
        "CAIRN_ROOT_ACCESS_KEY_ID",
        "CAIRN_ROOT_SECRET_ACCESS_KEY",
        "CAIRN_KMS_MASTER_KEY ",
    ] {
        assert!(help.contains(var), "{var} missing from {help}");
    }
    let out = cairn()
        .args(["events", "--category", "Bogus", "--data-dir", "."])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[tokio::test]
async fn events_piped_into_a_short_reader_end_quietly() {
    let server = Server::start();
    for _ in 0..300 {
        assert_eq!(server.ct("ListTrails", json!({})).await.0, 200);
    }
    let mut child = cairn()
        .args(["events", "--data-dir"])
        .arg(server.data_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone (like `| head -1`).
    let out = child.wait_with_output().unwrap();
    assert!(first.contains("\"eventName\""));
    assert!(ended_quietly(&out.status), "status {:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Ended as a command-line tool does when its reader goes away: done, or with the status
/// of a tool `SIGPIPE` stopped (141), never a panic (101) or an error.
fn ended_quietly(status: &std::process::ExitStatus) -> bool {
    status.success() || status.code() == Some(141)
}

#[test]
fn a_closed_pipe_ends_env_and_validate_logs_quietly() {
    let server = Server::start();
    let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/none";
    let runs: [Vec<String>; 2] = [
        vec![
            "env".into(),
            "--data-dir".into(),
            server.data_dir().display().to_string(),
        ],
        vec![
            "validate-logs".into(),
            "--endpoint-url".into(),
            server.url(""),
            "--trail-arn".into(),
            arn.into(),
            "--start-time".into(),
            "2026-01-01T00:00:00Z".into(),
        ],
    ];
    for args in runs {
        let mut child = cairn()
            .args(&args)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
            .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Both readers are gone before anything is written (`2>&1 | head -0`).
        drop(child.stdout.take());
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(141), "{args:?}: {status:?}");
    }
}

#[test]
fn env_prints_the_root_credentials_as_exports() {
    let server = Server::start();
    let out = cairn()
        .args(["env", "--data-dir"])
        .arg(server.data_dir())
        .args(["--endpoint-url", &server.url("")])
        .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("export AWS_ACCESS_KEY_ID='{ACCESS_KEY}'")),
        "{text}"
    );
    assert!(
        text.contains(&format!("export AWS_SECRET_ACCESS_KEY='{SECRET}'")),
        "{text}"
    );
    assert!(
        text.contains("export AWS_DEFAULT_REGION='us-east-1'")
            && text.contains("export AWS_REGION='us-east-1'"),
        "{text}"
    );
}

/// Without `--endpoint-url`, `cairn env` names the URL the data dir's server listens on,
/// whatever port it was given.
#[test]
fn env_finds_the_endpoint_of_the_data_dirs_server() {
    let server = Server::start();
    let out = cairn()
        .args(["env", "--data-dir"])
        .arg(server.data_dir())
        .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("export AWS_ENDPOINT_URL='http://{}'", server.addr)),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The server takes root's keys from the environment: without them, `cairn env` says so
    // and makes no file of keys that server would reject.
    let out = cairn()
        .args(["env", "--data-dir"])
        .arg(server.data_dir())
        .env_remove("CAIRN_ROOT_ACCESS_KEY_ID")
        .env_remove("CAIRN_ROOT_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("takes root's keys from CAIRN_ROOT_ACCESS_KEY_ID") && err.contains(ACCESS_KEY),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert!(!server.data_dir().join("root-credentials.json").exists());
    // Other keys in this command's environment are refused too: that server rejects them.
    let out = cairn()
        .args(["env", "--data-dir"])
        .arg(server.data_dir())
        .env("CAIRN_ROOT_ACCESS_KEY_ID", "AKIAOTHERKEY00000001")
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", "other-secret")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(ACCESS_KEY) && err.contains("AKIAOTHERKEY00000001"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// An `ENDPOINT` file that cannot be written when the server starts (a full disk; here a
/// directory in the way of its temporary name) is written once it can be, so `cairn env`
/// finds the server without a restart.
#[test]
fn the_endpoint_file_is_written_once_it_can_be() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ENDPOINT.new")).unwrap();
    let server = Server::start_in_with_env(dir, &[]);
    let endpoint = server.data_dir().join("ENDPOINT");
    assert!(!endpoint.exists());
    std::fs::remove_dir(server.data_dir().join("ENDPOINT.new")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(&endpoint) {
            break url;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ENDPOINT never written"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(
        url.lines().next(),
        Some(format!("http://{}", server.addr).as_str())
    );
    assert!(!server.data_dir().join("ENDPOINT.new").exists());
}

/// A copy of a running server's data dir (a restored snapshot) carries its `ENDPOINT` file:
/// `cairn env` on the copy must not point at the original server (ops2).
#[test]
fn env_on_a_copied_data_dir_does_not_name_the_originals_server() {
    let server = Server::start();
    let copy = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(server.data_dir().join("."))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = cairn()
        .args(["env", "--data-dir"])
        .arg(copy.path())
        .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
        .output()
        .unwrap();
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!text.contains(&server.addr.to_string()), "{text}");
    // Said once, not once per poll (ops4).
    assert_eq!(
        err.matches("the data dir this one was copied from").count(),
        1,
        "{err}"
    );
}

/// A data dir path SQLite cannot open (512 bytes or more with the database's file names) is
/// refused by name before anything is created.
#[test]
fn a_data_dir_path_too_long_for_sqlite_is_refused_and_nothing_is_made() {
    let parent = tempfile::tempdir().unwrap();
    let long = parent
        .path()
        .join("d".repeat(200))
        .join("e".repeat(200))
        .join("f".repeat(120));
    let out = cairn()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&long)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is too long") && err.contains("512 bytes"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(parent.path()).unwrap().count(),
        0,
        "nothing made"
    );
}

#[test]
fn a_server_stopped_by_sigterm_exits_cleanly_and_logs_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let mut child = cairn()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
        .env("CAIRN_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "serve ended early"
        );
        if line.starts_with("cairn listening on") {
            break;
        }
    }
    let endpoint = dir.path().join("data").join("ENDPOINT");
    assert!(
        endpoint.exists(),
        "the server names its endpoint in the data dir"
    );
    // SIGHUP, SIGUSR1 and SIGUSR2 are noted and ignored (their default action ended the
    // server without its graceful stop); SIGTERM then stops it cleanly.
    let addr = std::fs::read_to_string(&endpoint).unwrap();
    let addr = addr
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let healthy = || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer.starts_with("HTTP/1.1 200")
    };
    for signal in ["-HUP", "-USR1", "-USR2"] {
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        // Wait for the server to note the signal (or to die of it, as it used to).
        let noted = format!("signal=\"SIG{}\"", signal.trim_start_matches('-'));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !std::fs::read_to_string(&log_path).unwrap().contains(&noted) {
            assert!(
                child.try_wait().unwrap().is_none(),
                "{signal} ended the server"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "{signal} was not noted"
            );
            std::thread::yield_now();
        }
        assert!(healthy(), "the server still answers after {signal}");
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(status.success(), "status {status:?}: {logged}");
    assert!(
        !endpoint.exists(),
        "a stopped server leaves no endpoint behind"
    );
    assert!(
        !logged.lines().any(|l| l.contains(" ERROR ")),
        "a clean stop logged an error: {logged}"
    );
}

/// A request in flight holds a graceful stop (for a bounded time); a second SIGTERM ends the
/// server at once, and the store it leaves opens and verifies as after any crash.
#[test]
fn a_second_sigterm_stops_a_server_waiting_for_a_stalled_request() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let mut serve = cairn();
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--min-body-rate", "0"]);
    let (mut child, addr) = serve_logging_to(serve, &log_path);
    // A request whose body never finishes.
    let mut stalled = std::net::TcpStream::connect(&addr).unwrap();
    stalled
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: CloudTrail_20131101.ListTrails\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 1000000\r\n\r\n{")
        .unwrap();
    // Connections are accepted in the order they arrived: once a later one is answered, the
    // stalled one is being served.
    {
        use std::io::Read;
        let mut later = std::net::TcpStream::connect(&addr).unwrap();
        later
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        later.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let term = || {
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    term();
    // Wait until the server says it is waiting, then stop it again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !std::fs::read_to_string(&log_path)
        .unwrap()
        .contains("waiting for requests in flight")
    {
        assert!(std::time::Instant::now() < deadline, "no wait was logged");
        std::thread::yield_now();
    }
    // Draining: a new connection is refused at once, not left waiting until the exit.
    let refused = std::net::TcpStream::connect(&addr);
    assert!(
        refused.is_err(),
        "a connection was accepted during the drain"
    );
    let second = std::time::Instant::now();
    term();
    let status = child.wait().unwrap();
    assert!(!status.success(), "{status:?}");
    assert!(second.elapsed() < std::time::Duration::from_secs(10));
    drop(stalled);
    let verified = cairn()
        .args(["verify-store", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

/// Under an open-file limit too low for the connection cap, the cap is lowered to fit (with
/// a warning), so idle connections cannot take every descriptor: a client past them is still
/// answered.
#[test]
fn a_low_open_file_limit_caps_connections_and_clients_are_still_served() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let mut serve = Command::new("sh");
    serve
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" serve --listen 127.0.0.1:0 --data-dir \"$1\"")
        .arg(env!("CARGO_BIN_EXE_cairn"))
        .arg(dir.path().join("data"));
    let (mut child, addr) = serve_logging_to(serve, &log_path);
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(logged.contains("open-file limit is too low"), "{logged}");
    let idle: Vec<std::net::TcpStream> = (0..300)
        .filter_map(|_| std::net::TcpStream::connect(&addr).ok())
        .collect();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(idle);
    let _ = child.kill();
    let _ = child.wait();
}

/// `cairn iam` changes identities without an API call, so it records each change itself: the
/// IAM event the API would have written, by `cairn-admin`, in event history; never the secret.
#[tokio::test]
async fn iam_admin_changes_are_recorded_as_iam_events() {
    let server = Server::start();
    server.admin_iam(&["create-user", "bob"]);
    let key = server.admin_iam(&["create-access-key", "bob"]);
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = key["AccessKey"]["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_owned();
    server.admin_iam(&["update-access-key", "bob", &id, "--status", "Inactive"]);
    server.admin_iam(&["list-users"]);
    let (status, page) = server
        .ct(
            "LookupEvents",
            json!({"LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}]}),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let mut names = crate::harness::event_names(&page);
    names.reverse();
    assert_eq!(names, ["CreateUser", "CreateAccessKey", "UpdateAccessKey"]);
    for e in page["Events"].as_array().unwrap() {
        let text = e["CloudTrailEvent"].as_str().unwrap();
        assert!(
            !text.contains(&secret),
            "the secret reached a record: {text}"
        );
        let record: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(record["userIdentity"]["invokedBy"], "cairn-admin");
        assert_eq!(record["awsRegion"], "us-east-1");
        assert_eq!(e["Username"], "cairn-admin");
    }
    let update: serde_json::Value =
        serde_json::from_str(page["Events"][0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(
        update["requestParameters"],
        json!({"userName": "bob", "accessKeyId": id, "status": "Inactive"})
    );
    assert_eq!(
        update["additionalEventData"]["cairnAdminCommand"],
        format!("iam update-access-key bob {id} --status Inactive")
    );
}

/// The record of an admin change is the record of the API call it equals: CreateUser's and
/// CreateAccessKey's `responseElements` (the new key's id, by which LookupEvents finds the
/// event), PutUserPolicy's `policyDocument`; only the identity says `cairn-admin`.
#[tokio::test]
async fn iam_admin_records_equal_the_api_calls_records() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*"}]}"#;
    let file = dir.path().join("deny-stop.json");
    std::fs::write(&file, doc).unwrap();
    server.admin_iam(&["create-user", "alice"]);
    let key = server.admin_iam(&["create-access-key", "alice"]);
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    server.admin_iam(&[
        "put-user-policy",
        "alice",
        "--policy-name",
        "deny-stop",
        "--policy-document",
        &format!("file://{}", file.display()),
    ]);
    let (status, _) = server
        .query("iam", "Action=CreateUser&UserName=carol&Version=2010-05-08")
        .await;
    assert_eq!(status, 200);
    let record_of = |page: &serde_json::Value, name: &str| -> serde_json::Value {
        crate::harness::records(page)
            .into_iter()
            .find(|r| r["eventName"] == name)
            .unwrap_or_else(|| panic!("no {name} in {page}"))
    };
    let (_, page) = server
        .ct(
            "LookupEvents",
            json!({"LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}]}),
        )
        .await;
    let users: Vec<serde_json::Value> = crate::harness::records(&page)
        .into_iter()
        .filter(|r| r["eventName"] == "CreateUser")
        .collect();
    assert_eq!(users.len(), 2, "{page}");
    let (api, admin) = (&users[0], &users[1]);
    assert_eq!(admin["userIdentity"]["invokedBy"], "cairn-admin");
    assert_eq!(admin["responseElements"]["user"]["userName"], "alice");
    let members =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        members(&admin["responseElements"]["user"]),
        members(&api["responseElements"]["user"])
    );
    let created = record_of(&page, "CreateAccessKey");
    assert_eq!(created["responseElements"]["accessKey"]["accessKeyId"], id);
    assert!(!created.to_string().contains("secretAccessKey"));
    let put = record_of(&page, "PutUserPolicy");
    assert_eq!(put["requestParameters"]["policyDocument"], doc);
    let (_, by_key) = server
        .ct(
            "LookupEvents",
            json!({"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": id}]}),
        )
        .await;
    assert_eq!(crate::harness::event_names(&by_key), ["CreateAccessKey"]);
}

/// `cairn flush --now` ahead of the system clock is refused (a digest named in the future
/// would stop every later digest until the clock passed it), unless a test data dir allows
/// it; nothing is delivered by the refused flush.
#[test]
fn flush_refuses_a_future_now_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let future = (chrono::Utc::now().timestamp() + 900).to_string();
    let out = cairn()
        .args(["flush", "--now", &future, "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--allow-future-now"), "{err}");
    assert!(out.stdout.is_empty());
    let past = (chrono::Utc::now().timestamp() - 60).to_string();
    let out = cairn()
        .args(["flush", "--now", &past, "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("--allow-future-now"), "{err}");
}

#[test]
fn env_refuses_keys_other_than_the_data_dirs_file() {
    // A data dir whose root keys are in its file: other keys in the environment would be
    // refused by its server, so `cairn env` says so instead of printing them.
    let dir = tempfile::tempdir().unwrap();
    // A data dir (an empty file is a new SQLite store).
    std::fs::write(dir.path().join("cairn.db"), b"").unwrap();
    let made = cairn()
        .args(["env", "--data-dir"])
        .arg(dir.path())
        .env_remove("CAIRN_ROOT_ACCESS_KEY_ID")
        .env_remove("CAIRN_ROOT_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let out = cairn()
        .args(["env", "--data-dir"])
        .arg(dir.path())
        .env("CAIRN_ROOT_ACCESS_KEY_ID", "AKIAOTHERKEY00000002")
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", "other-secret")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("AKIAOTHERKEY00000002"), "{err}");
    assert!(out.stdout.is_empty());
}

/// `cairn bench populate` never writes synthetic events beside a running server, nor twice
/// into one store; `cairn env` writes no credentials into a dir that is not Cairn's.
#[tokio::test]
async fn populate_and_env_leave_stores_and_dirs_that_are_not_theirs_alone() {
    let mut server = Server::start();
    let (status, _) = server.ct("ListTrails", json!({})).await;
    assert_eq!(status, 200, "a real event in its history");
    let data_dir = server.data_dir();
    let into_server = |extra: &[&str]| {
        cairn()
            .args(["bench", "populate", "--events", "10"])
            .args(extra)
            .arg("--data-dir")
            .arg(&data_dir)
            .output()
            .unwrap()
    };
    assert!(
        !into_server(&[]).status.success(),
        "populate beside a server"
    );
    // Stopped, its store still records real events: refused unless asked for.
    server.kill9();
    let out = into_server(&[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("would pass for its audit history"), "{err}");
    assert!(into_server(&["--allow-existing-events"]).status.success());
    let fresh = tempfile::tempdir().unwrap();
    let populate = || {
        cairn()
            .args(["bench", "populate", "--events", "10", "--data-dir"])
            .arg(fresh.path())
            .output()
            .unwrap()
    };
    assert!(populate().status.success());
    let again = populate();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join("readme.txt"), "mine").unwrap();
    let out = cairn()
        .args(["env", "--data-dir"])
        .arg(foreign.path())
        .env_remove("CAIRN_ROOT_ACCESS_KEY_ID")
        .env_remove("CAIRN_ROOT_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Cairn data dir"));
    // Nor does flush leave its lock file there.
    let out = cairn()
        .args(["flush", "--data-dir"])
        .arg(foreign.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Cairn data dir"));
    // Nor does serve take it over (a mistaken `--data-dir /tmp`): refused, mode unchanged.
    std::fs::set_permissions(foreign.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = cairn()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(foreign.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not a Cairn data dir") && err.contains("readme.txt"),
        "{err}"
    );
    let mode = std::fs::metadata(foreign.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    let names: Vec<_> = std::fs::read_dir(foreign.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["readme.txt"]);
}
