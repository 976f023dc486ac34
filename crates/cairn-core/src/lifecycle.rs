//! Bucket lifecycle configuration: `Expiration` (days or date) and
//! `AbortIncompleteMultipartUpload` rules filtered by key prefix, object tags
//! (`crate::object_tags`) and object size, and the sweep that applies them. The sweep takes its
//! clock as an argument, so tests can run it "later". An object matches a rule when its key
//! starts with the prefix, it carries every tag of the filter, and its size is strictly
//! between the bounds given.
//!
//! A rule with anything Cairn does not apply (transitions, noncurrent versions, delete
//! markers, a size filter on aborting uploads) is refused whole with `NotImplemented`:
//! storing it without its filter would widen it to the whole bucket, and storing it without
//! its action would silently do nothing.

use std::collections::HashSet;

use cairn_store::Connection;
use cairn_store::buckets;
use cairn_store::objects;
use serde::{Deserialize, Serialize};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::objects::require_bucket;

const DAY: i64 = 86_400;

/// One lifecycle rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// `ID`.
    pub id: Option<String>,
    /// Key prefix the rule applies to (empty = whole bucket).
    pub prefix: String,
    /// `Expiration.Days`: objects expire this many days after creation, at the next
    /// midnight UTC.
    pub days: Option<i64>,
    /// `Expiration.Date` (epoch seconds, a midnight UTC): objects expire from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<i64>,
    /// `AbortIncompleteMultipartUpload.DaysAfterInitiation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_upload_days: Option<i64>,
    /// `Status` is `Enabled`.
    pub enabled: bool,
    /// The prefix came as the rule's own `Prefix` (S3's older form) rather than in a
    /// `Filter`; S3 gives a rule back in the form it was given.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub top_level_prefix: bool,
    /// Tags an object must carry (`Filter.Tag`, or `Filter.And.Tags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// `ObjectSizeGreaterThan`: objects must be larger than this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_greater_than: Option<i64>,
    /// `ObjectSizeLessThan`: objects must be smaller than this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_less_than: Option<i64>,
    /// The filter came as `Filter.And`; S3 gives a rule back in the form it was given.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub and: bool,
    /// The rule's `Filter` named more than one predicate outside an `And` (S3: "exactly
    /// one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan, or And"). Never
    /// stored: such a rule is `MalformedXML`, not read as a wider one.
    #[serde(skip)]
    pub malformed: bool,
    /// What the request gave that Cairn does not apply, named as S3 names it (`Filter.Tag`,
    /// `Transitions`, …). Never stored: a rule with any is refused.
    #[serde(skip)]
    pub unsupported: Vec<String>,
}

impl Rule {
    /// Whether the rule's tag and size filters select an object its prefix selected.
    fn selects(&self, row: &objects::ObjectRow) -> bool {
        let sized = self.size_greater_than.is_none_or(|n| row.size > n)
            && self.size_less_than.is_none_or(|n| row.size < n);
        if !sized {
            return false;
        }
        if self.tags.is_empty() {
            return true;
        }
        let carried = crate::objects::ObjectMeta::decode(&row.meta).tags;
        self.tags.iter().all(|t| carried.contains(t))
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::S3InvalidArgument, message)
}

fn invalid_request(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::S3InvalidRequest, message)
}

