//! The canonical CloudTrail event record.
//!
//! One record is serialised once, when its call completes, and those exact bytes are what
//! LookupEvents returns as `CloudTrailEvent`, what trail files carry and what SQL and
//! monitoring read. The field order follows the records AWS delivers.
//!
//! Sizes are bounded as AWS bounds them (CloudTrail user guide, "CloudTrail record
//! contents"): `requestParameters` and `responseElements` at most 100 KB each,
//! `additionalEventData` 28 KB, `userAgent`, `errorCode` and `errorMessage` 1 KB, a whole
//! record 256 KB. A field over its limit is truncated and marked with `"omitted": true`
//! (see [`EventRecord::to_canonical_json`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The record format version Cairn writes.
pub const EVENT_VERSION: &str = "1.11";

/// A resource named by an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResource {
    /// The resource ARN (empty for a resource named by [`EventResource::arn_prefix`]).
    #[serde(rename = "ARN", skip_serializing_if = "String::is_empty", default)]
    pub arn: String,
    /// The account that owns it (object resources carry none).
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none", default)]
    pub account_id: Option<String>,
    /// The resource type, e.g. `AWS::CloudTrail::Trail`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// `ARNPrefix`: the objects an S3 listing covers, named by the prefix it listed
    /// (`arn:aws:s3:::<bucket>/<prefix>`) instead of one ARN, as S3's records name them.
    #[serde(rename = "ARNPrefix", skip_serializing_if = "Option::is_none", default)]
    pub arn_prefix: Option<String>,
}

/// Management, data or insight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventCategory {
    /// Control-plane calls; in event history.
    Management,
    /// Object-level calls; never in event history.
    Data,
    /// Insight events.
    Insight,
}

impl EventCategory {
    /// The record value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Management => "Management",
            Self::Data => "Data",
            Self::Insight => "Insight",
        }
    }
}

/// A CloudTrail event record (management or data event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    /// Record format version.
    pub event_version: String,
    /// Who called.
    pub user_identity: serde_json::Value,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub event_time: String,
    /// `<service>.amazonaws.com`.
    pub event_source: String,
    /// The API action.
    pub event_name: String,
    /// The region the call was made in.
    pub aws_region: String,
    /// The caller's address, byte-exact.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// The caller's `User-Agent`, byte-exact (truncated to 1 KB like AWS).
    pub user_agent: String,
    /// Error code of a failed call.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_code: Option<String>,
    /// Error message of a failed call.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_message: Option<String>,
    /// The request in CloudTrail's lower-camel form, or null.
    pub request_parameters: serde_json::Value,
    /// The response in lower-camel form, or null for read-only and failed calls.
    pub response_elements: serde_json::Value,
    /// Extra service-specific data.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub additional_event_data: Option<serde_json::Value>,
    /// The `x-amzn-RequestId` of the call.
    #[serde(rename = "requestID")]
    pub request_id: String,
    /// Unique id of this event.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Whether the call only reads.
    pub read_only: bool,
    /// Resources the call touched.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub resources: Vec<EventResource>,
    /// Always `AwsApiCall` for recorded calls.
    pub event_type: String,
    /// Whether this is a management event.
    pub management_event: bool,
    /// The account receiving this copy.
    pub recipient_account_id: String,
    /// `Management` or `Data`.
    pub event_category: String,
}

/// Largest serialised `requestParameters` or `responseElements`.
pub const MAX_ELEMENTS_BYTES: usize = 100 * 1024;
/// Largest serialised `additionalEventData`.
pub const MAX_ADDITIONAL_DATA_BYTES: usize = 28 * 1024;
/// Largest `userAgent`, `errorCode` or `errorMessage`.
pub const MAX_TEXT_BYTES: usize = 1024;
/// Largest whole record.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

impl EventRecord {
    /// The canonical serialisation: compact JSON, fields in declaration order, every field
    /// within AWS's size limits. A field over its limit keeps the members that fit (in
    /// order) plus `"omitted": true`; a non-object over its limit becomes
    /// `{"omitted": true}`. Oversized fields are measured with a counting writer that stops
    /// at the limit, and their members are never copied whole.
    pub fn to_canonical_json(&self) -> String {
        let text = serde_json::to_string(self).expect("an event record always serialises");
        let texts_fit = self.user_agent.len() <= MAX_TEXT_BYTES
            && self
                .error_code
                .as_deref()
                .is_none_or(|s| s.len() <= MAX_TEXT_BYTES)
            && self
                .error_message
                .as_deref()
                .is_none_or(|s| s.len() <= MAX_TEXT_BYTES);
        // No field can be longer than the whole record: a record within the smallest
        // object limit needs no further measuring (the usual case, at no extra cost).
        if texts_fit && text.len() <= MAX_ADDITIONAL_DATA_BYTES {
            return text;
        }
        let bounded = self.bounded();
        let text = match &bounded {
            None => text,
            Some(b) => serde_json::to_string(b).expect("an event record always serialises"),
        };
        if text.len() <= MAX_RECORD_BYTES {
            return text;
        }
        // The field limits add up to less than 256 KB; only unusually large identities or
        // resources get here. Drop the parameters entirely rather than exceed the record limit.
        let mut smaller = bounded.unwrap_or_else(|| self.clone());
        smaller.request_parameters = omitted(Map::new());
        smaller.response_elements = omitted(Map::new());
        smaller.additional_event_data = smaller.additional_event_data.map(|_| omitted(Map::new()));
        serde_json::to_string(&smaller).expect("an event record always serialises")
    }

