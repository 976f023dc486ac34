//! Publishing a message to an SNS topic, the part that belongs in a store transaction: check
//! the topic exists and the message is valid (AWS's limits and messages), and fix who receives
//! it (its confirmed subscriptions whose filter policy passes) and the message's identity,
//! and queue it for each of them in the same transaction ([`crate::sns_queue`]), so an
//! accepted message survives a restart. Sending is `cairn_delivery::publish`, after the
//! transaction commits.
//!
//! Alarm actions and CloudTrail's file notifications publish through [`prepare`]; the public
//! `Publish` and `PublishBatch` through [`accept`]. Both end in the same [`Publication`].

use base64::Engine;
use cairn_store::Connection;

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::sns_filter::Attribute;

/// Largest message, attributes included, in bytes (256 KiB).
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// Most message attributes on one message.
pub const MAX_ATTRIBUTES: usize = 10;

/// One subscriber a publication goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// Subscription ARN.
    pub subscription_arn: String,
    /// Its endpoint (a URL or an email address).
    pub endpoint: String,
    /// `http`, `https`, `email` or `email-json`.
    pub protocol: String,
    /// `RawMessageDelivery`.
    pub raw: bool,
    /// The Cairn URL its links point at.
    pub base_url: String,
}

/// A message attribute (`MessageAttributes.entry.N`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageAttribute {
    /// Name.
    pub name: String,
    /// `String`, `Number`, `Binary`, `String.Array`, optionally with a custom suffix.
    pub data_type: String,
    /// `StringValue`, or `BinaryValue` as base64.
    pub value: String,
    /// The value came as `BinaryValue` (base64), not `StringValue`.
    pub binary: bool,
}

impl MessageAttribute {
    /// The value's size as SNS counts it: a binary value's bytes, not its base64 text.
    fn value_len(&self) -> usize {
        if self.binary {
            let padding = self.value.bytes().rev().take_while(|&b| b == b'=').count();
            (self.value.len() / 4 * 3).saturating_sub(padding)
        } else {
            self.value.len()
        }
    }
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
    /// `Message` (the `default` entry under `MessageStructure=json`).
    pub message: String,
    /// Under `MessageStructure=json`, the per-protocol messages (`http`, `email`, …).
    pub per_protocol: Vec<(String, String)>,
    /// Message attributes.
    pub attributes: Vec<MessageAttribute>,
    /// The topic's `SignatureVersion` ("1" or "2").
    pub signature_version: String,
    /// The topic's `DisplayName` at publication: its emails' sender name.
    pub display_name: Option<String>,
    /// Publication time, ms (the envelope's `Timestamp`).
    pub timestamp_ms: i64,
    /// Confirmed subscriptions at publication time.
    pub recipients: Vec<Recipient>,
}

impl Publication {
    /// Its message attributes as (name, data type, value).
    pub fn attribute_triples(&self) -> Vec<(String, String, String)> {
        self.attributes
            .iter()
            .map(|a| (a.name.clone(), a.data_type.clone(), a.value.clone()))
            .collect()
    }

    /// The message a subscription of `protocol` receives.
    pub fn message_for(&self, protocol: &str) -> &str {
        self.per_protocol
            .iter()
            .find(|(p, _)| p == protocol)
            .map_or(self.message.as_str(), |(_, m)| m.as_str())
    }
}

/// What a `Publish` call (or one `PublishBatch` entry) asks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishInput {
    /// `Message`.
    pub message: String,
    /// `Subject`.
    pub subject: Option<String>,
    /// `MessageStructure`.
    pub message_structure: Option<String>,
    /// `MessageAttributes`.
    pub attributes: Vec<MessageAttribute>,
    /// `MessageGroupId` (optional on a standard topic, checked as on a FIFO one).
    pub message_group_id: Option<String>,
    /// `MessageDeduplicationId`: FIFO topics only, so always refused here.
    pub message_deduplication_id: Option<String>,
}

