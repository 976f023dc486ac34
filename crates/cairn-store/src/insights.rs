//! CloudTrail Insights state: per-minute series, attribution counters, detection progress,
//! open insights and the Insights events each trail has written (schema version 13).
//!
//! The series are counts per UTC minute (epoch minutes), one row per (account, region,
//! kind, event source, event name, error code, minute) that saw at least one call; empty
//! minutes have no row and count as zero. `kind` is [`KIND_CALL`] or [`KIND_ERROR`]; call
//! series have an empty error code. Counting is idempotent: [`apply_counts`] adds a batch
//! only if the counted-seq cursor is still where the batch began, and moves it in the same
//! transaction.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{StoreResult, meta};

/// Series kind of API call rates (write management calls).
pub const KIND_CALL: i64 = 0;
/// Series kind of API error rates (calls that returned an error code).
pub const KIND_ERROR: i64 = 1;

const COUNTED_SEQ: &str = "insights.counted_seq";
const WARM_UP: &str = "insights.warm_up_secs";

/// One series: what is counted per minute.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    /// Recipient account.
    pub account: String,
    /// `awsRegion`.
    pub region: String,
    /// [`KIND_CALL`] or [`KIND_ERROR`].
    pub kind: i64,
    /// `eventSource`.
    pub source: String,
    /// `eventName`.
    pub name: String,
    /// `errorCode` for error series, empty for call series.
    pub error_code: String,
}

/// Counts to add to one series minute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesDelta {
    /// The series.
    pub key: SeriesKey,
    /// Epoch minute.
    pub minute: i64,
    /// Calls to add.
    pub count: i64,
}

/// Counts to add to one attribution value of one series minute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributionDelta {
    /// The series.
    pub key: SeriesKey,
    /// Epoch minute.
    pub minute: i64,
    /// `userIdentityArn`, `userAgent` or `errorCode`.
    pub attribute: String,
    /// The attribute's value.
    pub value: String,
    /// Calls to add.
    pub count: i64,
}

