//! SNS deliveries are bounded: however many subscriptions a topic owner makes, at most
//! `MAX_ATTEMPTS_AT_ONCE` deliveries are attempted at once (and two messages signed at once,
//! off the workers that answer API calls), so a PublishBatch to a hundred slow endpoints
//! cannot keep every server worker busy (hostile9: API calls took 7 to 14 s for a minute).

use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use serde_json::Value;

use crate::delivery_notify::{read_request, sns, wait_until};
use crate::harness::Server;

/// Subscriptions of the test, more than the bound.
const SUBSCRIBERS: usize = 80;

/// The bound.
const BOUND: usize = cairn_delivery::MAX_ATTEMPTS_AT_ONCE;

#[tokio::test]
async fn deliveries_to_many_endpoints_are_attempted_a_few_at_a_time() {
    let server = Server::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let delivered = Arc::new(AtomicUsize::new(0));
    let (confirm_tx, confirmations) = mpsc::channel::<Value>();
    {
        let (in_flight, most, delivered) = (in_flight.clone(), most.clone(), delivered.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut stream) = conn else { return };
                let (in_flight, most, delivered, tx) = (
                    in_flight.clone(),
                    most.clone(),
                    delivered.clone(),
                    confirm_tx.clone(),
                );
                // A thread per connection: every delivery under way is seen at once.
                std::thread::spawn(move || {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let body: Value =
                        serde_json::from_slice(&read_request(&mut stream)).unwrap_or_default();
                    if body["Type"] == "Notification" {
                        // A slow endpoint: it answers once every delivery is under way or,
                        // when something bounds them, after ten seconds, so unbounded
                        // deliveries all overlap.
                        let until = std::time::Instant::now() + Duration::from_secs(10);
                        while in_flight.load(Ordering::SeqCst) < SUBSCRIBERS
                            && std::time::Instant::now() < until
                        {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        delivered.fetch_add(1, Ordering::SeqCst);
                    } else {
                        let _ = tx.send(body);
                    }
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                });
            }
        });
    }
    let created = sns(&server, &[("Action", "CreateTopic"), ("Name", "many")]).await;
    let topic = created
        .split("<TopicArn>")
        .nth(1)
        .and_then(|s| s.split("</TopicArn>").next())
        .unwrap()
        .to_owned();
    for n in 0..SUBSCRIBERS {
        let endpoint = format!("{base}?n={n}");
        sns(
            &server,
            &[
                ("Action", "Subscribe"),
                ("TopicArn", &topic),
                ("Protocol", "http"),
                ("Endpoint", &endpoint),
            ],
        )
        .await;
        let confirmation = confirmations
            .recv_timeout(Duration::from_secs(10))
            .expect("subscription confirmation");
        let url = confirmation["SubscribeURL"].as_str().unwrap().to_owned();
        assert!(reqwest::get(url).await.unwrap().status().is_success());
    }
    most.store(0, Ordering::SeqCst);
    sns(
        &server,
        &[
            ("Action", "Publish"),
            ("TopicArn", &topic),
            ("Message", "to all"),
        ],
    )
    .await;
    wait_until(Duration::from_secs(60), "every delivery", || {
        let delivered = delivered.clone();
        async move { delivered.load(Ordering::SeqCst) >= SUBSCRIBERS }
    })
    .await;
    let most = most.load(Ordering::SeqCst);
    assert!(
        (2..=BOUND).contains(&most),
        "{most} deliveries were attempted at once"
    );
}
