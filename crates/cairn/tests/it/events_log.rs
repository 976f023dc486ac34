//! The event log across retention: seqs never restart, retention never deletes what a trail
//! has not delivered, and the chain catches a deleted, inserted or edited event.

use std::path::Path;
use std::process::{Command, Output};

use cairn_store::{Store, events};
use serde_json::{Value, json};

use crate::harness::*;

/// Runs `cairn <args>` and returns its output.
pub fn cairn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .output()
        .expect("run cairn")
}

/// Every record in the bucket's CloudTrail log files.
pub async fn delivered(server: &Server, bucket: &str) -> Vec<Value> {
    let (s, listing) = server
        .s3(
            "GET",
            &format!("/{bucket}?list-type=2&prefix=AWSLogs%2F"),
            b"",
        )
        .await;
    assert_eq!(s, 200, "{listing}");
    let mut records = Vec::new();
    for part in listing.split("<Key>").skip(1) {
        let key = &part[..part.find("</Key>").expect("closing tag")];
        if key.contains("CloudTrail-Digest") {
            continue;
        }
        let req = sign_s3(
            &server.addr,
            "us-east-1",
            "GET",
            &format!("/{bucket}/{key}"),
            Vec::new(),
            chrono::Utc::now(),
        );
        let (s, _, body) = server.send(req).await;
        assert_eq!(s, 200);
        let json = cairn_logfile::verify::gunzip(&body).expect("gzip");
        let file: Value = serde_json::from_slice(&json).expect("log file JSON");
        records.extend(file["Records"].as_array().expect("Records").iter().cloned());
    }
    records
}

/// A CloudTrail call in us-east-1 that returns its request id too.
pub async fn call(server: &Server, op: &str, body: Value) -> (u16, Value, String) {
    let req = sign_json(
        &server.addr,
        "us-east-1",
        ACCESS_KEY,
        SECRET,
        op,
        body.to_string().into_bytes(),
        chrono::Utc::now(),
    );
    let (status, headers, bytes) = server.send(req).await;
    let rid = headers["x-amzn-requestid"].to_str().unwrap().to_owned();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON body")
    };
    (status, value, rid)
}

/// Request ids of the delivered records.
pub fn request_ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["requestID"].as_str().unwrap().to_owned())
        .collect()
}

fn open(dir: &Path) -> Store {
    Store::open(&dir.join("cairn.db")).expect("open store")
}

fn expire_all(store: &Store) -> usize {
    let mut total = 0;
    loop {
        let n = store
            .write_blocking(|c| events::expire_before(c, i64::MAX, 1_000))
            .unwrap()
            .unwrap();
        total += n;
        if n < 1_000 {
            return total;
        }
    }
}

