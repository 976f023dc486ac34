//! Delivery bookkeeping: per-trail cursors over the event log, the delivery ledger (one row
//! per log file, planned before it is written), deleted trails still draining, digests and
//! signing keys.
//!
//! Exactly-once: planning a file advances the trail's cursor and inserts the `pending` row
//! naming its event seqs and key in one transaction. Writing the file is idempotent (same
//! key, same bytes), so a crash between plan and `done` re-writes the same file.
//!
//! A deleted trail that still has events to deliver is *retired*: its definition (with its
//! last logging window closed at the deletion) and its cursor move to `retired_trails`, and
//! its outstanding ledger rows are tagged with the retired id, so a new trail of the same
//! name never mixes with them. The row goes once everything is written (and digested).

use cairn_model::trail::Trail;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{StoreError, StoreResult};

/// The cursor of a trail: every event with a smaller or equal seq has been planned.
pub fn cursor(conn: &Connection, trail_arn: &str) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT seq FROM delivery_cursors WHERE trail_arn = ?1")?
        .query_row([trail_arn], |r| r.get(0))
        .optional()?)
}

/// Sets a trail's cursor.
pub fn set_cursor(conn: &Connection, trail_arn: &str, seq: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO delivery_cursors (trail_arn, seq) VALUES (?1, ?2)
         ON CONFLICT (trail_arn) DO UPDATE SET seq = excluded.seq",
    )?
    .execute(params![trail_arn, seq])?;
    Ok(())
}

/// The highest event seq ever assigned (logging windows and cursors are built on it). When
/// `events.seq` is an AUTOINCREMENT key, that is SQLite's sequence counter, which retention
/// never lowers; otherwise it is the highest stored seq. (`sqlite_sequence` exists from
/// schema v6 on, which has an AUTOINCREMENT table.)
pub fn max_seq(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row(
        "SELECT max(coalesce((SELECT max(seq) FROM events), 0),
                    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))",
        [],
        |r| r.get(0),
    )?)
}

/// Streams the events with seq in `(after, upto]`, in seq order, to `each` as (seq, record);
/// the record is `None` when it is not UTF-8 text. `each` returns `false` to stop. Rows are
/// read one at a time: nothing but the current record is held in memory.
pub fn scan_events(
    conn: &Connection,
    after: i64,
    upto: i64,
    mut each: impl FnMut(i64, Option<&str>) -> bool,
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, record FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![after, upto])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let record = match row.get_ref(1)? {
            ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        };
        if !each(seq, record) {
            break;
        }
    }
    Ok(())
}

/// Streams the records of `seqs` (ascending) to `each` as (seq, record), in seq order. Seqs
/// with no stored event are skipped: the caller compares what it got with what it asked for.
pub fn records_of(
    conn: &Connection,
    seqs: &[i64],
    mut each: impl FnMut(i64, Option<&str>),
) -> StoreResult<()> {
    let json = serde_json::to_string(seqs).expect("integers serialise");
    let mut stmt = conn.prepare_cached(
        "SELECT seq, record FROM events WHERE seq IN (SELECT value FROM json_each(?1)) ORDER BY seq",
    )?;
    let mut rows = stmt.query([json])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let record = match row.get_ref(1)? {
            ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        };
        each(seq, record);
    }
    Ok(())
}

/// A planned or finished log file.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// Row id.
    pub id: i64,
    /// Trail.
    pub trail_arn: String,
    /// Region folder.
    pub region: String,
    /// Bucket.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Event seqs it carries (ascending), or why the stored list cannot be read.
    pub seqs: Result<Vec<i64>, String>,
    /// The retired (deleted, draining) trail it belongs to; `None` for a live trail.
    pub retired: Option<i64>,
}

/// Plans a file of a live trail (state `pending`).
pub fn plan(
    conn: &Connection,
    trail_arn: &str,
    region: &str,
    bucket: &str,
    key: &str,
    seqs: &[i64],
) -> StoreResult<i64> {
    plan_file(conn, trail_arn, None, region, bucket, key, seqs)
}