fn check(rule: &Rule, ids: &mut HashSet<String>) -> ApiResult<()> {
    if rule.malformed {
        return Err(ApiError::new(
            ErrorKind::S3MalformedXml,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ));
    }
    if let Some(what) = rule.unsupported.first() {
        return Err(ApiError::new(
            ErrorKind::S3NotImplemented,
            format!(
                "Cairn does not apply lifecycle {what} (rule {}); it applies Expiration (Days or Date) and AbortIncompleteMultipartUpload, filtered by Prefix, Tag, And and object size",
                rule.id.as_deref().unwrap_or("without an ID")
            ),
        ));
    }
    if let Some(id) = &rule.id {
        if id.len() > 255 {
            return Err(invalid("ID length should not exceed allowed limit of 255"));
        }
        if !ids.insert(id.clone()) {
            return Err(invalid(
                "Rule ID must be unique. Found same ID for more than one rule",
            ));
        }
    }
    if rule.days.is_some_and(|d| d < 1) {
        return Err(invalid(
            "'Days' for Expiration action must be a positive integer",
        ));
    }
    if rule.days.is_some() && rule.date.is_some() {
        return Err(invalid_request(
            "Found mixed 'Date' and 'Days' based Expiration action",
        ));
    }
    if rule.date.is_some_and(|d| d.rem_euclid(DAY) != 0) {
        return Err(invalid("'Date' must be at midnight GMT"));
    }
    if rule.abort_upload_days.is_some_and(|d| d < 1) {
        return Err(invalid(
            "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
        ));
    }
    if rule.abort_upload_days.is_some() && !rule.tags.is_empty() {
        return Err(invalid_request(
            "AbortIncompleteMultipartUpload cannot be specified with Tags.",
        ));
    }
    let mut keys = HashSet::new();
    if !rule.tags.iter().all(|(k, _)| keys.insert(k.as_str())) {
        return Err(invalid_request("Duplicate Tag Keys are not allowed."));
    }
    // A filter's tags follow the tag rules' lengths (an `aws:` key may be filtered on).
    for (k, v) in &rule.tags {
        let key_chars = k.chars().count();
        if key_chars == 0 || key_chars > crate::bucket_tags::MAX_KEY_CHARS {
            return Err(ApiError::new(
                ErrorKind::S3InvalidTag,
                "The TagKey you have provided is invalid",
            ));
        }
        if v.chars().count() > crate::bucket_tags::MAX_VALUE_CHARS {
            return Err(ApiError::new(
                ErrorKind::S3InvalidTag,
                "The TagValue you have provided is invalid",
            ));
        }
    }
    if rule.size_greater_than.is_some_and(|n| n < 0) || rule.size_less_than.is_some_and(|n| n < 1) {
        return Err(invalid(
            "'ObjectSizeGreaterThan' must be a non-negative and 'ObjectSizeLessThan' a positive number of bytes",
        ));
    }
    if let (Some(gt), Some(lt)) = (rule.size_greater_than, rule.size_less_than)
        && lt <= gt
    {
        return Err(invalid(
            "'ObjectSizeLessThan' must be greater than 'ObjectSizeGreaterThan'",
        ));
    }
    if rule.days.is_none() && rule.date.is_none() && rule.abort_upload_days.is_none() {
        return Err(invalid_request(
            "At least one action needs to be specified in a rule",
        ));
    }
    Ok(())
}

/// An ID for a rule given without one, as S3 assigns: base64 of a random UUID's text.
fn new_rule_id() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(crate::record::new_uuid())
}

/// S3's default `TransitionDefaultMinimumObjectSize` (since September 2024).
pub const DEFAULT_MINIMUM_SIZE: &str = "all_storage_classes_128K";
/// The values `x-amz-transition-default-minimum-object-size` takes.
const MINIMUM_SIZES: [&str; 2] = ["all_storage_classes_128K", "varies_by_storage_class"];

/// A bucket's lifecycle configuration as stored: its rules and its default minimum object
/// size for transitions (a configuration stored before it was kept is a bare list of rules).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Stored {
    /// The rules.
    pub rules: Vec<Rule>,
    /// `TransitionDefaultMinimumObjectSize`.
    #[serde(rename = "minimumObjectSize", default)]
    pub minimum_object_size: Option<String>,
}

impl Stored {
    /// Reads a stored configuration, either form.
    pub fn parse(json: &str) -> Option<Self> {
        serde_json::from_str::<Stored>(json).ok().or_else(|| {
            serde_json::from_str::<Vec<Rule>>(json)
                .ok()
                .map(|rules| Stored {
                    rules,
                    minimum_object_size: None,
                })
        })
    }

    /// The default minimum object size in force.
    pub fn minimum_size(&self) -> &str {
        self.minimum_object_size
            .as_deref()
            .unwrap_or(DEFAULT_MINIMUM_SIZE)
    }
}

fn rules_of(json: &str) -> Vec<Rule> {
    Stored::parse(json).map(|s| s.rules).unwrap_or_default()
}

