//! Small key/value settings owned by the server (e.g. the pagination-token key).

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// Reads a value.
pub fn get(conn: &Connection, key: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// Returns the stored value, or stores and returns `make()` if none exists.
pub fn get_or_insert(
    conn: &Connection,
    key: &str,
    make: impl FnOnce() -> String,
) -> StoreResult<String> {
    if let Some(v) = get(conn, key)? {
        return Ok(v);
    }
    let value = make();
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        params![key, value],
    )?;
    Ok(value)
}
