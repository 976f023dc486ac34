//! Evaluation tables (AWS's published M-of-N / TreatMissingData expectations), reason texts,
//! evaluation passes over a store on a controllable clock, action regions, mixed units and
//! extended statistics.

use super::eval::{Rule, decide, range_len};
use super::reason::{java_double, state_reason};
use super::*;

fn slots(s: &str) -> Vec<Option<f64>> {
    s.split_whitespace()
        .map(|t| match t {
            "0" => Some(0.0),
            "X" => Some(5.0),
            _ => None,
        })
        .collect()
}

fn rule(n: usize, m: usize, treat: TreatMissing) -> Rule {
    Rule {
        n,
        m,
        op: Comparison::GreaterThanOrEqualToThreshold,
        threshold: 1.0,
        treat,
    }
}

const TREATS: [TreatMissing; 4] = [
    TreatMissing::Missing,
    TreatMissing::Ignore,
    TreatMissing::Breaching,
    TreatMissing::NotBreaching,
];

/// `expected` per TreatMissingData (missing, ignore, breaching, notBreaching); `keep` = the
/// current state (checked from both OK and ALARM).
fn check(n: usize, m: usize, points: &str, expected: [&str; 4]) {
    assert_eq!(slots(points).len(), range_len(n));
    for (treat, want) in TREATS.iter().zip(expected) {
        for current in [StateValue::Ok, StateValue::Alarm] {
            let got = decide(&rule(n, m, *treat), &slots(points), current).state;
            let want = match want {
                "keep" => current,
                other => StateValue::parse(other).unwrap(),
            };
            assert_eq!(got, want, "N={n} M={m} {points} {treat:?} from {current:?}");
        }
    }
}

