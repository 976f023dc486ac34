//! The CloudTrail Insights event record: a persisted, delivered format like
//! [`crate::event::EventRecord`], with the fields and nesting of the records AWS writes
//! (`eventType` `AwsCloudTrailInsight`, `eventCategory` `Insight`, no caller fields at the
//! top level, the subject API and the statistics under `insightDetails`).

use serde::{Deserialize, Serialize};

/// The record format version Cairn writes for Insights events.
pub const INSIGHT_EVENT_VERSION: &str = "1.08";

/// An Insights event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightRecord {
    /// Record format version.
    pub event_version: String,
    /// Start or end of the unusual activity, `YYYY-MM-DDTHH:MM:00Z`.
    pub event_time: String,
    /// The region the activity happened in.
    pub aws_region: String,
    /// Unique id of this event.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Always `AwsCloudTrailInsight`.
    pub event_type: String,
    /// The account receiving this copy.
    pub recipient_account_id: String,
    /// Shared by the Start and End events of one insight.
    #[serde(rename = "sharedEventID")]
    pub shared_event_id: String,
    /// What was unusual.
    pub insight_details: InsightDetails,
    /// Always `Insight`.
    pub event_category: String,
}

/// `insightDetails`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightDetails {
    /// `Start` or `End`.
    pub state: String,
    /// The subject API's `eventSource`.
    pub event_source: String,
    /// The subject API's `eventName`.
    pub event_name: String,
    /// `ApiCallRateInsight` or `ApiErrorRateInsight`.
    pub insight_type: String,
    /// The error code an error-rate insight is about.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_code: Option<String>,
    /// Statistics and attributions.
    pub insight_context: InsightContext,
}

/// `insightContext`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InsightContext {
    /// Baseline and insight rates.
    pub statistics: InsightStatistics,
    /// Who and what contributed, in the insight and in the baseline.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub attributions: Vec<Attribution>,
}

/// An average rate (calls or errors per minute).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Average {
    /// Per minute.
    pub average: f64,
}

/// `insightContext.statistics`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightStatistics {
    /// Mean rate over the baseline window.
    pub baseline: Average,
    /// Rate in the insight (Start: first minute; End: whole insight).
    pub insight: Average,
    /// Minutes of the insight.
    pub insight_duration: i64,
    /// Minutes of the baseline window.
    pub baseline_duration: i64,
}

/// One attribution list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// `userIdentityArn`, `userAgent` or `errorCode`.
    pub attribute: String,
    /// Top values during the insight.
    pub insight: Vec<AttributionValue>,
    /// Top values during the baseline.
    pub baseline: Vec<AttributionValue>,
}

/// One value and its average rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributionValue {
    /// The value (`"null"` for the error code of calls that did not fail).
    pub value: String,
    /// Per minute.
    pub average: f64,
}

impl InsightRecord {
    /// Compact JSON in AWS's field order.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an insight record always serialises")
    }
}
