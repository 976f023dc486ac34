//! SNS's per-subscription delivery queue, durable (schema v25): one row per message and
//! subscription, written in the transaction that accepts the message (a `Publish`, an alarm's
//! action, CloudTrail's file notification) and removed once the message is delivered or its
//! delivery policy is exhausted. What every recipient of a message shares (its body, up to
//! 256 KB) is kept once, in `sns_bodies` (schema v34), and each row names it; a body goes with
//! the last row that names it. Rows queued before v34 carry the whole message themselves. Each row keeps its retry state (attempts made, the time of
//! the next one), so a restart resumes where the last run stopped. A sender claims a row ([`claim_at`])
//! before each attempt by moving its next attempt past the attempt's longest duration (a
//! lease): two processes on one data dir (a server and `cairn alarms run`) never send one
//! message at once, and a row whose sender died becomes due again when the lease ends.
//! Messages of one subscription are retried each on its own schedule, as SNS does (one
//! failing message does not hold back the others); the id orders those due together. The
//! statements are plain SQL; the table's DDL, like the other tables', is SQLite's (a
//! PostgreSQL backend declares `id` as an identity column and the times as `BIGINT`).

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// One queued message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    /// Row id (insertion order).
    pub id: i64,
    /// The subscription.
    pub subscription_arn: String,
    /// The message id (with `id`, names the row).
    pub message_id: String,
    /// What the sender needs to build the message (JSON, owned by `cairn_core::sns_queue`).
    pub payload: String,
    /// The body the row names, shared by every recipient of the message (`None` in rows
    /// queued before bodies were kept apart).
    pub body: Option<String>,
    /// Failed attempts so far.
    pub attempts: i64,
    /// Earliest time of the next attempt, epoch ms (wall clock; 0 for at once).
    pub next_attempt_ms: i64,
}

/// Keeps the body every recipient of `message_id` shares, once; the rows that
/// [`enqueue`] adds for it name the returned id. A body no row names is dropped with the
/// last row that named it, so call this only just before those rows are queued, in the same
/// transaction.
pub fn add_body(conn: &Connection, message_id: &str, body: &str) -> StoreResult<i64> {
    conn.prepare_cached("INSERT INTO sns_bodies (message_id, body) VALUES (?1, ?2)")?
        .execute(params![message_id, body])?;
    Ok(conn.last_insert_rowid())
}

/// Drops the bodies among `ids` that no row names any more.
fn drop_unnamed_bodies(conn: &Connection, ids: &[Option<i64>]) -> StoreResult<()> {
    let mut ids: Vec<i64> = ids.iter().flatten().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut stmt = conn.prepare_cached(
        "DELETE FROM sns_bodies WHERE id = ?1
             AND NOT EXISTS (SELECT 1 FROM sns_queue WHERE body_id = ?1)",
    )?;
    for id in ids {
        stmt.execute(params![id])?;
    }
    Ok(())
}

/// Runs a `DELETE … RETURNING body_id` on the queue and drops the bodies it left unnamed;
/// how many rows it deleted.
fn delete_rows(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> StoreResult<usize> {
    let mut stmt = conn.prepare_cached(sql)?;
    let bodies: Vec<Option<i64>> = stmt
        .query_map(args, |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    drop_unnamed_bodies(conn, &bodies)?;
    Ok(bodies.len())
}

/// Adds a message to `subscription_arn`'s queue, accepted at `now_ms` and due at `due_ms`
/// (the wall clock: an alarm evaluated at a chosen time still sends now), naming the shared
/// body `body_id` ([`add_body`]) if any, and keeps the queue within `bound` messages by
/// dropping its oldest. Returns how many were dropped.
pub fn enqueue(
    conn: &Connection,
    subscription_arn: &str,
    (message_id, body_id): (&str, Option<i64>),
    payload: &str,
    (now_ms, due_ms): (i64, i64),
    bound: usize,
) -> StoreResult<usize> {
    conn.prepare_cached(
        "INSERT INTO sns_queue (subscription_arn, message_id, payload, attempts, next_attempt_ms, enqueued_ms, body_id)
         VALUES (?1, ?2, ?3, 0, ?5, ?4, ?6)",
    )?
    .execute(params![subscription_arn, message_id, payload, now_ms, due_ms, body_id])?;
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM sns_queue WHERE subscription_arn = ?1")?
        .query_row(params![subscription_arn], |r| r.get(0))?;
    let bound = i64::try_from(bound.max(1)).unwrap_or(i64::MAX);
    if count <= bound {
        return Ok(0);
    }
    delete_rows(
        conn,
        "DELETE FROM sns_queue WHERE id IN (
             SELECT id FROM sns_queue WHERE subscription_arn = ?1 ORDER BY id LIMIT ?2)
         RETURNING body_id",
        params![subscription_arn, count - bound],
    )
}

/// One queued message without its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Row id (insertion order).
    pub id: i64,
    /// The message id.
    pub message_id: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// Earliest time of the next attempt, epoch ms.
    pub next_attempt_ms: i64,
}

