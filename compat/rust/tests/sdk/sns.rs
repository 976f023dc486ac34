//! SNS with the AWS SDK for Rust: a topic, an `email-json` subscription confirmed with the
//! token from the confirmation mail (Cairn writes mail to `<data-dir>/mail/new`), a publish
//! that reaches the subscriber, and the listings.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_sns::operation::publish::PublishError;

use crate::cairn::{ACCOUNT, Cairn};

/// The JSON bodies of the mails to `to` in the data dir's maildir, once `n` are there.
async fn wait_for_mail(dir: &Path, to: &str, n: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut found = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir.join("mail/new")) {
            for entry in entries.flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                if let Some((head, body)) = text.split_once("\r\n\r\n")
                    && head.contains(&format!("\nTo: {to}\r"))
                {
                    found.push(serde_json::from_str(body).expect("an email-json body"));
                }
            }
        }
        if found.len() >= n {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{n} mails for {to} within 10 s, got {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_subscription_confirmation_and_publish() {
    let cairn = Cairn::start();
    let sns = aws_sdk_sns::Client::new(&cairn.config().await);

    let topic = sns
        .create_topic()
        .name("rust-sdk-alerts")
        .send()
        .await
        .expect("CreateTopic");
    let topic_arn = topic.topic_arn().expect("TopicArn").to_string();
    assert_eq!(
        topic_arn,
        format!("arn:aws:sns:us-east-1:{ACCOUNT}:rust-sdk-alerts")
    );
    let topics = sns.list_topics().into_paginator().items().send();
    let topics = topics
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListTopics");
    let arns: Vec<_> = topics.iter().filter_map(|t| t.topic_arn()).collect();
    assert_eq!(arns, [topic_arn.as_str()]);

    let subscribed = sns
        .subscribe()
        .topic_arn(&topic_arn)
        .protocol("email-json")
        .endpoint("ops@example.com")
        .send()
        .await
        .expect("Subscribe");
    assert_eq!(subscribed.subscription_arn(), Some("pending confirmation"));
    let listed = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic_arn)
        .send()
        .await
        .unwrap();
    let [pending] = listed.subscriptions() else {
        panic!("one subscription: {listed:?}")
    };
    assert_eq!(pending.subscription_arn(), Some("PendingConfirmation"));
    assert_eq!(pending.endpoint(), Some("ops@example.com"));

    let [confirmation] = &wait_for_mail(cairn.data_dir(), "ops@example.com", 1).await[..] else {
        panic!("one confirmation mail")
    };
    assert_eq!(confirmation["Type"], "SubscriptionConfirmation");
    assert_eq!(confirmation["TopicArn"], topic_arn.as_str());
    let token = confirmation["Token"].as_str().expect("a Token");
    let confirmed = sns
        .confirm_subscription()
        .topic_arn(&topic_arn)
        .token(token)
        .send()
        .await
        .expect("ConfirmSubscription");
    let subscription_arn = confirmed
        .subscription_arn()
        .expect("SubscriptionArn")
        .to_string();
    assert!(
        subscription_arn.starts_with(&format!("{topic_arn}:")),
        "{subscription_arn}"
    );
    let listed = sns
        .list_subscriptions()
        .send()
        .await
        .expect("ListSubscriptions");
    let arns: Vec<_> = listed
        .subscriptions()
        .iter()
        .filter_map(|s| s.subscription_arn())
        .collect();
    assert_eq!(arns, [subscription_arn.as_str()]);

    let published = sns
        .publish()
        .topic_arn(&topic_arn)
        .subject("Alert")
        .message("disk full")
        .send()
        .await
        .expect("Publish");
    let message_id = published.message_id().expect("MessageId");
    let mails = wait_for_mail(cairn.data_dir(), "ops@example.com", 2).await;
    let note = mails
        .iter()
        .find(|m| m["Type"] == "Notification")
        .expect("the notification");
    assert_eq!(note["MessageId"], message_id);
    assert_eq!(note["Message"], "disk full");
    assert_eq!(note["Subject"], "Alert");
    assert_eq!(note["TopicArn"], topic_arn.as_str());

    let err = sns
        .publish()
        .topic_arn(format!("arn:aws:sns:us-east-1:{ACCOUNT}:no-such-topic"))
        .message("lost")
        .send()
        .await
        .expect_err("unknown topic");
    let err = err.into_service_error();
    assert!(
        matches!(err, PublishError::NotFoundException(_)),
        "NotFound, got {err:?}"
    );

    drop(sns);
    cairn.stop_and_verify();
}
