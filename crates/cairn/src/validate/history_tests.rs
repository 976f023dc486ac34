//! Tests of event-history reading: other trails' validation-off spans and places.

use super::*;

fn call(time: i64, name: &str, validation: Option<bool>) -> Call {
    crate::validate::history::bare_call(time, name, validation)
}

/// recheck34 `bucketonly`: created elsewhere, moved into the bucket with no prefix named
/// (it keeps none), then off and on: it never delivered under the validated prefix.
fn b_moved_in_bucket_only() -> Vec<Call> {
    vec![
        Call {
            bucket: Some("other".to_owned()),
            prefix: Some(String::new()),
            ..call(0, "CreateTrail", Some(true))
        },
        Call {
            bucket: Some("shared".to_owned()),
            ..call(10, "UpdateTrail", None)
        },
        call(100, "UpdateTrail", Some(false)),
        call(110, "UpdateTrail", Some(true)),
    ]
}

#[test]
fn another_trail_here_with_validation_off_for_a_while_excuses_that_while() {
    // digest7 G2: B shares the place, turns validation off at 100 and on at 110.
    let placed = |time: i64, bucket: &str| Call {
        bucket: Some(bucket.to_owned()),
        prefix: Some(String::new()),
        ..call(time, "CreateTrail", Some(true))
    };
    let b = vec![
        placed(0, "shared"),
        call(1, "StartLogging", None),
        call(100, "UpdateTrail", Some(false)),
        call(110, "UpdateTrail", Some(true)),
    ];
    let started = ["b".to_owned(), "c".to_owned(), "d".to_owned()];
    let others = BTreeMap::from([("b".to_owned(), b.clone())]);
    assert_eq!(
        others_off(others, ("shared", None), &started, &[]),
        [(100, 111)]
    );
    // Elsewhere, never started, or never turned off: nothing excused here.
    let others = BTreeMap::from([("b".to_owned(), b.clone())]);
    assert_eq!(others_off(others, ("mine", None), &started, &[]), []);
    let others = BTreeMap::from([("b".to_owned(), b)]);
    assert_eq!(others_off(others, ("shared", None), &[], &[]), []);
    let c = vec![placed(0, "shared"), call(50, "StopLogging", None)];
    let others = BTreeMap::from([("c".to_owned(), c)]);
    assert_eq!(others_off(others, ("shared", None), &started, &[]), []);
    // Off from 20, deleted at 60: excused until its deletion only.
    let d = vec![
        placed(0, "shared"),
        call(1, "StartLogging", None),
        call(20, "UpdateTrail", Some(false)),
        call(60, "DeleteTrail", None),
    ];
    let others = BTreeMap::from([("d".to_owned(), d)]);
    assert_eq!(
        others_off(others, ("shared", None), &started, &[]),
        [(20, 61)]
    );
    // recheck35: validation turned off once it had stopped (it is stopped now): nothing it
    // delivered is unlisted.
    let off_when_stopped = vec![
        placed(0, "shared"),
        call(1, "StartLogging", None),
        call(2, "StopLogging", None),
        call(3, "UpdateTrail", Some(false)),
    ];
    let others = BTreeMap::from([("b".to_owned(), off_when_stopped.clone())]);
    assert_eq!(
        others_off(others, ("shared", None), &started, &["b".to_owned()]),
        []
    );
    // Started and stopped in one second, stopped now: not logging after it.
    let mut one_second = off_when_stopped;
    one_second[2].time = 1;
    let others = BTreeMap::from([("b".to_owned(), one_second)]);
    assert_eq!(
        others_off(others, ("shared", None), &started, &["b".to_owned()]),
        []
    );
    // recheck34: moved away before its validation went off; only in the bucket's other
    // prefix; deleted and re-created elsewhere: nothing excused here.
    let moved = vec![
        placed(0, "shared"),
        Call {
            bucket: Some("elsewhere".to_owned()),
            prefix: Some("b".to_owned()),
            ..call(10, "UpdateTrail", None)
        },
        call(100, "UpdateTrail", Some(false)),
        call(110, "UpdateTrail", Some(true)),
    ];
    let others = BTreeMap::from([("b".to_owned(), moved)]);
    assert_eq!(others_off(others, ("shared", Some("a")), &started, &[]), []);
    let others = BTreeMap::from([("b".to_owned(), b_moved_in_bucket_only())]);
    assert_eq!(others_off(others, ("shared", Some("a")), &started, &[]), []);
    let recreated = vec![
        placed(0, "shared"),
        call(20, "DeleteTrail", None),
        Call {
            validation: Some(false),
            ..placed(30, "elsewhere")
        },
        call(40, "UpdateTrail", Some(true)),
        call(50, "UpdateTrail", Some(false)),
    ];
    let others = BTreeMap::from([("b".to_owned(), recreated)]);
    assert_eq!(others_off(others, ("shared", None), &started, &[]), []);
    // Moved here at 105, while off: excused from the move on.
    let moved_in = vec![
        placed(0, "elsewhere"),
        call(1, "StartLogging", None),
        call(100, "UpdateTrail", Some(false)),
        Call {
            bucket: Some("shared".to_owned()),
            ..call(105, "UpdateTrail", None)
        },
        call(110, "UpdateTrail", Some(true)),
    ];
    let others = BTreeMap::from([("b".to_owned(), moved_in)]);
    assert_eq!(
        others_off(others, ("shared", None), &started, &[]),
        [(105, 111)]
    );
    // Never validated: the unvalidated-sharer notice covers it, not this.
    let e = vec![Call {
        validation: Some(false),
        ..placed(0, "shared")
    }];
    let others = BTreeMap::from([("d".to_owned(), e)]);
    assert_eq!(others_off(others, ("shared", None), &started, &[]), []);
}

