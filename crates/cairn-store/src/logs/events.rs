//! Log events: one compact row per event (`id`, group, stream, timestamp, ingestion time,
//! message), indexed by (group, time) and (stream, time). Pages walk the `(ts, id)` order, so a
//! position is a pair and no offset scan is ever needed.

use rusqlite::{Connection, Row, params};

use crate::StoreResult;

/// A stored event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Row id (the event id's source, and the tie-breaker after the timestamp).
    pub id: i64,
    /// Its stream.
    pub stream_id: i64,
    /// Event time, ms.
    pub timestamp: i64,
    /// Ingestion time, ms.
    pub ingested: i64,
    /// The message.
    pub message: String,
}

fn row(r: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        id: r.get(0)?,
        stream_id: r.get(1)?,
        timestamp: r.get(2)?,
        ingested: r.get(3)?,
        message: r.get(4)?,
    })
}

/// Appends events (already validated and ordered) to a stream, updating the stream's times,
/// sequence and sizes and the group's size. Returns the new rows' ids, in order.
pub fn append(
    conn: &Connection,
    group_id: i64,
    stream_id: i64,
    events: &[(i64, &str)],
    ingested: i64,
) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(events.len());
    let mut insert = conn.prepare_cached(
        "INSERT INTO log_events (group_id, stream_id, ts, ingested, message) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut bytes = 0i64;
    for (ts, message) in events {
        insert.execute(params![group_id, stream_id, ts, ingested, message])?;
        ids.push(conn.last_insert_rowid());
        bytes += message.len() as i64;
    }
    let first = events.iter().map(|e| e.0).min();
    let last = events.iter().map(|e| e.0).max();
    conn.prepare_cached(
        "UPDATE log_streams SET
            first_event = CASE WHEN ?2 IS NULL THEN first_event ELSE MIN(COALESCE(first_event, ?2), ?2) END,
            last_event = CASE WHEN ?3 IS NULL THEN last_event ELSE MAX(COALESCE(last_event, ?3), ?3) END,
            last_ingestion = ?4, upload_seq = upload_seq + 1, stored_bytes = stored_bytes + ?5
         WHERE id = ?1",
    )?
    .execute(params![stream_id, first, last, ingested, bytes])?;
    conn.prepare_cached("UPDATE log_groups SET stored_bytes = stored_bytes + ?2 WHERE id = ?1")?
        .execute(params![group_id, bytes])?;
    Ok(ids)
}

/// Where a stream read starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum From {
    /// Oldest first.
    Head,
    /// Newest first.
    Tail,
    /// Ascending, strictly after this (ts, id).
    After(i64, i64),
    /// Descending, strictly before this (ts, id).
    Before(i64, i64),
}

/// Events of a stream with `start <= ts < end`, read from `from`, at most `limit`; ascending
/// for `Head`/`After`, descending for `Tail`/`Before`.
pub fn in_stream(
    conn: &Connection,
    stream_id: i64,
    start: Option<i64>,
    end: Option<i64>,
    from: From,
    limit: i64,
) -> StoreResult<Vec<StoredEvent>> {
    let (cond, order, pos) = match from {
        From::Head => ("1", "ASC", (0, 0)),
        From::Tail => ("1", "DESC", (0, 0)),
        From::After(t, i) => ("(ts, id) > (?5, ?6)", "ASC", (t, i)),
        From::Before(t, i) => ("(ts, id) < (?5, ?6)", "DESC", (t, i)),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, stream_id, ts, ingested, message FROM log_events
         WHERE stream_id = ?1 AND (?2 IS NULL OR ts >= ?2) AND (?3 IS NULL OR ts < ?3) AND {cond}
         ORDER BY ts {order}, id {order} LIMIT ?4"
    ))?;
    let rows = if matches!(from, From::Head | From::Tail) {
        stmt.query_map(params![stream_id, start, end, limit], row)?
            .collect::<Result<Vec<_>, _>>()?
    } else {
        stmt.query_map(params![stream_id, start, end, limit, pos.0, pos.1], row)?
            .collect::<Result<Vec<_>, _>>()?
    };
    Ok(rows)
}

/// Events of a group with `start <= ts <= end`, ascending by (ts, id), strictly after `after`,
/// optionally only from `streams`; at most `limit`.
pub fn in_group(
    conn: &Connection,
    group_id: i64,
    start: Option<i64>,
    end: Option<i64>,
    after: Option<(i64, i64)>,
    streams: Option<&[i64]>,
    limit: i64,
) -> StoreResult<Vec<StoredEvent>> {
    let at = after.unwrap_or((i64::MIN, i64::MIN));
    read_group(
        conn,
        IN_GROUP_OLDEST_FIRST,
        group_id,
        (start, end),
        at,
        streams,
        limit,
    )
}

