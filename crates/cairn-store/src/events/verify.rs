//! Checking the event chain: a deleted, inserted or edited event, or index columns that
//! disagree with the record they index.
//!
//! [`verify_chain`] checks a seq range before delivery writes it; [`verify_all`] checks the
//! whole retained log from the anchor to the head (`cairn verify-store`). Both stream rows,
//! so memory stays flat however large the log is.

use std::fmt;
use std::iter::Peekable;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::chain::{self, ChainPoint, link, record_hash};
use crate::StoreResult;

/// What is wrong at a seq.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakKind {
    /// Events `first..=last` are missing.
    Deleted {
        /// First missing seq.
        first: i64,
        /// Last missing seq.
        last: i64,
    },
    /// The record changed after it was chained (its chain value still links the next event).
    Edited,
    /// A row the chain does not account for: no chain value, a seq outside the chain, or a
    /// chain value that neither follows from its predecessor nor leads to its successor.
    Inserted,
    /// The head in `meta` does not match the newest event.
    HeadMismatch,
    /// The indexed columns LookupEvents filters on disagree with the record.
    IndexMismatch(String),
    /// The store could not be read.
    Unreadable(String),
}

/// A break in the chain, at an event seq.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// Where.
    pub seq: i64,
    /// What.
    pub kind: BreakKind,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        match &self.kind {
            BreakKind::Deleted { first, last } if first == last => {
                write!(f, "seq {first}: event deleted")
            }
            BreakKind::Deleted { first, last } => {
                write!(
                    f,
                    "seq {first}..{last}: {} events deleted",
                    last - first + 1
                )
            }
            BreakKind::Edited => write!(
                f,
                "seq {seq}: event edited (record does not match its chain value)"
            ),
            BreakKind::Inserted => write!(f, "seq {seq}: event inserted (not part of the chain)"),
            BreakKind::HeadMismatch => {
                write!(f, "seq {seq}: chain head does not match the newest event")
            }
            BreakKind::IndexMismatch(what) => write!(
                f,
                "seq {seq}: index column {what} disagrees with the record"
            ),
            BreakKind::Unreadable(e) => write!(f, "seq {seq}: store unreadable: {e}"),
        }
    }
}

impl std::error::Error for ChainBreak {}

/// One stored event as the checks need it.
struct Row {
    seq: i64,
    record: String,
    chain: Option<[u8; 32]>,
    columns: Option<Columns>,
}

/// The indexed columns of a row (for [`verify_all`]).
struct Columns {
    values: Vec<(&'static str, String)>,
    /// Disagreements of the username and resource rows with the record, as the caller's
    /// [`IndexRules`] judged them.
    judged: Vec<String>,
}

/// The caller's judgement of an event's `username` column and `event_resources` rows
/// against its record: a description of each that disagrees. The rules that make these
/// index entries live above the store (`cairn_core::record::index_check`).
pub type IndexRules<'a> = &'a dyn Fn(&Value, &str, &[(String, String)]) -> Vec<String>;

fn chain_value(bytes: Option<Vec<u8>>) -> Option<[u8; 32]> {
    bytes.and_then(|b| b.try_into().ok())
}

/// Walks rows in seq order from `previous`, collecting breaks; `previous` ends at the last
/// chained row.
struct Walk {
    previous: ChainPoint,
    anchor: i64,
    head: Option<ChainPoint>,
    legacy_upto: i64,
    breaks: Vec<ChainBreak>,
}

impl Walk {
    fn run(&mut self, rows: impl Iterator<Item = StoreResult<Row>>) -> StoreResult<()> {
        let mut rows: Peekable<_> = rows.peekable();
        while let Some(row) = rows.next() {
            let row = row?;
            if let Some(columns) = &row.columns {
                self.check_columns(&row, columns);
            }
            let outside = row.seq <= self.anchor || self.head.is_some_and(|h| row.seq > h.seq);
            let Some(stored) = row.chain.filter(|_| !outside) else {
                self.breaks.push(ChainBreak {
                    seq: row.seq,
                    kind: BreakKind::Inserted,
                });
                continue;
            };
            let gap = row.seq > self.previous.seq + 1 && row.seq - 1 > self.legacy_upto;
            if gap {
                self.breaks.push(ChainBreak {
                    seq: self.previous.seq + 1,
                    kind: BreakKind::Deleted {
                        first: self.previous.seq + 1,
                        last: row.seq - 1,
                    },
                });
            }
            let expected = link(&self.previous.chain, row.seq, &record_hash(&row.record));
            if expected != stored && !gap {
                let next_follows = match rows.peek() {
                    Some(Ok(next)) => next
                        .chain
                        .is_some_and(|c| c == link(&stored, next.seq, &record_hash(&next.record))),
                    _ => self
                        .head
                        .is_some_and(|h| h.seq == row.seq && h.chain == stored),
                };
                self.breaks.push(ChainBreak {
                    seq: row.seq,
                    kind: if next_follows {
                        BreakKind::Edited
                    } else {
                        BreakKind::Inserted
                    },
                });
            }
            self.previous = ChainPoint {
                seq: row.seq,
                chain: stored,
            };
        }
        Ok(())
    }

