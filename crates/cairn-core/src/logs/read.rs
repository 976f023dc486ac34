//! Reading events (spec monitoring.md §1.3): GetLogEvents with its forward and backward tokens
//! (`f/…`, `b/…`, returned unchanged at the end of the stream), and FilterLogEvents over a
//! group with a pattern, a time range, stream names or a prefix, and pagination.

use std::collections::HashMap;

use cairn_filter::Matcher;
use cairn_store::Connection;
use cairn_store::logs::events::{self as store, From, StoredEvent};
use cairn_store::logs::streams;

use super::{GroupKey, check_stream_name, invalid, load_group, load_stream};
use crate::error::ApiResult;

/// Most bytes of messages one page carries (26 bytes counted per event).
pub const MAX_PAGE_BYTES: usize = 1_048_576;
/// Most events one page carries.
pub const MAX_PAGE_EVENTS: i64 = 10_000;
/// Most events one FilterLogEvents call examines before it answers with a `nextToken`.
pub const SCAN_BUDGET: usize = 250_000;

/// The event id AWS shows: 56 decimal digits.
pub fn event_id(id: i64) -> String {
    format!("{id:056}")
}

/// A GetLogEvents token: direction, the stream it pages and a (timestamp, id) position, as
/// `f/` or `b/` and 56 digits like AWS's: 20 for the timestamp, 17 for the stream, 19 for the
/// event id. Naming the stream lets a token from another stream be refused, as AWS does.
fn token(forward: bool, stream: i64, pos: (i64, i64)) -> String {
    format!(
        "{}/{:020}{:017}{:019}",
        if forward { 'f' } else { 'b' },
        pos.0.max(0),
        stream.clamp(0, 99_999_999_999_999_999),
        pos.1.max(0)
    )
}

/// A token's direction, stream and position.
fn parse_token(text: &str) -> Option<(bool, i64, (i64, i64))> {
    let (dir, digits) = text.split_once('/')?;
    let forward = match dir {
        "f" => true,
        "b" => false,
        _ => return None,
    };
    if digits.len() != 56 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((
        forward,
        digits[20..37].parse().ok()?,
        (digits[..20].parse().ok()?, digits[37..].parse().ok()?),
    ))
}

/// GetLogEvents' input.
#[derive(Clone, Debug)]
pub struct GetEvents {
    /// The group.
    pub group: GroupKey,
    /// The stream.
    pub stream: String,
    /// Inclusive start, ms.
    pub start: Option<i64>,
    /// Exclusive end, ms.
    pub end: Option<i64>,
    /// Most events (1–10,000).
    pub limit: Option<i64>,
    /// Read from the oldest event (default: the newest).
    pub start_from_head: bool,
    /// A token from a previous page.
    pub token: Option<String>,
}

/// A page of GetLogEvents.
#[derive(Clone, Debug)]
pub struct EventsPage {
    /// Events, ascending.
    pub events: Vec<StoredEvent>,
    /// `nextForwardToken`.
    pub forward: String,
    /// `nextBackwardToken`.
    pub backward: String,
}

fn fit(events: &mut Vec<StoredEvent>, from_start: bool) {
    let mut bytes = 0;
    let mut keep = 0;
    let order: Vec<usize> = if from_start {
        (0..events.len()).collect()
    } else {
        (0..events.len()).rev().collect()
    };
    for k in order {
        bytes += events[k].message.len() + 26;
        if bytes > MAX_PAGE_BYTES && keep > 0 {
            break;
        }
        keep += 1;
    }
    if from_start {
        events.truncate(keep);
    } else {
        events.drain(..events.len() - keep);
    }
}

/// GetLogEvents.
pub fn get_log_events(conn: &Connection, input: &GetEvents) -> ApiResult<EventsPage> {
    check_stream_name(&input.stream, "logStreamName")?;
    let limit = input.limit.unwrap_or(MAX_PAGE_EVENTS);
    let group = load_group(conn, &input.group)?;
    let stream = load_stream(conn, &group, &input.stream)?;
    let given = match &input.token {
        Some(t) => match parse_token(t) {
            // A token pages the stream it came from, and no other.
            Some((forward, from_stream, pos)) if from_stream == stream.id => Some((forward, pos)),
            _ => return Err(invalid("The specified nextToken is invalid.")),
        },
        None => None,
    };
    let from = match given {
        Some((true, (ts, id))) => From::After(ts, id),
        Some((false, (ts, id))) => From::Before(ts, id),
        None if input.start_from_head => From::Head,
        None => From::Tail,
    };
    let mut events = store::in_stream(conn, stream.id, input.start, input.end, from, limit)?;
    let ascending = matches!(from, From::Head | From::After(..));
    if !ascending {
        events.reverse();
    }
    fit(&mut events, ascending);
    // An empty page returns its own token unchanged; the token for the other direction
    // must still include the event at the position (a backward token means "before pos", so
    // the forward token from there means "from pos on", and the other way round).
    let (forward, backward) = match (events.first(), events.last(), &input.token, given) {
        (Some(first), Some(last), _, _) => (
            token(true, stream.id, (last.timestamp, last.id)),
            token(false, stream.id, (first.timestamp, first.id)),
        ),
        (_, _, Some(t), Some((true, (ts, id)))) => (
            t.clone(),
            token(false, stream.id, (ts, id.saturating_add(1))),
        ),
        (_, _, Some(t), Some((false, (ts, id)))) => (
            token(true, stream.id, (ts, id.saturating_sub(1))),
            t.clone(),
        ),
        _ => (
            token(true, stream.id, (0, 0)),
            token(false, stream.id, (0, 0)),
        ),
    };
    Ok(EventsPage {
        events,
        forward,
        backward,
    })
}

