//! The operator's command line around a data dir: admin commands that must not run beside a
//! server refuse to, flags and their TOML and environment twins are checked at parse time,
//! data dirs that do not exist are not created, a data dir keeps its account, and start-up
//! failures name the path and the operation.

use std::process::{Command, Output};

use serde_json::json;

use crate::kms_util::{kms, start, write_master_key};

fn cairn() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.env_remove("CAIRN_KMS_MASTER_KEY")
        .env_remove("CAIRN_KMS_MASTER_KEY_FILE")
        .env_remove("CAIRN_ACCOUNT_ID")
        .env_remove("CAIRN_DATA_DIR")
        .env("CAIRN_LOG", "warn");
    cmd
}

/// Runs `cmd` to its end; a command still running after 60 s (a server that should have
/// refused to start) is killed and the test fails instead of hanging.
fn output(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!("{cmd:?} was still running after 60 s: {}", stderr(&out));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `cairn kms rotate-master-key` beside a running server rewrapped the keys while the server
/// kept wrapping new ones under the old key: both became unreadable. It is refused, and the
/// server's keys still open afterwards.
#[tokio::test]
async fn rotate_master_key_is_refused_while_a_server_runs() {
    let keys = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let old = keys.path().join("old.key");
    let new = keys.path().join("new.key");
    write_master_key(&old);
    write_master_key(&new);
    let server = start(
        &data,
        &["--kms-master-key-file", old.to_str().unwrap()],
        &[],
    );
    let c = reqwest::Client::new();
    let (s, created) = kms(&c, &server.addr, "CreateKey", json!({})).await;
    assert_eq!(s, 200, "{created}");

    let out = output(
        cairn()
            .args(["kms", "rotate-master-key", "--data-dir"])
            .arg(&data)
            .arg("--old")
            .arg(&old)
            .arg("--new")
            .arg(&new),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("in use by a running cairn server")
            && err.contains("kms rotate-master-key")
            && err.contains("stop the server first"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // Nothing was rewrapped: a key made now still encrypts and decrypts under the old key.
    let (s, made) = kms(&c, &server.addr, "CreateKey", json!({})).await;
    assert_eq!(s, 200, "{made}");
    let key_id = made["KeyMetadata"]["KeyId"].as_str().unwrap();
    let (s, enc) = kms(
        &c,
        &server.addr,
        "Encrypt",
        json!({"KeyId": key_id, "Plaintext": "aGVsbG8="}),
    )
    .await;
    assert_eq!(s, 200, "{enc}");
    let (s, dec) = kms(
        &c,
        &server.addr,
        "Decrypt",
        json!({"CiphertextBlob": enc["CiphertextBlob"]}),
    )
    .await;
    assert_eq!((s, dec["Plaintext"].as_str()), (200, Some("aGVsbG8=")));
}

/// Numeric flags, their variables and their TOML keys are checked when parsed: values that
/// panicked the server (exit 101) or made it poll in a busy loop get a clean refusal.
#[test]
fn numeric_flags_out_of_bounds_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = |flag: &str, value: &str| {
        output(
            cairn()
                .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(&data)
                .arg(format!("{flag}={value}")),
        )
    };
    for (flag, value) in [
        ("--delivery-interval", "18446744073709551615"),
        ("--delivery-interval", "inf"),
        ("--delivery-interval", "1e300"),
        ("--delivery-interval", "-1"),
        ("--delivery-interval", "NaN"),
        ("--delivery-interval", "0"),
        ("--delivery-interval", "0.0000001"),
        ("--alarm-tick-secs", "1e20"),
        ("--alarm-tick-secs", "-1"),
        ("--alarm-tick-secs", "NaN"),
        ("--digest-interval", "-1"),
        ("--digest-interval", "nan"),
        ("--max-connections", "3000000000000000000"),
        ("--max-body-bytes", "0"),
        ("--header-timeout-secs", "0"),
        ("--retention-days", "0"),
    ] {
        let out = serve(flag, value);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag}={value}: {err}");
        assert!(
            err.contains("invalid value") && err.contains(flag) && err.contains("must be"),
            "{flag}={value}: {err}"
        );
    }
    // A negative value given as its own argument reaches the bounds check too (clap took
    // `-1` for an unknown flag).
    for flag in [
        "--insights-warm-up",
        "--min-body-rate",
        "--delivery-interval",
    ] {
        let out = output(
            cairn()
                .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(&data)
                .args([flag, "-1"]),
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} -1: {err}");
        assert!(
            err.contains("invalid value '-1'") && err.contains(flag),
            "{flag} -1: {err}"
        );
    }
    assert!(!data.exists(), "a refused start creates nothing");

    // The same bounds through the environment and the settings file.
    let out = output(
        cairn()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env("CAIRN_DELIVERY_INTERVAL", "inf"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let toml = dir.path().join("cairn.toml");
    std::fs::write(&toml, "delivery_interval = 1e300\n").unwrap();
    let out = output(
        cairn()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .arg("--config")
            .arg(&toml),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("delivery_interval") && err.contains("one year"),
        "{err}"
    );

    for args in [
        vec!["flush", "--notification-wait", "18446744073709551615"],
        vec!["flush", "--notification-wait=-1"],
        vec!["flush", "--max-events-per-file", "0"],
        vec!["alarms", "run", "--notification-wait", "inf"],
        vec![
            "validate-logs",
            "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/t",
            "--start-time",
            "2026-01-01",
            "--concurrency",
            "0",
        ],
        vec![
            "validate-logs",
            "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/t",
            "--start-time",
            "2026-01-01",
            "--concurrency",
            "5000",
        ],
    ] {
        let out = output(cairn().args(&args));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("invalid value"), "{args:?}: {err}");
    }
}

/// Runs `cairn <args> --data-dir <data>` (bounded: `kms sweep --now=inf` spun forever).
fn run_bounded(args: &[&str], data: &std::path::Path) -> Output {
    output(cairn().args(args).arg("--data-dir").arg(data))
}

/// `cairn kms sweep --now` takes the times the other `--now` flags take (ISO-8601 too) and
/// refuses `inf` (which spun forever), `NaN` (which did nothing) and milliseconds (which
/// deleted keys early).
#[tokio::test]
async fn kms_sweep_now_is_a_time_argument() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let server = start(&data, &[], &[]);
    let c = reqwest::Client::new();
    let (_, created) = kms(&c, &server.addr, "CreateKey", json!({})).await;
    let key_id = created["KeyMetadata"]["KeyId"].as_str().unwrap();
    let (s, v) = kms(
        &c,
        &server.addr,
        "ScheduleKeyDeletion",
        json!({"KeyId": key_id, "PendingWindowInDays": 7}),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    let days = |n: i64| chrono::Utc::now() + chrono::Duration::days(n);
    let millis = days(8).timestamp_millis().to_string();
    for now in ["inf", "NaN", "1e18", millis.as_str()] {
        let out = run_bounded(&["kms", "sweep", &format!("--now={now}")], &data);
        assert_eq!(out.status.code(), Some(2), "{now}: {}", stderr(&out));
    }
    let iso = |n| days(n).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let sweep = |at: String| {
        let out = run_bounded(&["kms", "sweep", "--now", &at], &data);
        assert!(out.status.success(), "{at}: {}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(sweep(iso(6))["Deleted"], json!([]));
    let deleted = sweep(iso(8));
    assert_eq!(deleted["Deleted"].as_array().unwrap().len(), 1, "{deleted}");
    drop(server);
}

/// `cairn env` on a path that does not exist made it, with root credentials no server
/// accepts; it is refused, and nothing is made.
#[test]
fn env_refuses_a_data_dir_that_does_not_exist() {
    let parent = tempfile::tempdir().unwrap();
    let typo = parent.path().join("typo");
    let out = output(
        cairn()
            .args(["env", "--data-dir"])
            .arg(&typo)
            .env_remove("CAIRN_ROOT_ACCESS_KEY_ID")
            .env_remove("CAIRN_ROOT_SECRET_ACCESS_KEY"),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!typo.exists());
}

/// A start that fails on a port in use or an unreadable master key file left a new data dir
/// with fresh secrets behind; both are checked before the data dir is made.
#[test]
fn a_failed_start_leaves_no_data_dir_behind() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let missing_key = parent.path().join("no-such.key");
    for args in [
        vec!["--listen", port.as_str()],
        vec![
            "--listen",
            "127.0.0.1:0",
            "--kms-master-key-file",
            missing_key.to_str().unwrap(),
        ],
    ] {
        let out = output(
            cairn()
                .arg("serve")
                .arg("--data-dir")
                .arg(&data)
                .args(&args),
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&port) || err.contains("no-such.key"),
            "{args:?}: {err}"
        );
        assert!(!data.exists(), "{args:?} left {} behind", data.display());
    }
    assert!(!parent.path().join("data.kms-master-key").exists());
}

/// A data dir remembers the account it was first served with: `cairn iam` acts as it by
/// default (it acted as 123456789012 whatever the server ran as), another `--account-id` is
/// refused by `cairn iam` and by `serve` (which showed an empty account).
#[test]
fn a_data_dir_keeps_the_account_it_was_first_served_with() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    drop(start(&data, &["--account-id", "111122223333"], &[]));

    let iam = |extra: &[&str]| output(cairn().arg("iam").args(extra).arg("--data-dir").arg(&data));
    let out = iam(&["create-user", "alice"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = iam(&["list-users"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("arn:aws:iam::111122223333:user/alice"),
        "{text}{}",
        stderr(&listed)
    );
    // As the AWS CLI prints it: a boolean, not the XML's text.
    let parsed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(parsed["IsTruncated"], serde_json::json!(false), "{text}");
    let out = iam(&["--account-id", "123456789012", "list-users"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("belongs to account 111122223333") && err.contains("123456789012"),
        "{err}"
    );

    let out = output(
        cairn()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(["--account-id", "123456789012"]),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("belongs to account 111122223333"), "{err}");
    // Without --account-id the server runs as the data dir's account.
    drop(start(&data, &[], &[]));
    let out = iam(&["--account-id", "111122223333", "list-users"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Start-up errors named neither the path nor the operation ("Operation not permitted (os
/// error 1)"), a regular file given as the data dir was said not to exist (after being
/// chmod-ed), and `kms generate-master-key` printed its OS error twice.
#[test]
fn startup_errors_name_the_path_and_the_operation() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let file = parent.path().join("a-file");
    std::fs::write(&file, "not a data dir").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let serve = |data: &std::path::Path| {
        output(
            cairn()
                .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(data),
        )
    };
    let out = serve(&file);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&file.display().to_string()) && err.contains("is not a directory"),
        "{err}"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "the file was left as it was");
    let out = output(cairn().args(["iam", "list-users", "--data-dir"]).arg(&file));
    assert!(
        stderr(&out).contains("is not a directory"),
        "{}",
        stderr(&out)
    );

    // A directory with files of its own (here one this user could not even chmod) is not
    // taken over: refused by name, before anything is tried on it.
    let out = serve(std::path::Path::new("/proc/self"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("/proc/self") && err.contains("is not a Cairn data dir"),
        "{err}"
    );

    let key = parent.path().join("master.key");
    write_master_key(&key);
    let out = output(
        cairn()
            .args(["kms", "generate-master-key", "--out"])
            .arg(&key),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&key.display().to_string()), "{err}");
    assert_eq!(err.matches("os error 17").count(), 1, "{err}");
}

/// One of the two root key variables without the other was silently ignored, and both
/// empty locked root out; both are refused before anything is made. An invalid `CAIRN_LOG`
/// was silently ignored; it is named in a warning.
#[test]
fn root_key_variables_come_in_non_empty_pairs_and_a_bad_log_filter_is_named() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let serve = |env: &[(&str, &str)]| {
        let mut cmd = cairn();
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env_remove("CAIRN_ROOT_ACCESS_KEY_ID")
            .env_remove("CAIRN_ROOT_SECRET_ACCESS_KEY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        output(&mut cmd)
    };
    for (env, says) in [
        (
            vec![("CAIRN_ROOT_ACCESS_KEY_ID", "AKIDONLY")],
            "CAIRN_ROOT_SECRET_ACCESS_KEY is not",
        ),
        (
            vec![("CAIRN_ROOT_SECRET_ACCESS_KEY", "secret-only")],
            "CAIRN_ROOT_ACCESS_KEY_ID is not",
        ),
        (
            vec![
                ("CAIRN_ROOT_ACCESS_KEY_ID", ""),
                ("CAIRN_ROOT_SECRET_ACCESS_KEY", ""),
            ],
            "is set but empty",
        ),
    ] {
        let out = serve(&env);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{env:?}: {err}");
        assert!(err.contains(says), "{env:?}: {err}");
        assert!(!data.exists(), "{env:?} made the data dir");
    }

    let out = serve(&[
        ("CAIRN_LOG", "cairn=verbose"),
        ("CAIRN_ROOT_ACCESS_KEY_ID", "AKIDONLY"),
    ]);
    let err = stderr(&out);
    assert!(
        err.contains("CAIRN_LOG is not a valid log filter") && err.contains("cairn=verbose"),
        "{err}"
    );
}

/// `cairn bench policy --seconds inf` panicked converting it to a duration.
#[test]
fn bench_policy_seconds_are_bounded() {
    for bad in ["inf", "NaN", "1e300"] {
        let out = output(cairn().args(["bench", "policy", "--seconds", bad]));
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
    }
}