    fn check_columns(&mut self, row: &Row, columns: &Columns) {
        let Ok(record) = serde_json::from_str::<Value>(&row.record) else {
            self.breaks.push(ChainBreak {
                seq: row.seq,
                kind: BreakKind::IndexMismatch("record (not JSON)".into()),
            });
            return;
        };
        // An Insights event names the API it is about inside `insightDetails` and has no
        // `readOnly`; its index columns take those (read-only `false`).
        let insight = record
            .get("insightDetails")
            .filter(|_| record.get("eventCategory").and_then(Value::as_str) == Some("Insight"));
        for (name, value) in &columns.values {
            let from_record = match (*name, insight) {
                ("event_name", Some(d)) => d
                    .get("eventName")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                ("event_source", Some(d)) => d
                    .get("eventSource")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                ("read_only", Some(_)) => Some("false".to_owned()),
                _ => None,
            };
            let from_record = from_record.or_else(|| match *name {
                "read_only" => record
                    .get("readOnly")
                    .and_then(Value::as_bool)
                    .map(|b| b.to_string()),
                "access_key_id" => Some(
                    record
                        .pointer("/userIdentity/accessKeyId")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                ),
                "event_time" => record
                    .get("eventTime")
                    .and_then(Value::as_str)
                    .and_then(epoch_of_event_time)
                    .map(|t| t.to_string()),
                field => record
                    .get(record_field(field))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
            if from_record.as_deref() != Some(value.as_str()) {
                self.breaks.push(ChainBreak {
                    seq: row.seq,
                    kind: BreakKind::IndexMismatch((*name).to_owned()),
                });
            }
        }
        for what in &columns.judged {
            self.breaks.push(ChainBreak {
                seq: row.seq,
                kind: BreakKind::IndexMismatch(what.clone()),
            });
        }
    }
}

fn record_field(column: &str) -> &'static str {
    match column {
        "event_id" => "eventID",
        "account" => "recipientAccountId",
        "region" => "awsRegion",
        "category" => "eventCategory",
        "event_name" => "eventName",
        _ => "eventSource",
    }
}

/// Epoch seconds of a record `eventTime` (`YYYY-MM-DDTHH:MM:SSZ`), without a date library:
/// days from the civil date (Howard Hinnant's algorithm).
fn epoch_of_event_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3_600 + mm * 60 + ss)
}

