//! Trails and their selectors.
//!
//! A [`Trail`] is what CreateTrail makes. The structs derive serde because the store persists
//! them as versioned JSON; the AWS wire shapes (PascalCase members) live only in `cairn-api`.

use serde::{Deserialize, Serialize};

use crate::{AccountId, Region};

/// A trail name that follows CloudTrail's naming rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailName(String);

/// Why a trail name was refused; the texts are CloudTrail's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrailNameError {
    /// Fewer than 3 characters.
    #[error(
        "Trail name too short. Minimum allowed length: 3 characters. Specified name length: {0} characters."
    )]
    TooShort(usize),
    /// More than 128 characters.
    #[error(
        "Trail name too long. Maximum allowed length: 128 characters. Specified name length: {0} characters."
    )]
    TooLong(usize),
    /// Does not start with a letter or digit.
    #[error("Trail name must starts with a letter or number.")]
    BadStart,
    /// Does not end with a letter or digit.
    #[error("Trail name must ends with a letter or number.")]
    BadEnd,
    /// A character outside `A-Za-z0-9._-`.
    #[error(
        "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_)."
    )]
    BadCharacter,
    /// Two adjacent characters from `._-`.
    #[error("Trail name cannot have adjacent periods (.), hyphens (-), or underscores (_).")]
    AdjacentPunctuation,
    /// Looks like an IPv4 address.
    #[error("Trail name cannot be formatted as an IP address.")]
    IpAddress,
}

impl TrailName {
    /// Parses a trail name under CloudTrail's five rules.
    pub fn parse(text: &str) -> Result<Self, TrailNameError> {
        let len = text.chars().count();
        if len < 3 {
            return Err(TrailNameError::TooShort(len));
        }
        if len > 128 {
            return Err(TrailNameError::TooLong(len));
        }
        let bytes = text.as_bytes();
        let punct = |b: u8| matches!(b, b'.' | b'_' | b'-');
        // AWS checks the first and last characters before the character set.
        if !bytes[0].is_ascii_alphanumeric() {
            return Err(TrailNameError::BadStart);
        }
        if !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
            return Err(TrailNameError::BadEnd);
        }
        if !bytes.iter().all(|&b| b.is_ascii_alphanumeric() || punct(b)) {
            return Err(TrailNameError::BadCharacter);
        }
        if bytes.windows(2).any(|w| punct(w[0]) && punct(w[1])) {
            return Err(TrailNameError::AdjacentPunctuation);
        }
        let looks_like_ip = {
            let parts: Vec<&str> = text.split('.').collect();
            parts.len() == 4
                && parts
                    .iter()
                    .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        };
        if looks_like_ip {
            return Err(TrailNameError::IpAddress);
        }
        Ok(Self(text.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Builds a trail ARN.
pub fn trail_arn(region: &Region, account: &AccountId, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")
}

/// A parsed trail ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrailArn {
    /// The trail's home region.
    pub region: String,
    /// The owning account.
    pub account: String,
    /// The trail name.
    pub name: String,
}

impl TrailArn {
    /// Parses `arn:<partition>:cloudtrail:<region>:<12 digits>:trail/<name>`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        let (arn, partition, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        let name = resource.strip_prefix("trail/")?;
        let ok = arn == "arn"
            && !partition.is_empty()
            && service == "cloudtrail"
            && !region.is_empty()
            && AccountId::parse(account).is_ok()
            && !name.is_empty();
        ok.then(|| Self {
            region: region.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// `ReadWriteType` of a basic event selector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadWriteType {
    /// Read-only calls.
    ReadOnly,
    /// Mutating calls.
    WriteOnly,
    /// Both.
    All,
}

impl ReadWriteType {
    /// Parses the AWS enum value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ReadOnly" => Some(Self::ReadOnly),
            "WriteOnly" => Some(Self::WriteOnly),
            "All" => Some(Self::All),
            _ => None,
        }
    }

    /// The AWS enum value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "ReadOnly",
            Self::WriteOnly => "WriteOnly",
            Self::All => "All",
        }
    }
}

/// A data resource of a basic event selector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataResource {
    /// The resource type, e.g. `AWS::S3::Object`.
    pub resource_type: String,
    /// ARN prefixes.
    pub values: Vec<String>,
}

/// A basic event selector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSelector {
    /// Which calls to log.
    pub read_write_type: ReadWriteType,
    /// Whether management events are logged.
    pub include_management_events: bool,
    /// Data resources whose events are logged.
    pub data_resources: Vec<DataResource>,
    /// Event sources excluded from management events.
    pub exclude_management_event_sources: Vec<String>,
}

