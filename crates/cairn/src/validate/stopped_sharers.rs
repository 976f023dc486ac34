//! Trails that share the validated place now without validation but are stopped
//! (DescribeTrails, GetTrailStatus). Such a trail excuses the place's unlisted files only
//! when its calls in the window had it logging here without validation at some moment
//! (recheck35: one moved in while stopped, or whose validation went off after it stopped,
//! never delivered a file here, yet it switched the unlisted-file check off).
//!
//! Its state before its first call in the window is inferred from DescribeTrails (here,
//! validation off) and from what its calls set: an UpdateTrail that moves it here, or turns
//! its validation off, says it was elsewhere, or validating, before. A trail whose calls
//! are missing from the window (no StartLogging or StopLogging there) is kept, as nothing
//! says it did not deliver here.

use super::history::{Call, History};

/// The first of the `stopped` sharers (DescribeTrails entries) that may have delivered
/// files here without validation: by its calls in `history`, or, when event history could
/// not be read, any of them.
pub fn excusing(
    history: Option<&History>,
    stopped: &[serde_json::Value],
    place: (&str, Option<&str>),
) -> Option<String> {
    stopped.iter().find_map(|t| {
        let name = t["Name"].as_str()?;
        history
            .is_none_or(|h| may_have_logged_here(h, name, place))
            .then(|| t["TrailARN"].as_str().unwrap_or(name).to_owned())
    })
}

/// The notice that unlisted files were not looked for, because `other` delivered to
/// `place_dir` without validation (as event history says, when `seen`).
pub fn notice(other: &str, place_dir: &str, seen: bool) -> String {
    let source = if seen { " (event history)" } else { "" };
    format!(
        "Log files that no digest lists were not looked for: trail {other} also delivered to \
         {place_dir} without log file validation{source}"
    )
}

/// Whether the stopped trail `name` sharing `place` (bucket, prefix) may have delivered
/// files here without validation in the window `history` covers.
pub fn may_have_logged_here(history: &History, name: &str, place: (&str, Option<&str>)) -> bool {
    let calls = history.other_calls.get(name).map_or(&[][..], Vec::as_slice);
    logged_here(calls, place)
}

fn logged_here(calls: &[Call], place: (&str, Option<&str>)) -> bool {
    let norm = |p: Option<&str>| p.filter(|p| !p.is_empty()).map(str::to_owned);
    let want = (Some(place.0.to_owned()), norm(place.1));
    if !calls
        .iter()
        .any(|c| matches!(c.name.as_str(), "StartLogging" | "StopLogging"))
    {
        return true;
    }
    // Where it was before its first call that set a place: here, unless that call is an
    // UpdateTrail that put it here.
    let placing = calls
        .iter()
        .find(|c| c.bucket.is_some() || (c.name == "UpdateTrail" && c.prefix.is_some()));
    let moved_in = placing.is_some_and(|c| {
        c.name == "UpdateTrail"
            && c.bucket.as_deref().is_none_or(|b| b == place.0)
            && (c.prefix.is_none() || norm(c.prefix.as_deref()) == want.1)
    });
    // Its validation before its first call that set it: off (as now), unless that call is
    // an UpdateTrail that turned it off.
    let validating = calls
        .iter()
        .find(|c| c.validation.is_some())
        .is_some_and(|c| c.name == "UpdateTrail" && c.validation == Some(false));
    let start = State {
        exists: calls.first().is_none_or(|c| c.name != "CreateTrail"),
        logging: false,
        place: if moved_in { (None, None) } else { want.clone() },
        validation: validating.then_some(true),
    };
    ever_delivering(calls, start, want, Some(false))
}

/// A trail's state as its calls set it.
#[derive(Clone, Debug)]
pub(super) struct State {
    /// It exists.
    pub exists: bool,
    /// It is logging (before the first call: set from the first StartLogging or StopLogging).
    pub logging: bool,
    /// Its bucket and prefix (`None`: unknown, taken as elsewhere).
    pub place: (Option<String>, Option<String>),
    /// Its validation (`None`: unknown, taken as off).
    pub validation: Option<bool>,
}

