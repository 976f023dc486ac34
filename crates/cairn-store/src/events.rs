//! The event log: append, look up, expire.
//!
//! Every event gets the next sequence number after the chain head (`event_chain`), never
//! reused: seqs are gapless and monotonic across restarts, `VACUUM` and retention. Each row
//! also carries its running hash ([`chain`]); retention ([`retention`]) deletes only a
//! prefix of the log that every trail has delivered, and [`verify`] checks the chain.

pub mod chain;
pub(crate) mod reindex;
pub mod retention;
pub mod verify;

use rusqlite::{Connection, params};

use crate::StoreResult;

pub use retention::{expire_before, newest_event_time, undelivered_floor};
pub use verify::{BreakKind, ChainBreak, verify_chain};

/// What to index about an event besides its canonical record.
pub struct NewEvent<'a> {
    /// `eventID`.
    pub event_id: &'a str,
    /// Epoch seconds of `eventTime`.
    pub event_time: i64,
    /// Recipient account.
    pub account: &'a str,
    /// `awsRegion`.
    pub region: &'a str,
    /// `eventCategory`.
    pub category: &'a str,
    /// `eventName`.
    pub event_name: &'a str,
    /// `eventSource`.
    pub event_source: &'a str,
    /// `"true"` or `"false"`.
    pub read_only: &'a str,
    /// LookupEvents `Username`.
    pub username: &'a str,
    /// `userIdentity.accessKeyId`.
    pub access_key_id: &'a str,
    /// LookupEvents resources: (type, name).
    pub resources: &'a [(String, String)],
    /// The canonical record JSON.
    pub record: &'a str,
    /// SHA-256 of `record` ([`chain::record_hash`]), computed by the caller, off the writer.
    pub record_hash: [u8; 32],
}

/// The seq the next appended event will get.
pub fn next_seq(conn: &Connection) -> StoreResult<i64> {
    Ok(chain::head(conn)?.seq + 1)
}

/// Appends one event after the chain head and advances the head. Returns its seq.
pub fn append(conn: &Connection, event: &NewEvent<'_>) -> StoreResult<i64> {
    let head = chain::head(conn)?;
    let seq = head.seq + 1;
    let link = chain::link(&head.chain, seq, &event.record_hash);
    let mut insert = conn.prepare_cached(
        "INSERT INTO events (seq, event_id, event_time, account, region, category, event_name,
             event_source, read_only, username, access_key_id, record, chain)
         VALUES (?12, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13)",
    )?;
    insert.execute(params![
        event.event_id,
        event.event_time,
        event.account,
        event.region,
        event.category,
        event.event_name,
        event.event_source,
        event.read_only,
        event.username,
        event.access_key_id,
        event.record,
        seq,
        &link[..],
    ])?;
    let mut res = conn.prepare_cached(
        "INSERT INTO event_resources (seq, account, region, category, event_time, resource_type, resource_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (rtype, rname) in event.resources {
        res.execute(params![
            seq,
            event.account,
            event.region,
            event.category,
            event.event_time,
            rtype,
            rname
        ])?;
    }
    chain::set_head(conn, &chain::ChainPoint { seq, chain: link })?;
    Ok(seq)
}

/// The one lookup attribute of a LookupEvents call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupFilter {
    /// No attribute.
    All,
    /// `EventId`.
    EventId(String),
    /// `EventName`.
    EventName(String),
    /// `ReadOnly`.
    ReadOnly(String),
    /// `Username`.
    Username(String),
    /// `ResourceType`.
    ResourceType(String),
    /// `ResourceName`.
    ResourceName(String),
    /// `EventSource`.
    EventSource(String),
    /// `AccessKeyId`.
    AccessKeyId(String),
}

/// A LookupEvents page request.
pub struct LookupQuery<'a> {
    /// Account.
    pub account: &'a str,
    /// Region.
    pub region: &'a str,
    /// Event category (`Management`).
    pub category: &'a str,
    /// The attribute filter.
    pub filter: &'a LookupFilter,
    /// Inclusive lower bound, epoch seconds.
    pub start: i64,
    /// Inclusive upper bound, epoch seconds.
    pub end: i64,
    /// Continue strictly after (older than) this (event_time, seq) position.
    pub after: Option<(i64, i64)>,
    /// Page size.
    pub limit: usize,
}

/// An event as LookupEvents needs it.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    /// Sequence number.
    pub seq: i64,
    /// Epoch seconds.
    pub event_time: i64,
    /// `eventID`.
    pub event_id: String,
    /// `eventName`.
    pub event_name: String,
    /// `eventSource`.
    pub event_source: String,
    /// `"true"`/`"false"`.
    pub read_only: String,
    /// LookupEvents username.
    pub username: String,
    /// Access key id.
    pub access_key_id: String,
    /// Canonical record.
    pub record: String,
    /// (type, name) pairs.
    pub resources: Vec<(String, String)>,
}

const EVENT_COLUMNS: &str = "e.seq, e.event_time, e.event_id, e.event_name, e.event_source, e.read_only, e.username, e.access_key_id, e.record";

