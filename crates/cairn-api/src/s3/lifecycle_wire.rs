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
    let and = filter.and_then(|f| f.and.as_ref());
    // What the schema does not allow, refused rather than read as a wider rule: a filter
    // naming more than one predicate (several belong in an `And`), an `And` naming none, a
    // rule with both a `Filter` and the older top-level `Prefix`, a `Status` other than
    // `Enabled` or `Disabled` (a typo must not turn a rule off).
    let predicates = |f: &LifecycleRuleFilter| {
        [
            f.prefix.is_some(),
            f.tag.is_some(),
            f.and.is_some(),
            f.object_size_greater_than.is_some(),
            f.object_size_less_than.is_some(),
        ]
        .iter()
        .filter(|p| **p)
        .count()
    };
    let empty_and = and.is_some_and(|a| {
        a.prefix.is_none()
            && a.tags.as_ref().is_none_or(Vec::is_empty)
            && a.object_size_greater_than.is_none()
            && a.object_size_less_than.is_none()
    });
    let status = r.status.as_str();
    let malformed = filter.is_some_and(|f| predicates(f) > 1)
        || empty_and
        || (filter.is_some() && r.prefix.is_some())
        || (status != ExpirationStatus::ENABLED && status != ExpirationStatus::DISABLED);
    let size_greater_than = and
        .and_then(|a| a.object_size_greater_than)
        .or_else(|| filter.and_then(|f| f.object_size_greater_than));
    let size_less_than = and
        .and_then(|a| a.object_size_less_than)
        .or_else(|| filter.and_then(|f| f.object_size_less_than));
    let tags = super::object_tagging_ops::tag_pairs(
        and.and_then(|a| a.tags.as_ref())
            .map(|t| t.iter().collect::<Vec<_>>())
            .or_else(|| filter.and_then(|f| f.tag.as_ref()).map(|t| vec![t]))
            .unwrap_or_default(),
    );
    note(
        r.abort_incomplete_multipart_upload.is_some()
            && (size_greater_than.is_some() || size_less_than.is_some()),
        "AbortIncompleteMultipartUpload with an object size filter",
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
        prefix: and
            .and_then(|a| a.prefix.clone())
            .or_else(|| filter.and_then(|f| f.prefix.clone()))
            .or_else(|| r.prefix.clone())
            .unwrap_or_default(),
        tags,
        size_greater_than,
        size_less_than,
        and: and.is_some(),
        malformed,
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
        filter: (!r.top_level_prefix).then(|| filter_to_wire(&r)),
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

/// A rule's filter in the form it was given: `And`, a single `Tag`, a size bound, or a
/// `Prefix`.
fn filter_to_wire(r: &Rule) -> LifecycleRuleFilter {
    let tag = |(k, v): &(String, String)| Tag {
        key: Some(k.clone()),
        value: Some(v.clone()),
    };
    if r.and {
        return LifecycleRuleFilter {
            and: Some(LifecycleRuleAndOperator {
                object_size_greater_than: r.size_greater_than,
                object_size_less_than: r.size_less_than,
                prefix: (!r.prefix.is_empty()).then(|| r.prefix.clone()),
                tags: (!r.tags.is_empty()).then(|| r.tags.iter().map(tag).collect()),
            }),
            ..Default::default()
        };
    }
    match r.tags.first() {
        Some(t) => LifecycleRuleFilter {
            tag: Some(tag(t)),
            ..Default::default()
        },
        None if r.size_greater_than.is_some() || r.size_less_than.is_some() => {
            LifecycleRuleFilter {
                object_size_greater_than: r.size_greater_than,
                object_size_less_than: r.size_less_than,
                ..Default::default()
            }
        }
        None => LifecycleRuleFilter {
            prefix: Some(r.prefix.clone()),
            ..Default::default()
        },
    }
}