/// SNS's own reserved attributes, which a publish to a topic may carry for its SMS and
/// mobile subscribers (the SNS developer guide, "Amazon SNS message attributes"): every
/// other name in the `AWS.` namespace is refused.
const RESERVED_ATTRIBUTE_PREFIXES: [&str; 3] = ["AWS.SNS.SMS.", "AWS.SNS.MOBILE.", "AWS.MM.SMS."];

fn reserved_name_allowed(name: &str) -> bool {
    RESERVED_ATTRIBUTE_PREFIXES
        .iter()
        .any(|p| name.len() > p.len() && name.starts_with(p))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::SnsInvalidParameter, message)
}

fn value_invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::SnsParameterValueInvalid, message)
}

/// The size SNS counts against [`MAX_MESSAGE_BYTES`]: the message, and each attribute's name,
/// type and value.
pub fn counted_size(input: &PublishInput) -> usize {
    input.message.len()
        + input
            .attributes
            .iter()
            .map(|a| a.name.len() + a.data_type.len() + a.value_len())
            .sum::<usize>()
}

fn check_attribute(a: &MessageAttribute) -> ApiResult<()> {
    let name_ok = (1..=256).contains(&a.name.len())
        && a.name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !a.name.starts_with('.')
        && !a.name.ends_with('.')
        && !a.name.contains("..")
        && (!a.name.to_ascii_lowercase().starts_with("aws.") || reserved_name_allowed(&a.name))
        && !a.name.to_ascii_lowercase().starts_with("amazon.");
    if !name_ok {
        return Err(value_invalid(format!(
            "The message attribute name '{}' is invalid.",
            a.name
        )));
    }
    let base = a.data_type.split('.').next().unwrap_or_default();
    if !matches!(base, "String" | "Number" | "Binary") {
        return Err(value_invalid(format!(
            "The message attribute '{}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.",
            a.name
        )));
    }
    if a.value.is_empty() {
        return Err(value_invalid(format!(
            "The message attribute '{}' must contain non-empty message attribute value for message attribute type '{}'.",
            a.name, a.data_type
        )));
    }
    // A type takes its own value field: `BinaryValue` for Binary, `StringValue` for the rest.
    if (base == "Binary") != a.binary {
        let field = if base == "Binary" { "Binary" } else { "String" };
        return Err(value_invalid(format!(
            "The message attribute '{}' with type '{}' must use field '{field}'.",
            a.name, a.data_type
        )));
    }
    if a.binary
        && base64::engine::general_purpose::STANDARD
            .decode(&a.value)
            .is_err()
    {
        return Err(value_invalid(format!(
            "The message attribute '{}' has an invalid binary value: it is not base64.",
            a.name
        )));
    }
    if base == "Number" {
        let ok = a.value.trim().parse::<f64>().is_ok_and(f64::is_finite);
        if !ok {
            return Err(value_invalid(format!(
                "An error occurred while trying to convert number value '{}' for message attribute '{}'.",
                a.value, a.name
            )));
        }
    }
    if a.data_type.starts_with("String.Array") {
        let ok = matches!(
            serde_json::from_str::<serde_json::Value>(&a.value),
            Ok(serde_json::Value::Array(_))
        );
        if !ok {
            return Err(value_invalid(format!(
                "The message attribute '{}' has an invalid value for message attribute type 'String.Array'.",
                a.name
            )));
        }
    }
    Ok(())
}

