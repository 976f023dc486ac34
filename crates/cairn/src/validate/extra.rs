//! Checks beyond the stock tool's, on what the walk found:
//! - consecutive digests that link to each other must agree (previous hash, previous
//!   signature, periods that meet);
//! - a run of two or more deleted digests is counted (the stock tool sees one; aws-cli
//!   issue 7054);
//! - the span the chain covers, so log files in it that no digest lists can be found.

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
        if d.previous_digest_signature.as_deref() != Some(prev.signature.as_str()) {
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
pub fn missing_runs(steps: &[Step], start: i64) -> Vec<Finding> {
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
        let from = older_end.unwrap_or(start);
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
        Some(Self { from, to, holes })
    }

    /// Whether a log file stamped `minute` must be listed by a digest.
    pub fn expects(&self, minute: i64) -> bool {
        minute >= self.from
            && minute + 60 <= self.to
            && !self
                .holes
                .iter()
                .any(|(a, b)| minute + 60 > *a && minute < *b)
    }
}

/// Log keys (with their minutes) that coverage expects listed and `listed` lacks.
pub fn unlisted<'k>(
    keys: &'k [(String, i64)],
    coverage: &Coverage,
    listed: &HashSet<&str>,
) -> Vec<&'k str> {
    keys.iter()
        .filter(|(k, m)| coverage.expects(*m) && !listed.contains(k.as_str()))
        .map(|(k, _)| k.as_str())
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
        };
        assert!(c.expects(0) && c.expects(1140) && c.expects(1800) && c.expects(3540));
        assert!(!c.expects(-60) && !c.expects(1200) && !c.expects(1500) && !c.expects(3560));
        let keys = vec![
            ("a".to_owned(), 60),
            ("b".to_owned(), 120),
            ("c".to_owned(), 1500),
        ];
        let listed = HashSet::from(["a"]);
        assert_eq!(unlisted(&keys, &c, &listed), ["b"]);
    }
}
