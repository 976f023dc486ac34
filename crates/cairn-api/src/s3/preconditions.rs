//! Conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since)
//! and byte ranges, checked against an object's record.

use cairn_core::objects::{self, Object};
use cairn_core::{ApiError, ErrorKind};
use cairn_store::objects::ObjectRow;
use s3s::dto::{ETagCondition, Range, Timestamp};

pub(super) fn etag_matches(cond: &ETagCondition, etag: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == etag,
    }
}

/// Whether a read's `If-Match` (`weak` false: strong comparison) or `If-None-Match` (`weak`
/// true) header value names `etag`: `*`, or a comma-separated list of entity tags (RFC 9110
/// 13.1.1, 13.1.2; S3 points to RFC 7232), any of which may match. A tag may come without
/// its quotes, as S3 takes it.
pub(super) fn etag_list_matches(value: &str, etag: &str, weak: bool) -> bool {
    if value.trim() == "*" {
        return true;
    }
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return false;
        }
        let (is_weak, tag_start) = match rest.strip_prefix("W/") {
            Some(t) => (true, t),
            None => (false, rest),
        };
        let (tag, after) = match tag_start.strip_prefix('"') {
            Some(q) => match q.find('"') {
                Some(end) => (&q[..end], &q[end + 1..]),
                None => (q, ""),
            },
            None => match tag_start.find(',') {
                Some(end) => (tag_start[..end].trim(), &tag_start[end..]),
                None => (tag_start.trim(), ""),
            },
        };
        if tag == etag && (weak || !is_weak) {
            return true;
        }
        rest = after;
    }
}

/// A read's `If-Match` and `If-None-Match` as sent (lists are matched element by element).
#[derive(Clone, Debug, Default)]
pub(crate) struct EtagHeaders {
    /// `If-Match`.
    pub if_match: Option<String>,
    /// `If-None-Match`.
    pub if_none_match: Option<String>,
}

impl EtagHeaders {
    /// The two headers of a request.
    pub(super) fn of(headers: &http::HeaderMap) -> Self {
        let get = |h: http::header::HeaderName| {
            headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        EtagHeaders {
            if_match: get(http::header::IF_MATCH),
            if_none_match: get(http::header::IF_NONE_MATCH),
        }
    }
}

/// The validators of an object a conditional read found unmodified. S3's `304 Not
/// Modified` carries the object's `ETag` and `Last-Modified`, which RFC 9110 (15.4.5) asks
/// of a 304 so that a cache can refresh what it holds.
#[derive(Clone, Default)]
pub(super) struct Unmodified(std::sync::Arc<std::sync::Mutex<Option<(String, f64)>>>);

impl Unmodified {
    fn note(&self, row: &ObjectRow) {
        if let Ok(mut seen) = self.0.lock() {
            *seen = Some((row.etag.clone(), row.last_modified));
        }
    }

