//! Driving Insights up to a clock: count what was recorded, then evaluate, per trail with
//! Insights and region it covers, every minute closed by `now` (plus the settle lag) that
//! was not evaluated yet. The server's once-a-minute loop and `cairn insights run --now`
//! call the same [`run_once`]; each batch of minutes commits with the trail's progress, and
//! commits only if the progress is still where the batch began, so two evaluators never
//! write an event twice.

use cairn_model::trail::Trail;
use cairn_store::insights as store;
use cairn_store::{Connection, Store, StoreResult, trails, with_savepoint};

use super::count;
use super::detect::{DAY, Params};
use super::evaluate::{evaluate_minute, kinds};

/// Events counted per counting batch.
const COUNT_BATCH: i64 = 50_000;
/// Minutes evaluated per write transaction.
const MINUTES_PER_JOB: i64 = 60;

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Events read into the series.
    pub counted: usize,
    /// (trail, region, minute) evaluations.
    pub minutes: usize,
    /// Insights events written.
    pub written: usize,
}

/// The parameters with the warm-up the server last ran with (the default if never set).
pub fn params_from_store(store: &Store) -> StoreResult<Params> {
    let warm_up = store.read_blocking(store::warm_up)?;
    let mut p = Params::default();
    if let Some(w) = warm_up {
        p.warm_up_secs = w;
    }
    Ok(p)
}

/// The last minute closed by `now` with the settle lag.
pub fn last_closed_minute(now: i64, p: &Params) -> i64 {
    (now - p.settle_lag_secs).div_euclid(60) - 1
}

/// Counts every event recorded before the call into the series. Events recorded meanwhile
/// are left to the next call: chasing the head while writers append would hold a core and
/// the writer for as long as they keep up, in batches of a few events each.
pub fn count_all(store: &Store) -> StoreResult<usize> {
    let head = store.read_blocking(|c| cairn_store::events::chain::head(c).map(|h| h.seq))?;
    let mut total = 0;
    loop {
        let batch = store.read_blocking(move |c| count::plan(c, COUNT_BATCH, head))?;
        if batch.to == batch.from {
            return Ok(total);
        }
        let n = batch.events;
        let applied =
            store.write_blocking(move |c| with_savepoint(c, |c| count::apply(c, &batch)))??;
        if applied {
            total += n;
        }
    }
}

/// The first minute a trail's Insights may evaluate: the minute its warm-up (counted from
/// enabling Insights or from the latest StartLogging, whichever is later) ends in.
fn first_minute(conn: &Connection, trail: &Trail, now: i64, p: &Params) -> StoreResult<i64> {
    let armed = store::armed_at(conn, &trail.arn())?.unwrap_or(now);
    // Logging restarted after Insights were enabled restarts the warm-up, as on AWS.
    let started = trail
        .status
        .start_logging_time
        .map(|t| t.floor() as i64)
        .unwrap_or(armed);
    Ok((armed.max(started) + p.warm_up_secs).div_euclid(60))
}

fn trail_by_arn(conn: &Connection, arn: &str) -> StoreResult<Option<Trail>> {
    Ok(trails::all(conn)?.into_iter().find(|t| t.arn() == arn))
}

fn regions(conn: &Connection, trail: &Trail) -> StoreResult<Vec<String>> {
    if trail.is_multi_region_trail {
        store::regions(conn, &trail.account)
    } else {
        Ok(vec![trail.home_region.clone()])
    }
}

/// Evaluates minutes `from..=to` of one trail and region if its progress is still `from`
/// (on the writer). Returns (minutes evaluated, events written).
fn evaluate_span(
    conn: &Connection,
    arn: &str,
    region: &str,
    expected: Option<i64>,
    from: i64,
    to: i64,
    p: &Params,
) -> StoreResult<(usize, usize)> {
    if store::next_minute(conn, arn, region)? != expected {
        return Ok((0, 0));
    }
    let Some(trail) = trail_by_arn(conn, arn)? else {
        return Ok((0, 0));
    };
    if trail.insight_selectors.is_empty() || !trail.status.is_logging {
        return Ok((0, 0));
    }
    // Planned before an UpdateTrail made the trail single-region: not its region any more.
    if !trail.is_multi_region_trail && region != trail.home_region {
        return Ok((0, 0));
    }
    let mut written = 0;
    for t in from..=to {
        for kind in kinds(&trail) {
            written += evaluate_minute(conn, &trail, region, kind, t, p)?.len();
        }
    }
    store::set_next_minute(conn, arn, region, to + 1)?;
    Ok(((to - from + 1) as usize, written))
}

/// Counts, then evaluates every closed minute up to `now` for every trail with Insights.
/// While no trail has Insights nothing is counted (no cost on a store that never uses them);
/// the first step after Insights are enabled counts every event recorded since the cursor,
/// so events from before still count toward the baseline.
pub fn run_once(store: &Store, now: i64, p: &Params) -> StoreResult<Report> {
    let wanted = store.read_blocking(|c| {
        Ok(trails::all(c)?
            .iter()
            .any(|t| !t.insight_selectors.is_empty()))
    })?;
    let mut report = Report {
        counted: if wanted { count_all(store)? } else { 0 },
        ..Report::default()
    };
    let last = last_closed_minute(now, p);
    // Trails whose Insights were enabled before this store kept arming times start their
    // warm-up now.
    store.write_blocking(move |c| -> StoreResult<()> {
        for trail in trails::all(c)? {
            if !trail.insight_selectors.is_empty() && store::armed_at(c, &trail.arn())?.is_none() {
                store::arm(c, &trail.arn(), now)?;
            }
        }
        Ok(())
    })??;
    let plans = store.read_blocking(|c| {
        let mut plans = Vec::new();
        for trail in trails::all(c)? {
            if trail.insight_selectors.is_empty() || !trail.status.is_logging {
                continue;
            }
            let first = first_minute(c, &trail, now, p)?;
            let joined = store::next_minute(c, &trail.arn(), super::close::JOINED)?;
            for region in regions(c, &trail)? {
                let next = store::next_minute(c, &trail.arn(), &region)?;
                // A region beyond the home one starts no earlier than the trail joined it.
                let floor = match joined {
                    Some(j) if region != trail.home_region => first.max(j),
                    _ => first,
                };
                plans.push((trail.arn(), region, next, floor));
            }
        }
        Ok(plans)
    })?;
    for (arn, region, mut expected, first) in plans {
        // Never look further back than the series reach.
        let mut from = expected
            .unwrap_or(first)
            .max(first)
            .max(last - p.series_days * DAY);
        while from <= last {
            let to = (from + MINUTES_PER_JOB - 1).min(last);
            let (a, r, p2) = (arn.clone(), region.clone(), *p);
            let (minutes, written) = store.write_blocking(move |c| {
                with_savepoint(c, |c| evaluate_span(c, &a, &r, expected, from, to, &p2))
            })??;
            if minutes == 0 {
                break;
            }
            report.minutes += minutes;
            report.written += written;
            expected = Some(to + 1);
            from = to + 1;
        }
    }
    // Prune from the earlier of `now` and the real clock: a mistyped future `--now` may mark
    // minutes evaluated, but never erases the series and counters kept for the real present.
    let reach = last.min(last_closed_minute(chrono::Utc::now().timestamp(), p));
    let p2 = *p;
    store.write_blocking(move |c| {
        store::prune(
            c,
            reach - p2.series_days * DAY,
            reach - p2.attribution_days * DAY,
        )
    })??;
    Ok(report)
}
