//! Datapoint store checks: periods, statistics, percentiles, dimension identity, units kept
//! apart, the extended statistics and when they are unavailable, PutMetricData counts.

use super::*;

fn key<'a>(dims: &'a [(String, String)]) -> MetricKey<'a> {
    MetricKey {
        account: "123456789012",
        region: "us-east-1",
        namespace: "NS",
        name: "M",
        dimensions: dims,
    }
}

#[test]
fn periods_aggregate_and_percentiles_use_exact_values() {
    let conn = cairn_store::in_memory().unwrap();
    let dims = vec![
        ("B".to_owned(), "2".to_owned()),
        ("A".to_owned(), "1".to_owned()),
    ];
    for (k, v) in [1.0, 2.0, 3.0, 4.0, 10.0].iter().enumerate() {
        put(&conn, &key(&dims), 60_000 + k as i64 * 1_000, *v, "Count").unwrap();
    }
    put_stats(
        &conn,
        &key(&dims),
        130_000,
        StatSet::repeated(0.0, 3.0),
        "Count",
        60,
    )
    .unwrap();
    let reordered = vec![
        ("A".to_owned(), "1".to_owned()),
        ("B".to_owned(), "2".to_owned()),
    ];
    let q = MetricQuery {
        metric: key(&reordered),
        start_ms: 60_000,
        end_ms: 180_000,
        period_secs: 60,
        unit: None,
        values: true,
    };
    let periods = query(&conn, &q).unwrap();
    assert_eq!(periods.len(), 2);
    assert_eq!(periods[0].start_ms, 60_000);
    assert_eq!(
        periods[0].stats,
        StatSet {
            sample_count: 5.0,
            sum: 20.0,
            min: 1.0,
            max: 10.0
        }
    );
    assert_eq!(periods[0].average(), 4.0);
    assert_eq!(periods[0].percentile(50.0), Some(3.0));
    assert_eq!(periods[0].percentile(100.0), Some(10.0));
    assert_eq!(periods[1].stats.sample_count, 3.0);
    let only_other_unit = query(
        &conn,
        &MetricQuery {
            unit: Some("Seconds"),
            values: true,
            ..q.clone()
        },
    )
    .unwrap();
    assert!(only_other_unit.is_empty());
    let none = query(
        &conn,
        &MetricQuery {
            metric: key(&[]),
            ..q
        },
    )
    .unwrap();
    assert!(
        none.is_empty(),
        "the dimension set is part of the metric's identity"
    );
    let listed = list(
        &conn,
        "123456789012",
        "us-east-1",
        None,
        None,
        &[("A".into(), None)],
        0,
    )
    .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].dimensions, reordered);
}

fn ctx() -> crate::CallContext {
    use cairn_model::{AccountId, Principal, Region};
    crate::CallContext {
        principal: Principal::Root {
            account: AccountId::parse("123456789012").unwrap(),
            access_key_id: "AKID".into(),
            session: None,
        },
        region: Region::parse("us-east-1").unwrap(),
        now: 1_000_000.0,
        origin: crate::context::Origin::default(),
    }
}

fn request(statistics: &[&str], unit: Option<&str>) -> api::StatsRequest {
    api::StatsRequest {
        namespace: "NS".into(),
        metric_name: "M".into(),
        dimensions: vec![],
        start_ms: 0,
        end_ms: 1_200_000,
        period: 1200,
        statistics: statistics.iter().map(|s| s.to_string()).collect(),
        unit: unit.map(str::to_owned),
    }
}

#[test]
fn units_are_never_added_together() {
    let conn = cairn_store::in_memory().unwrap();
    put(&conn, &key(&[]), 60_000, 2.0, "Seconds").unwrap();
    put(&conn, &key(&[]), 120_000, 500.0, "Milliseconds").unwrap();
    let r = request(&["Sum", "SampleCount"], None);
    let points = api::statistics(&conn, &ctx(), &r).unwrap();
    assert_eq!(points.len(), 2, "one datapoint per unit: {points:?}");
    let by_unit = |u: &str| points.iter().find(|p| p.unit == u).unwrap().values.clone();
    assert_eq!(
        by_unit("Seconds"),
        vec![("Sum".into(), 2.0), ("SampleCount".into(), 1.0)]
    );
    assert_eq!(
        by_unit("Milliseconds"),
        vec![("Sum".into(), 500.0), ("SampleCount".into(), 1.0)]
    );
    // One series (GetMetricData, alarms) reads one unit: the first in CloudWatch's order.
    let series = api::series(&conn, &ctx(), &r).unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].unit, "Milliseconds");
    assert_eq!(series[0].values[0], ("Sum".into(), 500.0));
    let seconds = api::series(&conn, &ctx(), &request(&["Sum"], Some("Seconds"))).unwrap();
    assert_eq!(seconds[0].values, vec![("Sum".into(), 2.0)]);
}