/// The seq up to which events have been counted into the series (0 if never).
pub fn counted_seq(conn: &Connection) -> StoreResult<i64> {
    Ok(meta::get(conn, COUNTED_SEQ)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Calls `each(seq, event_time, record)` for every management event with
/// `after < seq <= upto` that Insights may count, in seq order: write calls, and read calls
/// whose record names an `errorCode` (a read that succeeded counts in no series, so it is
/// not read out and parsed).
pub fn management_records(
    conn: &Connection,
    after: i64,
    upto: i64,
    mut each: impl FnMut(i64, i64, &str),
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, event_time, record FROM events
         WHERE seq > ?1 AND seq <= ?2 AND category = 'Management'
           AND (read_only <> 'true' OR instr(record, '\"errorCode\"') > 0)
         ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![after, upto])?;
    while let Some(row) = rows.next()? {
        let record = row.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
        each(row.get(0)?, row.get(1)?, record);
    }
    Ok(())
}

/// Adds a counted batch of events `from < seq <= to` if the counted-seq cursor is still
/// `from`, and moves it to `to`. Returns whether the batch was applied (false: another
/// process counted these events first).
pub fn apply_counts(
    conn: &Connection,
    from: i64,
    to: i64,
    series: &[SeriesDelta],
    attributions: &[AttributionDelta],
) -> StoreResult<bool> {
    if counted_seq(conn)? != from {
        return Ok(false);
    }
    let mut up = conn.prepare_cached(
        "INSERT INTO insight_counts (account, region, kind, source, name, error_code, minute, count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT DO UPDATE SET count = count + excluded.count
         RETURNING count",
    )?;
    let mut day = conn.prepare_cached(
        "INSERT INTO insight_days (account, region, kind, source, name, error_code, day, sum, sum_sq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT DO UPDATE SET sum = sum + excluded.sum, sum_sq = sum_sq + excluded.sum_sq",
    )?;
    for d in series {
        let k = &d.key;
        let new: i64 = up.query_row(
            params![
                k.account,
                k.region,
                k.kind,
                k.source,
                k.name,
                k.error_code,
                d.minute,
                d.count
            ],
            |r| r.get(0),
        )?;
        let old = new - d.count;
        day.execute(params![
            k.account,
            k.region,
            k.kind,
            k.source,
            k.name,
            k.error_code,
            d.minute.div_euclid(DAY_MINUTES),
            d.count,
            new * new - old * old
        ])?;
    }
    let mut up = conn.prepare_cached(
        "INSERT INTO insight_attributions
             (account, region, kind, source, name, error_code, attribute, minute, value, count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT DO UPDATE SET count = count + excluded.count",
    )?;
    for d in attributions {
        let k = &d.key;
        up.execute(params![
            k.account,
            k.region,
            k.kind,
            k.source,
            k.name,
            k.error_code,
            d.attribute,
            d.minute,
            d.value,
            d.count
        ])?;
    }
    meta::put(conn, COUNTED_SEQ, &to.to_string())?;
    Ok(true)
}

/// The count of one series minute (0 when none).
pub fn count_at(conn: &Connection, key: &SeriesKey, minute: i64) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count FROM insight_counts WHERE account = ?1 AND region = ?2 AND kind = ?3
               AND source = ?4 AND name = ?5 AND error_code = ?6 AND minute = ?7",
        )?
        .query_row(
            params![
                key.account,
                key.region,
                key.kind,
                key.source,
                key.name,
                key.error_code,
                minute
            ],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// The series of one account and region and kind whose count at `minute` is at least
/// `min_count`, with that count.
pub fn busy_at(
    conn: &Connection,
    account: &str,
    region: &str,
    kind: i64,
    minute: i64,
    min_count: i64,
) -> StoreResult<Vec<(SeriesKey, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT source, name, error_code, count FROM insight_counts INDEXED BY insight_counts_by_minute
         WHERE account = ?1 AND region = ?2 AND minute = ?3 AND kind = ?4 AND count >= ?5
         ORDER BY source, name, error_code",
    )?;
    let rows = stmt.query_map(params![account, region, minute, kind, min_count], |r| {
        Ok((
            SeriesKey {
                account: account.to_owned(),
                region: region.to_owned(),
                kind,
                source: r.get(0)?,
                name: r.get(1)?,
                error_code: r.get(2)?,
            },
            r.get(3)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Minutes per day (series days are UTC days of epoch minutes).
const DAY_MINUTES: i64 = 1440;

/// Σcount and Σcount² of one series over minutes `from <= m < to`: whole days from the
/// per-day sums, the rest from the minutes.
pub fn window_sums(
    conn: &Connection,
    key: &SeriesKey,
    from: i64,
    to: i64,
) -> StoreResult<(i64, i64)> {
    let first_day = from.div_euclid(DAY_MINUTES) + i64::from(from.rem_euclid(DAY_MINUTES) != 0);
    let end_day = to.div_euclid(DAY_MINUTES);
    if first_day >= end_day {
        return minute_sums(conn, key, from, to);
    }
    let (s1, q1) = minute_sums(conn, key, from, first_day * DAY_MINUTES)?;
    let (s2, q2): (i64, i64) = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(sum), 0), COALESCE(SUM(sum_sq), 0) FROM insight_days
             WHERE account = ?1 AND region = ?2 AND kind = ?3 AND source = ?4 AND name = ?5
               AND error_code = ?6 AND day >= ?7 AND day < ?8",
        )?
        .query_row(
            params![
                key.account,
                key.region,
                key.kind,
                key.source,
                key.name,
                key.error_code,
                first_day,
                end_day
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
    let (s3, q3) = minute_sums(conn, key, end_day * DAY_MINUTES, to)?;
    Ok((s1 + s2 + s3, q1 + q2 + q3))
}

fn minute_sums(conn: &Connection, key: &SeriesKey, from: i64, to: i64) -> StoreResult<(i64, i64)> {
    if from >= to {
        return Ok((0, 0));
    }
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(SUM(count), 0), COALESCE(SUM(count * count), 0) FROM insight_counts
             WHERE account = ?1 AND region = ?2 AND kind = ?3 AND source = ?4 AND name = ?5
               AND error_code = ?6 AND minute >= ?7 AND minute < ?8",
        )?
        .query_row(
            params![
                key.account,
                key.region,
                key.kind,
                key.source,
                key.name,
                key.error_code,
                from,
                to
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
}

/// The non-empty minutes of one series in `from <= m < to`, ascending.
pub fn series(
    conn: &Connection,
    key: &SeriesKey,
    from: i64,
    to: i64,
) -> StoreResult<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT minute, count FROM insight_counts
         WHERE account = ?1 AND region = ?2 AND kind = ?3 AND source = ?4 AND name = ?5
           AND error_code = ?6 AND minute >= ?7 AND minute < ?8 ORDER BY minute",
    )?;
    let rows = stmt.query_map(
        params![
            key.account,
            key.region,
            key.kind,
            key.source,
            key.name,
            key.error_code,
            from,
            to
        ],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Per value of one attribute: its total count over minutes `from <= m < to`, largest
/// first, ties by value, at most `limit`.
pub fn attribution_totals(
    conn: &Connection,
    key: &SeriesKey,
    attribute: &str,
    from: i64,
    to: i64,
    limit: usize,
) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT value, SUM(count) AS total FROM insight_attributions
         WHERE account = ?1 AND region = ?2 AND kind = ?3 AND source = ?4 AND name = ?5
           AND error_code = ?6 AND attribute = ?7 AND minute >= ?8 AND minute < ?9
         GROUP BY value ORDER BY total DESC, value ASC LIMIT ?10",
    )?;
    let rows = stmt.query_map(
        params![
            key.account,
            key.region,
            key.kind,
            key.source,
            key.name,
            key.error_code,
            attribute,
            from,
            to,
            limit as i64
        ],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The regions of an account that have any series.
pub fn regions(conn: &Connection, account: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT region FROM insight_counts WHERE account = ?1 ORDER BY region",
    )?;
    let rows = stmt.query_map([account], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes series minutes before `series_before` and attribution minutes before
/// `attributions_before`. Returns how many rows went.
pub fn prune(
    conn: &Connection,
    series_before: i64,
    attributions_before: i64,
) -> StoreResult<usize> {
    let a = conn
        .prepare_cached("DELETE FROM insight_counts WHERE minute < ?1")?
        .execute([series_before])?;
    conn.prepare_cached("DELETE FROM insight_days WHERE day < ?1")?
        .execute([series_before.div_euclid(DAY_MINUTES)])?;
    let b = conn
        .prepare_cached("DELETE FROM insight_attributions WHERE minute < ?1")?
        .execute([attributions_before])?;
    Ok(a + b)
}

/// When Insights were last turned on for a trail (epoch seconds), if they are on.
pub fn armed_at(conn: &Connection, trail_arn: &str) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT enabled_at FROM insight_arming WHERE trail_arn = ?1")?
        .query_row([trail_arn], |r| r.get(0))
        .optional()?)
}

/// Records that Insights were turned on for a trail at `enabled_at`.
pub fn arm(conn: &Connection, trail_arn: &str, enabled_at: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO insight_arming (trail_arn, enabled_at) VALUES (?1, ?2)
         ON CONFLICT DO UPDATE SET enabled_at = excluded.enabled_at",
    )?
    .execute(params![trail_arn, enabled_at])?;
    Ok(())
}

/// Forgets a trail's Insights arming, detection progress and open insights (Insights
/// turned off). Insights events already written stay.
pub fn disarm(conn: &Connection, trail_arn: &str) -> StoreResult<()> {
    for sql in [
        "DELETE FROM insight_arming WHERE trail_arn = ?1",
        "DELETE FROM insight_progress WHERE trail_arn = ?1",
        "DELETE FROM insight_open WHERE trail_arn = ?1",
    ] {
        conn.prepare_cached(sql)?.execute([trail_arn])?;
    }
    Ok(())
}

/// The next minute to evaluate for a trail in a region, if any was evaluated.
pub fn next_minute(conn: &Connection, trail_arn: &str, region: &str) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT next_minute FROM insight_progress WHERE trail_arn = ?1 AND region = ?2",
        )?
        .query_row([trail_arn, region], |r| r.get(0))
        .optional()?)
}

/// Sets the next minute to evaluate.
pub fn set_next_minute(
    conn: &Connection,
    trail_arn: &str,
    region: &str,
    minute: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO insight_progress (trail_arn, region, next_minute) VALUES (?1, ?2, ?3)
         ON CONFLICT DO UPDATE SET next_minute = excluded.next_minute",
    )?
    .execute(params![trail_arn, region, minute])?;
    Ok(())
}

/// A series' detection state for one trail: an open insight, or a cool-down after one.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenState {
    /// The series.
    pub key: SeriesKey,
    /// Whether an insight is open (false: only the cool-down matters).
    pub open: bool,
    /// Start minute of the open insight.
    pub start: i64,
    /// Frozen baseline mean.
    pub baseline_mean: f64,
    /// Frozen baseline duration (minutes).
    pub baseline_duration: i64,
    /// Frozen threshold.
    pub threshold: f64,
    /// Last minute at or over the threshold.
    pub last_active: i64,
    /// Σ counts from `start` through `last_active`.
    pub sum_to_last_active: i64,
    /// Σ counts from `start` through the last evaluated minute.
    pub sum_running: i64,
    /// No new insight may start before this minute.
    pub cooldown_until: i64,
    /// `sharedEventID` of the open insight.
    pub shared_event_id: String,
}

