//! StopLogging and StartLogging close to each other: a log file never spans the two logging
//! windows, the stopped chain's final digest lists the file with the StopLogging event, and
//! the next chain starts with the events from the StartLogging on, whatever the timing of
//! the delivery steps (one step after both, one between them, a new worker between them as
//! after a crash). While a trail is stopped, no digest follows the final one.

use cairn_model::trail::LoggingWindow;
use cairn_store::{delivery, trails};
use serde_json::Value;

use crate::support::{ACCOUNT, Fixture, REGION, cloudtrail_policy, step};

const BUCKET: &str = "ss-bucket";

fn stop(f: &Fixture, at: f64) -> String {
    f.store
        .write_blocking(move |c| {
            let mut t = trails::get(c, ACCOUNT, REGION, "ss").unwrap().unwrap();
            let next = delivery::max_seq(c).unwrap() + 1;
            let validation = t.log_file_validation_enabled;
            t.status.stopped(at, next, validation);
            trails::put(c, &t).unwrap();
        })
        .unwrap();
    f.events(1, 10).remove(0)
}

fn start(f: &Fixture, at: f64) -> String {
    f.store
        .write_blocking(move |c| {
            let mut t = trails::get(c, ACCOUNT, REGION, "ss").unwrap().unwrap();
            let next = delivery::max_seq(c).unwrap() + 1;
            t.status.is_logging = true;
            t.status.start_logging_time = Some(at);
            t.status.windows.push(LoggingWindow {
                start_seq: next,
                end_seq: None,
            });
            trails::put(c, &t).unwrap();
        })
        .unwrap();
    f.events(1, 10).remove(0)
}

/// (key, document) of every digest, oldest first.
fn digests(f: &Fixture) -> Vec<(String, Value)> {
    f.objects(BUCKET, &format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/"))
        .into_iter()
        .map(|(k, body)| (k, serde_json::from_slice(&body).unwrap()))
        .collect()
}

fn listed(digest: &Value) -> Vec<String> {
    digest["logFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["s3Object"].as_str().unwrap().to_owned())
        .collect()
}

/// Where delivery steps fall relative to the stop and the start.
#[derive(Clone, Copy, Debug)]
enum Timing {
    /// One step after both (within one delivery interval).
    AfterBoth,
    /// A step between the stop and the start.
    Between,
    /// A new worker (a restart, or a crash) between the stop and the start, no step.
    NewWorkerBetween,
}

fn stop_and_start(timing: Timing) {
    let f = Fixture::new();
    f.bucket(BUCKET, Some(cloudtrail_policy(BUCKET)));
    f.trail("ss", BUCKET, true);
    let before = f.events(2, 10);
    let mut d = f.delivery();
    step(&d, f.t0 + 30.0, true);
    assert_eq!(digests(&f).len(), 1, "{timing:?}: the first digest");
    let mid = f.events(1, 10);
    let stop_event = stop(&f, f.t0 + 40.5);
    match timing {
        Timing::AfterBoth => {}
        Timing::Between => {
            step(&d, f.t0 + 41.7, false);
        }
        Timing::NewWorkerBetween => d = f.delivery(),
    }
    let start_event = start(&f, f.t0 + 43.2);
    let after = f.events(2, 10);
    step(&d, f.t0 + 60.0, false);
    step(&d, f.t0 + 61.0, false);
    step(&d, f.t0 + 3700.0, false);

    let old: Vec<&String> = before.iter().chain(&mid).chain([&stop_event]).collect();
    let new: Vec<&String> = [&start_event].into_iter().chain(&after).collect();
    let files = f.log_files(BUCKET);
    for (key, ids) in &files {
        let in_old = ids.iter().any(|id| old.contains(&id));
        let in_new = ids.iter().any(|id| new.contains(&id));
        assert!(
            !(in_old && in_new),
            "{timing:?}: {key} spans the stop and the start: {ids:?}"
        );
    }
    let file_of = |id: &String| {
        files
            .iter()
            .find(|(_, ids)| ids.contains(id))
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| panic!("{timing:?}: event {id} delivered"))
    };
    let chain = digests(&f);
    let keys: Vec<&String> = chain.iter().map(|(k, _)| k).collect();
    assert_eq!(
        chain.len(),
        3,
        "{timing:?}: first, final, next chain: {keys:?}"
    );
    let (first, fin, next) = (&chain[0], &chain[1], &chain[2]);
    assert_eq!(
        fin.1["previousDigestS3Object"].as_str(),
        Some(first.0.as_str()),
        "{timing:?}"
    );
    assert!(
        listed(&fin.1).contains(&file_of(&stop_event)),
        "{timing:?}: the final digest lists the stop"
    );
    assert!(listed(&fin.1).contains(&file_of(&mid[0])), "{timing:?}");
    let stop_iso = cairn_logfile::iso_seconds((f.t0 + 40.5) as i64);
    assert!(
        fin.1["digestStartTime"].as_str().unwrap() <= stop_iso.as_str(),
        "{timing:?}"
    );
    assert!(
        fin.1["digestEndTime"].as_str().unwrap() >= stop_iso.as_str(),
        "{timing:?}: its period holds the stop"
    );
    assert_eq!(
        next.1["previousDigestS3Object"],
        Value::Null,
        "{timing:?}: a new chain"
    );
    assert_eq!(
        next.1["digestStartTime"].as_str().unwrap(),
        cairn_logfile::iso_seconds((f.t0 + 43.2) as i64),
        "{timing:?}: it starts at the StartLogging"
    );
    let mut next_files = listed(&next.1);
    next_files.sort();
    let mut expected: Vec<String> = new.iter().map(|id| file_of(id)).collect();
    expected.sort();
    expected.dedup();
    assert_eq!(
        next_files, expected,
        "{timing:?}: the next chain lists the events after the start"
    );
}

#[test]
fn a_stop_and_start_in_one_delivery_interval_end_the_chain_with_its_final_digest() {
    stop_and_start(Timing::AfterBoth);
}

#[test]
fn a_step_between_the_stop_and_the_start_keeps_the_chains_apart() {
    stop_and_start(Timing::Between);
}

#[test]
fn a_restart_between_the_stop_and_the_start_keeps_the_chains_apart() {
    stop_and_start(Timing::NewWorkerBetween);
}

/// The final digest written in the second of the stop, but after it, is the last one: no
/// digest of the stopped chain follows while the trail is stopped.
#[test]
fn no_digest_follows_the_final_one_while_stopped() {
    let f = Fixture::new();
    f.bucket(BUCKET, Some(cloudtrail_policy(BUCKET)));
    f.trail("ss", BUCKET, true);
    f.events(2, 10);
    let d = f.delivery();
    step(&d, f.t0 + 30.0, true);
    stop(&f, f.t0 + 40.4);
    step(&d, f.t0 + 40.8, false);
    let chain = digests(&f);
    assert_eq!(chain.len(), 2, "the final digest");
    for later in [42.0, 100.0, 3700.0, 9000.0] {
        step(&d, f.t0 + later, true);
    }
    let keys: Vec<String> = digests(&f).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 2, "no digest after the final one: {keys:?}");
}
