//! CloudTrail → CloudWatch Logs delivery, one step per trail with a log group.
//!
//! Planning reads on a reader connection: the events after the trail's CloudWatch Logs
//! cursor, routed with the same `cairn_core::routing` as S3 delivery (logging windows,
//! regions, the selectors in force at each event), at most one PutLogEvents batch's worth
//! per round, and the Insights events the trail wrote. The writer job
//! (`cairn_core::trail_logs::deliver`) then checks nothing moved, acts as the role, ingests
//! the records and advances the cursors in one transaction, so every selected event reaches
//! the group exactly once across failures and crashes.
//!
//! Every region's records go to the trail's one stream (`<account>_CloudTrail_<home
//! region>`). A step first runs the *leading* lane: the events after the trail's cursor. A
//! region that lags (a batch the group refused, or a store written by builds that kept a
//! stream per region) then catches up on its own events up to the trail's cursor. A round
//! whose span of seqs fails the event chain check (an event edited, deleted or inserted in the
//! store) is held back whole, as S3 delivery holds a file, with `InternalError` in
//! `LatestCloudWatchLogsDeliveryError`. A refused
//! delivery shows in GetTrailStatus and leaves every cursor where it was (the role's trust or
//! permission, the group gone). The next step tries again.

use cairn_core::routing;
use cairn_core::trail_logs::{self, Delivered, Lane, MAX_RECORD_BYTES, Planned, RegionBatch};
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
    /// Log events that stayed undelivered after this step's failed deliveries (at most one
    /// round's worth per lane): they wait for a later step.
    pub failed: usize,
}

/// Plans one round of `lane` for `trail` (read only): `None` when the lane has nothing to
/// deliver. The leading lane runs from the trail's cursor to the newest event, skipping the
/// lagging regions' events; a lagging region's lane runs from its own seq to the trail's
/// cursor and takes that region's events only.
fn plan_round(
    conn: &Connection,
    trail: &Trail,
    lagging_region: Option<&str>,
) -> StoreResult<Option<Round>> {
    let Some(group) = &trail.cloud_watch_logs_log_group_arn else {
        return Ok(None);
    };
    let Some((cursor_group, cursor)) = cursors::cursor(conn, &trail.arn())? else {
        return Ok(None);
    };
    if &cursor_group != group || trail.status.windows.is_empty() {
        return Ok(None);
    }
    let lagging = cursors::lagging(conn, &trail.arn())?;
    let (from, upto, lane) = match lagging_region {
        None => {
            let upto = delivery::max_seq(conn)?.min(crate::plan::windows_end(trail));
            (
                cursor,
                upto,
                Lane::Leading {
                    lagging: lagging.clone(),
                },
            )
        }
        Some(region) => {
            let Some((_, seq)) = lagging.iter().find(|(r, _)| r == region) else {
                return Ok(None);
            };
            (
                *seq,
                cursor,
                Lane::Lagging {
                    region: region.to_owned(),
                },
            )
        }
    };
    // Whether this lane carries a record of `region`.
    let takes = |region: &str| match lagging_region {
        None => !lagging.iter().any(|(r, _)| r == region),
        Some(only) => region == only,
    };
    scan_round(conn, trail, (from, upto), lane, takes)
}

/// Plans one round of a group `trail` no longer writes to: its events from the closing's
/// cursor up to the call that took the group away (within the trail's logging windows).
fn plan_closing_round(
    conn: &Connection,
    trail: &Trail,
    closing: &cursors::Closing,
) -> StoreResult<Option<Round>> {
    let lane = Lane::Closing {
        group_arn: closing.group_arn.clone(),
        end_seq: closing.end_seq,
    };
    if trail.status.windows.is_empty() {
        // Never logged: nothing is owed; the closing ends.
        return Ok(Some(Round::Deliver(Planned {
            from: closing.seq,
            to: closing.end_seq,
            lane,
            batches: Vec::new(),
        })));
    }
    // Up to the call that took the group away; routing leaves out what lies outside the
    // trail's logging windows, so the lane always reaches its end.
    let upto = closing.end_seq.min(delivery::max_seq(conn)?);
    scan_round(conn, trail, (closing.seq, upto), lane, |_| true)
}

/// The records of `trail` in `from + 1 ..= upto` that `takes` (by region), at most one
/// PutLogEvents batch's worth, as one round of `lane`.
fn scan_round(
    conn: &Connection,
    trail: &Trail,
    (from, upto): (i64, i64),
    lane: Lane,
    takes: impl Fn(&str) -> bool,
) -> StoreResult<Option<Round>> {
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
            && takes(&region)
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
    if last <= from {
        return Ok(None);
    }
    // The chain must hold over the round's span (every event unedited, none deleted or
    // inserted), as over an S3 file's: a broken span is held back, whole.
    if let Err(b) = cairn_store::events::verify_chain(conn, from + 1, last) {
        tracing::error!(trail = %trail.arn(), from = from + 1, to = last, error = %b,
            "the event chain is broken; CloudWatch Logs delivery holds the span back until it is repaired");
        let held = batches
            .iter()
            .map(|b| b.records.len())
            .sum::<usize>()
            .max(1);
        return Ok(Some(Round::Broken { held }));
    }
    Ok(Some(Round::Deliver(Planned {
        from,
        to: last,
        lane,
        batches,
    })))
}

/// A planned round: records to deliver, or a span whose event chain does not hold.
enum Round {
    /// Deliver these records.
    Deliver(Planned),
    /// The span's chain is broken: nothing of it is delivered (`held` log events wait).
    Broken { held: usize },
}

/// `LatestCloudWatchLogsDeliveryError` of a span held back because its chain is broken: the
/// code S3 delivery reports for the same damage, with AWS's text for it.
pub const BROKEN_CHAIN_ERROR: &str =
    "InternalError: We encountered an internal error. Please try again.";

