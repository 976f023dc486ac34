//! Retention: deleting old events without losing any a trail still has to deliver, and
//! without breaking the chain.
//!
//! Only a prefix of the log is ever deleted: from the anchor up, while events are older than
//! the cutoff and below the undelivered floor. The anchor then moves to the last deleted
//! event, in the same transaction, so the retained log still verifies and the next seq is
//! still the head's successor.

use rusqlite::{Connection, OptionalExtension, params};

use super::chain::{self, ChainPoint};
use crate::{StoreError, StoreResult};

/// The smallest event seq some trail has not delivered yet: the first seq of a planned but
/// unwritten file, or the first seq after a trail's cursor that one of its logging windows
/// covers. `None` when nothing is owed. Reads the delivery tables; never writes them.
pub fn undelivered_floor(conn: &Connection) -> StoreResult<Option<i64>> {
    let pending: Option<i64> = conn
        .prepare_cached(
            "SELECT min(CAST(j.value AS INTEGER)) FROM deliveries d, json_each(d.seqs) j
             WHERE d.state = 'pending'",
        )?
        .query_row([], |r| r.get(0))?;
    let mut floor = pending;
    let mut cursor_of =
        conn.prepare_cached("SELECT seq FROM delivery_cursors WHERE trail_arn = ?1")?;
    for trail in crate::trails::all(conn)? {
        let cursor: Option<i64> = cursor_of
            .query_row([trail.arn()], |r| r.get(0))
            .optional()?;
        let next = cursor.map_or(i64::MIN, |c| c + 1);
        let owed = trail
            .status
            .windows
            .iter()
            .find(|w| w.end_seq.is_none_or(|end| end >= next))
            .map(|w| w.start_seq.max(next));
        if let Some(seq) = owed {
            floor = Some(floor.map_or(seq, |f| f.min(seq)));
        }
    }
    Ok(floor)
}

/// The time (epoch seconds) of the newest event, if any.
pub fn newest_event_time(conn: &Connection) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT event_time FROM events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?)
}

