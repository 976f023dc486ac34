//! Core checks of CloudWatch Logs semantics on an in-memory store, with a fixed clock.

use cairn_store::metrics::MetricKey;

use super::filter_tests::every_event;
use super::ingest::{InputEvent, ingest};
use super::metric_filters::{PutFilter, Transformation};
use super::read::{GetEvents, filter_log_events, get_log_events};
use super::*;
use crate::metrics::{MetricQuery, query};

pub(super) const NOW: i64 = 1_767_607_200_000; // 2026-01-05T10:00:00Z

pub(super) fn ctx() -> CallContext {
    crate::context::root_call_at(NOW as f64 / 1000.0)
}

pub(super) fn setup() -> (Connection, GroupKey) {
    let conn = cairn_store::in_memory().unwrap();
    let c = ctx();
    groups::create(
        &conn,
        &c,
        &crate::authz::PolicyEvaluator::new(),
        &groups::CreateGroup {
            name: "trail".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let key = GroupKey::of(&c, "trail");
    streams::create(&conn, &c, &key, "s1").unwrap();
    (conn, key)
}

pub(super) fn ev(ts: i64, m: &str) -> InputEvent {
    InputEvent {
        timestamp: ts,
        message: m.into(),
    }
}

#[test]
fn groups_validate_names_and_refuse_duplicates() {
    let (conn, _) = setup();
    let c = ctx();
    let dup = groups::create(
        &conn,
        &c,
        &crate::authz::PolicyEvaluator::new(),
        &groups::CreateGroup {
            name: "trail".into(),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(dup.kind, ErrorKind::LogsResourceAlreadyExists);
    let bad = groups::create(
        &conn,
        &c,
        &crate::authz::PolicyEvaluator::new(),
        &groups::CreateGroup {
            name: "a b".into(),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(bad.kind, ErrorKind::InvalidParameter);
    assert!(
        bad.message.contains("regular expression pattern"),
        "{}",
        bad.message
    );
    let missing = groups::delete(&conn, &c, "nope").unwrap_err();
    assert_eq!(
        (missing.kind, missing.message.as_str()),
        (
            ErrorKind::ResourceNotFound,
            "The specified log group does not exist."
        )
    );
    let r = groups::set_retention(&conn, &c, "trail", Some(2)).unwrap_err();
    assert!(r.message.contains("enum value set"), "{}", r.message);
    // DescribeLogGroups' `arn` ends in `:*`, which the model's pattern refuses (sdk8).
    let star = "arn:aws:logs:us-east-1:123456789012:log-group:trail:*";
    let e = identifier_name(&c, star, "logGroupIdentifier").unwrap_err();
    assert!(
        e.message
            .contains("at 'logGroupIdentifier' failed to satisfy constraint"),
        "{}",
        e.message
    );
    assert_eq!(
        identifier_name(
            &c,
            "arn:aws:logs:us-east-1:123456789012:log-group:trail",
            "logGroupIdentifier"
        )
        .unwrap(),
        "trail"
    );
}

#[test]
fn batches_follow_the_put_log_events_rules() {
    let (conn, key) = setup();
    let order = ingest(&conn, &key, "s1", &[ev(NOW, "b"), ev(NOW - 1, "a")], NOW).unwrap_err();
    assert_eq!(
        order.message,
        "Log events in a single PutLogEvents request must be in chronological order."
    );
    let many: Vec<InputEvent> = (0..10_001).map(|_| ev(NOW, "x")).collect();
    assert_eq!(
        ingest(&conn, &key, "s1", &many, NOW).unwrap_err().kind,
        ErrorKind::InvalidParameter
    );
    let big = "x".repeat(1_048_576 - 26 + 1);
    assert!(
        ingest(&conn, &key, "s1", &[ev(NOW, &big)], NOW)
            .unwrap_err()
            .message
            .starts_with("Upload too large")
    );
    let exact = "x".repeat(1_048_576 - 26);
    assert_eq!(
        ingest(&conn, &key, "s1", &[ev(NOW, &exact)], NOW)
            .unwrap()
            .stored,
        1
    );
    let span = ingest(
        &conn,
        &key,
        "s1",
        &[ev(NOW - 25 * 3_600_000, "a"), ev(NOW, "b")],
        NOW,
    )
    .unwrap_err();
    assert!(span.message.contains("24 hours"), "{}", span.message);
    let out = ingest(
        &conn,
        &key,
        "s1",
        &[
            ev(NOW - 15 * 86_400_000, "old"),
            ev(NOW - 1000, "ok1"),
            ev(NOW, "ok2"),
            ev(NOW + 3 * 3_600_000, "new"),
        ],
        NOW,
    )
    .unwrap();
    assert_eq!(out.stored, 2);
    assert_eq!(out.rejected.too_old_end, Some(1));
    assert_eq!(out.rejected.too_new_start, Some(3));
    assert_eq!(out.rejected.expired_end, None);
    assert_eq!(out.next_sequence_token.len(), 56);
    groups::set_retention(&conn, &ctx(), "trail", Some(1)).unwrap();
    let out = ingest(
        &conn,
        &key,
        "s1",
        &[ev(NOW - 2 * 86_400_000, "expired"), ev(NOW, "ok")],
        NOW,
    )
    .unwrap();
    assert_eq!((out.rejected.expired_end, out.stored), (Some(1), 1));
    let missing = ingest(&conn, &key, "nope", &[ev(NOW, "x")], NOW).unwrap_err();
    assert_eq!(missing.message, "The specified log stream does not exist.");
}

pub(super) fn put_filter(conn: &Connection, name: &str, pattern: &str, t: Transformation) {
    metric_filters::put(
        conn,
        &ctx(),
        &PutFilter {
            group: "trail".into(),
            name: name.into(),
            pattern: pattern.into(),
            transformations: vec![t],
        },
    )
    .unwrap();
}

pub(super) fn t(name: &str, value: &str) -> Transformation {
    Transformation {
        metric_name: name.into(),
        metric_namespace: "CISBenchmark".into(),
        metric_value: value.into(),
        default_value: None,
        dimensions: Vec::new(),
        unit: None,
    }
}

pub(super) fn sum(conn: &Connection, name: &str, dims: &[(String, String)]) -> (f64, f64) {
    let q = MetricQuery {
        metric: MetricKey {
            account: "123456789012",
            region: "us-east-1",
            namespace: "CISBenchmark",
            name,
            dimensions: dims,
        },
        start_ms: NOW - 3_600_000,
        end_ms: NOW + 3_600_000,
        period_secs: 7200,
        unit: None,
        values: true,
    };
    query(conn, &q)
        .unwrap()
        .first()
        .map_or((0.0, 0.0), |p| (p.stats.sum, p.stats.sample_count))
}

#[test]
fn metric_filters_emit_datapoints_at_once() {
    let (conn, key) = setup();
    put_filter(
        &conn,
        "root",
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
        t("root_usage_metric", "1"),
    );
    let mut with_default = t("errors", "1");
    with_default.default_value = Some(0.0);
    put_filter(&conn, "errors", "{ $.errorCode = * }", with_default);
    let mut dims = t("latency", "$.latency");
    dims.dimensions = vec![("Source".into(), "$.eventSource".into())];
    put_filter(&conn, "latency", "{ $.latency > 0 }", dims);
    put_filter(
        &conn,
        "bytes",
        "[ip, user, ..., status=4*, size]",
        t("bytes_4xx", "$size"),
    );
    let root = r#"{"eventSource":"iam.amazonaws.com","userIdentity":{"type":"Root"},"eventType":"AwsApiCall","latency":12}"#;
    let user = r#"{"eventSource":"s3.amazonaws.com","userIdentity":{"type":"IAMUser"},"eventType":"AwsApiCall","errorCode":"AccessDenied","latency":30}"#;
    let out = ingest(
        &conn,
        &key,
        "s1",
        &[
            ev(NOW, root),
            ev(NOW, root),
            ev(NOW + 1, user),
            ev(NOW + 2, "1.2.3.4 bob GET 404 512"),
        ],
        NOW,
    )
    .unwrap();
    assert!(out.datapoints > 0);
    assert_eq!(sum(&conn, "root_usage_metric", &[]), (2.0, 2.0));
    assert_eq!(
        sum(&conn, "errors", &[]),
        (1.0, 1.0),
        "a minute with a match reports no default"
    );
    assert_eq!(
        sum(
            &conn,
            "latency",
            &[("Source".into(), "iam.amazonaws.com".into())]
        ),
        (24.0, 2.0)
    );
    assert_eq!(
        sum(
            &conn,
            "latency",
            &[("Source".into(), "s3.amazonaws.com".into())]
        ),
        (30.0, 1.0)
    );
    assert_eq!(sum(&conn, "bytes_4xx", &[]), (512.0, 1.0));
    let rows = crate::metrics::list(
        &conn,
        "123456789012",
        "us-east-1",
        Some("CISBenchmark"),
        None,
        &[],
        0,
    )
    .unwrap();
    assert_eq!(rows.len(), 5, "{rows:?}");
}

#[test]
fn metric_filter_validation_and_limits() {
    let (conn, _) = setup();
    let c = ctx();
    let bad = metric_filters::put(
        &conn,
        &c,
        &PutFilter {
            group: "trail".into(),
            name: "f".into(),
            pattern: "ERROR:".into(),
            transformations: vec![t("m", "1")],
        },
    )
    .unwrap_err();
    assert_eq!(bad.message, "Invalid character(s) in term ':'");
    let bad = metric_filters::put(
        &conn,
        &c,
        &PutFilter {
            group: "trail".into(),
            name: "f".into(),
            pattern: "ERROR".into(),
            transformations: vec![t("m", "one")],
        },
    )
    .unwrap_err();
    assert_eq!(bad.kind, ErrorKind::InvalidParameter);
    for k in 0..5 {
        put_filter(&conn, &format!("re{k}"), "%ERROR%", t("m", "1"));
    }
    let limit = metric_filters::put(
        &conn,
        &c,
        &PutFilter {
            group: "trail".into(),
            name: "re5".into(),
            pattern: "%WARN%".into(),
            transformations: vec![t("m", "1")],
        },
    )
    .unwrap_err();
    assert_eq!(limit.kind, ErrorKind::LogsLimitExceeded);
    put_filter(&conn, "re0", "%WARN%", t("m", "1"));
    let (views, more) = metric_filters::describe(
        &conn,
        &c,
        &metric_filters::Describe {
            group: Some("trail".into()),
            limit: 2,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((views.len(), more), (2, true));
    assert_eq!(views[0].stored.pattern, "%WARN%");
    let missing = metric_filters::delete(&conn, &c, "trail", "nope").unwrap_err();
    assert_eq!(missing.kind, ErrorKind::ResourceNotFound);
}

#[test]
fn get_log_events_tokens_stop_at_the_end() {
    let (conn, key) = setup();
    let batch: Vec<InputEvent> = (0..5).map(|k| ev(NOW + k, &format!("m{k}"))).collect();
    ingest(&conn, &key, "s1", &batch, NOW).unwrap();
    let mut input = GetEvents {
        group: key.clone(),
        stream: "s1".into(),
        start: None,
        end: None,
        limit: Some(2),
        start_from_head: true,
        token: None,
    };
    let mut seen = Vec::new();
    for _ in 0..10 {
        let page = get_log_events(&conn, &input).unwrap();
        seen.extend(page.events.iter().map(|e| e.message.clone()));
        if input.token.as_deref() == Some(page.forward.as_str()) {
            break;
        }
        input.token = Some(page.forward);
    }
    assert_eq!(seen, ["m0", "m1", "m2", "m3", "m4"]);
    let tail = get_log_events(
        &conn,
        &GetEvents {
            start_from_head: false,
            token: None,
            ..input.clone()
        },
    )
    .unwrap();
    assert_eq!(
        tail.events
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        ["m3", "m4"]
    );
    let back = get_log_events(
        &conn,
        &GetEvents {
            token: Some(tail.backward.clone()),
            ..input.clone()
        },
    )
    .unwrap();
    assert_eq!(
        back.events
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        ["m1", "m2"]
    );
    // Paging back past the head gives an empty page; its forward token starts at the head
    // again (it skipped the first event), and the same at the tail the other way.
    let mut token = Some(back.backward.clone());
    let mut empty = None;
    for _ in 0..5 {
        let page = get_log_events(
            &conn,
            &GetEvents {
                token: token.clone(),
                ..input.clone()
            },
        )
        .unwrap();
        if page.events.is_empty() {
            empty = Some(page);
            break;
        }
        token = Some(page.backward.clone());
    }
    let empty = empty.expect("paging back reaches an empty page");
    let again = get_log_events(
        &conn,
        &GetEvents {
            token: Some(empty.forward),
            ..input.clone()
        },
    )
    .unwrap();
    assert_eq!(again.events[0].message, "m0");
    let end = get_log_events(
        &conn,
        &GetEvents {
            token: Some(tail.forward.clone()),
            ..input.clone()
        },
    )
    .unwrap();
    assert!(end.events.is_empty());
    let last = get_log_events(
        &conn,
        &GetEvents {
            token: Some(end.backward),
            ..input.clone()
        },
    )
    .unwrap();
    assert_eq!(last.events.last().unwrap().message, "m4");
    let bad = get_log_events(
        &conn,
        &GetEvents {
            token: Some("zzz".into()),
            ..input
        },
    )
    .unwrap_err();
    assert_eq!(bad.kind, ErrorKind::InvalidParameter);
}

#[test]
fn retention_sweep_deletes_only_expired_events() {
    let (conn, key) = setup();
    ingest(
        &conn,
        &key,
        "s1",
        &[
            ev(NOW - 3 * 86_400_000, "old"),
            ev(NOW - 3 * 86_400_000 + 1, "old2"),
        ],
        NOW - 3 * 86_400_000,
    )
    .unwrap();
    ingest(&conn, &key, "s1", &[ev(NOW, "new")], NOW).unwrap();
    assert_eq!(
        sweep::sweep(&conn, NOW, 1000).unwrap(),
        0,
        "no retention, nothing expires"
    );
    groups::set_retention(&conn, &ctx(), "trail", Some(1)).unwrap();
    assert_eq!(sweep::sweep(&conn, NOW, 1).unwrap(), 1);
    assert_eq!(sweep::sweep(&conn, NOW, 1000).unwrap(), 1);
    let all = filter_log_events(&conn, &every_event(key)).unwrap();
    assert_eq!(all.events.len(), 1);
}

#[test]
fn insights_queries_run_and_are_kept() {
    let (conn, key) = setup();
    ingest(
        &conn,
        &key,
        "s1",
        &[
            ev(NOW, r#"{"eventName":"A"}"#),
            ev(NOW + 1, r#"{"eventName":"B"}"#),
            ev(NOW + 2, r#"{"eventName":"A"}"#),
        ],
        NOW,
    )
    .unwrap();
    let c = ctx();
    let input = insights::StartQuery {
        groups: vec!["trail".into()],
        start_secs: NOW / 1000 - 10,
        end_secs: NOW / 1000 + 10,
        query: "stats count(*) as n by eventName | sort n desc".into(),
        limit: None,
    };
    let q = insights::run(&conn, &c, &input).unwrap();
    insights::save(&conn, &q).unwrap();
    let (stored, answer) = insights::results(&conn, &c, &q.query_id).unwrap();
    assert_eq!(stored.status, "Complete");
    assert_eq!(
        answer.rows[0],
        vec![
            ("eventName".to_owned(), "A".to_owned()),
            ("n".to_owned(), "2".to_owned())
        ]
    );
    assert_eq!(answer.records_scanned, 3.0);
    assert!(!insights::stop(&conn, &c, &q.query_id).unwrap());
    // A group named three times (by name and by ARN) is read once.
    let arn = format!("arn:aws:logs:us-east-1:{}:log-group:trail", c.account());
    let thrice = insights::run(
        &conn,
        &c,
        &insights::StartQuery {
            groups: vec!["trail".into(), "trail".into(), arn],
            ..input.clone()
        },
    )
    .unwrap();
    insights::save(&conn, &thrice).unwrap();
    let (_, answer) = insights::results(&conn, &c, &thrice.query_id).unwrap();
    assert_eq!(
        (answer.records_scanned, answer.log_groups_scanned),
        (3.0, 1.0)
    );
    let bad = insights::run(
        &conn,
        &c,
        &insights::StartQuery {
            query: "stats".into(),
            ..input.clone()
        },
    )
    .unwrap_err();
    assert_eq!(bad.kind, ErrorKind::LogsMalformedQuery);
    let missing = insights::run(
        &conn,
        &c,
        &insights::StartQuery {
            groups: vec!["nope".into()],
            ..input
        },
    )
    .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::ResourceNotFound);
}

#[test]
fn start_query_refuses_negative_times_and_saturates_a_far_end() {
    let (conn, _) = setup();
    let q = |start_secs, end_secs| {
        super::insights::run(
            &conn,
            &ctx(),
            &super::insights::StartQuery {
                groups: vec!["trail".into()],
                start_secs,
                end_secs,
                query: "fields @message".into(),
                limit: None,
            },
        )
    };
    let err = q(-1, 10).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidParameter, "{}", err.message);
    assert!(err.message.contains("startTime"), "{}", err.message);
    assert!(q(0, i64::MAX).is_ok());
}

/// The CloudWatch Logs user guide's key policy: the account's root, and the Logs service
/// under any group's `aws:logs:arn` in the account.
const LOGS_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Allow","Principal":{"Service":"logs.us-east-1.amazonaws.com"},
  "Action":["kms:Encrypt*","kms:Decrypt*","kms:ReEncrypt*","kms:GenerateDataKey*","kms:Describe*"],
  "Resource":"*",
  "Condition":{"ArnLike":{"kms:EncryptionContext:aws:logs:arn":"arn:aws:logs:us-east-1:123456789012:log-group:*"}}}]}"#;

#[test]
fn a_key_whose_policy_leaves_out_the_logs_service_is_refused_and_nothing_is_stored() {
    let (conn, _) = setup();
    let c = ctx();
    let master = cairn_crypto::MasterKey::generate().unwrap().0;
    let evaluator = crate::authz::PolicyEvaluator::new();
    let root_only = crate::kms::keys::create_key(
        &conn,
        &master,
        &evaluator,
        &c,
        &crate::kms::keys::CreateKeyInput::default(),
    )
    .unwrap();
    let input = groups::CreateGroup {
        name: "enc".into(),
        kms_key_id: Some(root_only.arn.clone()),
        ..Default::default()
    };
    let e = groups::create(&conn, &c, &evaluator, &input).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied, "{}", e.message);
    assert!(e.message.contains("log-group:enc'"), "{}", e.message);
    assert!(
        store::get_group(&conn, "123456789012", "us-east-1", "enc")
            .unwrap()
            .is_none()
    );
    let e = groups::set_kms_key(&conn, &c, &evaluator, "trail", Some(&root_only.arn)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AccessDenied, "{}", e.message);
    let trail = store::get_group(&conn, "123456789012", "us-east-1", "trail").unwrap();
    assert_eq!(trail.map(|g| g.kms_key_id), Some(None));
}

#[test]
fn kms_keys_must_be_enabled_keys_named_by_arn() {
    let (conn, _) = setup();
    let c = ctx();
    let master = cairn_crypto::MasterKey::generate().unwrap().0;
    let key = crate::kms::keys::create_key(
        &conn,
        &master,
        &crate::authz::PolicyEvaluator::new(),
        &c,
        &crate::kms::keys::CreateKeyInput {
            policy: Some(LOGS_KEY_POLICY.into()),
            ..Default::default()
        },
    )
    .unwrap();
    let group_key = |name: &str| {
        store::get_group(&conn, "123456789012", "us-east-1", name)
            .unwrap()
            .map(|g| g.kms_key_id)
    };
    let create = |name: &str, k: &str| {
        groups::create(
            &conn,
            &c,
            &crate::authz::PolicyEvaluator::new(),
            &groups::CreateGroup {
                name: name.into(),
                kms_key_id: Some(k.into()),
                ..Default::default()
            },
        )
    };
    let not_found = "The specified KMS Key Id could not be found.";
    let missing_arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000";
    let other_region = key.arn.replace("us-east-1", "eu-west-1");
    let alias = "arn:aws:kms:us-east-1:123456789012:alias/logs";
    crate::kms::aliases::create(&conn, &crate::kms::Scope::of(&c), "alias/logs", &key, c.now)
        .unwrap();
    for bad in [
        "garbage",
        key.key_id.as_str(),
        missing_arn,
        other_region.as_str(),
        alias,
        "alias/logs",
    ] {
        let e = create("enc", bad).unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::InvalidParameter, not_found),
            "{bad}"
        );
        assert_eq!(group_key("enc"), None, "{bad}: nothing stored");
    }
    let long = format!("{}{}", key.arn, "x".repeat(256));
    assert!(
        create("enc", &long)
            .unwrap_err()
            .message
            .contains("less than or equal to 256")
    );

    create("enc", &key.arn).unwrap();
    assert_eq!(group_key("enc"), Some(Some(key.arn.clone())));
    for bad in ["garbage", missing_arn] {
        let e = groups::set_kms_key(
            &conn,
            &c,
            &crate::authz::PolicyEvaluator::new(),
            "trail",
            Some(bad),
        )
        .unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::InvalidParameter, not_found)
        );
    }
    assert_eq!(group_key("trail"), Some(None));

    crate::kms::keys::disable(&conn, &key).unwrap();
    let e = groups::set_kms_key(
        &conn,
        &c,
        &crate::authz::PolicyEvaluator::new(),
        "trail",
        Some(&key.arn),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
    assert!(
        e.message.contains("not enabled") && e.message.contains("Disabled"),
        "{}",
        e.message
    );
    assert_eq!(group_key("trail"), Some(None));
    assert_eq!(
        create("enc2", &key.arn).unwrap_err().kind,
        ErrorKind::InvalidParameter
    );
    assert_eq!(group_key("enc2"), None);
    // Disassociating needs no key.
    groups::set_kms_key(
        &conn,
        &c,
        &crate::authz::PolicyEvaluator::new(),
        "enc",
        None,
    )
    .unwrap();
    assert_eq!(group_key("enc"), Some(None));
}

#[test]
fn stored_bytes_leave_out_events_past_retention() {
    // logs5: AWS's PutRetentionPolicy documents that events marked for deletion are not
    // included in `storedBytes`, even before they are deleted.
    let (conn, key) = setup();
    ingest(&conn, &key, "s1", &[ev(NOW - 5 * 86_400_000, "aaaaa")], NOW).unwrap();
    ingest(&conn, &key, "s1", &[ev(NOW - 3_600_000, "bb")], NOW).unwrap();
    let stored = || {
        let all = groups::Describe {
            limit: 50,
            ..Default::default()
        };
        groups::describe(&conn, &ctx(), &all).unwrap().0[0].stored_bytes
    };
    assert_eq!(stored(), 7);
    groups::set_retention(&conn, &ctx(), "trail", Some(1)).unwrap();
    assert_eq!(stored(), 2);
    groups::set_retention(&conn, &ctx(), "trail", Some(7)).unwrap();
    assert_eq!(stored(), 7);
    groups::set_retention(&conn, &ctx(), "trail", None).unwrap();
    assert_eq!(stored(), 7);
}

#[test]
fn stream_names_are_counted_in_characters() {
    // 512 characters of Hebrew are 1,024 bytes: within the model's "length between 1 and 512".
    assert!(check_stream_name(&"\u{5d0}".repeat(512), "logStreamName").is_ok());
    assert!(check_stream_name(&"\u{5d0}".repeat(513), "logStreamName").is_err());
    assert!(check_stream_name(&"a".repeat(512), "logStreamName").is_ok());
    assert!(check_stream_name("", "logStreamName").is_err());
}
