//! A subscriber that never answers holds up nothing: log files and digests of its own trail
//! and of other trails keep coming while its notification waits.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::Server;

/// Reads one HTTP request (headers and a Content-Length body); returns its body.
pub fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).expect("read request");
        assert!(n > 0, "connection closed mid-request");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).expect("read body");
                assert!(n > 0, "connection closed mid-body");
                buf.extend_from_slice(&chunk[..n]);
            }
            return buf[end + 4..end + 4 + length].to_vec();
        }
    }
}

/// An HTTP endpoint that answers the first request (the subscription confirmation), then
/// accepts every later connection and never answers it.
struct SilentSubscriber {
    url: String,
    confirmation: mpsc::Receiver<serde_json::Value>,
    held: Arc<AtomicUsize>,
}

fn silent_subscriber() -> SilentSubscriber {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, confirmation) = mpsc::channel();
    let held = Arc::new(AtomicUsize::new(0));
    let counter = held.clone();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        for (i, conn) in listener.incoming().enumerate() {
            let Ok(mut stream) = conn else { return };
            if i == 0 {
                let body = read_request(&mut stream);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                let _ = tx.send(serde_json::from_slice(&body).unwrap());
            } else {
                counter.fetch_add(1, Ordering::SeqCst);
                kept.push(stream); // open, silent, forever
            }
        }
    });
    SilentSubscriber {
        url,
        confirmation,
        held,
    }
}

pub async fn sns(server: &Server, params: &[(&str, &str)]) -> String {
    let (status, text) = server.query("sns", &form_urlencoded(params)).await;
    assert_eq!(status, 200, "{text}");
    text
}

fn form_urlencoded(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Keys under `prefix` in `bucket`, through the server's S3 API.
pub async fn keys(server: &Server, bucket: &str, prefix: &str) -> Vec<String> {
    let (status, body) = server
        .s3(
            "GET",
            &format!(
                "/{bucket}?list-type=2&prefix={}",
                prefix.replace('/', "%2F")
            ),
            b"",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body.split("<Key>")
        .skip(1)
        .map(|s| s.split("</Key>").next().unwrap().to_owned())
        .collect()
}

/// Waits (polling) until `done` holds, for at most `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_silent_subscriber_delays_no_log_file_and_no_digest() {
    let server = Server::start_with(&["--delivery-interval", "0.2", "--digest-interval", "1"]);
    let subscriber = silent_subscriber();
    let created = sns(&server, &[("Action", "CreateTopic"), ("Name", "notes")]).await;
    let topic = created
        .split("<TopicArn>")
        .nth(1)
        .and_then(|s| s.split("</TopicArn>").next())
        .expect("TopicArn")
        .to_owned();
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish", "Resource": topic}]})
    .to_string();
    sns(
        &server,
        &[
            ("Action", "SetTopicAttributes"),
            ("TopicArn", &topic),
            ("AttributeName", "Policy"),
            ("AttributeValue", &policy),
        ],
    )
    .await;
    sns(
        &server,
        &[
            ("Action", "Subscribe"),
            ("TopicArn", &topic),
            ("Protocol", "http"),
            ("Endpoint", &subscriber.url),
        ],
    )
    .await;
    let confirmation = subscriber
        .confirmation
        .recv_timeout(Duration::from_secs(10))
        .expect("subscription confirmation");
    let confirm_url = confirmation["SubscribeURL"].as_str().unwrap();
    let confirmed = reqwest::get(confirm_url).await.unwrap();
    assert_eq!(confirmed.status(), 200);

    for (trail, bucket, topic) in [
        ("noted", "noted-bucket", Some(topic.as_str())),
        ("plain", "plain-bucket", None),
    ] {
        server.bucket_for_trails(bucket).await;
        let mut body =
            json!({"Name": trail, "S3BucketName": bucket, "EnableLogFileValidation": true});
        if let Some(t) = topic {
            body["SnsTopicName"] = json!(t);
        }
        let (s, v) = server.ct("CreateTrail", body).await;
        assert_eq!(s, 200, "{v}");
        let (s, v) = server.ct("StartLogging", json!({"Name": trail})).await;
        assert_eq!(s, 200, "{v}");
    }
    let logs = "AWSLogs/123456789012/CloudTrail/";
    let digests = "AWSLogs/123456789012/CloudTrail-Digest/";
    wait_until(
        Duration::from_secs(20),
        "a notification to hang",
        || async { subscriber.held.load(Ordering::SeqCst) >= 1 },
    )
    .await;
    // The notifier is now stuck on the silent subscriber. Everything else goes on.
    wait_until(
        Duration::from_secs(20),
        "the other trail's log file and both trails' digests",
        || async {
            !keys(&server, "plain-bucket", logs).await.is_empty()
                && !keys(&server, "plain-bucket", digests).await.is_empty()
                && !keys(&server, "noted-bucket", digests).await.is_empty()
        },
    )
    .await;
    let before = keys(&server, "noted-bucket", logs).await.len();
    server.ct("DescribeTrails", json!({})).await;
    wait_until(
        Duration::from_secs(20),
        "a later log file of the trail whose subscriber hangs",
        || async { keys(&server, "noted-bucket", logs).await.len() > before },
    )
    .await;
}
