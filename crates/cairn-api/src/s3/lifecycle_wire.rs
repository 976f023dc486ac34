//! Lifecycle rules between S3's wire shapes and `cairn_core::lifecycle::Rule`. Every
//! element of a rule is read: what Cairn does not apply is named in `Rule::unsupported`, so
//! the core refuses the rule instead of storing a narrower (or wider) one.

use cairn_core::lifecycle::Rule;
use s3s::dto::*;

use super::bucket_ops::timestamp;

fn epoch(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

/// The rule a PutBucketLifecycleConfiguration element asks for.
pub(super) fn rule_from_wire(r: &LifecycleRule) -> Rule {
    let mut unsupported = Vec::new();
    let mut note = |present: bool, what: &str| {
        if present {
            unsupported.push(what.to_owned());
        }
    };
    let filter = r.filter.as_ref();
    note(filter.is_some_and(|f| f.tag.is_some()), "Filter.Tag");
    note(filter.is_some_and(|f| f.and.is_some()), "Filter.And");
    note(
        filter.is_some_and(|f| f.object_size_greater_than.is_some()),
        "Filter.ObjectSizeGreaterThan",
    );
    note(
        filter.is_some_and(|f| f.object_size_less_than.is_some()),
        "Filter.ObjectSizeLessThan",
    );
    note(
        r.transitions.as_ref().is_some_and(|t| !t.is_empty()),
        "Transitions",
    );
    note(
        r.noncurrent_version_transitions
            .as_ref()
            .is_some_and(|t| !t.is_empty()),
        "NoncurrentVersionTransitions",
    );
    note(
        r.noncurrent_version_expiration.is_some(),
        "NoncurrentVersionExpiration",
    );
    let expiration = r.expiration.as_ref();
    note(
        expiration.is_some_and(|e| e.expired_object_delete_marker.is_some()),
        "Expiration.ExpiredObjectDeleteMarker",
    );
    Rule {
        id: r.id.clone(),
        prefix: filter
            .and_then(|f| f.prefix.clone())
            .or_else(|| r.prefix.clone())
            .unwrap_or_default(),
        days: expiration.and_then(|e| e.days).map(i64::from),
        date: expiration.and_then(|e| e.date.as_ref()).map(epoch),
        abort_upload_days: r
            .abort_incomplete_multipart_upload
            .as_ref()
            .and_then(|a| a.days_after_initiation)
            .map(i64::from),
        enabled: r.status.as_str() == ExpirationStatus::ENABLED,
        top_level_prefix: filter.is_none() && r.prefix.is_some(),
        unsupported,
    }
}

/// A stored rule as GetBucketLifecycleConfiguration shows it.
pub(super) fn rule_to_wire(r: Rule) -> LifecycleRule {
    LifecycleRule {
        abort_incomplete_multipart_upload: r.abort_upload_days.map(|d| {
            AbortIncompleteMultipartUpload {
                days_after_initiation: Some(d as i32),
            }
        }),
        expiration: (r.days.is_some() || r.date.is_some()).then(|| LifecycleExpiration {
            days: r.days.map(|d| d as i32),
            date: r.date.map(|d| timestamp(d as f64)),
            ..Default::default()
        }),
        // In the form it was given: S3's older top-level `Prefix` (which the legacy
        // GetBucketLifecycle shape also reads), or a `Filter`.
        filter: (!r.top_level_prefix).then(|| LifecycleRuleFilter {
            prefix: Some(r.prefix.clone()),
            ..Default::default()
        }),
        id: r.id,
        noncurrent_version_expiration: None,
        noncurrent_version_transitions: None,
        prefix: r.top_level_prefix.then_some(r.prefix),
        status: ExpirationStatus::from_static(if r.enabled {
            ExpirationStatus::ENABLED
        } else {
            ExpirationStatus::DISABLED
        }),
        transitions: None,
    }
}