/// PutBucketLifecycleConfiguration. A rule without an `ID` gets one, as on S3. The
/// `x-amz-transition-default-minimum-object-size` given (S3's default when none) is kept
/// and answered by both calls, as Terraform's provider waits to read it back.
pub fn put(
    conn: &Connection,
    _ctx: &CallContext,
    bucket: &str,
    rules: &[Rule],
    minimum_size: Option<&str>,
) -> ApiResult<String> {
    require_bucket(conn, bucket)?;
    if let Some(m) = minimum_size.filter(|m| !MINIMUM_SIZES.contains(m)) {
        return Err(invalid(format!(
            "Invalid value for x-amz-transition-default-minimum-object-size: {m}"
        )));
    }
    if rules.is_empty() || rules.len() > 1000 {
        return Err(invalid(
            "A lifecycle configuration must have 1 to 1000 rules.",
        ));
    }
    let mut ids = HashSet::new();
    for r in rules {
        check(r, &mut ids)?;
    }
    let named: Vec<Rule> = rules
        .iter()
        .map(|r| Rule {
            id: r.id.clone().or_else(|| Some(new_rule_id())),
            ..r.clone()
        })
        .collect();
    let stored = Stored {
        rules: named,
        minimum_object_size: Some(minimum_size.unwrap_or(DEFAULT_MINIMUM_SIZE).to_owned()),
    };
    let json = serde_json::to_string(&stored).expect("rules serialise");
    buckets::set_lifecycle(conn, bucket, Some(&json))?;
    Ok(stored.minimum_size().to_owned())
}

/// GetBucketLifecycleConfiguration.
pub fn get(conn: &Connection, _ctx: &CallContext, bucket: &str) -> ApiResult<Stored> {
    require_bucket(conn, bucket)?;
    buckets::lifecycle(conn, bucket)?
        .and_then(|j| Stored::parse(&j))
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::S3NoSuchLifecycleConfiguration,
                "The lifecycle configuration does not exist",
            )
        })
}

/// DeleteBucketLifecycle.
pub fn delete(conn: &Connection, _ctx: &CallContext, bucket: &str) -> ApiResult<()> {
    require_bucket(conn, bucket)?;
    buckets::set_lifecycle(conn, bucket, None)?;
    Ok(())
}

/// What one sweep removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Objects expired.
    pub objects: usize,
    /// Multipart uploads aborted.
    pub uploads: usize,
    /// Data files to delete once the transaction has committed.
    pub files: Vec<String>,
}

/// S3's `x-amz-expiration` for `row` (whose `last_modified` is its creation) under `bucket`'s
/// enabled rules: `expiry-date="<IMF-fixdate>", rule-id="<ID>"` of the rule that expires it
/// first, as the sweep would: `Days` after creation rounded up to midnight UTC, or `Date`.
pub fn expiration(
    conn: &Connection,
    bucket: &str,
    row: &objects::ObjectRow,
) -> cairn_store::StoreResult<Option<String>> {
    let Some(json) = buckets::lifecycle(conn, bucket)? else {
        return Ok(None);
    };
    let rules: Vec<Rule> = rules_of(&json);
    // A date past what a calendar holds (a rule of ~95 million days) is no expiry to show.
    Ok(first_expiry(&rules, row).and_then(|(at, rule)| {
        let date = chrono::DateTime::from_timestamp(at, 0)?.format("%a, %d %b %Y %H:%M:%S GMT");
        Some(format!(
            "expiry-date=\"{date}\", rule-id=\"{}\"",
            url_encoded(rule.id.as_deref().unwrap_or_default())
        ))
    }))
}

/// S3's `x-amz-abort-date` and `x-amz-abort-rule-id` for an upload of `key` in `bucket` begun
/// at `initiated`: when the first enabled `AbortIncompleteMultipartUpload` rule whose prefix
/// covers it aborts it, as the sweep does (`DaysAfterInitiation` after the start, rounded up
/// to midnight UTC), and that rule's ID.
pub fn abort_date(
    conn: &Connection,
    bucket: &str,
    key: &str,
    initiated: f64,
) -> cairn_store::StoreResult<Option<(i64, String)>> {
    let Some(json) = buckets::lifecycle(conn, bucket)? else {
        return Ok(None);
    };
    let rules: Vec<Rule> = rules_of(&json);
    Ok(rules
        .iter()
        .filter(|r| r.enabled && key.starts_with(&r.prefix))
        .filter_map(|r| Some((rounded_up(initiated, r.abort_upload_days?)?, r)))
        .min_by_key(|(at, _)| *at)
        .map(|(at, r)| (at, r.id.clone().unwrap_or_default())))
}

