//! Small key/value settings owned by the server (e.g. the pagination-token key, the trails
//! generation, the event chain's legacy mark).

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// Reads a value.
pub fn get(conn: &Connection, key: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Stores a value, replacing any.
pub fn put(conn: &Connection, key: &str, value: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Removes a value (none to remove is fine).
pub fn delete(conn: &Connection, key: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM meta WHERE key = ?1")?
        .execute([key])?;
    Ok(())
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

/// The value every change to `trails` replaces with a fresh random one (a schema trigger).
/// Equal values mean no trail changed in between.
pub fn trails_generation(conn: &Connection) -> StoreResult<Option<String>> {
    get(conn, "trails.generation")
}

/// SQLite's `PRAGMA quick_check` over the whole database file: the problems it reports
/// (empty when the file is sound). A file too damaged to check at all is one problem. It reads
/// every page, so callers run it off the request path.
pub fn quick_check(conn: &Connection) -> Vec<String> {
    check(conn, "PRAGMA quick_check")
}

fn check(conn: &Connection, pragma: &str) -> Vec<String> {
    let rows = conn.prepare(pragma).and_then(|mut stmt| {
        stmt.query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()
    });
    let problems = match rows {
        Ok(rows) => rows.into_iter().filter(|r| r != "ok").collect(),
        Err(e) => vec![e.to_string()],
    };
    // SQLite words some problems over several lines; a log line or report line is one.
    problems
        .into_iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// SQLite's `PRAGMA integrity_check` of the database at `db`, opened read-only (`cairn
/// verify-store`): besides what [`quick_check`] finds, every index entry is compared with its
/// row, so an index rewritten in the file (a lookup that hides an event) is reported.
pub fn integrity_check_read_only(db: &std::path::Path) -> StoreResult<Vec<String>> {
    let conn = Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(check(&conn, "PRAGMA integrity_check"))
}