/// A group's events after a position, oldest first ([`in_group`]).
const IN_GROUP_OLDEST_FIRST: &str = "SELECT id, stream_id, ts, ingested, message FROM log_events
     WHERE group_id = ?1 AND (?2 IS NULL OR ts >= ?2) AND (?3 IS NULL OR ts <= ?3)
       AND (ts, id) > (?4, ?5)
       AND (?6 IS NULL OR stream_id IN (SELECT value FROM json_each(?6)))
       AND (?8 IS NULL OR stream_id NOT IN (SELECT value FROM json_each(?8)))
     ORDER BY ts, id LIMIT ?7";

/// A group's events before a position, newest first ([`in_group_newest_first`]).
const IN_GROUP_NEWEST_FIRST: &str = "SELECT id, stream_id, ts, ingested, message FROM log_events
     WHERE group_id = ?1 AND (?2 IS NULL OR ts >= ?2) AND (?3 IS NULL OR ts <= ?3)
       AND (ts, id) < (?4, ?5)
       AND (?6 IS NULL OR stream_id IN (SELECT value FROM json_each(?6)))
       AND (?8 IS NULL OR stream_id NOT IN (SELECT value FROM json_each(?8)))
     ORDER BY ts DESC, id DESC LIMIT ?7";

fn read_group(
    conn: &Connection,
    sql: &str,
    group_id: i64,
    (start, end): (Option<i64>, Option<i64>),
    (at_ts, at_id): (i64, i64),
    streams: Option<&[i64]>,
    limit: i64,
) -> StoreResult<Vec<StoredEvent>> {
    let stream_list = streams.map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
    // Events of the group's deleted streams wait for their purge; they are not read.
    let deleted = super::purge::deleted_streams(conn, group_id)?;
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(
        params![
            group_id,
            start,
            end,
            at_ts,
            at_id,
            stream_list,
            limit,
            deleted
        ],
        row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// [`in_group`] newest first: events before `before` (timestamp, id), descending.
pub fn in_group_newest_first(
    conn: &Connection,
    group_id: i64,
    start: Option<i64>,
    end: Option<i64>,
    before: Option<(i64, i64)>,
    streams: Option<&[i64]>,
    limit: i64,
) -> StoreResult<Vec<StoredEvent>> {
    let at = before.unwrap_or((i64::MAX, i64::MAX));
    read_group(
        conn,
        IN_GROUP_NEWEST_FIRST,
        group_id,
        (start, end),
        at,
        streams,
        limit,
    )
}

/// The bytes of a group's events older than `cutoff` (ms): past its retention, not yet
/// deleted by the sweep.
pub fn bytes_before(conn: &Connection, group_id: i64, cutoff: i64) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(SUM(length(CAST(message AS BLOB))), 0) FROM log_events
             WHERE group_id = ?1 AND ts < ?2
               AND (?3 IS NULL OR stream_id NOT IN (SELECT value FROM json_each(?3)))",
        )?
        .query_row(
            params![
                group_id,
                cutoff,
                super::purge::deleted_streams(conn, group_id)?
            ],
            |r| r.get(0),
        )?)
}

/// Deletes up to `batch` events of a group older than `cutoff` (ms), keeping the size counters
/// right. Returns how many were deleted.
pub fn expire(conn: &Connection, group_id: i64, cutoff: i64, batch: i64) -> StoreResult<usize> {
    let doomed: Vec<(i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT id, stream_id, length(CAST(message AS BLOB)) FROM log_events
             WHERE group_id = ?1 AND ts < ?2
               AND (?4 IS NULL OR stream_id NOT IN (SELECT value FROM json_each(?4)))
             ORDER BY ts, id LIMIT ?3",
        )?
        .query_map(
            params![
                group_id,
                cutoff,
                batch,
                super::purge::deleted_streams(conn, group_id)?
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .collect::<Result<_, _>>()?;
    let mut delete = conn.prepare_cached("DELETE FROM log_events WHERE id = ?1")?;
    let mut shrink = conn.prepare_cached(
        "UPDATE log_streams SET stored_bytes = MAX(0, stored_bytes - ?2) WHERE id = ?1",
    )?;
    let mut total = 0i64;
    for (id, stream, bytes) in &doomed {
        delete.execute([id])?;
        shrink.execute(params![stream, bytes])?;
        total += bytes;
    }
    conn.prepare_cached(
        "UPDATE log_groups SET stored_bytes = MAX(0, stored_bytes - ?2) WHERE id = ?1",
    )?
    .execute(params![group_id, total])?;
    Ok(doomed.len())
}
