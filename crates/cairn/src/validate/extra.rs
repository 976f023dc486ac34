//! Checks beyond the stock tool's, on what the walk found:
//! - consecutive digests that link to each other must agree (previous hash, previous
//!   signature, periods that meet);
//! - a run of two or more deleted digests is counted (the stock tool sees one; aws-cli
//!   issue 7054);
//! - the span the chain covers, so log files in it that no digest lists can be found;
//! - objects at this trail's backfill-digest keys, which Cairn never writes.

use std::collections::{HashMap, HashSet};

use super::report::line;
use super::time::{display, parse_digest_time};
use super::traverse::Step;

/// A line of our own for stderr, and what it adds to the invalid counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The line.
    pub line: String,
    /// Digests it makes invalid.
    pub digests: usize,
    /// Log files it makes invalid.
    pub logs: usize,
}

fn span(step: &Step) -> Option<(i64, i64)> {
    match step {
        Step::Valid { digest, .. } => Some((
            parse_digest_time(&digest.digest.digest_start_time)?,
            parse_digest_time(&digest.digest.digest_end_time)?,
        )),
        _ => None,
    }
}

/// Links between consecutive valid digests that do not hold.
pub fn chain_mismatches(steps: &[Step]) -> Vec<Finding> {
    let valid: HashMap<(&str, &str), &Step> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Valid { bucket, key, .. } => Some(((bucket.as_str(), key.as_str()), s)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for s in steps {
        let Step::Valid {
            bucket,
            key,
            digest,
        } = s
        else {
            continue;
        };
        let d = &digest.digest;
        let (Some(pb), Some(pk)) = (&d.previous_digest_s3_bucket, &d.previous_digest_s3_object)
        else {
            continue;
        };
        let Some(Step::Valid { digest: prev, .. }) = valid.get(&(pb.as_str(), pk.as_str())) else {
            continue;
        };
        let mut problems = Vec::new();
        // The same hex in either case is the same signature (digest7 G4: a re-cased
        // `x-amz-meta-signature` had the next, untouched digest reported).
        if !d
            .previous_digest_signature
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(&prev.signature))
        {
            problems.push("previousDigestSignature does not match the previous digest");
        }
        if d.previous_digest_hash_value.as_deref() != Some(prev.sha256.as_str()) {
            problems.push("previousDigestHashValue does not match the previous digest");
        }
        if prev.digest.digest_end_time != d.digest_start_time {
            problems.push("its period does not start where the previous digest's ends");
        }
        for (i, p) in problems.iter().enumerate() {
            out.push(Finding {
                line: line("Digest file", bucket, key, &format!("INVALID: {p}")),
                digests: usize::from(i == 0),
                logs: 0,
            });
        }
    }
    out
}

/// The median period (`digestEndTime - digestStartTime`) of the valid digests.
pub fn typical_period(steps: &[Step]) -> Option<i64> {
    let mut periods: Vec<i64> = steps
        .iter()
        .filter_map(span)
        .map(|(a, b)| b - a)
        .filter(|p| *p > 0)
        .collect();
    periods.sort_unstable();
    periods.get(periods.len() / 2).copied()
}

/// Runs of two or more missing digests: the stock tool reports only the newest of a run.
/// Each line counts the digests beyond that one.
/// Without an older digest found, the run is counted back to where the chain can begin: the
/// trail's last StartLogging (GetTrailStatus), when it is before the newer digest, else the
/// start of the range (digest5: counting back to the start of a day's range reported 1,427
/// digests missing for a trail 14 minutes old).
pub fn missing_runs(steps: &[Step], start: i64, started_at: Option<i64>) -> Vec<Finding> {
    let period = typical_period(steps);
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let Step::Missing { key, .. } = s else {
            continue;
        };
        let Some(newer_start) = steps[..i].iter().rev().find_map(span).map(|(a, _)| a) else {
            continue;
        };
        let older_end = steps[i + 1..].iter().find_map(span).map(|(_, b)| b);
        let floor = match started_at {
            Some(s) if s <= newer_start => s.max(start),
            _ => start,
        };
        let from = older_end.unwrap_or(floor);
        let count = match period {
            Some(p) if newer_start > from => {
                ((newer_start - from) as f64 / p as f64).round() as i64
            }
            _ => 1,
        };
        if count >= 2 {
            out.push(Finding {
                line: format!(
                    "{count} digest file(s) missing from the chain between {} and {} (the newest was {key})",
                    older_end.map_or_else(|| "the start of the range".to_owned(), display),
                    display(newer_start)
                ),
                digests: (count - 1) as usize,
                logs: 0,
            });
        }
    }
    out
}

