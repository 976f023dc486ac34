//! Planning log files: which events each trail takes, cut into files, and the cursor
//! advance — decided on a reader, committed on the writer.
//!
//! Routing reads each event after the trail's cursor one record at a time (nothing but the
//! current record is held), so the writer never waits for it. The writer job only checks
//! that nobody planned meanwhile (same trail, same cursor) and inserts the plan: seq lists,
//! keys and the new cursor, in one transaction.
//!
//! A record that cannot be read or parsed inside a trail's logging window stops that trail
//! just before it: the cursor does not pass it, the trail's status shows `InternalError`,
//! and the next step tries again (so a repaired record is delivered in order).

use std::collections::BTreeMap;

use cairn_core::routing;
use cairn_logfile::keys;
use cairn_model::trail::Trail;
use cairn_store::{Connection, StoreResult, delivery, trails};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// How big files and steps may get.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Most events in one file.
    pub max_events_per_file: usize,
    /// Most uncompressed bytes in one file (a single larger record still gets its own file).
    pub max_file_bytes: usize,
    /// Most events one trail examines per step (the rest wait for the next step).
    pub max_events_per_step: usize,
}

/// Whose files these are.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Owner {
    /// A trail that exists: cursor in `delivery_cursors`, expected value at planning time.
    Live {
        /// The cursor row as read (`None`: never planned).
        cursor: Option<i64>,
    },
    /// A deleted trail still draining.
    Retired {
        /// Its row id.
        id: i64,
        /// Its cursor as read.
        cursor: i64,
    },
}

/// One file to plan.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlannedFile {
    pub region: String,
    pub key: String,
    pub seqs: Vec<i64>,
}

/// A trail's plan for this step.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub trail: Trail,
    pub owner: Owner,
    pub new_cursor: i64,
    pub files: Vec<PlannedFile>,
    /// The seq of a damaged record the trail stopped before.
    pub stopped_at: Option<i64>,
}

/// 16 characters `[A-Za-z0-9]` derived from the planned file's identity, so a re-write after
/// a crash reuses the key.
fn unique_suffix(seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    Sha256::digest(seed.as_bytes())
        .iter()
        .take(16)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

fn in_window(trail: &Trail, seq: i64) -> bool {
    trail
        .status
        .windows
        .iter()
        .any(|w| seq >= w.start_seq && w.end_seq.is_none_or(|end| seq <= end))
}

/// A file being filled.
#[derive(Default)]
struct Filling {
    seqs: Vec<i64>,
    lens: Vec<usize>,
}

/// Plans every live and retired trail (read only).
pub(crate) fn plan_all(conn: &Connection, now: f64, limits: Limits) -> StoreResult<Vec<Plan>> {
    let max = delivery::max_seq(conn)?;
    let mut plans = Vec::new();
    for trail in trails::all(conn)? {
        let cursor = delivery::cursor(conn, &trail.arn())?;
        if let Some(p) = plan_one(conn, trail, Owner::Live { cursor }, max, now, limits)? {
            plans.push(p);
        }
    }
    for r in delivery::retired(conn)? {
        let owner = Owner::Retired {
            id: r.id,
            cursor: r.cursor,
        };
        if let Some(p) = plan_one(conn, r.trail, owner, max, now, limits)? {
            plans.push(p);
        }
    }
    Ok(plans)
}

fn plan_one(
    conn: &Connection,
    trail: Trail,
    owner: Owner,
    max: i64,
    now: f64,
    limits: Limits,
) -> StoreResult<Option<Plan>> {
    let Some(first) = trail.status.windows.first() else {
        return Ok(None);
    };
    let cursor = match owner {
        Owner::Live { cursor } => cursor.unwrap_or(first.start_seq - 1),
        Owner::Retired { cursor, .. } => cursor,
    };
    let windows_end = trail
        .status
        .windows
        .last()
        .and_then(|w| w.end_seq)
        .unwrap_or(i64::MAX);
    let upto = max.min(windows_end);
    if cursor >= upto {
        return Ok(None);
    }
    let mut open: BTreeMap<String, Filling> = BTreeMap::new();
    let mut full: Vec<(String, Filling)> = Vec::new();
    let mut last = cursor;
    let mut examined = 0;
    let mut stopped_at = None;
    delivery::scan_events(conn, cursor, upto, |seq, record| {
        if !in_window(&trail, seq) {
            last = seq;
            return true;
        }
        let Some(event) = record.and_then(|r| serde_json::from_str::<Value>(r).ok()) else {
            stopped_at = Some(seq);
            return false;
        };
        if let Some(region) = routing::route(&trail, seq, &event) {
            let len = record.map_or(0, str::len);
            let file = open.entry(region.clone()).or_default();
            let would_be = cairn_logfile::records::body_len(file.lens.iter().copied().chain([len]));
            if !file.seqs.is_empty()
                && (file.seqs.len() >= limits.max_events_per_file
                    || would_be > limits.max_file_bytes)
            {
                full.push((region, std::mem::take(file)));
            }
            file.seqs.push(seq);
            file.lens.push(len);
        }
        last = seq;
        examined += 1;
        examined < limits.max_events_per_step
    })?;
    if let Some(seq) = stopped_at {
        tracing::error!(trail = %trail.arn(), seq,
            "a stored event cannot be read; the trail's delivery stops before it until it is repaired");
    }
    full.extend(open);
    let arn = trail.arn();
    let files = full
        .into_iter()
        .filter(|(_, f)| !f.seqs.is_empty())
        .map(|(region, f)| {
            let unique = unique_suffix(&format!(
                "{arn}\n{region}\n{}\n{}",
                f.seqs[0],
                f.seqs[f.seqs.len() - 1]
            ));
            let key = keys::log_file(
                trail.s3_key_prefix.as_deref(),
                &trail.account,
                &region,
                now.floor() as i64,
                &unique,
            );
            PlannedFile {
                region,
                key,
                seqs: f.seqs,
            }
        })
        .collect();
    Ok(Some(Plan {
        trail,
        owner,
        new_cursor: last,
        files,
        stopped_at,
    }))
}

/// Commits the plans whose trail nobody planned meanwhile (in the caller's write job).
/// Returns how many files were planned.
pub(crate) fn commit(conn: &Connection, plans: &[Plan]) -> StoreResult<usize> {
    let mut planned = 0;
    for p in plans {
        let arn = p.trail.arn();
        let retired = match p.owner {
            Owner::Live { cursor } => {
                let same_trail =
                    trails::get(conn, &p.trail.account, &p.trail.home_region, &p.trail.name)?
                        .is_some_and(|t| t.created_at == p.trail.created_at);
                if !same_trail || delivery::cursor(conn, &arn)? != cursor {
                    continue;
                }
                None
            }
            Owner::Retired { id, cursor } => {
                if delivery::retired_cursor(conn, id)? != Some(cursor) {
                    continue;
                }
                Some(id)
            }
        };
        for f in &p.files {
            delivery::plan_file(
                conn,
                &arn,
                retired,
                &f.region,
                &p.trail.s3_bucket_name,
                &f.key,
                &f.seqs,
            )?;
            planned += 1;
        }
        match retired {
            None => delivery::set_cursor(conn, &arn, p.new_cursor)?,
            Some(id) => delivery::set_retired_cursor(conn, id, p.new_cursor)?,
        }
    }
    Ok(planned)
}
