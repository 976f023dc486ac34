//! Which logging trail takes which recorded event, and into which region's files.
//!
//! An event is taken when it was recorded inside one of the trail's logging windows, its
//! region is covered (home region, or any for multi-region trails; global-service events
//! count as us-east-1 and need `IncludeGlobalServiceEvents`), and the basic or advanced
//! event selectors the trail had *when the event was recorded* select it: a
//! PutEventSelectors applies from its own event's seq on ([`Trail::selectors_at`]), never
//! to events recorded before it. The regions covered are also those of that moment
//! ([`Trail::coverage_at`]): an UpdateTrail of `IsMultiRegionTrail` or
//! `IncludeGlobalServiceEvents` neither drops nor adds events recorded before it.
//!
//! [`takes_now`] is the same decision for an event being recorded at this moment (current
//! selectors, logging now); the recorder uses it to write only the data events some trail
//! will deliver.

use cairn_model::event::EventRecord;
use cairn_model::trail::{
    AdvancedEventSelector, Coverage, DataResource, EventSelector, FieldSelector, ReadWriteType,
    Selectors, Trail,
};
use serde_json::{Value, json};
use std::borrow::Cow;

/// Event sources CloudTrail treats as global (delivered as us-east-1).
pub const GLOBAL_SOURCES: &[&str] = &[
    "iam.amazonaws.com",
    "sts.amazonaws.com",
    "cloudfront.amazonaws.com",
    "route53.amazonaws.com",
    "organizations.amazonaws.com",
    "signin.amazonaws.com",
];

fn text<'a>(event: &'a Value, field: &str) -> &'a str {
    event.get(field).and_then(Value::as_str).unwrap_or("")
}

/// The region folder a trail files the event with this seq under, if it takes the event at
/// all: inside a logging window, region covered, and selected by the selectors the trail
/// had at that seq.
pub fn route(trail: &Trail, seq: i64, event: &Value) -> Option<String> {
    let in_window = trail
        .status
        .windows
        .iter()
        .any(|w| seq >= w.start_seq && w.end_seq.is_none_or(|end| seq <= end));
    if !in_window {
        return None;
    }
    let region = covered_region(trail.coverage_at(seq), &trail.home_region, event)?;
    selected(trail.selectors_at(seq), event).then(|| region.to_owned())
}

/// Whether the trail takes an event recorded now: it is logging, covers the event's region
/// and its current selectors select it. For an event appended now this equals
/// `route(trail, its seq, event).is_some()`.
pub fn takes_now(trail: &Trail, event: &Value) -> bool {
    trail.status.is_logging
        && covered_region(trail.coverage(), &trail.home_region, event).is_some()
        && selected(&trail.selectors, event)
}

/// Whether the selectors can select any data event at all.
pub fn selects_data_events(selectors: &Selectors) -> bool {
    match selectors {
        Selectors::Basic(list) => list.iter().any(|s| !s.data_resources.is_empty()),
        Selectors::Advanced(list) => list.iter().any(|s| {
            s.field_selectors.iter().any(|f| {
                f.field == "eventCategory"
                    && f.equals
                        .as_ref()
                        .is_some_and(|v| v.iter().any(|c| c == "Data"))
            })
        }),
    }
}

/// The record fields routing reads, as a small JSON value: what [`route`] sees when it
/// parses the stored record, without serialising (or parsing) the whole record.
pub fn routing_view(record: &EventRecord) -> Value {
    let resources: Vec<Value> = record
        .resources
        .iter()
        .map(|r| match &r.arn_prefix {
            Some(prefix) => json!({"type": r.resource_type, "ARNPrefix": prefix}),
            None => json!({"type": r.resource_type, "ARN": r.arn}),
        })
        .collect();
    let mut view = json!({
        "eventCategory": record.event_category,
        "eventSource": record.event_source,
        "eventName": record.event_name,
        "eventType": record.event_type,
        "awsRegion": record.aws_region,
        "readOnly": record.read_only,
        "resources": resources,
    });
    if let Some(arn) = record.user_identity.get("arn") {
        view["userIdentity"] = json!({"arn": arn});
    }
    view
}

