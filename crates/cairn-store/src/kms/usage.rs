//! Each KMS key's last successful cryptographic operation (GetKeyLastUsage), kept as the
//! operation's event is recorded: read from event history instead, the answer could be
//! pushed out of reach by a flood of other events naming the key (recheck32b).

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// The table (schema 32), and the `meta` key holding when tracking began in this store.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS kms_key_usage (
    key_arn TEXT PRIMARY KEY, operation TEXT NOT NULL, event_time INTEGER NOT NULL,
    event_id TEXT NOT NULL, request_id TEXT NOT NULL);";
/// `meta` key: epoch seconds from which this store tracks key usage.
pub const TRACKED_SINCE: &str = "kms_usage_tracked_since";

/// A key's last successful cryptographic operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUsage {
    /// Its event name (`Encrypt`, …).
    pub operation: String,
    /// Its `eventTime`, epoch seconds.
    pub event_time: i64,
    /// Its `eventID`.
    pub event_id: String,
    /// Its `requestID`.
    pub request_id: String,
}

/// Notes a use of `key_arn`, unless a later one is already noted.
pub fn note(conn: &Connection, key_arn: &str, usage: &KeyUsage) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO kms_key_usage (key_arn, operation, event_time, event_id, request_id)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (key_arn) DO UPDATE SET operation = excluded.operation,
             event_time = excluded.event_time, event_id = excluded.event_id,
             request_id = excluded.request_id
         WHERE excluded.event_time >= kms_key_usage.event_time",
    )?
    .execute(params![
        key_arn,
        usage.operation,
        usage.event_time,
        usage.event_id,
        usage.request_id
    ])?;
    Ok(())
}

/// The last use noted of `key_arn`.
pub fn last(conn: &Connection, key_arn: &str) -> StoreResult<Option<KeyUsage>> {
    Ok(conn
        .prepare_cached(
            "SELECT operation, event_time, event_id, request_id FROM kms_key_usage
             WHERE key_arn = ?1",
        )?
        .query_row([key_arn], |r| {
            Ok(KeyUsage {
                operation: r.get(0)?,
                event_time: r.get(1)?,
                event_id: r.get(2)?,
                request_id: r.get(3)?,
            })
        })
        .optional()?)
}

/// When this store began tracking key usage (epoch seconds), if known.
pub fn tracked_since(conn: &Connection) -> StoreResult<Option<i64>> {
    Ok(crate::meta::get(conn, TRACKED_SINCE)?.and_then(|v| v.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_use_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("cairn.db")).unwrap();
        let use_at = |t: i64, op: &str| KeyUsage {
            operation: op.into(),
            event_time: t,
            event_id: format!("e{t}"),
            request_id: format!("r{t}"),
        };
        store
            .write_blocking(move |c| {
                note(c, "k", &use_at(10, "Encrypt")).unwrap();
                note(c, "k", &use_at(5, "Decrypt")).unwrap();
                assert_eq!(last(c, "k").unwrap().unwrap().operation, "Encrypt");
                note(c, "k", &use_at(12, "Decrypt")).unwrap();
                assert_eq!(last(c, "k").unwrap().unwrap().event_id, "e12");
                assert!(last(c, "other").unwrap().is_none());
                assert!(tracked_since(c).unwrap().is_some());
            })
            .unwrap();
    }
}
