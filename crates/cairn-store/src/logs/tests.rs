//! Store-level checks of the logs tables.

use super::*;
use crate::logs::{events, filters, streams};

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
    assert!(
        events::in_group(&conn, g, None, None, None, None, 10)
            .unwrap()
            .is_empty()
    );
    assert!(filters::of_group(&conn, g).unwrap().is_empty());
}
