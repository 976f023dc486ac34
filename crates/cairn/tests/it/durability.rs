//! Acknowledged calls survive `kill -9`, and a damaged database file is reported at start.

use std::collections::HashSet;

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn acknowledged_events_survive_kill_9_and_restart() {
    let mut server = Server::start();
    server.bucket_for_trails("durable-bucket").await;
    let (s, _) = server
        .ct(
            "CreateTrail",
            json!({"Name": "durable", "S3BucketName": "durable-bucket"}),
        )
        .await;
    assert_eq!(s, 200);
    // Concurrent acknowledged writes and reads, then an immediate SIGKILL.
    let mut request_ids = HashSet::new();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let req = if i % 2 == 0 {
            sign_json(&server.addr, "us-east-1", ACCESS_KEY, SECRET, "AddTags",
                json!({"ResourceId": "arn:aws:cloudtrail:us-east-1:123456789012:trail/durable", "TagsList": [{"Key": format!("k{}", i % 40), "Value": "v"}]}).to_string().into_bytes(),
                chrono::Utc::now())
        } else {
            sign_json(
                &server.addr,
                "us-east-1",
                ACCESS_KEY,
                SECRET,
                "GetTrailStatus",
                br#"{"Name":"durable"}"#.to_vec(),
                chrono::Utc::now(),
            )
        };
        let client = server.client.clone();
        let url = server.url("/");
        tasks.push(tokio::spawn(async move {
            let (status, headers, _) = send_with(&client, &url, req).await;
            assert_eq!(status, 200);
            headers["x-amzn-requestid"].to_str().unwrap().to_owned()
        }));
    }
    for t in tasks {
        request_ids.insert(t.await.unwrap());
    }
    server.kill9_and_restart();
    // The trail's state change and every acknowledged event are there after the restart.
    let (s, v) = server
        .ct(
            "ListTags",
            json!({"ResourceIdList": ["arn:aws:cloudtrail:us-east-1:123456789012:trail/durable"]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["ResourceTagList"][0]["TagsList"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let mut found = HashSet::new();
    let mut body = json!({});
    loop {
        let (_, page) = server.ct("LookupEvents", body.clone()).await;
        for e in page["Events"].as_array().unwrap() {
            let record: serde_json::Value =
                serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap();
            found.insert(record["requestID"].as_str().unwrap().to_owned());
        }
        match page["NextToken"].as_str() {
            Some(t) => body["NextToken"] = json!(t),
            None => break,
        }
    }
    let missing: Vec<_> = request_ids.difference(&found).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
}

/// A database file damaged in the middle (here: two pages overwritten) still opens, so the
/// server starts; its background integrity check says so at ERROR instead of leaving it to
/// the first query that reaches the bad page.
#[test]
fn a_damaged_database_file_is_reported_at_start() {
    use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let populated = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["bench", "populate", "--events", "3000", "--data-dir"])
        .arg(&data)
        .env("CAIRN_LOG", "warn")
        .output()
        .unwrap();
    assert!(populated.status.success(), "{populated:?}");
    let db = data.join("cairn.db");
    {
        let conn = cairn_store::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }
    let size = std::fs::metadata(&db).unwrap().len();
    let mut file = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    file.seek(SeekFrom::Start(size * 6 / 10 / 4096 * 4096))
        .unwrap();
    file.write_all(&[0xAB; 8192]).unwrap();
    file.sync_all().unwrap();
    drop(file);

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("CAIRN_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let reported = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("database file is damaged") => break Some(line),
            Ok(_) => continue,
            Err(_) => break None,
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let line = reported.expect("no report of the damaged database file");
    assert!(line.contains("ERROR"), "{line}");
}
