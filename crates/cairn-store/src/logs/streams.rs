//! Log streams of a group, with the first/last event times and ingestion time PutLogEvents
//! keeps up to date.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreResult;

/// A log stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogStream {
    /// Row id.
    pub id: i64,
    /// Its group.
    pub group_id: i64,
    /// Name.
    pub name: String,
    /// Creation time, ms.
    pub created: i64,
    /// Earliest event timestamp.
    pub first_event: Option<i64>,
    /// Latest event timestamp.
    pub last_event: Option<i64>,
    /// Latest ingestion time.
    pub last_ingestion: Option<i64>,
    /// Batches accepted so far (the legacy upload sequence token).
    pub upload_seq: i64,
    /// Bytes of stored messages.
    pub stored_bytes: i64,
}

const COLUMNS: &str = "id, group_id, name, created, first_event, last_event, last_ingestion, upload_seq, stored_bytes";

fn row(r: &Row<'_>) -> rusqlite::Result<LogStream> {
    Ok(LogStream {
        id: r.get(0)?,
        group_id: r.get(1)?,
        name: r.get(2)?,
        created: r.get(3)?,
        first_event: r.get(4)?,
        last_event: r.get(5)?,
        last_ingestion: r.get(6)?,
        upload_seq: r.get(7)?,
        stored_bytes: r.get(8)?,
    })
}

/// Creates a stream; `None` if the name is taken in the group.
pub fn create(
    conn: &Connection,
    group_id: i64,
    name: &str,
    created: i64,
) -> StoreResult<Option<i64>> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO log_streams (id, group_id, name, created) VALUES (?4, ?1, ?2, ?3)",
        )?
        .execute(params![
            group_id,
            name,
            created,
            super::purge::next_stream_id(conn)?
        ])?;
    Ok((n == 1).then(|| conn.last_insert_rowid()))
}

/// Fetches a stream by name.
pub fn get(conn: &Connection, group_id: i64, name: &str) -> StoreResult<Option<LogStream>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM log_streams WHERE group_id = ?1 AND name = ?2"
        ))?
        .query_row(params![group_id, name], row)
        .optional()?)
}

/// Names of streams by id (for FilterLogEvents results).
pub fn names(conn: &Connection, group_id: i64) -> StoreResult<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM log_streams WHERE group_id = ?1")?;
    let rows = stmt.query_map([group_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes a stream; its events are purged later ([`super::purge`]).
pub fn delete(conn: &Connection, id: i64) -> StoreResult<()> {
    let bytes: i64 = conn
        .prepare_cached("SELECT stored_bytes FROM log_streams WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    conn.prepare_cached(
        "UPDATE log_groups SET stored_bytes = MAX(0, stored_bytes - ?2)
         WHERE id = (SELECT group_id FROM log_streams WHERE id = ?1)",
    )?
    .execute(params![id, bytes])?;
    if let Some(group_id) = conn
        .prepare_cached("SELECT group_id FROM log_streams WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, i64>(0))
        .optional()?
    {
        super::purge::note(conn, group_id, Some(id))?;
    }
    conn.prepare_cached("DELETE FROM log_streams WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// How DescribeLogStreams orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// By name.
    Name,
    /// By last event time (streams without events first).
    LastEventTime,
}

/// Streams of a group in `order`, strictly after the keyset position `after` (the last
/// event time, `-1` for none, and the name of the last stream a page returned), at most
/// `limit`.
pub fn list(
    conn: &Connection,
    group_id: i64,
    prefix: Option<&str>,
    order: Order,
    descending: bool,
    after: Option<(i64, &str)>,
    limit: i64,
) -> StoreResult<Vec<LogStream>> {
    let (dir, cmp) = if descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let (order_by, resume) = match order {
        Order::Name => (
            format!("name COLLATE BINARY {dir}"),
            format!("name {cmp} ?5"),
        ),
        Order::LastEventTime => (
            format!("COALESCE(last_event, -1) {dir}, name COLLATE BINARY {dir}"),
            format!(
                "(COALESCE(last_event, -1) {cmp} ?4
                  OR (COALESCE(last_event, -1) = ?4 AND name {cmp} ?5))"
            ),
        ),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM log_streams WHERE group_id = ?1
           AND (?2 IS NULL OR substr(name, 1, length(?2)) = ?2)
           AND (?5 IS NULL OR {resume})
         ORDER BY {order_by} LIMIT ?3"
    ))?;
    let (after_time, after_name) = match after {
        Some((t, n)) => (Some(t), Some(n)),
        None => (None, None),
    };
    let rows = stmt.query_map(
        params![group_id, prefix, limit, after_time, after_name],
        row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ids of the streams whose names start with `prefix`.
pub fn ids_with_prefix(conn: &Connection, group_id: i64, prefix: &str) -> StoreResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM log_streams WHERE group_id = ?1 AND substr(name, 1, length(?2)) = ?2",
    )?;
    let rows = stmt.query_map(params![group_id, prefix], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
