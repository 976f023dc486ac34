//! Rebuilding the LookupEvents resource index of events recorded before the current
//! derivation (schema version 24).
//!
//! Recording indexes, besides the record's `resources`, the names
//! [`cairn_model::lookup_names::derived`] draws from an IAM or SNS call's parameters (a user,
//! role, group, policy, access key or topic). Events recorded by builds that predate that
//! derivation have no such rows, so a `ResourceName` lookup missed them and `cairn
//! verify-store` reported the index as disagreeing with the record. The rows follow from the
//! record alone, so the upgrade adds the missing ones, as recording would have written them
//! (only names the stored record mentions). It never removes a row.
//!
//! The work is done in batches of events, each committed with the last seq it covered
//! (`meta['migration.v24.after']`), so a large log does not hold one huge transaction, and
//! an upgrade killed mid-way resumes where it stopped. Adding only missing rows makes a
//! repeated batch harmless.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::{StoreResult, meta};

/// Where the rebuild stopped: the last seq whose rows are complete.
const PROGRESS: &str = "migration.v24.after";

/// SQL that forgets the progress mark, run in the transaction that stamps version 24.
pub(crate) const FORGET_PROGRESS: &str = "DELETE FROM meta WHERE key = 'migration.v24.after';";

/// Events per committed batch.
const BATCH: i64 = 2_000;

/// The missing derived rows of one event, as recording writes them.
fn missing_rows(
    conn: &Connection,
    seq: i64,
    source: &str,
    record: &str,
) -> StoreResult<Vec<(String, String)>> {
    let Ok(parsed) = serde_json::from_str::<Value>(record) else {
        return Ok(Vec::new());
    };
    let null = Value::Null;
    let request = parsed.get("requestParameters").unwrap_or(&null);
    let response = parsed.get("responseElements").unwrap_or(&null);
    let mut exists = conn.prepare_cached(
        "SELECT 1 FROM event_resources
         WHERE seq = ?1 AND resource_type = ?2 AND resource_name = ?3",
    )?;
    let mut out = Vec::new();
    for (kind, name) in cairn_model::lookup_names::derived(source, request, response) {
        if !cairn_model::lookup_names::mentions(record, &name) {
            continue;
        }
        let present = exists
            .query_row(params![seq, kind, name], |_| Ok(()))
            .optional()?
            .is_some();
        if !present {
            out.push((kind, name));
        }
    }
    Ok(out)
}

/// One batch after `after`: adds the missing rows and records the progress, in one
/// transaction. Returns the last seq covered, or `None` when no event is left.
fn batch(conn: &Connection, after: i64) -> StoreResult<Option<i64>> {
    let mut events = conn.prepare_cached(
        "SELECT seq, account, region, category, event_time, event_source, record FROM events
         WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = events
        .query_map(params![after, BATCH], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let Some(last) = rows.last().map(|r| r.0) else {
        return Ok(None);
    };
    let mut insert = conn.prepare_cached(
        "INSERT INTO event_resources
             (seq, account, region, category, event_time, resource_type, resource_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (seq, account, region, category, time, source, record) in rows {
        // Insights events are indexed by the API they are about, never by derived names.
        if category == "Insight"
            || !matches!(source.as_str(), "iam.amazonaws.com" | "sns.amazonaws.com")
        {
            continue;
        }
        for (kind, name) in missing_rows(conn, seq, &source, &record)? {
            insert.execute(params![seq, account, region, category, time, kind, name])?;
        }
    }
    meta::put(conn, PROGRESS, &last.to_string())?;
    Ok(Some(last))
}

/// Adds every event's missing derived resource rows, from where a previous, interrupted
/// run stopped, committing each batch.
pub(crate) fn derived_resources(conn: &Connection) -> StoreResult<()> {
    let mut after: i64 = meta::get(conn, PROGRESS)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(i64::MIN);
    loop {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        match batch(conn, after) {
            Ok(next) => {
                conn.execute_batch("COMMIT")?;
                match next {
                    Some(seq) => after = seq,
                    None => return Ok(()),
                }
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAROL: &str = r#"{"eventSource":"iam.amazonaws.com","eventName":"CreateUser","requestParameters":{"userName":"carol"},"responseElements":null}"#;
    const TOPIC: &str = r#"{"eventSource":"sns.amazonaws.com","eventName":"CreateTopic","requestParameters":{"name":"t1"},"responseElements":{"topicArn":"arn:aws:sns:us-east-1:123456789012:t1"}}"#;
    const S3: &str = r#"{"eventSource":"s3.amazonaws.com","eventName":"CreateBucket","requestParameters":{"bucketName":"b"}}"#;

    /// A version-23 store holding an IAM, an SNS and an S3 event recorded without derived
    /// rows (the SNS one with a row of its own already).
    fn old_store() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::schema::configure(&conn).unwrap();
        crate::schema::migrate_to(&conn, 23).unwrap();
        let insert = "INSERT INTO events (seq, event_id, event_time, account, region, category,
                 event_name, event_source, read_only, username, access_key_id, record, chain)
             VALUES (?1, ?2, 100, 'acct', 'us-east-1', 'Management', 'n', ?3, 'false', 'root', '', ?4,
                 zeroblob(32))";
        for (seq, source, record) in [
            (1, "iam.amazonaws.com", CAROL),
            (2, "sns.amazonaws.com", TOPIC),
            (3, "s3.amazonaws.com", S3),
        ] {
            conn.execute(insert, params![seq, format!("e{seq}"), source, record])
                .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO event_resources VALUES (2, 'acct', 'us-east-1', 'Management', 100,
                 'AWS::SNS::Topic', 'arn:aws:sns:us-east-1:123456789012:t1')",
        )
        .unwrap();
        conn
    }

    fn rows(conn: &Connection) -> Vec<(i64, String, String)> {
        let mut stmt = conn
            .prepare(
                "SELECT seq, resource_type, resource_name FROM event_resources
                 ORDER BY seq, resource_type, resource_name",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Version 24 adds the rows recording derives now, once, and nothing else.
    #[test]
    fn version_24_adds_the_missing_derived_rows() {
        let conn = old_store();
        crate::schema::migrate(&conn).unwrap();
        let expected = vec![
            (1, "AWS::IAM::User".to_owned(), "carol".to_owned()),
            (
                2,
                "AWS::SNS::Topic".to_owned(),
                "arn:aws:sns:us-east-1:123456789012:t1".to_owned(),
            ),
        ];
        assert_eq!(rows(&conn), expected);
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, crate::schema::LATEST);
        assert_eq!(meta::get(&conn, PROGRESS).unwrap(), None);
        // Run again (an upgrade killed before it stamped the version): nothing doubles.
        derived_resources(&conn).unwrap();
        assert_eq!(rows(&conn), expected);
    }

    /// An upgrade interrupted after a committed batch resumes after it: the events the batch
    /// covered are not read again.
    #[test]
    fn an_interrupted_rebuild_resumes_after_its_last_batch() {
        let conn = old_store();
        // As if a first run had committed a batch ending at seq 1 and then been killed.
        meta::put(&conn, PROGRESS, "1").unwrap();
        crate::schema::migrate(&conn).unwrap();
        let seqs: Vec<i64> = rows(&conn).into_iter().map(|r| r.0).collect();
        assert_eq!(seqs, [2], "seq 1 was taken as done; seq 2 kept its one row");
    }
}