/// Deletes up to `batch` of the oldest events, stopping at the first one recorded at or
/// after `cutoff` (epoch seconds) or not yet delivered by every trail. Returns how many
/// went. Call it until it returns less than `batch`.
pub fn expire_before(conn: &Connection, cutoff: i64, batch: usize) -> StoreResult<usize> {
    let floor = undelivered_floor(conn)?.unwrap_or(i64::MAX);
    let anchor = chain::anchor(conn)?;
    let mut last: Option<ChainPoint> = None;
    let mut count = 0;
    {
        let mut stmt = conn.prepare_cached(
            "SELECT seq, event_time, chain FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![anchor.seq, batch as i64])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let time: i64 = row.get(1)?;
            if time >= cutoff || seq >= floor {
                break;
            }
            let value: Option<Vec<u8>> = row.get(2)?;
            let chain: [u8; 32] = value
                .as_deref()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("event {seq} has no chain value; run verify-store"))
                })?;
            last = Some(ChainPoint { seq, chain });
            count += 1;
        }
    }
    let Some(last) = last else {
        return Ok(0);
    };
    conn.prepare_cached("DELETE FROM events WHERE seq <= ?1")?
        .execute([last.seq])?;
    chain::set_anchor(conn, &last)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::tests::event;
    use crate::events::{append, count, exists};

    fn store() -> (tempfile::TempDir, crate::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("t.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn expiry_removes_only_the_old_prefix_in_batches() {
        let (_dir, store) = store();
        store
            .write_blocking(|c| {
                for i in 0..25 {
                    append(c, &event(&format!("old-{i}"), 1_000 + i)).unwrap();
                }
                append(c, &event("new", 5_000)).unwrap();
                append(c, &event("late-old", 1_500)).unwrap();
            })
            .unwrap();
        let first = store
            .write_blocking(|c| expire_before(c, 2_000, 10))
            .unwrap()
            .unwrap();
        assert_eq!(first, 10, "a sweep step removes at most one batch");
        let mut rest = 0;
        loop {
            let n = store
                .write_blocking(|c| expire_before(c, 2_000, 10))
                .unwrap()
                .unwrap();
            if n == 0 {
                break;
            }
            rest += n;
        }
        assert_eq!(rest, 15);
        assert!(store.read_blocking(|c| exists(c, "new")).unwrap());
        assert!(
            store.read_blocking(|c| exists(c, "late-old")).unwrap(),
            "an old event after a retained one stays until the prefix reaches it"
        );
        assert!(!store.read_blocking(|c| exists(c, "old-3")).unwrap());
        assert_eq!(store.read_blocking(count).unwrap(), 2);
        let anchor = store.read_blocking(chain::anchor).unwrap();
        assert_eq!(anchor.seq, 25);
        let breaks = store
            .read_blocking(crate::events::verify::verify_all)
            .unwrap();
        // The synthetic records are not real CloudTrail records: check the chain only.
        let chain_breaks: Vec<_> = breaks
            .iter()
            .filter(|b| !matches!(b.kind, crate::events::BreakKind::IndexMismatch(_)))
            .collect();
        assert!(chain_breaks.is_empty(), "{chain_breaks:?}");
    }

    #[test]
    fn undelivered_events_are_kept() {
        let (_dir, store) = store();
        store
            .write_blocking(|c| {
                for i in 0..10 {
                    append(c, &event(&format!("e{i}"), 1_000)).unwrap();
                }
                // A planned, unwritten file holding seqs 4 and 6.
                c.execute(
                    "INSERT INTO deliveries (trail_arn, region, bucket, key, seqs, state)
                     VALUES ('arn', 'us-east-1', 'b', 'k', '[4,6]', 'pending')",
                    [],
                )
                .unwrap();
            })
            .unwrap();
        let gone = store
            .write_blocking(|c| expire_before(c, 2_000, 100))
            .unwrap()
            .unwrap();
        assert_eq!(gone, 3, "seqs 1-3 only");
        store
            .write_blocking(|c| {
                c.execute("UPDATE deliveries SET state = 'done'", [])
                    .unwrap()
            })
            .unwrap();
        let gone = store
            .write_blocking(|c| expire_before(c, 2_000, 100))
            .unwrap()
            .unwrap();
        assert_eq!(gone, 7);
    }

    #[test]
    fn a_logging_trail_holds_back_what_its_cursor_has_not_reached() {
        use cairn_model::trail::{LoggingWindow, Trail};
        let (_dir, store) = store();
        let trail: Trail = serde_json::from_value(serde_json::json!({
            "name": "t", "account": "123456789012", "home_region": "us-east-1",
            "s3_bucket_name": "b", "s3_key_prefix": null, "sns_topic_arn": null,
            "include_global_service_events": true, "is_multi_region_trail": false,
            "log_file_validation_enabled": false, "cloud_watch_logs_log_group_arn": null,
            "cloud_watch_logs_role_arn": null, "kms_key_id": null, "is_organization_trail": false,
            "selectors": {"Basic": []}, "has_custom_event_selectors": false,
            "insight_selectors": [], "tags": [],
            "status": {"is_logging": true, "start_logging_time": null, "stop_logging_time": null},
            "created_at": 0.0
        }))
        .unwrap();
        let arn = trail.arn();
        store
            .write_blocking(move |c| {
                let mut trail = trail;
                trail.status.windows = vec![
                    LoggingWindow {
                        start_seq: 2,
                        end_seq: Some(3),
                    },
                    LoggingWindow {
                        start_seq: 8,
                        end_seq: None,
                    },
                ];
                crate::trails::put(c, &trail).unwrap();
                for i in 0..10 {
                    append(c, &event(&format!("e{i}"), 1_000)).unwrap();
                }
            })
            .unwrap();
        let floor = store.read_blocking(undelivered_floor).unwrap();
        assert_eq!(floor, Some(2), "no cursor yet: from the first window");
        let a = arn.clone();
        store
            .write_blocking(move |c| crate::delivery::set_cursor(c, &a, 5).unwrap())
            .unwrap();
        assert_eq!(
            store.read_blocking(undelivered_floor).unwrap(),
            Some(8),
            "seqs 6 and 7 are outside every window"
        );
        let gone = store
            .write_blocking(|c| expire_before(c, 2_000, 100))
            .unwrap()
            .unwrap();
        assert_eq!(gone, 7);
        store
            .write_blocking(move |c| crate::delivery::set_cursor(c, &arn, 10).unwrap())
            .unwrap();
        assert_eq!(store.read_blocking(undelivered_floor).unwrap(), Some(11));
    }
}
