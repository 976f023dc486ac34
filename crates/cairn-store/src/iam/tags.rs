//! Tags of IAM users, roles and managed policies, keyed by the entity's unique id. Keys are
//! unique case-insensitively; the latest write of a key keeps its case.

use rusqlite::{Connection, params};

use super::bump_generation;
use crate::StoreResult;

/// Adds or replaces tags (in order; a key written again keeps its position).
pub fn set_tags(conn: &Connection, owner_id: &str, tags: &[(String, String)]) -> StoreResult<()> {
    for (k, v) in tags {
        conn.prepare_cached(
            "INSERT INTO iam_tags (owner_id, key, key_lower, value, seq)
             VALUES (?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(seq), 0) + 1 FROM iam_tags WHERE owner_id = ?1))
             ON CONFLICT (owner_id, key_lower) DO UPDATE SET key = excluded.key, value = excluded.value",
        )?
        .execute(params![owner_id, k, k.to_lowercase(), v])?;
    }
    bump_generation(conn)
}

/// Removes tags by key (case-insensitive); missing keys are ignored.
pub fn remove_tags(conn: &Connection, owner_id: &str, keys: &[String]) -> StoreResult<()> {
    for k in keys {
        conn.prepare_cached("DELETE FROM iam_tags WHERE owner_id = ?1 AND key_lower = ?2")?
            .execute(params![owner_id, k.to_lowercase()])?;
    }
    bump_generation(conn)
}

/// An entity's tags, in the order they were first set.
pub fn tags(conn: &Connection, owner_id: &str) -> StoreResult<Vec<(String, String)>> {
    Ok(tags_with_seq(conn, owner_id)?
        .into_iter()
        .map(|(_, k, v)| (k, v))
        .collect())
}

/// [`tags`] with each tag's sequence number (its position, kept when its value changes).
pub fn tags_with_seq(conn: &Connection, owner_id: &str) -> StoreResult<Vec<(i64, String, String)>> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, key, value FROM iam_tags WHERE owner_id = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([owner_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Drops every tag of an entity (when it is deleted).
pub fn delete_all(conn: &Connection, owner_id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM iam_tags WHERE owner_id = ?1")?
        .execute([owner_id])?;
    Ok(())
}