/// Plans a file of a live (`retired: None`) or retired trail (state `pending`).
pub fn plan_file(
    conn: &Connection,
    trail_arn: &str,
    retired: Option<i64>,
    region: &str,
    bucket: &str,
    key: &str,
    seqs: &[i64],
) -> StoreResult<i64> {
    conn.prepare_cached(
        "INSERT INTO deliveries (trail_arn, region, bucket, key, seqs, state, retired)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
    )?
    .execute(params![
        trail_arn,
        region,
        bucket,
        key,
        serde_json::to_string(seqs).expect("integers serialise"),
        retired
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Decodes a stored seq list: a JSON array of strictly ascending integers.
fn decode_seqs(text: &str) -> Result<Vec<i64>, String> {
    let seqs: Vec<i64> =
        serde_json::from_str(text).map_err(|e| format!("undecodable event list: {e}"))?;
    if seqs.is_empty() || seqs.windows(2).any(|w| w[0] >= w[1]) {
        return Err("event list is empty or out of order".to_owned());
    }
    Ok(seqs)
}

/// Files planned but not yet written, oldest first.
pub fn pending(conn: &Connection) -> StoreResult<Vec<Delivery>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, trail_arn, region, bucket, key, seqs, retired FROM deliveries
         WHERE state = 'pending' ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        let seqs: String = r.get(5)?;
        Ok(Delivery {
            id: r.get(0)?,
            trail_arn: r.get(1)?,
            region: r.get(2)?,
            bucket: r.get(3)?,
            key: r.get(4)?,
            seqs: decode_seqs(&seqs),
            retired: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Renames a file that is still pending (its previous write attempt, if any, is known to
/// have written nothing), so it is named by the time it is delivered, as CloudTrail names
/// its files. The Insights events planned into it follow. Returns whether it was renamed
/// (false: it is no longer pending).
pub fn rekey_pending(conn: &Connection, id: i64, old: &str, new: &str) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE deliveries SET key = ?3 WHERE id = ?1 AND key = ?2 AND state = 'pending'",
        )?
        .execute(params![id, old, new])?;
    if changed == 1 && old.contains("/CloudTrail-Insight/") {
        conn.prepare_cached("UPDATE insight_events SET delivered = ?2 WHERE delivered = ?1")?
            .execute(params![old, new])?;
    }
    Ok(changed == 1)
}

/// Marks a file written.
pub fn mark_done(
    conn: &Connection,
    id: i64,
    sha256: &str,
    oldest: &str,
    newest: &str,
    delivered_at: f64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE deliveries SET state = 'done', sha256 = ?2, oldest = ?3, newest = ?4, delivered_at = ?5 WHERE id = ?1",
    )?
    .execute(params![id, sha256, oldest, newest, delivered_at])?;
    Ok(())
}

/// Marks a written file as one no digest lists: it was delivered while the trail's log file
/// validation was off (CloudTrail does not create digest files for those). Its
/// `digest_end` is -1.
pub fn exempt_from_digests(conn: &Connection, id: i64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE deliveries SET digest_end = -1 WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A written file not yet listed in a digest.
#[derive(Clone, Debug, PartialEq)]
pub struct Undigested {
    /// Row id.
    pub id: i64,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Hex SHA-256 of the uncompressed file.
    pub sha256: String,
    /// Oldest event time.
    pub oldest: String,
    /// Newest event time.
    pub newest: String,
}

/// Matches the Insights files of the ledger (their seqs number Insights events, not the
/// event log).
const INSIGHT_FILE: &str = "key LIKE '%/CloudTrail-Insight/%'";

/// Whether live trail `trail_arn` has a written file that no digest lists yet.
pub fn has_undigested(conn: &Connection, trail_arn: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM deliveries
             WHERE trail_arn = ?1 AND retired IS NULL AND state = 'done' AND digest_end IS NULL)",
        )?
        .query_row(params![trail_arn], |r| r.get(0))?)
}

/// Written files of a live (`retired: None`) or retired trail and a region, delivered at or
/// before `upto` and not digested yet; with `through_seq`, only the log files of events up to
/// that seq (and Insights files), those a chain's final digest lists.
pub fn undigested(
    conn: &Connection,
    trail_arn: &str,
    retired: Option<i64>,
    region: &str,
    upto: f64,
    through_seq: Option<i64>,
) -> StoreResult<Vec<Undigested>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, bucket, key, sha256, oldest, newest FROM deliveries
         WHERE trail_arn = ?1 AND retired IS ?4 AND region = ?2 AND state = 'done'
           AND digest_end IS NULL AND delivered_at <= ?3
           AND (?5 IS NULL OR {INSIGHT_FILE} OR json_extract(seqs, '$[0]') <= ?5)
         ORDER BY id"
    ))?;
    let rows = stmt.query_map(
        params![trail_arn, region, upto, retired, through_seq],
        |r| {
            Ok(Undigested {
                id: r.get(0)?,
                bucket: r.get(1)?,
                key: r.get(2)?,
                sha256: r.get(3)?,
                oldest: r.get(4)?,
                newest: r.get(5)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The event seqs a retired trail's life covered, `(first, planned through)`: the files of
/// that life already digested when it was deleted stay with the live rows of its ARN (only its
/// pending and undigested ones are retired), and name Regions its final digests are owed in
/// (digest9 E4: a deleted multi-Region trail wrote its final digest in its home Region only).
/// `None` for a live trail.
fn retired_life(conn: &Connection, retired: Option<i64>) -> StoreResult<Option<(i64, i64)>> {
    let Some(id) = retired else {
        return Ok(None);
    };
    Ok(conn
        .prepare_cached(
            "SELECT json_extract(body, '$.status.windows[0].start_seq'), cursor
             FROM retired_trails WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?))
        })
        .optional()?
        .and_then(|(first, through)| Some((first?, through?))))
}

/// Matches the rows of a live (`?2` NULL) or retired (`?2`) trail, with a retired trail's
/// files of its life digested before it was deleted (`?3`..`?4`: [`retired_life`]).
const OWNED_FILES: &str = "(retired IS ?2 OR (?3 IS NOT NULL AND retired IS NULL
    AND state = 'done' AND json_extract(seqs, '$[0]') BETWEEN ?3 AND ?4))";

