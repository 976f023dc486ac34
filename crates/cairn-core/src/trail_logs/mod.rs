//! CloudTrail → CloudWatch Logs (spec monitoring.md §5, iam-kms.md §9.3): the checks
//! CreateTrail/UpdateTrail make on `CloudWatchLogsLogGroupArn` and `CloudWatchLogsRoleArn`
//! ([`check`]), the cursor they set ([`configure`]), and one delivery step's writer half
//! ([`deliver`]), which ingests a trail's records into its group as the role and advances
//! the trail's cursor in one transaction.
//!
//! CloudTrail acts as the role: it assumes it as `cloudtrail.amazonaws.com` (the trust
//! policy sees `aws:SourceArn` = the trail ARN and `aws:SourceAccount`), and the session may
//! write only what the role's identity policies allow on the stream
//! `<account>_CloudTrail_<trail region>`. Both checks run at configuration time and again on
//! every delivery, so a role that loses its permission stops delivery (with a truthful
//! `LatestCloudWatchLogsDeliveryError`) and delivery resumes from the same cursor when it is
//! restored.
//!
//! Every region's events of a multi-region trail go to that one stream, named after the
//! trail's home region, as the user guide names it ("CloudWatch log group and log stream
//! naming for CloudTrail": `account_ID_CloudTrail_trail_region`), so the documented role
//! policy (`…:log-stream:<account>_CloudTrail_<home region>*`), which the console's wizard
//! makes for its multi-region trails, is enough. A refusal (the group is gone, CloudTrail may
//! not assume the role or write the stream) moves nothing. Stores from builds that wrote a
//! stream per region may still hold a lagging region's cursor: its lane now writes the same
//! stream.

mod role;

use cairn_model::trail::Trail;
use cairn_store::{Connection, trail_logs, trails};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::logs::ingest::{self, InputEvent};
use crate::logs::{GroupKey, check_group_name, streams};

pub use role::{RoleDenied, role_may_write};

/// CloudTrail does not send records larger than this to CloudWatch Logs.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

/// The stream CloudTrail writes a trail's records to (`region`: the trail's home region).
pub fn stream_name(account: &str, region: &str) -> String {
    format!("{account}_CloudTrail_{region}")
}

fn cannot_validate() -> ApiError {
    ApiError::new(
        ErrorKind::InvalidCloudWatchLogsLogGroupArn,
        "CloudTrail cannot validate the specified log group ARN.",
    )
}

/// The group a trail's `CloudWatchLogsLogGroupArn` names: `arn:aws:logs:<region>:<account>:
/// log-group:<name>:*`, in the trail's home region and account. The bare group ARN (no
/// `:*`) is refused, as AWS refuses it.
pub fn parse_group_arn(arn: &str, region: &str, account: &str) -> ApiResult<GroupKey> {
    let prefix = format!("arn:aws:logs:{region}:{account}:log-group:");
    let name = arn
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(":*"))
        .filter(|n| !n.contains(':'))
        .ok_or_else(cannot_validate)?;
    check_group_name(name, "logGroupName").map_err(|_| cannot_validate())?;
    Ok(GroupKey {
        account: account.to_owned(),
        region: region.to_owned(),
        name: name.to_owned(),
    })
}

/// The "both or neither" rule: a log group needs a role and a role needs a log group.
pub fn check_pair(trail: &Trail) -> ApiResult<()> {
    if trail.cloud_watch_logs_log_group_arn.is_some() != trail.cloud_watch_logs_role_arn.is_some() {
        return Err(ApiError::new(
            ErrorKind::InvalidCloudWatchLogsRoleArn,
            "You must specify a role ARN as well as a log group.",
        ));
    }
    Ok(())
}

/// What CreateTrail/UpdateTrail check when they set a log group: the group ARN's form, the
/// group's existence, that CloudTrail may assume the role, and that the role may create the
/// home region's stream and put events in it. The stream is created if it does not exist.
pub fn check(conn: &Connection, ctx: &CallContext, trail: &Trail) -> ApiResult<()> {
    check_pair(trail)?;
    let (Some(group_arn), Some(role_arn)) = (
        &trail.cloud_watch_logs_log_group_arn,
        &trail.cloud_watch_logs_role_arn,
    ) else {
        return Ok(());
    };
    let key = parse_group_arn(group_arn, &trail.home_region, &trail.account)?;
    if cairn_store::logs::get_group(conn, &key.account, &key.region, &key.name)?.is_none() {
        return Err(cannot_validate());
    }
    let stream = stream_name(&trail.account, &trail.home_region);
    let stream_arn = crate::logs::stream_arn(&key.region, &key.account, &key.name, &stream);
    match role_may_write(conn, &trail.account, &trail.arn(), role_arn, &stream_arn)? {
        Ok(()) => {}
        Err(denied) => return Err(denied.create_error()),
    }
    streams::ensure(conn, &key, &stream, crate::logs::now_ms(ctx))?;
    Ok(())
}

