//! Upgrading data dirs made by older Cairn builds. Each test makes a data dir with the
//! current server, rewrites it with SQL into the shape an older build left (its schema
//! version, its missing rows, the rows an older binary appended), and runs the real binary
//! on it: a newer schema is refused by the server and every admin command, admin commands
//! never upgrade an older one, the server refuses events an older binary left outside the
//! event chain, the upgrade rebuilds the LookupEvents resource index of old events, and a
//! multipart upload begun before sealing existed completes into a sealed object.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{ACCESS_KEY, SECRET, Server};
use crate::s3_sse_copy_multipart::{assert_not_at_rest, call, plaintext, text, upload_id};

/// Runs `cairn <args>` (a server start is expected to fail) to its end; panics if it is
/// still running after 60 s (a server that started after all).
fn cairn(args: &[&str], dir: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("CAIRN_LOG", "warn")
        .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cairn");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cairn {args:?} was still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn serve(dir: &Path) -> Output {
    cairn(&["serve", "--listen", "127.0.0.1:0"], dir)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sql(dir: &Path, batch: &str) {
    let conn = cairn_store::Connection::open(dir.join("cairn.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.execute_batch(batch).unwrap();
}

fn user_version(dir: &Path) -> i64 {
    let conn = cairn_store::Connection::open(dir.join("cairn.db")).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

fn stop(server: &mut Server) {
    server.child.kill().expect("kill");
    server.child.wait().expect("reap");
}

/// A data dir a newer Cairn upgraded (schema 99) is refused, by name and version, by the
/// server and by every admin command, and stays as it is.
#[tokio::test]
async fn a_newer_schema_is_refused_by_the_server_and_admin_commands() {
    let mut server = Server::start();
    assert_eq!(server.ct("ListTrails", json!({})).await.0, 200);
    stop(&mut server);
    let dir = server.data_dir();
    sql(&dir, "PRAGMA user_version = 99");
    let out = serve(&dir);
    assert!(!out.status.success());
    let why = stderr(&out);
    assert!(
        why.contains("schema version 99")
            && why.contains(&format!("(schema {})", cairn_store::SCHEMA_VERSION)),
        "{why}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
    for args in [
        &["events"][..],
        &["iam", "list-users"],
        &["flush"],
        &["lifecycle", "run"],
    ] {
        let out = cairn(args, &dir);
        assert!(!out.status.success(), "cairn {args:?} ran");
        assert!(
            stderr(&out).contains("schema version 99"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = cairn(&["verify-store"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("newer"), "{}", stderr(&out));
    assert_eq!(user_version(&dir), 99);
}

/// A store of schema 23 (before the resource index rebuild): its IAM and SNS events lack
/// the resource rows recording derives now. Admin commands refuse it, untouched; the server
/// upgrades it, after which `verify-store` passes and LookupEvents finds the old events by
/// ResourceName.
#[tokio::test]
async fn the_upgrade_rebuilds_the_resource_index_and_only_the_server_upgrades() {
    let mut server = Server::start();
    let (s, body) = server
        .query("iam", "Action=CreateUser&UserName=carol&Version=2010-05-08")
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = server
        .query("sns", "Action=CreateTopic&Name=t1&Version=2010-03-31")
        .await;
    assert_eq!(s, 200, "{body}");
    stop(&mut server);
    let dir = server.data_dir();
    // What a schema-23 build left: no derived rows, no version-24 index.
    sql(
        &dir,
        "DELETE FROM event_resources WHERE resource_type IN ('AWS::IAM::User', 'AWS::SNS::Topic');
         DROP INDEX events_unchained;
         PRAGMA user_version = 23;",
    );
    let before = cairn(&["verify-store"], &dir);
    assert_eq!(before.status.code(), Some(1), "the old index disagrees");
    let said = String::from_utf8_lossy(&before.stdout).into_owned();
    assert!(
        said.contains(&format!(
            "Schema version 23 (this cairn's: {})",
            cairn_store::SCHEMA_VERSION
        )),
        "{said}"
    );
    // A refused command leaves every database file as it was, byte for byte.
    let files = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                let name = p.file_name()?.to_str()?.to_owned();
                name.starts_with("cairn.db")
                    .then(|| (name, std::fs::read(&p).unwrap()))
            })
            .collect();
        out.sort();
        out
    };
    let untouched = files(&dir);
    for args in [
        &["events"][..],
        &["iam", "list-users"],
        &["bench", "populate", "--events", "5"],
    ] {
        let out = cairn(args, &dir);
        assert!(!out.status.success(), "cairn {args:?} ran on an old store");
        let why = stderr(&out);
        assert!(
            why.contains("schema version 23") && why.contains("start `cairn serve`"),
            "{why}"
        );
    }
    assert!(
        files(&dir) == untouched,
        "a refused command rewrote the database files"
    );
    assert_eq!(
        user_version(&dir),
        23,
        "an admin command upgraded the store"
    );

    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    server.restart_logging_into(&[], log);
    assert_eq!(user_version(&dir), cairn_store::SCHEMA_VERSION);
    // The one-way upgrade is in the log, with both versions.
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logged
            .lines()
            .any(|l| l.contains("upgraded the data dir's schema")
                && l.contains("from=23")
                && l.contains(&format!("to={}", cairn_store::SCHEMA_VERSION))),
        "{logged}"
    );
    for name in ["carol", "arn:aws:sns:us-east-1:123456789012:t1"] {
        let (s, page) = server
            .ct(
                "LookupEvents",
                json!({"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": name}]}),
            )
            .await;
        assert_eq!(s, 200, "{page}");
        let names: Vec<&str> = page["Events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["EventName"].as_str())
            .collect();
        assert!(!names.is_empty(), "{name}: {page}");
    }
    let after = cairn(&["verify-store"], &dir);
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&after.stdout)
    );
    let listed = cairn(&["iam", "list-users"], &dir);
    assert!(listed.status.success(), "{}", stderr(&listed));
}

/// Events a binary older than the chain appended after the upgrade (rows past the head,
/// without a chain value) make the server refuse to start, saying what happened and what
/// to do, instead of answering every call with a 500.
#[tokio::test]
async fn events_outside_the_chain_stop_the_server_from_starting() {
    let mut server = Server::start();
    assert_eq!(server.ct("ListTrails", json!({})).await.0, 200);
    stop(&mut server);
    let dir = server.data_dir();
    // As the schema-4 build appends: the next seq after the newest row, no chain value.
    sql(
        &dir,
        "INSERT INTO events (event_id, event_time, account, region, category, event_name,
             event_source, read_only, username, access_key_id, record)
         SELECT 'from-an-old-binary', event_time, account, region, category, event_name,
             event_source, read_only, username, access_key_id, record
         FROM events ORDER BY seq DESC LIMIT 1",
    );
    let out = serve(&dir);
    assert!(!out.status.success());
    let why = stderr(&out);
    for said in [
        "not part of the event chain",
        "older than the chain",
        "cairn verify-store",
        "backup",
    ] {
        assert!(why.contains(said), "{said}: {why}");
    }
    let out = cairn(&["events"], &dir);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not part of the event chain"),
        "{}",
        stderr(&out)
    );
}

