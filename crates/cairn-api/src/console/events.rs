//! The Event history page, an event's record, downloads and the resource timeline.

use axum::body::Body;
use axum::response::Response;
use cairn_console::pages::{
    Choice, EventDetail, EventRow, Events, Link, ParamRow, ResourceRow, Setting, Timeline,
    TimelineEntry,
};
use cairn_console::text::{csv_line, display_time, flatten, input_time};
use serde_json::{Value, json};

use super::calls::Caller;
use super::describe_error;
use super::history::{self, ATTRIBUTES, Filter, PAGE, RANGES, record_of, time_of};
use super::session::Signed;
use super::web::{self, Form, url};
use crate::server::AppState;

/// LookupEvents calls one table page may make to fill itself when filters apply beyond the
/// one LookupEvents honours.
const MAX_CALLS_PER_PAGE: usize = 20;
/// The most events one download carries.
pub const MAX_DOWNLOAD: usize = 5000;
/// The most events a timeline shows.
const MAX_TIMELINE: usize = 1000;

/// A table row for a LookupEvents item.
pub fn row(item: &Value) -> EventRow {
    let s = |m: &str| item.get(m).and_then(Value::as_str).unwrap_or("").to_owned();
    let resources: Vec<(String, String)> = item
        .get("Resources")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    let f = |m: &str| r.get(m).and_then(Value::as_str).unwrap_or("").to_owned();
                    (f("ResourceType"), f("ResourceName"))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut types: Vec<String> = resources.iter().map(|(t, _)| t.clone()).collect();
    types.dedup();
    let record = record_of(item);
    EventRow {
        name: s("EventName"),
        href: format!("/console/events/{}", web::segment(&s("EventId"))),
        time: display_time(time_of(item)),
        user: s("Username"),
        source: s("EventSource"),
        resource_type: types.join(", "),
        resources: resources
            .into_iter()
            .map(|(_, name)| Link {
                href: url("/console/timeline", &[("name", &name)]),
                text: name,
            })
            .collect(),
        error_code: record
            .get("errorCode")
            .and_then(Value::as_str)
            .map(str::to_owned),
        read_only: s("ReadOnly") == "true",
    }
}

fn label(key: &str) -> &'static str {
    ATTRIBUTES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .unwrap_or("")
}

fn attribute_choices(selected: &str) -> Vec<Choice> {
    ATTRIBUTES
        .iter()
        .map(|(k, l)| Choice {
            value: (*k).to_owned(),
            label: (*l).to_owned(),
            selected: *k == selected,
        })
        .collect()
}

/// `GET /console/events`.
pub async fn page(state: &AppState, signed: &Signed, query: &Form) -> Response {
    let now = chrono::Utc::now().timestamp();
    let filter = Filter::from_query(query, now);
    let caller = Caller::new(state, signed);
    // A refused lookup answers its status (403 for a denial) and lists nothing, rather than
    // "no events" beside the refusal (console7).
    let (rows, next, scanned, error, status) =
        match history::read(&caller, &filter, PAGE, MAX_CALLS_PER_PAGE).await {
            Ok(found) => (
                found.events.iter().map(row).collect::<Vec<_>>(),
                found.next,
                found.scanned,
                None,
                http::StatusCode::OK,
            ),
            Err(e) => (
                Vec::new(),
                None,
                0,
                Some(describe_error(&e)),
                web::form_status(&e),
            ),
        };
    let mut filters: Vec<(Vec<Choice>, String)> = filter
        .attributes
        .iter()
        .map(|(k, v)| (attribute_choices(k), v.clone()))
        .collect();
    while filters.len() < 4 {
        let default = if filters.is_empty() { "EventName" } else { "" };
        filters.push((attribute_choices(default), String::new()));
    }
    let mut summary: Vec<String> = filter
        .attributes
        .iter()
        .map(|(k, v)| format!("{} = {v}", label(k)))
        .collect();
    if !filter.q.is_empty() {
        summary.push(format!("Text contains \"{}\"", filter.q));
    }
    if !filter.show_read_only && !filter.attributes.iter().any(|(k, _)| k == "ReadOnly") {
        summary.push("Read-only = false".to_owned());
    }
    let range_value = if filter.range.is_empty() || filter.token.is_some() {
        if filter.start.is_some() || filter.end.is_some() {
            "custom".to_owned()
        } else {
            String::new()
        }
    } else {
        filter.range.clone()
    };
    let page = Events {
        chrome: signed.chrome("events"),
        filters,
        ranges: RANGES
            .iter()
            .map(|(v, l, _)| Choice {
                value: (*v).to_owned(),
                label: (*l).to_owned(),
                selected: *v == range_value,
            })
            .collect(),
        start: match filter.range_error {
            Some(_) => filter.typed.0.clone(),
            None => filter.start.map(input_time).unwrap_or_default(),
        },
        end: match filter.range_error {
            Some(_) => filter.typed.1.clone(),
            None => filter.end.map(input_time).unwrap_or_default(),
        },
        show_read_only: filter.show_read_only,
        q: filter.q.clone(),
        rows,
        next_href: next
            .as_deref()
            .map(|t| filter.href("/console/events", &[("token", t)])),
        first_href: filter
            .token
            .as_ref()
            .map(|_| filter.href("/console/events", &[])),
        csv_href: filter.href("/console/events/download", &[("format", "csv")]),
        json_href: filter.href("/console/events/download", &[("format", "json")]),
        summary,
        scanned,
        error,
    };
    web::page_with(status, &page)
}

