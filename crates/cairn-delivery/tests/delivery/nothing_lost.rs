//! Damaged stored state stops the affected trail's delivery, visibly, and loses nothing.

use crate::support::{Fixture, cloudtrail_policy, step};

#[test]
fn an_unparsable_record_stops_its_trail_until_it_is_repaired() {
    let f = Fixture::new();
    f.bucket("bkt", Some(cloudtrail_policy("bkt")));
    f.trail("stopped", "bkt", false);
    let ids = f.events(5, 10);
    f.bucket("other-bkt", Some(cloudtrail_policy("other-bkt")));
    // This trail's window starts after the damaged record: it is not held back.
    f.trail("later", "other-bkt", false);
    let later = f.events(2, 10);
    let saved = f
        .store
        .read_blocking({
            let id = ids[2].clone();
            move |c| {
                Ok(
                    c.query_row("SELECT record FROM events WHERE event_id = ?1", [id], |r| {
                        r.get::<_, String>(0)
                    })?,
                )
            }
        })
        .unwrap();
    f.sql(&format!(
        "UPDATE events SET record = '{{\"eventID\": trunc' WHERE event_id = '{}'",
        ids[2]
    ));
    let d = f.delivery();
    step(&d, f.t0 + 10.0, false);
    assert_eq!(
        f.delivered("bkt"),
        ids[..2].to_vec(),
        "delivery stops before the damaged record"
    );
    assert_eq!(f.delivered("other-bkt"), later, "other trails go on");
    assert_eq!(
        f.status("stopped").latest_delivery_error.as_deref(),
        Some("InternalError"),
        "the stop is visible in GetTrailStatus"
    );
    step(&d, f.t0 + 400.0, false);
    assert_eq!(f.delivered("bkt"), ids[..2].to_vec(), "and stays stopped");

    let escaped = saved.replace('\'', "''");
    f.sql(&format!(
        "UPDATE events SET record = '{escaped}' WHERE event_id = '{}'",
        ids[2]
    ));
    step(&d, f.t0 + 800.0, false);
    let mut all = ids.clone();
    all.extend(later.iter().cloned());
    assert_eq!(
        f.delivered("bkt"),
        all,
        "once repaired, the record and everything after it is delivered"
    );
    assert!(f.status("stopped").latest_delivery_error.is_none());
}

/// Plans a file through the store (as the worker would) and returns its row id.
fn plan_by_hand(f: &Fixture, arn: &str, ids: &[String]) -> i64 {
    let (arn, ids) = (arn.to_owned(), ids.to_vec());
    f.store
        .write_blocking(move |c| {
            let mut seqs = Vec::new();
            for id in &ids {
                seqs.push(
                    c.query_row("SELECT seq FROM events WHERE event_id = ?1", [id], |r| {
                        r.get::<_, i64>(0)
                    })
                    .unwrap(),
                );
            }
            let last = *seqs.last().unwrap();
            let id = cairn_store::delivery::plan(
                c,
                &arn,
                "us-east-1",
                "bkt",
                "AWSLogs/123456789012/CloudTrail/us-east-1/2027/01/15/123456789012_CloudTrail_us-east-1_20270115T0800Z_handplannedfile0.json.gz",
                &seqs,
            )
            .unwrap();
            cairn_store::delivery::set_cursor(c, &arn, last).unwrap();
            id
        })
        .unwrap()
}

fn state(f: &Fixture, id: i64) -> String {
    f.store
        .read_blocking(move |c| {
            Ok(
                c.query_row("SELECT state FROM deliveries WHERE id = ?1", [id], |r| {
                    r.get::<_, String>(0)
                })?,
            )
        })
        .unwrap()
}

#[test]
fn an_undecodable_planned_file_is_neither_written_empty_nor_marked_done() {
    let f = Fixture::new();
    f.bucket("bkt", Some(cloudtrail_policy("bkt")));
    let arn = f.trail("planned", "bkt", false);
    let ids = f.events(3, 10);
    let id = plan_by_hand(&f, &arn, &ids);
    let saved = f
        .store
        .read_blocking(move |c| {
            Ok(
                c.query_row("SELECT seqs FROM deliveries WHERE id = ?1", [id], |r| {
                    r.get::<_, String>(0)
                })?,
            )
        })
        .unwrap();
    f.sql(&format!(
        "UPDATE deliveries SET seqs = '[1,2,' WHERE id = {id}"
    ));
    let d = f.delivery();
    step(&d, f.t0 + 10.0, false);
    assert!(f.log_files("bkt").is_empty(), "no empty file is written");
    assert_eq!(
        state(&f, id),
        "pending",
        "the planned file is not marked done"
    );
    assert_eq!(
        f.status("planned").latest_delivery_error.as_deref(),
        Some("InternalError")
    );
    f.sql(&format!(
        "UPDATE deliveries SET seqs = '{saved}' WHERE id = {id}"
    ));
    step(&d, f.t0 + 400.0, false);
    assert_eq!(f.delivered("bkt"), ids);
    assert_eq!(state(&f, id), "done");
}

#[test]
fn a_planned_file_whose_events_are_gone_is_not_written_short() {
    let f = Fixture::new();
    f.bucket("bkt", Some(cloudtrail_policy("bkt")));
    let arn = f.trail("short", "bkt", false);
    let ids = f.events(3, 10);
    let id = plan_by_hand(&f, &arn, &ids);
    f.sql(&format!("DELETE FROM events WHERE event_id = '{}'", ids[1]));
    step(&f.delivery(), f.t0 + 10.0, false);
    assert!(
        f.log_files("bkt").is_empty(),
        "a file missing one of its events is not written"
    );
    assert_eq!(state(&f, id), "pending");
    assert_eq!(
        f.status("short").latest_delivery_error.as_deref(),
        Some("InternalError")
    );
}