/// Keeps the trail's delivery cursor in step with its settings (in the CreateTrail or
/// UpdateTrail transaction, after [`check`]): a new or changed group starts delivering with
/// the events recorded from this call on; a cleared or changed group drops the cursor, and
/// the group the trail wrote to (`previous`: its group and role ARNs) is still owed what the
/// trail recorded up to this call, this call's own event included, so an UpdateTrail that
/// takes the trail's group away still reaches that group's metric filters.
pub fn configure(
    conn: &Connection,
    trail: &Trail,
    previous: Option<(&str, &str)>,
) -> ApiResult<()> {
    let arn = trail.arn();
    let cursor = trail_logs::cursor(conn, &arn)?;
    let same = cursor
        .as_ref()
        .is_some_and(|(g, _)| Some(g) == trail.cloud_watch_logs_log_group_arn.as_ref());
    if same {
        return Ok(());
    }
    let this_call = cairn_store::events::next_seq(conn)?;
    if let (Some((group, seq)), Some((previous_group, role))) = (&cursor, previous)
        && group == previous_group
        && trail_logs::lagging(conn, &arn)?.is_empty()
    {
        let closing = trail_logs::Closing {
            group_arn: group.clone(),
            role_arn: role.to_owned(),
            seq: *seq,
            end_seq: this_call,
        };
        trail_logs::add_closing(conn, &arn, &closing)?;
    }
    match &trail.cloud_watch_logs_log_group_arn {
        None => trail_logs::clear(conn, &arn)?,
        Some(group) => {
            trail_logs::set_cursor(conn, &arn, group, this_call - 1)?;
            trail_logs::clear_lagging(conn, &arn)?;
        }
    }
    Ok(())
}

/// Records of one source region, in seq order, for that region's stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionBatch {
    /// The region the events were recorded in.
    pub region: String,
    /// The canonical record JSON of each event.
    pub records: Vec<String>,
}

/// Which streams a planned delivery moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Every region's stream but the lagging ones (as planned: region and seq, by region),
    /// from the trail's cursor on; a stream that refuses starts lagging where it was.
    Leading {
        /// The trail's lagging regions when planned.
        lagging: Vec<(String, i64)>,
    },
    /// One lagging region's stream, from its own seq towards the trail's cursor.
    Lagging {
        /// The region.
        region: String,
    },
    /// A group the trail no longer writes to, from its closing cursor towards the seq of the
    /// call that took it away (`cairn_store::trail_logs::Closing`).
    Closing {
        /// The group's ARN.
        group_arn: String,
        /// The seq of the call that took the group away.
        end_seq: i64,
    },
}

/// What one planned delivery carries: the cursor it was planned from, the cursor after it,
/// and the records (already routed and filtered) per region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The lane's cursor when planned (the trail's, or the lagging region's).
    pub from: i64,
    /// The lane's cursor once delivered.
    pub to: i64,
    /// The streams it moves.
    pub lane: Lane,
    /// The records.
    pub batches: Vec<RegionBatch>,
}

/// What a delivery that ran did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Log events stored.
    pub stored: usize,
    /// Log events not stored because their stream (or the whole delivery) failed; they wait
    /// for a later delivery.
    pub held: usize,
    /// The failure, as `LatestCloudWatchLogsDeliveryError` shows it.
    pub error: Option<String>,
    /// The regions whose stream refused its records; empty with an error when the failure
    /// concerned every stream.
    pub refused: Vec<String>,
}

/// What [`deliver`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// It ran: each stream stored all its records or none (see the report).
    Done(Report),
    /// The trail changed or another step delivered meanwhile: nothing done.
    Stale,
}

