//! Turning log file validation off ends the digest chain with one last digest: for the log
//! files delivered while it was on, and a final one for a stop that came before the change.
//! The files delivered while it is off are in no digest, and a new chain (validation on
//! again) lists only its own files.

use cairn_model::trail::Trail;
use cairn_store::{delivery, trails};

use crate::support::{ACCOUNT, Fixture, REGION, cloudtrail_policy, step};

fn update(f: &Fixture, name: &str, change: impl FnOnce(&mut Trail) + Send + 'static) {
    let name = name.to_owned();
    f.store
        .write_blocking(move |c| {
            let mut t = trails::get(c, ACCOUNT, REGION, &name).unwrap().unwrap();
            change(&mut t);
            trails::put(c, &t).unwrap();
        })
        .unwrap();
}

/// UpdateTrail's change, as `cairn_core::trails` makes it.
fn set_validation(f: &Fixture, name: &str, on: bool, at: f64) {
    update(f, name, move |t| {
        if on && !t.log_file_validation_enabled {
            t.status.validation_enabled_time = Some(at);
        }
        if !on && t.log_file_validation_enabled {
            t.status.validation_turned_off(at);
        }
        t.log_file_validation_enabled = on;
    });
}

/// (key, digest JSON) of every digest in the bucket, in key order.
fn digests(f: &Fixture, bucket: &str) -> Vec<(String, serde_json::Value)> {
    f.objects(bucket, &format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/"))
        .into_iter()
        .map(|(k, body)| (k, serde_json::from_slice(&body).unwrap()))
        .collect()
}

fn listed(digest: &serde_json::Value) -> Vec<String> {
    digest["logFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["s3Object"].as_str().unwrap().to_owned())
        .collect()
}

fn log_keys(f: &Fixture, bucket: &str) -> Vec<String> {
    f.log_files(bucket).into_iter().map(|(k, _)| k).collect()
}

#[test]
fn a_stop_then_turning_validation_off_still_gets_its_final_digest() {
    let f = Fixture::new();
    f.bucket("s-bucket", Some(cloudtrail_policy("s-bucket")));
    f.trail("stopoff", "s-bucket", true);
    f.events(2, 10);
    let d = f.delivery();
    step(&d, f.t0 + 3610.0, false);
    assert_eq!(digests(&f, "s-bucket").len(), 1, "the hourly digest");
    let stopped = f.t0 + 4000.0;
    let last = f.store.read_blocking(delivery::max_seq).unwrap();
    update(&f, "stopoff", move |t| {
        t.status.is_logging = false;
        t.status.stop_logging_time = Some(stopped);
        t.status.windows.last_mut().unwrap().end_seq = Some(last);
    });
    set_validation(&f, "stopoff", false, stopped + 3.0);
    step(&d, stopped + 10.0, false);
    let chain = digests(&f, "s-bucket");
    assert_eq!(chain.len(), 2, "the final digest: {chain:?}");
    // It ends when validation went off, not when it was written (guide5).
    let end = cairn_logfile::keys::digest(
        None,
        ACCOUNT,
        REGION,
        "stopoff",
        REGION,
        (stopped + 3.0) as i64,
    );
    assert_eq!(chain[1].0, end);
    assert_eq!(chain[1].1["previousDigestS3Object"], chain[0].0.as_str());
    step(&d, stopped + 9000.0, true);
    assert_eq!(digests(&f, "s-bucket").len(), 2, "no digest after it");
}

#[test]
fn files_delivered_before_validation_went_off_get_one_last_digest() {
    let f = Fixture::new();
    f.bucket("o-bucket", Some(cloudtrail_policy("o-bucket")));
    f.trail("off", "o-bucket", true);
    f.events(2, 10);
    let d = f.delivery();
    let t0 = f.t0;
    step(&d, t0 + 3610.0, false);
    assert_eq!(digests(&f, "o-bucket").len(), 1);
    f.events(2, 10);
    step(&d, t0 + 3700.0, false);
    let on_file = log_keys(&f, "o-bucket").pop().unwrap();
    set_validation(&f, "off", false, t0 + 3800.0);
    f.events(2, 10);
    step(&d, t0 + 3900.0, false);
    let off_file = log_keys(&f, "o-bucket").pop().unwrap();
    assert_ne!(on_file, off_file);
    assert_eq!(
        digests(&f, "o-bucket").len(),
        1,
        "the chain's period is not over"
    );
    step(&d, t0 + 7300.0, false);
    let chain = digests(&f, "o-bucket");
    assert_eq!(chain.len(), 2, "the chain's last digest: {chain:?}");
    assert_eq!(listed(&chain[1].1), [on_file]);
    assert_eq!(chain[1].1["previousDigestS3Object"], chain[0].0.as_str());
    f.events(2, 10);
    step(&d, t0 + 11000.0, true);
    assert_eq!(
        digests(&f, "o-bucket").len(),
        2,
        "no digest while it is off"
    );
    // On again: a new chain, listing only its own files.
    set_validation(&f, "off", true, t0 + 11100.0);
    f.events(2, 10);
    step(&d, t0 + 11200.0, true);
    let chain = digests(&f, "o-bucket");
    assert_eq!(chain.len(), 3, "{chain:?}");
    assert!(chain[2].1["previousDigestS3Object"].is_null());
    let new_file = log_keys(&f, "o-bucket").pop().unwrap();
    assert_eq!(listed(&chain[2].1), [new_file]);
    let undigested = f.sql("UPDATE deliveries SET id = id WHERE digest_end IS NULL");
    assert_eq!(undigested, 0, "every file is digested or exempt");
}

#[test]
fn validation_on_again_before_the_last_digest_ends_the_old_chain_first() {
    let f = Fixture::new();
    f.bucket("r-bucket", Some(cloudtrail_policy("r-bucket")));
    f.trail("again", "r-bucket", true);
    f.events(2, 10);
    let d = f.delivery();
    let t0 = f.t0;
    step(&d, t0 + 3610.0, false);
    f.events(2, 10);
    step(&d, t0 + 3700.0, false);
    let on_file = log_keys(&f, "r-bucket").pop().unwrap();
    set_validation(&f, "again", false, t0 + 3800.0);
    set_validation(&f, "again", true, t0 + 3850.0);
    f.events(2, 10);
    step(&d, t0 + 3900.0, false);
    let chain = digests(&f, "r-bucket");
    assert_eq!(chain.len(), 2, "the old chain's last digest: {chain:?}");
    assert_eq!(listed(&chain[1].1), [on_file]);
    assert_eq!(chain[1].1["previousDigestS3Object"], chain[0].0.as_str());
    let new_file = log_keys(&f, "r-bucket").pop().unwrap();
    step(&d, t0 + 3960.0, true);
    let chain = digests(&f, "r-bucket");
    assert_eq!(chain.len(), 3, "{chain:?}");
    assert!(
        chain[2].1["previousDigestS3Object"].is_null(),
        "a new chain"
    );
    assert_eq!(listed(&chain[2].1), [new_file]);
}

#[test]
fn turning_validation_off_with_no_file_since_the_last_digest_still_ends_the_chain() {
    let f = Fixture::new();
    f.bucket("e-bucket", Some(cloudtrail_policy("e-bucket")));
    f.trail("empty", "e-bucket", true);
    f.events(2, 10);
    let d = f.delivery();
    let t0 = f.t0;
    step(&d, t0 + 3610.0, false);
    assert_eq!(digests(&f, "e-bucket").len(), 1, "the hourly digest");
    set_validation(&f, "empty", false, t0 + 3800.0);
    step(&d, t0 + 7300.0, false);
    let chain = digests(&f, "e-bucket");
    assert_eq!(chain.len(), 2, "the closing digest: {chain:?}");
    assert!(listed(&chain[1].1).is_empty());
    assert_eq!(chain[1].1["previousDigestS3Object"], chain[0].0.as_str());
    let end =
        cairn_logfile::keys::digest(None, ACCOUNT, REGION, "empty", REGION, (t0 + 3800.0) as i64);
    assert_eq!(chain[1].0, end, "it ends when validation went off");
    step(&d, t0 + 11000.0, true);
    assert_eq!(digests(&f, "e-bucket").len(), 2, "one closing digest only");
}

/// digest6 D9: a stopped trail's chain ended with the stop's final digest; turning validation
/// off afterwards writes no digest more (the final digest's whole-second end is not "before"
/// a stop made later within the same second).
#[test]
fn turning_validation_off_on_a_stopped_trail_writes_no_digest_after_the_final_one() {
    let f = Fixture::new();
    f.bucket("so-bucket", Some(cloudtrail_policy("so-bucket")));
    f.trail("stopped-off", "so-bucket", true);
    f.events(2, 10);
    let d = f.delivery();
    step(&d, f.t0 + 3610.0, false);
    let stopped = f.t0 + 4000.4;
    let last = f.store.read_blocking(delivery::max_seq).unwrap();
    update(&f, "stopped-off", move |t| {
        t.status.stopped(stopped, last, true)
    });
    // Written within the stop's second, as a running server does at once.
    step(&d, stopped + 0.3, false);
    let chain = digests(&f, "so-bucket");
    assert_eq!(
        chain.len(),
        2,
        "the hourly digest and the stop's final one: {chain:?}"
    );
    set_validation(&f, "stopped-off", false, stopped + 3.0);
    step(&d, stopped + 10.0, false);
    step(&d, stopped + 9000.0, true);
    assert_eq!(
        digests(&f, "so-bucket"),
        chain,
        "no digest after the final one"
    );
}