#[test]
fn aws_table_three_of_three() {
    check(3, 3, "0 - X - X", ["OK", "OK", "OK", "OK"]);
    check(3, 3, "0 - - - -", ["OK", "OK", "OK", "OK"]);
    check(
        3,
        3,
        "- - - - -",
        ["INSUFFICIENT_DATA", "keep", "ALARM", "OK"],
    );
    check(3, 3, "0 X X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]);
    check(
        3,
        3,
        "- - - - X",
        ["INSUFFICIENT_DATA", "keep", "ALARM", "OK"],
    );
    check(3, 3, "X - - - -", ["ALARM", "keep", "ALARM", "OK"]);
}

#[test]
fn aws_table_two_of_three() {
    check(3, 2, "0 - X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]);
    check(3, 2, "0 0 X 0 X", ["ALARM", "ALARM", "ALARM", "ALARM"]);
    check(3, 2, "0 - X - -", ["OK", "OK", "ALARM", "OK"]);
    check(3, 2, "- - - - 0", ["OK", "OK", "ALARM", "OK"]);
    check(
        3,
        2,
        "- - - - X",
        ["INSUFFICIENT_DATA", "keep", "ALARM", "OK"],
    );
}

#[test]
fn one_of_one_follows_the_newest_point() {
    check(1, 1, "- - X", ["ALARM", "ALARM", "ALARM", "ALARM"]);
    check(1, 1, "X - 0", ["OK", "OK", "OK", "OK"]);
    check(1, 1, "- - -", ["INSUFFICIENT_DATA", "keep", "ALARM", "OK"]);
    // Missing points are skipped: the newest real point decides.
    check(1, 1, "- X -", ["ALARM", "ALARM", "ALARM", "ALARM"]);
}

#[test]
fn the_range_is_wider_than_n() {
    assert_eq!(range_len(1), 3);
    assert_eq!(range_len(3), 5);
    assert_eq!(range_len(9), 12);
}

#[test]
fn java_doubles_print_like_cloudwatch() {
    assert_eq!(java_double(1.0), "1.0");
    assert_eq!(java_double(65.0), "65.0");
    assert_eq!(java_double(8.891518474692088), "8.891518474692088");
    assert_eq!(java_double(0.0), "0.0");
    assert_eq!(java_double(1e7), "1.0E7");
    assert_eq!(java_double(0.0001), "1.0E-4");
    assert_eq!(java_double(-2.5), "-2.5");
}

fn config(n: i64, m: Option<i64>) -> AlarmConfig {
    AlarmConfig {
        name: "a".into(),
        description: None,
        actions_enabled: true,
        ok_actions: vec![],
        alarm_actions: vec![],
        insufficient_data_actions: vec![],
        metric_name: "m".into(),
        namespace: "ns".into(),
        statistic: Some("Sum".into()),
        extended_statistic: None,
        dimensions: vec![],
        period: 60,
        unit: None,
        evaluation_periods: n,
        datapoints_to_alarm: m,
        threshold: 1.0,
        comparison: Comparison::GreaterThanOrEqualToThreshold,
        treat_missing_data: None,
        evaluate_low_sample_count_percentile: None,
        warm_up: None,
        sliding_window: false,
    }
}

/// The metric `ns`/`m` (no dimensions) of account 123456789012 in us-east-1.
fn metric_key() -> cairn_store::metrics::MetricKey<'static> {
    cairn_store::metrics::MetricKey {
        account: "123456789012",
        region: "us-east-1",
        namespace: "ns",
        name: "m",
        dimensions: &[],
    }
}

/// An alarm of account 123456789012 in us-east-1, never evaluated.
fn new_alarm(c: AlarmConfig) -> Alarm {
    Alarm {
        v: 1,
        account: "123456789012".into(),
        region: "us-east-1".into(),
        config: c,
        state: AlarmState {
            value: StateValue::InsufficientData,
            reason: String::new(),
            reason_data: None,
            updated_ms: 0,
            transitioned_ms: 0,
        },
        config_updated_ms: 0,
        last_evaluated_ms: 0,
        tags: vec![],
    }
}

// 2019-03-24 21:17:00 UTC and the following minutes.
const T0: i64 = 1_553_462_220_000;

fn starts(r: usize) -> Vec<i64> {
    (0..r as i64).map(|i| T0 + i * 60_000).collect()
}

#[test]
fn reasons_read_like_aws() {
    let c = config(1, None);
    let d = decide(&c.rule(), &[None, None, Some(1.0)], StateValue::Ok);
    assert_eq!(
        state_reason(&c, &d, &starts(3)),
        "Threshold Crossed: 1 datapoint [1.0 (24/03/19 21:19:00)] was greater than or equal to the threshold (1.0)."
    );
    let d = decide(&c.rule(), &[None, None, Some(0.0)], StateValue::Alarm);
    assert_eq!(
        state_reason(&c, &d, &starts(3)),
        "Threshold Crossed: 1 datapoint [0.0 (24/03/19 21:19:00)] was not greater than or equal to the threshold (1.0)."
    );
    let mut c3 = config(3, Some(3));
    c3.threshold = 7.0;
    let d = decide(
        &c3.rule(),
        &[None, None, Some(8.0), Some(9.0), Some(10.0)],
        StateValue::Ok,
    );
    assert_eq!(
        state_reason(&c3, &d, &starts(5)),
        "Threshold Crossed: 3 out of the last 3 datapoints [10.0 (24/03/19 21:21:00), 9.0 (24/03/19 21:20:00), 8.0 (24/03/19 21:19:00)] were greater than or equal to the threshold (7.0) (minimum 3 datapoints for OK -> ALARM transition)."
    );
    let mut nb = config(1, None);
    nb.treat_missing_data = Some(TreatMissing::NotBreaching);
    let d = decide(&nb.rule(), &[None, None, None], StateValue::Alarm);
    assert_eq!(
        state_reason(&nb, &d, &starts(3)),
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
    );
    let d = decide(&c.rule(), &[None, None, None], StateValue::Ok);
    assert_eq!(
        state_reason(&c, &d, &starts(3)),
        "Insufficient Data: 1 datapoint was unknown."
    );
}

#[test]
fn actions_in_another_region_or_partition_are_refused() {
    let mut c = config(1, None);
    c.alarm_actions = vec!["arn:aws:sns:eu-west-1:123456789012:t".into()];
    let e = api::check_action_regions(&c, "us-east-1").unwrap_err();
    assert_eq!(e.kind, ErrorKind::IamValidation);
    assert_eq!(
        e.message,
        "Invalid region eu-west-1 specified. Only us-east-1 is supported."
    );
    c.alarm_actions = vec![];
    c.ok_actions = vec!["arn:aws-cn:sns:us-east-1:123456789012:t".into()];
    let e = api::check_action_regions(&c, "us-east-1").unwrap_err();
    assert_eq!(
        e.message,
        "Invalid partition aws-cn specified. Only aws is supported."
    );
    c.ok_actions = vec!["arn:aws:sns:us-east-1:123456789012:t".into()];
    assert!(api::check_action_regions(&c, "us-east-1").is_ok());
}

#[test]
fn an_alarm_without_unit_reads_one_unit_of_a_mixed_metric() {
    let conn = cairn_store::in_memory().unwrap();
    let key = metric_key();
    crate::metrics::put(&conn, &key, T0 + 1_000, 2.0, "Seconds").unwrap();
    crate::metrics::put(&conn, &key, T0 + 2_000, 500.0, "Milliseconds").unwrap();
    let mut c = config(1, None);
    c.extended_statistic = None;
    let alarm = new_alarm(c);
    let (_, values, counts) = run::datapoints(&conn, &alarm, T0 + 60_000).unwrap();
    assert_eq!(values.last(), Some(&Some(500.0)), "never 502: {values:?}");
    assert_eq!(counts.last(), Some(&1.0));
    let mut tm = alarm.clone();
    tm.config.statistic = None;
    tm.config.extended_statistic = Some("tm90".into());
    assert!(api::validate(&tm.config).is_ok());
    tm.config.extended_statistic = Some("tm".into());
    let e = api::validate(&tm.config).unwrap_err();
    assert_eq!(
        e.message,
        "The value tm for parameter ExtendedStatistic is not supported."
    );
}

#[test]
fn an_alarm_naming_a_dimension_twice_is_refused() {
    let mut c = config(1, None);
    c.dimensions = vec![("d".into(), "v".into()), ("d".into(), "w".into())];
    let e = api::validate(&c).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            crate::ErrorKind::CwInvalidParameterValue,
            "No metric may specify the same dimension name twice."
        )
    );
    c.dimensions = vec![("d".into(), "v".into()), ("e".into(), "v".into())];
    api::validate(&c).unwrap();
}

