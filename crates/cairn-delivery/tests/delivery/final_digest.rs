//! StopLogging ends a trail's digest chain with a final digest whose period holds the stop,
//! even when no log file came since the last digest (spec §5.6); then digests stop.

use cairn_store::{delivery, trails};

use crate::support::{ACCOUNT, Fixture, REGION, cloudtrail_policy, step};

#[test]
fn a_stop_without_new_files_still_gets_its_final_digest() {
    let f = Fixture::new();
    f.bucket("f-bucket", Some(cloudtrail_policy("f-bucket")));
    f.trail("final", "f-bucket", true);
    f.events(2, 10);
    let d = f.delivery();
    step(&d, f.t0 + 3610.0, false);
    assert_eq!(f.digests("f-bucket").len(), 1, "the hourly digest");
    // Logging stops with no event of its own for the trail to deliver.
    let stopped = f.t0 + 4000.0;
    f.store
        .write_blocking(move |c| {
            let mut t = trails::get(c, ACCOUNT, REGION, "final").unwrap().unwrap();
            let last = delivery::max_seq(c).unwrap();
            t.status.is_logging = false;
            t.status.stop_logging_time = Some(stopped);
            t.status.windows.last_mut().unwrap().end_seq = Some(last);
            trails::put(c, &t).unwrap();
        })
        .unwrap();
    step(&d, stopped + 100.0, false);
    let keys = f.digests("f-bucket");
    assert_eq!(keys.len(), 2, "the final digest: {keys:?}");
    let end = cairn_logfile::keys::digest(
        None,
        ACCOUNT,
        REGION,
        "final",
        REGION,
        (stopped + 100.0) as i64,
    );
    assert_eq!(keys[1], end);
    step(&d, stopped + 9000.0, false);
    assert_eq!(
        f.digests("f-bucket").len(),
        2,
        "no digest after the final one"
    );
}
