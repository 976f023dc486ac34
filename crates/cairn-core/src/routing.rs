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
    Coverage, DataResource, EventSelector, FieldSelector, ReadWriteType, Selectors, Trail,
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
        Selectors::Advanced(list) => list
            .iter()
            .any(|s| s.field_selectors.iter().all(|f| field_matches(f, event))),
    }
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

fn field_matches(f: &FieldSelector, event: &Value) -> bool {
    let values = field_values(&f.field, event);
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
mod tests {
    use cairn_model::trail::{AdvancedEventSelector, LoggingWindow, TrailStatus};
    use serde_json::json;

    use super::*;

    fn trail(multi: bool, global: bool, selectors: Selectors) -> Trail {
        Trail {
            name: "t".into(),
            account: "123456789012".into(),
            home_region: "eu-west-1".into(),
            s3_bucket_name: "b".into(),
            s3_key_prefix: None,
            sns_topic_arn: None,
            include_global_service_events: global,
            is_multi_region_trail: multi,
            log_file_validation_enabled: true,
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
            kms_key_id: None,
            is_organization_trail: false,
            selectors,
            has_custom_event_selectors: false,
            insight_selectors: vec![],
            tags: vec![],
            status: TrailStatus {
                is_logging: true,
                windows: vec![
                    LoggingWindow {
                        start_seq: 10,
                        end_seq: Some(20),
                    },
                    LoggingWindow {
                        start_seq: 30,
                        end_seq: None,
                    },
                ],
                ..Default::default()
            },
            created_at: 0.0,
        }
    }

    fn mgmt(region: &str, source: &str, read_only: bool) -> Value {
        json!({"eventCategory": "Management", "awsRegion": region, "eventSource": source, "eventName": "X", "readOnly": read_only})
    }

    fn object_event(arn: &str, read_only: bool) -> Value {
        json!({"eventCategory": "Data", "awsRegion": "eu-west-1", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
               "readOnly": read_only, "resources": [{"type": "AWS::S3::Object", "ARN": arn}, {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"}]})
    }

    /// An UpdateTrail of the regions applies from its seq on; an epoch kept before coverage
    /// was recorded borrows the next epoch's.
    #[test]
    fn region_coverage_follows_the_epoch_of_each_event() {
        let all = Selectors::Basic(vec![EventSelector::default_all_management()]);
        let mut t = trail(true, true, all.clone());
        let single = Coverage {
            multi_region: false,
            include_global: false,
        };
        t.status.selector_history = vec![
            cairn_model::trail::SelectorEpoch {
                until_seq: 12,
                selectors: all.clone(),
                coverage: None,
            },
            cairn_model::trail::SelectorEpoch {
                until_seq: 16,
                selectors: all,
                coverage: Some(single),
            },
        ];
        let west = mgmt("us-west-2", "cloudtrail.amazonaws.com", true);
        let iam = mgmt("us-east-1", "iam.amazonaws.com", true);
        for seq in [11, 15] {
            assert!(route(&t, seq, &west).is_none(), "{seq}");
            assert!(route(&t, seq, &iam).is_none(), "{seq}");
        }
        assert_eq!(route(&t, 17, &west).as_deref(), Some("us-west-2"));
        assert_eq!(route(&t, 17, &iam).as_deref(), Some("us-east-1"));
    }

    #[test]
    fn bucket_wide_object_calls_are_selected_by_a_whole_bucket_object_selector() {
        let list = json!({"eventCategory": "Data", "awsRegion": "eu-west-1", "eventSource": "s3.amazonaws.com",
                          "eventName": "ListObjects", "readOnly": true,
                          "resources": [{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"}]});
        let select = |value: &str| {
            trail(
                false,
                true,
                Selectors::Basic(vec![EventSelector {
                    read_write_type: ReadWriteType::All,
                    include_management_events: false,
                    data_resources: vec![DataResource {
                        resource_type: "AWS::S3::Object".into(),
                        values: vec![value.into()],
                    }],
                    exclude_management_event_sources: vec![],
                }]),
            )
        };
        assert!(route(&select("arn:aws:s3:::b/"), 15, &list).is_some());
        assert!(route(&select("arn:aws:s3:::b/logs/"), 15, &list).is_none());
        assert!(route(&select("arn:aws:s3:::bb/"), 15, &list).is_none());
    }

    #[test]
    fn windows_bound_delivery_exactly() {
        let t = trail(
            false,
            true,
            Selectors::Basic(vec![EventSelector::default_all_management()]),
        );
        let e = mgmt("eu-west-1", "cloudtrail.amazonaws.com", false);
        assert!(route(&t, 9, &e).is_none());
        assert!(route(&t, 10, &e).is_some());
        assert!(
            route(&t, 20, &e).is_some(),
            "the StopLogging event itself is delivered"
        );
        assert!(route(&t, 21, &e).is_none());
        assert!(route(&t, 30, &e).is_some());
    }

    #[test]
    fn regions_and_global_events() {
        let all = || Selectors::Basic(vec![EventSelector::default_all_management()]);
        let single = trail(false, true, all());
        let multi = trail(true, true, all());
        assert!(
            route(
                &single,
                15,
                &mgmt("us-west-2", "cloudtrail.amazonaws.com", false)
            )
            .is_none()
        );
        assert_eq!(
            route(
                &multi,
                15,
                &mgmt("us-west-2", "cloudtrail.amazonaws.com", false)
            )
            .as_deref(),
            Some("us-west-2")
        );
        assert_eq!(
            route(&multi, 15, &mgmt("eu-west-1", "iam.amazonaws.com", false)).as_deref(),
            Some("us-east-1")
        );
        assert!(
            route(&single, 15, &mgmt("eu-west-1", "iam.amazonaws.com", false)).is_none(),
            "global events are us-east-1's"
        );
        let no_global = trail(true, false, all());
        assert!(
            route(
                &no_global,
                15,
                &mgmt("eu-west-1", "iam.amazonaws.com", false)
            )
            .is_none()
        );
        // STS through a regional endpoint is that region's event; through the global
        // endpoint (signed for us-east-1), a global one.
        let sts = |region| mgmt(region, "sts.amazonaws.com", true);
        assert_eq!(
            route(&single, 15, &sts("eu-west-1")).as_deref(),
            Some("eu-west-1")
        );
        assert!(route(&single, 15, &sts("us-east-1")).is_none());
        assert_eq!(
            route(&multi, 15, &sts("ap-southeast-2")).as_deref(),
            Some("ap-southeast-2")
        );
        assert_eq!(
            route(&multi, 15, &sts("us-east-1")).as_deref(),
            Some("us-east-1")
        );
        assert!(route(&no_global, 15, &sts("us-east-1")).is_none());
        assert_eq!(
            route(&no_global, 15, &sts("eu-west-1")).as_deref(),
            Some("eu-west-1")
        );
    }

    #[test]
    fn basic_selectors_filter_read_write_sources_and_data() {
        let s = EventSelector {
            read_write_type: ReadWriteType::WriteOnly,
            include_management_events: true,
            data_resources: vec![DataResource {
                resource_type: "AWS::S3::Object".into(),
                values: vec!["arn:aws:s3:::b/logs/".into()],
            }],
            exclude_management_event_sources: vec!["kms.amazonaws.com".into()],
        };
        let t = trail(false, true, Selectors::Basic(vec![s]));
        assert!(
            route(
                &t,
                15,
                &mgmt("eu-west-1", "cloudtrail.amazonaws.com", false)
            )
            .is_some()
        );
        assert!(route(&t, 15, &mgmt("eu-west-1", "cloudtrail.amazonaws.com", true)).is_none());
        assert!(route(&t, 15, &mgmt("eu-west-1", "kms.amazonaws.com", false)).is_none());
        assert!(route(&t, 15, &object_event("arn:aws:s3:::b/logs/x", false)).is_some());
        assert!(route(&t, 15, &object_event("arn:aws:s3:::b/other/x", false)).is_none());
        let default = trail(
            false,
            true,
            Selectors::Basic(vec![EventSelector::default_all_management()]),
        );
        assert!(
            route(&default, 15, &object_event("arn:aws:s3:::b/logs/x", false)).is_none(),
            "no data events by default"
        );
    }

    #[test]
    fn advanced_selectors_and_their_operators() {
        let sel = |fields: Vec<FieldSelector>| {
            Selectors::Advanced(vec![AdvancedEventSelector {
                name: None,
                field_selectors: fields,
            }])
        };
        let f = |field: &str| FieldSelector {
            field: field.into(),
            ..Default::default()
        };
        // An S3 object data-event selector with `more` conditions.
        let s3_data = |more: Vec<FieldSelector>| {
            let mut fields = vec![
                FieldSelector {
                    equals: Some(vec!["Data".into()]),
                    ..f("eventCategory")
                },
                FieldSelector {
                    equals: Some(vec!["AWS::S3::Object".into()]),
                    ..f("resources.type")
                },
            ];
            fields.extend(more);
            trail(false, true, sel(fields))
        };
        let data = s3_data(vec![
            FieldSelector {
                starts_with: Some(vec!["arn:aws:s3:::b/logs/".into()]),
                ..f("resources.ARN")
            },
            FieldSelector {
                not_equals: Some(vec!["GetObject".into()]),
                ..f("eventName")
            },
        ]);
        assert!(route(&data, 15, &object_event("arn:aws:s3:::b/logs/x", false)).is_some());
        assert!(route(&data, 15, &object_event("arn:aws:s3:::b/x", false)).is_none());
        let mut get = object_event("arn:aws:s3:::b/logs/x", true);
        get["eventName"] = json!("GetObject");
        assert!(route(&data, 15, &get).is_none());
        // sessionCredentialFromConsole: only console sessions' records carry it ("true").
        let console = |value: &str| {
            s3_data(vec![FieldSelector {
                equals: Some(vec![value.into()]),
                ..f("sessionCredentialFromConsole")
            }])
        };
        let plain = object_event("arn:aws:s3:::b/x", true);
        let mut from_console = plain.clone();
        mark_console(&mut from_console);
        assert!(route(&console("false"), 15, &plain).is_some());
        assert!(route(&console("false"), 15, &from_console).is_none());
        assert!(route(&console("true"), 15, &from_console).is_some());
        assert!(route(&console("true"), 15, &plain).is_none());
        let writes = trail(
            false,
            true,
            sel(vec![
                FieldSelector {
                    equals: Some(vec!["Management".into()]),
                    ..f("eventCategory")
                },
                FieldSelector {
                    equals: Some(vec!["false".into()]),
                    ..f("readOnly")
                },
                FieldSelector {
                    not_ends_with: Some(vec![
                        ".kms.amazonaws.com".into(),
                        "kms.amazonaws.com".into(),
                    ]),
                    ..f("eventSource")
                },
            ]),
        );
        assert!(
            route(
                &writes,
                15,
                &mgmt("eu-west-1", "cloudtrail.amazonaws.com", false)
            )
            .is_some()
        );
        assert!(
            route(
                &writes,
                15,
                &mgmt("eu-west-1", "cloudtrail.amazonaws.com", true)
            )
            .is_none()
        );
        assert!(route(&writes, 15, &mgmt("eu-west-1", "kms.amazonaws.com", false)).is_none());
    }

    #[test]
    fn selectors_apply_as_they_were_when_the_event_was_recorded() {
        let write_only = Selectors::Basic(vec![EventSelector {
            read_write_type: ReadWriteType::WriteOnly,
            ..EventSelector::default_all_management()
        }]);
        let all = Selectors::Basic(vec![EventSelector::default_all_management()]);
        // Write-only until seq 16 (the PutEventSelectors event), All from then on.
        let mut t = trail(false, true, all.clone());
        t.status.selector_history = vec![cairn_model::trail::SelectorEpoch {
            until_seq: 16,
            selectors: write_only.clone(),
            coverage: None,
        }];
        let read = mgmt("eu-west-1", "cloudtrail.amazonaws.com", true);
        assert!(
            route(&t, 15, &read).is_none(),
            "recorded before the switch to All"
        );
        assert!(route(&t, 16, &read).is_some());
        assert!(route(&t, 30, &read).is_some());
        // The reverse: a data selector added at seq 16 does not reach back.
        let data = Selectors::Basic(vec![EventSelector {
            data_resources: vec![DataResource {
                resource_type: "AWS::S3::Object".into(),
                values: vec!["arn:aws:s3".into()],
            }],
            ..EventSelector::default_all_management()
        }]);
        let mut t = trail(false, true, data);
        t.status.selector_history = vec![cairn_model::trail::SelectorEpoch {
            until_seq: 16,
            selectors: all,
            coverage: None,
        }];
        let put = object_event("arn:aws:s3:::b/k", false);
        assert!(route(&t, 15, &put).is_none());
        assert!(route(&t, 17, &put).is_some());
        assert!(takes_now(&t, &put));
        assert!(selects_data_events(&t.selectors));
        assert!(!selects_data_events(&write_only));
    }

    #[test]
    fn the_routing_view_routes_like_the_stored_record() {
        use cairn_model::event::{EVENT_VERSION, EventRecord, EventResource};
        let f = |field: &str, equals: &[&str]| FieldSelector {
            field: field.into(),
            equals: Some(equals.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        };
        let selector_sets = vec![
            Selectors::Basic(vec![EventSelector {
                read_write_type: ReadWriteType::ReadOnly,
                include_management_events: false,
                data_resources: vec![DataResource {
                    resource_type: "AWS::S3::Object".into(),
                    values: vec!["arn:aws:s3:::b/".into()],
                }],
                exclude_management_event_sources: vec![],
            }]),
            Selectors::Advanced(vec![AdvancedEventSelector {
                name: None,
                field_selectors: vec![
                    f("eventCategory", &["Data"]),
                    f("resources.type", &["AWS::S3::Object"]),
                    f("eventName", &["GetObject"]),
                    f(
                        "userIdentity.arn",
                        &["arn:aws:iam::123456789012:user/alice"],
                    ),
                    f("eventType", &["AwsApiCall"]),
                ],
            }]),
        ];
        for (name, read_only, user) in [
            ("GetObject", true, "alice"),
            ("GetObject", true, "bob"),
            ("PutObject", false, "alice"),
        ] {
            let record = EventRecord {
                event_version: EVENT_VERSION.into(),
                user_identity: json!({"type": "IAMUser", "arn": format!("arn:aws:iam::123456789012:user/{user}")}),
                event_time: "2024-01-01T00:00:00Z".into(),
                event_source: "s3.amazonaws.com".into(),
                event_name: name.into(),
                aws_region: "eu-west-1".into(),
                source_ip_address: "127.0.0.1".into(),
                user_agent: "ua".into(),
                error_code: None,
                error_message: None,
                request_parameters: json!({"bucketName": "b", "junk": "x".repeat(200_000)}),
                response_elements: Value::Null,
                additional_event_data: None,
                request_id: "r".into(),
                event_id: "e".into(),
                read_only,
                resources: vec![EventResource {
                    arn: "arn:aws:s3:::b/k".into(),
                    account_id: None,
                    resource_type: "AWS::S3::Object".into(),
                    arn_prefix: None,
                }],
                event_type: "AwsApiCall".into(),
                management_event: false,
                recipient_account_id: "123456789012".into(),
                event_category: "Data".into(),
            };
            let stored: Value = serde_json::from_str(&record.to_canonical_json()).unwrap();
            let view = routing_view(&record);
            for selectors in &selector_sets {
                let t = trail(false, true, selectors.clone());
                assert_eq!(
                    route(&t, 15, &stored),
                    route(&t, 15, &view),
                    "{name} by {user} under {selectors:?}"
                );
            }
        }
    }
}
