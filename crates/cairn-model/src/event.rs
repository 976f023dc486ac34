//! The canonical CloudTrail event record.
//!
//! One record is serialised once, when its call completes, and those exact bytes are what
//! LookupEvents returns as `CloudTrailEvent`, what trail files carry and what SQL and
//! monitoring read. The field order follows the records AWS delivers.

use serde::{Deserialize, Serialize};

/// The record format version Cairn writes.
pub const EVENT_VERSION: &str = "1.11";

/// A resource named by an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResource {
    /// The resource ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// The account that owns it (object resources carry none).
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none", default)]
    pub account_id: Option<String>,
    /// The resource type, e.g. `AWS::CloudTrail::Trail`.
    #[serde(rename = "type")]
    pub resource_type: String,
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

impl EventRecord {
    /// The canonical serialisation: compact JSON, fields in declaration order.
    pub fn to_canonical_json(&self) -> String {
        serde_json::to_string(self).expect("an event record always serialises")
    }
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

    #[test]
    fn event_time_is_iso_seconds_utc() {
        assert_eq!(format_event_time(1_704_067_200), "2024-01-01T00:00:00Z");
    }
}
