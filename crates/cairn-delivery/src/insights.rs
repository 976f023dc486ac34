//! Planning Insights files: each trail's Insights events not yet delivered become one file
//! per region under `CloudTrail-Insight/` (`cairn_core::insights::close::plan_files`),
//! planned in the same ledger as its log files. The worker then writes them like log files
//! (bucket-policy check, SNS notification) and the trail's digests list them.

use cairn_store::insights as store;
use cairn_store::{Connection, StoreResult, trails};

/// Plans the Insights files due at `now` (on the writer); returns how many.
pub(crate) fn plan(conn: &Connection, now: f64) -> StoreResult<usize> {
    let mut planned = 0;
    let live = trails::all(conn)?;
    for arn in store::trails_with_pending(conn)? {
        let Some(trail) = live.iter().find(|t| t.arn() == arn) else {
            continue;
        };
        planned += cairn_core::insights::close::plan_files(conn, trail, now)?;
    }
    Ok(planned)
}