#[test]
fn an_alarm_dimension_is_bounded_as_put_metric_data_bounds_it() {
    let mut c = config(1, None);
    c.dimensions = vec![("d".repeat(256), "v".into())];
    let e = api::validate(&c).unwrap_err();
    assert_eq!(
        e.message,
        "The parameter Dimensions.member.Name must be between 1 and 255 characters long and contain no control characters."
    );
    c.dimensions = vec![("d".into(), "v".repeat(1025))];
    let e = api::validate(&c).unwrap_err();
    assert_eq!(e.kind, crate::ErrorKind::CwInvalidParameterValue);
    c.dimensions = vec![("d".repeat(255), "v".repeat(1024))];
    api::validate(&c).unwrap();
}

#[test]
fn a_namespace_starting_with_a_colon_is_refused_as_by_put_metric_data() {
    let mut c = config(1, None);
    c.namespace = ":x".into();
    let e = crate::alarms::api::validate(&c).unwrap_err();
    assert_eq!(
        e.message,
        "The parameter Namespace must not start with ':'."
    );
    c.namespace = "x:y".into();
    assert!(crate::alarms::api::validate(&c).is_ok());
}

#[test]
fn a_pass_shares_reads_and_leaves_alarms_past_its_budget_to_the_next() {
    let conn = cairn_store::in_memory().unwrap();
    let key = metric_key();
    for k in 0..100 {
        crate::metrics::put(&conn, &key, T0 - 50_000 + k * 100, 1.0, "Count").unwrap();
    }
    // Two alarms on the same range share one read; two more read a range each.
    for (name, period) in [("a1", 60), ("a2", 60), ("b", 120), ("c", 180)] {
        let mut c = config(1, None);
        c.name = name.into();
        c.period = period;
        let alarm = new_alarm(c);
        cairn_store::alarms::put(&conn, "123456789012", "us-east-1", name, &alarm.encode())
            .unwrap();
    }
    let evaluated = |conn: &cairn_store::Connection| -> Vec<String> {
        cairn_store::alarms::all(conn)
            .unwrap()
            .iter()
            .filter_map(|r| Alarm::decode(&r.body).ok())
            .filter(|a| a.last_evaluated_ms > 0)
            .map(|a| a.config.name)
            .collect()
    };
    let now = T0 + 1_000;
    // 100 points a read: a1 reads, a2 shares it, b reads (200 ≥ 150) and c waits.
    run::evaluate_pass_within(&conn, now, false, 150, None).unwrap();
    assert_eq!(evaluated(&conn), ["a1", "a2", "b"]);
    let at = |name: &str| {
        cairn_store::alarms::all(&conn)
            .unwrap()
            .iter()
            .filter_map(|r| Alarm::decode(&r.body).ok())
            .find(|a| a.config.name == name)
            .unwrap()
            .last_evaluated_ms
    };
    // A minute later all are due: c, the most overdue, goes first and uses the budget; the
    // others wait. Alarms that sort first cannot keep one behind them waiting for ever.
    let later = now + 60_000;
    run::evaluate_pass_within(&conn, later, false, 100, None).unwrap();
    assert!(at("c") > now, "{}", at("c"));
    assert!(at("a1") <= now && at("b") <= now);
    // `cairn alarms run` evaluates every due alarm whatever it reads.
    run::evaluate_pass(&conn, later, false, None).unwrap();
    assert!(at("a1") > now && at("a2") > now && at("b") > now);
}

