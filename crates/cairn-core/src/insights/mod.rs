//! CloudTrail Insights: unusual API call rates and error rates, detected per trail and
//! region from per-minute series, written as Start/End pairs of Insights events.
//!
//! The pipeline, all deterministic for a given clock:
//! - [`count`] turns newly recorded management events into per-minute counts (series and
//!   attribution counters) kept in the store; it reads the event log from a cursor, so the
//!   recording path pays nothing and every event is counted exactly once.
//! - [`detect`] holds the arithmetic of the algorithm (monitoring spec §7.2): the baseline
//!   window, mean and deviation, the threshold, and the Start/active/End rules.
//! - [`evaluate`] applies it to one closed minute of one trail and region, inside one write
//!   transaction that also advances the trail's progress, so a minute is evaluated once
//!   whoever (server loop or `cairn insights run`) gets there first.
//! - [`records`] builds the Insights records in AWS's format with reproducible ids.
//! - [`run`] drives counting and evaluation of every closed minute up to `now`.
//! - [`metric_data`] answers ListInsightsMetricData from the series.
//! - [`close`] ends the insights a trail stops evaluating, and hands a deleted trail's
//!   undelivered Insights events to its own bucket.

pub mod close;
pub mod count;
pub mod detect;
pub mod evaluate;
pub mod metric_data;
pub mod records;
pub mod run;

#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod tests;

use cairn_model::trail::{InsightType, Trail};
use cairn_store::{Connection, StoreResult, insights as store};

pub use detect::Params;

/// Keeps the arming time of a trail's Insights in step with its selectors: turning Insights
/// on (from none) starts the warm-up at `now`; turning them off forgets the detection state.
/// Call after a successful PutInsightSelectors.
pub fn selectors_changed(
    conn: &Connection,
    had_insights: bool,
    trail: &Trail,
    now: i64,
) -> StoreResult<()> {
    let arn = trail.arn();
    // Insights turned off, or a type removed: its open insights end now.
    close::close_unevaluated(conn, &arn, &trail.account, Some(trail))?;
    match (had_insights, trail.insight_selectors.is_empty()) {
        (_, true) => store::disarm(conn, &arn),
        (false, false) => store::arm(conn, &arn, now),
        (true, false) => {
            if store::armed_at(conn, &arn)?.is_none() {
                store::arm(conn, &arn, now)?;
            }
            Ok(())
        }
    }
}

/// The store's series kind for an insight type.
pub fn kind_of(t: InsightType) -> i64 {
    match t {
        InsightType::ApiCallRateInsight => store::KIND_CALL,
        InsightType::ApiErrorRateInsight => store::KIND_ERROR,
    }
}

/// The insight type of a series kind.
pub fn type_of(kind: i64) -> InsightType {
    if kind == store::KIND_ERROR {
        InsightType::ApiErrorRateInsight
    } else {
        InsightType::ApiCallRateInsight
    }
}
