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

/// The whole seconds `[start, end]` (both inclusive) a lookup covers. The bounds are
/// compared at full precision: an event at a whole second `t` is before a StartTime of
/// `t + 0.5` and after an EndTime of `t - 0.5`, and a StartTime after the EndTime is refused
/// even within one second.
fn time_window(
    now: f64,
    oldest: i64,
    start: Option<f64>,
    end: Option<f64>,
) -> ApiResult<(i64, i64)> {
    let end = end.unwrap_or(now);
    // Without a StartTime the window opens at the oldest retained event (or at EndTime,
    // when that is older still, so an old EndTime yields an empty page, not an error).
    let start = start.unwrap_or((oldest as f64).min(end));
    if start > end {
        return Err(ApiError::new(
            ErrorKind::InvalidTimeRange,
            "Start time must be earlier than end time.",
        ));
    }
    // Event times are whole seconds: the first at or after `start`, the last at or before
    // `end` (casts saturate far outside the i64 range).
    Ok((start.ceil() as i64, end.floor() as i64))
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
    let oldest = ctx.now_secs() - retention_secs;
    let (start, end) = time_window(ctx.now, oldest, input.start, input.end)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const T: f64 = 1_700_000_000.0;

    #[test]
    fn time_bounds_keep_their_fractions() {
        let oldest = T as i64 - 90 * 86_400;
        // An event at whole second T is before T + 0.5 and after T - 0.5.
        assert_eq!(
            time_window(T + 100.0, oldest, Some(T + 0.5), None),
            Ok((T as i64 + 1, T as i64 + 100))
        );
        assert_eq!(
            time_window(T + 100.0, oldest, Some(T - 10.0), Some(T - 0.5)),
            Ok((T as i64 - 10, T as i64 - 1))
        );
        // Within one second, no whole second fits: an empty window, not an error.
        let (s, e) = time_window(T + 100.0, oldest, Some(T + 0.1), Some(T + 0.9)).unwrap();
        assert!(s > e);
        // Equal bounds are a window of that instant.
        assert_eq!(
            time_window(T + 100.0, oldest, Some(T), Some(T)),
            Ok((T as i64, T as i64))
        );
        // An old EndTime without StartTime is empty, not refused.
        assert!(time_window(T, oldest, None, Some(T - 100.0 * 86_400.0)).is_ok());
    }

    #[test]
    fn a_start_after_the_end_within_one_second_is_refused() {
        let e = time_window(T + 100.0, 0, Some(T + 0.9), Some(T + 0.1)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidTimeRange);
    }
}