#[test]
fn generated_reasons_and_history_stay_within_the_models_lengths() {
    use super::reason::{
        MAX_HISTORY_DATA, MAX_REASON_DATA, cut, fit_history_data, fit_reason_data,
    };
    let points: Vec<f64> = (0..1440).map(f64::from).collect();
    let evaluated: Vec<serde_json::Value> = points
        .iter()
        .rev()
        .map(|v| serde_json::json!({"timestamp": "2024-03-19T21:19:00.000+0000", "value": v}))
        .collect();
    let data = serde_json::json!({"version": "1.0", "recentDatapoints": points,
        "threshold": 1.0, "evaluatedDatapoints": evaluated})
    .to_string();
    let fitted = fit_reason_data(data);
    assert!(fitted.chars().count() <= MAX_REASON_DATA);
    let v: serde_json::Value = serde_json::from_str(&fitted).unwrap();
    let recent = v["recentDatapoints"].as_array().unwrap();
    assert!(!recent.is_empty());
    assert_eq!(
        recent.last().unwrap(),
        1439.0,
        "the newest datapoints are kept"
    );
    assert_eq!(v["evaluatedDatapoints"][0]["value"], 1439.0);
    let long = "r".repeat(3000);
    let history = serde_json::json!({"version": "1.0",
        "oldState": {"stateValue": "OK", "stateReason": long, "stateReasonData": {"x": long}},
        "newState": {"stateValue": "ALARM", "stateReason": long}})
    .to_string();
    let fitted = fit_history_data(history);
    assert!(fitted.chars().count() <= MAX_HISTORY_DATA);
    let v: serde_json::Value = serde_json::from_str(&fitted).unwrap();
    assert_eq!(v["newState"]["stateValue"], "ALARM");
    assert_eq!(cut("é".repeat(300), 255).chars().count(), 255);
}