/// `GET /console/events/download?format=csv|json&…`: every event of the filter (at most
/// [`MAX_DOWNLOAD`]), newest first.
pub async fn download(state: &AppState, signed: &Signed, query: &Form) -> Response {
    let now = chrono::Utc::now().timestamp();
    let mut filter = Filter::from_query(query, now);
    filter.token = None;
    let caller = Caller::new(state, signed);
    let found = match history::read(&caller, &filter, MAX_DOWNLOAD, MAX_DOWNLOAD / PAGE).await {
        Ok(f) => f,
        // The console's error page with the error's status (403 for a denial), as every
        // other download answers (console4: this one was a 400 text).
        Err(e) => return super::error_page(signed, "events", "Event history", &e),
    };
    let mut events = found.events;
    events.truncate(MAX_DOWNLOAD);
    // A download that stopped before the filter's last match says so in its file name, which
    // the browser shows (the header below is for scripts).
    let partial = if found.next.is_some() { "_partial" } else { "" };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string() + partial;
    let mut resp = if query.get("format") == Some("json") {
        let records: Vec<Value> = events.iter().map(record_of).collect();
        let body = serde_json::to_string_pretty(&json!({"Records": records})).unwrap_or_default();
        web::download(
            "application/json",
            &format!("event_history_{stamp}.json"),
            Body::from(body),
        )
    } else {
        web::download(
            "text/csv; charset=utf-8",
            &format!("event_history_{stamp}.csv"),
            Body::from(csv(&events)),
        )
    };
    if found.next.is_some() {
        resp.headers_mut()
            .insert("x-cairn-truncated", http::HeaderValue::from_static("true"));
    }
    resp
}

