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

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// Version 17: the CloudWatch Logs delivery cursors (`group_arn` is the group the cursor
/// belongs to: a trail moved to another group starts a new cursor).
pub(crate) const SCHEMA_V17: &str = "
CREATE TABLE trail_log_cursors (
    trail_arn TEXT PRIMARY KEY, group_arn TEXT NOT NULL, seq INTEGER NOT NULL);
";

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

/// Removes a trail's cursor (its log group was cleared, or the trail deleted).
pub fn clear(conn: &Connection, trail_arn: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM trail_log_cursors WHERE trail_arn = ?1")?
        .execute([trail_arn])?;
    Ok(())
}

/// Every cursor as (trail ARN, seq): retention keeps the events after them.
pub fn all(conn: &Connection) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT trail_arn, seq FROM trail_log_cursors")?;
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
        clear(&conn, arn).unwrap();
        assert_eq!(cursor(&conn, arn).unwrap(), None);
    }
}
