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

/// How big files and steps may get.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Most events in one file.
    pub max_events_per_file: usize,
    /// Most uncompressed bytes in one file (a single larger record still gets its own file).
    pub max_file_bytes: usize,
    /// Most events one trail examines per step (the rest wait for the next step).
    pub max_events_per_step: usize,
    /// Plan no event after this seq (`cairn flush` stops at the events recorded before it
    /// started, not at the KMS events its own deliveries record).
    pub until_seq: Option<i64>,
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

/// 16 characters `[A-Za-z0-9]` derived from the planned file's identity and the data dir's
/// secret token key, so a re-write after a crash reuses the key while two data dirs (the same
/// account and trail name, delivering to one shared bucket) never name a file alike.
fn unique_suffix(seed: &str) -> String {
    keys::unique_suffix(seed)
}

/// `key` (a log or Insights file key, `…/YYYY/MM/DD/<account>_<kind>_<region>_YYYYMMDDTHHmmZ_<unique>.json.gz`)
/// named for delivery at `at` instead: CloudTrail names a file, and files it under the date
/// folders of, the minute it was delivered. `None` when `key` does not have that shape.
pub(crate) fn restamp(key: &str, at: f64) -> Option<String> {
    let t = chrono::DateTime::from_timestamp(at.floor() as i64, 0)?;
    let mut parts: Vec<&str> = key.rsplitn(5, '/').collect();
    if parts.len() != 5 {
        return None;
    }
    let (name, dirs) = (parts[0], &parts[1..4]);
    let dated = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    if !(dated(dirs[0], 2) && dated(dirs[1], 2) && dated(dirs[2], 4)) {
        return None;
    }
    let mut fields: Vec<&str> = name.rsplitn(3, '_').collect();
    let stamp = fields.get(1).copied()?;
    if stamp.len() != 14 || !stamp.ends_with('Z') || stamp.as_bytes()[8] != b'T' {
        return None;
    }
    let new_stamp = t.format("%Y%m%dT%H%MZ").to_string();
    fields[1] = &new_stamp;
    fields.reverse();
    let new_name = fields.join("_");
    let day = t.format("%Y/%m/%d").to_string();
    parts.truncate(5);
    let head = parts[4];
    Some(format!("{head}/{day}/{new_name}"))
}

/// The index of the logging window holding `seq`, if any.
fn window_of(trail: &Trail, seq: i64) -> Option<usize> {
    trail
        .status
        .windows
        .iter()
        .position(|w| seq >= w.start_seq && w.end_seq.is_none_or(|end| seq <= end))
}

/// A file being filled.
#[derive(Default)]
struct Filling {
    seqs: Vec<i64>,
    /// Uncompressed body bytes so far.
    bytes: usize,
}

impl Filling {
    /// The body's size with one more record of `len` bytes.
    fn with(&self, len: usize) -> usize {
        if self.seqs.is_empty() {
            cairn_logfile::records::body_len([len])
        } else {
            self.bytes + 1 + len
        }
    }
}

/// Cuts a trail's routed events into files: one open file per region, closed before it
/// would pass the event or byte limit (a record larger than the byte limit gets a file of
/// its own).
#[derive(Default)]
struct Cutter {
    open: BTreeMap<String, Filling>,
    full: Vec<(String, Vec<i64>)>,
}

impl Cutter {
    fn push(&mut self, region: String, seq: i64, len: usize, limits: &Limits) {
        let file = self.open.entry(region.clone()).or_default();
        if !file.seqs.is_empty()
            && (file.seqs.len() >= limits.max_events_per_file
                || file.with(len) > limits.max_file_bytes)
        {
            self.full.push((region, std::mem::take(&mut file.seqs)));
            file.bytes = 0;
        }
        file.bytes = file.with(len);
        file.seqs.push(seq);
    }

    /// Closes every open file: a file never spans two logging windows, so the events up to
    /// a StopLogging end the chain's final digest and those from the next StartLogging on
    /// begin the next chain.
    fn cut(&mut self) {
        let open = std::mem::take(&mut self.open);
        self.full.extend(
            open.into_iter()
                .filter(|(_, f)| !f.seqs.is_empty())
                .map(|(region, f)| (region, f.seqs)),
        );
    }

    /// Every file, full ones first, each with its seqs ascending.
    fn finish(mut self) -> Vec<(String, Vec<i64>)> {
        self.full.extend(
            self.open
                .into_iter()
                .filter(|(_, f)| !f.seqs.is_empty())
                .map(|(region, f)| (region, f.seqs)),
        );
        self.full
    }
}

/// Plans every live and retired trail (read only).
pub(crate) fn plan_all(conn: &Connection, now: f64, limits: Limits) -> StoreResult<Vec<Plan>> {
    let head = delivery::max_seq(conn)?;
    let max = limits.until_seq.map_or(head, |u| head.min(u));
    let salt = cairn_store::meta::get(conn, cairn_core::token::META_KEY)?.unwrap_or_default();
    let mut plans = Vec::new();
    for trail in trails::all(conn)? {
        let cursor = delivery::cursor(conn, &trail.arn())?;
        if let Some(p) = plan_one(conn, &salt, trail, Owner::Live { cursor }, max, now, limits)? {
            plans.push(p);
        }
    }
    for r in delivery::retired(conn)? {
        let owner = Owner::Retired {
            id: r.id,
            cursor: r.cursor,
        };
        if let Some(p) = plan_one(conn, &salt, r.trail, owner, max, now, limits)? {
            plans.push(p);
        }
    }
    Ok(plans)
}

