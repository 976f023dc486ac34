//! The orders a trail's calls could have happened in. Event history gives whole-second
//! `eventTime`s and no order within a second, so calls on the trail in the same second
//! (StartLogging, UpdateTrail, StopLogging…) may have happened in any order, with two
//! certainties: nothing acts on a trail before its CreateTrail nor after its DeleteTrail.
//!
//! The trail's state (logging, validation) is followed as the set of values every such
//! order could give, and the checks built on it report only what every order requires: a
//! stop owes a final digest only when validation was on at it, and logging had not
//! stopped, under every order; a time is "validation off" when some order has it off then
//! (a call in second `s` happened anywhere in `[s, s + 1)`).

use std::collections::BTreeSet;

use super::history::Call;

/// The most calls of one second whose orders are all tried (8! = 40320); a busier second
/// is judged stop by stop, which may miss a final digest but never asks for one not owed.
const MAX_ORDERED: usize = 8;

/// Logging and validation after some calls; `None` when unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct State {
    /// Whether the trail was logging.
    pub logging: Option<bool>,
    /// Whether log file validation was on.
    pub validation: Option<bool>,
}

/// What a call sets logging to.
fn sets_logging(c: &Call) -> Option<Option<bool>> {
    match c.name.as_str() {
        "StartLogging" => Some(Some(true)),
        "CreateTrail" | "StopLogging" | "DeleteTrail" => Some(Some(false)),
        _ => None,
    }
}

/// What a call sets validation to.
fn sets_validation(c: &Call) -> Option<Option<bool>> {
    c.validation.map(Some)
}

/// Whether the call ends the digest chain (and so may owe a final digest): it ends logging,
/// or turns log file validation off (the running chain then ends with a closing digest).
fn is_stop(c: &Call) -> bool {
    matches!(c.name.as_str(), "StopLogging" | "DeleteTrail")
        || (c.name == "UpdateTrail" && c.validation == Some(false))
}

/// The calls of one second, in an order event history does not tell.
pub struct Second<'a> {
    /// Its epoch second.
    pub time: i64,
    /// The calls.
    pub calls: &'a [Call],
    /// The CreateTrail that came before every other call (when the second holds one and no
    /// DeleteTrail: a DeleteTrail then CreateTrail of the same name may share it).
    first: Option<usize>,
    /// The DeleteTrail that came after every other call (when the second holds one and no
    /// CreateTrail).
    last: Option<usize>,
}

