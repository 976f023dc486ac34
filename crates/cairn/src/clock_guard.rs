//! Holds back the server's destructive sweeps (event retention, Logs retention, lifecycle
//! expiry) after the wall clock jumps forward, so a clock that is wrong for a while (an NTP
//! step, a VM restored with a bad clock) cannot erase the event history in one sweep (ops4:
//! a start 100 days ahead deleted every event at once).
//!
//! The sweeps wait for an hour of steady clock (measured on the monotonic clock) when, at
//! start, the clock is more than a day past the last sweep that ran (kept in the store, so a
//! restart during a hold holds again: recheck29), or, in a data dir that has no such mark
//! yet, past the newest stored event; or when, while running, the wall clock moves more than
//! ten minutes further than the monotonic clock did. A clock
//! put right within the hour loses nothing; a clock that stays where it jumped to is taken
//! as right once the hour is up. After a day or more without events the first sweep is one
//! hour late, which costs nothing.

/// The store key of the wall time (epoch seconds) of the last sweep that ran.
pub const LAST_SWEEP_KEY: &str = "sweep.last_wall";

/// How long the sweeps wait after a jump (seconds of monotonic time).
pub const HOLD_SECS: f64 = 3600.0;
/// A wall-clock step forward larger than this (beyond the monotonic clock's) is a jump.
const JUMP_SECS: f64 = 600.0;
/// At start, a clock this far past the newest event may have jumped.
const START_GAP_SECS: f64 = 86_400.0;

/// The guard's state: the last wall and monotonic readings, and when the hold ends.
#[derive(Debug)]
pub struct ClockGuard {
    last: (f64, f64),
    hold_until: Option<f64>,
}

/// What a sweep may do now.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Sweep.
    Sweep,
    /// Skip this sweep; `jump` is the step just seen (seconds), if one was.
    Hold { jump: Option<f64> },
}

impl ClockGuard {
    /// A guard started at wall time `wall` and monotonic time `mono` (seconds), with the
    /// wall time of the last sweep that ran, else the newest stored event's time.
    pub fn new(wall: f64, mono: f64, last_sweep: Option<f64>, newest_event: Option<i64>) -> Self {
        let gap = last_sweep
            .or(newest_event.map(|t| t as f64))
            .map(|t| wall - t);
        Self {
            last: (wall, mono),
            hold_until: gap
                .filter(|g| *g > START_GAP_SECS)
                .map(|_| mono + HOLD_SECS),
        }
    }

    /// Whether the sweep at `wall`/`mono` may run.
    pub fn check(&mut self, wall: f64, mono: f64) -> Verdict {
        let step = (wall - self.last.0) - (mono - self.last.1);
        self.last = (wall, mono);
        let jump = (step > JUMP_SECS).then_some(step);
        if jump.is_some() {
            self.hold_until = Some(mono + HOLD_SECS);
        }
        match self.hold_until {
            Some(until) if mono < until => Verdict::Hold { jump },
            _ => {
                self.hold_until = None;
                Verdict::Sweep
            }
        }
    }

    /// Whether the guard holds from the start (the clock far past the last sweep).
    pub fn holding(&self) -> bool {
        self.hold_until.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_clock_sweeps() {
        let mut g = ClockGuard::new(1_000_000.0, 0.0, None, Some(999_000));
        assert!(!g.holding());
        assert_eq!(g.check(1_000_060.0, 60.0), Verdict::Sweep);
        // A small step (NTP slewing, a slow tick) is not a jump.
        assert_eq!(g.check(1_000_300.0, 120.0), Verdict::Sweep);
    }

    #[test]
    fn a_jump_forward_holds_the_sweeps_for_an_hour() {
        let mut g = ClockGuard::new(1_000_000.0, 0.0, None, Some(999_000));
        let day = 86_400.0;
        assert_eq!(
            g.check(1_000_060.0 + 100.0 * day, 60.0),
            Verdict::Hold {
                jump: Some(100.0 * day)
            }
        );
        assert_eq!(
            g.check(1_000_120.0 + 100.0 * day, 120.0),
            Verdict::Hold { jump: None }
        );
        assert_eq!(
            g.check(
                1_000_000.0 + 100.0 * day + HOLD_SECS + 61.0,
                HOLD_SECS + 61.0
            ),
            Verdict::Sweep
        );
    }

    #[test]
    fn a_start_far_past_the_newest_event_holds_first() {
        let mut g = ClockGuard::new(1_000_000.0 + 100.0 * 86_400.0, 0.0, None, Some(1_000_000));
        assert!(g.holding());
        assert_eq!(
            g.check(1_000_060.0 + 100.0 * 86_400.0, 60.0),
            Verdict::Hold { jump: None }
        );
        assert_eq!(
            g.check(1_000_000.0 + 100.0 * 86_400.0 + HOLD_SECS, HOLD_SECS),
            Verdict::Sweep
        );
        // An empty store holds nothing.
        assert!(!ClockGuard::new(5.0, 0.0, None, None).holding());
        // The last sweep decides when there is one: events recorded under the wrong clock
        // (as recent as it) do not end the hold after a restart.
        let wrong = 1_000_000.0 + 100.0 * 86_400.0;
        assert!(ClockGuard::new(wrong, 0.0, Some(1_000_000.0), Some(wrong as i64 - 60)).holding());
        assert!(!ClockGuard::new(1_000_600.0, 0.0, Some(1_000_000.0), Some(1)).holding());
    }
}