/// Returns one page, newest first.
pub fn lookup(conn: &Connection, q: &LookupQuery<'_>) -> StoreResult<Vec<StoredEvent>> {
    let (after_time, after_seq) = q.after.unwrap_or((i64::MAX, i64::MAX));
    let position = "(e.event_time < ?6 OR (e.event_time = ?6 AND e.seq < ?7))";
    let base =
        "e.account = ?1 AND e.region = ?2 AND e.category = ?3 AND e.event_time BETWEEN ?4 AND ?5";
    let (sql, value) = match q.filter {
        LookupFilter::All => (
            format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE {base} AND {position} AND ?8 = ?8 ORDER BY e.event_time DESC, e.seq DESC LIMIT ?9"
            ),
            String::new(),
        ),
        LookupFilter::ResourceType(v) | LookupFilter::ResourceName(v) => {
            let column = if matches!(q.filter, LookupFilter::ResourceType(_)) {
                "resource_type"
            } else {
                "resource_name"
            };
            (
                format!(
                    "SELECT {EVENT_COLUMNS} FROM events e WHERE e.seq IN (
                        SELECT DISTINCT r.seq FROM event_resources r
                        WHERE r.account = ?1 AND r.region = ?2 AND r.category = ?3 AND r.{column} = ?8
                          AND r.event_time BETWEEN ?4 AND ?5
                          AND (r.event_time < ?6 OR (r.event_time = ?6 AND r.seq < ?7))
                        ORDER BY r.event_time DESC, r.seq DESC LIMIT ?9)
                     ORDER BY e.event_time DESC, e.seq DESC"
                ),
                v.clone(),
            )
        }
        other => {
            // Each attribute names its index: without statistics SQLite's planner prefers
            // events_by_time (it satisfies the ORDER BY) and filters, which on a million
            // events is 30x slower for a rare value.
            let (column, index, v) = match other {
                LookupFilter::EventId(v) => ("event_id", "sqlite_autoindex_events_1", v),
                LookupFilter::EventName(v) => ("event_name", "events_by_name", v),
                LookupFilter::ReadOnly(v) => ("read_only", "events_by_read_only", v),
                LookupFilter::Username(v) => ("username", "events_by_username", v),
                LookupFilter::EventSource(v) => ("event_source", "events_by_source", v),
                LookupFilter::AccessKeyId(v) => ("access_key_id", "events_by_key", v),
                LookupFilter::All
                | LookupFilter::ResourceType(_)
                | LookupFilter::ResourceName(_) => {
                    unreachable!("handled above")
                }
            };
            (
                format!(
                    "SELECT {EVENT_COLUMNS} FROM events e INDEXED BY {index} WHERE {base} AND {position} AND e.{column} = ?8 ORDER BY e.event_time DESC, e.seq DESC LIMIT ?9"
                ),
                v.clone(),
            )
        }
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            q.account,
            q.region,
            q.category,
            q.start,
            q.end,
            after_time,
            after_seq,
            value,
            q.limit as i64
        ],
        |r| {
            Ok(StoredEvent {
                seq: r.get(0)?,
                event_time: r.get(1)?,
                event_id: r.get(2)?,
                event_name: r.get(3)?,
                event_source: r.get(4)?,
                read_only: r.get(5)?,
                username: r.get(6)?,
                access_key_id: r.get(7)?,
                record: r.get(8)?,
                resources: Vec::new(),
            })
        },
    )?;
    let mut events = rows.collect::<Result<Vec<_>, _>>()?;
    attach_resources(conn, &mut events)?;
    Ok(events)
}

/// Fills in each event's resources with one query for the whole page.
fn attach_resources(conn: &Connection, events: &mut [StoredEvent]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let seqs = serde_json::to_string(&events.iter().map(|e| e.seq).collect::<Vec<_>>())
        .expect("integers serialise");
    let mut stmt = conn.prepare_cached(
        "SELECT seq, resource_type, resource_name FROM event_resources
         WHERE seq IN (SELECT value FROM json_each(?1)) ORDER BY rowid",
    )?;
    let mut by_seq: std::collections::HashMap<i64, Vec<(String, String)>> =
        std::collections::HashMap::new();
    let rows = stmt.query_map([seqs], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))?;
    for row in rows {
        let (seq, rtype, rname) = row?;
        by_seq.entry(seq).or_default().push((rtype, rname));
    }
    for event in events {
        event.resources = by_seq.remove(&event.seq).unwrap_or_default();
    }
    Ok(())
}

/// Number of stored events (any category).
pub fn count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)
}

/// Whether an event id exists.
pub fn exists(conn: &Connection, event_id: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM events WHERE event_id = ?1")?
        .exists([event_id])?)
}

/// Canonical records of one category in commit order (for `cairn events`).
pub fn records(
    conn: &Connection,
    category: &str,
    after_seq: i64,
    limit: usize,
) -> StoreResult<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, record FROM events WHERE category = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![category, after_seq, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal management event for store tests.
    pub(crate) fn event(id: &str, time: i64) -> NewEvent<'_> {
        NewEvent {
            event_id: id,
            event_time: time,
            account: "123456789012",
            region: "us-east-1",
            category: "Management",
            event_name: "ListTrails",
            event_source: "cloudtrail.amazonaws.com",
            read_only: "true",
            username: "root",
            access_key_id: "AKID",
            resources: &[],
            record: "{}",
            record_hash: chain::record_hash("{}"),
        }
    }

    #[test]
    fn seqs_are_gapless_and_survive_reopening_and_vacuum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let store = crate::Store::open(&path).unwrap();
            let seqs: Vec<i64> = store
                .write_blocking(|c| {
                    (0..3)
                        .map(|i| append(c, &event(&format!("e{i}"), 1_000)).unwrap())
                        .collect()
                })
                .unwrap();
            assert_eq!(seqs, vec![1, 2, 3]);
            let gone = store
                .write_blocking(|c| expire_before(c, 2_000, 100).unwrap())
                .unwrap();
            assert_eq!(gone, 3, "nothing holds these events back");
        }
        let conn = Connection::open(&path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        conn.execute_batch("VACUUM").unwrap();
        drop(conn);
        let store = crate::Store::open(&path).unwrap();
        let seq = store
            .write_blocking(|c| append(c, &event("after", 3_000)).unwrap())
            .unwrap();
        assert_eq!(seq, 4, "an emptied log does not reuse seqs");
    }
}