/// The messages queued for `subscription_arn`, oldest first, without their payloads (a
/// queue holds at most its bound).
pub fn entries(conn: &Connection, subscription_arn: &str) -> StoreResult<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, message_id, attempts, next_attempt_ms
         FROM sns_queue WHERE subscription_arn = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![subscription_arn], |r| {
        Ok(Entry {
            id: r.get(0)?,
            message_id: r.get(1)?,
            attempts: r.get(2)?,
            next_attempt_ms: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One queued message, payload included.
pub fn get(conn: &Connection, id: i64) -> StoreResult<Option<Queued>> {
    Ok(conn
        .prepare_cached(
            "SELECT q.id, q.subscription_arn, q.message_id, q.payload, q.attempts,
                    q.next_attempt_ms, b.body
             FROM sns_queue q LEFT JOIN sns_bodies b ON b.id = q.body_id WHERE q.id = ?1",
        )?
        .query_row(params![id], |r| {
            Ok(Queued {
                id: r.get(0)?,
                subscription_arn: r.get(1)?,
                message_id: r.get(2)?,
                payload: r.get(3)?,
                body: r.get(6)?,
                attempts: r.get(4)?,
                next_attempt_ms: r.get(5)?,
            })
        })
        .optional()?)
}

/// The oldest message queued for `subscription_arn`.
#[cfg(test)]
fn head(conn: &Connection, subscription_arn: &str) -> StoreResult<Option<Queued>> {
    let first = entries(conn, subscription_arn)?.into_iter().next();
    match first {
        Some(e) => get(conn, e.id),
        None => Ok(None),
    }
}

/// Drops every message queued for `subscription_arn` (unsubscribed, or its topic deleted).
pub fn forget(conn: &Connection, subscription_arn: &str) -> StoreResult<usize> {
    delete_rows(
        conn,
        "DELETE FROM sns_queue WHERE subscription_arn = ?1 RETURNING body_id",
        params![subscription_arn],
    )
}

/// Drops every message queued for the subscriptions of `topic_arn` (the topic is deleted).
pub fn forget_topic(conn: &Connection, topic_arn: &str) -> StoreResult<usize> {
    delete_rows(
        conn,
        "DELETE FROM sns_queue WHERE subscription_arn IN
             (SELECT arn FROM sns_subscriptions WHERE topic_arn = ?1)
         RETURNING body_id",
        params![topic_arn],
    )
}

/// Claims the row for one attempt: if its next attempt is still `expected_ms` (as the
/// caller saw it due), it moves to `lease_until_ms`, so no other sender takes it meanwhile,
/// and this returns `true`; `false` when another sender took or rescheduled it, or it is gone.
pub fn claim_at(
    conn: &Connection,
    id: i64,
    message_id: &str,
    expected_ms: i64,
    lease_until_ms: i64,
) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE sns_queue SET next_attempt_ms = ?4
             WHERE id = ?1 AND message_id = ?2 AND next_attempt_ms = ?3",
        )?
        .execute(params![id, message_id, expected_ms, lease_until_ms])?;
    Ok(changed == 1)
}

/// Records a failed attempt: `attempts` made so far, the next one not before `next_attempt_ms`.
pub fn retry_later(
    conn: &Connection,
    id: i64,
    message_id: &str,
    attempts: i64,
    next_attempt_ms: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE sns_queue SET attempts = ?3, next_attempt_ms = ?4 WHERE id = ?1 AND message_id = ?2",
    )?
    .execute(params![id, message_id, attempts, next_attempt_ms])?;
    Ok(())
}

