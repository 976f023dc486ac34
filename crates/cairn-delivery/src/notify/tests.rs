//! The notifier against real HTTP endpoints on loopback that answer what the test says.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use super::*;

/// Reads one request; returns its body.
fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).into_owned());
        }
    }
}

/// An endpoint that reports each request body, then answers with the next status the test
/// hands it (and, without one, holds the connection open, silent).
struct Endpoint {
    url: String,
    bodies: mpsc::Receiver<String>,
    answers: mpsc::Sender<u16>,
}

fn endpoint() -> Endpoint {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (body_tx, bodies) = mpsc::channel();
    let (answers, answer_rx) = mpsc::channel::<u16>();
    let answer_rx = std::sync::Arc::new(std::sync::Mutex::new(answer_rx));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut stream) = conn else { return };
            let (body_tx, answer_rx) = (body_tx.clone(), answer_rx.clone());
            // A thread per connection: a silent one must not keep the next from being read.
            std::thread::spawn(move || {
                let Some(body) = read_request(&mut stream) else {
                    return;
                };
                if body_tx.send(body).is_err() {
                    return;
                }
                let answer = answer_rx.lock().unwrap().recv();
                let Ok(status) = answer else {
                    // No answer will come: stay silent until the test process ends.
                    std::thread::sleep(Duration::from_secs(600));
                    return;
                };
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                );
            });
        }
    });
    Endpoint {
        url,
        bodies,
        answers,
    }
}

fn note(ep: &Endpoint, sub: &str, body: &str) -> Notification {
    Notification {
        subscription_arn: sub.into(),
        endpoint: ep.url.clone(),
        topic_arn: "arn:aws:sns:us-east-1:123456789012:t".into(),
        protocol: "http".into(),
        message_type: crate::sns_message::MessageType::Notification,
        message_id: "m".into(),
        raw: false,
        subject: None,
        sender: None,
        body: body.into(),
        content_type: None,
    }
}

fn fast(retries: u32, timeout: Duration, backlog: usize) -> NotifierConfig {
    NotifierConfig {
        policy: RetryPolicy {
            num_retries: retries,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(5),
            ..RetryPolicy::sns_http_default()
        },
        connect_timeout: timeout,
        request_timeout: timeout,
        backlog,
        guard: None,
        ..Default::default()
    }
}

async fn next_body(ep: &Endpoint) -> String {
    let rx = &ep.bodies;
    tokio::task::block_in_place(|| rx.recv_timeout(Duration::from_secs(10))).expect("a request")
}

#[test]
fn the_default_policy_is_three_retries_twenty_seconds_apart() {
    let p = RetryPolicy::sns_http_default();
    let delays: Vec<_> = (0..4).map(|n| p.delay_before_retry(n)).collect();
    let twenty = Some(Duration::from_secs(20));
    assert_eq!(delays, vec![twenty, twenty, twenty, None]);
}