/// Checks a message against SNS's rules: a non-empty message of at most 256 KiB with its
/// attributes, a subject under 100 printable characters, a JSON structure with a `default`,
/// at most ten well-formed attributes. Returns the `default` and per-protocol messages.
pub fn validate(input: &PublishInput) -> ApiResult<(String, Vec<(String, String)>)> {
    if input.message.is_empty() {
        return Err(invalid("Invalid parameter: Empty message"));
    }
    // A standard topic takes a group id under FIFO's rules (the API reference): 1–128
    // letters, digits and punctuation.
    if let Some(group) = &input.message_group_id {
        let ok = (1..=128).contains(&group.len()) && group.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(invalid(
                "Invalid parameter: MessageGroupId Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
            ));
        }
    }
    if input.message_deduplication_id.is_some() {
        return Err(invalid(
            "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
        ));
    }
    if let Some(s) = &input.subject {
        let ok = !s.is_empty()
            && s.chars().count() < 100
            && !s.chars().any(char::is_control)
            && s.chars().next().is_some_and(|c| !c.is_whitespace());
        if !ok {
            return Err(invalid("Invalid parameter: Subject"));
        }
    }
    if input.attributes.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "Invalid parameter: MessageAttributes Reason: Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            input.attributes.len()
        )));
    }
    for (i, a) in input.attributes.iter().enumerate() {
        check_attribute(a)?;
        // A map on the wire: one value a name, or the filter policy would judge one value
        // and the subscriber receive another (sns7).
        if input.attributes[..i].iter().any(|b| b.name == a.name) {
            return Err(invalid(format!(
                "Invalid parameter: MessageAttributes Reason: The message attribute '{}' is given more than once.",
                a.name
            )));
        }
    }
    if counted_size(input) > MAX_MESSAGE_BYTES {
        return Err(invalid("Invalid parameter: Message too long"));
    }
    match input.message_structure.as_deref() {
        None | Some("") => Ok((input.message.clone(), Vec::new())),
        Some("json") => {
            let Members(members) = serde_json::from_str(&input.message).map_err(|_| {
                invalid("Invalid parameter: Message Structure - JSON message body failed to parse")
            })?;
            // "Duplicate keys are not allowed." (the Publish reference; sns6: the last was
            // delivered).
            let m: serde_json::Map<String, serde_json::Value> =
                members.ok_or_else(|| {
                    invalid(
                        "Invalid parameter: Message Structure - Duplicate keys are not allowed in the JSON message body",
                    )
                })?
                .into_iter()
                .collect();
            let Some(serde_json::Value::String(default)) = m.get("default") else {
                return Err(invalid(
                    "Invalid parameter: Message Structure - No default entry in JSON message body",
                ));
            };
            let per = m
                .iter()
                .filter(|(k, _)| k.as_str() != "default")
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect();
            Ok((default.clone(), per))
        }
        Some(_) => Err(invalid("Invalid parameter: MessageStructure")),
    }
}

fn topic_not_found() -> ApiError {
    ApiError::new(ErrorKind::SnsNotFound, "Topic does not exist")
}

/// What a publication says: its subject, message (and per-protocol messages) and attributes.
struct Content {
    subject: Option<String>,
    message: String,
    per_protocol: Vec<(String, String)>,
    attributes: Vec<MessageAttribute>,
    /// Published with `MessageStructure=json`: its attributes choose the recipients (filter
    /// policies) but are not sent ("Message attributes are sent only when the message
    /// structure is String, not JSON").
    structured: bool,
}

fn publication(
    conn: &Connection,
    topic: &cairn_store::sns::Topic,
    content: Content,
    now_ms: i64,
    seal: Option<&crate::sns_sse::TopicSeal>,
) -> ApiResult<Publication> {
    let Content {
        subject,
        message,
        per_protocol,
        attributes,
        structured,
    } = content;
    let filter_view: Vec<Attribute<'_>> = attributes
        .iter()
        .map(|a| Attribute {
            name: &a.name,
            data_type: &a.data_type,
            value: &a.value,
        })
        .collect();
    let recipients = cairn_store::sns::subscriptions(conn, &topic.arn)?
        .into_iter()
        .filter(|s| s.confirmed)
        .filter(|s| crate::sns::filter_passes(s, &filter_view))
        .map(|s| Recipient {
            raw: crate::sns::raw_delivery(&s),
            subscription_arn: s.arn,
            endpoint: s.endpoint,
            protocol: s.protocol,
            base_url: s.base_url,
        })
        .collect();
    let attributes = if structured { Vec::new() } else { attributes };
    let voice = crate::sns::voice(topic);
    let p = Publication {
        message_id: crate::record::new_uuid(),
        topic_arn: topic.arn.clone(),
        subject,
        message,
        per_protocol,
        attributes,
        signature_version: voice.signature_version,
        display_name: voice.display_name,
        timestamp_ms: now_ms,
        recipients,
    };
    crate::sns_queue::enqueue(conn, &p, now_ms, seal)?;
    Ok(p)
}

