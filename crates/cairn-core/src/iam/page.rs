//! IAM pagination: `MaxItems` (1–1000, default 100), an opaque `Marker`, `IsTruncated`.
//!
//! Lists are computed whole (they are small: thousands of entities at most) and sliced. The
//! marker is the sort key of the first item of the next page, base64url-encoded, so a page
//! stays correct when items before it are deleted between calls.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::validate;
use crate::error::{ApiResult, ErrorKind};

/// `Marker` and `MaxItems` of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Marker from a previous response.
    pub marker: Option<String>,
    /// Page size.
    pub max_items: Option<i64>,
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
    /// Slices `items`, which are sorted by `key` ascending.
    pub fn apply<T>(&self, items: Vec<T>, key: impl Fn(&T) -> String) -> ApiResult<Page<T>> {
        let max = match self.max_items {
            None => 100,
            Some(n) => {
                validate::range(n, "maxItems", 1, 1000)?;
                n as usize
            }
        };
        let start = match &self.marker {
            None => None,
            Some(m) => {
                validate::length(m, "marker", 1, 320)?;
                let bytes = URL_SAFE_NO_PAD
                    .decode(m)
                    .map_err(|_| super::err(ErrorKind::InvalidInput, "Invalid Marker."))?;
                Some(
                    String::from_utf8(bytes)
                        .map_err(|_| super::err(ErrorKind::InvalidInput, "Invalid Marker."))?,
                )
            }
        };
        let mut rest: Vec<T> = match start {
            None => items,
            Some(s) => items.into_iter().filter(|i| key(i) >= s).collect(),
        };
        let marker = if rest.len() > max {
            let next = key(&rest[max]);
            rest.truncate(max);
            Some(URL_SAFE_NO_PAD.encode(next.as_bytes()))
        } else {
            None
        };
        Ok(Page {
            items: rest,
            marker,
        })
    }

    /// Slices a list kept in its own order (attachment order, newest first…): the key is the
    /// position.
    pub fn apply_ordered<T>(&self, items: Vec<T>) -> ApiResult<Page<T>> {
        let indexed: Vec<(usize, T)> = items.into_iter().enumerate().collect();
        Ok(self
            .apply(indexed, |(i, _)| format!("{i:08}"))?
            .map(|(_, t)| t))
    }
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
                max_items: Some(0)
            }
            .apply(items.clone(), |s| s.clone())
            .is_err()
        );
        assert!(
            PageRequest {
                marker: Some("%%%".into()),
                max_items: None
            }
            .apply(items, |s| s.clone())
            .is_err()
        );
    }
}
