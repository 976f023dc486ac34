//! CloudTrail → CloudWatch Logs delivery, one step per trail with a log group.
//!
//! Planning reads on a reader connection: the events after the trail's CloudWatch Logs
//! cursor, routed with the same `cairn_core::routing` as S3 delivery (logging windows,
//! regions, the selectors in force at each event), at most one PutLogEvents batch's worth
//! per round, and the Insights events the trail wrote. The writer job (`cairn_core::trail_logs::deliver`) then checks nothing moved,
//! acts as the role, ingests the records and advances the cursor in one transaction, so
//! every selected event reaches the group exactly once across crashes. A refused delivery
//! (role, permission, group gone) leaves the cursor where it was and shows in
//! GetTrailStatus; the next step tries again.

use cairn_core::routing;
use cairn_core::trail_logs::{self, Delivered, MAX_RECORD_BYTES, Planned, RegionBatch};
use cairn_model::trail::Trail;
use cairn_store::{Connection, StoreResult, delivery, insights, trail_logs as cursors, trails};
use serde_json::Value;

use crate::{Delivery, DeliveryError};

/// Most rounds (each at most one PutLogEvents batch) per trail per step.
const MAX_ROUNDS_PER_STEP: usize = 20;

/// What the CloudWatch Logs half of a step did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogsOutcome {
    /// Log events stored.
    pub events: usize,
    /// Trails whose delivery failed this step.
    pub failed: usize,
}

/// Plans one round for `trail` (read only): `None` when there is nothing after the cursor.
fn plan_round(conn: &Connection, trail: &Trail) -> StoreResult<Option<Planned>> {
    let Some(group) = &trail.cloud_watch_logs_log_group_arn else {
        return Ok(None);
    };
    let Some((cursor_group, from)) = cursors::cursor(conn, &trail.arn())? else {
        return Ok(None);
    };
    if &cursor_group != group || trail.status.windows.is_empty() {
        return Ok(None);
    }
    let windows_end = trail
        .status
        .windows
        .last()
        .and_then(|w| w.end_seq)
        .unwrap_or(i64::MAX);
    let upto = delivery::max_seq(conn)?.min(windows_end);
    if from >= upto {
        return Ok(None);
    }
    let mut batches: Vec<RegionBatch> = Vec::new();
    let (mut count, mut bytes, mut last) = (0usize, 0usize, from);
    let mut damaged = None;
    let mut failed = None;
    let arn = trail.arn();
    delivery::scan_events(conn, from, upto, |seq, record| {
        let Some(text) = record else {
            damaged = Some(seq);
            return false;
        };
        let Ok(event) = serde_json::from_str::<Value>(text) else {
            damaged = Some(seq);
            return false;
        };
        // Insights events go to the group of the trail that wrote them, as AWS sends them.
        let region = if event.get("eventCategory").and_then(Value::as_str) == Some("Insight") {
            match insights::written_by(conn, &arn, seq) {
                Ok(region) => region,
                Err(e) => {
                    failed = Some(e);
                    return false;
                }
            }
        } else {
            routing::route(trail, seq, &event)
        };
        if let Some(region) = region
            && text.len() <= MAX_RECORD_BYTES
        {
            let size = text.len() + trail_logs_overhead();
            if count > 0
                && (count >= cairn_core::logs::ingest::MAX_BATCH_EVENTS
                    || bytes + size > cairn_core::logs::ingest::MAX_BATCH_BYTES)
            {
                return false;
            }
            count += 1;
            bytes += size;
            match batches.iter_mut().find(|b| b.region == region) {
                Some(b) => b.records.push(text.to_owned()),
                None => batches.push(RegionBatch {
                    region,
                    records: vec![text.to_owned()],
                }),
            }
        }
        last = seq;
        true
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if let Some(seq) = damaged
        && last == from
    {
        tracing::error!(trail = %trail.arn(), seq,
            "a stored event cannot be read; CloudWatch Logs delivery stops before it until it is repaired");
    }
    Ok((last > from).then_some(Planned {
        from,
        to: last,
        batches,
    }))
}

fn trail_logs_overhead() -> usize {
    cairn_core::logs::ingest::EVENT_OVERHEAD
}

impl Delivery {
    /// Delivers every trail's new events to its log group at `now` (epoch seconds).
    pub(crate) async fn deliver_logs(&self, now: f64) -> Result<LogsOutcome, DeliveryError> {
        let mut out = LogsOutcome::default();
        let all = self.store.read(trails::all).await?;
        let now_ms = (now * 1000.0).floor() as i64;
        for trail in all
            .into_iter()
            .filter(|t| t.cloud_watch_logs_log_group_arn.is_some())
        {
            for _ in 0..MAX_ROUNDS_PER_STEP {
                let t = trail.clone();
                let Some(planned) = self.store.read(move |c| plan_round(c, &t)).await? else {
                    break;
                };
                let t = trail.clone();
                let done = self
                    .store
                    .write(move |c| trail_logs::deliver(c, &t, &planned, now_ms))
                    .await?
                    .map_err(|e| DeliveryError::Damaged(e.message))?;
                match done {
                    Delivered::Events(n) => out.events += n,
                    Delivered::Stale => break,
                    Delivered::Failed(why) => {
                        tracing::warn!(trail = %trail.arn(), error = %why,
                            "CloudWatch Logs delivery failed; the events stay for the next step");
                        out.failed += 1;
                        break;
                    }
                }
            }
        }
        Ok(out)
    }
}
