//! CloudWatch alarms and their history. An alarm is an opaque, versioned JSON body (its
//! configuration and state, owned by `cairn-core`) keyed by account, region and name; history
//! items are rows that outlive the alarm they describe.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// A stored alarm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmRow {
    /// Owner.
    pub account: String,
    /// Region.
    pub region: String,
    /// Alarm name.
    pub name: String,
    /// The body (JSON).
    pub body: String,
}

/// Creates or replaces an alarm.
pub fn put(
    conn: &Connection,
    account: &str,
    region: &str,
    name: &str,
    body: &str,
) -> StoreResult<()> {
    put_due(conn, account, region, name, body, 0)
}

/// [`put`], noting when the alarm is next due for evaluation (epoch ms; 0: at once).
pub fn put_due(
    conn: &Connection,
    account: &str,
    region: &str,
    name: &str,
    body: &str,
    due_ms: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO cw_alarms (account, region, name, body, due_ms) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account, region, name) DO UPDATE SET body = excluded.body,
             due_ms = excluded.due_ms",
    )?
    .execute(params![account, region, name, body, due_ms])?;
    Ok(())
}

/// At most `limit` alarms due for evaluation by `now_ms`, the most overdue first (the
/// evaluation loop reads these, not every alarm: hostile11, 54,000 alarms decoded every
/// second held the writer).
pub fn due(conn: &Connection, now_ms: i64, limit: usize) -> StoreResult<Vec<AlarmRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT account, region, name, body FROM cw_alarms WHERE due_ms <= ?1
         ORDER BY due_ms, account, region, name LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now_ms, limit as i64], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One alarm's body.
pub fn get(
    conn: &Connection,
    account: &str,
    region: &str,
    name: &str,
) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT body FROM cw_alarms WHERE account = ?1 AND region = ?2 AND name = ?3",
        )?
        .query_row(params![account, region, name], |r| r.get(0))
        .optional()?)
}

/// Alarms of an account and region whose name starts with `prefix`, by name.
pub fn list(
    conn: &Connection,
    account: &str,
    region: &str,
    prefix: &str,
) -> StoreResult<Vec<AlarmRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT account, region, name, body FROM cw_alarms
         WHERE account = ?1 AND region = ?2 AND substr(name, 1, length(?3)) = ?3 ORDER BY name",
    )?;
    let rows = stmt.query_map(params![account, region, prefix], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Up to `limit` alarms of an account and region whose name starts with `prefix` and sorts
/// after `after` (when given), by name: one page of DescribeAlarms, read without the others
/// (hostile11: each page read every alarm, so listing 54,000 took an hour).
pub fn list_after(
    conn: &Connection,
    account: &str,
    region: &str,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<AlarmRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT account, region, name, body FROM cw_alarms
         WHERE account = ?1 AND region = ?2 AND substr(name, 1, length(?3)) = ?3
           AND (?4 IS NULL OR name > ?4)
         ORDER BY name LIMIT ?5",
    )?;
    let rows = stmt.query_map(params![account, region, prefix, after, limit as i64], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every alarm of every account and region (for evaluation).
pub fn all(conn: &Connection) -> StoreResult<Vec<AlarmRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT account, region, name, body FROM cw_alarms ORDER BY account, region, name",
    )?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlarmRow> {
    Ok(AlarmRow {
        account: r.get(0)?,
        region: r.get(1)?,
        name: r.get(2)?,
        body: r.get(3)?,
    })
}

/// Deletes an alarm; returns whether it existed.
pub fn delete(conn: &Connection, account: &str, region: &str, name: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM cw_alarms WHERE account = ?1 AND region = ?2 AND name = ?3")?
        .execute(params![account, region, name])?
        > 0)
}

/// One history item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryItem {
    /// The item's id, which orders items of the same time (0 for one not yet stored).
    pub id: i64,
    /// Alarm name.
    pub alarm_name: String,
    /// Time, ms.
    pub ts: i64,
    /// `ConfigurationUpdate`, `StateUpdate` or `Action`.
    pub item_type: String,
    /// `HistorySummary`.
    pub summary: String,
    /// `HistoryData` (JSON).
    pub data: String,
}

/// Appends a history item.
pub fn add_history(
    conn: &Connection,
    account: &str,
    region: &str,
    item: &HistoryItem,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO cw_alarm_history (account, region, alarm_name, ts, item_type, summary, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        account,
        region,
        item.alarm_name,
        item.ts,
        item.item_type,
        item.summary,
        item.data
    ])?;
    Ok(())
}

/// What history to read.
#[derive(Clone, Debug, Default)]
pub struct HistoryFilter<'a> {
    /// Only this alarm.
    pub alarm_name: Option<&'a str>,
    /// Only this item type.
    pub item_type: Option<&'a str>,
    /// Inclusive start, ms.
    pub start_ms: i64,
    /// Inclusive end, ms.
    pub end_ms: i64,
    /// Oldest first (else newest first).
    pub ascending: bool,
    /// Only items after this `(ts, id)` in the order asked (a page's last item).
    pub after: Option<(i64, i64)>,
    /// At most this many.
    pub limit: i64,
}

/// History items of an account and region matching `f`.
pub fn history(
    conn: &Connection,
    account: &str,
    region: &str,
    f: &HistoryFilter<'_>,
) -> StoreResult<Vec<HistoryItem>> {
    let (order, past) = if f.ascending {
        ("ASC", ">")
    } else {
        ("DESC", "<")
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT alarm_name, ts, item_type, summary, data, id FROM cw_alarm_history
         WHERE account = ?1 AND region = ?2 AND (?3 IS NULL OR alarm_name = ?3)
           AND (?4 IS NULL OR item_type = ?4) AND ts >= ?5 AND ts <= ?6
           AND (?8 IS NULL OR ts {past} ?8 OR (ts = ?8 AND id {past} ?9))
         ORDER BY ts {order}, id {order} LIMIT ?7"
    ))?;
    let (after_ts, after_id) = f.after.unzip();
    let rows = stmt.query_map(
        params![
            account,
            region,
            f.alarm_name,
            f.item_type,
            f.start_ms,
            f.end_ms,
            f.limit,
            after_ts,
            after_id
        ],
        |r| {
            Ok(HistoryItem {
                alarm_name: r.get(0)?,
                ts: r.get(1)?,
                item_type: r.get(2)?,
                summary: r.get(3)?,
                data: r.get(4)?,
                id: r.get(5)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes history older than `cutoff` (ms); returns how many items.
pub fn expire_history(conn: &Connection, cutoff: i64) -> StoreResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM cw_alarm_history WHERE ts < ?1")?
        .execute(params![cutoff])?)
}