/// Removes a message (delivered, or its policy exhausted). Removing one already gone (dropped
/// from a full queue meanwhile) is not an error.
pub fn remove(conn: &Connection, id: i64, message_id: &str) -> StoreResult<()> {
    delete_rows(
        conn,
        "DELETE FROM sns_queue WHERE id = ?1 AND message_id = ?2 RETURNING body_id",
        params![id, message_id],
    )?;
    Ok(())
}

/// Every subscription with a message due by `due_by_ms`, and how many messages each has
/// queued.
pub fn backlog(conn: &Connection, due_by_ms: i64) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT subscription_arn, COUNT(*) FROM sns_queue GROUP BY subscription_arn
         HAVING MIN(next_attempt_ms) <= ?1 ORDER BY subscription_arn",
    )?;
    let rows = stmt.query_map(params![due_by_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Version 25: the delivery queue.
pub(crate) const SCHEMA_V25: &str = "
CREATE TABLE IF NOT EXISTS sns_queue (
    id INTEGER PRIMARY KEY,
    subscription_arn TEXT NOT NULL,
    message_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    enqueued_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sns_queue_by_subscription ON sns_queue (subscription_arn, id);
";

/// Version 34: bodies kept once per message, named by their rows.
pub(crate) fn migrate_v34(conn: &Connection) -> StoreResult<()> {
    let column = crate::schema_v32::column_unless_there(conn, "sns_queue", "body_id", "INTEGER")?;
    conn.execute_batch(&format!(
        "BEGIN; {column}
         CREATE TABLE IF NOT EXISTS sns_bodies (
             id INTEGER PRIMARY KEY,
             message_id TEXT NOT NULL,
             body TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS sns_queue_by_body ON sns_queue (body_id);
         PRAGMA user_version = 34; COMMIT;"
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::schema::configure(&conn).unwrap();
        crate::schema::migrate(&conn).unwrap();
        conn
    }

    #[test]
    fn a_queue_keeps_order_retry_state_and_its_bound() {
        let c = store();
        for (i, m) in ["m1", "m2", "m3"].iter().enumerate() {
            let dropped = enqueue(&c, "sub", (m, None), "{}", (10, 0), 2).unwrap();
            assert_eq!(dropped, usize::from(i == 2));
        }
        enqueue(&c, "other", ("o1", None), "{}", (10, 0), 2).unwrap();
        let h = head(&c, "sub").unwrap().unwrap();
        assert_eq!((h.message_id.as_str(), h.attempts), ("m2", 0));
        // Due at once, whatever time the message was accepted at.
        assert_eq!(h.next_attempt_ms, 0);
        assert!(claim_at(&c, h.id, "m2", 0, 110).unwrap());
        // Held by that lease: a second sender, which saw it due, does not take it.
        assert!(!claim_at(&c, h.id, "m2", 0, 120).unwrap());
        // A queue whose only message is held is not due before the lease ends.
        enqueue(&c, "solo", ("s1", None), "{}", (10, 0), 2).unwrap();
        let s1 = head(&c, "solo").unwrap().unwrap();
        assert!(claim_at(&c, s1.id, "s1", 0, 110).unwrap());
        let due = |at| -> Vec<String> {
            backlog(&c, at)
                .unwrap()
                .into_iter()
                .map(|(s, _)| s)
                .collect()
        };
        assert_eq!(due(100), ["other", "sub"]);
        assert_eq!(due(110), ["other", "solo", "sub"]);
        remove(&c, s1.id, "s1").unwrap();
        retry_later(&c, h.id, "m2", 1, 99).unwrap();
        let h = head(&c, "sub").unwrap().unwrap();
        assert_eq!((h.attempts, h.next_attempt_ms), (1, 99));
        assert!(!claim_at(&c, h.id, "m2", 0, 200).unwrap());
        remove(&c, h.id, "m2").unwrap();
        assert!(!claim_at(&c, h.id, "m2", 99, 400).unwrap());
        assert_eq!(head(&c, "sub").unwrap().unwrap().message_id, "m3");
        assert_eq!(
            backlog(&c, 0).unwrap(),
            vec![("other".to_owned(), 1), ("sub".to_owned(), 1)]
        );
        assert_eq!(forget(&c, "sub").unwrap(), 1);
        assert!(entries(&c, "sub").unwrap().is_empty());
    }

    /// A body named by several rows stays until the last of them goes, whichever way it goes
    /// (delivered, dropped past the bound, forgotten); a row queued before v34 names none.
    #[test]
    fn a_shared_body_goes_with_its_last_row() {
        let c = store();
        let bodies = |c: &Connection| -> i64 {
            c.query_row("SELECT COUNT(*) FROM sns_bodies", [], |r| r.get(0))
                .unwrap()
        };
        let b = add_body(&c, "m1", "BODY").unwrap();
        for s in ["s1", "s2", "s3"] {
            enqueue(&c, s, ("m1", Some(b)), "{}", (1, 0), 1).unwrap();
        }
        let first = entries(&c, "s1").unwrap()[0].id;
        assert_eq!(
            get(&c, first).unwrap().unwrap().body.as_deref(),
            Some("BODY")
        );
        remove(&c, first, "m1").unwrap();
        forget(&c, "s2").unwrap();
        assert_eq!(bodies(&c), 1, "s3 still needs it");
        // A second message pushes the first out of s3's queue of one.
        let b2 = add_body(&c, "m2", "BODY2").unwrap();
        assert_eq!(
            enqueue(&c, "s3", ("m2", Some(b2)), "{}", (1, 0), 1).unwrap(),
            1
        );
        assert_eq!(bodies(&c), 1);
        enqueue(&c, "s4", ("old", None), "{\"v\":1}", (1, 0), 1).unwrap();
        let old = entries(&c, "s4").unwrap()[0].id;
        assert_eq!(get(&c, old).unwrap().unwrap().body, None);
        forget(&c, "s3").unwrap();
        assert_eq!(bodies(&c), 0);
    }

    /// Unsubscribing, or deleting the topic, drops what was queued: it is never sent.
    #[test]
    fn unsubscribe_and_topic_deletion_drop_queued_messages() {
        use crate::sns::{
            Subscription, Topic, create_topic, delete_subscription, delete_topic, subscribe,
        };
        let c = store();
        let topic = |arn: &str| Topic {
            arn: arn.into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            name: "t".into(),
            policy: "{}".into(),
            attributes: "{}".into(),
        };
        let sub = |arn: &str, topic: &str| Subscription {
            arn: arn.into(),
            topic_arn: topic.into(),
            protocol: "http".into(),
            endpoint: "http://127.0.0.1:9/".into(),
            token: "tok".into(),
            confirmed: true,
            attributes: "{}".into(),
            base_url: String::new(),
            authenticated_unsubscribe: false,
        };
        create_topic(&c, &topic("t1"), 0.0).unwrap();
        create_topic(&c, &topic("t2"), 0.0).unwrap();
        subscribe(&c, &sub("s1", "t1")).unwrap();
        subscribe(&c, &sub("s2", "t1")).unwrap();
        subscribe(&c, &sub("s3", "t2")).unwrap();
        for s in ["s1", "s2", "s3"] {
            enqueue(&c, s, ("m", None), "{}", (1, 1), 10).unwrap();
        }
        assert!(delete_subscription(&c, "s1").unwrap());
        assert!(entries(&c, "s1").unwrap().is_empty());
        delete_topic(&c, "t1").unwrap();
        assert!(entries(&c, "s2").unwrap().is_empty());
        assert_eq!(
            entries(&c, "s3").unwrap().len(),
            1,
            "another topic's queue stays"
        );
    }
}
