//! SNS delivery that survives the server: messages queued for an HTTP subscriber outlive a
//! crash and are delivered after the restart, under the topic's `DeliveryPolicy` (which also
//! shows in `EffectiveDeliveryPolicy`); and CloudTrail's file notifications are authorized
//! against the topic's policy as it is when each file is delivered.

use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::{Value, json};

use crate::delivery_notify::{keys, read_request, sns, wait_until};
use crate::harness::Server;

/// One notification request the subscriber saw, and the status it answered.
#[derive(Clone, Debug)]
struct Seen {
    message_id: String,
    message: String,
    status: u16,
}

/// An HTTP subscriber in the test process: it answers confirmations 200 (and hands them
/// over), and notifications with `status`, recording each.
struct Subscriber {
    url: String,
    confirmations: mpsc::Receiver<Value>,
    status: Arc<AtomicU16>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Subscriber {
    fn start(status: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let (tx, confirmations) = mpsc::channel();
        let status = Arc::new(AtomicU16::new(status));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (answer, log) = (status.clone(), seen.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut stream) = conn else { return };
                let body: Value = serde_json::from_slice(&read_request(&mut stream)).unwrap();
                let code = if body["Type"] == "Notification" {
                    answer.load(Ordering::SeqCst)
                } else {
                    200
                };
                let _ = stream.write_all(
                    format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                );
                if body["Type"] == "Notification" {
                    log.lock().unwrap().push(Seen {
                        message_id: body["MessageId"].as_str().unwrap().to_owned(),
                        message: body["Message"].as_str().unwrap().to_owned(),
                        status: code,
                    });
                } else {
                    let _ = tx.send(body);
                }
            }
        });
        Self {
            url,
            confirmations,
            status,
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Message ids answered 2xx.
    fn delivered(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .seen()
            .into_iter()
            .filter(|s| s.status < 300)
            .map(|s| s.message_id)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    text.split(open)
        .nth(1)
        .and_then(|s| s.split(close).next())
        .unwrap_or_else(|| panic!("{open} in {text}"))
}

/// The value of attribute `name` in a Get*Attributes answer.
fn attribute(xml: &str, name: &str) -> String {
    let entry = between(xml, &format!("<key>{name}</key>"), "</entry>");
    between(entry, "<value>", "</value>").replace("&quot;", "\"")
}

async fn topic_with_subscriber(server: &Server, name: &str, sub: &Subscriber) -> (String, String) {
    let created = sns(server, &[("Action", "CreateTopic"), ("Name", name)]).await;
    let topic = between(&created, "<TopicArn>", "</TopicArn>").to_owned();
    sns(
        server,
        &[
            ("Action", "Subscribe"),
            ("TopicArn", &topic),
            ("Protocol", "http"),
            ("Endpoint", &sub.url),
        ],
    )
    .await;
    let confirmation = sub
        .confirmations
        .recv_timeout(Duration::from_secs(10))
        .expect("subscription confirmation");
    let confirmed = reqwest::get(confirmation["SubscribeURL"].as_str().unwrap())
        .await
        .unwrap();
    let text = confirmed.text().await.unwrap();
    let arn = between(&text, "<SubscriptionArn>", "</SubscriptionArn>").to_owned();
    (topic, arn)
}

/// A topic with `sub` subscribed, retrying a failed message every second, 50 times.
async fn retrying_topic(server: &Server, name: &str, sub: &Subscriber) -> String {
    let (topic, _) = topic_with_subscriber(server, name, sub).await;
    let policy = json!({"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 1,
        "maxDelayTarget": 1, "numRetries": 50}}});
    set_topic(server, &topic, "DeliveryPolicy", &policy.to_string()).await;
    topic
}

async fn set_topic(server: &Server, topic: &str, name: &str, value: &str) {
    sns(
        server,
        &[
            ("Action", "SetTopicAttributes"),
            ("TopicArn", topic),
            ("AttributeName", name),
            ("AttributeValue", value),
        ],
    )
    .await;
}

