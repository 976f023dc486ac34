//! Event history as the console reads it: a filter (lookup attributes, a fixed time window,
//! read-only events hidden by default, free text) turned into LookupEvents calls.
//!
//! LookupEvents honours one attribute. The most selective attribute goes to LookupEvents; the
//! other attributes and the free text are applied to each page it returns, reading further
//! pages (a bounded number per view) until a page of the table is full. Every read is a real,
//! recorded LookupEvents call made as the signed-in user.

use cairn_core::error::ApiResult;
use cairn_core::{ApiError, ErrorKind};
use serde_json::{Value, json};

use super::calls::Caller;
use super::web::{Form, url};

/// LookupEvents' eight attributes: key and AWS's console label.
pub const ATTRIBUTES: [(&str, &str); 8] = [
    ("EventName", "Event name"),
    ("Username", "User name"),
    ("ResourceType", "Resource type"),
    ("ResourceName", "Resource name"),
    ("EventSource", "Event source"),
    ("EventId", "Event ID"),
    ("ReadOnly", "Read-only"),
    ("AccessKeyId", "AWS access key"),
];

/// Which attribute LookupEvents should filter on when several are given: the most selective.
const SELECTIVITY: [&str; 8] = [
    "EventId",
    "AccessKeyId",
    "ResourceName",
    "Username",
    "EventName",
    "ResourceType",
    "EventSource",
    "ReadOnly",
];

/// The time range presets: value, label, seconds.
pub const RANGES: [(&str, &str, i64); 7] = [
    ("", "Last 90 days", 0),
    ("30m", "Last 30 minutes", 1800),
    ("1h", "Last 1 hour", 3600),
    ("3h", "Last 3 hours", 3 * 3600),
    ("12h", "Last 12 hours", 12 * 3600),
    ("7d", "Last 7 days", 7 * 86400),
    ("custom", "Custom range", 0),
];

/// An attribute key and value.
type Pair = (String, String);

/// Rows of a table page.
pub const PAGE: usize = 50;

/// A parsed filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// (attribute key, value) pairs, all of which must match.
    pub attributes: Vec<(String, String)>,
    /// Whether read-only events are shown.
    pub show_read_only: bool,
    /// Free text, matched case-insensitively against the whole record.
    pub q: String,
    /// Preset chosen (`range`).
    pub range: String,
    /// Window start, epoch seconds.
    pub start: Option<i64>,
    /// Window end, epoch seconds.
    pub end: Option<i64>,
    /// LookupEvents' NextToken to continue from.
    pub token: Option<String>,
    /// Why the custom range cannot be read (a start or end that is not a date and time):
    /// [`read`] looks nothing up and answers `InvalidTimeRangeException` with it.
    pub range_error: Option<String>,
    /// The custom range's start and end as typed.
    pub typed: (String, String),
    /// An attribute LookupEvents does not have, with its value: [`read`] looks nothing up and
    /// answers `InvalidLookupAttributesException`, as LookupEvents would.
    pub bad_attribute: Option<Pair>,
}

/// A custom range's bound as typed: `Ok(None)` when empty, its time, or the error shown
/// (as `InvalidTimeRangeException`; the Log files page's check reads its range the same way).
pub fn bound(which: &str, typed: &str) -> Result<Option<i64>, String> {
    if typed.trim().is_empty() {
        return Ok(None);
    }
    cairn_console::text::parse_input_time(typed)
        .map(Some)
        .ok_or_else(|| {
            format!(
                "The {which} time {typed:?} is not a date and time. Enter it as YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS (UTC)."
            )
        })
}

impl Filter {
    /// Reads a filter from a query string; presets become a fixed window at `now`.
    pub fn from_query(f: &Form, now: i64) -> Self {
        let keys = f.all("attr");
        let values = f.all("value");
        let known = |k: &str| ATTRIBUTES.iter().any(|(a, _)| *a == k);
        let given: Vec<Pair> = keys
            .into_iter()
            .zip(values)
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let bad_attribute = given
            .iter()
            .find(|(k, _)| !k.is_empty() && !known(k))
            .cloned();
        let attributes = given.into_iter().filter(|(k, _)| known(k)).collect();
        let range = f.str("range");
        let typed = (f.str("start"), f.str("end"));
        let mut range_error = None;
        let (start, end) = match RANGES.iter().find(|(v, _, _)| *v == range) {
            Some((_, _, secs)) if *secs > 0 => (Some(now - secs), Some(now)),
            Some((v, _, _)) if *v == "custom" => {
                match (bound("start", &typed.0), bound("end", &typed.1)) {
                    (Ok(s), Ok(e)) => (s, e),
                    (Err(e), _) | (_, Err(e)) => {
                        range_error = Some(e);
                        (None, None)
                    }
                }
            }
            _ => (None, None),
        };
        Self {
            attributes,
            show_read_only: f.get("readonly") == Some("show"),
            q: f.str("q"),
            range,
            start,
            end,
            token: f.get("token").filter(|t| !t.is_empty()).map(str::to_owned),
            range_error,
            typed,
            bad_attribute,
        }
    }

