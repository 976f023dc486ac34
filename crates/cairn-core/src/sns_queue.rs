//! What SNS keeps in its durable delivery queue (`cairn_store::sns_queue`): for each recipient
//! of a [`Publication`], the message as that recipient receives it, written in the
//! transaction that accepts the publication ([`enqueue`]) and read back by the sender
//! ([`decode`]), which signs and sends it. A topic with a KMS key has its messages sealed
//! ([`crate::sns_sse`]): the sender opens them first. A queue holds at most [`QUEUE_BOUND`] messages per
//! subscription; beyond that its oldest are dropped and logged.

use cairn_store::Connection;
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::publish::{MessageAttribute, Publication, Recipient};

/// Most messages queued per subscription.
pub const QUEUE_BOUND: usize = 1000;

/// The persisted form of one recipient's message (`{"v":1,…}`).
#[derive(Serialize, Deserialize)]
struct Payload {
    v: u32,
    message_id: String,
    topic_arn: String,
    subject: Option<String>,
    message: String,
    attributes: Vec<(String, String, String)>,
    signature_version: String,
    timestamp_ms: i64,
    subscription_arn: String,
    endpoint: String,
    protocol: String,
    raw: bool,
    base_url: String,
    /// Absent in payloads queued before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
}

/// Queues `p` for each of its recipients, in the caller's transaction.
pub fn enqueue(
    conn: &Connection,
    p: &Publication,
    now_ms: i64,
    seal: Option<&crate::sns_sse::TopicSeal>,
) -> ApiResult<()> {
    for r in &p.recipients {
        let payload = Payload {
            v: 1,
            message_id: p.message_id.clone(),
            topic_arn: p.topic_arn.clone(),
            subject: p.subject.clone(),
            message: p.message_for(&r.protocol).to_owned(),
            attributes: p.attribute_triples(),
            signature_version: p.signature_version.clone(),
            timestamp_ms: p.timestamp_ms,
            subscription_arn: r.subscription_arn.clone(),
            endpoint: r.endpoint.clone(),
            protocol: r.protocol.clone(),
            raw: r.raw,
            base_url: r.base_url.clone(),
            display_name: p.display_name.clone(),
        };
        let mut text = serde_json::to_string(&payload).expect("a payload serializes");
        if let Some(seal) = seal {
            text = seal.seal(&text)?;
        }
        let dropped = cairn_store::sns_queue::enqueue(
            conn,
            &r.subscription_arn,
            &p.message_id,
            &text,
            (now_ms, chrono::Utc::now().timestamp_millis()),
            QUEUE_BOUND,
        )?;
        if dropped > 0 {
            tracing::warn!(subscription = %r.subscription_arn, dropped,
                "notification backlog full; the oldest notifications were dropped");
        }
    }
    Ok(())
}

/// A queued message as a publication with its one recipient, or `None` if the payload is not
/// one this binary wrote.
pub fn decode(payload: &str) -> Option<Publication> {
    let p: Payload = serde_json::from_str(payload).ok()?;
    if p.v != 1 {
        return None;
    }
    Some(Publication {
        message_id: p.message_id,
        topic_arn: p.topic_arn,
        subject: p.subject,
        message: p.message,
        per_protocol: Vec::new(),
        attributes: p
            .attributes
            .into_iter()
            .map(|(name, data_type, value)| MessageAttribute {
                binary: data_type.starts_with("Binary"),
                name,
                data_type,
                value,
            })
            .collect(),
        signature_version: p.signature_version,
        display_name: p.display_name,
        timestamp_ms: p.timestamp_ms,
        recipients: vec![Recipient {
            subscription_arn: p.subscription_arn,
            endpoint: p.endpoint,
            protocol: p.protocol,
            raw: p.raw,
            base_url: p.base_url,
        }],
    })
}
