//! The JSON messages SNS posts to HTTP(S) subscribers (`Notification`,
//! `SubscriptionConfirmation`, `UnsubscribeConfirmation`), with AWS's member order, and the
//! string their signature covers: `"<Key>\n<Value>\n"` for each signed key present, in AWS's
//! fixed order (Notification: Message, MessageId, Subject, Timestamp, TopicArn, Type;
//! confirmations: Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type).

use serde_json::{Map, Value};

/// Which message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// A published message.
    Notification,
    /// Sent on Subscribe.
    SubscriptionConfirmation,
    /// Sent on Unsubscribe.
    UnsubscribeConfirmation,
}

impl MessageType {
    /// `Type` and the `x-amz-sns-message-type` header.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Notification => "Notification",
            MessageType::SubscriptionConfirmation => "SubscriptionConfirmation",
            MessageType::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }
}

/// A message before it is signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnsMessage {
    /// `Type`.
    pub message_type: MessageType,
    /// `MessageId`.
    pub message_id: String,
    /// `TopicArn`.
    pub topic_arn: String,
    /// `Subject` (notifications published with one).
    pub subject: Option<String>,
    /// `Message`.
    pub message: String,
    /// `Timestamp`, `yyyy-MM-ddTHH:mm:ss.SSSZ`.
    pub timestamp: String,
    /// `Token` (confirmations).
    pub token: Option<String>,
    /// `SubscribeURL` (confirmations).
    pub subscribe_url: Option<String>,
    /// `UnsubscribeURL` (notifications).
    pub unsubscribe_url: Option<String>,
    /// `MessageAttributes` as (name, type, value).
    pub attributes: Vec<(String, String, String)>,
    /// `SignatureVersion`, "1" or "2".
    pub signature_version: String,
}

/// The string the signature covers.
pub fn string_to_sign(m: &SnsMessage) -> String {
    let mut out = String::new();
    let mut add = |k: &str, v: &str| {
        out.push_str(k);
        out.push('\n');
        out.push_str(v);
        out.push('\n');
    };
    add("Message", &m.message);
    add("MessageId", &m.message_id);
    match m.message_type {
        MessageType::Notification => {
            if let Some(s) = &m.subject {
                add("Subject", s);
            }
            add("Timestamp", &m.timestamp);
        }
        _ => {
            add("SubscribeURL", m.subscribe_url.as_deref().unwrap_or(""));
            add("Timestamp", &m.timestamp);
            add("Token", m.token.as_deref().unwrap_or(""));
        }
    }
    add("TopicArn", &m.topic_arn);
    add("Type", m.message_type.as_str());
    out
}

/// The JSON body, in AWS's member order, with the signature and certificate URL.
pub fn to_json(m: &SnsMessage, signature: &str, signing_cert_url: &str) -> String {
    let mut o = Map::new();
    let s = |v: &str| Value::String(v.to_owned());
    o.insert("Type".into(), s(m.message_type.as_str()));
    o.insert("MessageId".into(), s(&m.message_id));
    if let Some(t) = &m.token {
        o.insert("Token".into(), s(t));
    }
    o.insert("TopicArn".into(), s(&m.topic_arn));
    if let Some(subject) = &m.subject {
        o.insert("Subject".into(), s(subject));
    }
    o.insert("Message".into(), s(&m.message));
    if let Some(u) = &m.subscribe_url {
        o.insert("SubscribeURL".into(), s(u));
    }
    o.insert("Timestamp".into(), s(&m.timestamp));
    o.insert("SignatureVersion".into(), s(&m.signature_version));
    o.insert("Signature".into(), s(signature));
    o.insert("SigningCertURL".into(), s(signing_cert_url));
    if let Some(u) = &m.unsubscribe_url {
        o.insert("UnsubscribeURL".into(), s(u));
    }
    if !m.attributes.is_empty() {
        let mut a = Map::new();
        for (name, data_type, value) in &m.attributes {
            let mut v = Map::new();
            v.insert("Type".into(), s(data_type));
            v.insert("Value".into(), s(value));
            a.insert(name.clone(), Value::Object(v));
        }
        o.insert("MessageAttributes".into(), Value::Object(a));
    }
    Value::Object(o).to_string()
}

