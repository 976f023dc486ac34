//! FilterLogEvents: every event, pages of at most 1 MB, patterns, and `startFromHead`
//! false (newest first, from 2024 on).

use super::ingest::ingest;
use super::read::{FilterEvents, FilteredPage, filter_log_events};
use super::tests::{NOW, ctx, ev, setup};
use super::*;

/// A FilterLogEvents request for every event of `group`.
pub(super) fn every_event(group: GroupKey) -> FilterEvents {
    FilterEvents {
        group,
        stream_names: None,
        stream_prefix: None,
        start: None,
        end: None,
        pattern: None,
        limit: None,
        after: None,
        newest_first: false,
    }
}

#[test]
fn filter_log_events_pages_hold_one_megabyte() {
    let (conn, key) = setup();
    let big = "m".repeat(400_000);
    for i in 0..5 {
        ingest(&conn, &key, "s1", &[ev(NOW + i, &big)], NOW).unwrap();
    }
    let mut input = every_event(key.clone());
    let mut pages = Vec::new();
    loop {
        let page = filter_log_events(&conn, &input).unwrap();
        pages.push(
            page.events
                .iter()
                .map(|e| e.0.timestamp)
                .collect::<Vec<_>>(),
        );
        match page.next {
            Some(next) => input.after = Some(next),
            None => break,
        }
    }
    let n = |i: i64| NOW + i;
    assert_eq!(pages, vec![vec![n(0), n(1)], vec![n(2), n(3)], vec![n(4)]]);
}

#[test]
fn filter_log_events_matches_and_pages() {
    let (conn, key) = setup();
    streams::create(&conn, &ctx(), &key, "s2").unwrap();
    ingest(
        &conn,
        &key,
        "s1",
        &[ev(NOW, "ERROR one"), ev(NOW + 2, "INFO two")],
        NOW,
    )
    .unwrap();
    ingest(&conn, &key, "s2", &[ev(NOW + 1, "ERROR three")], NOW).unwrap();
    let base = FilterEvents {
        group: key.clone(),
        stream_names: None,
        stream_prefix: None,
        start: None,
        end: None,
        pattern: Some("ERROR".into()),
        limit: Some(1),
        after: None,
        newest_first: false,
    };
    let p1 = filter_log_events(&conn, &base).unwrap();
    assert_eq!(p1.events[0].0.message, "ERROR one");
    let p2 = filter_log_events(
        &conn,
        &FilterEvents {
            after: p1.next,
            ..base.clone()
        },
    )
    .unwrap();
    assert_eq!(
        (p2.events[0].0.message.as_str(), p2.events[0].1.as_str()),
        ("ERROR three", "s2")
    );
    let p3 = filter_log_events(
        &conn,
        &FilterEvents {
            after: p2.next,
            ..base.clone()
        },
    )
    .unwrap();
    assert!(p3.events.is_empty() && p3.next.is_none());
    let only = filter_log_events(
        &conn,
        &FilterEvents {
            stream_prefix: Some("s1".into()),
            limit: None,
            pattern: None,
            ..base.clone()
        },
    )
    .unwrap();
    assert_eq!(only.events.len(), 2);
    let timed = filter_log_events(
        &conn,
        &FilterEvents {
            start: Some(NOW + 1),
            end: Some(NOW + 1),
            limit: None,
            pattern: None,
            ..base.clone()
        },
    )
    .unwrap();
    assert_eq!(timed.events.len(), 1);
    let bad = filter_log_events(
        &conn,
        &FilterEvents {
            pattern: Some("{ $.a = ".into()),
            ..base
        },
    )
    .unwrap_err();
    assert_eq!(bad.message, "Invalid metric filter pattern");
}

#[test]
fn filter_log_events_newest_first_pages_backwards() {
    let (conn, key) = setup();
    ingest(
        &conn,
        &key,
        "s1",
        &[ev(NOW, "a"), ev(NOW + 1, "b"), ev(NOW + 2, "c")],
        NOW,
    )
    .unwrap();
    let newest = FilterEvents {
        limit: Some(2),
        newest_first: true,
        ..every_event(key.clone())
    };
    let texts = |p: &FilteredPage| {
        p.events
            .iter()
            .map(|(e, _)| e.message.clone())
            .collect::<Vec<_>>()
    };
    let p1 = filter_log_events(&conn, &newest).unwrap();
    assert_eq!(texts(&p1), ["c", "b"]);
    let p2 = filter_log_events(
        &conn,
        &FilterEvents {
            after: p1.next,
            ..newest.clone()
        },
    )
    .unwrap();
    assert_eq!(texts(&p2), ["a"]);
    assert!(p2.next.is_none());
    // Before 2024 is refused, as the API reference says.
    let early = FilterEvents {
        start: Some(1_600_000_000_000),
        ..newest
    };
    assert!(filter_log_events(&conn, &early).is_err());
}