/// Accepts `message` for `topic_arn` at `now_ms` (alarm actions, trail notifications):
/// `NotFound` ("Topic does not exist") when the topic is unknown, else the publication for
/// its confirmed subscribers (possibly none).
pub fn prepare(
    conn: &Connection,
    topic_arn: &str,
    subject: Option<&str>,
    message: &str,
    now_ms: i64,
    seal: Option<&crate::sns_sse::TopicSeal>,
) -> ApiResult<Publication> {
    let content = Content {
        subject: subject.map(str::to_owned),
        message: message.to_owned(),
        per_protocol: Vec::new(),
        attributes: Vec::new(),
        structured: false,
    };
    prepare_content(conn, topic_arn, content, now_ms, seal)
}

/// Accepts an alarm's notification for `topic_arn`: `message` (the JSON alarm message) for
/// every protocol but `email`, whose subscribers get `email_text`, as CloudWatch publishes
/// its notifications. `NotFound` when the topic is unknown.
pub fn prepare_alarm(
    conn: &Connection,
    topic_arn: &str,
    subject: &str,
    message: &str,
    email_text: &str,
    now_ms: i64,
    seal: Option<&crate::sns_sse::TopicSeal>,
) -> ApiResult<Publication> {
    let content = Content {
        subject: Some(subject.to_owned()),
        message: message.to_owned(),
        per_protocol: vec![("email".to_owned(), email_text.to_owned())],
        attributes: Vec::new(),
        structured: false,
    };
    prepare_content(conn, topic_arn, content, now_ms, seal)
}

/// A service's publication of `content` to `topic_arn` (any topic of the store; `NotFound`
/// when it is unknown).
fn prepare_content(
    conn: &Connection,
    topic_arn: &str,
    content: Content,
    now_ms: i64,
    seal: Option<&crate::sns_sse::TopicSeal>,
) -> ApiResult<Publication> {
    let topic = cairn_store::sns::get_topic(conn, topic_arn)?.ok_or_else(topic_not_found)?;
    publication(conn, &topic, content, now_ms, seal)
}

/// The public `Publish`: the topic must be the caller's (`account`), the message valid.
pub fn accept(
    conn: &Connection,
    account: &str,
    topic_arn: &str,
    input: &PublishInput,
    now_ms: i64,
    seal: Option<&crate::sns_sse::TopicSeal>,
) -> ApiResult<Publication> {
    let topic = cairn_store::sns::get_topic(conn, topic_arn)?
        .filter(|t| t.account == account)
        .ok_or_else(topic_not_found)?;
    let (message, per_protocol) = validate(input)?;
    let content = Content {
        subject: input.subject.clone(),
        message,
        per_protocol,
        attributes: input.attributes.clone(),
        structured: input.message_structure.as_deref() == Some("json"),
    };
    publication(conn, &topic, content, now_ms, seal)
}

/// Most entries in one `PublishBatch`.
pub const MAX_BATCH_ENTRIES: usize = 10;

