//! One process owns a data dir: a second `serve` and `cairn flush` beside a running server
//! are refused, so no two writers can fork a digest chain.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Server;

/// Runs `cairn <args>` and waits for it, failing the test if it is still running after
/// `limit` (a refused command exits at once; an accepted `serve` would run forever).
fn run_bounded(args: &[&str], dir: &std::path::Path, limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("CAIRN_ROOT_ACCESS_KEY_ID", "AKIDLOCKTEST")
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", "secret")
        .env("CAIRN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cairn");
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "cairn {args:?} was not refused: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_second_serve_on_the_same_data_dir_is_refused() {
    let server = Server::start();
    let out = run_bounded(
        &["serve", "--listen", "127.0.0.1:0"],
        &server.data_dir(),
        Duration::from_secs(10),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&server.data_dir().display().to_string()),
        "names the data dir: {err}"
    );
    assert!(
        err.contains(&format!("pid {}", server.child.id())),
        "names the holder's pid: {err}"
    );
}

#[test]
fn flush_is_refused_while_the_server_runs_and_works_once_it_stopped() {
    let mut server = Server::start();
    let out = run_bounded(&["flush"], &server.data_dir(), Duration::from_secs(30));
    assert!(!out.status.success(), "flush beside a running server");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stop the server") && err.contains("delivery loop"),
        "tells what to do instead: {err}"
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let out = run_bounded(&["flush"], &server.data_dir(), Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn flush_refuses_a_data_dir_that_does_not_exist() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("typo");
    let out = run_bounded(&["flush"], &missing, Duration::from_secs(30));
    assert!(!out.status.success());
    assert!(!missing.exists(), "no empty data dir is created");
}
