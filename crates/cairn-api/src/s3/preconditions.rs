//! Conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since)
//! and byte ranges, checked against an object's record.

use cairn_core::{ApiError, ErrorKind};
use cairn_store::objects::ObjectRow;
use s3s::dto::{ETagCondition, Range, Timestamp};

pub(super) fn etag_matches(cond: &ETagCondition, etag: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == etag,
    }
}

/// Applies If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since.
pub(super) fn check_conditions(
    row: &ObjectRow,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> Result<(), ApiError> {
    let modified = std::time::UNIX_EPOCH + std::time::Duration::from_secs(row.last_modified as u64);
    let as_system =
        |t: &Timestamp| std::time::SystemTime::from(time::OffsetDateTime::from(t.clone()));
    let precondition = || {
        ApiError::new(
            ErrorKind::S3PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold",
        )
    };
    let not_modified = || ApiError::new(ErrorKind::S3NotModified, "Not Modified");
    if let Some(c) = if_match
        && !etag_matches(c, &row.etag)
    {
        return Err(precondition());
    }
    if if_match.is_none()
        && let Some(t) = if_unmodified_since
        && modified > as_system(t)
    {
        return Err(precondition());
    }
    if let Some(c) = if_none_match
        && etag_matches(c, &row.etag)
    {
        return Err(not_modified());
    }
    if if_none_match.is_none()
        && let Some(t) = if_modified_since
        && modified <= as_system(t)
    {
        return Err(not_modified());
    }
    Ok(())
}

pub(super) fn range_of(
    range: Option<&Range>,
    size: i64,
) -> Result<Option<std::ops::Range<u64>>, ApiError> {
    match range {
        None => Ok(None),
        Some(r) => r.check(size as u64).map(Some).map_err(|_| {
            ApiError::new(
                ErrorKind::S3InvalidRange,
                "The requested range is not satisfiable",
            )
        }),
    }
}