/// Regions a live (`retired: None`) or retired trail has planned files for.
pub fn file_regions(
    conn: &Connection,
    trail_arn: &str,
    retired: Option<i64>,
) -> StoreResult<Vec<String>> {
    let life = retired_life(conn, retired)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT DISTINCT region FROM deliveries WHERE trail_arn = ?1 AND {OWNED_FILES}
         ORDER BY region"
    ))?;
    let rows = stmt.query_map(
        params![trail_arn, retired, life.map(|l| l.0), life.map(|l| l.1)],
        |r| r.get(0),
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Whether every log file of a live (`retired: None`) or retired trail with events up to
/// `end_seq` is planned and written in `region`, so the final digest of the chain that
/// `end_seq` ends can list them all.
pub fn final_ready(
    conn: &Connection,
    trail_arn: &str,
    retired: Option<i64>,
    region: &str,
    end_seq: i64,
) -> StoreResult<bool> {
    let planned = match retired {
        None => cursor(conn, trail_arn)?,
        Some(id) => retired_cursor(conn, id)?,
    };
    if planned.is_none_or(|c| c < end_seq) {
        return Ok(false);
    }
    let pending: bool = conn
        .prepare_cached(&format!(
            "SELECT EXISTS (SELECT 1 FROM deliveries WHERE trail_arn = ?1 AND retired IS ?2
               AND region = ?3 AND state = 'pending' AND NOT {INSIGHT_FILE}
               AND json_extract(seqs, '$[0]') <= ?4)"
        ))?
        .query_row(params![trail_arn, retired, region, end_seq], |r| r.get(0))?;
    Ok(!pending)
}

/// Regions a live (`retired: None`) or retired trail has log files of events up to
/// `end_seq` in: with its home region, those the final digests of the chain `end_seq` ends
/// are owed in.
pub fn regions_through(
    conn: &Connection,
    trail_arn: &str,
    retired: Option<i64>,
    end_seq: i64,
) -> StoreResult<Vec<String>> {
    let life = retired_life(conn, retired)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT DISTINCT region FROM deliveries WHERE trail_arn = ?1 AND {OWNED_FILES}
           AND NOT {INSIGHT_FILE} AND json_extract(seqs, '$[0]') <= ?5 ORDER BY region"
    ))?;
    let rows = stmt.query_map(
        params![
            trail_arn,
            retired,
            life.map(|l| l.0),
            life.map(|l| l.1),
            end_seq
        ],
        |r| r.get(0),
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Applies `change` to a retired trail's stored definition.
pub fn update_retired_trail(
    conn: &Connection,
    id: i64,
    change: impl FnOnce(&mut Trail),
) -> StoreResult<()> {
    let Some(mut r) = retired(conn)?.into_iter().find(|r| r.id == id) else {
        return Ok(());
    };
    change(&mut r.trail);
    let body = serde_json::to_string(&r.trail).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.prepare_cached("UPDATE retired_trails SET body = ?2 WHERE id = ?1")?
        .execute(params![id, body])?;
    Ok(())
}

/// The newest delivery of a trail (live or deleted and draining), epoch seconds: the later
/// of its last log file written and the end of its last digest (`None` before the first).
/// Files and digests are named by their delivery time, so none of its may be delivered as of
/// an earlier time.
pub fn latest_delivery(conn: &Connection, trail_arn: &str) -> StoreResult<Option<f64>> {
    Ok(conn
        .prepare_cached(
            "SELECT max(coalesce((SELECT max(delivered_at) FROM deliveries
                                   WHERE trail_arn = ?1 AND state = 'done'), -1e300),
                        coalesce((SELECT max(end_time) FROM digests WHERE trail_arn = ?1), -1e300))",
        )?
        .query_row([trail_arn], |r| r.get::<_, f64>(0))
        .map(|t| (t > -1e299).then_some(t))?)
}

