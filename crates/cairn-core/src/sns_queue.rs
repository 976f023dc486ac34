//! What SNS keeps in its durable delivery queue (`cairn_store::sns_queue`): for each
//! publication, its body once (message, per-protocol messages, subject, attributes: what every
//! recipient shares, [`Body`]), and for each recipient a small row naming it ([`Recipient`]
//! fields), all written in the transaction that accepts the publication ([`enqueue`]) and read
//! back by the sender ([`decode`]), which signs and sends it. A topic with 2,000 subscribers
//! thus keeps one copy of a 256 KB message, not 2,000. A topic with a KMS key has its bodies
//! sealed ([`crate::sns_sse`]): the sender opens them first. A queue holds at most
//! [`QUEUE_BOUND`] messages per subscription; beyond that its oldest are dropped and logged.
//! Rows queued by a binary before bodies were kept apart (`{"v":1,…}`, the whole message in
//! each row) are still read.

use cairn_store::Connection;
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::publish::{MessageAttribute, Publication, Recipient};

/// Most messages queued per subscription.
pub const QUEUE_BOUND: usize = 1000;

/// The persisted form of one recipient's whole message (`{"v":1,…}`), as queued before
/// bodies were kept apart.
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

/// What every recipient of a publication shares, kept once (`{"b":1,…}`).
#[derive(Serialize, Deserialize)]
struct Body {
    b: u32,
    message_id: String,
    topic_arn: String,
    subject: Option<String>,
    message: String,
    per_protocol: Vec<(String, String)>,
    attributes: Vec<(String, String, String)>,
    signature_version: String,
    timestamp_ms: i64,
    display_name: Option<String>,
}

/// One recipient's row (`{"r":1,…}`), naming its body.
#[derive(Serialize, Deserialize)]
struct Row {
    r: u32,
    subscription_arn: String,
    endpoint: String,
    protocol: String,
    raw: bool,
    base_url: String,
}

/// Queues `p` for each of its recipients, in the caller's transaction: its body once, then
/// one row per recipient.
pub fn enqueue(
    conn: &Connection,
    p: &Publication,
    now_ms: i64,
    seal: Option<&crate::sns_sse::TopicSeal>,
) -> ApiResult<()> {
    if p.recipients.is_empty() {
        return Ok(());
    }
    let body = Body {
        b: 1,
        message_id: p.message_id.clone(),
        topic_arn: p.topic_arn.clone(),
        subject: p.subject.clone(),
        message: p.message.clone(),
        per_protocol: p.per_protocol.clone(),
        attributes: p.attribute_triples(),
        signature_version: p.signature_version.clone(),
        timestamp_ms: p.timestamp_ms,
        display_name: p.display_name.clone(),
    };
    let mut text = serde_json::to_string(&body).expect("a body serializes");
    if let Some(seal) = seal {
        text = seal.seal(&text)?;
    }
    let body_id = cairn_store::sns_queue::add_body(conn, &p.message_id, &text)?;
    for r in &p.recipients {
        let row = Row {
            r: 1,
            subscription_arn: r.subscription_arn.clone(),
            endpoint: r.endpoint.clone(),
            protocol: r.protocol.clone(),
            raw: r.raw,
            base_url: r.base_url.clone(),
        };
        let row = serde_json::to_string(&row).expect("a row serializes");
        let dropped = cairn_store::sns_queue::enqueue(
            conn,
            &r.subscription_arn,
            (&p.message_id, Some(body_id)),
            &row,
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

/// A queued message as a publication with its one recipient: a row and its body (opened, if
/// it was sealed), or a row queued whole before bodies were kept apart (`body` `None`).
/// `None` if either is not one this binary wrote.
pub fn decode(payload: &str, body: Option<&str>) -> Option<Publication> {
    if let Some(body) = body {
        return decode_parts(payload, body);
    }
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
        attributes: attributes_of(p.attributes),
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

/// A row and its body as a publication with that one recipient.
fn decode_parts(row: &str, body: &str) -> Option<Publication> {
    let r: Row = serde_json::from_str(row).ok()?;
    let b: Body = serde_json::from_str(body).ok()?;
    if r.r != 1 || b.b != 1 {
        return None;
    }
    Some(Publication {
        message_id: b.message_id,
        topic_arn: b.topic_arn,
        subject: b.subject,
        message: b.message,
        per_protocol: b.per_protocol,
        attributes: attributes_of(b.attributes),
        signature_version: b.signature_version,
        display_name: b.display_name,
        timestamp_ms: b.timestamp_ms,
        recipients: vec![Recipient {
            subscription_arn: r.subscription_arn,
            endpoint: r.endpoint,
            protocol: r.protocol,
            raw: r.raw,
            base_url: r.base_url,
        }],
    })
}

/// Stored attribute triples as message attributes.
fn attributes_of(triples: Vec<(String, String, String)>) -> Vec<MessageAttribute> {
    triples
        .into_iter()
        .map(|(name, data_type, value)| MessageAttribute {
            binary: data_type.starts_with("Binary"),
            name,
            data_type,
            value,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    /// A row queued whole by a binary before bodies were kept apart still decodes.
    #[test]
    fn a_row_queued_whole_still_decodes() {
        let old = r#"{"v":1,"message_id":"m","topic_arn":"t","subject":null,"message":"hi",
            "attributes":[["k","String","v"]],"signature_version":"1","timestamp_ms":5,
            "subscription_arn":"s","endpoint":"http://e/","protocol":"http","raw":false,
            "base_url":"http://b/"}"#;
        let p = super::decode(old, None).unwrap();
        assert_eq!(
            (p.message.as_str(), p.recipients[0].endpoint.as_str()),
            ("hi", "http://e/")
        );
        assert_eq!(p.attributes[0].value, "v");
        assert!(super::decode("{}", Some("{}")).is_none());
    }
}