    /// The filter's query pairs with its window fixed (what paging and downloads carry).
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, v) in self.bad_attribute.iter().chain(&self.attributes) {
            out.push(("attr".to_owned(), k.clone()));
            out.push(("value".to_owned(), v.clone()));
        }
        if self.range_error.is_some() {
            // Carried as typed, so a link from the page (a download) is refused as well.
            out.push(("range".to_owned(), "custom".to_owned()));
            out.push(("start".to_owned(), self.typed.0.clone()));
            out.push(("end".to_owned(), self.typed.1.clone()));
        } else if self.start.is_some() || self.end.is_some() {
            out.push(("range".to_owned(), "custom".to_owned()));
            let t = |e: Option<i64>| e.map(cairn_console::text::input_time).unwrap_or_default();
            out.push(("start".to_owned(), t(self.start)));
            out.push(("end".to_owned(), t(self.end)));
        }
        if self.show_read_only {
            out.push(("readonly".to_owned(), "show".to_owned()));
        }
        out.push(("q".to_owned(), self.q.clone()));
        out
    }

    /// A link to `path` with this filter and `extra` pairs.
    pub fn href(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let pairs = self.pairs();
        let mut all: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.extend_from_slice(extra);
        url(path, &all)
    }

    /// Every condition: the user's attributes plus `ReadOnly=false` unless read-only events
    /// are shown (or the user filters on ReadOnly).
    fn conditions(&self) -> Vec<(String, String)> {
        let mut all = self.attributes.clone();
        if !self.show_read_only && !all.iter().any(|(k, _)| k == "ReadOnly") {
            all.push(("ReadOnly".to_owned(), "false".to_owned()));
        }
        all
    }

    /// The attribute LookupEvents filters on, and the rest.
    fn split(&self) -> (Option<Pair>, Vec<Pair>) {
        let mut all = self.conditions();
        let best = SELECTIVITY
            .iter()
            .find_map(|key| all.iter().position(|(k, _)| k == key));
        match best {
            Some(i) => {
                let primary = all.remove(i);
                (Some(primary), all)
            }
            None => (None, all),
        }
    }
}

/// What a read found.
pub struct Found {
    /// Matching LookupEvents items, newest first.
    pub events: Vec<Value>,
    /// Token to continue from.
    pub next: Option<String>,
    /// How many items were read.
    pub scanned: usize,
}

/// Whether a LookupEvents item satisfies `(key, value)`.
fn matches(item: &Value, key: &str, value: &str) -> bool {
    let s = |m: &str| item.get(m).and_then(Value::as_str) == Some(value);
    match key {
        "EventName" => s("EventName"),
        "Username" => s("Username"),
        "EventSource" => s("EventSource"),
        "EventId" => s("EventId"),
        "AccessKeyId" => s("AccessKeyId"),
        "ReadOnly" => {
            item.get("ReadOnly").and_then(Value::as_str) == Some(value)
                || item
                    .get("ReadOnly")
                    .and_then(Value::as_bool)
                    .map(|b| b.to_string())
                    .as_deref()
                    == Some(value)
        }
        "ResourceType" | "ResourceName" => {
            let member = if key == "ResourceType" {
                "ResourceType"
            } else {
                "ResourceName"
            };
            item.get("Resources")
                .and_then(Value::as_array)
                .is_some_and(|rs| {
                    rs.iter()
                        .any(|r| r.get(member).and_then(Value::as_str) == Some(value))
                })
        }
        _ => false,
    }
}

fn text_matches(item: &Value, q: &str) -> bool {
    if q.is_empty() {
        return true;
    }
    let record = item
        .get("CloudTrailEvent")
        .and_then(Value::as_str)
        .unwrap_or("");
    record.to_lowercase().contains(&q.to_lowercase())
}

