//! Acknowledged calls survive `kill -9`.

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
