//! AWS KMS pagination: `Limit`, `Marker` in, `Truncated` and `NextMarker` out. Markers are
//! opaque to clients; Cairn's carry the sort key of the last item returned.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{ApiError, ApiResult, ErrorKind};

const PREFIX: &str = "cairn-kms-1:";

/// One page of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// `NextMarker` when more items follow.
    pub next_marker: Option<String>,
}

impl<T> Page<T> {
    /// `Truncated`.
    pub fn truncated(&self) -> bool {
        self.next_marker.is_some()
    }
}

/// The page size for `Limit`: the model allows 1–1000; each operation has its own default
/// and largest size (AWS returns at most that many).
pub fn page_limit(limit: Option<i64>, default: usize, max: usize) -> ApiResult<usize> {
    match limit {
        None => Ok(default),
        Some(n) if !(1..=1000).contains(&n) => Err(super::constraint(
            "limit",
            &n.to_string(),
            if n < 1 {
                "Member must have value greater than or equal to 1"
            } else {
                "Member must have value less than or equal to 1000"
            },
        )),
        Some(n) => Ok((n as usize).min(max)),
    }
}

/// The marker that resumes after sort key `last`.
pub(crate) fn encode(last: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{PREFIX}{last}"))
}

/// The sort key a marker resumes after (`""` when there is no marker).
pub(crate) fn decode(marker: Option<&str>) -> ApiResult<String> {
    let Some(m) = marker else {
        return Ok(String::new());
    };
    URL_SAFE_NO_PAD
        .decode(m)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix(PREFIX).map(str::to_owned))
        .ok_or_else(|| ApiError::new(ErrorKind::KmsInvalidMarker, "Invalid marker"))
}

/// Builds a page from up to `limit + 1` fetched items.
pub(crate) fn page<T>(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> String) -> Page<T> {
    let next_marker = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| encode(&key(last)))
    } else {
        None
    };
    Page { items, next_marker }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_garbage_is_refused() {
        assert_eq!(decode(Some(&encode("abc"))).unwrap(), "abc");
        assert_eq!(decode(None).unwrap(), "");
        assert_eq!(
            decode(Some("nope")).unwrap_err().kind,
            ErrorKind::KmsInvalidMarker
        );
        let p = page(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(decode(p.next_marker.as_deref()).unwrap(), "2");
        assert!(page_limit(Some(0), 50, 100).is_err());
        assert_eq!(page_limit(Some(500), 50, 100).unwrap(), 100);
    }
}
