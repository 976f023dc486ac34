//! Sending a publication: for each recipient the message its protocol receives — a signed
//! SNS `Notification` (http, https, email-json), the bare message (`RawMessageDelivery`), or
//! a mail (email) — queued on the [`Notifier`] (per-subscription queues, SNS's retry policy).
//!
//! This is the one way to publish to a topic: alarm actions, CloudTrail's file notifications
//! and the public `Publish`/`PublishBatch` call it after their transaction commits with the
//! [`cairn_core::publish::Publication`] it prepared. Subscription and unsubscribe
//! confirmations leave through [`send_confirmation`], signed the same way.

use cairn_core::publish::{Publication, Recipient};
use cairn_store::sns::Subscription;

use crate::notify::{Notification, Notifier};
use crate::sns_message::{self, MessageType, SnsMessage};

/// The JSON body of `m`, signed with the notifier's key (unsigned when it has none).
fn signed_json(notifier: &Notifier, m: &SnsMessage, base: &str) -> String {
    match notifier.signer() {
        Some(signer) => {
            let text = sns_message::string_to_sign(m);
            match signer.sign(&m.signature_version, text.as_bytes()) {
                Ok(sig) => sns_message::to_json(m, &sig, &signer.cert_url(base)),
                Err(e) => {
                    tracing::error!(error = %e, "cannot sign an SNS message");
                    sns_message::to_json(m, "", &signer.cert_url(base))
                }
            }
        }
        None => sns_message::to_json(m, "", ""),
    }
}

fn base_of<'a>(notifier: &'a Notifier, stored: &'a str) -> &'a str {
    if stored.is_empty() {
        notifier.base_url()
    } else {
        stored
    }
}

const EMAIL_FOOTER: &str = "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n";

/// The notification one recipient receives.
pub fn notification_for(notifier: &Notifier, p: &Publication, r: &Recipient) -> Notification {
    let base = base_of(notifier, &r.base_url);
    let message = p.message_for(&r.protocol).to_owned();
    let unsubscribe = sns_message::unsubscribe_url(base, &r.subscription_arn);
    let m = SnsMessage {
        message_type: MessageType::Notification,
        message_id: p.message_id.clone(),
        topic_arn: p.topic_arn.clone(),
        subject: p.subject.clone(),
        message: message.clone(),
        timestamp: sns_message::timestamp(p.timestamp_ms),
        token: None,
        subscribe_url: None,
        unsubscribe_url: Some(unsubscribe.clone()),
        attributes: p.attribute_triples(),
        signature_version: p.signature_version.clone(),
    };
    let body = match (r.protocol.as_str(), r.raw) {
        ("email", _) => format!("{message}{EMAIL_FOOTER}{unsubscribe}\n"),
        (_, true) => message,
        _ => signed_json(notifier, &m, base),
    };
    Notification {
        subscription_arn: r.subscription_arn.clone(),
        endpoint: r.endpoint.clone(),
        topic_arn: p.topic_arn.clone(),
        protocol: r.protocol.clone(),
        message_type: MessageType::Notification,
        message_id: p.message_id.clone(),
        raw: r.raw,
        subject: Some(
            p.subject
                .clone()
                .unwrap_or_else(|| "AWS Notification Message".into()),
        ),
        sender: p.display_name.clone(),
        body,
        content_type: None,
    }
}

/// Sends `p` to each of its recipients and returns at once: from the durable queues its
/// transaction wrote (`cairn_core::sns_queue`) when the notifier has the store, else from
/// memory. Must be called within a Tokio runtime, after that transaction committed.
pub fn publish(notifier: &Notifier, p: &Publication) {
    for r in &p.recipients {
        if notifier.durable() {
            notifier.kick_published(&r.subscription_arn, &p.message_id);
        } else {
            notifier.send(notification_for(notifier, p, r));
        }
    }
}

/// Queues the `SubscriptionConfirmation` (or, with `unsubscribed`, the
/// `UnsubscribeConfirmation`) of `sub`, signed with the topic's signature version (its
/// `DisplayName` the email's sender name).
pub fn send_confirmation(
    notifier: &Notifier,
    sub: &Subscription,
    voice: &cairn_core::sns::TopicVoice,
    unsubscribed: bool,
    now_ms: i64,
) {
    let signature_version = voice.signature_version.as_str();
    let base = base_of(notifier, &sub.base_url);
    let topic = &sub.topic_arn;
    let subscribe_url = sns_message::subscribe_url(base, topic, &sub.token);
    let (message_type, message, subject) = if unsubscribed {
        (
            MessageType::UnsubscribeConfirmation,
            format!(
                "You have chosen to deactivate subscription {}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.",
                sub.arn
            ),
            "AWS Notification - Unsubscribe Confirmation",
        )
    } else {
        (
            MessageType::SubscriptionConfirmation,
            format!(
                "You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message."
            ),
            "AWS Notification - Subscription Confirmation",
        )
    };
    let m = SnsMessage {
        message_type,
        message_id: uuid::Uuid::new_v4().to_string(),
        topic_arn: topic.clone(),
        subject: None,
        message,
        timestamp: sns_message::timestamp(now_ms),
        token: Some(sub.token.clone()),
        subscribe_url: Some(subscribe_url.clone()),
        unsubscribe_url: None,
        attributes: Vec::new(),
        signature_version: signature_version.to_owned(),
    };
    let body = if sub.protocol == "email" {
        if unsubscribed {
            format!(
                "You have chosen to deactivate subscription:\n{}\n\nTo cancel this operation and restore the subscription, click or visit the link below:\nResubscribe: {subscribe_url}\n",
                sub.arn
            )
        } else {
            format!(
                "You have chosen to subscribe to the topic: \n{topic}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary):\nConfirm subscription: {subscribe_url}\n"
            )
        }
    } else {
        signed_json(notifier, &m, base)
    };
    notifier.send(Notification {
        subscription_arn: sub.arn.clone(),
        endpoint: sub.endpoint.clone(),
        topic_arn: topic.clone(),
        protocol: sub.protocol.clone(),
        message_type,
        message_id: m.message_id.clone(),
        raw: false,
        subject: Some(subject.to_owned()),
        sender: voice.display_name.clone(),
        body,
        content_type: None,
    });
}
