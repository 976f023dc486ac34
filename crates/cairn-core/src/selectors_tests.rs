//! Unit tests of event selector validation and their epochs.
use cairn_model::trail::LoggingWindow;

use super::*;

fn trail(windows: Vec<LoggingWindow>) -> Trail {
    serde_json::from_value(serde_json::json!({
        "name": "t", "account": "123456789012", "home_region": "us-east-1",
        "s3_bucket_name": "b", "s3_key_prefix": null, "sns_topic_arn": null,
        "include_global_service_events": true, "is_multi_region_trail": false,
        "log_file_validation_enabled": false, "cloud_watch_logs_log_group_arn": null,
        "cloud_watch_logs_role_arn": null, "kms_key_id": null, "is_organization_trail": false,
        "selectors": {"Basic": [{"read_write_type": "All", "include_management_events": true,
            "data_resources": [], "exclude_management_event_sources": []}]},
        "has_custom_event_selectors": false, "insight_selectors": [], "tags": [],
        "status": {"is_logging": true, "start_logging_time": null, "stop_logging_time": null,
            "windows": windows},
        "created_at": 0.0
    }))
    .unwrap()
}

fn write_only() -> Selectors {
    Selectors::Basic(vec![EventSelector {
        read_write_type: ReadWriteType::WriteOnly,
        ..EventSelector::default_all_management()
    }])
}

#[test]
fn replaced_selectors_are_kept_until_every_event_they_route_is_planned() {
    let mut t = trail(vec![LoggingWindow {
        start_seq: 5,
        end_seq: None,
    }]);
    let all = t.selectors.clone();
    t.selectors = write_only();
    let c = t.coverage();
    remember_routing(&mut t, all.clone(), c, 10, None);
    assert_eq!(t.status.selector_history.len(), 1);
    assert_eq!(t.selectors_at(9), &all);
    assert_eq!(t.selectors_at(10), &write_only());
    // A second change while the cursor is at 12: the first epoch (seqs < 10) is done.
    let previous = std::mem::replace(&mut t.selectors, all.clone());
    let c = t.coverage();
    remember_routing(&mut t, previous, c, 20, Some(12));
    assert_eq!(t.status.selector_history.len(), 1);
    assert_eq!(t.status.selector_history[0].until_seq, 20);
    assert_eq!(t.selectors_at(15), &write_only());
    assert_eq!(t.selectors_at(20), &all);
    // Setting the same selectors again records nothing new.
    remember_routing(&mut t, all.clone(), c, 30, Some(12));
    assert_eq!(t.status.selector_history.len(), 1);
    // A trail that never logged needs no history at all.
    let mut idle = trail(vec![]);
    let c = idle.coverage();
    remember_routing(&mut idle, write_only(), c, 40, None);
    assert!(idle.status.selector_history.is_empty());
}

