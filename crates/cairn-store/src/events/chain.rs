//! The event chain: every event's running hash, fixed when it commits.
//!
//! `chain(n) = SHA-256(chain(n-1) || seq(n) as 8 big-endian bytes || SHA-256(record(n)))`.
//! The head (seq and chain of the newest event) and the anchor (seq and chain of the last
//! event retention deleted, or seq 0 and 32 zero bytes) are kept in `event_chain`, updated
//! in the transaction that appends or expires. So the retained log always verifies from the
//! anchor to the head, and the head's seq is the high-water mark new seqs continue from.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::{StoreError, StoreResult, meta};

/// `event_chain` row ids.
const HEAD: i64 = 1;
const ANCHOR: i64 = 2;
/// Events with seqs up to this value were chained by the version-5 migration, not at
/// commit: gaps among them come from the older, time-based retention and are not breaks.
const LEGACY_UPTO: &str = "events.legacy_upto";

/// A position in the chain: a seq and the chain value after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainPoint {
    /// Event seq.
    pub seq: i64,
    /// Running hash after that event.
    pub chain: [u8; 32],
}

impl ChainPoint {
    /// The start of a chain: seq 0, 32 zero bytes.
    pub const GENESIS: ChainPoint = ChainPoint {
        seq: 0,
        chain: [0; 32],
    };
}

/// SHA-256 of a canonical record.
pub fn record_hash(record: &str) -> [u8; 32] {
    Sha256::digest(record.as_bytes()).into()
}

/// The chain value after appending the event `seq` whose record hashes to `record_hash`.
pub fn link(previous: &[u8; 32], seq: i64, record_hash: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(previous);
    h.update(seq.to_be_bytes());
    h.update(record_hash);
    h.finalize().into()
}

fn point(conn: &Connection, id: i64) -> StoreResult<ChainPoint> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, chain FROM event_chain WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Ok(ChainPoint::GENESIS),
        Some((seq, chain)) => Ok(ChainPoint {
            seq,
            chain: chain
                .try_into()
                .map_err(|_| StoreError::Corrupt(format!("event_chain row {id}")))?,
        }),
    }
}

/// The newest event's seq and chain (genesis for an empty, never-written log).
pub fn head(conn: &Connection) -> StoreResult<ChainPoint> {
    point(conn, HEAD)
}

/// The last expired event's seq and chain (genesis if retention never deleted anything).
pub fn anchor(conn: &Connection) -> StoreResult<ChainPoint> {
    point(conn, ANCHOR)
}

fn set_point(conn: &Connection, id: i64, p: &ChainPoint) -> StoreResult<()> {
    conn.prepare_cached("UPDATE event_chain SET seq = ?2, chain = ?3 WHERE id = ?1")?
        .execute(params![id, p.seq, &p.chain[..]])?;
    Ok(())
}

pub(crate) fn set_head(conn: &Connection, head: &ChainPoint) -> StoreResult<()> {
    set_point(conn, HEAD, head)
}

pub(crate) fn set_anchor(conn: &Connection, anchor: &ChainPoint) -> StoreResult<()> {
    set_point(conn, ANCHOR, anchor)
}