/// Checks that events `from..=to` are all present, unedited and chained to the event
/// before them (or to the retention anchor). Delivery calls this before it writes a file.
pub fn verify_chain(conn: &Connection, from: i64, to: i64) -> Result<(), ChainBreak> {
    let unreadable = |e: crate::StoreError| ChainBreak {
        seq: from,
        kind: BreakKind::Unreadable(e.to_string()),
    };
    let anchor = chain::anchor(conn).map_err(unreadable)?;
    let legacy_upto = chain::legacy_upto(conn).map_err(unreadable)?;
    let previous = if from - 1 <= anchor.seq {
        anchor
    } else {
        let before: Option<Option<Vec<u8>>> = conn
            .prepare_cached("SELECT chain FROM events WHERE seq < ?1 ORDER BY seq DESC LIMIT 1")
            .and_then(|mut s| s.query_row([from], |r| r.get(0)).optional())
            .map_err(|e| unreadable(e.into()))?;
        let Some(chain) = before.flatten().and_then(|b| b.try_into().ok()) else {
            return Err(ChainBreak {
                seq: from - 1,
                kind: BreakKind::Deleted {
                    first: anchor.seq + 1,
                    last: from - 1,
                },
            });
        };
        let seq: i64 = conn
            .query_row("SELECT max(seq) FROM events WHERE seq < ?1", [from], |r| {
                r.get(0)
            })
            .map_err(|e| unreadable(e.into()))?;
        ChainPoint { seq, chain }
    };
    let mut walk = Walk {
        previous,
        anchor: anchor.seq,
        head: None,
        legacy_upto,
        breaks: Vec::new(),
    };
    let result = (|| -> StoreResult<()> {
        let mut stmt = conn.prepare_cached(
            "SELECT seq, record, chain FROM events WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![from, to], |r| {
            Ok(Row {
                seq: r.get(0)?,
                record: r.get(1)?,
                chain: chain_value(r.get(2)?),
                columns: None,
            })
        })?;
        walk.run(rows.map(|r| r.map_err(Into::into)))
    })();
    result.map_err(unreadable)?;
    if walk.previous.seq < to && to > legacy_upto {
        walk.breaks.push(ChainBreak {
            seq: walk.previous.seq + 1,
            kind: BreakKind::Deleted {
                first: walk.previous.seq + 1,
                last: to,
            },
        });
    }
    match walk.breaks.into_iter().next() {
        Some(b) => Err(b),
        None => Ok(()),
    }
}

/// What [`verify_store`] found.
#[derive(Clone, Debug)]
pub struct StoreReport {
    /// The retention anchor.
    pub anchor: ChainPoint,
    /// The chain head.
    pub head: ChainPoint,
    /// Stored events.
    pub events: i64,
    /// Every break, in seq order.
    pub breaks: Vec<ChainBreak>,
}

/// Opens the database at `path` read-only (never creating or migrating it) and checks it
/// with [`verify_all_with`]. A store that predates the chain (schema version below 5) is an
/// error.
pub fn verify_store(path: &std::path::Path, rules: IndexRules<'_>) -> StoreResult<StoreReport> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == 0 {
        return Err(crate::StoreError::Incompatible(
            "it holds no Cairn schema (another program's database?): a server refuses it too"
                .to_owned(),
        ));
    }
    if version < 5 {
        return Err(crate::StoreError::Corrupt(format!(
            "schema version {version} has no event chain (a server of this version upgrades it at start)"
        )));
    }
    if version > crate::schema::LATEST {
        return Err(crate::StoreError::Incompatible(format!(
            "schema version {version} is newer than this cairn knows (schema {}): check it with \
             the Cairn version that upgraded it",
            crate::schema::LATEST
        )));
    }
    // One read transaction: a running server may append meanwhile.
    conn.execute_batch("BEGIN")?;
    let report = StoreReport {
        anchor: chain::anchor(&conn)?,
        head: chain::head(&conn)?,
        events: conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?,
        breaks: verify_all_with(&conn, rules)?,
    };
    conn.execute_batch("COMMIT")?;
    Ok(report)
}

/// Checks the whole retained log, from the anchor to the head, and every row's indexed
/// columns. Returns every break found, in seq order.
pub fn verify_all(conn: &Connection) -> StoreResult<Vec<ChainBreak>> {
    verify_all_with(conn, &|_, _, _| Vec::new())
}