/// The time span the trail's digests vouch for: every log file delivered in it should be
/// listed by a digest. Chains broken by a stop (gap lines) leave holes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// Start.
    pub from: i64,
    /// End.
    pub to: i64,
    /// Spans between chains (nothing delivered by this trail).
    pub holes: Vec<(i64, i64)>,
    /// Spans during which log file validation was off (from event history): no digest
    /// lists what was delivered then.
    pub off: Vec<(i64, i64)>,
    /// Start of the newest digest's period.
    pub last_start: i64,
}

impl Coverage {
    /// What the valid digests among `steps` cover, back over digests the chain names that
    /// are gone (to the next older digest found, or to `start`), and on to `later` when
    /// the trail is known to have delivered digests up to then.
    pub fn of(steps: &[Step], start: i64, later: Option<i64>) -> Option<Self> {
        let spans: Vec<(i64, i64)> = steps.iter().filter_map(span).collect();
        let mut from = spans.iter().map(|s| s.0).min()?;
        for (i, s) in steps.iter().enumerate() {
            if let Step::Missing { .. } = s {
                let older_end = steps[i + 1..]
                    .iter()
                    .find_map(span)
                    .map_or(start, |(_, b)| b);
                from = from.min(older_end);
            }
        }
        let to = spans
            .iter()
            .map(|s| s.1)
            .max()?
            .max(later.unwrap_or(i64::MIN));
        let holes = steps
            .iter()
            .filter_map(|s| match s {
                Step::Gap {
                    next_end,
                    last_start,
                } => Some((*next_end, *last_start)),
                _ => None,
            })
            .collect();
        let last_start = spans.iter().max_by_key(|s| s.1).map_or(from, |s| s.0);
        Some(Self {
            from,
            to,
            holes,
            off: Vec::new(),
            last_start,
        })
    }

    /// Whether a log file delivered at `t` (epoch seconds) falls in a hole.
    fn in_hole(&self, t: f64) -> bool {
        self.holes
            .iter()
            .chain(&self.off)
            .any(|(a, b)| t >= *a as f64 && t < *b as f64)
    }

    /// What is expected of `log`. With its delivery time (`LastModified`) known: listed
    /// when it was delivered in the span (after its first second, which the digest before
    /// may cover), before the newest digest's end and outside the holes; pending when its name falls in the span but it was delivered after the newest
    /// digest was written (a later digest lists it). Without it, the minute its name carries
    /// must lie wholly in the span.
    pub fn expects(&self, log: &LogKey) -> Expect {
        let named = log.minute >= self.from
            && log.minute + 60 <= self.to
            && !self
                .holes
                .iter()
                .chain(&self.off)
                .any(|(a, b)| log.minute.saturating_add(60) > *a && log.minute < *b);
        match log.delivered {
            None if named => Expect::Listed,
            None => Expect::Nothing,
            // A file delivered in the second a digest ends may be listed by either digest.
            Some(t) if t >= (self.from + 1) as f64 && t < self.to as f64 && !self.in_hole(t) => {
                Expect::Listed
            }
            // Named in the newest digest's period, delivered after it was written: the
            // next digest lists it. Named in an earlier period: it changed since.
            Some(t) if named && t >= self.to as f64 => {
                if log.minute + 60 > self.last_start {
                    Expect::Pending
                } else {
                    Expect::Listed
                }
            }
            Some(_) => Expect::Nothing,
        }
    }
}