/// Whether the event is a global-service event. STS is global only through its global
/// endpoint (signed for us-east-1); a call to a regional STS endpoint is that region's event,
/// which only that region's trails record (IAM user guide, "Logging IAM and AWS STS API calls
/// with AWS CloudTrail").
fn is_global(source: &str, region: &str) -> bool {
    GLOBAL_SOURCES.contains(&source) && (source != "sts.amazonaws.com" || region == "us-east-1")
}

/// Adds `sessionCredentialFromConsole` to a routing view, as the record of a call made with
/// console session credentials carries it.
pub fn mark_console(view: &mut Value) {
    view["sessionCredentialFromConsole"] = json!("true");
}

/// The region folder for the event if the trail covers its region.
fn covered_region<'a>(coverage: Coverage, home_region: &str, event: &'a Value) -> Option<&'a str> {
    let source = text(event, "eventSource");
    let region = if is_global(source, text(event, "awsRegion")) {
        if !coverage.include_global {
            return None;
        }
        "us-east-1"
    } else {
        text(event, "awsRegion")
    };
    if !coverage.multi_region && region != home_region {
        return None;
    }
    Some(region)
}

fn selected(selectors: &Selectors, event: &Value) -> bool {
    match selectors {
        Selectors::Basic(list) => list.iter().any(|s| basic_selects(s, event)),
        Selectors::Advanced(list) => list.iter().any(|s| advanced_selects(s, event)),
    }
}

/// An advanced selector selects a management event when every field matches. A data event
/// is judged resource by resource, as AWS judges it: the selector's `resources.type` and
/// `resources.ARN` conditions must all hold for one resource of the event's own service
/// (an S3 object, not its bucket's entry beside it nor the KMS key that encrypted it), with
/// the other fields.
fn advanced_selects(s: &AdvancedEventSelector, event: &Value) -> bool {
    if text(event, "eventCategory") != "Data" {
        return s
            .field_selectors
            .iter()
            .all(|f| field_matches(f, &field_values(&f.field, event)));
    }
    data_resources(event).iter().any(|(rtype, arn)| {
        s.field_selectors.iter().all(|f| {
            let values = match f.field.as_str() {
                "resources.type" => vec![(*rtype).to_owned()],
                "resources.ARN" => arn.iter().map(|a| a.to_string()).collect(),
                other => field_values(other, event),
            };
            field_matches(f, &values)
        })
    })
}

/// The resources a data event is about: those of its own service (`AWS::S3::…` for
/// `s3.amazonaws.com`, `AWS::CloudWatch::…` for `monitoring.amazonaws.com`), or the implied
/// type, with no ARN, of a call whose record names none (CloudWatch's metrics).
fn data_resources(event: &Value) -> Vec<(&str, Option<Cow<'_, str>>)> {
    let source = text(event, "eventSource");
    let service = source.strip_suffix(".amazonaws.com").unwrap_or(source);
    let own: Vec<_> = resources(event)
        .into_iter()
        .filter(|(t, _)| {
            let of = t
                .split("::")
                .nth(1)
                .unwrap_or_default()
                .to_ascii_lowercase();
            of == service || (of == "cloudwatch" && service == "monitoring")
        })
        .map(|(t, a)| (t, Some(a)))
        .collect();
    if own.is_empty() {
        return implicit_resource_type(event)
            .map(|t| (t, None))
            .into_iter()
            .collect();
    }
    own
}

fn read_only(event: &Value) -> bool {
    event
        .get("readOnly")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn rw_matches(rw: ReadWriteType, event: &Value) -> bool {
    match rw {
        ReadWriteType::All => true,
        ReadWriteType::ReadOnly => read_only(event),
        ReadWriteType::WriteOnly => !read_only(event),
    }
}

/// The (type, ARN) pairs selectors read: each resource's `ARN`, or its `ARNPrefix` (the
/// objects an S3 listing covers). Another S3 data event on a bucket as a whole
/// (DeleteObjects, ListMultipartUploads, …) names the bucket's objects as
/// `arn:aws:s3:::<bucket>/`, so an object selector covering the whole bucket selects it.
fn resources(event: &Value) -> Vec<(&str, Cow<'_, str>)> {
    let mut out: Vec<(&str, Cow<'_, str>)> = event
        .get("resources")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    let arn = match r.get("ARNPrefix").and_then(Value::as_str) {
                        Some(prefix) => prefix,
                        None => text(r, "ARN"),
                    };
                    (text(r, "type"), Cow::Borrowed(arn))
                })
                .collect()
        })
        .unwrap_or_default();
    if text(event, "eventSource") == "s3.amazonaws.com"
        && text(event, "eventCategory") == "Data"
        && !out.iter().any(|(t, _)| *t == "AWS::S3::Object")
        && let Some((_, bucket)) = out.iter().find(|(t, _)| *t == "AWS::S3::Bucket")
    {
        let prefix = format!("{bucket}/");
        out.push(("AWS::S3::Object", Cow::Owned(prefix)));
    }
    out
}