/// Reads events matching `filter` until `want` are found or `max_calls` LookupEvents calls
/// were made.
pub async fn read(
    caller: &Caller<'_>,
    filter: &Filter,
    want: usize,
    max_calls: usize,
) -> ApiResult<Found> {
    if let Some(e) = &filter.range_error {
        return Err(ApiError::new(ErrorKind::InvalidTimeRange, e.clone()));
    }
    if let Some((key, _)) = &filter.bad_attribute {
        // LookupEvents' own words for a key it does not have.
        return Err(ApiError::new(
            ErrorKind::InvalidLookupAttributes,
            format!(
                "Invalid AttributeKey: {key}. Valid keys are EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId."
            ),
        ));
    }
    let (primary, rest) = filter.split();
    let mut token = filter.token.clone();
    let mut found = Found {
        events: Vec::new(),
        next: None,
        scanned: 0,
    };
    for _ in 0..max_calls.max(1) {
        let mut body = json!({"MaxResults": PAGE});
        if let Some((k, v)) = &primary {
            body["LookupAttributes"] = json!([{"AttributeKey": k, "AttributeValue": v}]);
        }
        if let Some(s) = filter.start {
            body["StartTime"] = json!(s);
        }
        if let Some(e) = filter.end {
            body["EndTime"] = json!(e);
        }
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let out = caller.cloudtrail("LookupEvents", body).await?;
        let items = out
            .get("Events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        found.scanned += items.len();
        found.events.extend(items.into_iter().filter(|item| {
            rest.iter().all(|(k, v)| matches(item, k, v)) && text_matches(item, &filter.q)
        }));
        token = out
            .get("NextToken")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if token.is_none() || found.events.len() >= want {
            break;
        }
    }
    found.next = token;
    Ok(found)
}

/// The parsed `CloudTrailEvent` of an item.
pub fn record_of(item: &Value) -> Value {
    item.get("CloudTrailEvent")
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null)
}

/// An item's epoch `EventTime`.
pub fn time_of(item: &Value) -> i64 {
    item.get("EventTime").and_then(Value::as_f64).unwrap_or(0.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Value {
        json!({"EventName": "CreateTrail", "Username": "root", "EventSource": "cloudtrail.amazonaws.com",
               "EventId": "e1", "AccessKeyId": "AKID", "ReadOnly": "false",
               "Resources": [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "arn:t"}],
               "CloudTrailEvent": "{\"sourceIPAddress\":\"10.1.2.3\"}"})
    }

    #[test]
    fn every_attribute_matches_exactly() {
        let i = item();
        for (k, v) in [
            ("EventName", "CreateTrail"),
            ("Username", "root"),
            ("EventSource", "cloudtrail.amazonaws.com"),
            ("EventId", "e1"),
            ("AccessKeyId", "AKID"),
            ("ReadOnly", "false"),
            ("ResourceType", "AWS::CloudTrail::Trail"),
            ("ResourceName", "arn:t"),
        ] {
            assert!(matches(&i, k, v), "{k}");
            assert!(!matches(&i, k, "other"), "{k}");
        }
        assert!(text_matches(&i, "10.1.2"));
        assert!(!text_matches(&i, "10.9"));
    }

    #[test]
    fn a_custom_range_that_is_not_a_time_is_an_error() {
        for q in [
            &b"range=custom&start=2026-13-45T99:99:99"[..],
            b"range=custom&start=-1&end=1e999",
            b"range=custom&start=2026-01-01T00:00&end=soon",
        ] {
            let f = Filter::from_query(&Form::parse(q), 1000);
            assert!(f.range_error.is_some(), "{}", String::from_utf8_lossy(q));
            assert_eq!((f.start, f.end), (None, None));
            let link = url("", &as_refs(&f.pairs()));
            let again = Filter::from_query(&Form::parse(&link.as_bytes()[1..]), 1000);
            assert!(again.range_error.is_some(), "links keep the error");
        }
        let f = Filter::from_query(&Form::parse(b"range=custom&start=2026-01-01T00:00&end="), 0);
        assert!(f.range_error.is_none());
        assert!(f.start.is_some() && f.end.is_none());
    }

    fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
    }

    #[test]
    fn the_most_selective_attribute_goes_to_lookup_events() {
        let f = Form::parse(b"attr=EventName&value=CreateTrail&attr=Username&value=root");
        let filter = Filter::from_query(&f, 1000);
        let (primary, rest) = filter.split();
        assert_eq!(primary, Some(("Username".into(), "root".into())));
        assert!(rest.contains(&("EventName".into(), "CreateTrail".into())));
        assert!(
            rest.contains(&("ReadOnly".into(), "false".into())),
            "read-only hidden by default"
        );
        let shown = Filter::from_query(&Form::parse(b"readonly=show"), 1000);
        assert_eq!(shown.split(), (None, vec![]));
    }

    #[test]
    fn presets_become_a_fixed_window() {
        let f = Filter::from_query(&Form::parse(b"range=1h"), 10_000);
        assert_eq!((f.start, f.end), (Some(6400), Some(10_000)));
        let again = Filter::from_query(&Form(f.pairs()), 99_999);
        assert_eq!((again.start, again.end), (Some(6400), Some(10_000)));
    }
}
