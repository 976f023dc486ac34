//! Store-level checks of the logs tables.

use super::*;
use crate::logs::{events, filters, purge, streams};

fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    crate::schema::configure(&conn).unwrap();
    crate::schema::migrate(&conn).unwrap();
    conn
}

fn group(conn: &Connection, name: &str) -> i64 {
    create_group(
        conn,
        &NewGroup {
            account: "123456789012",
            region: "us-east-1",
            name,
            created: 1,
            kms_key_id: None,
            class: "STANDARD",
            deletion_protection: false,
        },
    )
    .unwrap()
    .unwrap()
}

#[test]
fn groups_are_unique_and_listed_in_byte_order() {
    let conn = db();
    let a = group(&conn, "b/app");
    group(&conn, "B/app");
    group(&conn, "a_x");
    assert!(
        create_group(
            &conn,
            &NewGroup {
                account: "123456789012",
                region: "us-east-1",
                name: "b/app",
                created: 2,
                kms_key_id: None,
                class: "STANDARD",
                deletion_protection: false
            }
        )
        .unwrap()
        .is_none()
    );
    let all = list_groups(
        &conn,
        "123456789012",
        "us-east-1",
        &GroupFilter::default(),
        None,
        50,
    )
    .unwrap();
    let names: Vec<_> = all.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["B/app", "a_x", "b/app"]);
    let f = GroupFilter {
        prefix: Some("b"),
        ..Default::default()
    };
    let some = list_groups(&conn, "123456789012", "us-east-1", &f, None, 50).unwrap();
    assert_eq!(some.len(), 1, "prefixes are case-sensitive");
    let f = GroupFilter {
        pattern: Some("_"),
        ..Default::default()
    };
    let some = list_groups(&conn, "123456789012", "us-east-1", &f, None, 50).unwrap();
    assert_eq!(some.len(), 1, "LIKE wildcards are escaped");
    put_tags(
        &conn,
        a,
        &[("k".into(), "v".into()), ("k2".into(), "v2".into())],
    )
    .unwrap();
    remove_tags(&conn, a, &["k".into()]).unwrap();
    assert_eq!(tags(&conn, a).unwrap(), vec![("k2".into(), "v2".into())]);
}

#[test]
fn events_page_by_time_and_id_and_expire() {
    let conn = db();
    let g = group(&conn, "g");
    let s = streams::create(&conn, g, "s", 1).unwrap().unwrap();
    let s2 = streams::create(&conn, g, "t", 1).unwrap().unwrap();
    events::append(&conn, g, s, &[(10, "a"), (10, "b"), (20, "c")], 100).unwrap();
    events::append(&conn, g, s2, &[(15, "x")], 101).unwrap();
    let st = streams::get(&conn, g, "s").unwrap().unwrap();
    assert_eq!(
        (st.first_event, st.last_event, st.last_ingestion),
        (Some(10), Some(20), Some(100))
    );
    assert_eq!(st.stored_bytes, 3);
    let head = events::in_stream(&conn, s, None, None, events::From::Head, 2).unwrap();
    assert_eq!(
        head.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let last = &head[1];
    let next = events::in_stream(
        &conn,
        s,
        None,
        None,
        events::From::After(last.timestamp, last.id),
        10,
    )
    .unwrap();
    assert_eq!(next.len(), 1);
    let tail = events::in_stream(&conn, s, None, Some(20), events::From::Tail, 10).unwrap();
    assert_eq!(
        tail.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
    let all = events::in_group(&conn, g, None, None, None, None, 10).unwrap();
    assert_eq!(
        all.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
        ["a", "b", "x", "c"]
    );
    let only = events::in_group(&conn, g, Some(11), Some(20), None, Some(&[s]), 10).unwrap();
    assert_eq!(
        only.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
        ["c"]
    );
    assert_eq!(events::expire(&conn, g, 15, 100).unwrap(), 2);
    assert_eq!(
        get_group(&conn, "123456789012", "us-east-1", "g")
            .unwrap()
            .unwrap()
            .stored_bytes,
        2
    );
    filters::put(&conn, g, "f", "ERROR", "{}", 5).unwrap();
    assert_eq!(
        get_group(&conn, "123456789012", "us-east-1", "g")
            .unwrap()
            .unwrap()
            .metric_filter_count,
        1
    );
    delete_group(&conn, g).unwrap();
    assert_eq!(purge::step(&conn, 100).unwrap(), 2);
    assert!(
        events::in_group(&conn, g, None, None, None, None, 10)
            .unwrap()
            .is_empty()
    );
    assert!(filters::of_group(&conn, g).unwrap().is_empty());
}

/// hostile16 F2: deleting a group or stream removes it at once but leaves its events to the
/// batched purge, and no new group or stream takes the id of one whose events are pending.
#[test]
fn deleted_groups_and_streams_are_purged_in_batches() {
    let conn = db();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let g = group(&conn, "big");
    let (s1, s2) = (
        streams::create(&conn, g, "one", 1).unwrap().unwrap(),
        streams::create(&conn, g, "two", 1).unwrap().unwrap(),
    );
    let msgs: Vec<(i64, String)> = (0..10).map(|i| (i, format!("m{i}"))).collect();
    let refs: Vec<(i64, &str)> = msgs.iter().map(|(t, m)| (*t, m.as_str())).collect();
    events::append(&conn, g, s1, &refs, 5).unwrap();
    events::append(&conn, g, s2, &refs, 5).unwrap();
    // The stream goes at once; its events wait for the purge.
    streams::delete(&conn, s2).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM log_events"), 20);
    let read = events::in_group(&conn, g, None, None, None, None, 100).unwrap();
    assert_eq!(read.len(), 10);
    assert!(read.iter().all(|e| e.stream_id == s1));
    // Retention leaves them out too, so their bytes are not taken off the group twice
    // (recheck36).
    assert_eq!(events::bytes_before(&conn, g, i64::MAX).unwrap(), 20);
    let again = streams::create(&conn, g, "two", 2).unwrap().unwrap();
    assert!(
        again > s2,
        "a stream with events pending purge keeps its id"
    );
    assert!(
        events::in_stream(&conn, again, None, None, events::From::Head, 100)
            .unwrap()
            .is_empty()
    );
    // The group goes at once too; a new group of its name starts empty under a new id.
    delete_group(&conn, g).unwrap();
    let g2 = group(&conn, "big");
    assert!(g2 > g);
    let s3 = streams::create(&conn, g2, "one", 3).unwrap().unwrap();
    assert!(s3 > again);
    assert!(
        events::in_group(&conn, g2, None, None, None, None, 100)
            .unwrap()
            .is_empty()
    );
    assert_eq!(purge::pending(&conn).unwrap(), 2);
    // Each step deletes at most its batch.
    assert_eq!(purge::step(&conn, 7).unwrap(), 7);
    assert_eq!(count("SELECT COUNT(*) FROM log_events"), 13);
    assert_eq!(purge::step(&conn, 7).unwrap(), 7);
    assert_eq!(purge::step(&conn, 7).unwrap(), 6);
    assert_eq!(count("SELECT COUNT(*) FROM log_events"), 0);
    assert_eq!(purge::pending(&conn).unwrap(), 0);
    assert_eq!(purge::step(&conn, 7).unwrap(), 0);
}