#[test]
fn extended_statistics_need_raw_non_negative_values() {
    let conn = cairn_store::in_memory().unwrap();
    let set = StatSet {
        sample_count: 4.0,
        sum: 20.0,
        min: 2.0,
        max: 8.0,
    };
    put_stats(&conn, &key(&[]), 60_000, set, "None", 60).unwrap();
    let r = request(&["p50", "p99", "tm90", "Sum"], None);
    let points = api::statistics(&conn, &ctx(), &r).unwrap();
    assert_eq!(points[0].values, vec![("Sum".into(), 20.0)]);
    // A set whose values are all equal stands for raw values.
    let conn = cairn_store::in_memory().unwrap();
    put_stats(
        &conn,
        &key(&[]),
        60_000,
        StatSet::repeated(3.0, 4.0),
        "None",
        60,
    )
    .unwrap();
    let points = api::statistics(&conn, &ctx(), &r).unwrap();
    assert_eq!(
        points[0].values,
        vec![
            ("p50".into(), 3.0),
            ("p99".into(), 3.0),
            ("tm90".into(), 3.0),
            ("Sum".into(), 12.0)
        ]
    );
    let conn = cairn_store::in_memory().unwrap();
    for v in [-5.0, 1.0, 2.0, 3.0] {
        put(&conn, &key(&[]), 60_000, v, "None").unwrap();
    }
    let points = api::statistics(&conn, &ctx(), &request(&["p50", "Minimum"], None)).unwrap();
    assert_eq!(points[0].values, vec![("Minimum".into(), -5.0)]);
}

#[test]
fn extended_statistics_follow_the_definitions() {
    use stats::Statistic;
    let conn = cairn_store::in_memory().unwrap();
    for v in 1..=10 {
        put(&conn, &key(&[]), 60_000, f64::from(v), "None").unwrap();
    }
    let p = &query(
        &conn,
        &MetricQuery {
            metric: key(&[]),
            start_ms: 0,
            end_ms: 1_200_000,
            period_secs: 1200,
            unit: None,
            values: true,
        },
    )
    .unwrap()[0];
    let v = |s: &str| {
        Statistic::parse(s)
            .unwrap_or_else(|| panic!("{s}"))
            .value(p)
    };
    assert_eq!(v("p50"), Some(5.0));
    assert_eq!(v("tm90"), Some(5.0));
    assert_eq!(v("TM(10%:90%)"), Some(5.5));
    assert_eq!(v("IQM"), Some(5.5));
    assert_eq!(v("TM(2:5)"), Some(4.0));
    assert_eq!(v("TM(150:1000)"), None);
    assert_eq!(v("wm90"), Some(5.4));
    assert_eq!(v("WM(10%:90%)"), Some(5.5));
    assert_eq!(v("tc90"), Some(9.0));
    assert_eq!(v("TC(1:5)"), Some(4.0));
    assert_eq!(v("ts90"), Some(45.0));
    assert_eq!(v("TS(80%:)"), Some(19.0));
    assert_eq!(v("PR(:3)"), Some(30.0));
    assert_eq!(v("PR(2:5)"), Some(30.0));
    assert_eq!(v("PR(5:)"), Some(50.0));
    assert_eq!(v("Average"), Some(5.5));
    for bad in [
        "tm",
        "tm0",
        "tm101",
        "p101",
        "p1e1",
        "pinf",
        "p-1",
        "TM(90%:10%)",
        "TM(:)",
        "TM(10%:500)",
        "WM(1:5)",
        "PR(10%:)",
        "PR(:30%)",
        "iqm",
        "Tm90",
        "TM90",
        "tm(10%:90%)",
        "TM(1:5",
        "PR",
        "TC(a:b)",
        "p99.12345678901",
    ] {
        assert_eq!(Statistic::parse(bad), None, "{bad}");
    }
    for good in [
        "p0",
        "p99.99",
        "p100",
        "TM(:95%)",
        "TC(0.005:0.030)",
        "PR(-5:3)",
        "ts99.5",
    ] {
        assert!(Statistic::parse(good).is_some(), "{good}");
    }
}