/// Seqs at or below this were chained by the migration (0 when none were).
pub fn legacy_upto(conn: &Connection) -> StoreResult<i64> {
    Ok(meta::get(conn, LEGACY_UPTO)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Events the chain does not account for, as (first seq, count): rows past the head or
/// without a chain value. Only a binary older than the chain (schema 4) appends such rows,
/// when it is started on a data dir a newer one upgraded (it knows neither the chain nor the
/// schema version); every later binary chains what it appends.
pub fn unchained(conn: &Connection) -> StoreResult<Option<(i64, i64)>> {
    // One snapshot for the head and the counts: a server beside an admin command commits
    // events and moves the head between two statements read outside a transaction, which
    // would look like events past the head.
    if !conn.is_autocommit() {
        return unchained_in(conn);
    }
    conn.execute_batch("BEGIN")?;
    let found = unchained_in(conn);
    conn.execute_batch(if found.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    found
}

fn unchained_in(conn: &Connection) -> StoreResult<Option<(i64, i64)>> {
    let head = head(conn)?;
    let (past, first_past): (i64, Option<i64>) = conn.query_row(
        "SELECT count(*), min(seq) FROM events WHERE seq > ?1",
        [head.seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (within, first_within): (i64, Option<i64>) = conn.query_row(
        "SELECT count(*), min(seq) FROM events WHERE chain IS NULL AND seq <= ?1",
        [head.seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let first = match (first_past, first_within) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(first.map(|f| (f, past + within)))
}

/// Chains the events of a store written before version 5, in seq order, and sets the head
/// above every seq a trail or cursor already refers to (older versions could reuse seqs
/// after retention emptied the log; new events must never collide with those references).
pub(crate) fn backfill(conn: &Connection) -> StoreResult<()> {
    let referenced: i64 = conn.query_row(
        "SELECT max(
             coalesce((SELECT max(seq) FROM events), 0),
             coalesce((SELECT max(seq) FROM delivery_cursors), 0),
             coalesce((SELECT max(max(coalesce(json_extract(w.value, '$.end_seq'), 0),
                                      coalesce(json_extract(w.value, '$.start_seq'), 0)))
                       FROM trails t, json_each(t.body, '$.trail.status.windows') w), 0))",
        [],
        |r| r.get(0),
    )?;
    let first: Option<i64> = conn.query_row("SELECT min(seq) FROM events", [], |r| r.get(0))?;
    let mut previous = ChainPoint {
        seq: first.map_or(referenced, |f| f - 1),
        chain: [0; 32],
    };
    set_anchor(conn, &previous)?;
    // In pages, so no row is updated while a statement is scanning its table.
    let mut page =
        conn.prepare("SELECT seq, record FROM events WHERE seq > ?1 ORDER BY seq LIMIT 1000")?;
    let mut update = conn.prepare("UPDATE events SET chain = ?2 WHERE seq = ?1")?;
    let mut after = i64::MIN;
    loop {
        let rows = page
            .query_map([after], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let Some((last, _)) = rows.last() else {
            break;
        };
        after = *last;
        for (seq, record) in rows {
            let chain = link(&previous.chain, seq, &record_hash(&record));
            update.execute(rusqlite::params![seq, &chain[..]])?;
            previous = ChainPoint { seq, chain };
        }
    }
    set_head(
        conn,
        &ChainPoint {
            seq: previous.seq.max(referenced),
            chain: previous.chain,
        },
    )?;
    if referenced > 0 {
        meta::put(conn, LEGACY_UPTO, &referenced.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server committing events while an admin command checks the chain (between the
    /// check's reads) is not taken for events outside the chain.
    #[test]
    fn a_commit_during_the_check_is_not_taken_for_unchained_events() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cairn.db");
        let store = crate::Store::open(&path).unwrap();
        store
            .write_blocking(|c| crate::events::append(c, &crate::events::tests::event("first", 1)))
            .unwrap()
            .unwrap();
        let mut reader = Connection::open(&path).unwrap();
        // Warm: the schema loaded and the statements prepared, so the first step the handler
        // sees is the check's first read.
        assert_eq!(unchained(&reader).unwrap(), None);
        let writer = store.clone();
        let fired = std::sync::atomic::AtomicBool::new(false);
        reader
            .progress_handler(
                1,
                Some(move || {
                    if !fired.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        writer
                            .write_blocking(|c| {
                                crate::events::append(c, &crate::events::tests::event("second", 2))
                            })
                            .unwrap()
                            .unwrap();
                    }
                    false
                }),
            )
            .unwrap();
        assert_eq!(unchained(&reader).unwrap(), None);
        reader.progress_handler(1, None::<fn() -> bool>).unwrap();
        assert_eq!(unchained(&reader).unwrap(), None, "both events chained");
        assert_eq!(head(&reader).unwrap().seq, 2);
    }

    #[test]
    fn links_depend_on_every_input() {
        let base = link(&[0; 32], 1, &record_hash("a"));
        assert_ne!(base, link(&[1; 32], 1, &record_hash("a")));
        assert_ne!(base, link(&[0; 32], 2, &record_hash("a")));
        assert_ne!(base, link(&[0; 32], 1, &record_hash("b")));
    }

    #[test]
    fn a_version_4_store_is_chained_and_continues_above_its_references() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            crate::schema::migrate_to(&conn, 4).unwrap();
            conn.execute_batch(
                "INSERT INTO events (seq, event_id, event_time, account, region, category, event_name,
                     event_source, read_only, username, access_key_id, record)
                 VALUES (5, 'a', 1, 'x', 'r', 'Management', 'n', 's', 'true', 'u', 'k', '{\"a\":1}'),
                        (7, 'b', 1, 'x', 'r', 'Management', 'n', 's', 'true', 'u', 'k', '{\"b\":2}');
                 INSERT INTO delivery_cursors (trail_arn, seq) VALUES ('arn', 9);",
            )
            .unwrap();
        }
        let store = crate::Store::open(&path).unwrap();
        let (anchor, head, legacy) = store
            .read_blocking(|c| Ok((anchor(c)?, head(c)?, legacy_upto(c)?)))
            .unwrap();
        assert_eq!(anchor.seq, 4);
        assert_eq!(head.seq, 9, "above the cursor that referred to seq 9");
        assert_eq!(legacy, 9);
        let five = link(&[0; 32], 5, &record_hash("{\"a\":1}"));
        assert_eq!(head.chain, link(&five, 7, &record_hash("{\"b\":2}")));
        let seq = store
            .write_blocking(|c| {
                crate::events::append(c, &crate::events::tests::event("new", 2)).unwrap()
            })
            .unwrap();
        assert_eq!(seq, 10);
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
}
