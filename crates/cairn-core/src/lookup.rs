//! LookupEvents: 90-day management-event history, one attribute, newest first.

use cairn_store::events::{LookupFilter, LookupQuery, StoredEvent};
use cairn_store::{Connection, events};
use sha2::{Digest, Sha256};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::token::TokenKey;

/// Default and maximum page size.
pub const MAX_RESULTS: i64 = 50;

/// LookupEvents arguments, as supplied.
#[derive(Clone, Debug, Default)]
pub struct LookupInput {
    /// `LookupAttributes` as (key, value).
    pub attributes: Vec<(String, String)>,
    /// `StartTime`, epoch seconds.
    pub start: Option<f64>,
    /// `EndTime`, epoch seconds.
    pub end: Option<f64>,
    /// `EventCategory`.
    pub event_category: Option<String>,
    /// `MaxResults`.
    pub max_results: Option<i64>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// One page.
pub struct LookupOutput {
    /// Events, newest first.
    pub events: Vec<StoredEvent>,
    /// Token for the next page.
    pub next_token: Option<String>,
}

fn attr_error(m: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidLookupAttributes, m)
}

/// The weighted length AWS applies: `_`, space, `,` and newline count double.
fn weighted_len(value: &str) -> usize {
    value
        .chars()
        .map(|c| {
            if matches!(c, '_' | ' ' | ',' | '\n') {
                2
            } else {
                1
            }
        })
        .sum()
}

fn parse_filter(attributes: &[(String, String)], insight: bool) -> ApiResult<LookupFilter> {
    let (key, value) = match attributes {
        [] => return Ok(LookupFilter::All),
        [one] => one,
        _ => {
            return Err(attr_error(
                "You cannot specify more than one lookup attribute.",
            ));
        }
    };
    if value.is_empty() || weighted_len(value) > 2000 {
        return Err(attr_error(format!(
            "Invalid AttributeValue for {key}: the value must be 1 to 2000 characters."
        )));
    }
    let v = value.clone();
    let filter = match key.as_str() {
        "EventId" => LookupFilter::EventId(v),
        "EventName" => LookupFilter::EventName(v),
        "EventSource" => LookupFilter::EventSource(v),
        "ReadOnly" if !insight => LookupFilter::ReadOnly(v),
        "Username" if !insight => LookupFilter::Username(v),
        "ResourceType" if !insight => LookupFilter::ResourceType(v),
        "ResourceName" if !insight => LookupFilter::ResourceName(v),
        "AccessKeyId" if !insight => LookupFilter::AccessKeyId(v),
        other if insight => {
            return Err(attr_error(format!(
                "Invalid AttributeKey: {other}. Valid keys for insight events are EventId, EventName, EventSource."
            )));
        }
        other => {
            return Err(attr_error(format!(
                "Invalid AttributeKey: {other}. Valid keys are EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId."
            )));
        }
    };
    Ok(filter)
}

/// Runs one LookupEvents page.
pub fn lookup(
    conn: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    retention_secs: i64,
    input: &LookupInput,
) -> ApiResult<LookupOutput> {
    let insight = match input.event_category.as_deref() {
        None => false,
        Some("insight") => true,
        Some(other) => {
            return Err(ApiError::new(
                ErrorKind::InvalidEventCategory,
                format!("Invalid EventCategory: {other}. The only valid value is insight."),
            ));
        }
    };
    let filter = parse_filter(&input.attributes, insight)?;
    let now = ctx.now_secs();
    let oldest = now - retention_secs;
    let end = input.end.map(|e| e.floor() as i64).unwrap_or(now);
    // Without a StartTime the window opens at the oldest retained event (or at EndTime,
    // when that is older still, so an old EndTime yields an empty page, not an error).
    let start = input
        .start
        .map(|s| s.floor() as i64)
        .unwrap_or(oldest.min(end));
    if start > end {
        return Err(ApiError::new(
            ErrorKind::InvalidTimeRange,
            "Start time must be earlier than end time.",
        ));
    }
    let limit = input.max_results.unwrap_or(MAX_RESULTS);
    if !(1..=MAX_RESULTS).contains(&limit) {
        return Err(ApiError::new(
            ErrorKind::InvalidMaxResults,
            format!("MaxResults must be between 1 and {MAX_RESULTS}; {limit} is not valid."),
        ));
    }
    let scope = {
        let mut h = Sha256::new();
        h.update(format!(
            "lookup\n{}\n{}\n{:?}\n{:?}\n{:?}\n{:?}",
            ctx.account(),
            ctx.region,
            input.attributes,
            input.start,
            input.end,
            input.event_category
        ));
        hex::encode(h.finalize())
    };
    let after = match &input.next_token {
        None => None,
        Some(token) => {
            let invalid = || ApiError::new(ErrorKind::InvalidNextToken, "Invalid NextToken.");
            let position = key.open(&scope, token).ok_or_else(invalid)?;
            let (t, s) = position.split_once(':').ok_or_else(invalid)?;
            Some((
                t.parse().map_err(|_| invalid())?,
                s.parse().map_err(|_| invalid())?,
            ))
        }
    };
    let category = if insight { "Insight" } else { "Management" };
    let query = LookupQuery {
        account: ctx.account().as_str(),
        region: ctx.region.as_str(),
        category,
        filter: &filter,
        start: start.max(oldest),
        end,
        after,
        limit: limit as usize + 1,
    };
    let mut found = events::lookup(conn, &query)?;
    let next_token = if found.len() > limit as usize {
        found.truncate(limit as usize);
        found
            .last()
            .map(|e| key.seal(&scope, &format!("{}:{}", e.event_time, e.seq)))
    } else {
        None
    };
    Ok(LookupOutput {
        events: found,
        next_token,
    })
}