#[test]
fn counts_must_be_non_negative_and_in_range() {
    let conn = cairn_store::in_memory().unwrap();
    for counts in [vec![-3.0, 1.0], vec![1e308], vec![f64::NAN]] {
        let d = api::Datum {
            metric_name: "M".into(),
            values: vec![5.0; counts.len()],
            counts: counts.clone(),
            ..Default::default()
        };
        let e = api::put_metric_data(&conn, &ctx(), "NS", &[d]).unwrap_err();
        assert_eq!(
            e.kind,
            crate::ErrorKind::CwInvalidParameterValue,
            "{counts:?}"
        );
        assert!(e.message.contains("Counts.member."), "{}", e.message);
    }
    let stored = query(
        &conn,
        &MetricQuery {
            metric: key(&[]),
            start_ms: 0,
            end_ms: 2_000_000_000,
            period_secs: 60,
            unit: None,
            values: true,
        },
    )
    .unwrap();
    assert!(stored.is_empty(), "a refused call stores nothing here");
}

#[test]
fn statistic_errors_name_their_parameter() {
    let e = api::check_statistics(&["Sum".into(), "Median".into()], &[]).unwrap_err();
    assert_eq!(
        e.message,
        "The parameter Statistics.member.2 must be a value in the set [ Maximum, Sum, SampleCount, Average, Minimum ]."
    );
    let e = api::check_statistics(&[], &["p50".into(), "tm".into()]).unwrap_err();
    assert_eq!(
        e.message,
        "The value tm for parameter ExtendedStatistics.member.2 is not supported."
    );
    assert!(api::check_statistics(&[], &["tm90".into(), "IQM".into(), "PR(:3)".into()]).is_ok());
    let e = api::check_stat("Median", "MetricDataQueries.member.3.MetricStat.Stat").unwrap_err();
    assert!(
        e.message.starts_with(
            "The value Median for parameter MetricDataQueries.member.3.MetricStat.Stat"
        ),
        "{}",
        e.message
    );
}

#[test]
fn a_dimension_name_given_twice_is_refused_and_nothing_is_stored() {
    let conn = cairn_store::in_memory().unwrap();
    let twice = vec![
        ("d".to_owned(), "v".to_owned()),
        ("d".to_owned(), "w".to_owned()),
    ];
    let refused = |e: crate::ApiError| {
        assert_eq!(
            (e.kind, e.message.as_str()),
            (
                crate::ErrorKind::CwInvalidParameterValue,
                "No metric may specify the same dimension name twice."
            )
        );
    };
    let good = api::Datum {
        metric_name: "M".into(),
        value: Some(1.0),
        ..Default::default()
    };
    let bad = api::Datum {
        metric_name: "N".into(),
        dimensions: twice.clone(),
        ..good.clone()
    };
    // The second datum's duplicate refuses the whole call.
    refused(api::put_metric_data(&conn, &ctx(), "NS", &[good.clone(), bad]).unwrap_err());
    let listed = list(&conn, "123456789012", "us-east-1", None, None, &[], 0).unwrap();
    assert!(listed.is_empty(), "{listed:?}");
    let distinct = vec![
        ("d".to_owned(), "v".to_owned()),
        ("e".to_owned(), "v".to_owned()),
    ];
    api::check_dimensions(&distinct).unwrap();
    let mut r = request(&["Sum"], None);
    r.dimensions = twice;
    refused(api::statistics(&conn, &ctx(), &r).unwrap_err());
    refused(api::series(&conn, &ctx(), &r).unwrap_err());
    r.dimensions = distinct;
    assert!(api::statistics(&conn, &ctx(), &r).unwrap().is_empty());
}

fn ctx_at(now_secs: f64) -> crate::CallContext {
    crate::context::root_call_at(now_secs)
}

#[test]
fn old_data_is_held_at_coarser_resolutions_and_then_expires() {
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    let conn = cairn_store::in_memory().unwrap();
    let now = 1_000 * DAY;
    let one = StatSet::repeated(1.0, 1.0);
    // High-resolution points 1 and 5 hours old; minute points 20, 100 and 460 days old.
    for (age, resolution) in [
        (HOUR, 1),
        (5 * HOUR, 1),
        (20 * DAY, 60),
        (100 * DAY, 60),
        (460 * DAY, 60),
    ] {
        put_stats(&conn, &key(&[]), now - age, one, "Count", resolution).unwrap();
    }
    let found = |age: i64, period: i64| {
        let r = api::StatsRequest {
            start_ms: now - age - HOUR,
            end_ms: now - age + HOUR,
            period,
            ..request(&["SampleCount"], None)
        };
        api::statistics(&conn, &ctx_at((now / 1000) as f64), &r)
            .unwrap()
            .len()
    };
    assert_eq!((found(HOUR, 10), found(HOUR, 60)), (1, 1));
    assert_eq!((found(5 * HOUR, 10), found(5 * HOUR, 60)), (0, 1));
    assert_eq!((found(20 * DAY, 60), found(20 * DAY, 300)), (0, 1));
    assert_eq!((found(100 * DAY, 300), found(100 * DAY, 3600)), (0, 1));
    assert_eq!(found(460 * DAY, 3600), 0, "past 455 days nothing is held");
}