/// The CSV of LookupEvents items, one line per event, formulas neutralised.
pub fn csv(events: &[Value]) -> String {
    let mut out = csv_line(&[
        "Event ID",
        "Event time",
        "User name",
        "Event name",
        "Event source",
        "Resource type",
        "Resource name",
        "AWS access key",
        "AWS region",
        "Error code",
        "Source IP address",
        "Read-only",
    ]);
    for item in events {
        let s = |m: &str| item.get(m).and_then(Value::as_str).unwrap_or("").to_owned();
        let record = record_of(item);
        let r = |m: &str| {
            record
                .get(m)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let resources = item
            .get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let join = |m: &str| {
            resources
                .iter()
                .filter_map(|x| x.get(m).and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(";")
        };
        let time = chrono::DateTime::from_timestamp(time_of(item), 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        out.push_str(&csv_line(&[
            s("EventId"),
            time,
            s("Username"),
            s("EventName"),
            s("EventSource"),
            join("ResourceType"),
            join("ResourceName"),
            s("AccessKeyId"),
            r("awsRegion"),
            r("errorCode"),
            r("sourceIPAddress"),
            s("ReadOnly"),
        ]));
    }
    out
}

/// `GET /console/events/{id}`: the event's record exactly as LookupEvents returns it.
pub async fn detail(state: &AppState, signed: &Signed, event_id: &str) -> Response {
    let caller = Caller::new(state, signed);
    let body =
        json!({"LookupAttributes": [{"AttributeKey": "EventId", "AttributeValue": event_id}]});
    let mut page = EventDetail {
        chrome: signed.chrome("events"),
        name: event_id.to_owned(),
        ..Default::default()
    };
    let item = match caller.cloudtrail("LookupEvents", body).await {
        Err(e) => {
            page.error = Some(describe_error(&e));
            return web::page_with(http::StatusCode::OK, &page);
        }
        Ok(out) => out
            .get("Events")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .cloned(),
    };
    let Some(item) = item else {
        page.error = Some(format!(
            "No event with ID {event_id} is in the event history of {}.",
            signed.region
        ));
        return web::page_with(http::StatusCode::NOT_FOUND, &page);
    };
    let record = record_of(&item);
    let r = |m: &str| {
        record
            .get(m)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_owned()
    };
    let s = |m: &str| {
        item.get(m)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_owned()
    };
    page.name = s("EventName");
    page.summary = vec![
        Setting::new("Event time", display_time(time_of(&item))),
        Setting::linked(
            "User name",
            s("Username"),
            url(
                "/console/events",
                &[("attr", "Username"), ("value", &s("Username"))],
            ),
        ),
        Setting::new("Event name", s("EventName")),
        Setting::new("Event source", s("EventSource")),
        Setting::new("AWS access key", s("AccessKeyId")),
        Setting::new("AWS region", r("awsRegion")),
        Setting::new("Source IP address", r("sourceIPAddress")),
        Setting::new("Event ID", s("EventId")),
        Setting::new("Request ID", r("requestID")),
        Setting::new("Read-only", s("ReadOnly")),
        Setting::new("Error code", r("errorCode")),
        Setting::new("Error message", r("errorMessage")),
    ];
    page.resources = item
        .get("Resources")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .map(|x| {
                    let f = |m: &str| x.get(m).and_then(Value::as_str).unwrap_or("").to_owned();
                    ResourceRow {
                        resource_type: f("ResourceType"),
                        timeline_href: url("/console/timeline", &[("name", &f("ResourceName"))]),
                        name: f("ResourceName"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    page.record = serde_json::to_string_pretty(&record).unwrap_or_default();
    web::page(&page)
}

/// `GET /console/timeline?name=…`: every event naming the resource, oldest first, with what
/// changed in its request parameters.
pub async fn timeline(state: &AppState, signed: &Signed, query: &Form) -> Response {
    let name = query.str("name");
    let mut page = Timeline {
        chrome: signed.chrome("events"),
        events_href: url(
            "/console/events",
            &[
                ("attr", "ResourceName"),
                ("value", &name),
                ("readonly", "show"),
            ],
        ),
        name: name.clone(),
        ..Default::default()
    };
    if name.is_empty() {
        return web::page(&page);
    }
    let filter = Filter {
        attributes: vec![("ResourceName".to_owned(), name)],
        show_read_only: true,
        ..Default::default()
    };
    let caller = Caller::new(state, signed);
    match history::read(&caller, &filter, MAX_TIMELINE, MAX_TIMELINE / PAGE).await {
        Err(e) => {
            page.error = Some(describe_error(&e));
            return web::page_with(web::form_status(&e), &page);
        }
        Ok(found) => {
            page.truncated = found.next.is_some();
            page.entries = entries(&found.events);
        }
    }
    web::page(&page)
}

/// Timeline entries, oldest first; a parameter is marked changed when an earlier event set
/// it to another value, or when it appears for the first time after the first event.
pub fn entries(newest_first: &[Value]) -> Vec<TimelineEntry> {
    let mut last: std::collections::HashMap<String, String> = Default::default();
    let mut out = Vec::new();
    for (i, item) in newest_first.iter().rev().enumerate() {
        let record = record_of(item);
        let r = |m: &str| {
            record
                .get(m)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let identity = record.get("userIdentity").cloned().unwrap_or(Value::Null);
        let who = identity
            .get("arn")
            .or_else(|| identity.get("userName"))
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        // A read, or a refused or failed call, changes nothing (console11: a denied
        // UpdateTrail was marked "Changed", and the real change after it was not).
        let read_only = record
            .get("readOnly")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            || record.get("errorCode").is_some_and(|c| !c.is_null());
        let params = flatten(record.get("requestParameters").unwrap_or(&Value::Null), 40)
            .into_iter()
            .filter(|(k, _)| !k.is_empty())
            .map(|(key, value)| {
                let changed = !read_only
                    && match last.get(&key) {
                        Some(prev) => *prev != value,
                        None => i > 0,
                    };
                if !read_only {
                    last.insert(key.clone(), value.clone());
                }
                ParamRow {
                    key,
                    value,
                    changed,
                }
            })
            .collect();
        let error = match (
            record.get("errorCode").and_then(Value::as_str),
            record.get("errorMessage").and_then(Value::as_str),
        ) {
            (Some(c), Some(m)) => Some(format!("{c}: {m}")),
            (Some(c), None) => Some(c.to_owned()),
            (None, Some(m)) => Some(m.to_owned()),
            _ => None,
        };
        out.push(TimelineEntry {
            time: display_time(time_of(item)),
            name: r("eventName"),
            href: format!("/console/events/{}", web::segment(&r("eventID"))),
            who,
            source_ip: r("sourceIPAddress"),
            user_agent: r("userAgent"),
            source: r("eventSource"),
            error,
            read_only,
            params,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, user: &str, params: Value) -> Value {
        let record = json!({"eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.1",
                            "readOnly": false, "userIdentity": {"arn": "arn:aws:iam::1:user/u"},
                            "requestParameters": params, "eventID": "e", "userAgent": "ua"});
        json!({"EventId": "e", "EventName": name, "Username": user, "EventTime": 1_704_067_200.0,
               "EventSource": "cloudtrail.amazonaws.com", "ReadOnly": "false", "AccessKeyId": "AKID",
               "Resources": [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "=t"}],
               "CloudTrailEvent": record.to_string()})
    }

    #[test]
    fn csv_neutralises_formulas_in_every_cell() {
        let out = csv(&[item("CreateTrail", "=HYPERLINK(\"http://x\")", Value::Null)]);
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert!(lines[0].starts_with("Event ID,Event time,User name,Event name"));
        assert!(
            lines[1].contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains(",'=t,"), "{}", lines[1]);
        assert!(lines[1].contains(",2024-01-01T00:00:00Z,"));
    }

    #[test]
    fn the_timeline_marks_what_changed() {
        let newest_first = [
            item(
                "UpdateTrail",
                "u",
                json!({"name": "t", "s3BucketName": "b2"}),
            ),
            item("GetTrail", "u", json!({"name": "t"})),
            item(
                "CreateTrail",
                "u",
                json!({"name": "t", "s3BucketName": "b1"}),
            ),
        ];
        let entries = entries(&newest_first);
        assert_eq!(entries[0].name, "CreateTrail");
        assert!(
            entries[0].params.iter().all(|p| !p.changed),
            "nothing changed at creation"
        );
        let update = &entries[2];
        let changed: Vec<&str> = update
            .params
            .iter()
            .filter(|p| p.changed)
            .map(|p| p.key.as_str())
            .collect();
        assert_eq!(changed, vec!["s3BucketName"]);
    }

    /// console11 F1: a refused call changes nothing, and the real change after it is marked.
    #[test]
    fn a_refused_call_is_no_change() {
        let mut denied = item(
            "UpdateTrail",
            "ro",
            json!({"name": "t", "s3BucketName": "b2"}),
        );
        let mut record: Value =
            serde_json::from_str(denied["CloudTrailEvent"].as_str().unwrap()).unwrap();
        record["errorCode"] = json!("AccessDenied");
        denied["CloudTrailEvent"] = json!(record.to_string());
        let newest_first = [
            item(
                "UpdateTrail",
                "u",
                json!({"name": "t", "s3BucketName": "b2"}),
            ),
            denied,
            item(
                "CreateTrail",
                "u",
                json!({"name": "t", "s3BucketName": "b1"}),
            ),
        ];
        let entries = entries(&newest_first);
        assert!(entries[1].params.iter().all(|p| !p.changed));
        assert!(
            entries[2]
                .params
                .iter()
                .any(|p| p.key == "s3BucketName" && p.changed)
        );
    }
}
