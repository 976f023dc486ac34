//! Schema version 32: each KMS key's last successful cryptographic operation
//! (GetKeyLastUsage) and each alarm's next evaluation time; version 33 runs the same step
//! again for data dirs stamped 32 before it added the alarms' column. Also the helper later
//! steps add their columns with ([`column_unless_there`]).

use rusqlite::Connection;

use crate::StoreResult;

/// Version 32: each KMS key's last successful cryptographic operation (GetKeyLastUsage),
/// tracked from now on, and when each alarm is next due for evaluation (every alarm is due
/// at first). The step may run again (a store set back by hand, as tests do; version 33 runs
/// it again for data dirs a build of 32 without the alarms' column stamped), and then marks
/// the store `version`.
pub(crate) fn migrate(conn: &Connection, version: i64) -> StoreResult<()> {
    conn.execute_batch(&format!("BEGIN; {}", crate::kms::usage::SCHEMA))?;
    let has_due: bool = conn
        .prepare("SELECT COUNT(*) FROM pragma_table_info('cw_alarms') WHERE name = 'due_ms'")?
        .query_row([], |r| r.get::<_, i64>(0))
        .map(|n| n > 0)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let marked = (if has_due {
        Ok(())
    } else {
        conn.execute_batch(
            "ALTER TABLE cw_alarms ADD COLUMN due_ms INTEGER NOT NULL DEFAULT 0;
             CREATE INDEX cw_alarms_by_due ON cw_alarms (due_ms);",
        )
        .map_err(crate::StoreError::from)
    })
    .and_then(|()| {
        crate::meta::get_or_insert(conn, crate::kms::usage::TRACKED_SINCE, || now.to_string())
    })
    .and_then(|_| Ok(conn.execute_batch(&format!("PRAGMA user_version = {version}; COMMIT;"))?));
    if let Err(e) = marked {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e);
    }
    Ok(())
}

/// `ALTER TABLE <table> ADD COLUMN <column> <kind>;`, or nothing when the column is there
/// already (a store whose version was set back by hand): a step that adds a column is
/// idempotent.
pub(crate) fn column_unless_there(
    conn: &Connection,
    table: &str,
    column: &str,
    kind: &str,
) -> StoreResult<String> {
    let has: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
        rusqlite::params![table, column],
        |r| r.get(0),
    )?;
    Ok(if has {
        String::new()
    } else {
        format!("ALTER TABLE {table} ADD COLUMN {column} {kind};")
    })
}