#[test]
fn a_range_of_exactly_1440_periods_is_allowed() {
    let conn = cairn_store::in_memory().unwrap();
    let day = 86_400_000;
    let r = |end_ms: i64, period: i64| api::StatsRequest {
        start_ms: 0,
        end_ms,
        period,
        ..request(&["Sum"], None)
    };
    let at = ctx_at(2.0 * day as f64 / 1000.0);
    assert!(api::statistics(&conn, &at, &r(day, 60)).is_ok());
    let err = api::statistics(&conn, &at, &r(day + 60_000, 60)).unwrap_err();
    assert!(
        err.message.contains("up to 1441 datapoints"),
        "{}",
        err.message
    );
    let err = api::statistics(&conn, &at, &r(day, 1)).unwrap_err();
    assert!(
        err.message.contains("up to 86400 datapoints"),
        "{}",
        err.message
    );
}

#[test]
fn get_metric_data_reads_a_series_once_and_stops_at_its_budget() {
    let conn = cairn_store::in_memory().unwrap();
    for k in 0..100 {
        put(&conn, &key(&[]), 60_000 + k * 1_000, k as f64, "Count").unwrap();
    }
    let mut cache = api::SeriesCache::with_budget(150);
    let sum = cache
        .series(&conn, &ctx(), &request(&["Sum"], None))
        .unwrap();
    assert_eq!(sum[0].values, vec![("Sum".into(), 4950.0)]);
    // Another statistic of the same series reads nothing more, so the budget still allows
    // one more read (another period) and then refuses.
    for stat in ["Maximum", "p50", "SampleCount"] {
        cache
            .series(&conn, &ctx(), &request(&[stat], None))
            .unwrap();
    }
    let mut other = request(&["Sum"], None);
    other.period = 600;
    assert_eq!(cache.series(&conn, &ctx(), &other).unwrap().len(), 1);
    other.period = 300;
    let e = cache.series(&conn, &ctx(), &other).unwrap_err();
    assert_eq!(e.kind, crate::ErrorKind::CwInvalidParameterCombination);
    assert!(
        e.message.contains("more than 150 stored datapoints"),
        "{}",
        e.message
    );
}

#[test]
fn dimension_names_and_values_follow_the_models_character_rules() {
    let one = |n: &str, v: &str| api::check_dimensions(&[(n.to_owned(), v.to_owned())]);
    assert!(one("Host", "i-123 a").is_ok());
    for (n, v) in [
        (":x", "v"),
        ("   ", "v"),
        ("é", "v"),
        ("n", "   "),
        ("n", "é"),
    ] {
        let e = one(n, v).unwrap_err();
        assert_eq!(
            e.kind,
            crate::ErrorKind::CwInvalidParameterValue,
            "{n:?} {v:?}"
        );
    }
    // A colon inside a name, or at the start of a value, is fine.
    assert!(one("a:b", ":v").is_ok());
}

/// hostile17 F3: a point keeping 150 values counts as 150 read, and a query without the
/// values (what a Sum or Average alarm needs) reads the totals only, with the same totals.
#[test]
fn values_count_in_what_a_query_reads_and_totals_need_none() {
    let conn = cairn_store::in_memory().unwrap();
    let dims = vec![("A".to_owned(), "1".to_owned())];
    let values: Vec<(f64, f64)> = (0..150).map(|v| (v as f64, 2.0)).collect();
    super::put_values(&conn, &key(&dims), 60_000, &values, "Count", 60).unwrap();
    let mut q = MetricQuery {
        metric: key(&dims),
        start_ms: 0,
        end_ms: 120_000,
        period_secs: 60,
        unit: None,
        values: true,
    };
    let (with, read) = super::query_counted(&conn, &q, None).unwrap();
    assert_eq!(read, 150);
    assert_eq!(with[0].values.len(), 150);
    q.values = false;
    let (totals, read) = super::query_counted(&conn, &q, None).unwrap();
    assert_eq!(read, 1);
    assert_eq!(totals[0].stats, with[0].stats);
    assert_eq!(totals[0].stats.sample_count, 300.0);
}