/// A trail's newest log file and newest digest delivered for one region since `since`
/// (epoch seconds; both are named by their delivery time): a multi-region trail's status
/// in a region other than its home.
pub fn region_latest(
    conn: &Connection,
    trail_arn: &str,
    region: &str,
    since: f64,
) -> StoreResult<(Option<f64>, Option<f64>)> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT max(delivered_at) FROM deliveries
                     WHERE trail_arn = ?1 AND region = ?2 AND state = 'done' AND delivered_at >= ?3),
                    (SELECT max(end_time) FROM digests
                     WHERE trail_arn = ?1 AND region = ?2 AND end_time >= ?3)",
        )?
        .query_row(params![trail_arn, region, since], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?)
}

/// The trails whose digest chain a delivery step extends: those logging with log file
/// validation on.
pub fn trails_to_deliver(conn: &Connection) -> StoreResult<Vec<String>> {
    Ok(crate::trails::all(conn)?
        .into_iter()
        .filter(|t| t.status.is_logging && t.log_file_validation_enabled)
        .map(|t| t.arn())
        .collect())
}

/// Whether the trail still owes a chain's final digest in its home region.
fn owes_final(trail: &Trail) -> bool {
    trail
        .status
        .owed_finals
        .iter()
        .any(|f| !f.written.contains(&trail.home_region))
}

/// Marks files as listed in the digest ending at `end`.
pub fn mark_digested(conn: &Connection, ids: &[i64], end: f64) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached("UPDATE deliveries SET digest_end = ?2 WHERE id = ?1")?;
    for id in ids {
        stmt.execute(params![id, end])?;
    }
    Ok(())
}

/// A delivered digest.
#[derive(Clone, Debug, PartialEq)]
pub struct DigestRow {
    /// Trail.
    pub trail_arn: String,
    /// Region covered.
    pub region: String,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Period start.
    pub start_time: f64,
    /// Period end.
    pub end_time: f64,
    /// Hex SHA-256 of its uncompressed bytes.
    pub sha256: String,
    /// Hex signature.
    pub signature: String,
    /// Whether it starts a chain.
    pub chain_start: bool,
}

/// The newest digest of a trail and region.
pub fn last_digest(
    conn: &Connection,
    trail_arn: &str,
    region: &str,
) -> StoreResult<Option<DigestRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT trail_arn, region, bucket, key, start_time, end_time, sha256, signature, chain_start
             FROM digests WHERE trail_arn = ?1 AND region = ?2 ORDER BY end_time DESC LIMIT 1",
        )?
        .query_row(params![trail_arn, region], |r| {
            Ok(DigestRow {
                trail_arn: r.get(0)?,
                region: r.get(1)?,
                bucket: r.get(2)?,
                key: r.get(3)?,
                start_time: r.get(4)?,
                end_time: r.get(5)?,
                sha256: r.get(6)?,
                signature: r.get(7)?,
                chain_start: r.get(8)?,
            })
        })
        .optional()?)
}

/// Records a delivered digest.
pub fn insert_digest(conn: &Connection, d: &DigestRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO digests (trail_arn, region, bucket, key, start_time, end_time, sha256, signature, chain_start)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![d.trail_arn, d.region, d.bucket, d.key, d.start_time, d.end_time, d.sha256, d.signature, d.chain_start])?;
    Ok(())
}

/// A deleted trail that still has events to deliver.
#[derive(Clone, Debug, PartialEq)]
pub struct Retired {
    /// Row id (what its ledger rows carry in `retired`).
    pub id: i64,
    /// The trail as it was deleted, its last logging window closed at the deletion.
    pub trail: Trail,
    /// Every event with a smaller or equal seq has been planned.
    pub cursor: i64,
}