#[tokio::test]
async fn the_topic_delivery_policy_applies_and_shows() {
    let server = Server::start();
    let sub = Subscriber::start(500);
    let (topic, sub_arn) = topic_with_subscriber(&server, "durable", &sub).await;
    // Retries one second apart (SNS's default waits 20 s), and plenty of them.
    let policy = json!({"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 1,
        "maxDelayTarget": 1, "numRetries": 50, "numMaxDelayRetries": 0, "numNoDelayRetries": 0,
        "numMinDelayRetries": 0, "backoffFunction": "linear"}}});
    set_topic(&server, &topic, "DeliveryPolicy", &policy.to_string()).await;
    let attrs = sns(
        &server,
        &[("Action", "GetTopicAttributes"), ("TopicArn", &topic)],
    )
    .await;
    let effective: Value =
        serde_json::from_str(&attribute(&attrs, "EffectiveDeliveryPolicy")).unwrap();
    assert_eq!(
        effective["http"]["defaultHealthyRetryPolicy"]["numRetries"], 50,
        "{effective}"
    );
    let attrs = sns(
        &server,
        &[
            ("Action", "GetSubscriptionAttributes"),
            ("SubscriptionArn", &sub_arn),
        ],
    )
    .await;
    let effective: Value =
        serde_json::from_str(&attribute(&attrs, "EffectiveDeliveryPolicy")).unwrap();
    assert_eq!(
        effective["healthyRetryPolicy"]["minDelayTarget"], 1,
        "{effective}"
    );

    // A publication is retried on the topic's one-second policy, not 20 s apart.
    sns(
        &server,
        &[
            ("Action", "Publish"),
            ("TopicArn", &topic),
            ("Message", "first"),
        ],
    )
    .await;
    wait_until(
        Duration::from_secs(10),
        "a retry one second later",
        || async { sub.seen().len() >= 2 },
    )
    .await;
}

#[tokio::test]
async fn queued_messages_survive_a_crash() {
    let mut server = Server::start();
    let sub = Subscriber::start(500);
    let topic = retrying_topic(&server, "durable", &sub).await;
    let mut published = Vec::new();
    for i in 0..3 {
        let text = sns(
            &server,
            &[
                ("Action", "Publish"),
                ("TopicArn", &topic),
                ("Message", &format!("message {i}")),
            ],
        )
        .await;
        published.push(between(&text, "<MessageId>", "</MessageId>").to_owned());
    }
    published.sort();
    wait_until(Duration::from_secs(10), "a first attempt", || async {
        !sub.seen().is_empty()
    })
    .await;
    // Each message is tried on its own schedule: one failing does not hold back the others.
    wait_until(
        Duration::from_secs(10),
        "a first attempt of each",
        || async {
            let mut tried: Vec<String> = sub.seen().into_iter().map(|s| s.message).collect();
            tried.sort();
            tried.dedup();
            tried.len() == 3
        },
    )
    .await;
    server.kill9_and_restart();
    sub.status.store(200, Ordering::SeqCst);
    // Within a lease (60 s) should the crash have cut an attempt short.
    wait_until(
        Duration::from_secs(90),
        "every message after the restart",
        || async { sub.delivered() == published },
    )
    .await;
    let mut answered: Vec<String> = sub
        .seen()
        .into_iter()
        .filter(|s| s.status == 200)
        .map(|s| s.message)
        .collect();
    answered.sort();
    assert_eq!(
        answered,
        ["message 0", "message 1", "message 2"],
        "each delivered once"
    );
}