async fn logging_trail(server: &Server, name: &str, bucket: &str) {
    server.bucket_for_trails(bucket).await;
    let (s, v) = server
        .ct("CreateTrail", json!({"Name": name, "S3BucketName": bucket}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = server.ct("StartLogging", json!({"Name": name})).await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn retention_keeps_what_a_trail_has_not_delivered() {
    let mut server = Server::start();
    let dir = server.data_dir();
    logging_trail(&server, "keeper", "keeper-bucket").await;
    let (_, _, first) = call(&server, "ListTrails", json!({})).await;

    // Retention runs before delivery: only the events before StartLogging may go.
    let store = open(&dir);
    let before = store.read_blocking(events::count).unwrap();
    let gone = expire_all(&store);
    let kept = store.read_blocking(events::count).unwrap();
    assert_eq!(gone as i64, before - kept);
    assert!(
        kept >= 2,
        "StartLogging and ListTrails were deleted before delivery"
    );
    drop(store);

    server.flush(&[]);
    let ids = request_ids(&delivered(&server, "keeper-bucket").await);
    assert!(ids.contains(&first), "the held-back event was delivered");
}

#[tokio::test]
async fn seqs_never_restart_after_retention_empties_the_log() {
    let mut server = Server::start();
    let dir = server.data_dir();
    logging_trail(&server, "restart", "restart-bucket").await;
    let (_, _, first) = call(&server, "ListTrails", json!({})).await;
    server.flush(&[]);
    let ids = request_ids(&delivered(&server, "restart-bucket").await);
    assert!(ids.contains(&first));
    // Reading the bucket recorded a ListObjectsV2 call: deliver that too.
    server.flush(&[]);

    // Everything is delivered: retention may empty the log.
    let store = open(&dir);
    expire_all(&store);
    assert_eq!(store.read_blocking(events::count).unwrap(), 0);
    drop(store);

    server.kill9_and_restart();
    let mut after = Vec::new();
    for _ in 0..3 {
        let (s, _, rid) = call(&server, "DescribeTrails", json!({})).await;
        assert_eq!(s, 200);
        after.push(rid);
    }
    server.flush(&[]);
    let ids = request_ids(&delivered(&server, "restart-bucket").await);
    for rid in &after {
        assert!(
            ids.contains(rid),
            "an event recorded after the log emptied was never delivered"
        );
    }
    let out = cairn(&["verify-store", "--data-dir", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn tamper(dir: &Path, sql: &str) {
    let conn = cairn_store::Connection::open(dir.join("cairn.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute_batch(sql).unwrap();
}

fn verify(dir: &Path) -> (i32, String) {
    let out = cairn(&["verify-store", "--data-dir", dir.to_str().unwrap()]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn verify_store_reports_deleted_inserted_and_edited_events() {
    let server = Server::start();
    let dir = server.data_dir();
    for _ in 0..8 {
        let (s, _) = server.ct("ListTrails", json!({})).await;
        assert_eq!(s, 200);
    }
    let (code, out) = verify(&dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Chain intact"), "{out}");

    tamper(
        &dir,
        "UPDATE events SET record = replace(record, 'ListTrails', 'ListTrailz') WHERE seq = 3",
    );
    let (code, out) = verify(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("seq 3: event edited"), "{out}");

    tamper(&dir, "DELETE FROM events WHERE seq = 5");
    let (_, out) = verify(&dir);
    assert!(out.contains("seq 5: event deleted"), "{out}");

    tamper(
        &dir,
        "INSERT INTO events (seq, event_id, event_time, account, region, category, event_name,
             event_source, read_only, username, access_key_id, record, chain)
         SELECT 1000, 'forged-id', event_time, account, region, category, event_name,
             event_source, read_only, username, access_key_id, record, chain FROM events WHERE seq = 6",
    );
    let (_, out) = verify(&dir);
    assert!(out.contains("seq 1000: event inserted"), "{out}");

    // Deleting the newest events is caught by the head.
    tamper(&dir, "DELETE FROM events WHERE seq >= 7");
    let (code, out) = verify(&dir);
    assert_eq!(code, 1);
    assert!(out.contains("deleted"), "{out}");
}

/// A damaged page the chain walk never reads (here the root page of an index on the trails
/// table) is reported too, from SQLite's integrity check: the server's start-up check tells
/// the operator to run `verify-store`, which must then see it.
#[tokio::test]
async fn verify_store_reports_a_damaged_page_outside_the_chain() {
    let mut server = Server::start();
    let dir = server.data_dir();
    let (s, _) = server.ct("ListTrails", json!({})).await;
    assert_eq!(s, 200);
    server.kill9();
    let db = dir.join("cairn.db");
    let (page, page_size): (i64, i64) = {
        let conn = cairn_store::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        let page = conn
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'trails' LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let size = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        (page, size)
    };
    let (code, out) = verify(&dir);
    assert_eq!(code, 0, "{out}");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
        f.seek(SeekFrom::Start(((page - 1) * page_size) as u64))
            .unwrap();
        f.write_all(&vec![0xA5; page_size as usize]).unwrap();
    }
    let (code, out) = verify(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Chain intact"),
        "the events are untouched: {out}"
    );
    assert!(out.contains("database file damaged: "), "{out}");
}

#[test]
fn verify_store_refuses_a_missing_data_dir_and_creates_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("typo");
    let (code, _) = verify(&missing);
    assert_eq!(code, 2);
    assert!(!missing.exists(), "verify-store created the data dir");
}

/// Delivery checks the event chain before it writes (and so before any digest signs) a
/// file: an event edited in the store after it was recorded stops the trail's delivery at
/// that file, which GetTrailStatus reports, instead of going out as if it were genuine.
#[tokio::test]
async fn delivery_refuses_a_file_whose_events_were_edited() {
    let mut server = Server::start();
    server.bucket_for_trails("chain-bucket").await;
    let (s, v) = server
        .ct(
            "CreateTrail",
            json!({"Name": "chained", "S3BucketName": "chain-bucket"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        server
            .ct("StartLogging", json!({"Name": "chained"}))
            .await
            .0,
        200
    );
    for _ in 0..3 {
        assert_eq!(server.ct("ListTrails", json!({})).await.0, 200);
    }
    let dir = server.data_dir();
    tamper(
        &dir,
        "UPDATE events SET record = replace(record, 'ListTrails', 'ListTrailz')
         WHERE seq = (SELECT max(seq) FROM events WHERE event_name = 'ListTrails')",
    );
    // The harness also checks that flush exits 3 (something stayed pending), not 0.
    let flushed = server.flush(&[]);
    assert_eq!(flushed["Files"], 0, "{flushed}");
    assert!(flushed["Failed"].as_u64().unwrap() >= 1, "{flushed}");
    assert!(
        delivered(&server, "chain-bucket").await.is_empty(),
        "a file with an edited event was delivered"
    );
    let (s, status) = server
        .ct("GetTrailStatus", json!({"Name": "chained"}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(status["LatestDeliveryError"], "InternalError", "{status}");
}
