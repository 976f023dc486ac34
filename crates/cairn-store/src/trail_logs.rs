//! CloudTrail → CloudWatch Logs delivery bookkeeping: one cursor per trail over the event log.
//!
//! A trail's CloudWatch Logs cursor is separate from its S3 cursor (`delivery_cursors`): the
//! two destinations fail and recover on their own. Exactly-once is simpler here than for S3
//! because the destination lives in the same database: a delivery step ingests the log
//! events and advances the cursor in one transaction, so both commit or neither does.
//!
//! The cursor is set when a trail is given a log group (CreateTrail/UpdateTrail), so a trail
//! delivers the events recorded from then on, and removed when the trail loses its group or
//! is deleted.
//!
//! Each region's stream progresses on its own, as each region's trail delivers on its own on
//! AWS: the trail's cursor is where every region's stream is, except the *lagging* regions,
//! whose stream refused a delivery (the role may not write it) and which are behind, each at
//! its own seq. A lagging region catches up from its seq to the trail's cursor and then stops
//! lagging; the other streams go on meanwhile.
//!
//! A group the trail stops writing to (UpdateTrail clears or changes it) is *closing*: what
//! the trail recorded up to that call, the call's own event included, still goes to it, from
//! the cursor it had to the call's seq, with the role it had.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// Version 17: the CloudWatch Logs delivery cursors (`group_arn` is the group the cursor
/// belongs to: a trail moved to another group starts a new cursor).
pub(crate) const SCHEMA_V17: &str = "
CREATE TABLE trail_log_cursors (
    trail_arn TEXT PRIMARY KEY, group_arn TEXT NOT NULL, seq INTEGER NOT NULL);
";

/// Version 22: the regions whose stream is behind its trail's cursor (see the module doc).
pub(crate) const SCHEMA_V22: &str = "
CREATE TABLE trail_log_lagging (
    trail_arn TEXT NOT NULL, region TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (trail_arn, region));
";

/// Version 28: the groups a trail stopped writing to, still owed the events up to the change
/// (see the module doc).
pub(crate) const SCHEMA_V28: &str = "
CREATE TABLE IF NOT EXISTS trail_log_closing (
    trail_arn TEXT NOT NULL, group_arn TEXT NOT NULL, role_arn TEXT NOT NULL,
    seq INTEGER NOT NULL, end_seq INTEGER NOT NULL,
    PRIMARY KEY (trail_arn, group_arn, end_seq));
";

/// A group a trail no longer writes to that is still owed events `seq + 1 ..= end_seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closing {
    /// The group's ARN, as the trail named it.
    pub group_arn: String,
    /// The role the trail wrote it with.
    pub role_arn: String,
    /// Delivered up to here.
    pub seq: i64,
    /// The seq of the call that detached the group (the last event owed).
    pub end_seq: i64,
}

/// Notes that a trail stopped writing to a group. A group taken away, given back and taken
/// away again has one closing per time, each its own span of events.
pub fn add_closing(conn: &Connection, trail_arn: &str, c: &Closing) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO trail_log_closing (trail_arn, group_arn, role_arn, seq, end_seq)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        trail_arn,
        c.group_arn,
        c.role_arn,
        c.seq,
        c.end_seq
    ])?;
    Ok(())
}

/// The trail's closing groups, by group ARN and end.
pub fn closing(conn: &Connection, trail_arn: &str) -> StoreResult<Vec<Closing>> {
    Ok(all_closing(conn)?
        .into_iter()
        .filter(|(t, _)| t == trail_arn)
        .map(|(_, c)| c)
        .collect())
}

/// Every trail's closing groups, as (trail ARN, closing), by trail, group ARN and end: one
/// read for a delivery step, which usually finds none.
pub fn all_closing(conn: &Connection) -> StoreResult<Vec<(String, Closing)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT trail_arn, group_arn, role_arn, seq, end_seq FROM trail_log_closing
         ORDER BY trail_arn, group_arn, end_seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            Closing {
                group_arn: r.get(1)?,
                role_arn: r.get(2)?,
                seq: r.get(3)?,
                end_seq: r.get(4)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Moves the cursor of the closing of `group_arn` that ends at `end_seq` to `seq`, or
/// forgets it once `seq` reaches its end.
pub fn advance_closing(
    conn: &Connection,
    trail_arn: &str,
    (group_arn, end_seq): (&str, i64),
    seq: i64,
) -> StoreResult<()> {
    if seq >= end_seq {
        return drop_closing(conn, trail_arn, group_arn, Some(end_seq));
    }
    conn.prepare_cached(
        "UPDATE trail_log_closing SET seq = ?4
         WHERE trail_arn = ?1 AND group_arn = ?2 AND end_seq = ?3",
    )?
    .execute(params![trail_arn, group_arn, end_seq, seq])?;
    Ok(())
}

/// Forgets the closing of `group_arn` ending at `end_seq` (every one with `None`: the group
/// no longer exists, or the trail was deleted).
pub fn drop_closing(
    conn: &Connection,
    trail_arn: &str,
    group_arn: &str,
    end_seq: Option<i64>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "DELETE FROM trail_log_closing
         WHERE trail_arn = ?1 AND group_arn = ?2 AND (?3 IS NULL OR end_seq = ?3)",
    )?
    .execute(params![trail_arn, group_arn, end_seq])?;
    Ok(())
}

/// Forgets every closing group of a deleted trail.
pub fn forget_closing(conn: &Connection, trail_arn: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM trail_log_closing WHERE trail_arn = ?1")?
        .execute([trail_arn])?;
    Ok(())
}

