//! Log streams: create, delete, describe (spec monitoring.md §1.3).

use cairn_store::Connection;
use cairn_store::logs::streams::{self as store, LogStream, Order};

use super::{GroupKey, check_stream_name, invalid, load_group, load_stream, now_ms};
use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// CreateLogStream.
pub fn create(conn: &Connection, ctx: &CallContext, key: &GroupKey, name: &str) -> ApiResult<()> {
    check_stream_name(name, "logStreamName")?;
    let group = load_group(conn, key)?;
    store::create(conn, group.id, name, now_ms(ctx))?.ok_or_else(|| {
        ApiError::new(
            ErrorKind::LogsResourceAlreadyExists,
            "The specified log stream already exists",
        )
    })?;
    Ok(())
}

/// Creates the stream unless it exists (what CloudTrail's delivery does before it puts).
pub fn ensure(conn: &Connection, key: &GroupKey, name: &str, now_ms: i64) -> ApiResult<()> {
    check_stream_name(name, "logStreamName")?;
    let group = load_group(conn, key)?;
    store::create(conn, group.id, name, now_ms)?;
    Ok(())
}

/// DeleteLogStream: the stream and its events.
pub fn delete(conn: &Connection, key: &GroupKey, name: &str) -> ApiResult<()> {
    check_stream_name(name, "logStreamName")?;
    let group = load_group(conn, key)?;
    let stream = load_stream(conn, &group, name)?;
    // Deletion protection "blocks all deletion operations" of the group (the API
    // reference), so the events a protected group holds cannot go stream by stream either.
    if group.deletion_protection {
        return Err(ApiError::new(
            ErrorKind::Validation,
            "Cannot delete log stream in a log group with deletion protection enabled. Disable deletion protection first.",
        ));
    }
    store::delete(conn, stream.id)?;
    Ok(())
}

/// DescribeLogStreams' selection.
#[derive(Clone, Debug)]
pub struct Describe {
    /// Name prefix.
    pub prefix: Option<String>,
    /// `LogStreamName` or `LastEventTime`.
    pub order_by: Option<String>,
    /// Descending order.
    pub descending: bool,
    /// Page size, 1–50.
    pub limit: i64,
    /// The sort key of the last stream the previous page returned: its last event time
    /// (`-1` for none; only the `LastEventTime` order uses it) and its name.
    pub after: Option<(i64, String)>,
}

impl Describe {
    /// The keyset position after `stream`.
    pub fn position_after(stream: &LogStream) -> (i64, String) {
        (stream.last_event.unwrap_or(-1), stream.name.clone())
    }
}

/// DescribeLogStreams: a page of streams and whether more follow.
pub fn describe(
    conn: &Connection,
    key: &GroupKey,
    input: &Describe,
) -> ApiResult<(Vec<LogStream>, bool)> {
    let order = match input.order_by.as_deref() {
        None | Some("LogStreamName") => Order::Name,
        Some("LastEventTime") => Order::LastEventTime,
        Some(other) => {
            return Err(super::constraint(
                other,
                "orderBy",
                "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
            ));
        }
    };
    if order == Order::LastEventTime && input.prefix.is_some() {
        return Err(invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    if let Some(p) = &input.prefix {
        check_stream_name(p, "logStreamNamePrefix")?;
    }
    let group = load_group(conn, key)?;
    let mut page = store::list(
        conn,
        group.id,
        input.prefix.as_deref(),
        order,
        input.descending,
        input.after.as_ref().map(|(t, n)| (*t, n.as_str())),
        input.limit + 1,
    )?;
    let more = page.len() as i64 > input.limit;
    page.truncate(input.limit as usize);
    Ok((page, more))
}
