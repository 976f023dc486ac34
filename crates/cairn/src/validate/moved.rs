//! Log files in the places (bucket and prefix) the trail delivered to before an UpdateTrail
//! moved it, to another bucket, another prefix, or both. The chain reaches the digests there
//! through `previousDigestS3Bucket`/`previousDigestS3Object`; a file in the span those
//! digests cover that no digest lists is reported as in the trail's current place. Without
//! this, an insider could add files to the old place unseen.

use std::collections::HashMap;

use serde_json::Value;

use super::checks::{self, Context, Listing};
use super::extra::Finding;
use super::fetch::Fetched;
use super::layout::{Layout, is_backfill};
use super::traverse::Step;

/// What the chain walk found, which the check reads.
pub struct Walked<'a> {
    /// The chain, as traversed.
    pub steps: &'a [Step],
    /// Bucket → this trail's digest keys there, for every bucket the walk visited.
    pub listings: &'a HashMap<String, Vec<String>>,
    /// DescribeTrails' trails.
    pub trails: &'a [Value],
    /// Where listings begin (a day before the requested start).
    pub list_from: i64,
}

impl Walked<'_> {
    /// Unlisted log files in every bucket the walk visited besides the current one, and the
    /// notices of checks that were skipped.
    pub async fn unlisted_in_old_buckets(
        &self,
        cx: &Context<'_>,
        fetched: &mut Fetched,
    ) -> anyhow::Result<(Vec<Finding>, Vec<String>)> {
        let Walked {
            steps,
            listings,
            trails,
            list_from,
        } = *self;
        let (mut findings, mut notices) = (Vec::new(), Vec::new());
        let here = (
            cx.layout.bucket.clone(),
            no_prefix(cx.layout.prefix.as_deref()),
        );
        for (b, prefix) in former_places(steps, listings, &cx.layout.prefix) {
            if (b.clone(), prefix.clone()) == here {
                continue;
            }
            let old = Layout {
                bucket: b.clone(),
                prefix: prefix.clone(),
                ..cx.layout.clone()
            };
            // This trail's digests in that place: listed there, or found by the walk.
            let mut own: Vec<String> = listings
                .get(&b)
                .into_iter()
                .flatten()
                .filter(|k| old.is_own_digest(k))
                .cloned()
                .chain(steps.iter().filter_map(|s| match s {
                    Step::Valid { bucket, key, .. } if *bucket == b && old.is_own_digest(key) => {
                        Some(key.clone())
                    }
                    _ => None,
                }))
                .collect();
            own.sort();
            own.dedup();
            // Other trails' digests there may list files too.
            let dir = old.digest_dir();
            let listed = cx
                .fetcher
                .s3
                .list_days(&b, &dir, list_from, cx.window_end + 7200)
                .await?;
            let others: Vec<String> = listed
                .iter()
                .filter(|k| !old.is_own_digest(k) && old.is_any_digest(k) && !is_backfill(k))
                .cloned()
                .collect();
            let log_keys = checks::list_logs(&cx.fetcher.s3, &old, cx.window_end + 7200).await?;
            let context = Context {
                layout: &old,
                fetcher: cx.fetcher,
                arn: cx.arn,
                start: cx.start,
                window_end: cx.window_end,
                own: &own,
                own_after: None,
                latest_digest: None,
                period: cx.period,
                always_digested: false,
                status_here: false,
                moved_away: true,
                off: cx.off.clone(),
                final_missing: Vec::new(),
                stopped: Vec::new(),
                other_places: Vec::new(),
                sealed_at: None,
            };
            // The whole chain: digests in the new bucket list files delivered to the old one
            // before the move, and its span runs on past the move, when nothing more can be
            // delivered here (a later file is first noted as not yet listed, then reported).
            let listing = Listing {
                steps,
                later: None,
                log_keys: &log_keys,
                others: &others,
                trails,
            };
            let (found, notice) = checks::unlisted_logs(&context, &listing, fetched).await?;
            findings.extend(found);
            notices.extend(notice);
        }
        Ok((findings, notices))
    }
}

fn no_prefix(p: Option<&str>) -> Option<String> {
    p.filter(|p| !p.is_empty()).map(str::to_owned)
}

/// The prefix of a digest key: what comes before `AWSLogs/` (none at the bucket's root).
fn prefix_of(key: &str) -> Option<Option<String>> {
    // The last `AWSLogs/` that begins a path segment: a prefix may hold `AWSLogs/` itself,
    // even another trail's log folder (digest10 K2), the rest of a digest key never does.
    let at = key
        .rmatch_indices("AWSLogs/")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || key.as_bytes()[i - 1] == b'/')?;
    Some(if at == 0 {
        None
    } else {
        no_prefix(Some(&key[..at - 1]))
    })
}

/// Keys under the places of other trails (DescribeTrails) in the same bucket whose prefix
/// lies inside the folder `dir` (digest10 K2: a trail with the prefix
/// `AWSLogs/<acct>/CloudTrail/<region>/nest` delivers inside another's log folder, and its
/// files were reported there as unlisted). Returns the key beginnings to leave out.
pub fn nested_places(trails: &[serde_json::Value], bucket: &str, dir: &str) -> Vec<String> {
    trails
        .iter()
        .filter(|t| t["S3BucketName"] == bucket)
        .filter_map(|t| t["S3KeyPrefix"].as_str())
        .map(|p| format!("{}/AWSLogs/", p.trim_end_matches('/')))
        .filter(|p| p.starts_with(dir))
        .collect()
}

/// Every place (bucket, prefix) the walk found this trail's digests in, and every bucket it
/// listed (with the current prefix), in order.
fn former_places(
    steps: &[Step],
    listings: &HashMap<String, Vec<String>>,
    prefix: &Option<String>,
) -> Vec<(String, Option<String>)> {
    let mut places: Vec<(String, Option<String>)> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Valid { bucket, key, .. } => Some((bucket.clone(), prefix_of(key)?)),
            _ => None,
        })
        .chain(
            listings
                .keys()
                .map(|b| (b.clone(), no_prefix(prefix.as_deref()))),
        )
        .collect();
    places.sort();
    places.dedup();
    places
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_keys_prefix_is_what_comes_before_awslogs() {
        let key = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/12/04/x.json.gz";
        assert_eq!(prefix_of(key), Some(None));
        assert_eq!(
            prefix_of(&format!("a/b/{key}")),
            Some(Some("a/b".to_owned()))
        );
        assert_eq!(prefix_of("elsewhere/x.json.gz"), None);
        // digest10 K2: a prefix inside another trail's log folder.
        let nest = "AWSLogs/1/CloudTrail/us-east-1/nest";
        assert_eq!(
            prefix_of(&format!("{nest}/{key}")),
            Some(Some(nest.to_owned()))
        );
        assert_eq!(
            prefix_of(&format!("xAWSLogs/{key}")),
            Some(Some("xAWSLogs".to_owned()))
        );
    }
}
