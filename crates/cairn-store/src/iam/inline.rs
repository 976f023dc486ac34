//! Inline policies of users, groups and roles, keyed by the owner's unique id.

use rusqlite::{Connection, OptionalExtension, params};

use super::bump_generation;
use crate::StoreResult;

/// Creates or replaces an inline policy. `owner_kind` is `user`, `group` or `role`.
pub fn put_inline(
    conn: &Connection,
    owner_kind: &str,
    owner_id: &str,
    name: &str,
    document: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO iam_inline_policies (owner_id, owner_kind, name, document) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (owner_id, name) DO UPDATE SET document = excluded.document",
    )?
    .execute(params![owner_id, owner_kind, name, document])?;
    bump_generation(conn)
}

/// One inline policy's document.
pub fn get_inline(conn: &Connection, owner_id: &str, name: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT document FROM iam_inline_policies WHERE owner_id = ?1 AND name = ?2",
        )?
        .query_row(params![owner_id, name], |r| r.get(0))
        .optional()?)
}

/// An owner's inline policies `(name, document)`, by name.
pub fn list_inline(conn: &Connection, owner_id: &str) -> StoreResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, document FROM iam_inline_policies WHERE owner_id = ?1 ORDER BY name",
    )?;
    let rows = stmt.query_map([owner_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Deletes an inline policy; false if it did not exist.
pub fn delete_inline(conn: &Connection, owner_id: &str, name: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("DELETE FROM iam_inline_policies WHERE owner_id = ?1 AND name = ?2")?
        .execute(params![owner_id, name])?;
    if n > 0 {
        bump_generation(conn)?;
    }
    Ok(n > 0)
}