fn last_window_end(trail: &Trail) -> Option<i64> {
    trail.status.windows.last().and_then(|w| w.end_seq)
}

/// Retires a trail that is being deleted (call in the deleting transaction, before the
/// trail's row goes): closes its open logging window at `end_seq` (the deletion's own event),
/// moves its cursor here and tags its outstanding ledger rows. Does nothing and returns
/// `None` when the trail has nothing left to deliver or digest.
pub fn retire_trail(
    conn: &Connection,
    trail: &Trail,
    end_seq: i64,
    at: f64,
) -> StoreResult<Option<i64>> {
    let arn = trail.arn();
    let mut snapshot = trail.clone();
    snapshot.status.is_logging = false;
    if snapshot
        .status
        .windows
        .last()
        .is_some_and(|w| w.end_seq.is_none())
    {
        let validation = trail.log_file_validation_enabled;
        snapshot.status.stopped(at, end_seq, validation);
    }
    let stored = cursor(conn, &arn)?;
    conn.prepare_cached("DELETE FROM delivery_cursors WHERE trail_arn = ?1")?
        .execute([&arn])?;
    let start = snapshot.status.windows.first().map(|w| w.start_seq - 1);
    let cursor = stored.or(start).unwrap_or(0);
    let to_plan = last_window_end(&snapshot).is_some_and(|end| cursor < end);
    let outstanding: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM deliveries WHERE trail_arn = ?1 AND retired IS NULL
               AND (state = 'pending' OR (?2 AND digest_end IS NULL)))",
        )?
        .query_row(params![arn, trail.may_owe_digests()], |r| r.get(0))?;
    if !to_plan && !outstanding && !owes_final(&snapshot) {
        return Ok(None);
    }
    let body = serde_json::to_string(&snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO retired_trails (trail_arn, body, cursor, retired_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![arn, body, cursor, at])?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached(
        "UPDATE deliveries SET retired = ?2 WHERE trail_arn = ?1 AND retired IS NULL
           AND (state = 'pending' OR digest_end IS NULL)",
    )?
    .execute(params![arn, id])?;
    Ok(Some(id))
}

/// Every retired trail still draining, oldest first.
pub fn retired(conn: &Connection) -> StoreResult<Vec<Retired>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, body, cursor FROM retired_trails ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body, cursor) = row?;
        let trail = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("retired trail {id}: {e}")))?;
        out.push(Retired { id, trail, cursor });
    }
    Ok(out)
}

/// The cursor of a retired trail, if it is still there.
pub fn retired_cursor(conn: &Connection, id: i64) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT cursor FROM retired_trails WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// Sets a retired trail's cursor.
pub fn set_retired_cursor(conn: &Connection, id: i64, seq: i64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE retired_trails SET cursor = ?2 WHERE id = ?1")?
        .execute(params![id, seq])?;
    Ok(())
}

/// Removes a retired trail once it has planned through its last window and has no pending
/// file (nor, with validation, an undigested one). Returns whether it went.
pub fn finish_retired(conn: &Connection, id: i64) -> StoreResult<bool> {
    let Some(r) = retired(conn)?.into_iter().find(|r| r.id == id) else {
        return Ok(false);
    };
    if last_window_end(&r.trail).is_some_and(|end| r.cursor < end) {
        return Ok(false);
    }
    let outstanding: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM deliveries WHERE retired = ?1
               AND (state = 'pending' OR (?2 AND digest_end IS NULL)))",
        )?
        .query_row(params![id, r.trail.may_owe_digests()], |r| r.get(0))?;
    if outstanding || owes_final(&r.trail) {
        return Ok(false);
    }
    conn.prepare_cached("DELETE FROM retired_trails WHERE id = ?1")?
        .execute([id])?;
    Ok(true)
}

/// Gives up a retired trail whose bucket is gone: its pending files become `abandoned` (kept
/// in the ledger, never tried again), its written files are marked never to be digested, and
/// the retired trail goes. Returns how many files were pending and how many undigested.
pub fn abandon_retired(conn: &Connection, id: i64) -> StoreResult<(usize, usize)> {
    let pending = conn
        .prepare_cached(
            "UPDATE deliveries SET state = 'abandoned' WHERE retired = ?1 AND state = 'pending'",
        )?
        .execute([id])?;
    let undigested = conn
        .prepare_cached(
            "UPDATE deliveries SET digest_end = -1 WHERE retired = ?1 AND state = 'done'
               AND digest_end IS NULL",
        )?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM retired_trails WHERE id = ?1")?
        .execute([id])?;
    Ok((pending, undigested))
}