/// A multipart upload begun before sealing existed (no data key; parts stored as written)
/// and completed now is stored sealed (SSE-S3, as reported) and reads back whole.
#[tokio::test]
async fn an_upload_begun_before_sealing_completes_sealed() {
    let mut server = Server::start();
    assert_eq!(server.s3("PUT", "/legacy", b"").await.0, 200);
    let created = call(&server, "POST", "/legacy/big?uploads", &[], b"").await;
    assert_eq!(created.0, 200, "{}", text(&created.2));
    let id = upload_id(&created.2);
    stop(&mut server);
    let dir = server.data_dir();
    // The old format: the upload's meta has no sealing and each part is its plain bytes in
    // a file of its own under objects/.
    let parts = [
        plaintext(5 * 1024 * 1024 + 10, "first"),
        plaintext(70_000, "second"),
    ];
    let mut listed = String::new();
    let mut rows = String::new();
    for (i, bytes) in parts.iter().enumerate() {
        let n = i + 1;
        let file = format!("legacypart{n}");
        std::fs::write(dir.join("objects").join(&file), bytes).unwrap();
        let md5 = hex::encode(<md5::Md5 as md5::Digest>::digest(bytes));
        listed.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>\"{md5}\"</ETag></Part>"
        ));
        rows.push_str(&format!(
            "INSERT INTO multipart_parts (upload_id, part_number, file, size, etag, last_modified)
             VALUES ('{id}', {n}, '{file}', {}, '{md5}', 1);",
            bytes.len()
        ));
    }
    sql(
        &dir,
        &format!(
            "UPDATE multipart_uploads SET meta = json_remove(meta, '$.sse_s3', '$.sse_kms')
                 WHERE upload_id = '{id}';
             {rows}"
        ),
    );
    server.kill9_and_restart();
    let done = call(
        &server,
        "POST",
        &format!("/legacy/big?uploadId={id}"),
        &[],
        format!("<CompleteMultipartUpload>{listed}</CompleteMultipartUpload>").as_bytes(),
    )
    .await;
    assert_eq!(done.0, 200, "{}", text(&done.2));
    let whole: Vec<u8> = parts.concat();
    let (s, headers, got) = call(&server, "GET", "/legacy/big", &[], b"").await;
    assert_eq!(s, 200);
    assert!(got == whole, "the object reads back as the parts");
    assert_eq!(headers["x-amz-server-side-encryption"], "AES256");
    let meta: String = cairn_store::Connection::open(dir.join("cairn.db"))
        .unwrap()
        .query_row(
            "SELECT meta FROM objects WHERE bucket = 'legacy' AND key = 'big'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let meta: Value = serde_json::from_str(&meta).unwrap();
    assert!(meta.get("sse_s3").is_some(), "{meta}");
    // The old parts' files go with the upload; nothing holds the plaintext.
    assert_not_at_rest(&server, &whole, "completed legacy upload");
}

/// ops6: a build of schema 32 released before the step gained the alarms' `due_ms` column
/// stamped data dirs 32 without it, and every alarm call then failed (500). Schema 33 runs
/// the step again, adding what is missing.
#[tokio::test]
async fn a_data_dir_stamped_32_without_the_alarms_column_is_mended() {
    let mut server = Server::start();
    stop(&mut server);
    let dir = server.data_dir();
    sql(
        &dir,
        "DROP INDEX cw_alarms_by_due;
         ALTER TABLE cw_alarms DROP COLUMN due_ms;
         PRAGMA user_version = 32;",
    );
    server.restart();
    assert_eq!(user_version(&dir), cairn_store::SCHEMA_VERSION);
    crate::alarms::cw_ok(
        &server,
        "PutMetricAlarm",
        json!({"AlarmName": "mended", "MetricName": "Errors", "Namespace": "App",
            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold"}),
    )
    .await;
    let described =
        crate::alarms::cw_ok(&server, "DescribeAlarms", json!({"AlarmNames": ["mended"]})).await;
    assert_eq!(described["MetricAlarms"][0]["AlarmName"], "mended");
}
