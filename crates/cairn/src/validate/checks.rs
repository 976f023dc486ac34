//! The checks that need more from the bucket than the walk fetched:
//! - digests that vanished: GetTrailStatus's `LatestDigestDeliveryTime` falls in the
//!   range but no digest that recent is there (an emptied bucket, a lifecycle rule, a
//!   deleted tail), or the first digest after the range names a predecessor in the range
//!   that is gone;
//! - log files no digest lists. Log file keys carry no trail name, so with several trails
//!   delivering to one bucket and prefix a file counts as listed when a valid digest of
//!   any of them lists it. When one of them delivers without validation, its files cannot
//!   be told from planted ones and this check is skipped with a notice (only for a trail
//!   that logged in the range: [`drop_idle_sharers`]).

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::client::CloudTrail;

use super::extra::{Coverage, Finding, LogKey};
use super::fetch::{Fetched, Fetcher, LogOutcome, Object};
use super::layout::{Layout, day, is_backfill, log_stamp};
use super::report::line;
use super::s3::S3;
use super::time::{display, key_stamp};
use super::traverse::{Outcome, Step, key_date, key_stamp_text};

/// The fixed part of how much older than GetTrailStatus's latest digest the newest one
/// found may be: clock skew and the time between a digest's end and its delivery.
const ALLOWANCE: i64 = 15;

/// How much older than GetTrailStatus's `LatestDigestDeliveryTime` the newest digest found
/// may be before newer ones count as deleted: half the trail's digest period (derived from
/// the digests found) plus [`ALLOWANCE`], but never more than three quarters of the period
/// (at least a second). It stays below one period for any period over a second, so even
/// the newest digest alone cannot be deleted unseen, and it still absorbs the seconds
/// between a digest's end time and its delivery. Without a known period, the allowance.
pub fn slack(period: Option<i64>) -> i64 {
    match period.filter(|p| *p > 0) {
        Some(p) => (p / 2 + ALLOWANCE).min((p * 3 / 4).max(1)),
        None => ALLOWANCE,
    }
}

/// What the checks share.
pub struct Context<'a> {
    /// The trail's place.
    pub layout: &'a Layout,
    /// Fetcher.
    pub fetcher: &'a Fetcher,
    /// Trail ARN.
    pub arn: &'a str,
    /// Requested start.
    pub start: i64,
    /// End of the digest window (requested end plus an hour).
    pub window_end: i64,
    /// This trail's digest keys in the window.
    pub own: &'a [String],
    /// The oldest of this trail's digest keys after the window, if it was listed.
    pub own_after: Option<String>,
    /// GetTrailStatus's `LatestDigestDeliveryTime`.
    pub latest_digest: Option<i64>,
    /// The trail's digest period, from the digests found (`None`: none to tell).
    pub period: Option<i64>,
    /// Whether a digest is due here every period: the trail's home region, its own
    /// account, and the bucket and prefix it delivers to now. (Other regions get digests
    /// only once they have had log files.)
    pub always_digested: bool,
    /// Whether GetTrailStatus, asked in this region, speaks of this place: the trail
    /// delivers to this account, bucket and prefix now. Status is per region, so a digest it
    /// reports was delivered here, in any region of a multi-region trail.
    pub status_here: bool,
    /// Whether DescribeTrails shows the trail delivering somewhere else now (another bucket,
    /// prefix or account): its GetTrailStatus then speaks of that place, not this one.
    pub moved_away: bool,
    /// Spans during which validation was off, from event history.
    pub off: Vec<(i64, i64)>,
    /// Stops (event history) whose final digest is missing: the gaps after them are not
    /// legitimate.
    pub final_missing: Vec<i64>,
    /// Spans in which event history says the trail was certainly not logging (from the
    /// second after a StopLogging to its StartLogging): a gap between chains there is no
    /// hole, as nothing of the trail's is delivered then (digest6 D3).
    pub stopped: Vec<(i64, i64)>,
    /// Other places (bucket, prefix) that trails sharing this one moved to: their first
    /// digest there lists their last files here (digest7 G3).
    pub other_places: Vec<(String, Option<String>)>,
    /// When the trail, stopped now, stopped, if a digest found holds the stop (its final
    /// digest): files delivered after it are listed by no digest, ever.
    pub sealed_at: Option<i64>,
}