    /// A copy with every oversized field bounded, or `None` when all fit (the usual case).
    fn bounded(&self) -> Option<EventRecord> {
        let text_ok = |s: &str| s.len() <= MAX_TEXT_BYTES;
        let request = bound_value(&self.request_parameters, MAX_ELEMENTS_BYTES);
        let response = bound_value(&self.response_elements, MAX_ELEMENTS_BYTES);
        let additional = self
            .additional_event_data
            .as_ref()
            .and_then(|v| bound_value(v, MAX_ADDITIONAL_DATA_BYTES));
        let texts_ok = text_ok(&self.user_agent)
            && self.error_code.as_deref().is_none_or(text_ok)
            && self.error_message.as_deref().is_none_or(text_ok);
        if request.is_none() && response.is_none() && additional.is_none() && texts_ok {
            return None;
        }
        Some(EventRecord {
            event_version: self.event_version.clone(),
            user_identity: self.user_identity.clone(),
            event_time: self.event_time.clone(),
            event_source: self.event_source.clone(),
            event_name: self.event_name.clone(),
            aws_region: self.aws_region.clone(),
            source_ip_address: self.source_ip_address.clone(),
            user_agent: truncate_text(&self.user_agent),
            error_code: self.error_code.as_deref().map(truncate_text),
            error_message: self.error_message.as_deref().map(truncate_text),
            request_parameters: request.unwrap_or_else(|| self.request_parameters.clone()),
            response_elements: response.unwrap_or_else(|| self.response_elements.clone()),
            additional_event_data: match additional {
                Some(v) => Some(v),
                None => self.additional_event_data.clone(),
            },
            request_id: self.request_id.clone(),
            event_id: self.event_id.clone(),
            read_only: self.read_only,
            resources: self.resources.clone(),
            event_type: self.event_type.clone(),
            management_event: self.management_event,
            recipient_account_id: self.recipient_account_id.clone(),
            event_category: self.event_category.clone(),
        })
    }
}

/// Counts serialised bytes and fails once they pass `limit`, so measuring a huge value
/// stops early.
struct Meter {
    used: usize,
    limit: usize,
}