    /// `e` as answered: a 304 with the validators of the object it found unmodified.
    pub(super) fn answer(&self, mut e: s3s::S3Error) -> s3s::S3Error {
        let seen = self.0.lock().ok().and_then(|mut s| s.take());
        let Some((etag, modified)) = seen.filter(|_| e.code().as_str() == "NotModified") else {
            return e;
        };
        let mut headers = http::HeaderMap::new();
        if let Ok(v) = http::HeaderValue::from_str(&format!("\"{etag}\"")) {
            headers.insert(http::header::ETAG, v);
        }
        let mut date = Vec::new();
        if super::bucket_ops::timestamp(modified)
            .format(s3s::dto::TimestampFormat::HttpDate, &mut date)
            .is_ok()
            && let Ok(v) = http::HeaderValue::from_bytes(&date)
        {
            headers.insert(http::header::LAST_MODIFIED, v);
        }
        e.set_headers(headers);
        e
    }
}

/// Applies If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since; a 304 notes
/// the object's validators in `unmodified`.
pub(super) fn check_conditions(
    row: &ObjectRow,
    unmodified: &Unmodified,
    etags: &EtagHeaders,
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
    let not_modified = || {
        unmodified.note(row);
        ApiError::new(ErrorKind::S3NotModified, "Not Modified")
    };
    let (if_match, if_none_match) = (etags.if_match.as_deref(), etags.if_none_match.as_deref());
    if let Some(c) = if_match
        && !etag_list_matches(c, &row.etag, false)
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
        && etag_list_matches(c, &row.etag, true)
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

/// The bytes a GetObject or HeadObject asks for: a `Range`, or the part `partNumber` names
/// (a multipart object's part, by the sizes kept at completion; part 1 of any other object is
/// all of it). `None` is the whole object, answered 200.
pub(super) fn span_of(
    range: Option<&Range>,
    part_number: Option<i32>,
    object: &Object,
) -> Result<Option<std::ops::Range<u64>>, ApiError> {
    let size = object.row.size;
    let Some(number) = part_number else {
        return range_of(range, size);
    };
    if range.is_some() {
        return Err(ApiError::new(
            ErrorKind::S3InvalidRequest,
            "Cannot specify both Range header and partNumber query parameter",
        ));
    }
    let number = i64::from(number);
    objects::check_part_number(number)?;
    let beyond = || {
        ApiError::new(
            ErrorKind::S3InvalidPartNumber,
            "The requested partnumber is not satisfiable",
        )
    };
    let sizes = &object.meta.part_sizes;
    match object.meta.parts_count {
        None | Some(1) if sizes.is_empty() => {
            if number != 1 {
                return Err(beyond());
            }
            Ok((size > 0).then_some(0..size as u64))
        }
        Some(_) if sizes.is_empty() => Err(ApiError::new(
            ErrorKind::S3NotImplemented,
            "The part sizes of this object were not recorded when it was completed",
        )),
        _ => {
            let index = usize::try_from(number - 1).map_err(|_| beyond())?;
            let len = *sizes.get(index).ok_or_else(beyond)? as u64;
            let start: u64 = sizes[..index].iter().map(|n| *n as u64).sum();
            Ok(Some(start..start + len))
        }
    }
}

fn range_of(range: Option<&Range>, size: i64) -> Result<Option<std::ops::Range<u64>>, ApiError> {
    match range {
        None => Ok(None),
        // A suffix of an empty object selects nothing: S3 answers the whole (empty) object,
        // never a `Content-Range` of a byte it does not have.
        Some(r) => r
            .check(size as u64)
            .map(|s| (!s.is_empty()).then_some(s))
            .map_err(|_| {
                ApiError::new(
                    ErrorKind::S3InvalidRange,
                    "The requested range is not satisfiable",
                )
            }),
    }
}

/// The conditions of a write on its destination key (S3's conditional writes and deletes):
/// `If-None-Match: *` (the key must not exist) and `If-Match` (the current object's ETag,
/// or `*` for any). Checked once on a reader before any byte is accepted, and again in the
/// transaction that writes, so nothing is overwritten or deleted that the caller did not name.
#[derive(Clone, Debug, Default)]
pub(super) struct WriteConditions {
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
}

impl WriteConditions {
    /// The conditions a request names; `If-None-Match` takes only `*` (AWS answers anything
    /// else `NotImplemented`).
    pub(super) fn new(
        if_match: Option<ETagCondition>,
        if_none_match: Option<ETagCondition>,
    ) -> Result<Self, ApiError> {
        if if_none_match.as_ref().is_some_and(|c| !c.is_any()) {
            return Err(ApiError::new(
                ErrorKind::S3NotImplemented,
                "A header you provided implies functionality that is not implemented",
            ));
        }
        Ok(Self {
            if_match,
            if_none_match,
        })
    }

    /// The conditions in a request's `If-Match` and `If-None-Match` headers (for operations
    /// whose s3s input does not carry them). A value that does not parse is `InvalidArgument`.
    pub(super) fn from_headers(headers: &http::HeaderMap) -> Result<Self, ApiError> {
        let parse = |name: &str| -> Result<Option<ETagCondition>, ApiError> {
            headers
                .get(name)
                .map(|v| {
                    ETagCondition::parse_http_header(v.as_bytes()).map_err(|_| {
                        ApiError::new(
                            ErrorKind::S3InvalidArgument,
                            format!("Invalid {name} header value"),
                        )
                    })
                })
                .transpose()
        };
        Self::new(parse("if-match")?, parse("if-none-match")?)
    }

    /// Whether the request names no condition.
    pub(super) fn is_empty(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// Checks the conditions against the key's current object: `If-None-Match: *` on an
    /// existing key and an `If-Match` that differs are `PreconditionFailed` (412), an
    /// `If-Match` on a missing key `NoSuchKey` (404).
    /// (`NoSuchKey`'s message names no key, as S3's does.)
    pub(super) fn check(&self, current: Option<&ObjectRow>, _key: &str) -> Result<(), ApiError> {
        if self.if_none_match.is_some() && current.is_some() {
            return Err(precondition_failed());
        }
        if let Some(cond) = &self.if_match {
            let Some(row) = current else {
                return Err(ApiError::new(
                    ErrorKind::S3NoSuchKey,
                    "The specified key does not exist.",
                ));
            };
            if !etag_matches(cond, &row.etag) {
                return Err(precondition_failed());
            }
        }
        Ok(())
    }

    /// [`Self::check`] in the transaction that writes, after the same check passed before the
    /// body was accepted: a condition that stopped holding meanwhile lost a race with another
    /// write, which S3 answers `ConditionalRequestConflict` (409).
    pub(super) fn check_at_commit(
        &self,
        current: Option<&ObjectRow>,
        key: &str,
    ) -> Result<(), ApiError> {
        self.check(current, key).map_err(|_| {
            ApiError::new(
                ErrorKind::S3ConditionalRequestConflict,
                "A conflicting conditional operation is currently in progress against this resource. Please try again.",
            )
        })
    }
}

fn precondition_failed() -> ApiError {
    ApiError::new(
        ErrorKind::S3PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold",
    )
}

/// The conditional header S3 names in a `PreconditionFailed`'s `<Condition>` element: the
/// request's first of `If-Match`, `If-None-Match` (a conditional write) and
/// `If-Unmodified-Since` (ignored when `If-Match` is sent, so never the one that failed then),
/// else a copy's source conditions.
pub(super) fn failed_condition(headers: &http::HeaderMap) -> Option<&'static str> {
    [
        ("if-match", "If-Match"),
        ("if-none-match", "If-None-Match"),
        ("if-unmodified-since", "If-Unmodified-Since"),
        ("x-amz-copy-source-if-match", "x-amz-copy-source-If-Match"),
        (
            "x-amz-copy-source-if-none-match",
            "x-amz-copy-source-If-None-Match",
        ),
        (
            "x-amz-copy-source-if-unmodified-since",
            "x-amz-copy-source-If-Unmodified-Since",
        ),
        (
            "x-amz-copy-source-if-modified-since",
            "x-amz-copy-source-If-Modified-Since",
        ),
    ]
    .into_iter()
    .find(|(h, _)| headers.contains_key(*h))
    .map(|(_, named)| named)
}