impl EventSelector {
    /// The selector every API-created trail starts with.
    pub fn default_all_management() -> Self {
        Self {
            read_write_type: ReadWriteType::All,
            include_management_events: true,
            data_resources: Vec::new(),
            exclude_management_event_sources: Vec::new(),
        }
    }
}

/// One field condition of an advanced event selector. Absent operators are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSelector {
    /// The record field, e.g. `eventCategory`.
    pub field: String,
    /// Exact matches.
    pub equals: Option<Vec<String>>,
    /// Prefix matches.
    pub starts_with: Option<Vec<String>>,
    /// Suffix matches.
    pub ends_with: Option<Vec<String>>,
    /// Exact non-matches.
    pub not_equals: Option<Vec<String>>,
    /// Prefix non-matches.
    pub not_starts_with: Option<Vec<String>>,
    /// Suffix non-matches.
    pub not_ends_with: Option<Vec<String>>,
}

impl FieldSelector {
    /// Every operator with its values, in AWS's member order.
    pub fn operators(&self) -> [(&'static str, Option<&Vec<String>>); 6] {
        [
            ("Equals", self.equals.as_ref()),
            ("StartsWith", self.starts_with.as_ref()),
            ("EndsWith", self.ends_with.as_ref()),
            ("NotEquals", self.not_equals.as_ref()),
            ("NotStartsWith", self.not_starts_with.as_ref()),
            ("NotEndsWith", self.not_ends_with.as_ref()),
        ]
    }
}

/// An advanced event selector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvancedEventSelector {
    /// Optional descriptive name.
    pub name: Option<String>,
    /// Conditions, all of which must hold.
    pub field_selectors: Vec<FieldSelector>,
}

/// The event selectors of a trail: one kind at a time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selectors {
    /// Basic selectors.
    Basic(Vec<EventSelector>),
    /// Advanced selectors.
    Advanced(Vec<AdvancedEventSelector>),
}

/// Insight types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InsightType {
    /// Unusual write-call rate.
    ApiCallRateInsight,
    /// Unusual error rate.
    ApiErrorRateInsight,
}

impl InsightType {
    /// Parses the AWS enum value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ApiCallRateInsight" => Some(Self::ApiCallRateInsight),
            "ApiErrorRateInsight" => Some(Self::ApiErrorRateInsight),
            _ => None,
        }
    }

    /// The AWS enum value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiCallRateInsight => "ApiCallRateInsight",
            Self::ApiErrorRateInsight => "ApiErrorRateInsight",
        }
    }
}

/// An insight selector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsightSelector {
    /// What to watch.
    pub insight_type: InsightType,
    /// `Management` and/or `Data`.
    pub event_categories: Vec<String>,
}

/// A resource tag. AWS allows a key without a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value, if any.
    pub value: Option<String>,
}

/// A span of the event log during which a trail was logging: event seqs from `start_seq`
/// (the StartLogging event) through `end_seq` (the StopLogging event), open while logging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingWindow {
    /// First event seq delivered.
    pub start_seq: i64,
    /// Last event seq delivered, once logging stopped.
    pub end_seq: Option<i64>,
}

/// Event selectors that applied to a trail before a later PutEventSelectors replaced them:
/// they route the events with seqs below `until_seq` (the seq of the PutEventSelectors event
/// that replaced them) and at or above the previous epoch's `until_seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectorEpoch {
    /// First event seq the next selectors apply to.
    pub until_seq: i64,
    /// The selectors in force before it.
    pub selectors: Selectors,
    /// The regions the trail covered before it (an UpdateTrail of `IsMultiRegionTrail` or
    /// `IncludeGlobalServiceEvents` ends an epoch too); epochs written before this field
    /// existed have none and use the trail's current coverage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
}

/// Which events' regions a trail covers: its `IsMultiRegionTrail` and
/// `IncludeGlobalServiceEvents`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Every region, or only the home region.
    pub multi_region: bool,
    /// Global services' events (filed as us-east-1).
    pub include_global: bool,
}