fn own_page_filter(layout: &Layout, page: &[String], after: &str) -> Option<String> {
    page.iter()
        .find(|k| {
            layout.is_own_digest(k)
                && !is_backfill(k)
                && key_stamp_text(k).is_some_and(|s| s > after)
        })
        .cloned()
}

/// This trail's digest keys in `layout.bucket` for `[start, end + 1h]` (the stock tool's
/// window), in key order.
pub async fn own_digests(
    s3: &S3,
    layout: &Layout,
    start: i64,
    end: i64,
) -> anyhow::Result<Vec<String>> {
    let dir = layout.digest_dir();
    let (lo, hi) = (key_stamp(start), key_stamp(end + 3600));
    let stop = day(end + 3600);
    let keys = s3
        .list(
            &layout.bucket,
            &dir,
            Some(&layout.digest_key(start - 60)),
            |page| {
                page.last()
                    .and_then(|k| Layout::day_of(k, &dir))
                    .is_some_and(|d| d > stop.as_str())
            },
        )
        .await?;
    Ok(keys
        .into_iter()
        .filter(|k| {
            layout.is_own_digest(k)
                && !is_backfill(k)
                && key_stamp_text(k).is_some_and(|s| s >= lo.as_str() && s <= hi.as_str())
        })
        .collect())
}

/// Digests the trail delivered that are gone. Returns the findings and, when digests in
/// the window are known to have existed, the latest time they covered.
pub async fn vanished_digests(
    cx: &Context<'_>,
    fetched: &mut Fetched,
) -> anyhow::Result<(Vec<Finding>, Option<i64>)> {
    let Some(latest) = cx.latest_digest else {
        return Ok((Vec::new(), None));
    };
    let bucket = &cx.layout.bucket;
    let dir = cx.layout.digest_dir();
    let newest = cx.own.iter().filter_map(|k| key_date(k)).max();
    // A region other than the home region is digested every period from its first log file
    // on, in the same step as the home region: once a digest of it is found, a newer one
    // is due whenever the trail delivered one.
    let digested_here =
        !cx.moved_away && (cx.always_digested || cx.status_here || newest.is_some());
    if latest >= cx.start && latest <= cx.window_end {
        if !digested_here || newest.is_some_and(|n| n + slack(cx.period) >= latest) {
            return Ok((Vec::new(), None));
        }
        let what = match newest {
            None => "none found".to_owned(),
            Some(n) => format!("none after {}", display(n)),
        };
        let finding = Finding {
            line: line(
                "Digest files",
                bucket,
                &dir,
                &format!(
                    "INVALID: {what}, but trail {} delivered a digest file at {} \
                     (GetTrailStatus LatestDigestDeliveryTime); they have been deleted or moved",
                    cx.arn,
                    display(latest)
                ),
            ),
            digests: 1,
            logs: 0,
        };
        return Ok((vec![finding], Some(latest)));
    }
    if latest < cx.window_end {
        return Ok((Vec::new(), None));
    }
    // Digests were delivered after the window: the oldest of them names its predecessor.
    let hi = key_stamp(cx.window_end);
    let after = match &cx.own_after {
        Some(k) => Some(k.clone()),
        None => {
            let stop = day(latest);
            let keys = cx
                .fetcher
                .s3
                .list(
                    bucket,
                    &dir,
                    Some(&cx.layout.digest_key(cx.window_end)),
                    |page| {
                        own_page_filter(cx.layout, page, &hi).is_some()
                            || page
                                .last()
                                .and_then(|k| Layout::day_of(k, &dir))
                                .is_some_and(|d| d > stop.as_str())
                    },
                )
                .await?;
            own_page_filter(cx.layout, &keys, &hi)
        }
    };
    let Some(after) = after else {
        if newest.is_some() || !(cx.always_digested || cx.status_here) {
            return Ok((Vec::new(), None));
        }
        let finding = Finding {
            line: line(
                "Digest files",
                bucket,
                &dir,
                &format!(
                    "INVALID: none found, but trail {} delivered digest files until {} \
                     (GetTrailStatus LatestDigestDeliveryTime); they have been deleted or moved",
                    cx.arn,
                    display(latest)
                ),
            ),
            digests: 1,
            logs: 0,
        };
        return Ok((vec![finding], None));
    };
    let object = (bucket.clone(), after);
    cx.fetcher
        .fetch_into(fetched, vec![object.clone()], vec![], false)
        .await?;
    let Some(Outcome::Valid(v)) = fetched.digests.get(&object) else {
        return Ok((Vec::new(), None));
    };
    let (Some(pb), Some(pk)) = (
        v.digest.previous_digest_s3_bucket.clone(),
        v.digest.previous_digest_s3_object.clone(),
    ) else {
        return Ok((Vec::new(), None));
    };
    let Some(date) = key_date(&pk) else {
        return Ok((Vec::new(), None));
    };
    if pb != *bucket || date < cx.start || date > cx.window_end || cx.own.contains(&pk) {
        return Ok((Vec::new(), None));
    }
    let prev = (pb, pk);
    cx.fetcher
        .fetch_into(fetched, vec![prev.clone()], vec![], false)
        .await?;
    if !matches!(fetched.digests.get(&prev), Some(Outcome::Missing)) {
        return Ok((Vec::new(), None));
    }
    let finding = Finding {
        line: line("Digest file", &prev.0, &prev.1, "INVALID: not found"),
        digests: 1,
        logs: 0,
    };
    Ok((vec![finding], Some(date)))
}