fn notified_keys(sub: &Subscriber) -> Vec<String> {
    sub.seen()
        .iter()
        .flat_map(|s| {
            let m: Value = serde_json::from_str(&s.message).unwrap();
            m["s3ObjectKey"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn notification_error(server: &Server) -> Option<String> {
    let (s, v) = server.ct("GetTrailStatus", json!({"Name": "siem"})).await;
    assert_eq!(s, 200, "{v}");
    v["LatestNotificationError"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn trail_notifications_follow_the_topic_policy_at_publish_time() {
    let server = Server::start_with(&["--delivery-interval", "0.2"]);
    let sub = Subscriber::start(200);
    let (topic, _) = topic_with_subscriber(&server, "ct-topic", &sub).await;
    let statement = |effect: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": effect,
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish",
            "Resource": topic}]})
        .to_string()
    };
    set_topic(&server, &topic, "Policy", &statement("Allow")).await;
    server.bucket_for_trails("siem-bucket").await;
    let (s, v) = server
        .ct(
            "CreateTrail",
            json!({"Name": "siem", "S3BucketName": "siem-bucket", "SnsTopicName": topic}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = server.ct("StartLogging", json!({"Name": "siem"})).await;
    assert_eq!(s, 200, "{v}");
    let logs = "AWSLogs/123456789012/CloudTrail/";
    wait_until(Duration::from_secs(20), "a first notification", || async {
        !notified_keys(&sub).is_empty()
    })
    .await;

    // An explicit Deny for CloudTrail: files keep coming, their notifications do not.
    set_topic(&server, &topic, "Policy", &statement("Deny")).await;
    let before = keys(&server, "siem-bucket", logs).await;
    wait_until(
        Duration::from_secs(20),
        "the refusal in the trail status",
        || async {
            server.ct("DescribeTrails", json!({})).await;
            notification_error(&server).await.as_deref() == Some("AuthorizationError")
        },
    )
    .await;
    wait_until(
        Duration::from_secs(20),
        "a file delivered under the Deny",
        || async { keys(&server, "siem-bucket", logs).await.len() > before.len() },
    )
    .await;

    // Allowed again: the next file is notified and the error clears.
    set_topic(&server, &topic, "Policy", &statement("Allow")).await;
    let denied = keys(&server, "siem-bucket", logs).await;
    wait_until(
        Duration::from_secs(20),
        "a notification after the fix",
        || async {
            server.ct("DescribeTrails", json!({})).await;
            notified_keys(&sub).iter().any(|k| !denied.contains(k))
        },
    )
    .await;
    let notified = notified_keys(&sub);
    let refused: Vec<&String> = denied.iter().filter(|k| !before.contains(k)).collect();
    assert!(!refused.is_empty());
    for k in refused {
        assert!(!notified.contains(k), "{k} was announced under the Deny");
    }
    wait_until(Duration::from_secs(20), "the error to clear", || async {
        notification_error(&server).await.is_none()
    })
    .await;
}

/// `cairn alarms run` beside the running server, evaluating at `now_secs`.
fn alarms_run(server: &Server, now_secs: i64, wait_secs: &str) -> Value {
    crate::alarms::alarms_run_with(server, now_secs, &["--notification-wait", wait_secs])
}

/// An alarm that goes to ALARM at any evaluation (missing data breaching), notifying `topic`.
async fn breaching_alarm(server: &Server, topic: &str) {
    crate::alarms::cw_ok(
        server,
        "PutMetricAlarm",
        json!({"AlarmName": "always", "MetricName": "Nothing", "Namespace": "Test",
        "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "breaching", "AlarmActions": [topic]}),
    )
    .await;
}

#[tokio::test]
async fn an_alarm_evaluated_at_a_later_time_notifies_at_once() {
    let server = Server::start_with(&["--alarm-tick-secs", "0"]);
    let sub = Subscriber::start(200);
    let (topic, _) = topic_with_subscriber(&server, "alarms", &sub).await;
    breaching_alarm(&server, &topic).await;
    // Evaluated ten minutes ahead: the message is still due now, not in ten minutes.
    let run = alarms_run(&server, chrono::Utc::now().timestamp() + 600, "30");
    assert_eq!(
        (run["Published"].as_i64(), run["Delivered"].as_i64()),
        (Some(1), Some(1)),
        "{run}"
    );
    assert_eq!(sub.delivered().len(), 1);
}

#[tokio::test]
async fn the_server_sends_what_another_process_queued_and_left() {
    let server = Server::start_with(&["--alarm-tick-secs", "0"]);
    let sub = Subscriber::start(500);
    let topic = retrying_topic(&server, "alarms", &sub).await;
    breaching_alarm(&server, &topic).await;
    // The subscriber fails while `cairn alarms run` waits one second: it exits with the
    // message still queued.
    let run = alarms_run(&server, chrono::Utc::now().timestamp(), "1");
    assert_eq!(
        (run["Published"].as_i64(), run["Delivered"].as_i64()),
        (Some(1), Some(0)),
        "{run}"
    );
    sub.status.store(200, Ordering::SeqCst);
    // The server's sweep takes it (within a lease, should the process have died mid-attempt).
    wait_until(
        Duration::from_secs(90),
        "the server to send the message",
        || async { sub.delivered().len() == 1 },
    )
    .await;
    let answered: Vec<Seen> = sub.seen().into_iter().filter(|s| s.status == 200).collect();
    assert_eq!(answered.len(), 1, "sent once: {answered:?}");
    assert!(
        answered[0].message.contains("\"NewStateValue\":\"ALARM\""),
        "{answered:?}"
    );
}

/// A command beside the data dir (`cairn alarms run`) sends the messages it published, not
/// what the server queued (those the server sends, under its outbound address rules).
#[tokio::test]
async fn a_command_sends_only_its_own_messages() {
    let mut server = Server::start_with(&["--alarm-tick-secs", "0"]);
    let sub = Subscriber::start(500);
    let topic = retrying_topic(&server, "alarms", &sub).await;
    breaching_alarm(&server, &topic).await;
    sns(
        &server,
        &[
            ("Action", "Publish"),
            ("TopicArn", &topic),
            ("Message", "from the API"),
        ],
    )
    .await;
    wait_until(Duration::from_secs(10), "a first attempt", || async {
        !sub.seen().is_empty()
    })
    .await;
    server.kill9();
    sub.status.store(200, Ordering::SeqCst);
    let run = alarms_run(&server, chrono::Utc::now().timestamp(), "90");
    assert_eq!(
        (run["Published"].as_i64(), run["Delivered"].as_i64()),
        (Some(1), Some(1)),
        "{run}"
    );
    let answered = |sub: &Subscriber| -> Vec<String> {
        sub.seen()
            .into_iter()
            .filter(|s| s.status == 200)
            .map(|s| s.message)
            .collect()
    };
    let sent = answered(&sub);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("\"NewStateValue\":\"ALARM\""), "{sent:?}");
    // The server, started again, sends the API's message.
    server.start_again();
    wait_until(Duration::from_secs(90), "the API's message", || async {
        answered(&sub).iter().any(|m| m == "from the API")
    })
    .await;
}