/// `days` after `start`, rounded up to the next midnight UTC (`None` past the calendar).
fn rounded_up(start: f64, days: i64) -> Option<i64> {
    let due = (start.ceil() as i64).checked_add(days.checked_mul(DAY)?)?;
    Some(due.div_euclid(DAY) * DAY + if due.rem_euclid(DAY) == 0 { 0 } else { DAY })
}

/// A rule ID as S3 writes it in `x-amz-expiration` ("The value of the rule-id is
/// URL-encoded"): every byte but letters, digits and `-_.~` as `%XX`.
fn url_encoded(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The earliest expiry (epoch seconds, a midnight UTC) of `row` and the rule that sets it.
fn first_expiry<'r>(rules: &'r [Rule], row: &objects::ObjectRow) -> Option<(i64, &'r Rule)> {
    rules
        .iter()
        .filter(|r| r.enabled && row.key.starts_with(&r.prefix) && r.selects(row))
        .filter_map(|r| {
            let at = match (r.days, r.date) {
                (Some(days), _) => {
                    let due =
                        (row.last_modified.ceil() as i64).saturating_add(days.saturating_mul(DAY));
                    due.div_euclid(DAY) * DAY + if due.rem_euclid(DAY) == 0 { 0 } else { DAY }
                }
                (None, Some(date)) => date,
                _ => return None,
            };
            Some((at, r))
        })
        .min_by_key(|(at, _)| *at)
}

/// The latest midnight UTC at or before `now`.
fn midnight_before(now: f64) -> f64 {
    ((now.floor() as i64).div_euclid(DAY) * DAY) as f64
}