#[test]
fn policy_phases_run_no_delay_min_linear_backoff_then_max() {
    let p = RetryPolicy {
        num_retries: 10,
        num_no_delay_retries: 2,
        num_min_delay_retries: 2,
        num_max_delay_retries: 2,
        min_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(5),
    };
    let secs: Vec<Option<u64>> = (0..11)
        .map(|n| p.delay_before_retry(n).map(|d| d.as_secs()))
        .collect();
    let s = Some;
    assert_eq!(
        secs,
        vec![
            s(0),
            s(0),
            s(1),
            s(1),
            s(2),
            s(3),
            s(4),
            s(5),
            s(5),
            s(5),
            None
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_until_delivered_and_4xx_is_final() {
    let ep = endpoint();
    let n = Notifier::new(fast(3, Duration::from_secs(10), 10));
    for status in [500, 503, 200] {
        ep.answers.send(status).unwrap();
    }
    n.send(note(&ep, "s", "hello"));
    for _ in 0..3 {
        assert_eq!(
            next_body(&ep).await,
            "hello",
            "retries resend the same message"
        );
    }
    assert!(n.drain(Duration::from_secs(10)).await);
    assert_eq!(n.stats().delivered, 1);

    ep.answers.send(404).unwrap();
    n.send(note(&ep, "s", "gone"));
    assert_eq!(next_body(&ep).await, "gone");
    assert!(n.drain(Duration::from_secs(10)).await);
    assert_eq!(n.stats().delivered, 2, "SNS does not retry 4xx answers");
    assert!(ep.bodies.try_recv().is_err(), "no retry after 404");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_policy_drops_and_counts_the_notification() {
    let ep = endpoint();
    let n = Notifier::new(fast(2, Duration::from_secs(10), 10));
    for _ in 0..3 {
        ep.answers.send(500).unwrap();
    }
    n.send(note(&ep, "s", "doomed"));
    for _ in 0..3 {
        next_body(&ep).await;
    }
    assert!(n.drain(Duration::from_secs(10)).await);
    assert_eq!(
        n.stats(),
        NotifyStats {
            delivered: 0,
            failed: 1,
            dropped: 0
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_endpoint_times_out() {
    let ep = endpoint();
    let n = Notifier::new(fast(1, Duration::from_millis(200), 10));
    n.send(note(&ep, "s", "into the void"));
    next_body(&ep).await;
    next_body(&ep).await; // the retry, after the first attempt timed out
    assert!(
        n.drain(Duration::from_secs(10)).await,
        "timeouts end attempts"
    );
    assert_eq!(n.stats().failed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_subscriber_holds_up_only_its_own_queue() {
    let silent = endpoint();
    let healthy = endpoint();
    let n = Notifier::new(fast(0, Duration::from_secs(30), 10));
    n.send(note(&silent, "silent", "a"));
    next_body(&silent).await; // its sender is now waiting on an answer that never comes
    for i in 0..3 {
        healthy.answers.send(200).unwrap();
        n.send(note(&healthy, "healthy", &format!("b{i}")));
        assert_eq!(next_body(&healthy).await, format!("b{i}"));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while n.stats().delivered < 3 {
        assert!(std::time::Instant::now() < deadline, "{:?}", n.stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(n.outstanding(), 1, "only the silent one is still out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_backlog_drops_the_oldest_and_counts_it() {
    let ep = endpoint();
    let n = Notifier::new(fast(0, Duration::from_secs(30), 2));
    n.send(note(&ep, "s", "1"));
    assert_eq!(next_body(&ep).await, "1", "in flight, unanswered");
    for body in ["2", "3", "4"] {
        n.send(note(&ep, "s", body));
    }
    assert_eq!(n.stats().dropped, 1);
    assert_eq!(n.outstanding(), 3, "one in flight, two queued");
    for _ in 0..3 {
        ep.answers.send(200).unwrap();
    }
    assert_eq!(
        next_body(&ep).await,
        "3",
        "the oldest queued one was dropped"
    );
    assert_eq!(next_body(&ep).await, "4");
    assert!(n.drain(Duration::from_secs(10)).await);
    assert_eq!(
        n.stats(),
        NotifyStats {
            delivered: 3,
            failed: 0,
            dropped: 1
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guard_refuses_forbidden_addresses_and_pins_allowed_ones() {
    let ep = endpoint();
    let port = ep
        .url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let refuse_all: AddressGuard = Arc::new(|a| Some(format!("{a} is forbidden")));
    let n = Notifier::new(NotifierConfig {
        guard: Some(refuse_all),
        ..fast(3, Duration::from_secs(10), 10)
    });
    n.send(note(&ep, "s", "never"));
    assert!(n.drain(Duration::from_secs(10)).await);
    assert_eq!(n.stats().failed, 1, "refused without an attempt or a retry");
    assert!(ep.bodies.try_recv().is_err());

    let loopback_only: AddressGuard =
        Arc::new(|a| (!a.ip().is_loopback()).then(|| "not loopback".to_owned()));
    let n = Notifier::new(NotifierConfig {
        guard: Some(loopback_only),
        ..fast(0, Duration::from_secs(10), 10)
    });
    ep.answers.send(200).unwrap();
    let mut by_name = note(&ep, "s", "pinned");
    by_name.endpoint = format!("http://localhost:{port}/");
    n.send(by_name);
    assert_eq!(next_body(&ep).await, "pinned");
    assert!(n.drain(Duration::from_secs(10)).await);
    assert_eq!(n.stats().delivered, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_confirmed_subscription_stops_its_confirmation_retries() {
    let ep = endpoint();
    let mut config = fast(3, Duration::from_secs(5), 10);
    config.policy.min_delay = Duration::from_secs(3600);
    config.policy.max_delay = Duration::from_secs(3600);
    let notifier = Notifier::new(config);
    let sub = "arn:aws:sns:us-east-1:123456789012:t:c";
    let mut confirmation = note(&ep, sub, "confirm");
    confirmation.message_type = crate::sns_message::MessageType::SubscriptionConfirmation;
    notifier.send(confirmation);
    assert_eq!(next_body(&ep).await, "confirm");
    // The confirmation is still unanswered (and would then wait an hour to be retried); the
    // notification queued behind it goes as soon as the subscription is confirmed.
    notifier.send(note(&ep, sub, "after"));
    notifier.confirmed(sub);
    assert_eq!(next_body(&ep).await, "after");
    // Two answers: the endpoint's connection threads take them in the order they wait, and
    // the abandoned confirmation's may be first in line.
    ep.answers.send(200).unwrap();
    ep.answers.send(200).unwrap();
    assert!(notifier.drain(Duration::from_secs(10)).await);
    assert_eq!(notifier.stats().failed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_guard_judges_the_address_a_delivery_connects_to() {
    // The endpoint plays Cairn's own listener: the server's guard must refuse every spelling
    // that connects to it, and a host name only by what it resolves to.
    let ep = endpoint();
    let own: SocketAddr = ep
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let guard: AddressGuard =
        Arc::new(move |a| cairn_core::net::outbound_refusal(a, &[], Some(own)));
    let n = Notifier::new(NotifierConfig {
        guard: Some(guard),
        ..fast(0, Duration::from_secs(10), 10)
    });
    let port = own.port();
    for spelling in [
        format!("http://0.0.0.0:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::]:{port}/"),
        format!("http://localhost:{port}/"),
    ] {
        let mut to_self = note(&ep, "s", "never");
        to_self.endpoint = spelling;
        n.send(to_self);
    }
    assert!(n.drain(Duration::from_secs(10)).await);
    assert_eq!(n.stats().failed, 4, "refused before any connection");
    assert!(ep.bodies.try_recv().is_err());
}

#[test]
fn admin_links_use_only_the_url_line_of_the_endpoint_file() {
    // `serve` writes the URL, then the data dir's identity on a second line: a link built
    // from the whole file carried a newline and "data-dir …" into SigningCertURL.
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(crate::admin_base_url(dir.path()), "http://127.0.0.1:4599");
    std::fs::write(
        dir.path().join("ENDPOINT"),
        "http://127.0.0.1:40001/\ndata-dir 1:2\n",
    )
    .unwrap();
    assert_eq!(crate::admin_base_url(dir.path()), "http://127.0.0.1:40001");
    std::fs::write(dir.path().join("ENDPOINT"), "\n").unwrap();
    assert_eq!(crate::admin_base_url(dir.path()), "http://127.0.0.1:4599");
}