impl<'a> Second<'a> {
    /// Groups `calls` (sorted by time) by second.
    pub fn split(calls: &'a [Call]) -> Vec<Second<'a>> {
        calls
            .chunk_by(|a, b| a.time == b.time)
            .map(|calls| {
                let only = |name: &str| {
                    let mut at = calls.iter().enumerate().filter(|(_, c)| c.name == name);
                    match (at.next(), at.next()) {
                        (Some((i, _)), None) => Some(i),
                        _ => None,
                    }
                };
                let count = |name: &str| calls.iter().filter(|c| c.name == name).count();
                let (creates, deletes) = (count("CreateTrail"), count("DeleteTrail"));
                Second {
                    time: calls[0].time,
                    calls,
                    first: only("CreateTrail").filter(|_| deletes == 0),
                    last: only("DeleteTrail").filter(|_| creates == 0),
                }
            })
            .collect()
    }

    /// The values `set` can have left in force just before call `j`, starting from `before`
    /// (the value the second began with).
    fn values_before(
        &self,
        j: usize,
        before: Option<bool>,
        set: fn(&Call) -> Option<Option<bool>>,
    ) -> BTreeSet<Option<bool>> {
        if Some(j) == self.first {
            return BTreeSet::from([before]);
        }
        let others = || self.calls.iter().enumerate().filter(move |(i, _)| *i != j);
        if Some(j) == self.last {
            // Every other call came before it: one of the setters was last, if any.
            let all: BTreeSet<_> = others().filter_map(|(_, c)| set(c)).collect();
            return if all.is_empty() {
                BTreeSet::from([before])
            } else {
                all
            };
        }
        // Any call but the last may have come before it; the first always did.
        let forced = self.first.and_then(|f| set(&self.calls[f]));
        let mut out = BTreeSet::from([forced.unwrap_or(before)]);
        out.extend(
            others()
                .filter(|(i, _)| Some(*i) != self.first && Some(*i) != self.last)
                .filter_map(|(_, c)| set(c)),
        );
        out
    }

    /// The states just before call `j`, from the states the second began in.
    pub fn states_before(&self, j: usize, before: &BTreeSet<State>) -> BTreeSet<State> {
        let mut out = BTreeSet::new();
        for b in before {
            let logs = self.values_before(j, b.logging, sets_logging);
            let vals = self.values_before(j, b.validation, sets_validation);
            for logging in &logs {
                for validation in &vals {
                    out.insert(State {
                        logging: *logging,
                        validation: *validation,
                    });
                }
            }
        }
        out
    }

    /// The values `set` can have left in force after the whole second.
    fn values_after(
        &self,
        before: Option<bool>,
        set: fn(&Call) -> Option<Option<bool>>,
    ) -> BTreeSet<Option<bool>> {
        if let Some(l) = self.last
            && let Some(v) = set(&self.calls[l])
        {
            return BTreeSet::from([v]);
        }
        let others: BTreeSet<_> = self
            .calls
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != self.first)
            .filter_map(|(_, c)| set(c))
            .collect();
        if !others.is_empty() {
            return others;
        }
        match self.first.and_then(|f| set(&self.calls[f])) {
            Some(v) => BTreeSet::from([v]),
            None => BTreeSet::from([before]),
        }
    }

    /// The states the second can have ended in, from those it began in.
    pub fn states_after(&self, before: &BTreeSet<State>) -> BTreeSet<State> {
        let mut out = BTreeSet::new();
        for b in before {
            for logging in self.values_after(b.logging, sets_logging) {
                for validation in self.values_after(b.validation, sets_validation) {
                    out.insert(State {
                        logging,
                        validation,
                    });
                }
            }
        }
        out
    }

    /// Whether every order of the second, begun in `state`, has one of its stops owe a final
    /// digest (logging on and validation on at it). `used` marks the calls placed so far.
    fn every_order_owes(&self, used: u32, state: State, owed: bool) -> bool {
        let n = self.calls.len();
        let placed = used.count_ones() as usize;
        if owed || placed == n {
            return owed;
        }
        for (i, c) in self.calls.iter().enumerate() {
            if used & (1 << i) != 0
                || self.first.is_some_and(|f| used & (1 << f) == 0 && f != i)
                || (Some(i) == self.last && placed + 1 < n)
            {
                continue;
            }
            let owes = is_stop(c) && state.logging != Some(false) && state.validation == Some(true);
            let next = State {
                logging: sets_logging(c).unwrap_or(state.logging),
                validation: sets_validation(c).unwrap_or(state.validation),
            };
            if !self.every_order_owes(used | (1 << i), next, owed || owes) {
                return false;
            }
        }
        true
    }

    /// Whether a stop in this second owes a final digest under every order, from the states
    /// it began in. Seconds of more than [`MAX_ORDERED`] calls are judged stop by stop.
    fn owes_final_digest(&self, before: &BTreeSet<State>) -> bool {
        if self.calls.len() <= MAX_ORDERED {
            return before.iter().all(|b| self.every_order_owes(0, *b, false));
        }
        (0..self.calls.len()).any(|j| {
            is_stop(&self.calls[j])
                && self
                    .states_before(j, before)
                    .iter()
                    .all(|s| s.logging != Some(false) && s.validation == Some(true))
        })
    }