/// A trail's cursor: every event with a smaller or equal seq has been delivered (or was not
/// the trail's). `None` when the trail has no cursor.
pub fn cursor(conn: &Connection, trail_arn: &str) -> StoreResult<Option<(String, i64)>> {
    Ok(conn
        .prepare_cached("SELECT group_arn, seq FROM trail_log_cursors WHERE trail_arn = ?1")?
        .query_row([trail_arn], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Sets a trail's cursor (and the group it belongs to).
pub fn set_cursor(
    conn: &Connection,
    trail_arn: &str,
    group_arn: &str,
    seq: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO trail_log_cursors (trail_arn, group_arn, seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (trail_arn) DO UPDATE SET group_arn = excluded.group_arn, seq = excluded.seq",
    )?
    .execute(params![trail_arn, group_arn, seq])?;
    Ok(())
}

/// Removes a trail's cursor and lagging regions (its log group was cleared, or the trail
/// deleted).
pub fn clear(conn: &Connection, trail_arn: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM trail_log_cursors WHERE trail_arn = ?1")?
        .execute([trail_arn])?;
    clear_lagging(conn, trail_arn)
}

/// The trail's lagging regions as (region, seq), by region: the region's events with a
/// smaller or equal seq have been delivered to its stream.
pub fn lagging(conn: &Connection, trail_arn: &str) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT region, seq FROM trail_log_lagging WHERE trail_arn = ?1 ORDER BY region",
    )?;
    let rows = stmt.query_map([trail_arn], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks `region` as lagging at `seq` (or moves it there).
pub fn set_lagging(conn: &Connection, trail_arn: &str, region: &str, seq: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO trail_log_lagging (trail_arn, region, seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (trail_arn, region) DO UPDATE SET seq = excluded.seq",
    )?
    .execute(params![trail_arn, region, seq])?;
    Ok(())
}

/// `region` caught up with its trail's cursor: it no longer lags.
pub fn caught_up(conn: &Connection, trail_arn: &str, region: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM trail_log_lagging WHERE trail_arn = ?1 AND region = ?2")?
        .execute([trail_arn, region])?;
    Ok(())
}

/// Forgets every lagging region of a trail (its cursor starts again elsewhere).
pub fn clear_lagging(conn: &Connection, trail_arn: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM trail_log_lagging WHERE trail_arn = ?1")?
        .execute([trail_arn])?;
    Ok(())
}

/// Every trail's delivery floors as (trail ARN, seq): its cursor, or its furthest-behind
/// lagging region, and each closing group's cursor. Retention keeps the events after them.
pub fn all(conn: &Connection) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.trail_arn, min(c.seq, coalesce(
             (SELECT min(l.seq) FROM trail_log_lagging l WHERE l.trail_arn = c.trail_arn), c.seq))
         FROM trail_log_cursors c
         UNION ALL SELECT trail_arn, seq FROM trail_log_closing",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_clear() {
        let conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&conn).unwrap();
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/t";
        assert_eq!(cursor(&conn, arn).unwrap(), None);
        set_cursor(&conn, arn, "g1", 5).unwrap();
        set_cursor(&conn, arn, "g2", 9).unwrap();
        assert_eq!(cursor(&conn, arn).unwrap(), Some(("g2".to_owned(), 9)));
        assert_eq!(all(&conn).unwrap(), vec![(arn.to_owned(), 9)]);
        set_lagging(&conn, arn, "eu-west-1", 4).unwrap();
        set_lagging(&conn, arn, "ap-south-1", 7).unwrap();
        assert_eq!(
            lagging(&conn, arn).unwrap(),
            vec![("ap-south-1".to_owned(), 7), ("eu-west-1".to_owned(), 4)]
        );
        assert_eq!(
            all(&conn).unwrap(),
            vec![(arn.to_owned(), 4)],
            "the floor lags"
        );
        caught_up(&conn, arn, "eu-west-1").unwrap();
        assert_eq!(all(&conn).unwrap(), vec![(arn.to_owned(), 7)]);
        clear(&conn, arn).unwrap();
        assert_eq!(cursor(&conn, arn).unwrap(), None);
        assert_eq!(lagging(&conn, arn).unwrap(), vec![]);
    }

    #[test]
    fn closing_groups_merge_advance_and_end() {
        let conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&conn).unwrap();
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/t";
        let c = |seq, end_seq| Closing {
            group_arn: "g1".into(),
            role_arn: "r".into(),
            seq,
            end_seq,
        };
        add_closing(&conn, arn, &c(5, 9)).unwrap();
        add_closing(&conn, arn, &c(20, 31)).unwrap();
        assert_eq!(closing(&conn, arn).unwrap(), vec![c(5, 9), c(20, 31)]);
        let mut floors = all(&conn).unwrap();
        floors.sort();
        assert_eq!(floors, vec![(arn.to_owned(), 5), (arn.to_owned(), 20)]);
        advance_closing(&conn, arn, ("g1", 9), 8).unwrap();
        assert_eq!(closing(&conn, arn).unwrap(), vec![c(8, 9), c(20, 31)]);
        advance_closing(&conn, arn, ("g1", 9), 9).unwrap();
        assert_eq!(closing(&conn, arn).unwrap(), vec![c(20, 31)]);
        drop_closing(&conn, arn, "g1", None).unwrap();
        assert_eq!(all(&conn).unwrap(), vec![]);
    }
}
