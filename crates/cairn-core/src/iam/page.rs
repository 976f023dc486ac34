//! IAM pagination: `MaxItems` (1–1000, default 100), an opaque `Marker`, `IsTruncated`.
//!
//! Lists are computed whole (they are small: thousands of entities at most) and sliced by
//! key. The marker is a signed token ([`crate::token`]) carrying the sort key of the last item
//! returned, bound to the operation and its other parameters; the next page starts strictly
//! after that key, so an item that exists throughout a listing is never skipped or repeated
//! when others are created or deleted between pages.

use crate::error::{ApiResult, ErrorKind};
use crate::token::{Keyset, TokenKey};

use super::validate;

/// What a request's markers are bound to: the server's key and the call's scope.
#[derive(Clone, Debug)]
pub struct Binding {
    /// The token key.
    pub key: TokenKey,
    /// The operation and its parameters but `Marker` and `MaxItems`
    /// ([`crate::token::scope_of`]).
    pub scope: String,
}

/// `Marker` and `MaxItems` of a request.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    /// Marker from a previous response.
    pub marker: Option<String>,
    /// Page size.
    pub max_items: Option<i64>,
    /// What markers are bound to (`None`: a key of this process and an empty scope).
    pub binding: Option<Binding>,
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Set when more items follow (`IsTruncated` true).
    pub marker: Option<String>,
}

impl<T> Page<T> {
    /// Whether more items follow.
    pub fn is_truncated(&self) -> bool {
        self.marker.is_some()
    }

    /// Maps the items.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            marker: self.marker,
        }
    }
}

impl PageRequest {
    fn binding(&self) -> Binding {
        self.binding.clone().unwrap_or_else(|| Binding {
            key: TokenKey::ephemeral(),
            scope: String::new(),
        })
    }

    /// Slices `items`, which are sorted by `key` ascending (one string per item).
    pub fn apply<T>(&self, items: Vec<T>, key: impl Fn(&T) -> String) -> ApiResult<Page<T>> {
        self.apply_keyed(items, |t| Keyset(vec![key(t)]))
    }

    /// Slices `items`, which are sorted ascending by `key`, a unique sort key (compared part
    /// by part, bytewise).
    pub fn apply_keyed<T>(&self, items: Vec<T>, key: impl Fn(&T) -> Keyset) -> ApiResult<Page<T>> {
        let max = self.max()?;
        let binding = self.binding();
        let after = self.after(&binding)?;
        let mut rest: Vec<T> = match &after {
            None => items,
            Some(k) => items.into_iter().filter(|i| key(i) > *k).collect(),
        };
        let marker = if rest.len() > max {
            rest.truncate(max);
            rest.last()
                .map(|last| binding.key.seal(&binding.scope, &key(last).encode()))
        } else {
            None
        };
        Ok(Page {
            items: rest,
            marker,
        })
    }

    fn max(&self) -> ApiResult<usize> {
        Ok(match self.max_items {
            None => 100,
            Some(n) => {
                validate::range(n, "maxItems", 1, 1000)?;
                n as usize
            }
        })
    }

    /// The key the marker carries, if any.
    fn after(&self, binding: &Binding) -> ApiResult<Option<Keyset>> {
        let Some(m) = &self.marker else {
            return Ok(None);
        };
        let opened = binding
            .key
            .open(&binding.scope, m)
            .and_then(|p| serde_json::from_str::<Vec<String>>(&p).ok());
        match opened {
            Some(parts) => Ok(Some(Keyset(parts))),
            None => {
                // AWS's own bound on what a client may send, for markers Cairn did not give.
                validate::length(m, "marker", 1, 320)?;
                Err(super::err(ErrorKind::InvalidInput, "Invalid Marker."))
            }
        }
    }

    /// The positions of this page of a list of `total` items computed from the request alone
    /// (a simulation's action and resource pairs), and the marker of the next page: only
    /// the page is computed (iamapi7: 1,000 × 1,000 pairs were all evaluated for every page).
    pub fn range_of(&self, total: usize) -> ApiResult<(std::ops::Range<usize>, Option<String>)> {
        let max = self.max()?;
        let binding = self.binding();
        let from = match self.after(&binding)? {
            None => 0,
            Some(k) => match k.0.as_slice() {
                [i] => i.parse::<usize>().map_or(total, |i| i.saturating_add(1)),
                _ => total,
            },
        };
        let from = from.min(total);
        let to = from.saturating_add(max).min(total);
        let marker = (to < total).then(|| {
            binding.key.seal(
                &binding.scope,
                &Keyset(vec![format!("{:08}", to - 1)]).encode(),
            )
        });
        Ok((from..to, marker))
    }
}

/// A sequence number as a key part that sorts like the number.
pub(crate) fn seq_key(seq: i64) -> String {
    format!("{:020}", seq.max(0))
}

/// A page of an entity's tags (ListUserTags, ListRoleTags, ListPolicyTags), in the order
/// they were first set.
pub(crate) fn tag_page(
    conn: &cairn_store::Connection,
    owner_id: &str,
    page: &PageRequest,
) -> ApiResult<Page<super::Tag>> {
    let tags = cairn_store::iam::tags::tags_with_seq(conn, owner_id)?;
    Ok(page
        .apply(tags, |(seq, _, _)| seq_key(*seq))?
        .map(|(_, k, v)| (k, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_chain_through_markers() {
        let items: Vec<String> = (0..7).map(|i| format!("u{i}")).collect();
        let mut req = PageRequest {
            marker: None,
            max_items: Some(3),
            binding: None,
        };
        let mut seen = Vec::new();
        loop {
            let page = req.apply(items.clone(), |s| s.clone()).unwrap();
            seen.extend(page.items.clone());
            match page.marker {
                Some(m) => req.marker = Some(m),
                None => break,
            }
        }
        assert_eq!(seen, items);
        assert!(
            PageRequest {
                marker: None,
                max_items: Some(0),
                binding: None,
            }
            .apply(items.clone(), |s| s.clone())
            .is_err()
        );
        assert!(
            PageRequest {
                marker: Some("%%%".into()),
                max_items: None,
                binding: None,
            }
            .apply(items, |s| s.clone())
            .is_err()
        );
    }

    #[test]
    fn markers_resume_after_the_last_key_and_are_bound() {
        let key = TokenKey::from_hex(&TokenKey::generate_hex()).unwrap();
        let bound = |scope: &str, marker: Option<String>| PageRequest {
            marker,
            max_items: Some(3),
            binding: Some(Binding {
                key: key.clone(),
                scope: scope.into(),
            }),
        };
        let items: Vec<String> = (0..10).map(|i| format!("p{i:02}")).collect();
        let first = bound("a", None)
            .apply(items.clone(), |s| s.clone())
            .unwrap();
        assert_eq!(first.items, ["p00", "p01", "p02"]);
        // p00 and p01 go, p10 comes before the next page: nothing that stayed is skipped.
        let changed: Vec<String> = items[2..].to_vec();
        let second = bound("a", first.marker.clone())
            .apply(changed, |s| s.clone())
            .unwrap();
        assert_eq!(second.items, ["p03", "p04", "p05"]);
        // Another scope, or a marker forged from a key, is refused.
        assert!(
            bound("b", first.marker.clone())
                .apply(items.clone(), |s| s.clone())
                .is_err()
        );
        let forged = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            "[\"p05\"]",
        );
        assert!(
            bound("a", Some(forged))
                .apply(items, |s| s.clone())
                .is_err()
        );
    }
}
