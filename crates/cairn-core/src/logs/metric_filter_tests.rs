//! How metric filters turn log events into datapoints as CloudWatch would store them: a
//! default value once per minute without a match, values and dimension values CloudWatch
//! would refuse dropped, and at most 1,000 dimension sets of a metric active within an hour.

use super::ingest::ingest;
use super::tests::{NOW, ev, put_filter, setup, sum, t};

#[test]
fn a_default_value_is_reported_once_per_minute_without_a_match() {
    let (conn, key) = setup();
    let mut with_default = t("errors", "1");
    with_default.default_value = Some(0.0);
    put_filter(&conn, "errors", "{ $.errorCode = * }", with_default);
    let quiet = r#"{"eventSource":"s3.amazonaws.com"}"#;
    let events: Vec<_> = (0..8).map(|i| ev(NOW + i, quiet)).collect();
    ingest(&conn, &key, "s1", &events, NOW).unwrap();
    assert_eq!(
        sum(&conn, "errors", &[]),
        (0.0, 1.0),
        "one default, not eight"
    );
    // A later batch of the same minute without a match adds nothing; one with a match adds it.
    ingest(&conn, &key, "s1", &[ev(NOW + 10, quiet)], NOW).unwrap();
    assert_eq!(sum(&conn, "errors", &[]), (0.0, 1.0), "still one default");
    let failed = r#"{"eventSource":"s3.amazonaws.com","errorCode":"AccessDenied"}"#;
    ingest(&conn, &key, "s1", &[ev(NOW + 20, failed)], NOW).unwrap();
    ingest(&conn, &key, "s1", &[ev(NOW + 30, quiet)], NOW).unwrap();
    assert_eq!(
        sum(&conn, "errors", &[]),
        (1.0, 2.0),
        "the match, and the first default"
    );
}

#[test]
fn a_value_cloudwatch_would_refuse_is_dropped_not_summed_to_infinity() {
    let (conn, key) = setup();
    put_filter(&conn, "bytes", "{ $.bytes > 0 }", t("bytes", "$.bytes"));
    let events = [
        ev(NOW, r#"{"bytes": 15000}"#),
        ev(NOW + 1, r#"{"bytes": 1.7e308}"#),
        ev(NOW + 2, r#"{"bytes": 1.7e308}"#),
    ];
    ingest(&conn, &key, "s1", &events, NOW).unwrap();
    assert_eq!(sum(&conn, "bytes", &[]), (15000.0, 1.0));
}

#[test]
fn a_dimension_value_cloudwatch_would_refuse_makes_no_datapoint() {
    let (conn, key) = setup();
    let mut dims = t("v", "$.v");
    dims.dimensions = vec![("D".into(), "$.d".into())];
    put_filter(&conn, "v", "{ $.v = * }", dims);
    let long = "x".repeat(1100);
    let events = [
        ev(NOW, r#"{"v": 5, "d": "\u00e9"}"#),
        ev(NOW + 1, r#"{"v": 5, "d": "   "}"#),
        ev(NOW + 2, &format!(r#"{{"v": 5, "d": "{long}"}}"#)),
        ev(NOW + 3, r#"{"v": 5, "d": "b"}"#),
    ];
    ingest(&conn, &key, "s1", &events, NOW).unwrap();
    let listed =
        cairn_store::metrics::list(&conn, "123456789012", "us-east-1", None, Some("v"), 0).unwrap();
    let values: Vec<&str> = listed.iter().map(|m| m.dimensions[0].1.as_str()).collect();
    assert_eq!(values, ["b"]);
}

#[test]
fn a_filters_dimensions_make_at_most_a_thousand_metrics_an_hour() {
    let (conn, key) = setup();
    let mut dims = t("c", "1");
    dims.dimensions = vec![("Id".into(), "$.id".into())];
    put_filter(&conn, "c", "{ $.id = * }", dims);
    let messages: Vec<String> = (0..1100).map(|i| format!(r#"{{"id": "i-{i}"}}"#)).collect();
    let events: Vec<_> = messages.iter().map(|m| ev(NOW, m)).collect();
    ingest(&conn, &key, "s1", &events, NOW).unwrap();
    let listed =
        cairn_store::metrics::list(&conn, "123456789012", "us-east-1", None, Some("c"), 0).unwrap();
    assert_eq!(listed.len(), 1000);
    // A set that already exists still gets its data.
    ingest(&conn, &key, "s1", &[ev(NOW + 1, &messages[0])], NOW).unwrap();
    assert_eq!(sum(&conn, "c", &[("Id".into(), "i-0".into())]), (2.0, 2.0));
    // A later call's new sets are still refused (the count is taken once a call and hour of
    // data, hostile17), even beside one dated ahead that sorts first (recheck36).
    let mut more: Vec<String> = (0..50).map(|i| format!(r#"{{"id": "j-{i}"}}"#)).collect();
    more.push(r#"{"id": "!ahead"}"#.to_owned());
    let mut events: Vec<_> = more[..50].iter().map(|m| ev(NOW + 2, m)).collect();
    events.push(ev(NOW + 110 * 60_000, &more[50]));
    ingest(&conn, &key, "s1", &events, NOW).unwrap();
    let listed =
        cairn_store::metrics::list(&conn, "123456789012", "us-east-1", None, Some("c"), 0).unwrap();
    assert!(listed.len() <= 1001, "{}", listed.len());
    assert!(!listed.iter().any(|m| m.dimensions[0].1.starts_with("j-")));
}
