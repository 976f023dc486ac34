//! Retention (spec monitoring.md §1.3 PutRetentionPolicy): expired events are deleted by a
//! sweep that takes `now`, so tests drive it with a controllable clock. Logs Insights answers
//! older than 7 days and metric datapoints older than 455 days go the same way.

use cairn_store::Connection;
use cairn_store::logs::{self as store, events, filters};

use crate::error::ApiResult;

/// How long Logs Insights answers are kept.
pub const QUERY_RESULTS_MS: i64 = 7 * 86_400_000;
/// How long metric datapoints are kept (the longest CloudWatch retention).
pub const METRIC_POINTS_MS: i64 = 455 * 86_400_000;

/// One sweep step as of `now_ms`: deletes at most `batch` events of deleted groups and streams
/// and `batch` expired events per group (and the old query answers and datapoints). Returns
/// how many events were deleted; call again while it returns `batch` or more.
pub fn sweep(conn: &Connection, now_ms: i64, batch: i64) -> ApiResult<usize> {
    // Events of deleted groups and streams first ([`cairn_store::logs::purge`]).
    let mut total = cairn_store::logs::purge::step(conn, batch)?;
    for (group_id, days) in store::retained_groups(conn)? {
        total += events::expire(conn, group_id, now_ms - days * 86_400_000, batch)?;
    }
    filters::expire_queries(conn, now_ms - QUERY_RESULTS_MS)?;
    crate::metrics::expire(conn, now_ms - METRIC_POINTS_MS)?;
    Ok(total)
}
