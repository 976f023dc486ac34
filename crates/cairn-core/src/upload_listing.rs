//! ListMultipartUploads: one page of a bucket's unfinished uploads in S3's order (key, then
//! initiation time), after `key-marker`/`upload-id-marker`, with keys that contain the
//! delimiter after the prefix rolled into common prefixes.

use cairn_store::Connection;
use cairn_store::objects::{self, UploadRow};

use crate::error::{ApiError, ApiResult, ErrorKind};

/// What a ListMultipartUploads call asks for.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Only keys starting with this.
    pub prefix: String,
    /// Roll keys containing this after the prefix into common prefixes.
    pub delimiter: Option<String>,
    /// Start after this key (`key-marker`).
    pub key_marker: String,
    /// With `key_marker`, start after this upload of that key (`upload-id-marker`).
    pub upload_id_marker: Option<String>,
    /// `max-uploads` as given (at most 1000 entries are returned).
    pub max_uploads: Option<i32>,
}

impl Query {
    /// The page size: `max-uploads`, at most 1000 (1000 when not given).
    pub fn page_size(&self) -> usize {
        self.max_uploads.unwrap_or(1000).clamp(0, 1000) as usize
    }
}

/// One page of uploads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Listing {
    /// Uploads, in order.
    pub uploads: Vec<UploadRow>,
    /// Common prefixes (with a delimiter), in order.
    pub common_prefixes: Vec<String>,
    /// Whether more follow.
    pub truncated: bool,
    /// When truncated: the next page's `key-marker` (the last key or common prefix).
    pub next_key_marker: Option<String>,
    /// When truncated after an upload: the next page's `upload-id-marker`.
    pub next_upload_id_marker: Option<String>,
}

/// Lists one page of `bucket`'s uploads for `q` (the bucket's existence is the caller's
/// check). Uploads and common prefixes together count against the page size.
pub fn list(conn: &Connection, bucket: &str, q: &Query) -> ApiResult<Listing> {
    if q.max_uploads.is_some_and(|n| n < 0) {
        return Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "Argument max-uploads must be an integer between 0 and 2147483647",
        ));
    }
    let max = q.page_size();
    let mut out = Listing::default();
    if max == 0 {
        return Ok(out);
    }
    // `upload-id-marker` counts only with a `key-marker`, and names an upload of that key.
    let mut within: Option<(f64, String)> = match &q.upload_id_marker {
        Some(id) if !q.key_marker.is_empty() && !id.is_empty() => objects::get_upload(conn, id)?
            .filter(|u| u.bucket == bucket && u.key == q.key_marker)
            .map(|u| (u.initiated, u.upload_id)),
        _ => None,
    };
    let mut key = q.key_marker.clone();
    let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
    loop {
        let batch = objects::list_uploads_after(
            conn,
            bucket,
            &q.prefix,
            &key,
            within.as_ref().map(|(t, id)| (*t, id.as_str())),
            1000,
        )?;
        if batch.is_empty() {
            return Ok(out);
        }
        for row in batch {
            key = row.key.clone();
            within = Some((row.initiated, row.upload_id.clone()));
            let rolled = delimiter.and_then(|d| {
                row.key[q.prefix.len()..]
                    .find(d)
                    .map(|i| row.key[..q.prefix.len() + i + d.len()].to_owned())
            });
            // A common prefix given back as the marker was listed on the page before.
            let listed = rolled.as_ref().is_some_and(|cp| *cp == q.key_marker);
            if !listed && out.uploads.len() + out.common_prefixes.len() == max {
                out.truncated = true;
                return Ok(out);
            }
            match rolled {
                Some(cp) => {
                    if !listed {
                        out.next_key_marker = Some(cp.clone());
                        out.next_upload_id_marker = None;
                        out.common_prefixes.push(cp.clone());
                    }
                    // Continue after the last key this prefix can hold.
                    key = format!("{cp}\u{10FFFF}");
                    within = None;
                    break;
                }
                None => {
                    out.next_key_marker = Some(row.key.clone());
                    out.next_upload_id_marker = Some(row.upload_id.clone());
                    out.uploads.push(row);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(uploads: &[(&str, &str, f64)]) -> (tempfile::TempDir, cairn_store::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = cairn_store::Store::open(&dir.path().join("cairn.db")).unwrap();
        let rows: Vec<UploadRow> = uploads
            .iter()
            .map(|(id, key, t)| UploadRow {
                upload_id: (*id).into(),
                bucket: "b".into(),
                key: (*key).into(),
                initiated: *t,
                meta: "{}".into(),
            })
            .collect();
        store
            .write_blocking(move |c| {
                for r in &rows {
                    objects::create_upload(c, r)?;
                }
                Ok::<_, cairn_store::StoreError>(())
            })
            .unwrap()
            .unwrap();
        (dir, store)
    }

    fn page(store: &cairn_store::Store, q: Query) -> Listing {
        store
            .read_blocking(move |c| Ok(list(c, "b", &q)))
            .unwrap()
            .unwrap()
    }

    fn ids(l: &Listing) -> Vec<&str> {
        l.uploads.iter().map(|u| u.upload_id.as_str()).collect()
    }

    #[test]
    fn pages_follow_key_then_initiation_order() {
        // `z` started before `a`, but ids do not order uploads of one key: time does.
        let (_d, store) = store_with(&[("z", "k1", 1.0), ("a", "k1", 2.0), ("m", "k2", 0.5)]);
        let mut q = Query {
            max_uploads: Some(1),
            ..Default::default()
        };
        let mut seen = vec![];
        loop {
            let l = page(&store, q.clone());
            seen.extend(ids(&l).into_iter().map(str::to_owned));
            if !l.truncated {
                break;
            }
            q.key_marker = l.next_key_marker.unwrap();
            q.upload_id_marker = l.next_upload_id_marker;
        }
        assert_eq!(seen, ["z", "a", "m"]);
        // A key marker alone skips every upload of that key.
        let l = page(
            &store,
            Query {
                key_marker: "k1".into(),
                ..Default::default()
            },
        );
        assert_eq!(ids(&l), ["m"]);
    }

    #[test]
    fn delimiters_roll_keys_into_prefixes_that_count_and_are_not_repeated() {
        let (_d, store) = store_with(&[
            ("1", "p/a/x", 1.0),
            ("2", "p/a/y", 1.0),
            ("3", "p/b", 1.0),
            ("4", "p/c/z", 1.0),
        ]);
        let q = Query {
            prefix: "p/".into(),
            delimiter: Some("/".into()),
            max_uploads: Some(2),
            ..Default::default()
        };
        let first = page(&store, q.clone());
        assert_eq!(first.common_prefixes, ["p/a/"]);
        assert_eq!(ids(&first), ["3"]);
        assert!(first.truncated);
        assert_eq!(first.next_key_marker.as_deref(), Some("p/b"));
        let second = page(
            &store,
            Query {
                key_marker: "p/a/".into(),
                ..q.clone()
            },
        );
        assert_eq!(second.common_prefixes, ["p/c/"]);
        assert_eq!(ids(&second), ["3"]);
        assert!(!second.truncated);
        let negative = Query {
            max_uploads: Some(-1),
            ..q
        };
        let refused = store
            .read_blocking(move |c| Ok(list(c, "b", &negative)))
            .unwrap()
            .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::S3InvalidArgument);
    }
}
