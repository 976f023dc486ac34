//! Log files are bounded by bytes as well as by event count.

use crate::support::{Fixture, cloudtrail_policy, step};

#[test]
fn large_events_are_split_into_files_of_bounded_size() {
    let f = Fixture::new();
    f.bucket("bkt", Some(cloudtrail_policy("bkt")));
    f.trail("big", "bkt", true);
    // 120 records of about 90 KB (requestParameters stay under AWS's 100 KB bound, so they
    // are kept whole): 10.8 MB of JSON, more than one file may hold.
    let ids = f.events(120, 90_000);
    let d = f.delivery();
    let mut now = f.t0 + 10.0;
    while f.delivered("bkt").len() < ids.len() && now < f.t0 + 100.0 {
        step(&d, now, false);
        now += 1.0;
    }
    let files = f.objects("bkt", "AWSLogs/123456789012/CloudTrail/");
    assert!(files.len() >= 2, "{} file(s)", files.len());
    for (key, body) in &files {
        assert!(
            body.len() <= cairn_delivery::DEFAULT_MAX_FILE_BYTES,
            "{key} holds {} bytes",
            body.len()
        );
    }
    let mut got = f.delivered("bkt");
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want, "every event once");
}