/// A log file key found in the bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct LogKey {
    /// The key.
    pub key: String,
    /// The minute its name carries (epoch seconds).
    pub minute: i64,
    /// When it was delivered (`LastModified`, epoch seconds), when the listing said.
    pub delivered: Option<f64>,
    /// Its `ETag`, when the listing said.
    pub etag: Option<String>,
    /// Its size in bytes, when the listing said.
    pub size: Option<u64>,
}

/// What a digest should say of a log file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A digest must list it.
    Listed,
    /// A later digest will list it: it came after the newest digest.
    Pending,
    /// Nothing (outside the span, or in a hole).
    Nothing,
}

/// Log keys that coverage expects listed and `listed` lacks, and those still pending.
pub fn unlisted<'k>(
    keys: &'k [LogKey],
    coverage: &Coverage,
    listed: &HashSet<&str>,
) -> (Vec<&'k LogKey>, Vec<&'k LogKey>) {
    let mut missing = Vec::new();
    let mut pending = Vec::new();
    for k in keys.iter().filter(|k| !listed.contains(k.key.as_str())) {
        match coverage.expects(k) {
            Expect::Listed => missing.push(k),
            Expect::Pending => pending.push(k),
            Expect::Nothing => {}
        }
    }
    (missing, pending)
}

/// Objects among `listed` (the digest folder's keys) at a backfill-digest key of any trail
/// (the stock tool's loose pattern takes a look-alike trail's as this one's) whose time
/// `in_window` takes: Cairn never writes backfill digests, so each was put there by someone
/// else. The stock tool walks such objects (and fails on junk); Cairn reports
/// every one rather than ignore it.
pub fn planted_backfills(
    listed: &[String],
    layout: &super::layout::Layout,
    in_window: impl Fn(&str) -> bool,
) -> Vec<Finding> {
    listed
        .iter()
        .filter(|k| {
            k.strip_suffix("_backfill.json.gz")
                .map(|base| format!("{base}.json.gz"))
                .is_some_and(|base| layout.is_any_digest(&base) && in_window(&base))
        })
        .map(|k| Finding {
            line: line(
                "Digest file",
                &layout.bucket,
                k,
                "INVALID: a backfill digest, which Cairn never writes: it was put there by someone else",
            ),
            digests: 1,
            logs: 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_skips_holes_and_the_last_minute() {
        let c = Coverage {
            from: 0,
            to: 3600,
            holes: vec![(1230, 1800)],
            off: Vec::new(),
            last_start: 2400,
        };
        let named = |minute| {
            c.expects(&LogKey {
                key: String::new(),
                minute,
                delivered: None,
                etag: None,
                size: None,
            }) == Expect::Listed
        };
        assert!(named(0) && named(1140) && named(1800) && named(3540));
        assert!(!named(-60) && !named(1200) && !named(1500) && !named(3560));
        let log = |key: &str, minute, delivered| LogKey {
            key: key.to_owned(),
            minute,
            delivered,
            etag: None,
            size: None,
        };
        let keys = vec![
            log("a", 60, None),
            log("b", 120, None),
            log("c", 1500, None),
            // Named in the span but delivered after the newest digest: pending.
            log("d", 3480, Some(3600.0)),
            // Delivered in the span, whatever its name says.
            log("e", -600, Some(700.0)),
            log("f", 600, Some(1500.0)),
            // Named in an earlier digest's period, changed after the newest one.
            log("g", 1800, Some(3700.0)),
        ];
        let listed = HashSet::from(["a"]);
        let (missing, pending) = unlisted(&keys, &c, &listed);
        let names = |v: Vec<&LogKey>| v.into_iter().map(|k| k.key.clone()).collect::<Vec<_>>();
        assert_eq!(names(missing), ["b", "e", "g"]);
        assert_eq!(names(pending), ["d"]);
        // Delivered while validation was off (event history): no digest lists it.
        let off = Coverage {
            off: vec![(600, 1600)],
            ..c.clone()
        };
        let (missing, _) = unlisted(&keys, &off, &listed);
        assert_eq!(names(missing), ["b", "g"]);
    }
}
