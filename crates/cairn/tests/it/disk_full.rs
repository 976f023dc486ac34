//! A full store (here: the `--max-store-mb` limit, which SQLite reports exactly like a full
//! disk) answers AWS's 503, records nothing it did not acknowledge, loses nothing it did, and
//! recovers when space comes back.

use std::process::Command;

use serde_json::json;

use crate::harness::{Server, error_type};

fn management_events(server: &Server) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["events", "--category", "Management", "--data-dir"])
        .arg(server.data_dir())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_full_store_answers_503_and_loses_nothing_acknowledged() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut server = Server::start_logging_into(&["--max-store-mb", "1"], log.reopen().unwrap());
    let padding = "x".repeat(2_000);
    let mut acknowledged = Vec::new();
    // Large records first, then small ones into the room the last large one did not fit
    // (where exactly the limit falls depends on the schema's pages).
    let mut refused = serde_json::Value::Null;
    for pad in [padding.as_str(), ""] {
        refused = loop {
            let name = format!("t{}", acknowledged.len());
            let (status, body) = server
                .ct("GetTrail", json!({ "Name": format!("{name}-{pad}") }))
                .await;
            match status {
                400 => acknowledged.push(name),
                503 => break body,
                other => panic!("unexpected {other}: {body}"),
            }
            assert!(acknowledged.len() < 5_000, "the store never filled");
        };
    }
    assert_eq!(error_type(&refused), "ServiceUnavailable");
    assert!(refused["Message"].as_str().unwrap().contains("Retry later"));
    let health = server
        .client
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    // Health checks see why every call is refused.
    assert_eq!(health.status(), 503);
    let said: serde_json::Value = health.json().await.unwrap();
    assert_eq!(said["status"], "full", "{said}");
    // A full disk is reported once, not once per refused call (ops2 counted 767 ERROR lines
    // in a minute).
    for _ in 0..20 {
        let (status, _) = server.ct("GetTrail", json!({ "Name": "refused" })).await;
        assert_eq!(status, 503);
    }
    let logged = std::fs::read_to_string(log.path()).unwrap();
    let reports: Vec<&str> = logged
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("full"))
        .collect();
    // Once per time the store filled (the small records' room made a second), not per call.
    assert!((1..=2).contains(&reports.len()), "{logged}");
    assert!(
        reports.iter().all(|r| r.contains("the disk is full")),
        "{logged}"
    );
    // Started again with a limit the store already fills, it says so at once (ops2).
    let again = tempfile::NamedTempFile::new().unwrap();
    server.restart_logging_into(&["--max-store-mb", "1"], again.reopen().unwrap());
    let logged = std::fs::read_to_string(again.path()).unwrap();
    assert!(
        logged.contains("--max-store-mb is not above the store's current size"),
        "{logged}"
    );
    // Every acknowledged call is recorded, exactly once; the refused one is not.
    server.restart_with(&[]);
    let health = server
        .client
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "space came back");
    let recorded: Vec<String> = management_events(&server)
        .iter()
        .filter(|e| e["eventName"] == "GetTrail")
        .map(|e| {
            e["requestParameters"]["name"]
                .as_str()
                .unwrap()
                .split('-')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(recorded, acknowledged);
    // With space again, calls succeed.
    let (status, _) = server.ct("ListTrails", json!({})).await;
    assert_eq!(status, 200);
}

/// A data dir moved or deleted under a running server leaves its database open but its object
/// files unreachable: `/health` says so (503) until it is back, rather than "ok" while every
/// object call fails.
#[tokio::test]
async fn health_is_unavailable_while_the_data_dir_is_moved_away() {
    let server = Server::start();
    let status = |server: &Server| {
        let url = server.url("/health");
        let client = server.client.clone();
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(&server).await, 200);
    let dir = server.data_dir();
    let moved = dir.with_extension("moved");
    std::fs::rename(&dir, &moved).unwrap();
    let (code, body) = {
        let resp = server
            .client
            .get(server.url("/health"))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    };
    std::fs::rename(&moved, &dir).unwrap();
    assert_eq!(code, 503, "{body}");
    assert!(body.contains(r#""status":"unavailable""#), "{body}");
    assert_eq!(status(&server).await, 200, "back in place");
}
