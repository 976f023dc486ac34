//! AWS KMS pagination: `Limit`, `Marker` in, `Truncated` and `NextMarker` out. Markers are
//! opaque to clients; Cairn's carry the sort key of the last item returned, signed and bound
//! to the listing ([`Markers`]).

use cairn_store::Connection;

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::token::TokenKey;

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

/// A listing's markers: signed tokens ([`crate::token`]) carrying the sort key of the last
/// item returned, bound to the operation and what it lists (account and region, the key, the
/// retiring principal), so a marker of another listing, key or region is refused.
pub(crate) struct Markers {
    key: TokenKey,
    scope: String,
}

impl Markers {
    /// The markers of operation `op` over `parts`.
    pub(crate) fn new(conn: &Connection, op: &str, parts: &[&str]) -> ApiResult<Self> {
        let named: Vec<(String, String)> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| (i.to_string(), (*p).to_owned()))
            .collect();
        Ok(Self {
            key: TokenKey::stored(conn)?,
            scope: crate::token::scope_of(op, &named),
        })
    }

    /// The sort key a marker resumes after (`""` when there is no marker).
    pub(crate) fn decode(&self, marker: Option<&str>) -> ApiResult<String> {
        let Some(m) = marker else {
            return Ok(String::new());
        };
        self.key
            .open(&self.scope, m)
            .ok_or_else(|| ApiError::new(ErrorKind::KmsInvalidMarker, "Invalid marker"))
    }

    /// Builds a page from up to `limit + 1` fetched items.
    pub(crate) fn page<T>(
        &self,
        mut items: Vec<T>,
        limit: usize,
        key: impl Fn(&T) -> String,
    ) -> Page<T> {
        let next_marker = if items.len() > limit {
            items.truncate(limit);
            items
                .last()
                .map(|last| self.key.seal(&self.scope, &key(last)))
        } else {
            None
        };
        Page { items, next_marker }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_are_bound_to_their_listing() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .unwrap();
        let keys = Markers::new(&conn, "ListKeys", &["111122223333", "us-east-1"]).unwrap();
        let p = keys.page(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(p.items, vec![1, 2]);
        let m = p.next_marker.unwrap();
        assert_eq!(keys.decode(Some(&m)).unwrap(), "2");
        assert_eq!(keys.decode(None).unwrap(), "");
        let aliases = Markers::new(&conn, "ListAliases", &["111122223333", "us-east-1"]).unwrap();
        let west = Markers::new(&conn, "ListKeys", &["111122223333", "us-west-2"]).unwrap();
        for (other, marker) in [(&aliases, m.as_str()), (&west, m.as_str()), (&keys, "nope")] {
            assert_eq!(
                other.decode(Some(marker)).unwrap_err().kind,
                ErrorKind::KmsInvalidMarker
            );
        }
        assert!(page_limit(Some(0), 50, 100).is_err());
        assert_eq!(page_limit(Some(500), 50, 100).unwrap(), 100);
    }
}
