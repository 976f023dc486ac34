//! Tests of the delivery ledger.

use cairn_model::trail::{EventSelector, LoggingWindow, Selectors, TrailStatus};

use super::*;
use crate::Store;

fn trail(windows: Vec<LoggingWindow>, validation: bool) -> Trail {
    Trail {
        name: "t".into(),
        account: "123456789012".into(),
        home_region: "us-east-1".into(),
        s3_bucket_name: "b".into(),
        s3_key_prefix: None,
        sns_topic_arn: None,
        include_global_service_events: true,
        is_multi_region_trail: false,
        log_file_validation_enabled: validation,
        cloud_watch_logs_log_group_arn: None,
        cloud_watch_logs_role_arn: None,
        kms_key_id: None,
        is_organization_trail: false,
        selectors: Selectors::Basic(vec![EventSelector::default_all_management()]),
        has_custom_event_selectors: false,
        insight_selectors: vec![],
        tags: vec![],
        status: TrailStatus {
            is_logging: windows.last().is_some_and(|w| w.end_seq.is_none()),
            start_logging_time: Some(1.0),
            windows,
            ..Default::default()
        },
        created_at: 0.0,
    }
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db")).unwrap();
    (dir, store)
}

fn window(start: i64, end: Option<i64>) -> LoggingWindow {
    LoggingWindow {
        start_seq: start,
        end_seq: end,
    }
}

#[test]
fn a_deleted_trail_drains_under_its_own_identity_then_goes() {
    let (_dir, store) = open();
    store
        .write_blocking(|c| {
            let t = trail(vec![window(5, None)], true);
            let arn = t.arn();
            crate::trails::put(c, &t).unwrap();
            set_cursor(c, &arn, 7).unwrap();
            let pending = plan(c, &arn, "us-east-1", "b", "k1", &[6, 7]).unwrap();
            let id = retire_trail(c, &t, 10, 99.0).unwrap().expect("retired");
            assert_eq!(
                cursor(c, &arn).unwrap(),
                None,
                "a new trail of the name starts fresh"
            );
            let r = retired(c).unwrap();
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].cursor, 7);
            assert_eq!(r[0].trail.status.windows, vec![window(5, Some(10))]);
            assert!(!r[0].trail.status.is_logging);
            let rows = pending_rows(c);
            assert_eq!(
                rows,
                vec![(pending, Some(id))],
                "outstanding rows follow the retired trail"
            );
            assert!(
                !finish_retired(c, id).unwrap(),
                "events 8..=10 are not planned yet"
            );
            set_retired_cursor(c, id, 10).unwrap();
            assert!(!finish_retired(c, id).unwrap(), "a file is still pending");
            mark_done(c, pending, "h", "a", "b", 100.0).unwrap();
            assert!(
                !finish_retired(c, id).unwrap(),
                "validation on: not digested yet"
            );
            assert_eq!(
                undigested(c, &arn, None, "us-east-1", 200.0, None).unwrap(),
                vec![]
            );
            assert_eq!(
                undigested(c, &arn, Some(id), "us-east-1", 200.0, None)
                    .unwrap()
                    .len(),
                1
            );
            mark_digested(c, &[pending], 150.0).unwrap();
            assert!(
                !finish_retired(c, id).unwrap(),
                "the deletion's final digest is owed"
            );
            update_retired_trail(c, id, |t| {
                let f = &mut t.status.owed_finals[0];
                assert_eq!((f.end_seq, f.stop_time), (10, 99.0));
                f.written.insert("us-east-1".into());
            })
            .unwrap();
            assert!(finish_retired(c, id).unwrap());
            assert!(retired(c).unwrap().is_empty());
        })
        .unwrap();
}

fn pending_rows(c: &Connection) -> Vec<(i64, Option<i64>)> {
    pending(c)
        .unwrap()
        .into_iter()
        .map(|d| (d.id, d.retired))
        .collect()
}