/// Logging status of a trail (in its home region).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrailStatus {
    /// Whether the trail is logging.
    pub is_logging: bool,
    /// Epoch seconds of the last StartLogging.
    pub start_logging_time: Option<f64>,
    /// Epoch seconds of the last StopLogging.
    pub stop_logging_time: Option<f64>,
    /// The event seqs the trail delivers.
    #[serde(default)]
    pub windows: Vec<LoggingWindow>,
    /// Delivery outcomes, for GetTrailStatus.
    #[serde(default)]
    pub delivery: DeliveryStatus,
    /// Earlier selectors still needed to route undelivered events, oldest first (bodies
    /// written before this field existed decode with none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selector_history: Vec<SelectorEpoch>,
    /// Epoch seconds of the last UpdateTrail that turned log file validation on again: the
    /// digest chain starts anew there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_enabled_time: Option<f64>,
    /// Epoch seconds of the last UpdateTrail that turned log file validation off: the digest
    /// chain then running still owes one last digest, for the files delivered while it was
    /// on and for a stop before the change (bodies written before this field existed decode
    /// with none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_disabled_time: Option<f64>,
    /// Where the digest chain that turning validation off ended had started
    /// ([`TrailStatus::chain_start`] then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_chain_start: Option<f64>,
    /// Whether the trail was logging when validation was last turned off: the chain then
    /// running ends with a closing digest even when it lists no file, so that a deleted
    /// closing digest is seen as one (bodies written before this field existed decode with
    /// false: their closing digest was written only when it listed files).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closing_owed: bool,
    /// Stops (StopLogging, DeleteTrail) with validation on, oldest first: each ends its digest
    /// chain with a final digest per region. Entries whose finals are all written are dropped,
    /// except the newest (bodies written before this field existed decode with none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owed_finals: Vec<OwedFinal>,
}

/// A stop with validation on that ends a digest chain: the chain's final digest in a region
/// lists every log file of that region with events up to and including `end_seq`, and no
/// later one; the next chain's digests wait for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OwedFinal {
    /// The last event of the logging window (the StopLogging or DeleteTrail event).
    pub end_seq: i64,
    /// Epoch seconds of the stop.
    pub stop_time: f64,
    /// Where the chain it ends started ([`TrailStatus::chain_start`] at the stop).
    pub chain_start: f64,
    /// Regions whose final digest is written.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub written: std::collections::BTreeSet<String>,
}

impl TrailStatus {
    /// Where the current digest chain starts: the last StartLogging, or the last UpdateTrail
    /// that turned validation on again if later. `None` before the trail first logs.
    pub fn chain_start(&self) -> Option<f64> {
        self.start_logging_time.map(|started| {
            self.validation_enabled_time
                .map_or(started, |on| on.max(started))
        })
    }

    /// Records that logging stops at `now` with the event `end_seq` (StopLogging, or the
    /// DeleteTrail of a logging trail): closes the open logging window there and, with
    /// validation on, notes the final digest the running chain owes.
    pub fn stopped(&mut self, now: f64, end_seq: i64, validation: bool) {
        self.is_logging = false;
        self.stop_logging_time = Some(now);
        let Some(w) = self.windows.last_mut().filter(|w| w.end_seq.is_none()) else {
            return;
        };
        w.end_seq = Some(end_seq);
        if let (true, Some(chain_start)) = (validation, self.chain_start()) {
            self.owed_finals.push(OwedFinal {
                end_seq,
                stop_time: now,
                chain_start,
                written: Default::default(),
            });
        }
    }

    /// Records that log file validation was turned off at `now` (only an on-to-off change).
    pub fn validation_turned_off(&mut self, now: f64) {
        self.disabled_chain_start = self.chain_start();
        self.validation_disabled_time = Some(now);
        self.closing_owed = self.is_logging;
    }
}

/// What delivery last did for a trail (GetTrailStatus).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    /// Last successful log file delivery.
    pub latest_delivery_time: Option<f64>,
    /// Last log file delivery attempt.
    pub latest_delivery_attempt_time: Option<f64>,
    /// Error code of the last failed log file delivery.
    pub latest_delivery_error: Option<String>,
    /// Last successful digest delivery.
    pub latest_digest_delivery_time: Option<f64>,
    /// Error code of the last failed digest delivery.
    pub latest_digest_delivery_error: Option<String>,
    /// Last successful CloudWatch Logs delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_cloud_watch_logs_delivery_time: Option<f64>,
    /// Why the last CloudWatch Logs delivery failed (cleared by the next success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_cloud_watch_logs_delivery_error: Option<String>,
    /// Last log file notification published to the trail's SNS topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_notification_time: Option<f64>,
    /// Why the last notification could not be published (`NotFound`: the topic is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_notification_error: Option<String>,
}

