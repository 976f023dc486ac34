//! Object records and multipart uploads. Object bytes live in files under the data dir,
//! named by an opaque id (`file`); keys never touch the filesystem.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// A stored object's record.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectRow {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Data file id.
    pub file: String,
    /// Size in bytes.
    pub size: i64,
    /// ETag without quotes.
    pub etag: String,
    /// Epoch seconds.
    pub last_modified: f64,
    /// Headers, user metadata and checksums, as JSON.
    pub meta: String,
}

fn object_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectRow> {
    Ok(ObjectRow {
        bucket: r.get(0)?,
        key: r.get(1)?,
        file: r.get(2)?,
        size: r.get(3)?,
        etag: r.get(4)?,
        last_modified: r.get(5)?,
        meta: r.get(6)?,
    })
}

const COLUMNS: &str = "bucket, key, file, size, etag, last_modified, meta";

/// Fetches one object.
pub fn get(conn: &Connection, bucket: &str, key: &str) -> StoreResult<Option<ObjectRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2"
        ))?
        .query_row(params![bucket, key], object_row)
        .optional()?)
}

/// Inserts or replaces an object; returns the file id it replaced, if any.
pub fn put(conn: &Connection, row: &ObjectRow) -> StoreResult<Option<String>> {
    let previous = get(conn, &row.bucket, &row.key)?.map(|o| o.file);
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO objects ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?
    .execute(params![
        row.bucket,
        row.key,
        row.file,
        row.size,
        row.etag,
        row.last_modified,
        row.meta
    ])?;
    Ok(previous)
}

/// Deletes an object; returns its file id if it existed.
pub fn delete(conn: &Connection, bucket: &str, key: &str) -> StoreResult<Option<String>> {
    let previous = get(conn, bucket, key)?.map(|o| o.file);
    conn.prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2")?
        .execute(params![bucket, key])?;
    Ok(previous)
}

/// Objects of a bucket with `prefix`, keys strictly after `after`, in key (byte) order.
pub fn list(
    conn: &Connection,
    bucket: &str,
    prefix: &str,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<ObjectRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND key > ?2 AND substr(key, 1, length(?3)) = ?3
         ORDER BY key LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![bucket, after, prefix, limit as i64], object_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Whether a bucket holds any object (unfinished uploads do not count: DeleteBucket discards
/// them, as S3 does for general purpose buckets).
pub fn bucket_is_empty(conn: &Connection, bucket: &str) -> StoreResult<bool> {
    let objects: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?1)")?
        .query_row([bucket], |r| r.get(0))?;
    Ok(!objects)
}

/// Objects last modified before `cutoff` whose key starts with `prefix`.
pub fn older_than(
    conn: &Connection,
    bucket: &str,
    prefix: &str,
    cutoff: f64,
) -> StoreResult<Vec<ObjectRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND substr(key, 1, length(?2)) = ?2 AND last_modified < ?3"
    ))?;
    let rows = stmt.query_map(params![bucket, prefix, cutoff], object_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The file of each stored object and upload part: `(bucket, key, file)`, the key of a part
/// given as `<key> (upload <id>, part <n>)`. Opens `db` read-only in one read transaction, so
/// it may run beside a server or on a backup (`cairn verify-store`).
pub fn files_read_only(db: &std::path::Path) -> StoreResult<Vec<(String, String, String)>> {
    let conn = Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch("BEGIN")?;
    let mut out = Vec::new();
    for sql in [
        "SELECT bucket, key, file FROM objects",
        "SELECT u.bucket, u.key || ' (upload ' || p.upload_id || ', part ' || p.part_number || ')', p.file
           FROM multipart_parts p JOIN multipart_uploads u ON u.upload_id = p.upload_id",
    ] {
        let mut stmt = conn.prepare(sql)?;
        for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
            out.push(row?);
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(out)
}

/// Every file id the store references (objects and parts), for orphan cleanup.
pub fn referenced_files(conn: &Connection) -> StoreResult<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    for sql in [
        "SELECT file FROM objects",
        "SELECT file FROM multipart_parts",
    ] {
        let mut stmt = conn.prepare(sql)?;
        for f in stmt.query_map([], |r| r.get::<_, String>(0))? {
            out.insert(f?);
        }
    }
    Ok(out)
}

/// A multipart upload in progress.
#[derive(Clone, Debug, PartialEq)]
pub struct UploadRow {
    /// Upload id.
    pub upload_id: String,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Epoch seconds.
    pub initiated: f64,
    /// Metadata the object will get, as JSON.
    pub meta: String,
}

/// One uploaded part.
#[derive(Clone, Debug, PartialEq)]
pub struct PartRow {
    /// Part number (1–10000).
    pub part_number: i64,
    /// Data file id.
    pub file: String,
    /// Size in bytes.
    pub size: i64,
    /// ETag without quotes.
    pub etag: String,
    /// Epoch seconds.
    pub last_modified: f64,
    /// The part's additional checksum: its algorithm (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`,
    /// `SHA256`) and base64 value; `None` for a part stored without one (or before they were
    /// kept).
    pub checksum: Option<(String, String)>,
}

fn upload_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UploadRow> {
    Ok(UploadRow {
        upload_id: r.get(0)?,
        bucket: r.get(1)?,
        key: r.get(2)?,
        initiated: r.get(3)?,
        meta: r.get(4)?,
    })
}

/// Starts an upload.
pub fn create_upload(conn: &Connection, u: &UploadRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO multipart_uploads (upload_id, bucket, key, initiated, meta) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![u.upload_id, u.bucket, u.key, u.initiated, u.meta])?;
    Ok(())
}