/// DescribeTrails' `trails` less those sharing this place without validation that cannot
/// have delivered a file since `since`: never started, or stopped before it (GetTrailStatus;
/// one whose status cannot be read is kept). recheck34: a trail created in the place
/// without validation and never started turned the unlisted-file check off. A sharer
/// stopped since `since` is returned apart (second): its calls in event history decide
/// whether it logged here (see `stopped_sharers`).
pub async fn drop_idle_sharers(
    ct: &CloudTrail,
    trails: &[Value],
    layout: &Layout,
    arn: &str,
    since: i64,
) -> (Vec<Value>, Vec<Value>) {
    let mut kept = Vec::new();
    let mut stopped_since = Vec::new();
    for t in trails {
        let sharer = t["TrailARN"] != arn
            && t["S3BucketName"] == layout.bucket.as_str()
            && no_prefix(t["S3KeyPrefix"].as_str()) == no_prefix(layout.prefix.as_deref())
            && t["LogFileValidationEnabled"] != true;
        if sharer {
            let status = ct
                .call("GetTrailStatus", &json!({ "Name": t["TrailARN"] }))
                .await;
            if let Ok(v) = status {
                let logging = v["IsLogging"] == true;
                let stopped = v["StopLoggingTime"].as_f64().map(|s| s.floor() as i64);
                if !logging && stopped.is_none_or(|s| s < since) {
                    continue;
                }
                if !logging {
                    stopped_since.push(t.clone());
                    continue;
                }
            }
        }
        kept.push(t.clone());
    }
    (kept, stopped_since)
}

fn no_prefix(p: Option<&str>) -> Option<&str> {
    p.filter(|p| !p.is_empty())
}

/// The log file keys of the layout's region, in every day folder up to `to` (whole days),
/// with the minute each carries and when it was delivered. Folders of days before the range
/// are read too: a file planted today in an old day's folder is judged by when it was
/// delivered, which no folder name can hide (digest7 G1: one in `2020/01/01/` passed).
pub async fn list_logs(s3: &S3, layout: &Layout, to: i64) -> anyhow::Result<Vec<LogKey>> {
    let dir = layout.log_dir();
    let stop = day(to);
    let keys = s3
        .list_timed(&layout.bucket, &dir, None, |page| {
            page.last()
                .and_then(|k| Layout::day_of(k, &dir))
                .is_some_and(|d| d > stop.as_str())
        })
        .await?;
    Ok(keys
        .into_iter()
        .filter_map(|(key, listed)| {
            let delivered = listed.modified;
            // A name without CloudTrail's stamp (a forged `evil.json.gz`) is judged by its
            // delivery time: every object under the log folder is read by Athena and the
            // like, so one no digest lists is reported whatever its name.
            let minute =
                log_stamp(&key).or_else(|| delivered.map(|t| (t.floor() as i64) / 60 * 60))?;
            Some(LogKey {
                key,
                minute,
                delivered,
                etag: listed.etag,
                size: listed.size,
            })
        })
        .collect())
}