/// FilterLogEvents' input.
#[derive(Clone, Debug)]
pub struct FilterEvents {
    /// The group.
    pub group: GroupKey,
    /// Only these streams.
    pub stream_names: Option<Vec<String>>,
    /// Only streams with this prefix.
    pub stream_prefix: Option<String>,
    /// Inclusive start, ms.
    pub start: Option<i64>,
    /// Inclusive end, ms.
    pub end: Option<i64>,
    /// The pattern (absent or empty: everything).
    pub pattern: Option<String>,
    /// Most events (1–10,000).
    pub limit: Option<i64>,
    /// Continue after this (timestamp, id): before it, when newest first.
    pub after: Option<(i64, i64)>,
    /// `startFromHead` false: the latest events first.
    pub newest_first: bool,
}

/// A page of FilterLogEvents.
#[derive(Clone, Debug)]
pub struct FilteredPage {
    /// Matching events with their stream names, ascending by (timestamp, id) (descending
    /// when newest first).
    pub events: Vec<(StoredEvent, String)>,
    /// Where the next page starts, when more may exist.
    pub next: Option<(i64, i64)>,
}

/// The earliest `startTime` FilterLogEvents takes with `startFromHead` false (the API
/// reference: 1 January 2024, 00:00:00 UTC), ms.
const NEWEST_FIRST_FROM_MS: i64 = 1_704_067_200_000;

/// FilterLogEvents.
pub fn filter_log_events(conn: &Connection, input: &FilterEvents) -> ApiResult<FilteredPage> {
    if input.newest_first && input.start.is_some_and(|s| s < NEWEST_FIRST_FROM_MS) {
        return Err(invalid(
            "startFromHead false is supported only with a startTime on or after Jan 1, 2024 00:00:00 UTC.",
        ));
    }
    if input.stream_names.is_some() && input.stream_prefix.is_some() {
        return Err(invalid(
            "logStreamNames and logStreamNamePrefix are mutually exclusive.",
        ));
    }
    let pattern = super::metric_filters::parse_pattern(input.pattern.as_deref().unwrap_or(""))?;
    let limit = input.limit.unwrap_or(MAX_PAGE_EVENTS) as usize;
    let group = load_group(conn, &input.group)?;
    let names: HashMap<i64, String> = streams::names(conn, group.id)?.into_iter().collect();
    let only: Option<Vec<i64>> = match (&input.stream_names, &input.stream_prefix) {
        (Some(list), _) => {
            let mut ids = Vec::new();
            for n in list {
                check_stream_name(n, "logStreamNames")?;
                ids.push(load_stream(conn, &group, n)?.id);
            }
            Some(ids)
        }
        (_, Some(prefix)) => {
            check_stream_name(prefix, "logStreamNamePrefix")?;
            Some(streams::ids_with_prefix(conn, group.id, prefix)?)
        }
        _ => None,
    };
    if only.as_ref().is_some_and(Vec::is_empty) {
        return Ok(FilteredPage {
            events: Vec::new(),
            next: None,
        });
    }
    let matcher = Matcher::new(vec![pattern], &[]);
    let mut out = Vec::new();
    let mut position = input.after;
    let mut scanned = 0;
    let mut bytes = 0;
    loop {
        let read = if input.newest_first {
            store::in_group_newest_first
        } else {
            store::in_group
        };
        let batch = read(
            conn,
            group.id,
            input.start,
            input.end,
            position,
            only.as_deref(),
            5_000,
        )?;
        let exhausted = batch.len() < 5_000;
        for e in batch {
            scanned += 1;
            let before = position;
            position = Some((e.timestamp, e.id));
            if matcher.scan(&e.message).results[0].is_some() {
                // A page holds up to 1 MB of events (the API reference), at least one: the
                // rest is on the next page, from this event.
                bytes += e.message.len() + 26;
                if bytes > MAX_PAGE_BYTES && !out.is_empty() {
                    return Ok(FilteredPage {
                        events: out,
                        next: before,
                    });
                }
                let name = names.get(&e.stream_id).cloned().unwrap_or_default();
                out.push((e, name));
                if out.len() >= limit {
                    return Ok(FilteredPage {
                        events: out,
                        next: position,
                    });
                }
            }
        }
        if exhausted {
            return Ok(FilteredPage {
                events: out,
                next: None,
            });
        }
        if scanned >= SCAN_BUDGET {
            return Ok(FilteredPage {
                events: out,
                next: position,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let t = token(true, 7, (1_704_067_200_000, i64::MAX));
        assert_eq!(t.len(), 58);
        assert!(t.starts_with("f/"));
        assert_eq!(
            parse_token(&t),
            Some((true, 7, (1_704_067_200_000, i64::MAX)))
        );
        assert_eq!(
            parse_token(&token(false, 0, (0, 0))),
            Some((false, 0, (0, 0)))
        );
        assert_eq!(parse_token("x/1"), None);
        assert_eq!(parse_token("f/12"), None);
    }
}