    /// Whether validation may have been off at some moment of the second.
    fn maybe_off(&self, before: &BTreeSet<State>) -> bool {
        before.iter().any(|s| s.validation == Some(false))
            || self.calls.iter().any(|c| c.validation == Some(false))
    }
}

/// The state before any call: logging unknown; validation unknown, or `now` when no call
/// ever set it.
fn initial(calls: &[Call], validation_now: Option<bool>) -> BTreeSet<State> {
    let validation = if calls.iter().any(|c| c.validation.is_some()) {
        None
    } else {
        validation_now
    };
    BTreeSet::from([State {
        logging: None,
        validation,
    }])
}

/// Adds `[a, b)` to `spans` (ordered), merged with the last span when they touch.
fn push_span(spans: &mut Vec<(i64, i64)>, a: i64, b: i64) {
    if a >= b {
        return;
    }
    match spans.last_mut() {
        Some(last) if last.1 >= a => last.1 = last.1.max(b),
        _ => spans.push((a, b)),
    }
}

/// Spans (epoch seconds, end exclusive) in which some order of `calls` (sorted by time) has
/// validation off.
pub fn maybe_off(calls: &[Call], validation_now: Option<bool>) -> Vec<(i64, i64)> {
    let mut states = initial(calls, validation_now);
    let mut spans: Vec<(i64, i64)> = Vec::new();
    let mut push = |a: i64, b: i64| push_span(&mut spans, a, b);
    let mut from = i64::MIN;
    let off = |s: &BTreeSet<State>| s.iter().any(|s| s.validation == Some(false));
    let seconds = Second::split(calls);
    // The last second with a call that sets validation: after it, validation is what
    // DescribeTrails says it is now.
    let last_setting = seconds
        .iter()
        .rposition(|s| s.calls.iter().any(|c| c.validation.is_some()));
    for (i, second) in seconds.iter().enumerate() {
        if off(&states) {
            push(from, second.time);
        }
        let next = second.time.saturating_add(1);
        if second.maybe_off(&states) {
            push(second.time, next);
        }
        states = second.states_after(&states);
        // Orders the second leaves open that end with validation other than it is now,
        // with no later call setting it, did not happen (a DeleteTrail and two CreateTrails
        // of one second, validation off then on, kept "maybe off" for good, excusing every
        // later file: session 33).
        if Some(i) == last_setting
            && let Some(now) = validation_now
        {
            let settled: BTreeSet<State> = states
                .iter()
                .filter(|s| s.validation == Some(now))
                .copied()
                .collect();
            if !settled.is_empty() {
                states = settled;
            }
        }
        from = next;
    }
    if off(&states) {
        push(from, i64::MAX);
    }
    spans
}

/// Spans (epoch seconds, end exclusive) in which some order of `calls` (sorted by time) has
/// the trail logging (or its logging unknown: before its first call, when that is not a
/// StartLogging). `logging_now`, when known, settles what the last second with a switch left
/// open (a StartLogging and a StopLogging in one second of a trail stopped now).
pub fn maybe_logging(calls: &[Call], logging_now: Option<bool>) -> Vec<(i64, i64)> {
    let mut states = BTreeSet::from([State {
        logging: None,
        validation: None,
    }]);
    let mut spans: Vec<(i64, i64)> = Vec::new();
    let mut push = |a: i64, b: i64| push_span(&mut spans, a, b);
    let on = |s: &BTreeSet<State>| s.iter().any(|s| s.logging != Some(false));
    let seconds = Second::split(calls);
    let last_switch = seconds
        .iter()
        .rposition(|s| s.calls.iter().any(|c| sets_logging(c).is_some()));
    let mut from = i64::MIN;
    for (i, second) in seconds.iter().enumerate() {
        let next = second.time.saturating_add(1);
        if on(&states) {
            push(from, next);
        }
        states = second.states_after(&states);
        if Some(i) == last_switch
            && let Some(now) = logging_now
        {
            let settled: BTreeSet<State> = states
                .iter()
                .filter(|s| s.logging == Some(now))
                .copied()
                .collect();
            if !settled.is_empty() {
                states = settled;
            }
        }
        if on(&states) {
            push(second.time, next);
        }
        from = next;
    }
    if on(&states) {
        push(from, i64::MAX);
    }
    spans
}

