//! Datapoint store checks: periods, statistics, percentiles, dimension identity.

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
