//! Sending a publication: one SNS `Notification` envelope per confirmed HTTP(S) subscriber,
//! queued on the [`Notifier`] (per-subscription queues, SNS's retry policy).
//!
//! This is the one way to publish to a topic: alarm actions call it after their evaluation
//! commits, and a public SNS `Publish` should call it the same way with the
//! [`cairn_core::publish::Publication`] its gated operation prepared.

use cairn_core::publish::Publication;
use chrono::TimeZone;

use crate::notify::{Notification, Notifier};

/// The `Notification` envelope a subscriber receives (AWS's member order).
pub fn envelope(p: &Publication) -> String {
    let mut m = serde_json::Map::new();
    m.insert("Type".into(), "Notification".into());
    m.insert("MessageId".into(), p.message_id.clone().into());
    m.insert("TopicArn".into(), p.topic_arn.clone().into());
    if let Some(s) = &p.subject {
        m.insert("Subject".into(), s.clone().into());
    }
    m.insert("Message".into(), p.message.clone().into());
    let ts = chrono::Utc
        .timestamp_millis_opt(p.timestamp_ms)
        .single()
        .unwrap_or_default();
    m.insert(
        "Timestamp".into(),
        ts.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into(),
    );
    m.insert("SignatureVersion".into(), "1".into());
    m.insert("UnsubscribeURL".into(), "".into());
    serde_json::Value::Object(m).to_string()
}

/// Queues `p` for each of its recipients and returns at once. Must be called within a Tokio
/// runtime.
pub fn publish(notifier: &Notifier, p: &Publication) {
    for r in &p.recipients {
        notifier.send(Notification {
            subscription_arn: r.subscription_arn.clone(),
            endpoint: r.endpoint.clone(),
            topic_arn: p.topic_arn.clone(),
            body: envelope(p),
        });
    }
}
