//! Closing the open insights a trail stops evaluating, so every `Start` gets its `End`:
//! logging stopped (StopLogging), Insights turned off or an insight type removed
//! (PutInsightSelectors), an insight type its
//! event selectors no longer feed (PutEventSelectors), a region a trail stops covering
//! (UpdateTrail to single-region), and the trail's deletion. Each End is written at the
//! minute after the insight's last active minute, with its figures so far, as if activity
//! had returned to normal there. A deleted trail's undelivered Insights events are planned
//! into files of its own bucket before it is retired, so they never reach a later trail of
//! the same name (which has the same ARN). Where a trail made multi-region starts in the
//! regions it joins is here too ([`regions_joined`]).

use cairn_logfile::keys;
use cairn_model::trail::Trail;
use cairn_store::insights as store;
use cairn_store::{Connection, StoreResult, delivery};

use super::evaluate::{append_record, end_record, kinds};

/// Closes the open insights of the trail `arn` (in `account`) that `now_evaluated` (the
/// trail as it is now; `None` once deleted) no longer evaluates. Returns how many Ends it
/// wrote.
pub fn close_unevaluated(
    conn: &Connection,
    arn: &str,
    account: &str,
    now_evaluated: Option<&Trail>,
) -> StoreResult<usize> {
    let evaluated = |state: &store::OpenState| {
        now_evaluated.is_some_and(|t| {
            t.status.is_logging
                && !t.insight_selectors.is_empty()
                && kinds(t).contains(&state.key.kind)
                && (t.is_multi_region_trail || t.home_region == state.key.region)
        })
    };
    let mut written = 0;
    for mut state in store::open_states(conn, arn, account)? {
        if evaluated(&state) {
            continue;
        }
        let end = state.last_active + 1;
        let record = end_record(conn, &state, end)?;
        if append_record(conn, arn, &record, end)? {
            written += 1;
        }
        state.open = false;
        state.cooldown_until = end;
        store::put_state(conn, arn, &state)?;
    }
    Ok(written)
}

/// A trail being deleted: its open insights end, its undelivered Insights events are planned
/// into files of its bucket (delivered like the rest of what it had selected), and its
/// Insights state is forgotten. Call before the trail is retired.
pub fn trail_deleted(conn: &Connection, trail: &Trail, now: f64) -> StoreResult<()> {
    let arn = trail.arn();
    close_unevaluated(conn, &arn, &trail.account, None)?;
    plan_files(conn, trail, now)?;
    store::disarm(conn, &arn)
}

/// Events per Insights file at most.
const MAX_EVENTS: usize = 1000;

/// Plans `trail`'s undelivered Insights events into files (one per region and at most
/// [`MAX_EVENTS`] events) due at `now`, on the writer; returns how many. Planning a file and
/// marking its events delivered commit together, so an event lands in exactly one file.
pub fn plan_files(conn: &Connection, trail: &Trail, now: f64) -> StoreResult<usize> {
    let arn = trail.arn();
    let mut planned = 0;
    loop {
        let pending = store::undelivered(conn, &arn, MAX_EVENTS)?;
        if pending.is_empty() {
            return Ok(planned);
        }
        let mut by_region: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
        for e in pending {
            by_region.entry(e.region).or_default().push(e.seq);
        }
        for (region, seqs) in by_region {
            let seed = format!("{arn}|insight|{region}|{seqs:?}");
            let key = keys::insight_file(
                trail.s3_key_prefix.as_deref(),
                &trail.account,
                &region,
                now.floor() as i64,
                &keys::unique_suffix(&seed),
            );
            delivery::plan(conn, &arn, &region, &trail.s3_bucket_name, &key, &seqs)?;
            store::mark_delivered(conn, &arn, &seqs, &key)?;
            planned += 1;
        }
    }
}

/// A trail made multi-region at `now` starts its Insights in the regions it now covers from
/// the next minute on: never from when Insights were enabled, which evaluated days of
/// activity in regions the trail did not cover and wrote Insights events dated then
/// (insights3); a region it covered before, dropped and covers again resumes the same way.
pub fn regions_joined(conn: &Connection, trail: &Trail, now: f64) -> StoreResult<()> {
    let next = (now.floor() as i64).div_euclid(60) + 1;
    for region in store::regions(conn, &trail.account)? {
        if region != trail.home_region {
            store::set_next_minute(conn, &trail.arn(), &region, next)?;
        }
    }
    // And for regions not counted yet (their first events still waiting for the count):
    // none is evaluated before the join (insights4).
    store::set_next_minute(conn, &trail.arn(), JOINED, next)
}

/// The progress row that holds the minute a trail joined the regions it covers beyond its
/// home region: no region without progress of its own is evaluated before it.
pub const JOINED: &str = "*";