/// Every detection state row of a trail in a region and kind.
pub fn states(
    conn: &Connection,
    trail_arn: &str,
    account: &str,
    region: &str,
    kind: i64,
) -> StoreResult<Vec<OpenState>> {
    let mut stmt = conn.prepare_cached(
        "SELECT source, name, error_code, open, start_minute, baseline_mean, baseline_duration,
                threshold, last_active, sum_to_last_active, sum_running, cooldown_until,
                shared_event_id
         FROM insight_open WHERE trail_arn = ?1 AND region = ?2 AND kind = ?3
         ORDER BY source, name, error_code",
    )?;
    let rows = stmt.query_map(params![trail_arn, region, kind], |r| {
        Ok(OpenState {
            key: SeriesKey {
                account: account.to_owned(),
                region: region.to_owned(),
                kind,
                source: r.get(0)?,
                name: r.get(1)?,
                error_code: r.get(2)?,
            },
            open: r.get(3)?,
            start: r.get(4)?,
            baseline_mean: r.get(5)?,
            baseline_duration: r.get(6)?,
            threshold: r.get(7)?,
            last_active: r.get(8)?,
            sum_to_last_active: r.get(9)?,
            sum_running: r.get(10)?,
            cooldown_until: r.get(11)?,
            shared_event_id: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every open insight of a trail, whatever its region and kind.
pub fn open_states(
    conn: &Connection,
    trail_arn: &str,
    account: &str,
) -> StoreResult<Vec<OpenState>> {
    let places: Vec<(String, i64)> = conn
        .prepare_cached(
            "SELECT DISTINCT region, kind FROM insight_open WHERE trail_arn = ?1 AND open
             ORDER BY region, kind",
        )?
        .query_map([trail_arn], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (region, kind) in places {
        out.extend(
            states(conn, trail_arn, account, &region, kind)?
                .into_iter()
                .filter(|s| s.open),
        );
    }
    Ok(out)
}

/// Stores (replaces) a detection state row.
pub fn put_state(conn: &Connection, trail_arn: &str, s: &OpenState) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO insight_open (trail_arn, region, kind, source, name, error_code,
             open, start_minute, baseline_mean, baseline_duration, threshold, last_active,
             sum_to_last_active, sum_running, cooldown_until, shared_event_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        trail_arn,
        s.key.region,
        s.key.kind,
        s.key.source,
        s.key.name,
        s.key.error_code,
        s.open,
        s.start,
        s.baseline_mean,
        s.baseline_duration,
        s.threshold,
        s.last_active,
        s.sum_to_last_active,
        s.sum_running,
        s.cooldown_until,
        s.shared_event_id
    ])?;
    Ok(())
}

/// Deletes the detection state rows of a trail whose cool-down ended before `minute`.
pub fn drop_cooled(conn: &Connection, trail_arn: &str, minute: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "DELETE FROM insight_open WHERE trail_arn = ?1 AND open = 0 AND cooldown_until <= ?2",
    )?
    .execute(params![trail_arn, minute])?;
    Ok(())
}

/// Notes that `seq` is an Insights event of `trail_arn` (for its Insight files). Returns
/// false if that event was already written for the trail.
pub fn add_event(
    conn: &Connection,
    trail_arn: &str,
    event_id: &str,
    seq: i64,
    event_time: i64,
    region: &str,
) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO insight_events (trail_arn, event_id, seq, event_time, region)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![trail_arn, event_id, seq, event_time, region])?;
    Ok(n == 1)
}

/// Whether an Insights event with this id exists.
pub fn event_exists(conn: &Connection, event_id: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM insight_events WHERE event_id = ?1")?
        .query_row([event_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The region of the Insights event with this seq if `trail_arn` wrote it (None: another
/// trail's, or not an Insights event).
pub fn written_by(conn: &Connection, trail_arn: &str, seq: i64) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT region FROM insight_events WHERE trail_arn = ?1 AND seq = ?2")?
        .query_row(params![trail_arn, seq], |r| r.get(0))
        .optional()?)
}

/// An Insights event a trail has not delivered yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEvent {
    /// Its seq in the event log.
    pub seq: i64,
    /// `eventTime`, epoch seconds.
    pub event_time: i64,
    /// `awsRegion`.
    pub region: String,
    /// The canonical record.
    pub record: String,
}

/// The Insights events of a trail not yet delivered, in seq order, at most `limit`.
pub fn undelivered(
    conn: &Connection,
    trail_arn: &str,
    limit: usize,
) -> StoreResult<Vec<PendingEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.seq, i.event_time, i.region, e.record FROM insight_events i
         JOIN events e ON e.seq = i.seq
         WHERE i.trail_arn = ?1 AND i.delivered IS NULL ORDER BY i.seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![trail_arn, limit as i64], |r| {
        Ok(PendingEvent {
            seq: r.get(0)?,
            event_time: r.get(1)?,
            region: r.get(2)?,
            record: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks Insights events of a trail delivered in the file `key`.
pub fn mark_delivered(
    conn: &Connection,
    trail_arn: &str,
    seqs: &[i64],
    key: &str,
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE insight_events SET delivered = ?3 WHERE trail_arn = ?1 AND seq = ?2",
    )?;
    for seq in seqs {
        stmt.execute(params![trail_arn, seq, key])?;
    }
    Ok(())
}

/// The trails that have Insights events to deliver.
pub fn trails_with_pending(conn: &Connection) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT trail_arn FROM insight_events WHERE delivered IS NULL ORDER BY trail_arn",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The warm-up the server last ran with, in seconds (None: never set).
pub fn warm_up(conn: &Connection) -> StoreResult<Option<i64>> {
    Ok(meta::get(conn, WARM_UP)?.and_then(|v| v.parse().ok()))
}

/// Keeps the warm-up the server runs with.
pub fn set_warm_up(conn: &Connection, secs: i64) -> StoreResult<()> {
    meta::put(conn, WARM_UP, &secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> SeriesKey {
        SeriesKey {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            kind: KIND_CALL,
            source: "ec2.amazonaws.com".into(),
            name: name.into(),
            error_code: String::new(),
        }
    }

    #[test]
    fn counts_add_up_once_per_cursor_position() {
        let conn = crate::in_memory().unwrap();
        let d = |m, c| SeriesDelta {
            key: key("RunInstances"),
            minute: m,
            count: c,
        };
        assert!(apply_counts(&conn, 0, 5, &[d(10, 2), d(11, 3)], &[]).unwrap());
        assert!(!apply_counts(&conn, 0, 5, &[d(10, 2)], &[]).unwrap());
        assert!(apply_counts(&conn, 5, 9, &[d(10, 1)], &[]).unwrap());
        assert_eq!(counted_seq(&conn).unwrap(), 9);
        assert_eq!(count_at(&conn, &key("RunInstances"), 10).unwrap(), 3);
        assert_eq!(
            window_sums(&conn, &key("RunInstances"), 0, 100).unwrap(),
            (6, 18)
        );
        assert_eq!(
            busy_at(&conn, "123456789012", "us-east-1", KIND_CALL, 11, 3)
                .unwrap()
                .len(),
            1
        );
        // Across days the per-day sums and the minutes agree.
        let far = |m, c| SeriesDelta {
            key: key("RunInstances"),
            minute: m,
            count: c,
        };
        assert!(
            apply_counts(
                &conn,
                9,
                10,
                &[far(1440 * 3 + 5, 2), far(1440 * 4 + 1, 4)],
                &[]
            )
            .unwrap()
        );
        assert!(apply_counts(&conn, 10, 11, &[far(1440 * 3 + 5, 1)], &[]).unwrap());
        assert_eq!(
            window_sums(&conn, &key("RunInstances"), 0, 1440 * 5).unwrap(),
            (6 + 3 + 4, 18 + 9 + 16)
        );
        assert_eq!(
            window_sums(&conn, &key("RunInstances"), 11, 1440 * 4 + 2).unwrap(),
            (3 + 3 + 4, 9 + 9 + 16)
        );
        assert_eq!(prune(&conn, 11, 0).unwrap(), 1);
        assert_eq!(
            series(&conn, &key("RunInstances"), 0, 100).unwrap(),
            vec![(11, 3)]
        );
    }

    #[test]
    fn attributions_rank_by_count_then_value() {
        let conn = crate::in_memory().unwrap();
        let a = |v: &str, m, c| AttributionDelta {
            key: key("RunInstances"),
            minute: m,
            attribute: "userAgent".into(),
            value: v.into(),
            count: c,
        };
        apply_counts(
            &conn,
            0,
            1,
            &[],
            &[a("b", 1, 2), a("a", 2, 2), a("c", 3, 1)],
        )
        .unwrap();
        let top = attribution_totals(&conn, &key("RunInstances"), "userAgent", 0, 10, 2).unwrap();
        assert_eq!(top, vec![("a".to_owned(), 2), ("b".to_owned(), 2)]);
    }
}
