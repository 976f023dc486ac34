//! CloudWatch Logs semantics (spec monitoring.md §1–§2): log groups and streams, the
//! PutLogEvents batch rules and the one ingest path ([`ingest::ingest`]) that stores events and
//! runs the group's metric filters into the metric store, reads (GetLogEvents,
//! FilterLogEvents), metric filters, Logs Insights queries, and the retention sweep.
//!
//! Times are epoch milliseconds throughout, as on the wire.

pub mod emf;
pub mod groups;
pub mod ingest;
pub mod insights;
pub mod kms_use;
pub mod metric_filters;
pub mod read;
pub mod streams;
pub mod sweep;

use cairn_store::Connection;
use cairn_store::logs::{self as store, LogGroup, streams::LogStream};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The most log groups an account may have per region.
pub const MAX_GROUPS: i64 = 1_000_000;

/// A log group by account, region and name: what ingest needs to find it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupKey {
    /// Owner.
    pub account: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
}

impl GroupKey {
    /// The group `name` of the caller's account and region.
    pub fn of(ctx: &CallContext, name: &str) -> Self {
        Self {
            account: ctx.account().to_string(),
            region: ctx.region.to_string(),
            name: name.to_owned(),
        }
    }

    /// `arn:aws:logs:<region>:<account>:log-group:<name>` (the `logGroupArn` form).
    pub fn arn(&self) -> String {
        group_arn(&self.region, &self.account, &self.name)
    }
}

/// The group ARN without `:*` (the form tags and IAM use).
pub fn group_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{name}")
}

/// A stream's ARN.
pub fn stream_arn(region: &str, account: &str, group: &str, stream: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}")
}

/// The caller's time in ms.
pub fn now_ms(ctx: &CallContext) -> i64 {
    (ctx.now * 1000.0).floor() as i64
}

/// `InvalidParameterException` with a message.
pub fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidParameter, message)
}

/// AWS's model-constraint message, as CloudWatch Logs returns it in `InvalidParameterException`.
pub fn constraint(value: &str, member: &str, constraint: &str) -> ApiError {
    let shown: String = value.chars().take(256).collect();
    invalid(format!(
        "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

fn group_missing() -> ApiError {
    ApiError::new(
        ErrorKind::ResourceNotFound,
        "The specified log group does not exist.",
    )
}

fn stream_missing() -> ApiError {
    ApiError::new(
        ErrorKind::ResourceNotFound,
        "The specified log stream does not exist.",
    )
}

/// Validates a log group name (1–512, `[.-_/#A-Za-z0-9]+`).
pub fn check_group_name(name: &str, member: &str) -> ApiResult<()> {
    if name.is_empty() || name.len() > 512 {
        return Err(constraint(
            name,
            member,
            "Member must have length between 1 and 512",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
    {
        return Err(constraint(
            name,
            member,
            r"Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+",
        ));
    }
    Ok(())
}

/// Validates a log stream name (1–512 characters, as the model counts them, not bytes; no `:`
/// or `*`).
pub fn check_stream_name(name: &str, member: &str) -> ApiResult<()> {
    if name.is_empty() || name.chars().count() > 512 {
        return Err(constraint(
            name,
            member,
            "Member must have length between 1 and 512",
        ));
    }
    if name.contains(':') || name.contains('*') {
        return Err(constraint(
            name,
            member,
            "Member must satisfy regular expression pattern: [^:*]*",
        ));
    }
    Ok(())
}

/// The group name an identifier (the request's `member`) names: a name, or a group ARN in
/// the caller's account and region, without the `:*` DescribeLogGroups shows at the end of
/// its `arn` (the model's pattern has no `*`, and AWS refuses it: sdk8, as Grafana found).
pub fn identifier_name(ctx: &CallContext, identifier: &str, member: &str) -> ApiResult<String> {
    let Some(rest) = identifier.strip_prefix("arn:") else {
        check_group_name(identifier, member)?;
        return Ok(identifier.to_owned());
    };
    if identifier.contains('*') {
        return Err(constraint(
            identifier,
            member,
            r"Member must satisfy regular expression pattern: [\w#+=/:,.@-]*",
        ));
    }
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    if parts.len() != 5 || parts[1] != "logs" || !parts[4].starts_with("log-group:") {
        return Err(invalid(format!(
            "Invalid log group identifier: {identifier}"
        )));
    }
    let name = &parts[4]["log-group:".len()..];
    // Another partition's ARN names no group here (hostile5: `arn:x:logs:…` reached the group
    // while a Deny on its `arn:aws:` ARN was judged against the ARN as written).
    if parts[0] != "aws" || parts[2] != ctx.region.as_str() || parts[3] != ctx.account().as_str() {
        return Err(group_missing());
    }
    check_group_name(name, member)?;
    Ok(name.to_owned())
}

/// Loads a group of the caller's account and region, or `ResourceNotFoundException`.
pub fn load_group(conn: &Connection, key: &GroupKey) -> ApiResult<LogGroup> {
    store::get_group(conn, &key.account, &key.region, &key.name)?.ok_or_else(group_missing)
}

/// Loads a stream of a group, or `ResourceNotFoundException`.
pub fn load_stream(conn: &Connection, group: &LogGroup, name: &str) -> ApiResult<LogStream> {
    store::streams::get(conn, group.id, name)?.ok_or_else(stream_missing)
}

#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod metric_filter_tests;
#[cfg(test)]
mod tests;