/// A trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trail {
    /// The name.
    pub name: String,
    /// The owning account.
    pub account: String,
    /// The home region.
    pub home_region: String,
    /// The destination bucket.
    pub s3_bucket_name: String,
    /// Key prefix inside the bucket.
    pub s3_key_prefix: Option<String>,
    /// Notification topic ARN.
    pub sns_topic_arn: Option<String>,
    /// Whether global service events are included.
    pub include_global_service_events: bool,
    /// Whether the trail covers every region.
    pub is_multi_region_trail: bool,
    /// Whether digests are produced.
    pub log_file_validation_enabled: bool,
    /// CloudWatch Logs group ARN.
    pub cloud_watch_logs_log_group_arn: Option<String>,
    /// Role CloudTrail assumes to write to CloudWatch Logs.
    pub cloud_watch_logs_role_arn: Option<String>,
    /// Full KMS key ARN.
    pub kms_key_id: Option<String>,
    /// Organization trail flag.
    pub is_organization_trail: bool,
    /// Event selectors.
    pub selectors: Selectors,
    /// Whether selectors were ever set with PutEventSelectors.
    pub has_custom_event_selectors: bool,
    /// Insight selectors (empty = off).
    pub insight_selectors: Vec<InsightSelector>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Logging status.
    pub status: TrailStatus,
    /// Creation time, epoch seconds.
    pub created_at: f64,
}

impl Trail {
    /// The trail's ARN.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:cloudtrail:{}:{}:trail/{}",
            self.home_region, self.account, self.name
        )
    }

    /// The topic name (the last ARN segment), as the deprecated `SnsTopicName` member reports it.
    pub fn sns_topic_name(&self) -> Option<&str> {
        self.sns_topic_arn
            .as_deref()
            .map(|arn| arn.rsplit(':').next().unwrap_or(arn))
    }

    /// Whether the trail may still owe digests: its validation is on, or was turned off
    /// with a chain running (whose last digest may not be written yet).
    pub fn may_owe_digests(&self) -> bool {
        self.log_file_validation_enabled || self.status.validation_disabled_time.is_some()
    }

    /// The selectors that applied to the event with this seq: an earlier epoch's if the
    /// event came before the change that ended it, else the current ones.
    pub fn selectors_at(&self, seq: i64) -> &Selectors {
        self.status
            .selector_history
            .iter()
            .find(|epoch| seq < epoch.until_seq)
            .map_or(&self.selectors, |epoch| &epoch.selectors)
    }

    /// The regions the trail covers now.
    pub fn coverage(&self) -> Coverage {
        Coverage {
            multi_region: self.is_multi_region_trail,
            include_global: self.include_global_service_events,
        }
    }

    /// The regions the trail covered when the event with this seq was recorded.
    pub fn coverage_at(&self, seq: i64) -> Coverage {
        // An epoch written before coverage was kept has none: the coverage of the next epoch
        // that has one held then too (only a selector change ended it), else today's.
        self.status
            .selector_history
            .iter()
            .skip_while(|epoch| seq >= epoch.until_seq)
            .find_map(|epoch| epoch.coverage)
            .unwrap_or_else(|| self.coverage())
    }

    /// Whether the trail is visible from `region` (its home, or anywhere if multi-region).
    pub fn visible_in(&self, region: &str) -> bool {
        self.home_region == region || self.is_multi_region_trail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_names_follow_the_five_rules() {
        for ok in ["abc", "a.b-c_d", &"a".repeat(128), "test-trail", "1.2.3"] {
            assert!(TrailName::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(TrailName::parse("ab"), Err(TrailNameError::TooShort(2)));
        assert_eq!(
            TrailName::parse(&"a".repeat(129)),
            Err(TrailNameError::TooLong(129))
        );
        assert_eq!(
            TrailName::parse("my-_namespace"),
            Err(TrailNameError::AdjacentPunctuation)
        );
        assert_eq!(
            TrailName::parse("my--namespace"),
            Err(TrailNameError::AdjacentPunctuation)
        );
        assert_eq!(
            TrailName::parse("192.168.5.4"),
            Err(TrailNameError::IpAddress)
        );
        assert_eq!(TrailName::parse("-abc"), Err(TrailNameError::BadStart));
        assert_eq!(TrailName::parse("abc-"), Err(TrailNameError::BadEnd));
        assert_eq!(TrailName::parse("a b c"), Err(TrailNameError::BadCharacter));
    }

    #[test]
    fn trail_arns_parse() {
        let arn = TrailArn::parse("arn:aws:cloudtrail:eu-west-1:123456789012:trail/t1").unwrap();
        assert_eq!(arn.region, "eu-west-1");
        assert_eq!(arn.name, "t1");
        assert!(TrailArn::parse("arn:aws:cloudtrail:eu-west-1:1234:trail/t1").is_none());
        assert!(TrailArn::parse("arn:aws:s3:eu-west-1:123456789012:trail/t1").is_none());
        assert!(TrailArn::parse("arn:aws:cloudtrail:eu-west-1:123456789012:trail/").is_none());
    }
}