#[test]
fn every_served_region_has_a_long_name() {
    for region in cairn_model::KNOWN_REGIONS {
        let long = reason::region_long_name(region);
        assert_ne!(
            long, *region,
            "{region} has no long name for alarm subjects"
        );
    }
}

#[test]
fn a_percentile_alarm_set_to_ignore_keeps_its_state_on_too_few_samples() {
    let mut c = config(1, None);
    c.statistic = None;
    c.extended_statistic = Some("p99".into());
    assert!(
        !super::run::too_few_samples(&c, 1.0),
        "evaluate is the default"
    );
    c.evaluate_low_sample_count_percentile = Some("ignore".into());
    assert!(super::run::too_few_samples(&c, 1.0));
    assert!(
        super::run::too_few_samples(&c, 999.0),
        "p99 needs 10/(1-0.99) = 1,000"
    );
    assert!(!super::run::too_few_samples(&c, 1000.0));
    assert!(
        !super::run::too_few_samples(&c, 0.0),
        "no data is missing data"
    );
    c.extended_statistic = Some("p50".into());
    assert!(super::run::too_few_samples(&c, 19.0) && !super::run::too_few_samples(&c, 20.0));
    c.extended_statistic = Some("tm99".into());
    assert!(!super::run::too_few_samples(&c, 1.0), "only percentiles");
}

#[test]
fn a_long_state_reason_lists_whole_datapoints_and_keeps_its_end() {
    let c = config(1440, Some(1000));
    let r = range_len(1440);
    let slots: Vec<Option<f64>> = vec![Some(2.0); r];
    let d = decide(&c.rule(), &slots, StateValue::Ok);
    assert_eq!(d.state, StateValue::Alarm);
    let starts: Vec<i64> = (0..r as i64)
        .map(|i| 1_700_000_000_000 + i * 60_000)
        .collect();
    let reason = state_reason(&c, &d, &starts);
    assert!(
        reason.chars().count() <= reason::MAX_REASON,
        "{}",
        reason.len()
    );
    assert!(
        reason.ends_with(
            "] were greater than or equal to the threshold (1.0) (minimum 1000 datapoints for OK -> ALARM transition)."
        ),
        "{reason}"
    );
    assert!(reason.contains("), 2.0 ("), "{reason}");
}

#[test]
fn a_pass_reads_only_due_alarms_and_at_most_a_thousand() {
    // hostile11: 54,000 alarms were all read and decoded every second, on the writer.
    let conn = cairn_store::in_memory().unwrap();
    for k in 0..1_200 {
        let mut c = config(1, None);
        c.name = format!("a{k:04}");
        let alarm = new_alarm(c);
        cairn_store::alarms::put(
            &conn,
            "123456789012",
            "us-east-1",
            &alarm.config.name,
            &alarm.encode(),
        )
        .unwrap();
    }
    let evaluated = |conn: &cairn_store::Connection| {
        cairn_store::alarms::all(conn)
            .unwrap()
            .iter()
            .filter_map(|r| Alarm::decode(&r.body).ok())
            .filter(|a| a.last_evaluated_ms > 0)
            .count()
    };
    let now = T0 + 1_000;
    run::evaluate_pass_within(&conn, now, false, usize::MAX, None).unwrap();
    assert_eq!(evaluated(&conn), 1_000);
    run::evaluate_pass_within(&conn, now + 1_000, false, usize::MAX, None).unwrap();
    assert_eq!(evaluated(&conn), 1_200);
    // None is due again within its period: a pass reads none of them.
    assert!(
        cairn_store::alarms::due(&conn, now + 2_000, 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        cairn_store::alarms::due(&conn, now + 61_000, 2_000)
            .unwrap()
            .len(),
        1_200
    );
}
