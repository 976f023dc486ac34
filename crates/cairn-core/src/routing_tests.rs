//! Routing tests: regions, windows, basic and advanced selectors, the routing view.

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

#[test]
fn advanced_resource_conditions_read_the_events_own_resource() {
    // ctapi4: resources.ARN and resources.type were matched against every resource of the
    // record, so a NotEquals on a bucket's ARN dropped every object event of the bucket,
    // an Equals on it selected them all, and an SSE-KMS key made an S3 write a KMS event.
    let f = |field: &str| FieldSelector {
        field: field.into(),
        ..Default::default()
    };
    let data_of = |rtype: &str, arn: FieldSelector| {
        trail(
            false,
            true,
            Selectors::Advanced(vec![AdvancedEventSelector {
                name: None,
                field_selectors: vec![
                    FieldSelector {
                        equals: Some(vec!["Data".into()]),
                        ..f("eventCategory")
                    },
                    FieldSelector {
                        equals: Some(vec![rtype.into()]),
                        ..f("resources.type")
                    },
                    arn,
                ],
            }]),
        )
    };
    let object = object_event("arn:aws:s3:::b/x", false);
    let not_bucket = data_of(
        "AWS::S3::Object",
        FieldSelector {
            not_equals: Some(vec!["arn:aws:s3:::b".into()]),
            ..f("resources.ARN")
        },
    );
    assert!(route(&not_bucket, 15, &object).is_some());
    let bucket = data_of(
        "AWS::S3::Object",
        FieldSelector {
            equals: Some(vec!["arn:aws:s3:::b".into()]),
            ..f("resources.ARN")
        },
    );
    assert!(route(&bucket, 15, &object).is_none());
    let ends = data_of(
        "AWS::S3::Object",
        FieldSelector {
            ends_with: Some(vec!["/x".into()]),
            ..f("resources.ARN")
        },
    );
    assert!(route(&ends, 15, &object).is_some());
    let mut encrypted = object.clone();
    encrypted["resources"].as_array_mut().unwrap().push(json!(
        {"type": "AWS::KMS::Key", "ARN": "arn:aws:kms:eu-west-1:123456789012:key/k"}));
    let keys = data_of(
        "AWS::KMS::Key",
        FieldSelector {
            starts_with: Some(vec!["arn:aws:kms:".into()]),
            ..f("resources.ARN")
        },
    );
    assert!(route(&keys, 15, &encrypted).is_none());
    let objects = data_of(
        "AWS::S3::Object",
        FieldSelector {
            starts_with: Some(vec!["arn:aws:s3:::b/".into()]),
            ..f("resources.ARN")
        },
    );
    assert!(route(&objects, 15, &encrypted).is_some());
}