/// `<base>/?Action=Unsubscribe&SubscriptionArn=<arn>`.
pub fn unsubscribe_url(base: &str, subscription_arn: &str) -> String {
    let q = form_query(&[
        ("Action", "Unsubscribe"),
        ("SubscriptionArn", subscription_arn),
    ]);
    format!("{}/?{q}", base.trim_end_matches('/'))
}

/// `<base>/?Action=ConfirmSubscription&TopicArn=<arn>&Token=<token>`.
pub fn subscribe_url(base: &str, topic_arn: &str, token: &str) -> String {
    let q = form_query(&[
        ("Action", "ConfirmSubscription"),
        ("TopicArn", topic_arn),
        ("Token", token),
    ]);
    format!("{}/?{q}", base.trim_end_matches('/'))
}

fn form_query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `Timestamp` form of epoch milliseconds.
pub fn timestamp(ms: i64) -> String {
    use chrono::TimeZone;
    chrono::Utc
        .timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(subject: Option<&str>) -> SnsMessage {
        SnsMessage {
            message_type: MessageType::Notification,
            message_id: "5f0c".into(),
            topic_arn: "arn:aws:sns:eu-west-1:111122223333:t".into(),
            subject: subject.map(str::to_owned),
            message: "hello".into(),
            timestamp: "2026-01-05T10:00:00.000Z".into(),
            token: None,
            subscribe_url: None,
            unsubscribe_url: Some("http://h/?x".into()),
            attributes: Vec::new(),
            signature_version: "1".into(),
        }
    }

    #[test]
    fn notification_string_is_aws_s() {
        assert_eq!(
            string_to_sign(&note(Some("hi"))),
            "Message\nhello\nMessageId\n5f0c\nSubject\nhi\nTimestamp\n2026-01-05T10:00:00.000Z\nTopicArn\narn:aws:sns:eu-west-1:111122223333:t\nType\nNotification\n"
        );
        assert_eq!(
            string_to_sign(&note(None)),
            "Message\nhello\nMessageId\n5f0c\nTimestamp\n2026-01-05T10:00:00.000Z\nTopicArn\narn:aws:sns:eu-west-1:111122223333:t\nType\nNotification\n",
            "no Subject key without a subject"
        );
    }

    #[test]
    fn confirmation_string_is_aws_s() {
        let m = SnsMessage {
            message_type: MessageType::SubscriptionConfirmation,
            token: Some("tok".into()),
            subscribe_url: Some("http://h/?Action=ConfirmSubscription".into()),
            unsubscribe_url: None,
            subject: None,
            ..note(None)
        };
        assert_eq!(
            string_to_sign(&m),
            "Message\nhello\nMessageId\n5f0c\nSubscribeURL\nhttp://h/?Action=ConfirmSubscription\nTimestamp\n2026-01-05T10:00:00.000Z\nToken\ntok\nTopicArn\narn:aws:sns:eu-west-1:111122223333:t\nType\nSubscriptionConfirmation\n"
        );
        let body: serde_json::Value =
            serde_json::from_str(&to_json(&m, "c2ln", "http://h/c.pem")).unwrap();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "Type",
                "MessageId",
                "Token",
                "TopicArn",
                "Message",
                "SubscribeURL",
                "Timestamp",
                "SignatureVersion",
                "Signature",
                "SigningCertURL"
            ]
        );
    }

    #[test]
    fn links_are_encoded() {
        assert_eq!(
            unsubscribe_url("http://h:1/", "arn:aws:sns:r:1:t:u"),
            "http://h:1/?Action=Unsubscribe&SubscriptionArn=arn%3Aaws%3Asns%3Ar%3A1%3At%3Au"
        );
    }
}
