//! Deleting a log group or stream without holding the writer for its events (hostile16 F2: one
//! DeleteLogGroup of 5 million events held every call of the account for 16 s). The call's
//! transaction removes the group or stream row, so it is gone for every reader at once, and
//! notes a purge; its events are deleted afterwards in bounded batches by the periodic sweep
//! ([`step`]). Until then they are orphans no reader reaches: readers go through a group or
//! stream id, an id that has pending purges is never given to a new group or stream
//! ([`next_group_id`], [`next_stream_id`]), and a group's reads leave out its deleted streams
//! ([`deleted_streams`]).

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// Version 36: the purge queue, and the metrics' index by last data time (the metric
/// filters' count of active dimension sets reads a range of it).
pub(crate) fn migrate_v36(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "BEGIN;
         CREATE TABLE IF NOT EXISTS log_purges (
             id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, stream_id INTEGER,
             top_stream INTEGER NOT NULL);
         CREATE INDEX IF NOT EXISTS metrics_by_last_ts
             ON metrics (account, region, namespace, name, last_ts);
         PRAGMA user_version = 36;
         COMMIT;",
    )?;
    Ok(())
}

/// Notes that the events of group `group_id` (with `stream_id`: only that stream's) are to be
/// deleted. Call in the transaction that deletes the group or stream row.
pub(crate) fn note(conn: &Connection, group_id: i64, stream_id: Option<i64>) -> StoreResult<()> {
    let top_stream: i64 = match stream_id {
        Some(s) => s,
        None => conn
            .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM log_streams WHERE group_id = ?1")?
            .query_row([group_id], |r| r.get(0))?,
    };
    conn.prepare_cached(
        "INSERT INTO log_purges (group_id, stream_id, top_stream) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![group_id, stream_id, top_stream])?;
    Ok(())
}

/// The id a new group gets: past every group's and every pending purge's, so orphaned events
/// never show in a new group.
pub(crate) fn next_group_id(conn: &Connection) -> StoreResult<i64> {
    next_id(conn, "log_groups", "group_id")
}

/// The id a new stream gets, likewise past every pending purge's streams.
pub(crate) fn next_stream_id(conn: &Connection) -> StoreResult<i64> {
    next_id(conn, "log_streams", "top_stream")
}

fn next_id(conn: &Connection, table: &str, purged: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT MAX(n) + 1 FROM (SELECT COALESCE(MAX(id), 0) AS n FROM {table}
             UNION ALL SELECT COALESCE(MAX({purged}), 0) FROM log_purges) AS ids"
        ))?
        .query_row([], |r| r.get(0))?)
}

/// Deletes at most `batch` events of pending purges, oldest purge first, and drops the
/// purges it finishes. Returns how many events it deleted.
pub fn step(conn: &Connection, batch: i64) -> StoreResult<usize> {
    let mut left = batch;
    let mut deleted = 0;
    while left > 0 {
        let next: Option<(i64, i64, Option<i64>)> = conn
            .prepare_cached("SELECT id, group_id, stream_id FROM log_purges ORDER BY id LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((id, group_id, stream_id)) = next else {
            break;
        };
        let n = match stream_id {
            None => conn
                .prepare_cached(
                    "DELETE FROM log_events WHERE id IN
                     (SELECT id FROM log_events WHERE group_id = ?1 LIMIT ?2)",
                )?
                .execute(params![group_id, left])?,
            Some(s) => conn
                .prepare_cached(
                    "DELETE FROM log_events WHERE id IN
                     (SELECT id FROM log_events WHERE stream_id = ?1 LIMIT ?2)",
                )?
                .execute(params![s, left])?,
        };
        deleted += n;
        left -= n as i64;
        if left > 0 {
            conn.prepare_cached("DELETE FROM log_purges WHERE id = ?1")?
                .execute([id])?;
        }
    }
    Ok(deleted)
}

/// The group's deleted streams whose events are still to be purged, as a JSON list (`None`
/// when there are none, the usual case).
pub(crate) fn deleted_streams(conn: &Connection, group_id: i64) -> StoreResult<Option<String>> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT stream_id FROM log_purges WHERE group_id = ?1 AND stream_id IS NOT NULL",
        )?
        .query_map([group_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok((!ids.is_empty()).then(|| serde_json::Value::from(ids).to_string()))
}

/// How many purges are pending.
pub fn pending(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM log_purges")?
        .query_row([], |r| r.get(0))?)
}
