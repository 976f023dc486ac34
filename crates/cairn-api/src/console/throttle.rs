//! Failed console sign-ins slow the next ones down, per client address and per access key
//! id from that address, so a password-guessing loop cannot try secrets at the server's full
//! speed. Never per key id alone: key ids are in every record, and failures sent from
//! anywhere then locked the key's owner out (hostile10: nine wrong attempts made the right
//! secret a 429; AWS's sign-in has no such lockout). The first
//! five failures are free; each later one doubles the wait before the next attempt (1 s,
//! 2 s, … up to 15 minutes). A success clears both tallies; a tally with no failure for an
//! hour is forgotten. While a wait runs, an attempt is refused without its secret being
//! checked; one such attempt a minute per address and per key is recorded as a failed
//! ConsoleLogin (console4: recording each let an unauthenticated client write hundreds of
//! durable events a second), the others are counted in the log.
//!
//! The tallies live in memory (a restart forgets them) and are bounded in number.

use std::collections::HashMap;
use std::sync::Mutex;

/// Failures allowed before the first wait.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait, in seconds.
pub const MAX_WAIT_SECS: i64 = 900;
/// A tally idle this long (seconds) is forgotten.
const FORGET_AFTER_SECS: i64 = 3600;
/// Most tallies kept; past it, the idle ones go first, then those still free.
const MAX_TALLIES: usize = 10_000;

/// While a wait runs, one refused attempt per this many seconds is recorded.
pub const RECORD_WAITING_EVERY_SECS: i64 = 60;

#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    failures: u32,
    last: i64,
    /// When an attempt refused during a wait was last recorded (0: never).
    recorded_waiting: i64,
}

impl Tally {
    /// Seconds still to wait at `now` before another attempt.
    fn wait(&self, now: i64) -> i64 {
        if self.failures < FREE_FAILURES {
            return 0;
        }
        let doubling = (self.failures - FREE_FAILURES).min(20);
        let wait = (1i64 << doubling).min(MAX_WAIT_SECS);
        (self.last + wait - now).max(0)
    }
}

/// The sign-in tallies of this process.
#[derive(Default)]
pub struct Throttle {
    tallies: Mutex<HashMap<String, Tally>>,
}

fn keys(source_ip: &str, access_key_id: &str) -> [String; 2] {
    // An IPv6 address by its /64, as the bound on unsigned calls counts it (hostile17).
    let source_ip = crate::unsigned_rate::source_key(source_ip);
    [
        format!("ip {source_ip}"),
        format!("key {access_key_id} from {source_ip}"),
    ]
}

impl Throttle {
    /// Seconds an attempt from `source_ip` for `access_key_id` must still wait (0: none).
    pub fn wait(&self, source_ip: &str, access_key_id: &str, now: i64) -> i64 {
        let tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        keys(source_ip, access_key_id)
            .iter()
            .filter_map(|k| tallies.get(k))
            .map(|t| t.wait(now))
            .max()
            .unwrap_or(0)
    }

    /// Counts a failed attempt.
    pub fn failed(&self, source_ip: &str, access_key_id: &str, now: i64) {
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        if tallies.len() >= MAX_TALLIES {
            tallies.retain(|_, t| now - t.last < FORGET_AFTER_SECS);
        }
        if tallies.len() >= MAX_TALLIES {
            tallies.retain(|_, t| t.failures >= FREE_FAILURES);
        }
        for k in keys(source_ip, access_key_id) {
            let t = tallies.entry(k).or_default();
            if now - t.last >= FORGET_AFTER_SECS {
                t.failures = 0;
            }
            t.failures = t.failures.saturating_add(1);
            t.last = now;
        }
    }

    /// Whether an attempt refused during a wait at `now` is recorded: the first one, then one
    /// a [`RECORD_WAITING_EVERY_SECS`] for its address and for its key alike.
    pub fn record_waiting(&self, source_ip: &str, access_key_id: &str, now: i64) -> bool {
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        let keys = keys(source_ip, access_key_id);
        let due = keys.iter().filter_map(|k| tallies.get(k)).all(|t| {
            t.recorded_waiting == 0 || now - t.recorded_waiting >= RECORD_WAITING_EVERY_SECS
        });
        if due {
            for k in &keys {
                if let Some(t) = tallies.get_mut(k) {
                    t.recorded_waiting = now;
                }
            }
        }
        due
    }

    /// Clears the tallies a successful sign-in answers for.
    pub fn succeeded(&self, source_ip: &str, access_key_id: &str) {
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys(source_ip, access_key_id) {
            tallies.remove(&k);
        }
    }
}

/// The sign-in tallies of this server process.
pub fn global() -> &'static Throttle {
    static THROTTLE: std::sync::OnceLock<Throttle> = std::sync::OnceLock::new();
    THROTTLE.get_or_init(Throttle::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_the_free_failures_and_a_success_clears_them() {
        let t = Throttle::default();
        for i in 0..FREE_FAILURES {
            assert_eq!(t.wait("10.0.0.1", "AKIA1", 100), 0, "{i}");
            t.failed("10.0.0.1", "AKIA1", 100);
        }
        assert_eq!(t.wait("10.0.0.1", "AKIA1", 100), 1);
        t.failed("10.0.0.1", "AKIA1", 101);
        assert_eq!(t.wait("10.0.0.1", "AKIA1", 101), 2);
        // Another key from that address waits too; the key's owner elsewhere does not.
        assert_eq!(t.wait("10.0.0.2", "AKIA1", 101), 0);
        assert_eq!(t.wait("10.0.0.1", "AKIA2", 101), 2);
        assert_eq!(t.wait("10.0.0.2", "AKIA2", 101), 0);
        for _ in 0..40 {
            t.failed("10.0.0.1", "AKIA1", 200);
        }
        assert_eq!(t.wait("10.0.0.1", "AKIA1", 200), MAX_WAIT_SECS);
        assert_eq!(t.wait("10.0.0.1", "AKIA1", 200 + MAX_WAIT_SECS), 0);
        t.succeeded("10.0.0.1", "AKIA1");
        assert_eq!(t.wait("10.0.0.1", "AKIA1", 200), 0);
        // An hour without failures starts the count again.
        for _ in 0..FREE_FAILURES {
            t.failed("10.0.0.3", "AKIA3", 0);
        }
        t.failed("10.0.0.3", "AKIA3", FORGET_AFTER_SECS + 10);
        assert_eq!(t.wait("10.0.0.3", "AKIA3", FORGET_AFTER_SECS + 10), 0);
    }

    #[test]
    fn attempts_refused_during_a_wait_are_recorded_once_a_minute() {
        let t = Throttle::default();
        for _ in 0..FREE_FAILURES + 1 {
            t.failed("10.0.0.9", "AKIA9", 100);
        }
        assert!(t.record_waiting("10.0.0.9", "AKIA9", 100));
        assert!(!t.record_waiting("10.0.0.9", "AKIA9", 101));
        assert!(
            !t.record_waiting("10.0.0.9", "AKIA-other", 120),
            "the address was recorded"
        );
        assert!(t.record_waiting("10.0.0.9", "AKIA9", 100 + RECORD_WAITING_EVERY_SECS));
    }
}