impl std::io::Write for Meter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.used += buf.len();
        if self.used > self.limit {
            return Err(std::io::Error::other("over the limit"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The serialised size of `value` if it is at most `limit` bytes.
fn size_within<T: Serialize + ?Sized>(value: &T, limit: usize) -> Option<usize> {
    let mut meter = Meter { used: 0, limit };
    serde_json::to_writer(&mut meter, value)
        .ok()
        .map(|()| meter.used)
}

fn omitted(mut map: Map<String, Value>) -> Value {
    map.insert("omitted".to_owned(), Value::Bool(true));
    Value::Object(map)
}

/// `None` if `value` fits in `limit` bytes; otherwise the bounded replacement: the object
/// members that fit, in order, plus `"omitted": true`.
fn bound_value(value: &Value, limit: usize) -> Option<Value> {
    if size_within(value, limit).is_some() {
        return None;
    }
    let Value::Object(members) = value else {
        return Some(omitted(Map::new()));
    };
    // `{}` plus `"omitted":true` and its comma.
    let mut used = 2 + r#","omitted":true"#.len();
    let mut kept = Map::new();
    for (key, member) in members {
        if key == "omitted" {
            continue;
        }
        let Some(key_len) = size_within(key.as_str(), limit) else {
            continue;
        };
        // Key, colon, value, comma.
        let room = limit.saturating_sub(used + key_len + 2);
        if let Some(member_len) = size_within(member, room) {
            used += key_len + 1 + member_len + 1;
            kept.insert(key.clone(), member.clone());
        }
    }
    Some(omitted(kept))
}

/// Cuts a string to [`MAX_TEXT_BYTES`] at a character boundary.
fn truncate_text(text: &str) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Formats epoch seconds as a record `eventTime`.
pub fn format_event_time(epoch_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(epoch_seconds, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(request: Value) -> EventRecord {
        EventRecord {
            event_version: EVENT_VERSION.into(),
            user_identity: serde_json::json!({"type": "Root"}),
            event_time: "2024-01-01T00:00:00Z".into(),
            event_source: "cloudtrail.amazonaws.com".into(),
            event_name: "ListTrails".into(),
            aws_region: "us-east-1".into(),
            source_ip_address: "127.0.0.1".into(),
            user_agent: "ua".into(),
            error_code: None,
            error_message: None,
            request_parameters: request,
            response_elements: Value::Null,
            additional_event_data: None,
            request_id: "r".into(),
            event_id: "e".into(),
            read_only: true,
            resources: vec![],
            event_type: "AwsApiCall".into(),
            management_event: true,
            recipient_account_id: "123456789012".into(),
            event_category: "Management".into(),
        }
    }

    #[test]
    fn small_records_serialise_unchanged() {
        let r = record(serde_json::json!({"name": "t", "omitted": 3}));
        assert_eq!(
            r.to_canonical_json(),
            serde_json::to_string(&r).unwrap(),
            "a record within the limits is not touched"
        );
    }

    #[test]
    fn an_oversized_member_is_dropped_and_marked_omitted() {
        let junk = "x".repeat(8 * 1024 * 1024);
        let r = record(serde_json::json!({"name": "t", "junk": junk, "after": 1}));
        let text = r.to_canonical_json();
        assert!(text.len() < 4 * 1024, "{} bytes", text.len());
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["requestParameters"],
            serde_json::json!({"name": "t", "after": 1, "omitted": true})
        );
    }

    #[test]
    fn bounded_fields_stay_within_their_limits() {
        let many: Map<String, Value> = (0..20_000)
            .map(|i| (format!("k{i}"), Value::String("v".repeat(20))))
            .collect();
        let mut r = record(Value::Object(many.clone()));
        r.response_elements = Value::Array(vec![Value::from(1); 100_000]);
        r.additional_event_data = Some(Value::Object(many));
        r.error_message = Some("é".repeat(1000));
        let v: Value = serde_json::from_str(&r.to_canonical_json()).unwrap();
        let size = |v: &Value| serde_json::to_string(v).unwrap().len();
        assert!(size(&v["requestParameters"]) <= MAX_ELEMENTS_BYTES);
        assert!(
            size(&v["requestParameters"]) > MAX_ELEMENTS_BYTES - 100,
            "fills the room"
        );
        assert_eq!(v["requestParameters"]["k0"], "v".repeat(20));
        assert_eq!(v["requestParameters"]["omitted"], true);
        assert_eq!(v["responseElements"], serde_json::json!({"omitted": true}));
        assert!(size(&v["additionalEventData"]) <= MAX_ADDITIONAL_DATA_BYTES);
        assert!(v["errorMessage"].as_str().unwrap().len() <= MAX_TEXT_BYTES);
        assert!(serde_json::to_string(&v).unwrap().len() <= MAX_RECORD_BYTES);
    }

    #[test]
    fn a_record_stays_within_256_kb_even_when_each_field_fits() {
        let nearly = |n: usize| serde_json::json!({"v": "y".repeat(n)});
        let mut r = record(nearly(MAX_ELEMENTS_BYTES - 100));
        r.response_elements = nearly(MAX_ELEMENTS_BYTES - 100);
        r.user_identity = serde_json::json!({"type": "Root", "extra": "z".repeat(80 * 1024)});
        let text = r.to_canonical_json();
        assert!(text.len() <= MAX_RECORD_BYTES, "{} bytes", text.len());
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["requestParameters"], serde_json::json!({"omitted": true}));
    }

    #[test]
    fn an_arn_prefix_resource_names_no_arn() {
        let listed = EventResource {
            arn: String::new(),
            account_id: None,
            resource_type: "AWS::S3::Object".into(),
            arn_prefix: Some("arn:aws:s3:::b/logs/".into()),
        };
        assert_eq!(
            serde_json::to_value(&listed).unwrap(),
            serde_json::json!({"type": "AWS::S3::Object", "ARNPrefix": "arn:aws:s3:::b/logs/"})
        );
        let one = EventResource {
            arn: "arn:aws:s3:::b".into(),
            account_id: Some("123456789012".into()),
            resource_type: "AWS::S3::Bucket".into(),
            arn_prefix: None,
        };
        assert_eq!(
            serde_json::to_value(&one).unwrap(),
            serde_json::json!({"ARN": "arn:aws:s3:::b", "accountId": "123456789012", "type": "AWS::S3::Bucket"})
        );
    }

    #[test]
    fn event_time_is_iso_seconds_utc() {
        assert_eq!(format_event_time(1_704_067_200), "2024-01-01T00:00:00Z");
    }
}
