//! The four test vectors of the monitoring spec §7.2, exactly, on a real store with the
//! clock driven minute by minute; then counting from recorded events and idempotent runs.

use cairn_model::insight::InsightRecord;
use cairn_model::trail::Trail;
use cairn_store::Connection;
use cairn_store::insights::{
    self as store, AttributionDelta, KIND_CALL, KIND_ERROR, SeriesDelta, SeriesKey,
};

use super::detect::Params;
use super::evaluate::evaluate_minute;

/// 2020-07-21T20:56:00Z, the start minute of AWS's sample (minute of day 1256).
const S: i64 = 26_589_416;
const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/t";

pub(super) fn trail(types: &[&str]) -> Trail {
    let selectors: Vec<serde_json::Value> = types
        .iter()
        .map(|t| serde_json::json!({"insight_type": t, "event_categories": ["Management"]}))
        .collect();
    serde_json::from_value(serde_json::json!({
        "name": "t", "account": "123456789012", "home_region": "us-east-1",
        "s3_bucket_name": "b", "s3_key_prefix": null, "sns_topic_arn": null,
        "include_global_service_events": true, "is_multi_region_trail": false,
        "log_file_validation_enabled": false, "cloud_watch_logs_log_group_arn": null,
        "cloud_watch_logs_role_arn": null, "kms_key_id": null, "is_organization_trail": false,
        "selectors": {"Basic": [{"read_write_type": "All", "include_management_events": true,
            "data_resources": [], "exclude_management_event_sources": []}]},
        "has_custom_event_selectors": false, "insight_selectors": selectors, "tags": [],
        "status": {"is_logging": true, "start_logging_time": null, "stop_logging_time": null,
            "windows": []},
        "created_at": 0.0
    }))
    .unwrap()
}

fn key(name: &str) -> SeriesKey {
    SeriesKey {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        kind: KIND_CALL,
        source: "autoscaling.amazonaws.com".into(),
        name: name.into(),
        error_code: String::new(),
    }
}

/// Adds `count` calls in `minute`, all by one role and one user agent.
fn add(conn: &Connection, name: &str, minute: i64, count: i64) {
    if count == 0 {
        return;
    }
    let at = store::counted_seq(conn).unwrap();
    let attr = |attribute: &str, value: &str| AttributionDelta {
        key: key(name),
        minute,
        attribute: attribute.into(),
        value: value.into(),
        count,
    };
    store::apply_counts(
        conn,
        at,
        at + 1,
        &[SeriesDelta {
            key: key(name),
            minute,
            count,
        }],
        &[
            attr(
                "userIdentityArn",
                "arn:aws:sts::123456789012:assumed-role/CodeDeployRole1",
            ),
            attr("userAgent", "codedeploy.amazonaws.com"),
            attr("errorCode", "null"),
        ],
    )
    .unwrap();
}

fn evaluate(conn: &Connection, from: i64, to: i64) -> Vec<InsightRecord> {
    let t = trail(&["ApiCallRateInsight"]);
    let p = Params::default();
    (from..=to)
        .flat_map(|m| evaluate_minute(conn, &t, "us-east-1", KIND_CALL, m, &p).unwrap())
        .collect()
}

fn stats(r: &InsightRecord) -> (f64, f64, i64, i64) {
    let s = &r.insight_details.insight_context.statistics;
    (
        s.baseline.average,
        s.insight.average,
        s.insight_duration,
        s.baseline_duration,
    )
}

#[test]
fn an_insight_type_the_trail_no_longer_feeds_is_not_measured() {
    use cairn_model::trail::{ReadWriteType, Selectors};
    let mut t = trail(&["ApiCallRateInsight", "ApiErrorRateInsight"]);
    assert_eq!(super::evaluate::kinds(&t), vec![KIND_CALL, KIND_ERROR]);
    // Read-only management events: no writes to count, errors still logged.
    if let Selectors::Basic(list) = &mut t.selectors {
        list[0].read_write_type = ReadWriteType::ReadOnly;
    }
    assert_eq!(super::evaluate::kinds(&t), vec![KIND_ERROR]);
    // No management events at all.
    if let Selectors::Basic(list) = &mut t.selectors {
        list[0].include_management_events = false;
    }
    assert!(super::evaluate::kinds(&t).is_empty());
}

#[test]
fn vector_a_dormant_api_suddenly_called() {
    let conn = cairn_store::in_memory().unwrap();
    // One call per 7.87 days (11336 minutes): exactly one falls in the baseline window.
    let window_start = S - 1256 - 10_080;
    add(&conn, "CompleteLifecycleAction", window_start, 1);
    add(&conn, "CompleteLifecycleAction", window_start - 11_336, 1);
    for m in S..S + 5 {
        add(&conn, "CompleteLifecycleAction", m, 3);
    }
    let out = evaluate(&conn, S - 120, S + 30);
    assert_eq!(out.len(), 2, "{out:?}");
    let (start, end) = (&out[0], &out[1]);
    assert_eq!(start.insight_details.state, "Start");
    assert_eq!(start.event_time, "2020-07-21T20:56:00Z");
    assert_eq!(stats(start), (0.0000882145, 3.0, 1, 11_336));
    assert_eq!(end.insight_details.state, "End");
    assert_eq!(end.event_time, "2020-07-21T21:01:00Z");
    assert_eq!(stats(end), (0.0000882145, 3.0, 5, 11_336));
    assert_eq!(start.shared_event_id, end.shared_event_id);
    assert_ne!(start.event_id, end.event_id);
    let attrs = &end.insight_details.insight_context.attributions;
    assert_eq!(attrs.len(), 3);
    assert_eq!(attrs[0].attribute, "userIdentityArn");
    assert_eq!(attrs[0].insight[0].average, 3.0);
    assert_eq!(attrs[0].baseline[0].average, 0.0000882145);
    assert_eq!(attrs[2].attribute, "errorCode");
    assert_eq!(attrs[2].insight[0].value, "null");
    // The ids are reproducible.
    assert_eq!(
        start.shared_event_id,
        super::records::shared_event_id(ARN, &key("CompleteLifecycleAction"), S)
    );
}

