//! Tags of KMS keys (`TagKey`/`TagValue`).

use rusqlite::{Connection, params};

use crate::StoreResult;

/// A tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// A key's tags after `after` (a tag key), by tag key.
pub fn list_tags(
    conn: &Connection,
    key_id: &str,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<Tag>> {
    let mut stmt = conn.prepare_cached(
        "SELECT tag_key, tag_value FROM kms_tags WHERE key_id = ?1 AND tag_key > ?2 \
         ORDER BY tag_key LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![key_id, after, limit as i64], |r| {
        Ok(Tag {
            key: r.get(0)?,
            value: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Adds or replaces a tag.
pub fn put_tag(conn: &Connection, key_id: &str, key: &str, value: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO kms_tags (key_id, tag_key, tag_value) VALUES (?1, ?2, ?3) \
         ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
    )?
    .execute(params![key_id, key, value])?;
    Ok(())
}

/// Removes a tag (no-op when absent).
pub fn delete_tag(conn: &Connection, key_id: &str, key: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM kms_tags WHERE key_id = ?1 AND tag_key = ?2")?
        .execute(params![key_id, key])?;
    Ok(())
}

/// How many tags a key has.
pub fn count_tags(conn: &Connection, key_id: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM kms_tags WHERE key_id = ?1")?
        .query_row([key_id], |r| r.get(0))?)
}
