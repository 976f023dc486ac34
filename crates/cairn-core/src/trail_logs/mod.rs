//! CloudTrail → CloudWatch Logs (spec monitoring.md §5, iam-kms.md §9.3): the checks
//! CreateTrail/UpdateTrail make on `CloudWatchLogsLogGroupArn` and `CloudWatchLogsRoleArn`
//! ([`check`]), the cursor they set ([`configure`]), and one delivery step's writer half
//! ([`deliver`]), which ingests a trail's records into its group as the role and advances
//! the trail's cursor in one transaction.
//!
//! CloudTrail acts as the role: it assumes it as `cloudtrail.amazonaws.com` (the trust
//! policy sees `aws:SourceArn` = the trail ARN and `aws:SourceAccount`), and the session may
//! write only what the role's identity policies allow on the stream
//! `<account>_CloudTrail_<region>`. Both checks run at configuration time and again on every
//! delivery, so a role that loses its permission stops delivery (with a truthful
//! `LatestCloudWatchLogsDeliveryError`) and delivery resumes from the same cursor when it is
//! restored.

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

/// The stream CloudTrail writes a region's records to.
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
/// the events recorded from this call on; a cleared group drops the cursor.
pub fn configure(conn: &Connection, trail: &Trail) -> ApiResult<()> {
    let arn = trail.arn();
    match &trail.cloud_watch_logs_log_group_arn {
        None => trail_logs::clear(conn, &arn)?,
        Some(group) => {
            let same = trail_logs::cursor(conn, &arn)?.is_some_and(|(g, _)| &g == group);
            if !same {
                let before_this_call = cairn_store::events::next_seq(conn)? - 1;
                trail_logs::set_cursor(conn, &arn, group, before_this_call)?;
            }
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

/// What one planned delivery carries: the cursor it was planned from, the cursor after it,
/// and the records (already routed and filtered) per region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The trail's cursor when planned.
    pub from: i64,
    /// The cursor once delivered.
    pub to: i64,
    /// The records.
    pub batches: Vec<RegionBatch>,
}

/// What [`deliver`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Log events stored (possibly none: only the cursor moved).
    Events(usize),
    /// The trail changed or another step delivered meanwhile: nothing done.
    Stale,
    /// Delivery failed with this `LatestCloudWatchLogsDeliveryError`; nothing was delivered
    /// and the cursor stays.
    Failed(String),
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

/// Delivers `planned` for `trail` at `now_ms` in the caller's write job: if the trail and its
/// cursor are as planned, as the role, per region: ensure the stream, ingest the records
/// (log event timestamp = delivery time), then move the cursor and note the delivery time,
/// all or nothing. A failure rolls the delivery back and is noted in the trail's status.
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
    let (Some(group_arn), Some(role_arn)) = (
        current.cloud_watch_logs_log_group_arn.clone(),
        current.cloud_watch_logs_role_arn.clone(),
    ) else {
        return Ok(Delivered::Stale);
    };
    if current.created_at != trail.created_at
        || Some(&group_arn) != trail.cloud_watch_logs_log_group_arn.as_ref()
        || trail_logs::cursor(conn, &arn)? != Some((group_arn.clone(), planned.from))
    {
        return Ok(Delivered::Stale);
    }
    let attempt = cairn_store::with_savepoint(conn, |c| -> ApiResult<Result<usize, String>> {
        let mut stored = 0;
        for batch in planned.batches.iter().filter(|b| !b.records.is_empty()) {
            let key = match parse_group_arn(&group_arn, &current.home_region, &current.account) {
                Ok(k) => k,
                Err(e) => return Ok(Err(e.message)),
            };
            let stream = stream_name(&current.account, &batch.region);
            let stream_arn = crate::logs::stream_arn(&key.region, &key.account, &key.name, &stream);
            if let Err(denied) = role_may_write(c, &current.account, &arn, &role_arn, &stream_arn)?
            {
                return Ok(Err(denied.delivery_error().to_owned()));
            }
            if cairn_store::logs::get_group(c, &key.account, &key.region, &key.name)?.is_none() {
                return Ok(Err("The specified log group does not exist.".to_owned()));
            }
            streams::ensure(c, &key, &stream, now_ms)?;
            for chunk in put_batches(&batch.records) {
                let events: Vec<InputEvent> = chunk
                    .iter()
                    .map(|r| InputEvent {
                        timestamp: now_ms,
                        message: r.clone(),
                    })
                    .collect();
                stored += ingest::ingest(c, &key, &stream, &events, now_ms)?.stored;
            }
        }
        trail_logs::set_cursor(c, &arn, &group_arn, planned.to)?;
        Ok(Ok(stored))
    });
    // A refusal must roll back what the step did so far: turn it into an error for the
    // savepoint, then back into the outcome.
    let outcome = match attempt {
        Ok(Ok(n)) => Delivered::Events(n),
        Ok(Err(text)) => Delivered::Failed(text),
        Err(e) if e.kind == ErrorKind::Internal => return Err(e),
        Err(e) => Delivered::Failed(e.message),
    };
    note(conn, &current, &outcome, now_ms)?;
    Ok(outcome)
}

/// Notes a delivery's outcome in the trail's status (GetTrailStatus).
fn note(conn: &Connection, trail: &Trail, outcome: &Delivered, now_ms: i64) -> ApiResult<()> {
    let mut t = trail.clone();
    let d = &mut t.status.delivery;
    match outcome {
        Delivered::Events(n) if *n > 0 => {
            d.latest_cloud_watch_logs_delivery_time = Some(now_ms as f64 / 1000.0);
            d.latest_cloud_watch_logs_delivery_error = None;
        }
        // Nothing was sent: nothing is known about the destination.
        Delivered::Events(_) | Delivered::Stale => return Ok(()),
        Delivered::Failed(text) => {
            if d.latest_cloud_watch_logs_delivery_error.as_deref() == Some(text) {
                return Ok(());
            }
            d.latest_cloud_watch_logs_delivery_error = Some(text.clone());
        }
    }
    trails::put(conn, &t)?;
    Ok(())
}

#[cfg(test)]
mod tests;