#[test]
fn a_stop_while_the_trail_delivered_elsewhere_is_not_judged_here() {
    let placed = |time: i64, name: &str, prefix: &str| Call {
        bucket: (name == "CreateTrail").then(|| "b".to_owned()),
        prefix: Some(prefix.to_owned()),
        ..call(time, name, None)
    };
    let h = History {
        calls: vec![
            placed(0, "CreateTrail", ""),
            call(10, "StopLogging", None),
            placed(20, "UpdateTrail", "a"),
            call(30, "StopLogging", None),
            placed(40, "UpdateTrail", "b/"),
            call(50, "StopLogging", None),
            placed(50, "UpdateTrail", "a"),
        ],
        ..History::default()
    };
    let at = |stop, prefix| h.may_deliver_to(stop, ("b", prefix));
    assert!(at(10, None) && !at(10, Some("a")));
    assert!(at(30, Some("a")) && !at(30, None) && !at(30, Some("b")));
    // In the stop's own second the move may come first or after: both places count.
    assert!(at(50, Some("b")) && at(50, Some("a")) && !at(50, None));
    assert!(!h.may_deliver_to(10, ("other", None)));
    // Without a CreateTrail in the history the place is unknown: judged everywhere.
    let unknown = History {
        calls: vec![call(10, "StopLogging", None)],
        ..History::default()
    };
    assert!(unknown.may_deliver_to(10, ("x", Some("y"))));
}

#[test]
fn the_timeline_gives_validation_and_the_stops_that_owe_digests() {
    let h = History {
        calls: vec![
            call(0, "CreateTrail", Some(true)),
            call(10, "StartLogging", None),
            call(20, "StopLogging", None),
            call(25, "StopLogging", None),
            call(30, "StartLogging", None),
            call(40, "UpdateTrail", Some(false)),
            call(50, "StopLogging", None),
            call(60, "UpdateTrail", Some(true)),
            call(70, "StartLogging", None),
            call(80, "DeleteTrail", None),
        ],
        validation_now: None,
        unvalidated_sharers: Vec::new(),
        others_off: Vec::new(),
        others_places: Vec::new(),
        other_calls: Default::default(),
    };
    // Validation came back on somewhere in second 60.
    assert_eq!(h.validation_off(), [(40, 61)]);
    assert_eq!(
        h.stops_owing_digests(0, 100),
        [
            (20, "StopLogging"),
            (40, "UpdateTrail"),
            (80, "DeleteTrail")
        ],
        "not a second stop, nor one while validation was off; validation off while \
         logging ends the chain"
    );
    assert_eq!(h.stops_owing_digests(41, 100), [(80, "DeleteTrail")]);
    let unknown = History {
        calls: vec![call(5, "StopLogging", None)],
        validation_now: Some(false),
        unvalidated_sharers: Vec::new(),
        others_off: Vec::new(),
        others_places: Vec::new(),
        other_calls: Default::default(),
    };
    assert!(unknown.stops_owing_digests(0, 10).is_empty());
    assert_eq!(unknown.validation_off(), [(i64::MIN, i64::MAX)]);
}

#[test]
fn a_trail_reaches_its_home_region_or_every_region_when_multi_region() {
    // recheck34b: a single-region us-east-1 trail never writes us-west-2's folder.
    let made_in = |region: &str, multi: bool| Call {
        region: Some(region.to_owned()),
        multi_region: Some(multi),
        ..call(0, "CreateTrail", Some(false))
    };
    assert!(!reaches(&[made_in("us-east-1", false)], "us-west-2"));
    assert!(reaches(&[made_in("us-east-1", false)], "us-east-1"));
    assert!(reaches(&[made_in("us-east-1", true)], "us-west-2"));
    let made_multi_later = [
        made_in("us-east-1", false),
        Call {
            region: Some("us-east-1".to_owned()),
            multi_region: Some(true),
            ..call(5, "UpdateTrail", None)
        },
    ];
    assert!(reaches(&made_multi_later, "us-west-2"));
}