/// Seconds in `[start, end]` with a stop that owes a final digest under every order of
/// `calls` (sorted by time): logging had not stopped before it and validation was on at it.
/// Each second is named once, by its first stop (one final digest's period holds it).
pub fn certain_stops(
    calls: &[Call],
    validation_now: Option<bool>,
    start: i64,
    end: i64,
) -> Vec<(i64, &str)> {
    let mut states = initial(calls, validation_now);
    let mut out = Vec::new();
    for second in Second::split(calls) {
        let stop = second.calls.iter().find(|c| is_stop(c));
        if let Some(stop) = stop
            && (start..=end).contains(&second.time)
            && second.owes_final_digest(&states)
        {
            out.push((second.time, stop.name.as_str()));
        }
        states = second.states_after(&states);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(time: i64, name: &str, validation: Option<bool>) -> Call {
        crate::validate::history::bare_call(time, name, validation)
    }

    /// The reported sequence: validation off, stop; then in one second StartLogging,
    /// validation on, validation off, StopLogging (read back by name, so in any order);
    /// later a start with validation on and a stop.
    fn same_second(order: &[usize]) -> Vec<Call> {
        let second = [
            call(13, "StartLogging", None),
            call(13, "UpdateTrail", Some(true)),
            call(13, "UpdateTrail", Some(false)),
            call(13, "StopLogging", None),
        ];
        let mut calls = vec![
            call(8, "CreateTrail", Some(true)),
            call(8, "StartLogging", None),
            call(10, "UpdateTrail", Some(false)),
            call(10, "StopLogging", None),
        ];
        calls.extend(order.iter().map(|i| second[*i].clone()));
        calls.extend([
            call(14, "StartLogging", None),
            call(14, "UpdateTrail", Some(true)),
            call(17, "StopLogging", None),
        ]);
        calls
    }

    #[test]
    fn a_second_whose_every_order_ends_the_chain_owes_one_digest() {
        // Whatever order the lookups returned the second's calls in: second 10 ends the
        // chain either way (validation off while logging, or a stop with validation on);
        // second 13 may have ended it with neither (a stop, then validation off).
        for order in [[0, 1, 2, 3], [2, 1, 0, 3], [3, 0, 2, 1], [1, 3, 2, 0]] {
            let calls = same_second(&order);
            assert_eq!(
                certain_stops(&calls, Some(true), 0, 100),
                [(10, "UpdateTrail"), (17, "StopLogging")],
                "{order:?}"
            );
            // Off from the first UpdateTrail until the second after validation came back.
            assert_eq!(maybe_off(&calls, Some(true)), [(10, 15)], "{order:?}");
        }
    }

    #[test]
    fn certainties_within_a_second_are_kept() {
        // CreateTrail comes first: the stop in a later second owes its digest.
        let calls = [
            call(0, "StartLogging", None),
            call(0, "CreateTrail", Some(true)),
            call(70, "StopLogging", None),
        ];
        assert_eq!(certain_stops(&calls, None, 0, 100), [(70, "StopLogging")]);
        // Validation on in every order of its second, the stop in the same second owes.
        let calls = [
            call(0, "CreateTrail", Some(true)),
            call(5, "StartLogging", None),
            call(9, "UpdateTrail", Some(true)),
            call(9, "StopLogging", None),
        ];
        assert_eq!(certain_stops(&calls, None, 0, 100), [(9, "StopLogging")]);
        // A StopLogging in its StartLogging's second may have come before it.
        let calls = [
            call(0, "CreateTrail", Some(true)),
            call(0, "StartLogging", None),
            call(0, "StopLogging", None),
        ];
        assert!(certain_stops(&calls, None, 0, 100).is_empty());
        // DeleteTrail comes last: turning validation off in its second ends the chain.
        let calls = [
            call(0, "CreateTrail", Some(true)),
            call(5, "StartLogging", None),
            call(9, "DeleteTrail", None),
            call(9, "UpdateTrail", Some(false)),
        ];
        assert_eq!(certain_stops(&calls, None, 0, 100), [(9, "DeleteTrail")]);
        // Validation off while stopped ends nothing.
        let calls = [
            call(0, "CreateTrail", Some(true)),
            call(5, "StartLogging", None),
            call(7, "StopLogging", None),
            call(9, "UpdateTrail", Some(false)),
        ];
        assert_eq!(certain_stops(&calls, None, 0, 100), [(7, "StopLogging")]);
        // Two stops in one second: whichever came first owes the digest.
        let calls = [
            call(0, "CreateTrail", Some(true)),
            call(5, "StartLogging", None),
            call(9, "StopLogging", None),
            call(9, "StopLogging", None),
        ];
        assert_eq!(certain_stops(&calls, None, 0, 100), [(9, "StopLogging")]);
        // Validation turned on in the stop's second may have come after it.
        let calls = [
            call(0, "CreateTrail", Some(false)),
            call(5, "StartLogging", None),
            call(9, "UpdateTrail", Some(true)),
            call(9, "StopLogging", None),
        ];
        assert!(certain_stops(&calls, None, 0, 100).is_empty());
        // Busier than the orders tried: judged stop by stop.
        let mut calls = vec![
            call(0, "CreateTrail", Some(true)),
            call(5, "StartLogging", None),
        ];
        calls.extend((0..9).map(|_| call(9, "UpdateTrail", Some(true))));
        calls.push(call(9, "StopLogging", None));
        assert_eq!(certain_stops(&calls, None, 0, 100), [(9, "StopLogging")]);
        calls.push(call(9, "UpdateTrail", Some(false)));
        assert!(certain_stops(&calls, None, 0, 100).is_empty());
        // Recreated in the same second: no order is assumed.
        let calls = [
            call(0, "CreateTrail", Some(true)),
            call(0, "StartLogging", None),
            call(9, "DeleteTrail", None),
            call(9, "CreateTrail", Some(true)),
            call(9, "StartLogging", None),
        ];
        assert!(certain_stops(&calls, None, 0, 100).is_empty());
    }

    #[test]
    fn validation_off_ends_with_a_re_creation_that_turns_it_on() {
        // Deleted at 100 with validation off, re-created at once with it on: nothing after
        // the re-creation is excused (recheck33b: excusing the deleted trail's last file for
        // 15 minutes excused every file planted then).
        let calls = [
            call(0, "CreateTrail", Some(false)),
            call(5, "StartLogging", None),
            call(100, "DeleteTrail", None),
            call(101, "CreateTrail", Some(true)),
            call(102, "StartLogging", None),
        ];
        assert_eq!(maybe_off(&calls, Some(true)), [(0, 102)]);
        // All in one second, validation on now: the re-creation with validation came last.
        let calls = [
            call(100, "CreateTrail", Some(false)),
            call(100, "StartLogging", None),
            call(100, "DeleteTrail", None),
            call(100, "CreateTrail", Some(true)),
            call(101, "StartLogging", None),
        ];
        assert_eq!(maybe_off(&calls, Some(true)), [(100, 101)]);
        // Deleted with validation on: its final digest lists its last file.
        let calls = [
            call(0, "CreateTrail", Some(true)),
            call(5, "StartLogging", None),
            call(100, "DeleteTrail", None),
            call(101, "CreateTrail", Some(true)),
        ];
        assert_eq!(maybe_off(&calls, Some(true)), []);
    }
}