/// [`verify_all`], with the username and resource rows judged by `rules`.
pub fn verify_all_with(conn: &Connection, rules: IndexRules<'_>) -> StoreResult<Vec<ChainBreak>> {
    let anchor = chain::anchor(conn)?;
    let head = chain::head(conn)?;
    let mut walk = Walk {
        previous: anchor,
        anchor: anchor.seq,
        head: Some(head),
        legacy_upto: chain::legacy_upto(conn)?,
        breaks: Vec::new(),
    };
    {
        let mut stmt = conn.prepare(
            "SELECT seq, record, chain, event_id, event_time, account, region, category,
                    event_name, event_source, read_only, access_key_id, username
             FROM events ORDER BY seq",
        )?;
        let mut resources_of = conn.prepare(
            "SELECT resource_type, resource_name, account, region, category, event_time
             FROM event_resources WHERE seq = ?1
             ORDER BY resource_type, resource_name",
        )?;
        let rows = stmt.query_map([], |r| {
            let mut values = Vec::with_capacity(9);
            for (i, name) in [
                (3, "event_id"),
                (5, "account"),
                (6, "region"),
                (7, "category"),
                (8, "event_name"),
                (9, "event_source"),
                (10, "read_only"),
                (11, "access_key_id"),
            ] {
                values.push((name, r.get::<_, String>(i)?));
            }
            values.push(("event_time", r.get::<_, i64>(4)?.to_string()));
            let seq: i64 = r.get(0)?;
            let record: String = r.get(1)?;
            let username: String = r.get(12)?;
            // A resource row repeats its event's account, region, category and time, which
            // a lookup filters on: a row moved to another region or time hides the event.
            let own = (
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, i64>(4)?,
            );
            let mut moved = false;
            let resources = resources_of
                .query_map([seq], |x| {
                    let place = (x.get(2)?, x.get(3)?, x.get(4)?, x.get(5)?);
                    Ok(((x.get(0)?, x.get(1)?), place))
                })?
                .map(|row| {
                    row.map(|(pair, place): (_, (String, String, String, i64))| {
                        moved |= place != own;
                        pair
                    })
                })
                .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
            let mut judged = serde_json::from_str::<Value>(&record)
                .map(|v| rules(&v, &username, &resources))
                .unwrap_or_default();
            if moved {
                judged.push(
                    "event_resources (account, region, category or time differ from the event's)"
                        .to_owned(),
                );
            }
            Ok(Row {
                seq,
                record,
                chain: chain_value(r.get(2)?),
                columns: Some(Columns { values, judged }),
            })
        })?;
        walk.run(rows.map(|r| r.map_err(Into::into)))?;
    }
    let last = walk.previous;
    if last.seq < head.seq && head.seq > walk.legacy_upto {
        walk.breaks.push(ChainBreak {
            seq: last.seq + 1,
            kind: BreakKind::Deleted {
                first: last.seq + 1,
                last: head.seq,
            },
        });
    } else if last.chain != head.chain {
        walk.breaks.push(ChainBreak {
            seq: head.seq,
            kind: BreakKind::HeadMismatch,
        });
    }
    walk.breaks.sort_by_key(|b| b.seq);
    Ok(walk.breaks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{NewEvent, append, expire_before};

    fn record(i: i64) -> String {
        format!(
            r#"{{"eventTime":"2024-01-01T00:00:{:02}Z","eventSource":"s","eventName":"n","awsRegion":"r","eventID":"e{i}","readOnly":true,"recipientAccountId":"a","eventCategory":"Management","userIdentity":{{"accessKeyId":"k"}}}}"#,
            i % 60
        )
    }

    /// A store with events 1..=n whose index columns match their records.
    fn store(n: i64) -> (tempfile::TempDir, crate::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("t.db")).unwrap();
        store
            .write_blocking(move |c| {
                for i in 1..=n {
                    let rec = record(i);
                    let id = format!("e{i}");
                    append(
                        c,
                        &NewEvent {
                            event_id: &id,
                            event_time: 1_704_067_200 + i % 60,
                            account: "a",
                            region: "r",
                            category: "Management",
                            event_name: "n",
                            event_source: "s",
                            read_only: "true",
                            username: "u",
                            access_key_id: "k",
                            resources: &[],
                            record: &rec,
                            record_hash: record_hash(&rec),
                        },
                    )
                    .unwrap();
                }
            })
            .unwrap();
        (dir, store)
    }

    fn tamper(dir: &tempfile::TempDir, sql: &str) {
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        conn.execute_batch(sql).unwrap();
    }

    fn all(store: &crate::Store) -> Vec<ChainBreak> {
        store.read_blocking(verify_all).unwrap()
    }

    #[test]
    fn an_intact_log_verifies_whole_and_in_ranges() {
        let (_dir, store) = store(20);
        assert_eq!(all(&store), vec![]);
        assert_eq!(
            store.read_blocking(|c| Ok(verify_chain(c, 1, 20))).unwrap(),
            Ok(())
        );
        assert_eq!(
            store.read_blocking(|c| Ok(verify_chain(c, 7, 9))).unwrap(),
            Ok(())
        );
        store
            .write_blocking(|c| expire_before(c, i64::MAX, 5).unwrap())
            .unwrap();
        assert_eq!(all(&store), vec![], "verifies from the retention anchor");
        assert_eq!(
            store.read_blocking(|c| Ok(verify_chain(c, 6, 8))).unwrap(),
            Ok(())
        );
    }

    #[test]
    fn an_edited_record_is_reported_at_its_seq() {
        let (dir, store) = store(10);
        tamper(
            &dir,
            "UPDATE events SET record = replace(record, '\"n\"', '\"m\"') WHERE seq = 4",
        );
        let breaks = all(&store);
        assert!(
            breaks.contains(&ChainBreak {
                seq: 4,
                kind: BreakKind::Edited
            }),
            "{breaks:?}"
        );
        assert_eq!(
            store.read_blocking(|c| Ok(verify_chain(c, 3, 6))).unwrap(),
            Err(ChainBreak {
                seq: 4,
                kind: BreakKind::Edited
            })
        );
        assert_eq!(
            store.read_blocking(|c| Ok(verify_chain(c, 5, 10))).unwrap(),
            Ok(())
        );
    }

    #[test]
    fn an_edited_index_column_is_reported() {
        let (dir, store) = store(5);
        tamper(
            &dir,
            "UPDATE events SET event_name = 'Hidden' WHERE seq = 2",
        );
        assert_eq!(
            all(&store),
            vec![ChainBreak {
                seq: 2,
                kind: BreakKind::IndexMismatch("event_name".into())
            }]
        );
    }

    #[test]
    fn deleted_events_are_reported_in_the_middle_and_at_the_end() {
        let (dir, store) = store(10);
        tamper(&dir, "DELETE FROM events WHERE seq IN (4, 5)");
        assert_eq!(
            all(&store),
            vec![ChainBreak {
                seq: 4,
                kind: BreakKind::Deleted { first: 4, last: 5 }
            }]
        );
        assert_eq!(
            store.read_blocking(|c| Ok(verify_chain(c, 3, 6))).unwrap(),
            Err(ChainBreak {
                seq: 4,
                kind: BreakKind::Deleted { first: 4, last: 5 }
            })
        );
        tamper(&dir, "DELETE FROM events WHERE seq >= 9");
        assert!(all(&store).contains(&ChainBreak {
            seq: 9,
            kind: BreakKind::Deleted { first: 9, last: 10 }
        }));
        tamper(&dir, "DELETE FROM events WHERE seq = 1");
        assert!(all(&store).contains(&ChainBreak {
            seq: 1,
            kind: BreakKind::Deleted { first: 1, last: 1 }
        }));
    }

    #[test]
    fn inserted_events_are_reported() {
        let (dir, store) = store(6);
        // A copy of seq 3 renumbered past the head, with its chain value.
        tamper(
            &dir,
            "INSERT INTO events (seq, event_id, event_time, account, region, category, event_name,
                 event_source, read_only, username, access_key_id, record, chain)
             SELECT 7, 'forged', event_time, account, region, category, event_name, event_source,
                 read_only, username, access_key_id, record, chain FROM events WHERE seq = 3",
        );
        let breaks = all(&store);
        assert!(
            breaks.contains(&ChainBreak {
                seq: 7,
                kind: BreakKind::Inserted
            }),
            "{breaks:?}"
        );
        // Rewriting seq 4 with another event and a made-up chain value.
        tamper(
            &dir,
            "DELETE FROM events WHERE seq = 7; UPDATE events SET chain = zeroblob(32), record = replace(record, 'e4', 'zz') WHERE seq = 4",
        );
        let breaks = all(&store);
        assert!(
            breaks.contains(&ChainBreak {
                seq: 4,
                kind: BreakKind::Inserted
            }),
            "{breaks:?}"
        );
    }

    #[test]
    fn event_times_convert_like_chrono() {
        assert_eq!(
            epoch_of_event_time("2024-01-01T00:00:00Z"),
            Some(1_704_067_200)
        );
        assert_eq!(epoch_of_event_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            epoch_of_event_time("2026-11-24T13:45:07Z"),
            Some(1_795_527_907)
        );
        assert_eq!(
            epoch_of_event_time("2024-02-29T23:59:59Z"),
            Some(1_709_251_199)
        );
        assert_eq!(epoch_of_event_time("bad"), None);
    }
}