/// The smallest event seq delivery still needs (retention must keep it and every later
/// event), or `None` when it needs none: the first event of every pending file, and the
/// event after each cursor of a trail (live or retired) whose logging windows reach past it.
pub fn retention_floor(conn: &Connection) -> StoreResult<Option<i64>> {
    let mut floor: Option<i64> = conn.query_row(
        "SELECT min(json_extract(seqs, '$[0]')) FROM deliveries WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?;
    let mut need = |from: i64| floor = Some(floor.map_or(from, |f| f.min(from)));
    let live = crate::trails::all(conn)?;
    // CloudWatch Logs delivery keeps what it has not delivered yet, too.
    for (arn, seq) in crate::trail_logs::all(conn)? {
        if let Some(t) = live.iter().find(|t| t.arn() == arn)
            && !t.status.windows.is_empty()
            && last_window_end(t).is_none_or(|end| seq < end)
        {
            need(seq + 1);
        }
    }
    for trail in live {
        let Some(first) = trail.status.windows.first() else {
            continue;
        };
        let cursor = cursor(conn, &trail.arn())?.unwrap_or(first.start_seq - 1);
        if last_window_end(&trail).is_none_or(|end| cursor < end) {
            need(cursor + 1);
        }
    }
    for r in retired(conn)? {
        if last_window_end(&r.trail).is_some_and(|end| r.cursor < end) {
            need(r.cursor + 1);
        }
    }
    Ok(floor)
}

/// A signing key's public part.
#[derive(Clone, Debug, PartialEq)]
pub struct SigningKey {
    /// Hex MD5 of `public_der`.
    pub fingerprint: String,
    /// Region.
    pub region: String,
    /// PKCS#1 RSAPublicKey DER.
    pub public_der: Vec<u8>,
    /// Private key file name (PKCS#8 DER, mode 0600) under the keys directory.
    pub private_file: String,
    /// Validity start, epoch seconds.
    pub valid_from: f64,
    /// Validity end, epoch seconds.
    pub valid_to: f64,
}

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SigningKey> {
    Ok(SigningKey {
        fingerprint: r.get(0)?,
        region: r.get(1)?,
        public_der: r.get(2)?,
        private_file: r.get(3)?,
        valid_from: r.get(4)?,
        valid_to: r.get(5)?,
    })
}

/// Stores a key.
pub fn insert_key(conn: &Connection, k: &SigningKey) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO signing_keys (fingerprint, region, public_der, private_file, valid_from, valid_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![k.fingerprint, k.region, k.public_der, k.private_file, k.valid_from, k.valid_to])?;
    Ok(())
}

/// Stores `k` unless the region already has a key valid at `k.valid_from`; returns the key
/// in force (so two racing creators agree on one).
pub fn insert_key_if_none(conn: &Connection, k: &SigningKey) -> StoreResult<SigningKey> {
    if let Some(existing) = current_key(conn, &k.region, k.valid_from)? {
        return Ok(existing);
    }
    insert_key(conn, k)?;
    Ok(k.clone())
}

/// The region's key valid at `at` (newest first).
pub fn current_key(conn: &Connection, region: &str, at: f64) -> StoreResult<Option<SigningKey>> {
    Ok(conn
        .prepare_cached(
            "SELECT fingerprint, region, public_der, private_file, valid_from, valid_to FROM signing_keys
             WHERE region = ?1 AND valid_from <= ?2 AND valid_to > ?2 ORDER BY valid_from DESC LIMIT 1",
        )?
        .query_row(params![region, at], key_row)
        .optional()?)
}

/// Keys of a region whose validity overlaps `[start, end]`, oldest first.
pub fn keys_overlapping(
    conn: &Connection,
    region: &str,
    start: f64,
    end: f64,
) -> StoreResult<Vec<SigningKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT fingerprint, region, public_der, private_file, valid_from, valid_to FROM signing_keys
         WHERE region = ?1 AND valid_from <= ?3 AND valid_to >= ?2 ORDER BY valid_from",
    )?;
    let rows = stmt.query_map(params![region, start, end], key_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;
