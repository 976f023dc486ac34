//! The stock validator's walk over a digest chain, as a pure function of what was fetched,
//! so `cairn validate-logs` reports the same digests in the same order with the same
//! lines as `aws cloudtrail validate-logs` while fetching everything in parallel.
//!
//! The walk starts at the newest digest key listed in the range and follows each digest's
//! `previousDigestS3Object`. A missing or invalid digest is reported and the walk resumes
//! at the next older listed key; a digest that starts a chain (no previous digest) is
//! followed by a gap line when older digests remain. It stops once a digest starts
//! before the requested start.

use std::collections::HashMap;
use std::sync::Arc;

use cairn_logfile::verify::VerifiedDigest;

use super::time::{parse_digest_time, parse_key_stamp};

/// What fetching one digest gave.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// It verified.
    Valid(Arc<VerifiedDigest>),
    /// `NoSuchKey`.
    Missing,
    /// It failed a check; the words after `INVALID: `.
    Invalid(String),
}

/// One line-producing step of the walk, in output order.
#[derive(Clone, Debug)]
pub enum Step {
    /// A valid digest; its log files are checked next.
    Valid {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The digest.
        digest: Arc<VerifiedDigest>,
    },
    /// A digest the chain names that is not there.
    Missing {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// A digest that failed a check.
    Invalid {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The words after `INVALID: `.
        problem: String,
    },
    /// A chain starts here and older digests remain: nothing was delivered between.
    Gap {
        /// End (from its key) of the next older digest.
        next_end: i64,
        /// Start of the digest that starts the chain.
        last_start: i64,
    },
}

/// What the walk needs fetched before it can go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// A digest object.
    Object {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// The digest keys of another bucket the chain moved to, listed up to `end`.
    Listing {
        /// Bucket.
        bucket: String,
        /// End time of the digest that pointed there.
        end: i64,
    },
}

/// The stamp a digest key carries (`…_YYYYMMDDTHHMMSSZ.json.gz`), as the stock tool cuts it.
pub fn key_stamp_text(key: &str) -> Option<&str> {
    let n = key.len();
    key.get(n.checked_sub(24)?..n.checked_sub(8)?)
}

/// The date a digest key carries.
pub fn key_date(key: &str) -> Option<i64> {
    parse_key_stamp(key_stamp_text(key)?)
}

/// Pops keys off the end of `list` (newest first): the last one, or the first one dated
/// before `before`. Returns it with its date.
fn pop_last(list: &mut Vec<String>, before: Option<&str>) -> Option<(String, i64)> {
    let limit = match before {
        None => None,
        Some(k) => Some(key_date(k)?),
    };
    while let Some(key) = list.pop() {
        let Some(date) = key_date(&key) else { continue };
        if limit.is_none_or(|l| date < l) {
            return Some((key, date));
        }
    }
    None
}

/// Walks the chain. `listings` holds each bucket's digest keys of this trail in the range,
/// in listing order; `fetched` what each (bucket, key) gave.
pub fn walk(
    listings: &HashMap<String, Vec<String>>,
    first_bucket: &str,
    start: i64,
    fetched: &HashMap<(String, String), Outcome>,
) -> Result<Vec<Step>, Need> {
    let mut lists: HashMap<String, Vec<String>> = listings.clone();
    let mut steps = Vec::new();
    let mut bucket = first_bucket.to_owned();
    let mut next = pop_last(lists.entry(bucket.clone()).or_default(), None);
    let mut last_start = next.as_ref().map_or(i64::MIN, |(_, d)| *d);
    let mut seen: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    while let Some((key, _)) = next.take() {
        // A chain that loops back (never written by CloudTrail) ends the walk.
        if start > last_start || !seen.insert((bucket.clone(), key.clone())) {
            break;
        }
        let outcome = fetched
            .get(&(bucket.clone(), key.clone()))
            .ok_or_else(|| Need::Object {
                bucket: bucket.clone(),
                key: key.clone(),
            })?;
        let list = |lists: &mut HashMap<String, Vec<String>>, b: &str| {
            lists.get_mut(b).map(std::mem::take).unwrap_or_default()
        };
        match outcome {
            Outcome::Valid(d) => {
                let digest = &d.digest;
                last_start = parse_digest_time(&digest.digest_start_time).unwrap_or(i64::MIN);
                let end = parse_digest_time(&digest.digest_end_time).unwrap_or(i64::MAX);
                steps.push(Step::Valid {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    digest: d.clone(),
                });
                match (
                    &digest.previous_digest_s3_bucket,
                    &digest.previous_digest_s3_object,
                ) {
                    (Some(prev_bucket), Some(prev_key)) => {
                        if *prev_bucket != bucket {
                            if !listings.contains_key(prev_bucket) {
                                return Err(Need::Listing {
                                    bucket: prev_bucket.clone(),
                                    end,
                                });
                            }
                            bucket = prev_bucket.clone();
                        }
                        next = Some((prev_key.clone(), 0));
                    }
                    _ => {
                        let mut l = list(&mut lists, &bucket);
                        next = pop_last(&mut l, Some(&key));
                        lists.insert(bucket.clone(), l);
                        if let Some((_, next_end)) = &next {
                            steps.push(Step::Gap {
                                next_end: *next_end,
                                last_start,
                            });
                        }
                    }
                }
            }
            Outcome::Missing | Outcome::Invalid(_) => {
                steps.push(match outcome {
                    Outcome::Invalid(problem) => Step::Invalid {
                        bucket: bucket.clone(),
                        key: key.clone(),
                        problem: problem.clone(),
                    },
                    _ => Step::Missing {
                        bucket: bucket.clone(),
                        key: key.clone(),
                    },
                });
                let mut l = list(&mut lists, &bucket);
                next = pop_last(&mut l, Some(&key));
                lists.insert(bucket.clone(), l);
            }
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_logfile::digest::Digest;

    type Listings = HashMap<String, Vec<String>>;
    type Fetched = HashMap<(String, String), Outcome>;

    const HOUR: i64 = 3600;
    const T0: i64 = 1_795_510_800; // 2026-11-24T09:00:00Z

    fn key(end: i64) -> String {
        cairn_logfile::keys::digest(None, "123456789012", "us-east-1", "t", "us-east-1", end)
    }

    fn digest(start: i64, end: i64, prev: Option<i64>) -> Outcome {
        Outcome::Valid(Arc::new(VerifiedDigest {
            digest: Digest {
                aws_account_id: "123456789012".into(),
                digest_start_time: cairn_logfile::iso_seconds(start),
                digest_end_time: cairn_logfile::iso_seconds(end),
                digest_s3_bucket: "b".into(),
                digest_s3_object: key(end),
                digest_public_key_fingerprint: "fp".into(),
                digest_signature_algorithm: "SHA256withRSA".into(),
                newest_event_time: None,
                oldest_event_time: None,
                previous_digest_s3_bucket: prev.map(|_| "b".into()),
                previous_digest_s3_object: prev.map(key),
                previous_digest_hash_value: None,
                previous_digest_hash_algorithm: None,
                previous_digest_signature: None,
                log_files: vec![],
            },
            sha256: String::new(),
            signature: String::new(),
        }))
    }

    fn names(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Valid { key, .. } => format!("valid {}", &key[key.len() - 24..key.len() - 8]),
                Step::Missing { key, .. } => {
                    format!("missing {}", &key[key.len() - 24..key.len() - 8])
                }
                Step::Invalid { problem, .. } => format!("invalid {problem}"),
                Step::Gap {
                    next_end,
                    last_start,
                } => format!("gap {next_end} {last_start}"),
            })
            .collect()
    }

    fn setup(present: &[(i64, Outcome)]) -> (Listings, Fetched) {
        let listing = present.iter().map(|(e, _)| key(*e)).collect();
        let fetched = present
            .iter()
            .map(|(e, o)| (("b".to_owned(), key(*e)), o.clone()))
            .collect();
        (HashMap::from([("b".to_owned(), listing)]), fetched)
    }

    #[test]
    fn a_whole_chain_is_walked_newest_first() {
        let (l, f) = setup(&[
            (T0 + HOUR, digest(T0, T0 + HOUR, None)),
            (
                T0 + 2 * HOUR,
                digest(T0 + HOUR, T0 + 2 * HOUR, Some(T0 + HOUR)),
            ),
            (
                T0 + 3 * HOUR,
                digest(T0 + 2 * HOUR, T0 + 3 * HOUR, Some(T0 + 2 * HOUR)),
            ),
        ]);
        let steps = walk(&l, "b", T0 - 60, &f).unwrap();
        assert_eq!(
            names(&steps),
            [
                "valid 20261124T120000Z",
                "valid 20261124T110000Z",
                "valid 20261124T100000Z"
            ]
        );
    }

    #[test]
    fn a_missing_digest_is_reported_and_the_walk_resumes_at_the_next_older_key() {
        let (l, mut f) = setup(&[
            (T0 + HOUR, digest(T0, T0 + HOUR, None)),
            (
                T0 + 3 * HOUR,
                digest(T0 + 2 * HOUR, T0 + 3 * HOUR, Some(T0 + 2 * HOUR)),
            ),
        ]);
        assert_eq!(
            walk(&l, "b", T0 - 60, &f).unwrap_err(),
            Need::Object {
                bucket: "b".into(),
                key: key(T0 + 2 * HOUR)
            },
            "the previous digest was not listed, so it is fetched"
        );
        f.insert(("b".into(), key(T0 + 2 * HOUR)), Outcome::Missing);
        let steps = walk(&l, "b", T0 - 60, &f).unwrap();
        assert_eq!(
            names(&steps),
            [
                "valid 20261124T120000Z",
                "missing 20261124T110000Z",
                "valid 20261124T100000Z"
            ]
        );
    }

    #[test]
    fn a_new_chain_after_older_digests_gives_a_gap_line() {
        let (l, f) = setup(&[
            (T0 + HOUR, digest(T0, T0 + HOUR, None)),
            (T0 + 3 * HOUR, digest(T0 + 2 * HOUR, T0 + 3 * HOUR, None)),
        ]);
        let steps = walk(&l, "b", T0 - 60, &f).unwrap();
        assert_eq!(
            names(&steps),
            [
                "valid 20261124T120000Z".to_owned(),
                format!("gap {} {}", T0 + HOUR, T0 + 2 * HOUR),
                "valid 20261124T100000Z".to_owned()
            ]
        );
    }

    #[test]
    fn the_walk_stops_before_the_start_and_skips_invalid_ones() {
        let (l, f) = setup(&[
            (T0 + HOUR, digest(T0, T0 + HOUR, None)),
            (T0 + 2 * HOUR, Outcome::Invalid("invalid format".into())),
            (
                T0 + 3 * HOUR,
                digest(T0 + 2 * HOUR, T0 + 3 * HOUR, Some(T0 + 2 * HOUR)),
            ),
        ]);
        let steps = walk(&l, "b", T0 + 2 * HOUR + 1, &f).unwrap();
        assert_eq!(
            names(&steps),
            ["valid 20261124T120000Z"],
            "its start is before the requested start"
        );
        let steps = walk(&l, "b", T0 - 60, &f).unwrap();
        assert_eq!(
            names(&steps),
            [
                "valid 20261124T120000Z",
                "invalid invalid format",
                "valid 20261124T100000Z"
            ]
        );
        assert!(
            walk(&HashMap::new(), "b", 0, &HashMap::new())
                .unwrap()
                .is_empty()
        );
    }
}