/// Splits records into PutLogEvents batches (≤ 10,000 events, ≤ 1 MiB counting 26 bytes per
/// event).
fn put_batches(records: &[String]) -> Vec<&[String]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, r) in records.iter().enumerate() {
        let size = r.len() + ingest::EVENT_OVERHEAD;
        if i > start
            && (i - start >= ingest::MAX_BATCH_EVENTS || bytes + size > ingest::MAX_BATCH_BYTES)
        {
            out.push(&records[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < records.len() {
        out.push(&records[start..]);
    }
    out
}

/// Delivers `planned` for `trail` at `now_ms` in the caller's write job, if the trail and
/// the lane's cursor are as planned. As the role: ensure the trail's stream and ingest the
/// records (log event timestamp = delivery time), each region's batch all or nothing. A
/// refusal (the group, the role's trust or permission) stores nothing and moves nothing; a
/// batch the group refuses keeps its records (its region lags at `planned.from`). The cursors
/// move in the same transaction as the log events they cover, so every record is ingested
/// exactly once across failures, retries and crashes. The outcome is noted in the trail's
/// status.
pub fn deliver(
    conn: &Connection,
    trail: &Trail,
    planned: &Planned,
    now_ms: i64,
) -> ApiResult<Delivered> {
    let arn = trail.arn();
    let Some(current) = trails::get(conn, &trail.account, &trail.home_region, &trail.name)? else {
        return Ok(Delivered::Stale);
    };
    if let Lane::Closing { group_arn, end_seq } = &planned.lane {
        if current.created_at != trail.created_at {
            return Ok(Delivered::Stale);
        }
        return deliver_closing(conn, &current, (group_arn, *end_seq), planned, now_ms);
    }
    let (Some(group_arn), Some(role_arn)) = (
        current.cloud_watch_logs_log_group_arn.clone(),
        current.cloud_watch_logs_role_arn.clone(),
    ) else {
        return Ok(Delivered::Stale);
    };
    let Some((cursor_group, cursor)) = trail_logs::cursor(conn, &arn)? else {
        return Ok(Delivered::Stale);
    };
    if current.created_at != trail.created_at
        || Some(&group_arn) != trail.cloud_watch_logs_log_group_arn.as_ref()
        || cursor_group != group_arn
    {
        return Ok(Delivered::Stale);
    }
    let lagging = trail_logs::lagging(conn, &arn)?;
    let as_planned = match &planned.lane {
        Lane::Leading {
            lagging: planned_lagging,
        } => cursor == planned.from && &lagging == planned_lagging,
        Lane::Lagging { region } => lagging
            .iter()
            .any(|(r, seq)| r == region && *seq == planned.from),
        Lane::Closing { .. } => false,
    };
    if !as_planned {
        return Ok(Delivered::Stale);
    }
    let total: usize = planned.batches.iter().map(|b| b.records.len()).sum();
    let whole_failure = |text: String| Report {
        held: total,
        error: Some(text),
        ..Report::default()
    };
    let key = match parse_group_arn(&group_arn, &current.home_region, &current.account) {
        Ok(k) => k,
        Err(e) => return finish(conn, &current, whole_failure(e.message), now_ms),
    };
    if cairn_store::logs::get_group(conn, &key.account, &key.region, &key.name)?.is_none() {
        let text = "The specified log group does not exist.".to_owned();
        return finish(conn, &current, whole_failure(text), now_ms);
    }
    // One stream for every region's records: a refusal concerns them all, nothing moves.
    let stream = stream_name(&current.account, &current.home_region);
    let stream_arn = crate::logs::stream_arn(&key.region, &key.account, &key.name, &stream);
    if planned.batches.iter().any(|b| !b.records.is_empty())
        && let Err(denied) = role_may_write(conn, &current.account, &arn, &role_arn, &stream_arn)?
    {
        let text = denied.delivery_error().to_owned();
        return finish(conn, &current, whole_failure(text), now_ms);
    }
    let mut report = Report::default();
    for batch in planned.batches.iter().filter(|b| !b.records.is_empty()) {
        // Each batch's log events commit whole or not at all (the savepoint rolls back a
        // batch refused halfway).
        let stored = match cairn_store::with_savepoint(conn, |c| {
            ingest_batch(c, &key, &stream, batch, now_ms)
        }) {
            Ok(n) => Ok(n),
            Err(e) if e.kind == ErrorKind::Internal => return Err(e),
            Err(e) => Err(e.message),
        };
        match stored {
            Ok(n) => report.stored += n,
            Err(text) => {
                report.held += batch.records.len();
                report.error = Some(text);
                report.refused.push(batch.region.clone());
            }
        }
    }
    match &planned.lane {
        Lane::Leading { .. } => {
            for region in &report.refused {
                trail_logs::set_lagging(conn, &arn, region, planned.from)?;
            }
            trail_logs::set_cursor(conn, &arn, &group_arn, planned.to)?;
        }
        Lane::Lagging { region } if report.refused.is_empty() => {
            if planned.to >= cursor {
                trail_logs::caught_up(conn, &arn, region)?;
            } else {
                trail_logs::set_lagging(conn, &arn, region, planned.to)?;
            }
        }
        Lane::Lagging { .. } | Lane::Closing { .. } => {}
    }
    finish(conn, &current, report, now_ms)
}

/// [`deliver`] of a closing group's lane: as the role the trail wrote it with, all or
/// nothing; its cursor moves to `planned.to`, and it is forgotten at its end. A group that
/// no longer exists is owed nothing.
fn deliver_closing(
    conn: &Connection,
    current: &Trail,
    (group_arn, end_seq): (&str, i64),
    planned: &Planned,
    now_ms: i64,
) -> ApiResult<Delivered> {
    let arn = current.arn();
    let Some(closing) = trail_logs::closing(conn, &arn)?
        .into_iter()
        .find(|c| c.group_arn == group_arn && c.end_seq == end_seq && c.seq == planned.from)
    else {
        return Ok(Delivered::Stale);
    };
    let key = parse_group_arn(group_arn, &current.home_region, &current.account).ok();
    let gone = match &key {
        Some(k) => cairn_store::logs::get_group(conn, &k.account, &k.region, &k.name)?.is_none(),
        None => true,
    };
    let Some(key) = key.filter(|_| !gone) else {
        trail_logs::drop_closing(conn, &arn, group_arn, None)?;
        return Ok(Delivered::Done(Report::default()));
    };
    let total: usize = planned.batches.iter().map(|b| b.records.len()).sum();
    let failure = |text: String| Report {
        held: total,
        error: Some(text),
        ..Report::default()
    };
    let stream = stream_name(&current.account, &current.home_region);
    let stream_arn = crate::logs::stream_arn(&key.region, &key.account, &key.name, &stream);
    if total > 0
        && let Err(denied) =
            role_may_write(conn, &current.account, &arn, &closing.role_arn, &stream_arn)?
    {
        return finish(
            conn,
            current,
            failure(denied.delivery_error().to_owned()),
            now_ms,
        );
    }
    let stored = cairn_store::with_savepoint(conn, |c| {
        let mut n = 0;
        for batch in planned.batches.iter().filter(|b| !b.records.is_empty()) {
            n += ingest_batch(c, &key, &stream, batch, now_ms)?;
        }
        Ok::<_, ApiError>(n)
    });
    let report = match stored {
        Ok(n) => {
            trail_logs::advance_closing(conn, &arn, (group_arn, end_seq), planned.to)?;
            Report {
                stored: n,
                ..Report::default()
            }
        }
        Err(e) if e.kind == ErrorKind::Internal => return Err(e),
        Err(e) => failure(e.message),
    };
    finish(conn, current, report, now_ms)
}

/// Ingests one region's records into its stream (created if missing) as PutLogEvents-sized
/// batches. An internal failure stays one; any other becomes the delivery error's text.
fn ingest_batch(
    conn: &Connection,
    key: &GroupKey,
    stream: &str,
    batch: &RegionBatch,
    now_ms: i64,
) -> ApiResult<usize> {
    streams::ensure(conn, key, stream, now_ms)?;
    let mut stored = 0;
    for chunk in put_batches(&batch.records) {
        let events: Vec<InputEvent> = chunk
            .iter()
            .map(|r| InputEvent {
                timestamp: now_ms,
                message: r.clone(),
            })
            .collect();
        stored += ingest::ingest(conn, key, stream, &events, now_ms)?.stored;
    }
    Ok(stored)
}

/// Notes the report in the trail's status and returns it.
fn finish(conn: &Connection, trail: &Trail, report: Report, now_ms: i64) -> ApiResult<Delivered> {
    note(conn, trail, &report, now_ms)?;
    Ok(Delivered::Done(report))
}

/// Notes a delivery's outcome in the trail's status (GetTrailStatus): the time of a delivery
/// that stored something, and the error of one that failed. The error stays while a region
/// still lags behind a refusal, even when other streams deliver.
fn note(conn: &Connection, trail: &Trail, report: &Report, now_ms: i64) -> ApiResult<()> {
    let mut t = trail.clone();
    let d = &mut t.status.delivery;
    if report.stored > 0 {
        d.latest_cloud_watch_logs_delivery_time = Some(now_ms as f64 / 1000.0);
    }
    match &report.error {
        Some(text) => d.latest_cloud_watch_logs_delivery_error = Some(text.clone()),
        None if report.stored > 0 && trail_logs::lagging(conn, &trail.arn())?.is_empty() => {
            d.latest_cloud_watch_logs_delivery_error = None;
        }
        // Nothing was sent, or a stream still waits: nothing new is known.
        None => {}
    }
    if t.status.delivery != trail.status.delivery {
        trails::put(conn, &t)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