fn trail_logs_overhead() -> usize {
    cairn_core::logs::ingest::EVENT_OVERHEAD
}

impl Delivery {
    /// Delivers every trail's new events to its log group at `now` (epoch seconds): what a
    /// group the trail no longer writes to is still owed, the leading lane, then each lagging
    /// region's lane.
    pub(crate) async fn deliver_logs(&self, now: f64) -> Result<LogsOutcome, DeliveryError> {
        let mut out = LogsOutcome::default();
        let all = self.store.read(trails::all).await?;
        let now_ms = (now * 1000.0).floor() as i64;
        let closing = self.store.read(cursors::all_closing).await?;
        for (arn, c) in &closing {
            if let Some(trail) = all.iter().find(|t| t.arn() == *arn) {
                self.closing_lane(trail, c, now_ms, &mut out).await?;
            }
        }
        for trail in all
            .into_iter()
            .filter(|t| t.cloud_watch_logs_log_group_arn.is_some())
        {
            // Regions refused in this step wait for the next one.
            let mut refused: Vec<String> = Vec::new();
            if self
                .lane(&trail, None, now_ms, &mut out, &mut refused)
                .await?
            {
                let arn = trail.arn();
                let lagging = self.store.read(move |c| cursors::lagging(c, &arn)).await?;
                for (region, _) in lagging {
                    if !refused.contains(&region) {
                        self.lane(&trail, Some(&region), now_ms, &mut out, &mut refused)
                            .await?;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Runs up to [`MAX_ROUNDS_PER_STEP`] rounds of a closing group's lane of `trail`; a
    /// failure (or a broken chain) leaves it for the next step.
    async fn closing_lane(
        &self,
        trail: &Trail,
        closing: &cursors::Closing,
        now_ms: i64,
        out: &mut LogsOutcome,
    ) -> Result<(), DeliveryError> {
        let mut closing = closing.clone();
        for _ in 0..MAX_ROUNDS_PER_STEP {
            let (t, c) = (trail.clone(), closing.clone());
            let planned = self
                .store
                .read(move |conn| plan_closing_round(conn, &t, &c))
                .await?;
            let planned = match planned {
                Some(Round::Deliver(p)) => p,
                Some(Round::Broken { held }) => {
                    out.failed += held;
                    break;
                }
                None => break,
            };
            let to = planned.to;
            let t = trail.clone();
            let done = self
                .store
                .write(move |c| trail_logs::deliver(c, &t, &planned, now_ms))
                .await?
                .map_err(|e| DeliveryError::Damaged(e.message))?;
            let Delivered::Done(report) = done else {
                break;
            };
            out.events += report.stored;
            if let Some(why) = report.error {
                out.failed += report.held;
                tracing::warn!(trail = %trail.arn(), group = %closing.group_arn, error = %why,
                    "CloudWatch Logs delivery to a group the trail left failed; the events stay for the next step");
                break;
            }
            closing.seq = to;
        }
        Ok(())
    }

    /// Runs up to [`MAX_ROUNDS_PER_STEP`] rounds of one lane of `trail`; `false` when a
    /// failure concerned every stream (the trail's other lanes would fail the same way).
    async fn lane(
        &self,
        trail: &Trail,
        lagging_region: Option<&str>,
        now_ms: i64,
        out: &mut LogsOutcome,
        refused: &mut Vec<String>,
    ) -> Result<bool, DeliveryError> {
        for _ in 0..MAX_ROUNDS_PER_STEP {
            let (t, region) = (trail.clone(), lagging_region.map(str::to_owned));
            let Some(planned) = self
                .store
                .read(move |c| plan_round(c, &t, region.as_deref()))
                .await?
            else {
                break;
            };
            let planned = match planned {
                Round::Deliver(planned) => planned,
                Round::Broken { held } => {
                    out.failed += held;
                    let arn = trail.arn();
                    self.store
                        .write(move |c| {
                            crate::worker::update_trail(c, &arn, |t| {
                                t.status.delivery.latest_cloud_watch_logs_delivery_error =
                                    Some(BROKEN_CHAIN_ERROR.to_owned());
                            })
                        })
                        .await??;
                    // Every stream's records lie in the span: the trail waits.
                    return Ok(false);
                }
            };
            let t = trail.clone();
            let done = self
                .store
                .write(move |c| {
                    let done = trail_logs::deliver(c, &t, &planned, now_ms);
                    crash_before_log_commit();
                    done
                })
                .await?
                .map_err(|e| DeliveryError::Damaged(e.message))?;
            let Delivered::Done(report) = done else {
                break;
            };
            out.events += report.stored;
            let Some(why) = report.error else { continue };
            out.failed += report.held;
            tracing::warn!(trail = %trail.arn(), error = %why, held = report.held,
                "CloudWatch Logs delivery failed; the events stay for the next step");
            if report.refused.is_empty() {
                // Every stream would fail the same way: the trail waits for the next step.
                return Ok(false);
            }
            refused.extend(report.refused);
            if lagging_region.is_some() {
                break;
            }
        }
        Ok(true)
    }
}

/// Test hook for the crash window exactly-once delivery must survive: with
/// `CAIRN_FAULT_ABORT_BEFORE_LOG_COMMIT` set, the process ends inside the write job of a
/// CloudWatch Logs delivery, after the log events were ingested and the cursors moved and
/// before the transaction commits (crates/cairn/tests/it/trail_logs.rs).
fn crash_before_log_commit() {
    static SET: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *SET.get_or_init(|| std::env::var_os("CAIRN_FAULT_ABORT_BEFORE_LOG_COMMIT").is_some()) {
        std::process::abort();
    }
}