#[test]
fn vector_b_steady_traffic_stays_quiet_then_a_real_spike_fires() {
    let conn = cairn_store::in_memory().unwrap();
    let window_start = S - 1256 - 10_080;
    for m in window_start - 60..S {
        add(&conn, "PutScalingPolicy", m, 10);
    }
    assert!(
        evaluate(&conn, S - 240, S - 1).is_empty(),
        "steady traffic is quiet"
    );
    for m in S..S + 3 {
        add(&conn, "PutScalingPolicy", m, 50);
    }
    for m in S + 3..S + 20 {
        add(&conn, "PutScalingPolicy", m, 10);
    }
    let out = evaluate(&conn, S, S + 20);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(stats(&out[0]), (10.0, 50.0, 1, 11_336));
    assert_eq!(out[1].event_time, "2020-07-21T20:59:00Z");
    assert_eq!(stats(&out[1]), (10.0, 50.0, 3, 11_336));
}

#[test]
fn vector_c_small_spike_below_the_floor_is_ignored() {
    let conn = cairn_store::in_memory().unwrap();
    for m in S..S + 5 {
        add(&conn, "CreateLaunchConfiguration", m, 2);
    }
    assert!(evaluate(&conn, S - 10, S + 30).is_empty());
}

#[test]
fn vector_d_burst_with_a_quiet_minute_inside_is_one_insight() {
    let conn = cairn_store::in_memory().unwrap();
    for m in S..S + 30 {
        if m != S + 15 {
            add(&conn, "UpdateAutoScalingGroup", m, 10);
        }
    }
    let out = evaluate(&conn, S - 10, S + 60);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0].insight_details.state, "Start");
    assert_eq!(out[1].insight_details.state, "End");
    assert_eq!(out[1].event_time, "2020-07-21T21:26:00Z");
    assert_eq!(stats(&out[1]), (0.0, 9.6666666667, 30, 11_336));
}

#[test]
fn an_insight_is_capped_at_a_day_and_may_start_again_at_once() {
    let conn = cairn_store::in_memory().unwrap();
    for m in S..S + 1440 {
        add(&conn, "SetDesiredCapacity", m, 5);
    }
    for m in S + 1440..S + 1450 {
        add(&conn, "SetDesiredCapacity", m, 50);
    }
    let out = evaluate(&conn, S, S + 1445);
    let states: Vec<(&str, &str)> = out
        .iter()
        .map(|r| (r.insight_details.state.as_str(), r.event_time.as_str()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("Start", "2020-07-21T20:56:00Z"),
            ("End", "2020-07-22T20:56:00Z"),
            // No cool-down after a capped insight: the next minute may start one (its
            // baseline now holds the first day of the burst, mean 7200 / 11336).
            ("Start", "2020-07-22T20:56:00Z"),
        ]
    );
    assert_eq!(stats(&out[1]).2, 1440);
    assert_eq!(stats(&out[2]).0, 0.6351446718);
}

#[test]
fn error_rate_insights_carry_the_error_code() {
    let conn = cairn_store::in_memory().unwrap();
    let k = SeriesKey {
        kind: store::KIND_ERROR,
        error_code: "AccessDenied".into(),
        ..key("DescribeInstances")
    };
    for m in S..S + 2 {
        store::apply_counts(
            &conn,
            m - S,
            m - S + 1,
            &[SeriesDelta {
                key: k.clone(),
                minute: m,
                count: 18,
            }],
            &[],
        )
        .unwrap();
    }
    let t = trail(&["ApiErrorRateInsight"]);
    let p = Params::default();
    let out: Vec<InsightRecord> = (S..S + 10)
        .flat_map(|m| evaluate_minute(&conn, &t, "us-east-1", store::KIND_ERROR, m, &p).unwrap())
        .collect();
    assert_eq!(out.len(), 2);
    let d = &out[0].insight_details;
    assert_eq!(d.insight_type, "ApiErrorRateInsight");
    assert_eq!(d.error_code.as_deref(), Some("AccessDenied"));
    assert!(d.insight_context.attributions.is_empty());
}

/// The shape of a JSON value: object keys with their shapes, the first element's shape for
/// arrays, the type name otherwise.
fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Bool(_) => "bool".into(),
        Value::Null => "null".into(),
    }
}

#[test]
fn records_have_the_shape_of_aws_samples() {
    let path = std::path::Path::new(
        "/work/shared/datasets/cloudtrail/awsdocs-examples/insights-events.json",
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        println!("skipped: {} is absent", path.display());
        return;
    };
    let sample: serde_json::Value = serde_json::from_str(&text).unwrap();
    let aws = &sample["Records"][0];
    let conn = cairn_store::in_memory().unwrap();
    add(&conn, "CompleteLifecycleAction", S - 1000, 1);
    for m in S..S + 5 {
        add(&conn, "CompleteLifecycleAction", m, 3);
    }
    let ours: serde_json::Value =
        serde_json::from_str(&evaluate(&conn, S, S)[0].to_json()).unwrap();
    assert_eq!(shape(&ours), shape(aws));
    // Same member order as AWS writes them.
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ours), keys(aws));
    assert_eq!(keys(&ours["insightDetails"]), keys(&aws["insightDetails"]));
}