#[test]
fn a_trail_with_nothing_left_is_not_retired() {
    let (_dir, store) = open();
    store
        .write_blocking(|c| {
            assert_eq!(retire_trail(c, &trail(vec![], true), 3, 1.0).unwrap(), None);
            let stopped = trail(vec![window(2, Some(4))], false);
            set_cursor(c, &stopped.arn(), 4).unwrap();
            assert_eq!(retire_trail(c, &stopped, 9, 1.0).unwrap(), None);
        })
        .unwrap();
}

#[test]
fn the_retention_floor_is_the_oldest_event_delivery_still_needs() {
    let (_dir, store) = open();
    store
        .write_blocking(|c| {
            assert_eq!(retention_floor(c).unwrap(), None);
            let logging = trail(vec![window(20, None)], false);
            crate::trails::put(c, &logging).unwrap();
            assert_eq!(retention_floor(c).unwrap(), Some(20), "never planned");
            set_cursor(c, &logging.arn(), 30).unwrap();
            assert_eq!(retention_floor(c).unwrap(), Some(31));
            plan(c, "other", "us-east-1", "b", "k", &[12, 13]).unwrap();
            assert_eq!(
                retention_floor(c).unwrap(),
                Some(12),
                "a pending file's events"
            );
        })
        .unwrap();
}

#[test]
fn scans_stream_in_order_and_stop_on_request() {
    let (_dir, store) = open();
    store
        .write_blocking(|c| {
            for i in 0..5 {
                c.execute(
                    "INSERT INTO events (event_id, event_time, account, region, category, event_name,
                         event_source, read_only, username, access_key_id, record)
                     VALUES (?1, 1, 'a', 'r', 'Management', 'n', 's', 'true', 'u', 'k', ?2)",
                    params![format!("e{i}"), format!("{{\"i\":{i}}}")],
                )
                .unwrap();
            }
            c.execute("UPDATE events SET record = x'ff' WHERE seq = 2", [])
                .unwrap();
            let mut seen = Vec::new();
            scan_events(c, 0, 5, |seq, record| {
                seen.push((seq, record.map(str::to_owned)));
                seq < 3
            })
            .unwrap();
            assert_eq!(
                seen,
                vec![
                    (1, Some("{\"i\":0}".into())),
                    (2, None),
                    (3, Some("{\"i\":2}".into()))
                ]
            );
            let mut got = Vec::new();
            records_of(c, &[1, 3, 9], |seq, _| got.push(seq)).unwrap();
            assert_eq!(
                got,
                vec![1, 3],
                "missing seqs are left out for the caller to see"
            );
        })
        .unwrap();
}

#[test]
fn max_seq_never_goes_below_an_assigned_seq() {
    let (_dir, store) = open();
    store
        .write_blocking(|c| {
            assert_eq!(max_seq(c).unwrap(), 0);
            // As an AUTOINCREMENT events table leaves it after retention emptied it.
            c.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('events', 41)",
                [],
            )
            .unwrap();
            assert_eq!(max_seq(c).unwrap(), 41);
        })
        .unwrap();
}

#[test]
fn a_damaged_seq_list_is_reported_not_emptied() {
    assert_eq!(decode_seqs("[1,2,3]"), Ok(vec![1, 2, 3]));
    for bad in ["[1,2,", "[]", "[3,2]", "[1,1]", "\"x\""] {
        assert!(decode_seqs(bad).is_err(), "{bad}");
    }
}

#[test]
fn racing_key_creators_keep_the_first_key() {
    let (_dir, store) = open();
    let key = |fp: &str, from: f64| SigningKey {
        fingerprint: fp.into(),
        region: "us-east-1".into(),
        public_der: vec![1],
        private_file: format!("{fp}.pk8"),
        valid_from: from,
        valid_to: from + 100.0,
    };
    store
        .write_blocking(move |c| {
            assert_eq!(
                insert_key_if_none(c, &key("a", 10.0)).unwrap().fingerprint,
                "a"
            );
            assert_eq!(
                insert_key_if_none(c, &key("b", 11.0)).unwrap().fingerprint,
                "a"
            );
            assert_eq!(
                insert_key_if_none(c, &key("c", 120.0)).unwrap().fingerprint,
                "c"
            );
        })
        .unwrap();
}