/// Fetches an upload.
pub fn get_upload(conn: &Connection, upload_id: &str) -> StoreResult<Option<UploadRow>> {
    Ok(conn
        .prepare_cached("SELECT upload_id, bucket, key, initiated, meta FROM multipart_uploads WHERE upload_id = ?1")?
        .query_row([upload_id], upload_row)
        .optional()?)
}

/// Uploads of a bucket, by key then initiation time.
pub fn list_uploads(conn: &Connection, bucket: &str, prefix: &str) -> StoreResult<Vec<UploadRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT upload_id, bucket, key, initiated, meta FROM multipart_uploads
         WHERE bucket = ?1 AND substr(key, 1, length(?2)) = ?2 ORDER BY key, initiated",
    )?;
    let rows = stmt.query_map(params![bucket, prefix], upload_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Up to `limit` uploads of `bucket` under `prefix` in listing order (key, initiation time,
/// id), after `key` — or, with `within`, after the upload of `key` initiated then with that
/// id (later uploads of the same key first).
pub fn list_uploads_after(
    conn: &Connection,
    bucket: &str,
    prefix: &str,
    key: &str,
    within: Option<(f64, &str)>,
    limit: usize,
) -> StoreResult<Vec<UploadRow>> {
    let rows = match within {
        None => {
            let mut stmt = conn.prepare_cached(
                "SELECT upload_id, bucket, key, initiated, meta FROM multipart_uploads
                 WHERE bucket = ?1 AND substr(key, 1, length(?2)) = ?2 AND key > ?3
                 ORDER BY key, initiated, upload_id LIMIT ?4",
            )?;
            stmt.query_map(params![bucket, prefix, key, limit as i64], upload_row)?
                .collect::<Result<Vec<_>, _>>()?
        }
        Some((initiated, id)) => {
            let mut stmt = conn.prepare_cached(
                "SELECT upload_id, bucket, key, initiated, meta FROM multipart_uploads
                 WHERE bucket = ?1 AND substr(key, 1, length(?2)) = ?2
                 AND (key > ?3 OR (key = ?3 AND (initiated > ?4 OR (initiated = ?4 AND upload_id > ?5))))
                 ORDER BY key, initiated, upload_id LIMIT ?6",
            )?;
            stmt.query_map(
                params![bucket, prefix, key, initiated, id, limit as i64],
                upload_row,
            )?
            .collect::<Result<Vec<_>, _>>()?
        }
    };
    Ok(rows)
}

/// Records a part; returns the file id of a part it replaced.
pub fn put_part(conn: &Connection, upload_id: &str, part: &PartRow) -> StoreResult<Option<String>> {
    let previous: Option<String> = conn
        .prepare_cached(
            "SELECT file FROM multipart_parts WHERE upload_id = ?1 AND part_number = ?2",
        )?
        .query_row(params![upload_id, part.part_number], |r| r.get(0))
        .optional()?;
    let (algorithm, checksum) = match &part.checksum {
        Some((a, v)) => (Some(a.as_str()), Some(v.as_str())),
        None => (None, None),
    };
    conn.prepare_cached(
        "INSERT OR REPLACE INTO multipart_parts
         (upload_id, part_number, file, size, etag, last_modified, checksum_algorithm, checksum)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        upload_id,
        part.part_number,
        part.file,
        part.size,
        part.etag,
        part.last_modified,
        algorithm,
        checksum
    ])?;
    Ok(previous)
}

/// Parts of an upload, by number.
pub fn list_parts(conn: &Connection, upload_id: &str) -> StoreResult<Vec<PartRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT part_number, file, size, etag, last_modified, checksum_algorithm, checksum
         FROM multipart_parts WHERE upload_id = ?1 ORDER BY part_number",
    )?;
    let rows = stmt.query_map([upload_id], |r| {
        let algorithm: Option<String> = r.get(5)?;
        let checksum: Option<String> = r.get(6)?;
        Ok(PartRow {
            part_number: r.get(0)?,
            file: r.get(1)?,
            size: r.get(2)?,
            etag: r.get(3)?,
            last_modified: r.get(4)?,
            checksum: algorithm.zip(checksum),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Removes an upload and its parts; returns the parts' file ids.
pub fn delete_upload(conn: &Connection, upload_id: &str) -> StoreResult<Vec<String>> {
    let files = list_parts(conn, upload_id)?
        .into_iter()
        .map(|p| p.file)
        .collect();
    conn.prepare_cached("DELETE FROM multipart_uploads WHERE upload_id = ?1")?
        .execute([upload_id])?;
    Ok(files)
}

/// Removes every upload of `bucket` and their parts (the bucket is being deleted); returns the
/// parts' file ids, to delete once the removal has committed.
pub fn delete_bucket_uploads(conn: &Connection, bucket: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.file FROM multipart_parts p JOIN multipart_uploads u ON u.upload_id = p.upload_id
         WHERE u.bucket = ?1",
    )?;
    let files = stmt
        .query_map([bucket], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    conn.prepare_cached("DELETE FROM multipart_uploads WHERE bucket = ?1")?
        .execute([bucket])?;
    Ok(files)
}

/// One record's stored metadata, for a pass that rewrites it (master-key rotation): an
/// object's (`upload_id` empty) or a multipart upload's.
#[derive(Clone, Debug, PartialEq)]
pub struct MetaRow {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// The upload's id, for a multipart upload; empty for an object.
    pub upload_id: String,
    /// Metadata JSON.
    pub meta: String,
}

/// Up to `limit` object records whose metadata matches `needle` (a `LIKE` pattern's middle,
/// so `_` matches any character: callers check what they get), in (bucket, key) order after
/// `after`.
pub fn object_metas_containing(
    conn: &Connection,
    needle: &str,
    after: Option<(&str, &str)>,
    limit: usize,
) -> StoreResult<Vec<MetaRow>> {
    let (b, k) = after.unwrap_or(("", ""));
    let mut stmt = conn.prepare_cached(
        "SELECT bucket, key, meta FROM objects
         WHERE (bucket > ?1 OR (bucket = ?1 AND key > ?2)) AND meta LIKE '%' || ?3 || '%'
         ORDER BY bucket, key LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![b, k, needle, limit as i64], |r| {
        Ok(MetaRow {
            bucket: r.get(0)?,
            key: r.get(1)?,
            upload_id: String::new(),
            meta: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every multipart upload whose metadata matches `needle` as above (uploads are few and
/// short-lived).
pub fn upload_metas_containing(conn: &Connection, needle: &str) -> StoreResult<Vec<MetaRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT bucket, key, upload_id, meta FROM multipart_uploads
         WHERE meta LIKE '%' || ?1 || '%' ORDER BY upload_id",
    )?;
    let rows = stmt.query_map(params![needle], |r| {
        Ok(MetaRow {
            bucket: r.get(0)?,
            key: r.get(1)?,
            upload_id: r.get(2)?,
            meta: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replaces the metadata of the object or upload `row` names with `row.meta`.
pub fn set_meta(conn: &Connection, row: &MetaRow) -> StoreResult<()> {
    if row.upload_id.is_empty() {
        conn.prepare_cached("UPDATE objects SET meta = ?3 WHERE bucket = ?1 AND key = ?2")?
            .execute(params![row.bucket, row.key, row.meta])?;
    } else {
        conn.prepare_cached("UPDATE multipart_uploads SET meta = ?2 WHERE upload_id = ?1")?
            .execute(params![row.upload_id, row.meta])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part keeps its checksum; a part stored without one (as every part was before
    /// version 23) reads back with none.
    #[test]
    fn parts_keep_their_checksum_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("cairn.db")).unwrap();
        let parts = store
            .write_blocking(|c| {
                create_upload(
                    c,
                    &UploadRow {
                        upload_id: "u".into(),
                        bucket: "b".into(),
                        key: "k".into(),
                        initiated: 0.0,
                        meta: "{}".into(),
                    },
                )?;
                for (n, checksum) in [(1, Some(("CRC32", "AAAAAA=="))), (2, None)] {
                    put_part(
                        c,
                        "u",
                        &PartRow {
                            part_number: n,
                            file: format!("f{n}"),
                            size: 1,
                            etag: "e".into(),
                            last_modified: 0.0,
                            checksum: checksum.map(|(a, v)| (a.to_owned(), v.to_owned())),
                        },
                    )?;
                }
                list_parts(c, "u")
            })
            .unwrap()
            .unwrap();
        assert_eq!(
            parts[0].checksum,
            Some(("CRC32".to_owned(), "AAAAAA==".to_owned()))
        );
        assert_eq!(parts[1].checksum, None);
    }

    /// Pages of matching records follow (bucket, key) order without gaps or repeats, and
    /// `set_meta` rewrites the one record named.
    #[test]
    fn metas_page_in_key_order_and_are_rewritten_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("cairn.db")).unwrap();
        let got = store
            .write_blocking(|c| {
                for (bucket, key, meta) in [
                    ("a", "1", r#"{"sse_s3":{"data_key":"01"}}"#),
                    ("a", "2", "{}"),
                    ("a", "3", r#"{"sse_s3":{"data_key":"03"}}"#),
                    ("b", "1", r#"{"sse_s3":{"data_key":"b1"}}"#),
                ] {
                    put(
                        c,
                        &ObjectRow {
                            bucket: bucket.into(),
                            key: key.into(),
                            file: format!("{bucket}{key}"),
                            size: 0,
                            etag: String::new(),
                            last_modified: 0.0,
                            meta: meta.into(),
                        },
                    )?;
                }
                let first = object_metas_containing(c, "\"sse_s3\"", None, 2)?;
                let last = first.last().unwrap();
                let second =
                    object_metas_containing(c, "\"sse_s3\"", Some((&last.bucket, &last.key)), 2)?;
                let mut row = second[0].clone();
                row.meta = "{}".into();
                set_meta(c, &row)?;
                let names = |rows: &[MetaRow]| {
                    rows.iter()
                        .map(|r| format!("{}/{}", r.bucket, r.key))
                        .collect::<Vec<_>>()
                };
                Ok::<_, crate::StoreError>((
                    names(&first),
                    names(&second),
                    get(c, "b", "1")?.unwrap().meta,
                    get(c, "a", "1")?.unwrap().meta,
                ))
            })
            .unwrap()
            .unwrap();
        assert_eq!(got.0, ["a/1", "a/3"]);
        assert_eq!(got.1, ["b/1"]);
        assert_eq!(got.2, "{}");
        assert_eq!(got.3, r#"{"sse_s3":{"data_key":"01"}}"#);
    }
}