/// What the unlisted-files check reads besides the [`Context`]: the chain walked, how long
/// digests are known to have existed (`later`), the log files listed (from [`list_logs`]),
/// other trails' digest keys in the same place and DescribeTrails' trails.
pub struct Listing<'a> {
    /// The chain, as traversed.
    pub steps: &'a [Step],
    /// Digests are known to have existed until then.
    pub later: Option<i64>,
    /// The log files in the bucket.
    pub log_keys: &'a [LogKey],
    /// Other trails' digest keys that could list them.
    pub others: &'a [String],
    /// DescribeTrails' trails.
    pub trails: &'a [Value],
}

/// Log files in the span the chain covers (up to `later` when digests are known to have
/// existed until then) that no valid digest of any trail lists. Returns the findings, or a
/// notice when the check cannot be made.
pub async fn unlisted_logs(
    cx: &Context<'_>,
    listing: &Listing<'_>,
    fetched: &mut Fetched,
) -> anyhow::Result<(Vec<Finding>, Option<String>)> {
    let Listing {
        steps,
        later,
        log_keys,
        others,
        trails,
    } = *listing;
    let layout = cx.layout;
    let bucket = &layout.bucket;
    let Some(mut coverage) = Coverage::of(steps, cx.start, later).or_else(|| {
        later.map(|to| Coverage {
            from: cx.start,
            to,
            holes: Vec::new(),
            off: Vec::new(),
            last_start: cx.start,
        })
    }) else {
        return Ok((Vec::new(), None));
    };
    coverage.off = cx.off.clone();
    if cx.sealed_at.is_some() {
        // Stopped, with its final digest: no digest will ever list a later file.
        coverage.to = i64::MAX / 2;
    }
    // A gap while the trail was stopped: whatever was delivered then is no file of its
    // (its final digest lists the stop's files; the next chain's begin after the start).
    coverage.holes.retain(|(a, b)| {
        !cx.stopped
            .iter()
            .any(|(s, e)| *s - STOP_SLACK <= *a && *b <= *e + STOP_SLACK)
    });
    // Deleted for good, after the chain's end: no digest will ever list a later file.
    if cx
        .stopped
        .iter()
        .any(|(s, e)| *e >= i64::MAX / 2 && *s - STOP_SLACK <= coverage.to)
    {
        coverage.to = i64::MAX / 2;
    }
    for stop in &cx.final_missing {
        // What the deleted final digest listed is unlisted now, up to the next chain.
        coverage
            .holes
            .retain(|(a, b)| !(*a <= *stop && *stop <= *b));
        if *stop >= coverage.to {
            coverage.to = i64::MAX / 2;
        }
    }
    coverage.from = coverage.from.max(cx.start - 86_400);
    if let Some(t) = trails.iter().find(|t| {
        t["TrailARN"] != cx.arn
            && t["S3BucketName"] == bucket.as_str()
            && no_prefix(t["S3KeyPrefix"].as_str()) == no_prefix(layout.prefix.as_deref())
            && t["LogFileValidationEnabled"] != true
    }) {
        return Ok((
            Vec::new(),
            Some(format!(
                "Log files that no digest lists were not looked for: trail {} also delivers to \
                 s3://{bucket}/{} without log file validation",
                t["TrailARN"].as_str().unwrap_or_default(),
                layout.log_dir()
            )),
        ));
    }
    let listed: HashSet<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Valid { digest, .. } => Some(digest),
            _ => None,
        })
        .flat_map(|d| &d.digest.log_files)
        .filter(|f| f.s3_bucket == *bucket)
        .map(|f| f.s3_object.as_str())
        .collect();
    let (missing, pending) = super::extra::unlisted(log_keys, &coverage, &listed);
    let mut candidates: Vec<&LogKey> = missing.clone();
    let mut pending: Vec<&LogKey> = pending;
    let none = candidates.is_empty() && pending.is_empty();
    if !none && !others.is_empty() {
        // Other trails' digests that could list them.
        let first = missing
            .iter()
            .chain(&pending)
            .map(|k| {
                k.minute
                    .min(k.delivered.map_or(i64::MAX, |t| t.floor() as i64))
            })
            .min()
            .unwrap_or(i64::MIN);
        // Those from the oldest candidate on, and the newest few whatever their time (the
        // newest valid one says which later files another trail may still list).
        let mut by_date: Vec<&String> = others.iter().collect();
        by_date.sort_by_key(|k| std::cmp::Reverse(key_date(k)));
        let wanted: Vec<Object> = others
            .iter()
            .filter(|k| key_date(k).is_some_and(|d| d >= first))
            .chain(by_date.into_iter().take(NEWEST_OTHERS))
            .map(|k| (bucket.clone(), k.clone()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let asked: HashSet<String> = candidates
            .iter()
            .chain(&pending)
            .map(|k| k.key.clone())
            .collect();
        let theirs = listed_by(cx, fetched, &wanted, &asked).await?;
        candidates.retain(|k| !theirs.contains(k.key.as_str()));
        pending.retain(|k| !theirs.contains(k.key.as_str()));
        if !candidates.is_empty() || !pending.is_empty() {
            let elsewhere = listed_elsewhere(cx, fetched, first, &asked).await?;
            candidates.retain(|k| !elsewhere.contains(&k.key));
            pending.retain(|k| !elsewhere.contains(&k.key));
        }
        // A file delivered after another trail's newest digest here may be that trail's,
        // which its next digest lists: not yet listed, noted, as for this trail's own
        // (hostile7: a second trail in the bucket made most runs report tampering).
        // Only a valid digest, signed as written at that very key in this bucket, counts
        // (digest6: an empty object at a made-up trail's digest key excused any forged file
        // for the 70 minutes after the time its name gave).
        // This trail's own earlier digests (read for a file copied onto itself since) are no
        // other trail's: their chain's later digests are judged above (recheck33: one before
        // the range excused every planted file for 70 minutes after it).
        let newest = wanted
            .iter()
            .filter(|o| !layout.is_own_digest(&o.1))
            .filter_map(|o| match fetched.digests.get(o) {
                Some(Outcome::Valid(v))
                    if v.digest.digest_s3_bucket == *bucket && v.digest.digest_s3_object == o.1 =>
                {
                    super::time::parse_digest_time(&v.digest.digest_end_time)
                }
                _ => None,
            })
            .max();
        let (later, earlier): (Vec<&LogKey>, Vec<&LogKey>) = candidates
            .into_iter()
            .partition(|k| after_others_newest(k, newest));
        candidates = earlier;
        pending.extend(later);
    }
    let mut findings: Vec<Finding> = candidates
        .into_iter()
        .map(|k| Finding {
            line: line(
                "Log file",
                bucket,
                &k.key,
                "INVALID: not listed in any digest",
            ),
            digests: 0,
            logs: 1,
        })
        .collect();
    findings.extend(pending.into_iter().map(|k| Finding {
        line: line(
            "Log file",
            bucket,
            &k.key,
            &format!(
                "not listed in a digest yet: delivered at {}, after the newest digest, \
                 so a later digest lists it",
                display(k.delivered.unwrap_or_default().floor() as i64)
            ),
        ),
        digests: 0,
        logs: 0,
    }));
    Ok((findings, None))
}

/// The log files of this place that other trails' valid digests in [`Context::other_places`]
/// list, from digests dated from `first` (the oldest candidate) on: a trail sharing this
/// place that moved away lists its last files here in its first digest there.
async fn listed_elsewhere(
    cx: &Context<'_>,
    fetched: &mut Fetched,
    first: i64,
    asked: &HashSet<String>,
) -> anyhow::Result<HashSet<String>> {
    let mut wanted: Vec<Object> = Vec::new();
    for (b, prefix) in cx.other_places.iter().take(MAX_OTHER_PLACES) {
        let there = Layout {
            bucket: b.clone(),
            prefix: prefix.clone(),
            ..cx.layout.clone()
        };
        let keys = cx
            .fetcher
            .s3
            .list_days(b, &there.digest_dir(), first - 86_400, cx.window_end + 7200)
            .await
            .unwrap_or_default();
        wanted.extend(
            keys.into_iter()
                .filter(|k| there.is_any_digest(k) && key_date(k).is_some_and(|d| d >= first))
                .map(|k| (b.clone(), k)),
        );
    }
    if wanted.is_empty() {
        return Ok(HashSet::new());
    }
    listed_by(cx, fetched, &wanted, asked).await
}

/// The log files among `asked` of this place that the valid digests among `wanted` (fetched
/// now) list, with the bytes they list: each such file is read and its hash compared (digest8 H1: a
/// file of another trail, or one of this trail's from before the range, rewritten with a
/// forged record, passed because a digest named it).
async fn listed_by(
    cx: &Context<'_>,
    fetched: &mut Fetched,
    wanted: &[Object],
    asked: &HashSet<String>,
) -> anyhow::Result<HashSet<String>> {
    cx.fetcher
        .fetch_into(fetched, wanted.to_vec(), vec![], false)
        .await?;
    let named: Vec<(String, String)> = wanted
        .iter()
        .filter_map(|o| match fetched.digests.get(o) {
            Some(Outcome::Valid(v)) => Some(v),
            _ => None,
        })
        .flat_map(|v| &v.digest.log_files)
        .filter(|f| f.s3_bucket == cx.layout.bucket && asked.contains(&f.s3_object))
        .map(|f| (f.s3_object.clone(), f.hash_value.clone()))
        .collect();
    let logs: Vec<Object> = named
        .iter()
        .map(|(k, _)| (cx.layout.bucket.clone(), k.clone()))
        .collect();
    cx.fetcher.fetch_into(fetched, vec![], logs, false).await?;
    Ok(named
        .into_iter()
        .filter(|(k, hash)| {
            matches!(
                fetched.logs.get(&(cx.layout.bucket.clone(), k.clone())),
                Some(LogOutcome::Hash(h)) if h == hash
            )
        })
        .map(|(k, _)| k)
        .collect())
}

/// The most other places [`listed_elsewhere`] reads.
const MAX_OTHER_PLACES: usize = 8;

/// Seconds a gap's ends may stray from its stop and start (a final digest ends when its
/// files are written, a chain starts at its StartLogging's second).
const STOP_SLACK: i64 = 2;

/// How many of the other trails' newest digest keys are read whatever their time.
const NEWEST_OTHERS: usize = 8;

/// How long after another trail's newest digest its next one is due at the latest: AWS
/// writes digests hourly, and a little slack covers a delivery running late.
const OTHERS_PERIOD: i64 = 3600 + 600;

/// Whether `k` was delivered after `newest` (another trail's newest digest here, epoch
/// seconds) and within the period in which that trail's next digest is due. A file delivered
/// later than that is no trail's pending file.
fn after_others_newest(k: &LogKey, newest: Option<i64>) -> bool {
    match (k.delivered, newest) {
        (Some(at), Some(newest)) => {
            let at = at.floor() as i64;
            at >= newest && at - newest <= OTHERS_PERIOD
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_trails_fresh_file_waits_for_its_next_digest() {
        let at = |delivered: Option<f64>| LogKey {
            key: "k".to_owned(),
            minute: 0,
            delivered,
            etag: None,
            size: None,
        };
        assert!(after_others_newest(&at(Some(1_000.0)), Some(990)));
        assert!(after_others_newest(&at(Some(990.0 + 4_200.0)), Some(990)));
        assert!(!after_others_newest(&at(Some(990.0 + 4_201.0)), Some(990)));
        assert!(!after_others_newest(&at(Some(900.0)), Some(990)));
        assert!(!after_others_newest(&at(None), Some(990)));
        assert!(!after_others_newest(&at(Some(1_000.0)), None));
    }

    #[test]
    fn the_slack_stays_below_one_digest_period() {
        for period in [60, 300, 3600] {
            assert!(slack(Some(period)) < period, "{period}");
            assert!(slack(Some(period)) >= ALLOWANCE);
        }
        // Short periods (`--digest-interval 20`): still below one period.
        for period in [2, 5, 20, 30, 40] {
            assert!(slack(Some(period)) < period, "{period}");
        }
        assert_eq!(slack(Some(20)), 15);
        assert_eq!(slack(None), ALLOWANCE);
        assert_eq!(slack(Some(0)), ALLOWANCE);
    }
}