/// The public `PublishBatch`: the batch as a whole must be well formed (AWS's batch errors);
/// then each entry is accepted or fails on its own, in order, as (Id, result).
pub fn accept_batch(
    conn: &Connection,
    account: &str,
    topic_arn: &str,
    entries: &[(String, PublishInput)],
    now_ms: i64,
    seal: Option<&crate::sns_sse::TopicSeal>,
) -> ApiResult<Vec<(String, ApiResult<Publication>)>> {
    if entries.is_empty() {
        return Err(ApiError::new(
            ErrorKind::SnsEmptyBatchRequest,
            "The batch request doesn't contain any entries.",
        ));
    }
    if entries.len() > MAX_BATCH_ENTRIES {
        return Err(ApiError::new(
            ErrorKind::SnsTooManyEntriesInBatchRequest,
            "The batch request contains more entries than permissible.",
        ));
    }
    for (id, _) in entries {
        let ok = (1..=80).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(ApiError::new(
                ErrorKind::SnsInvalidBatchEntryId,
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
    }
    let mut ids: Vec<&str> = entries.iter().map(|(i, _)| i.as_str()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(ApiError::new(
            ErrorKind::SnsBatchEntryIdsNotDistinct,
            "Two or more batch entries in the request have the same Id.",
        ));
    }
    if entries.iter().map(|(_, i)| counted_size(i)).sum::<usize>() > MAX_MESSAGE_BYTES {
        return Err(ApiError::new(
            ErrorKind::SnsBatchRequestTooLong,
            "The length of all the messages put together is more than the limit.",
        ));
    }
    cairn_store::sns::get_topic(conn, topic_arn)?
        .filter(|t| t.account == account)
        .ok_or_else(topic_not_found)?;
    entries
        .iter()
        .map(|(id, input)| {
            let one = accept(conn, account, topic_arn, input, now_ms, seal);
            match one {
                Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::ServiceUnavailable) => {
                    Err(e)
                }
                other => Ok((id.clone(), other)),
            }
        })
        .collect()
}

/// The top-level members of a `MessageStructure=json` message; `None` when a key appears
/// twice. Only a JSON object reads as members.
struct Members(Option<Vec<(String, serde_json::Value)>>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members, A::Error> {
                let mut out: Vec<(String, serde_json::Value)> = Vec::new();
                let mut twice = false;
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    twice |= out.iter().any(|(seen, _)| *seen == k);
                    out.push((k, v));
                }
                Ok(Members((!twice).then_some(out)))
            }
        }
        d.deserialize_map(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(message: &str) -> PublishInput {
        PublishInput {
            message: message.into(),
            ..Default::default()
        }
    }

    #[test]
    fn limits_and_messages_are_aws_s() {
        let e = validate(&input("")).unwrap_err();
        assert_eq!(e.message, "Invalid parameter: Empty message");
        assert!(validate(&input(&"x".repeat(MAX_MESSAGE_BYTES))).is_ok());
        let e = validate(&input(&"x".repeat(MAX_MESSAGE_BYTES + 1))).unwrap_err();
        assert_eq!(e.message, "Invalid parameter: Message too long");
        let mut near = input(&"x".repeat(MAX_MESSAGE_BYTES - 10));
        near.attributes.push(MessageAttribute {
            name: "abcdef".into(),
            data_type: "String".into(),
            value: "v".into(),
            binary: false,
        });
        assert!(
            validate(&near).is_err(),
            "attributes count against the limit"
        );
        let mut subj = input("m");
        subj.subject = Some("a\nb".into());
        assert_eq!(
            validate(&subj).unwrap_err().message,
            "Invalid parameter: Subject"
        );
        subj.subject = Some("s".repeat(100));
        assert!(validate(&subj).is_err());
        subj.subject = Some("s".repeat(99));
        assert!(validate(&subj).is_ok());
    }

    #[test]
    fn json_structure_needs_a_default() {
        let mut i = input(r#"{"default":"d","http":"h","email":"e"}"#);
        i.message_structure = Some("json".into());
        let (d, per) = validate(&i).unwrap();
        assert_eq!(d, "d");
        assert_eq!(
            per,
            vec![("http".into(), "h".into()), ("email".into(), "e".into())]
        );
        i.message = r#"{"http":"h"}"#.into();
        assert_eq!(
            validate(&i).unwrap_err().message,
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        );
        i.message = r#"{"default":"d","http":"h","http":"other"}"#.into();
        assert!(
            validate(&i)
                .unwrap_err()
                .message
                .contains("Duplicate keys are not allowed")
        );
        i.message = "not json".into();
        assert!(
            validate(&i)
                .unwrap_err()
                .message
                .contains("failed to parse")
        );
    }

    #[test]
    fn attributes_are_checked() {
        let attr = |n: &str, t: &str, v: &str| MessageAttribute {
            name: n.into(),
            data_type: t.into(),
            value: v.into(),
            binary: t.starts_with("Binary"),
        };
        let with = |a: Vec<MessageAttribute>| PublishInput {
            message: "m".into(),
            attributes: a,
            ..Default::default()
        };
        assert!(validate(&with(vec![attr("n", "Number", "12.5")])).is_ok());
        let e = validate(&with(vec![attr("n", "Number", "x")])).unwrap_err();
        assert_eq!(e.kind, ErrorKind::SnsParameterValueInvalid);
        assert!(validate(&with(vec![attr("n", "Bogus", "x")])).is_err());
        assert!(validate(&with(vec![attr("n", "String", "")])).is_err());
        assert!(validate(&with(vec![attr("AWS.x", "String", "v")])).is_err());
        // SNS's own reserved names for SMS and mobile subscribers pass; the bare prefix not.
        for ok in [
            "AWS.SNS.SMS.SMSType",
            "AWS.SNS.MOBILE.FCM.TTL",
            "AWS.MM.SMS.EntityId",
        ] {
            assert!(
                validate(&with(vec![attr(ok, "String", "v")])).is_ok(),
                "{ok}"
            );
        }
        assert!(validate(&with(vec![attr("AWS.SNS.SMS.", "String", "v")])).is_err());
        assert!(validate(&with(vec![attr("AWS.SNS.Other", "String", "v")])).is_err());
        let many = (0..11)
            .map(|i| attr(&format!("a{i}"), "String", "v"))
            .collect();
        assert!(validate(&with(many)).unwrap_err().message.contains("[11]"));
    }

    #[test]
    fn a_message_group_id_follows_fifo_rules() {
        let with = |g: &str| PublishInput {
            message: "m".into(),
            message_group_id: Some(g.into()),
            ..Default::default()
        };
        assert!(validate(&with("orders-1!")).is_ok());
        let dedup = PublishInput {
            message: "m".into(),
            message_deduplication_id: Some("d1".into()),
            ..Default::default()
        };
        assert!(
            validate(&dedup)
                .unwrap_err()
                .message
                .contains("MessageDeduplicationId")
        );
        for bad in ["", "has space", &"g".repeat(129)] {
            assert!(validate(&with(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn binary_attributes_take_their_own_field_and_count_their_bytes() {
        let attr = |t: &str, v: &str, binary: bool| MessageAttribute {
            name: "a".into(),
            data_type: t.into(),
            value: v.into(),
            binary,
        };
        let with = |a: MessageAttribute| PublishInput {
            message: "m".into(),
            attributes: vec![a],
            ..Default::default()
        };
        assert!(validate(&with(attr("Binary", "AAEC", true))).is_ok());
        let e = validate(&with(attr("Binary", "not base64!", false))).unwrap_err();
        assert!(
            e.message.contains("must use field 'Binary'"),
            "{}",
            e.message
        );
        assert!(validate(&with(attr("String", "//4=", true))).is_err());
        assert!(validate(&with(attr("Binary", "!!!notbase64", true))).is_err());
        // 200,000 bytes of binary count as 200,000, not as their 266,668 base64 characters.
        use base64::Engine;
        let big = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 200_000]);
        assert!(validate(&with(attr("Binary", &big, true))).is_ok());
        assert_eq!(
            counted_size(&with(attr("Binary", &big, true))),
            1 + 1 + 6 + 200_000
        );
    }
}