/// Whether a trail whose calls (oldest first) start from `start` was, at the end of some
/// second of them (before its DeleteTrail, which comes last), or before the first, logging
/// at `want` without validation. Event
/// history gives calls to the second only, and no order within one: the calls of one second
/// are taken together, and when a second holds both a StartLogging and a StopLogging the
/// trail is logging after it only if its next such call, in a later second, is a stop (or,
/// with none, when `logging_now` says so; unknown is taken as not logging). So calls made
/// in one second cannot be read in the order that suits a planted file (recheck35).
pub(super) fn ever_delivering(
    calls: &[Call],
    start: State,
    want: (Option<String>, Option<String>),
    logging_now: Option<bool>,
) -> bool {
    let norm = |p: Option<&str>| p.filter(|p| !p.is_empty()).map(str::to_owned);
    let mut s = start;
    // Logging before the first call: its first second with a switch has only a stop.
    if let Some(first) = calls
        .iter()
        .find(|c| matches!(c.name.as_str(), "StartLogging" | "StopLogging"))
    {
        let same: Vec<&Call> = calls.iter().filter(|c| c.time == first.time).collect();
        let stops = same.iter().any(|c| c.name == "StopLogging");
        let starts = same
            .iter()
            .any(|c| matches!(c.name.as_str(), "StartLogging" | "CreateTrail"));
        s.logging = stops && !starts;
    }
    let delivering =
        |s: &State| s.exists && s.logging && s.validation != Some(true) && s.place == want;
    if delivering(&s) {
        return true;
    }
    let mut i = 0;
    while i < calls.len() {
        let second = calls[i].time;
        let group: Vec<&Call> = calls[i..].iter().take_while(|c| c.time == second).collect();
        i += group.len();
        let has = |n: &str| group.iter().any(|c| c.name == n);
        if has("CreateTrail") {
            s.exists = true;
            s.logging = false;
        }
        // Nothing acts on a trail before its CreateTrail: in one second, it comes first.
        let creates = group.iter().filter(|c| c.name == "CreateTrail");
        let updates = group.iter().filter(|c| c.name == "UpdateTrail");
        for c in creates.chain(updates) {
            if c.name == "CreateTrail" {
                s.place = (c.bucket.clone(), norm(c.prefix.as_deref()));
                s.validation = c.validation;
                continue;
            }
            if c.bucket.is_some() {
                s.place.0 = c.bucket.clone();
            }
            if c.prefix.is_some() {
                s.place.1 = norm(c.prefix.as_deref());
            }
            s.validation = c.validation.or(s.validation);
        }
        match (has("StartLogging"), has("StopLogging")) {
            (true, false) => s.logging = true,
            (false, true) => s.logging = false,
            (true, true) => {
                let next = calls[i..]
                    .iter()
                    .find(|c| matches!(c.name.as_str(), "StartLogging" | "StopLogging"));
                s.logging = match next {
                    Some(c) => c.name == "StopLogging",
                    None => logging_now == Some(true),
                };
            }
            (false, false) => {}
        }
        // Nothing acts on a trail after its DeleteTrail: in one second, it comes last, and
        // the trail may have delivered until then.
        if delivering(&s) {
            return true;
        }
        if has("DeleteTrail") {
            s.exists = false;
            s.logging = false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, time: i64) -> Call {
        Call {
            time,
            name: name.to_owned(),
            validation: None,
            bucket: None,
            prefix: None,
            region: None,
            multi_region: None,
        }
    }

    fn placed(name: &str, time: i64, bucket: &str, validation: Option<bool>) -> Call {
        Call {
            bucket: Some(bucket.to_owned()),
            prefix: Some("p".to_owned()),
            validation,
            ..call(name, time)
        }
    }

    const HERE: (&str, Option<&str>) = ("b", Some("p"));

    #[test]
    fn a_trail_that_logged_here_unvalidated_excuses() {
        // Here all along (no call placed it): started and stopped in the window.
        assert!(logged_here(
            &[call("StartLogging", 1), call("StopLogging", 2)],
            HERE
        ));
        // Logging when the window began.
        assert!(logged_here(&[call("StopLogging", 2)], HERE));
        // Created here without validation, then started.
        assert!(logged_here(
            &[
                placed("CreateTrail", 1, "b", Some(false)),
                call("StartLogging", 2),
                call("StopLogging", 3)
            ],
            HERE
        ));
        // Nothing in the window says when it logged: kept.
        assert!(logged_here(&[], HERE));
    }

    #[test]
    fn a_trail_that_never_logged_here_unvalidated_does_not() {
        // Logged elsewhere, stopped, then moved here (recheck35 F6, case B).
        assert!(!logged_here(
            &[
                placed("CreateTrail", 1, "elsewhere", Some(false)),
                call("StartLogging", 2),
                call("StopLogging", 3),
                placed("UpdateTrail", 4, "b", None),
            ],
            HERE
        ));
        // The same with its creation before the window.
        assert!(!logged_here(
            &[
                call("StartLogging", 2),
                call("StopLogging", 3),
                placed("UpdateTrail", 4, "b", None)
            ],
            HERE
        ));
        // Logged here with validation, turned it off once stopped (case D).
        assert!(!logged_here(
            &[
                placed("CreateTrail", 1, "b", Some(true)),
                call("StartLogging", 2),
                call("StopLogging", 3),
                Call {
                    validation: Some(false),
                    ..call("UpdateTrail", 4)
                },
            ],
            HERE
        ));
        assert!(!logged_here(
            &[
                call("StopLogging", 3),
                Call {
                    validation: Some(false),
                    ..call("UpdateTrail", 4)
                }
            ],
            HERE
        ));
        // All in one second, in whatever order event history gives them.
        let mut one_second = vec![
            placed("CreateTrail", 5, "elsewhere", Some(false)),
            call("StartLogging", 5),
            call("StopLogging", 5),
            placed("UpdateTrail", 5, "b", None),
        ];
        assert!(!logged_here(&one_second, HERE));
        one_second.reverse();
        assert!(!logged_here(&one_second, HERE));
        // Created here, started and deleted in one second: it may have delivered.
        let state = State {
            exists: true,
            logging: false,
            place: (None, None),
            validation: None,
        };
        let want = (Some("b".to_owned()), Some("p".to_owned()));
        let brief = [
            placed("CreateTrail", 7, "b", Some(false)),
            call("StartLogging", 7),
            call("DeleteTrail", 7),
        ];
        assert!(ever_delivering(&brief, state, want, None));
    }
}
