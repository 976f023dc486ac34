//! Insights records in AWS's format, with reproducible ids: `sharedEventID` is a UUIDv5 of
//! the trail, series and start minute, `eventID` a UUIDv5 of the shared id and the state.

use cairn_model::insight::{
    Attribution, AttributionValue, Average, INSIGHT_EVENT_VERSION, InsightContext, InsightDetails,
    InsightRecord, InsightStatistics,
};
use cairn_store::insights::{KIND_ERROR, SeriesKey};
use chrono::{DateTime, Utc};
use sha1::{Digest, Sha1};

use super::detect::round10;
use super::type_of;

/// The namespace of Cairn's Insights ids (a fixed random UUID).
const NAMESPACE: [u8; 16] = [
    0x6f, 0x0c, 0x5e, 0x1d, 0x4b, 0x8a, 0x4e, 0x2f, 0x9d, 0x31, 0x7a, 0xc2, 0x58, 0x0e, 0x93, 0x64,
];

/// RFC 4122 version-5 (SHA-1, name-based) UUID of `name` in Cairn's namespace.
pub fn uuid_v5(name: &str) -> String {
    let mut h = Sha1::new();
    h.update(NAMESPACE);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// The `sharedEventID` of the insight of `key` starting at minute `start` on a trail.
pub fn shared_event_id(trail_arn: &str, key: &SeriesKey, start: i64) -> String {
    uuid_v5(&format!(
        "{trail_arn}|{}|{}|{}|{}|{}|{start}",
        key.region,
        type_of(key.kind).as_str(),
        key.source,
        key.name,
        key.error_code
    ))
}

/// `yyyy-MM-ddTHH:mm:ssZ` of an epoch minute.
pub fn minute_time(minute: i64) -> String {
    DateTime::<Utc>::from_timestamp(minute * 60, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// One attribution list as counts: values with their count in the insight window and in
/// the baseline window.
pub struct AttributionCounts {
    /// `userIdentityArn`, `userAgent` or `errorCode`.
    pub attribute: &'static str,
    /// Top values in the insight window with their counts.
    pub insight: Vec<(String, i64)>,
    /// Top values in the baseline window with their counts.
    pub baseline: Vec<(String, i64)>,
}

/// What an Insights record says.
pub struct Facts<'a> {
    /// The series.
    pub key: &'a SeriesKey,
    /// `Start` or `End`.
    pub state: &'a str,
    /// The event's minute (start `s`, or end `e`).
    pub minute: i64,
    /// Shared by the pair.
    pub shared_event_id: &'a str,
    /// Baseline mean.
    pub baseline_mean: f64,
    /// Baseline minutes.
    pub baseline_duration: i64,
    /// Calls in the insight window.
    pub insight_sum: i64,
    /// Minutes of the insight window.
    pub insight_duration: i64,
    /// Attribution counts.
    pub attributions: Vec<AttributionCounts>,
}

/// Builds the record.
pub fn build(facts: &Facts<'_>) -> InsightRecord {
    let per_insight = facts.insight_duration.max(1) as f64;
    let per_baseline = facts.baseline_duration.max(1) as f64;
    let values = |list: &[(String, i64)], per: f64| -> Vec<AttributionValue> {
        list.iter()
            .map(|(value, n)| AttributionValue {
                value: value.clone(),
                average: round10(*n as f64 / per),
            })
            .collect()
    };
    let attributions = facts
        .attributions
        .iter()
        .filter(|a| !a.insight.is_empty())
        .map(|a| Attribution {
            attribute: a.attribute.to_owned(),
            insight: values(&a.insight, per_insight),
            baseline: values(&a.baseline, per_baseline),
        })
        .collect();
    let key = facts.key;
    InsightRecord {
        event_version: INSIGHT_EVENT_VERSION.to_owned(),
        event_time: minute_time(facts.minute),
        aws_region: key.region.clone(),
        event_id: uuid_v5(&format!("{}|{}", facts.shared_event_id, facts.state)),
        event_type: "AwsCloudTrailInsight".to_owned(),
        recipient_account_id: key.account.clone(),
        shared_event_id: facts.shared_event_id.to_owned(),
        insight_details: InsightDetails {
            state: facts.state.to_owned(),
            event_source: key.source.clone(),
            event_name: key.name.clone(),
            insight_type: type_of(key.kind).as_str().to_owned(),
            error_code: (key.kind == KIND_ERROR).then(|| key.error_code.clone()),
            insight_context: InsightContext {
                statistics: InsightStatistics {
                    baseline: Average {
                        average: round10(facts.baseline_mean),
                    },
                    insight: Average {
                        average: round10(facts.insight_sum as f64 / per_insight),
                    },
                    insight_duration: facts.insight_duration,
                    baseline_duration: facts.baseline_duration,
                },
                attributions,
            },
        },
        event_category: "Insight".to_owned(),
    }
}
