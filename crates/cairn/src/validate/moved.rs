//! Log files in buckets the trail delivered to before an UpdateTrail moved it. The chain
//! reaches the digests there through `previousDigestS3Bucket`; a file in the span those
//! digests cover that no digest lists is reported as in the trail's current bucket. Without
//! this, an insider could add files to the old bucket unseen.

use std::collections::HashMap;

use serde_json::Value;

use super::checks::{self, Context, Listing};
use super::extra::Finding;
use super::fetch::Fetched;
use super::layout::{Layout, day, is_backfill};
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
        let mut old_buckets: Vec<&String> = listings
            .keys()
            .filter(|b| **b != cx.layout.bucket)
            .collect();
        old_buckets.sort();
        for b in old_buckets {
            let old = Layout {
                bucket: b.clone(),
                ..cx.layout.clone()
            };
            // Other trails' digests there may list files too.
            let dir = old.digest_dir();
            let stop = day(cx.window_end + 7200);
            let listed = cx
                .fetcher
                .s3
                .list(b, &dir, Some(&format!("{dir}{}", day(list_from))), |page| {
                    page.last()
                        .and_then(|k| Layout::day_of(k, &dir))
                        .is_some_and(|d| d > stop.as_str())
                })
                .await?;
            let others: Vec<String> = listed
                .iter()
                .filter(|k| !old.is_own_digest(k) && old.is_any_digest(k) && !is_backfill(k))
                .cloned()
                .collect();
            let log_keys =
                checks::list_logs(&cx.fetcher.s3, &old, list_from - 60, cx.window_end + 7200)
                    .await?;
            let context = Context {
                layout: &old,
                fetcher: cx.fetcher,
                arn: cx.arn,
                start: cx.start,
                window_end: cx.window_end,
                own: &listings[b],
                own_after: None,
                latest_digest: None,
                period: cx.period,
                always_digested: false,
                status_here: false,
                moved_away: true,
                off: cx.off.clone(),
                final_missing: Vec::new(),
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