fn data_resource_matches(dr: &DataResource, event: &Value) -> bool {
    resources(event).iter().any(|(rtype, arn)| {
        *rtype == dr.resource_type
            && dr.values.iter().any(|v| {
                let all = matches!(
                    v.as_str(),
                    "arn:aws:s3" | "arn:aws:s3:::" | "arn:aws:lambda" | "arn:aws:dynamodb"
                );
                all || arn.starts_with(v.as_str())
            })
    })
}

fn basic_selects(s: &EventSelector, event: &Value) -> bool {
    if !rw_matches(s.read_write_type, event) {
        return false;
    }
    match text(event, "eventCategory") {
        "Management" => {
            s.include_management_events
                && !s
                    .exclude_management_event_sources
                    .iter()
                    .any(|x| x == text(event, "eventSource"))
        }
        "Data" => s
            .data_resources
            .iter()
            .any(|dr| data_resource_matches(dr, event)),
        _ => false,
    }
}

/// The resource type of a data event whose record names no resource: CloudWatch's metric
/// calls (PutMetricData, GetMetricData, GetMetricStatistics, ListMetrics) act on metrics,
/// which have no ARN, and are selected by `resources.type` `AWS::CloudWatch::Metric`.
fn implicit_resource_type(event: &Value) -> Option<&'static str> {
    (text(event, "eventCategory") == "Data"
        && text(event, "eventSource") == "monitoring.amazonaws.com")
        .then_some("AWS::CloudWatch::Metric")
}

/// The values an advanced selector field has for an event (several for resources).
fn field_values(field: &str, event: &Value) -> Vec<String> {
    match field {
        "readOnly" => vec![read_only(event).to_string()],
        "resources.type" => {
            let mut types: Vec<String> = resources(event)
                .iter()
                .map(|(t, _)| (*t).to_owned())
                .collect();
            if types.is_empty()
                && let Some(t) = implicit_resource_type(event)
            {
                types.push(t.to_owned());
            }
            types
        }
        "resources.ARN" => resources(event)
            .into_iter()
            .map(|(_, a)| a.into_owned())
            .collect(),
        // Present (`"true"`) only in records of console sessions; every other call is `false`.
        "sessionCredentialFromConsole" => {
            let console = text(event, "sessionCredentialFromConsole") == "true";
            vec![console.to_string()]
        }
        "userIdentity.arn" => vec![
            event
                .pointer("/userIdentity/arn")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        ],
        other => vec![text(event, other).to_owned()],
    }
}

fn field_matches(f: &FieldSelector, values: &[String]) -> bool {
    let any = |list: &Option<Vec<String>>, test: &dyn Fn(&str, &str) -> bool| {
        list.as_ref()
            .is_none_or(|wanted| values.iter().any(|v| wanted.iter().any(|w| test(v, w))))
    };
    let none = |list: &Option<Vec<String>>, test: &dyn Fn(&str, &str) -> bool| {
        list.as_ref()
            .is_none_or(|unwanted| !values.iter().any(|v| unwanted.iter().any(|w| test(v, w))))
    };
    any(&f.equals, &|v, w| v == w)
        && any(&f.starts_with, &|v, w| v.starts_with(w))
        && any(&f.ends_with, &|v, w| v.ends_with(w))
        && none(&f.not_equals, &|v, w| v == w)
        && none(&f.not_starts_with, &|v, w| v.starts_with(w))
        && none(&f.not_ends_with, &|v, w| v.ends_with(w))
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