/// Applies every enabled rule as of `now` (epoch seconds), as S3 does: an object expires
/// `Days` after its creation rounded up to the next midnight UTC (so it is due once that
/// midnight has passed), or on `Date`; an upload is aborted likewise `DaysAfterInitiation`
/// after it began.
pub fn expire_due(conn: &Connection, now: f64) -> cairn_store::StoreResult<Swept> {
    let mut swept = Swept::default();
    let midnight = midnight_before(now);
    for (bucket, json) in buckets::with_lifecycle(conn)? {
        let rules: Vec<Rule> = rules_of(&json);
        for rule in rules.iter().filter(|r| r.enabled) {
            let cutoff = match (rule.days, rule.date) {
                (Some(days), _) => Some(midnight - (days * DAY) as f64 + 1e-6),
                (None, Some(date)) if now >= date as f64 => Some(now),
                _ => None,
            };
            if let Some(cutoff) = cutoff {
                for row in objects::older_than(conn, &bucket, &rule.prefix, cutoff)? {
                    if !rule.selects(&row) {
                        continue;
                    }
                    swept.objects += 1;
                    swept
                        .files
                        .extend(objects::delete(conn, &bucket, &row.key)?);
                }
            }
            if let Some(days) = rule.abort_upload_days {
                let cutoff = midnight - (days * DAY) as f64;
                for upload in objects::list_uploads(conn, &bucket, &rule.prefix)? {
                    if upload.initiated <= cutoff {
                        swept.uploads += 1;
                        swept
                            .files
                            .extend(objects::delete_upload(conn, &upload.upload_id)?);
                    }
                }
            }
        }
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_abort_days_after_they_began_rounded_up_to_midnight() {
        let conn = cairn_store::in_memory().unwrap();
        let bucket = buckets::Bucket {
            name: "b".into(),
            account: "a".into(),
            region: "us-east-1".into(),
            created: 0.0,
            policy: None,
        };
        buckets::insert(&conn, &bucket).unwrap();
        let rules = [
            Rule {
                id: Some("late".into()),
                abort_upload_days: Some(7),
                enabled: true,
                ..Default::default()
            },
            Rule {
                id: Some("logs".into()),
                prefix: "logs/".into(),
                abort_upload_days: Some(2),
                enabled: true,
                ..Default::default()
            },
        ];
        buckets::set_lifecycle(&conn, "b", Some(&serde_json::to_string(&rules).unwrap())).unwrap();
        // Begun 2012-12-21 10:00 UTC: two days on, rounded up, is 2012-12-24.
        let at = abort_date(&conn, "b", "logs/x", 1_356_084_000.0).unwrap();
        assert_eq!(at, Some((1_356_307_200, "logs".to_owned())));
        let at = abort_date(&conn, "b", "other", 1_356_084_000.0).unwrap();
        assert_eq!(at.map(|(_, id)| id).as_deref(), Some("late"));
        assert_eq!(abort_date(&conn, "none", "k", 0.0).unwrap(), None);
    }

    #[test]
    fn rule_ids_are_url_encoded_in_the_header() {
        assert_eq!(url_encoded("logs-day_1.x~"), "logs-day_1.x~");
        assert_eq!(url_encoded("my rule/1"), "my%20rule%2F1");
        assert_eq!(url_encoded("a\"b"), "a%22b");
        assert_eq!(url_encoded("règle"), "r%C3%A8gle");
    }

    #[test]
    fn expiry_is_creation_plus_days_rounded_up_to_midnight_and_the_earliest_rule_wins() {
        // S3's example: created 2012-12-21 10:00 UTC under a 1-day rule expires 2012-12-23.
        let created = 1_356_084_000.0;
        let mut r = row(10, &[]);
        r.key = "logs/a".into();
        r.last_modified = created;
        let days = |id: &str, prefix: &str, days: i64| Rule {
            id: Some(id.into()),
            prefix: prefix.into(),
            days: Some(days),
            enabled: true,
            ..Default::default()
        };
        let rules = [
            days("long", "", 30),
            days("short", "logs/", 1),
            days("other", "tmp/", 1),
        ];
        let (at, rule) = first_expiry(&rules, &r).unwrap();
        assert_eq!((at, rule.id.as_deref()), (1_356_220_800, Some("short")));
        let disabled = [Rule {
            enabled: false,
            ..days("off", "", 1)
        }];
        assert!(first_expiry(&disabled, &r).is_none());
        let dated = [Rule {
            date: Some(1_356_048_000),
            days: None,
            ..days("d", "", 1)
        }];
        assert_eq!(first_expiry(&dated, &r).unwrap().0, 1_356_048_000);
        r.last_modified = 1_356_048_000.0; // exactly midnight: no rounding
        assert_eq!(first_expiry(&rules[1..2], &r).unwrap().0, 1_356_134_400);
    }

    fn row(size: i64, tags: &[(&str, &str)]) -> objects::ObjectRow {
        let meta = crate::objects::ObjectMeta {
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Default::default()
        };
        objects::ObjectRow {
            bucket: "b".into(),
            key: "k".into(),
            file: "f".into(),
            size,
            etag: "e".into(),
            last_modified: 0.0,
            meta: meta.encode(),
        }
    }

    #[test]
    fn an_object_must_carry_every_tag_and_sit_strictly_inside_the_size_bounds() {
        let rule = Rule {
            tags: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
            size_greater_than: Some(10),
            size_less_than: Some(100),
            ..Default::default()
        };
        assert!(rule.selects(&row(50, &[("a", "1"), ("b", "2"), ("c", "3")])));
        assert!(!rule.selects(&row(50, &[("a", "1")])));
        assert!(!rule.selects(&row(50, &[("a", "1"), ("b", "other")])));
        assert!(!rule.selects(&row(10, &[("a", "1"), ("b", "2")])));
        assert!(!rule.selects(&row(100, &[("a", "1"), ("b", "2")])));
        assert!(Rule::default().selects(&row(0, &[])));
    }

    #[test]
    fn filters_are_checked_as_s3_checks_them() {
        let base = Rule {
            days: Some(1),
            ..Default::default()
        };
        let kind = |r: Rule| check(&r, &mut HashSet::new()).err().map(|e| e.kind);
        assert_eq!(kind(base.clone()), None);
        let tagged_abort = Rule {
            abort_upload_days: Some(1),
            tags: vec![("k".into(), "v".into())],
            ..base.clone()
        };
        assert_eq!(kind(tagged_abort), Some(ErrorKind::S3InvalidRequest));
        let duplicate = Rule {
            tags: vec![("k".into(), "1".into()), ("k".into(), "2".into())],
            ..base.clone()
        };
        assert_eq!(kind(duplicate), Some(ErrorKind::S3InvalidRequest));
        let inverted = Rule {
            size_greater_than: Some(10),
            size_less_than: Some(10),
            ..base.clone()
        };
        assert_eq!(kind(inverted), Some(ErrorKind::S3InvalidArgument));
        let malformed = Rule {
            malformed: true,
            ..base
        };
        assert_eq!(kind(malformed), Some(ErrorKind::S3MalformedXml));
    }
}