/// AWS's per-category rules for advanced field selectors.
#[test]
fn advanced_selectors_follow_the_category_rules() {
    let field = |name: &str, op: &str, values: &[&str]| {
        let v = Some(values.iter().map(|s| s.to_string()).collect());
        let mut f = FieldSelector {
            field: name.into(),
            ..Default::default()
        };
        match op {
            "Equals" => f.equals = v,
            "NotEquals" => f.not_equals = v,
            _ => f.starts_with = v,
        }
        f
    };
    let selector = |fields: Vec<FieldSelector>| {
        vec![AdvancedEventSelector {
            name: None,
            field_selectors: fields,
        }]
    };
    let management = || field("eventCategory", "Equals", &["Management"]);
    let data = || field("eventCategory", "Equals", &["Data"]);
    let network = || field("eventCategory", "Equals", &["NetworkActivity"]);
    let object = || field("resources.type", "Equals", &["AWS::S3::Object"]);
    let ok = [
        selector(vec![
            management(),
            field("eventSource", "NotEquals", &["kms.amazonaws.com"]),
        ]),
        selector(vec![data(), object()]),
        selector(vec![
            network(),
            field("eventSource", "Equals", &["ec2.amazonaws.com"]),
            field("errorCode", "Equals", &["VpceAccessDenied"]),
            field("vpcEndpointId", "NotEquals", &["vpce-12345678"]),
            field("userIdentity.arn", "NotEquals", &["arn:aws:iam::1:user/a"]),
        ]),
        selector(vec![
            data(),
            object(),
            field("sessionCredentialFromConsole", "NotEquals", &["true"]),
        ]),
        selector(vec![
            data(),
            object(),
            field("resources.ARN", "NotEquals", &["arn:aws:s3:::b/private/x"]),
            field("resources.ARN", "StartsWith", &["b/"]),
        ]),
    ];
    for s in ok {
        assert!(validate_advanced(&s).is_ok(), "{s:?}");
    }
    let refused = [
        // Network activity: eventSource required, with Equals, spelled as a service;
        // errorCode only VpceAccessDenied; no data-event fields.
        selector(vec![network()]),
        selector(vec![
            network(),
            field("eventSource", "StartsWith", &["ec2"]),
        ]),
        selector(vec![network(), field("eventSource", "Equals", &["ec2"])]),
        selector(vec![
            network(),
            field("eventSource", "Equals", &["ec2.amazonaws.com"]),
            field("errorCode", "Equals", &["AccessDenied"]),
        ]),
        selector(vec![
            network(),
            field("eventSource", "Equals", &["ec2.amazonaws.com"]),
            object(),
        ]),
        selector(vec![
            management(),
            field("eventSource", "Equals", &["kms.amazonaws.com"]),
        ]),
        selector(vec![
            management(),
            field("eventSource", "NotEquals", &["s3.amazonaws.com"]),
        ]),
        selector(vec![
            management(),
            field("eventSource", "StartsWith", &["kms"]),
        ]),
        selector(vec![
            data(),
            field(
                "resources.type",
                "Equals",
                &["AWS::S3::Object", "AWS::Lambda::Function"],
            ),
        ]),
        selector(vec![data(), object(), object()]),
        selector(vec![management(), management()]),
        selector(vec![
            data(),
            field("resources.type", "Equals", &["aws::s3::object"]),
        ]),
        selector(vec![
            data(),
            field("resources.type", "Equals", &["AWS::S3::Object::Extra"]),
        ]),
        // No S3 data-event type: a typo, and the bucket (every object call's resource).
        selector(vec![
            data(),
            field("resources.type", "Equals", &["AWS::S3::Objects"]),
        ]),
        selector(vec![
            data(),
            field("resources.type", "Equals", &["AWS::S3::Bucket"]),
        ]),
        selector(vec![
            data(),
            object(),
            field("sessionCredentialFromConsole", "Equals", &["maybe"]),
        ]),
        selector(vec![
            data(),
            object(),
            field("sessionCredentialFromConsole", "StartsWith", &["t"]),
        ]),
        // ctapi4: an Equals or NotEquals value that is no ARN can never match one.
        selector(vec![
            data(),
            object(),
            field("resources.ARN", "Equals", &["not-an-arn"]),
        ]),
        selector(vec![
            data(),
            object(),
            field("resources.ARN", "NotEquals", &["arn:aws:s3:::"]),
        ]),
    ];
    for s in refused {
        let e = validate_advanced(&s).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidEventSelectors, "{s:?}");
    }
}

#[test]
fn an_empty_list_of_basic_selectors_is_refused() {
    let e = validate_basic(&[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidEventSelectors);
    assert!(e.message.contains("(1 to 5)"), "{}", e.message);
}

#[test]
fn a_basic_selector_without_management_or_data_events_is_refused() {
    let none = BasicSelectorInput {
        read_write_type: None,
        include_management_events: Some(false),
        data_resources: Vec::new(),
        exclude_management_event_sources: Vec::new(),
    };
    let e = validate_basic(std::slice::from_ref(&none)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidEventSelectors);
    assert_eq!(
        e.message,
        "Invalid combination of parameters in EventSelectors. When includeManagementEvents is false, DataResources must not be empty"
    );
    // A data resource that names no resource is accepted and selects nothing, as AWS
    // accepts it (Stratus Red Team's `cloudtrail-event-selectors` record).
    let empty = BasicSelectorInput {
        data_resources: vec![(Some("AWS::S3::Object".to_owned()), Vec::new())],
        ..none.clone()
    };
    assert!(validate_basic(&[empty]).is_ok());
    let data = BasicSelectorInput {
        data_resources: vec![(
            Some("AWS::S3::Object".to_owned()),
            vec!["arn:aws:s3:::bucket-one/".to_owned()],
        )],
        ..none
    };
    assert!(validate_basic(&[data]).is_ok());
}