/// The seq after which the trail's logging windows end (`i64::MAX` while it logs).
pub(crate) fn windows_end(trail: &Trail) -> i64 {
    trail
        .status
        .windows
        .last()
        .and_then(|w| w.end_seq)
        .unwrap_or(i64::MAX)
}

fn plan_one(
    conn: &Connection,
    salt: &str,
    trail: Trail,
    owner: Owner,
    max: i64,
    now: f64,
    limits: Limits,
) -> StoreResult<Option<Plan>> {
    let Some(first) = trail.status.windows.first() else {
        return Ok(None);
    };
    let mut cursor = match owner {
        Owner::Live { cursor } => cursor.unwrap_or(first.start_seq - 1),
        Owner::Retired { cursor, .. } => cursor,
    };
    // Events between logging windows are nobody's: start at the next window.
    if let Some(next) = trail
        .status
        .windows
        .iter()
        .find(|w| w.end_seq.is_none_or(|end| end > cursor))
    {
        cursor = cursor.max(next.start_seq - 1);
    }
    let upto = max.min(windows_end(&trail));
    if cursor >= upto {
        return Ok(None);
    }
    let mut cutter = Cutter::default();
    let mut last = cursor;
    let mut examined = 0;
    let mut stopped_at = None;
    let mut window = None;
    delivery::scan_events(conn, cursor, upto, |seq, record| {
        let Some(w) = window_of(&trail, seq) else {
            last = seq;
            return true;
        };
        if window.replace(w).is_some_and(|before| before != w) {
            cutter.cut();
        }
        let Some(event) = record.and_then(|r| serde_json::from_str::<Value>(r).ok()) else {
            stopped_at = Some(seq);
            return false;
        };
        if let Some(region) = routing::route(&trail, seq, &event) {
            cutter.push(region, seq, record.map_or(0, str::len), &limits);
        }
        last = seq;
        examined += 1;
        examined < limits.max_events_per_step
    })?;
    if let Some(seq) = stopped_at {
        tracing::error!(trail = %trail.arn(), seq,
            "a stored event cannot be read; the trail's delivery stops before it until it is repaired");
    }
    let arn = trail.arn();
    let files = cutter
        .finish()
        .into_iter()
        .map(|(region, seqs)| {
            let unique = unique_suffix(&format!(
                "{salt}\n{arn}\n{region}\n{}\n{}",
                seqs[0],
                seqs[seqs.len() - 1]
            ));
            let key = keys::log_file(
                trail.s3_key_prefix.as_deref(),
                &trail.account,
                &region,
                now.floor() as i64,
                &unique,
            );
            PlannedFile { region, key, seqs }
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn restamping_names_a_file_by_its_delivery_minute() {
        let planned = keys::log_file(
            Some("p/q"),
            "123456789012",
            "eu-west-1",
            1_796_148_720,
            "ABCDEFGHIJKLMNOP",
        );
        assert!(planned.contains("/2026/12/01/") && planned.contains("_20261201T1812Z_"));
        let delivered = restamp(&planned, 1_796_235_208.5).unwrap(); // 2026-12-02T18:13:28Z
        assert_eq!(
            delivered,
            keys::log_file(
                Some("p/q"),
                "123456789012",
                "eu-west-1",
                1_796_235_208,
                "ABCDEFGHIJKLMNOP"
            )
        );
        let insight = keys::insight_file(
            None,
            "123456789012",
            "us-east-1",
            1_796_148_720,
            "ABCDEFGHIJKLMNOP",
        );
        assert_eq!(
            restamp(&insight, 1_796_148_808.0).unwrap(),
            keys::insight_file(
                None,
                "123456789012",
                "us-east-1",
                1_796_148_808,
                "ABCDEFGHIJKLMNOP"
            )
        );
        assert_eq!(
            restamp(&planned, 1_796_148_750.0).unwrap(),
            planned,
            "same minute"
        );
        assert_eq!(restamp("AWSLogs/x.json.gz", 0.0), None);
    }

    proptest! {
        #[test]
        fn files_respect_the_limits_and_hold_every_event_once_in_order(
            events in proptest::collection::vec((0usize..3, 1usize..500), 0..300),
            max_events in 1usize..20,
            max_bytes in 1usize..2_000,
        ) {
            let limits = Limits { max_events_per_file: max_events, max_file_bytes: max_bytes, max_events_per_step: usize::MAX, until_seq: None };
            let mut cutter = Cutter::default();
            let mut len_of = std::collections::HashMap::new();
            for (i, (region, len)) in events.iter().enumerate() {
                len_of.insert(i as i64, *len);
                cutter.push(format!("r{region}"), i as i64, *len, &limits);
            }
            let files = cutter.finish();
            let mut seen = Vec::new();
            for (region, seqs) in &files {
                prop_assert!(!seqs.is_empty());
                prop_assert!(seqs.len() <= max_events);
                prop_assert!(seqs.windows(2).all(|w| w[0] < w[1]));
                let bytes = cairn_logfile::records::body_len(seqs.iter().map(|s| len_of[s]));
                prop_assert!(seqs.len() == 1 || bytes <= max_bytes, "{} bytes in {} records", bytes, seqs.len());
                for s in seqs {
                    prop_assert_eq!(&format!("r{}", events[*s as usize].0), region);
                }
                seen.extend(seqs.iter().copied());
            }
            seen.sort();
            prop_assert_eq!(seen, (0..events.len() as i64).collect::<Vec<_>>());
        }
    }
}
