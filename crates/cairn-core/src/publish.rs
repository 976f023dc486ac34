//! Publishing a message to an SNS topic, the part that belongs in a store transaction: check
//! the topic exists and fix who receives the message (its confirmed subscriptions) and the
//! message's identity. Sending is `cairn_delivery::publish`, after the transaction commits.
//!
//! Alarm actions publish through [`prepare`]; the public `Publish` API should call the same
//! function inside its gated operation and hand the result to `cairn_delivery::publish`.

use cairn_store::Connection;

use crate::error::{ApiError, ApiResult, ErrorKind};

/// One subscriber a publication goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// Subscription ARN.
    pub subscription_arn: String,
    /// Its HTTP(S) endpoint.
    pub endpoint: String,
}

/// A message accepted by a topic, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    /// `MessageId` (a UUID, the same for every recipient and retry).
    pub message_id: String,
    /// The topic.
    pub topic_arn: String,
    /// `Subject`, when published with one.
    pub subject: Option<String>,
    /// `Message`.
    pub message: String,
    /// Publication time, ms (the envelope's `Timestamp`).
    pub timestamp_ms: i64,
    /// Confirmed subscriptions at publication time.
    pub recipients: Vec<Recipient>,
}

fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Accepts `message` for `topic_arn` at `now_ms`: `NotFound` ("Topic does not exist") when the
/// topic is unknown, else the publication for its confirmed subscribers (possibly none).
pub fn prepare(
    conn: &Connection,
    topic_arn: &str,
    subject: Option<&str>,
    message: &str,
    now_ms: i64,
) -> ApiResult<Publication> {
    if cairn_store::sns::get_topic(conn, topic_arn)?.is_none() {
        return Err(ApiError::new(
            ErrorKind::SnsNotFound,
            "Topic does not exist",
        ));
    }
    let recipients = cairn_store::sns::subscriptions(conn, topic_arn)?
        .into_iter()
        .filter(|s| s.confirmed)
        .map(|s| Recipient {
            subscription_arn: s.arn,
            endpoint: s.endpoint,
        })
        .collect();
    Ok(Publication {
        message_id: uuid_v4(),
        topic_arn: topic_arn.to_owned(),
        subject: subject.map(str::to_owned),
        message: message.to_owned(),
        timestamp_ms: now_ms,
        recipients,
    })
}
