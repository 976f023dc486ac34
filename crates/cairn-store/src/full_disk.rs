//! Reporting a full disk once, not once per refused call.
//!
//! While the disk (or the store's size limit) is full every call is refused with a 503, and
//! an ERROR line per refusal flooded the log (ops2 counted 767 in a minute), itself using the
//! space that was short and hiding the line that matters. A [`FullDiskLog`] logs the first
//! refusal as an ERROR, then at most one summary a minute ("still full: N calls refused"),
//! and, for the store, one line when space is back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a disk that stays full is reported again.
pub const REPEAT_EVERY: Duration = Duration::from_secs(60);

/// One source of full-disk refusals (the store, object files) and what it has logged.
#[derive(Debug)]
pub struct FullDiskLog {
    what: &'static str,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// When the last ERROR line was written; `None` while the source is not known full.
    logged_at: Option<Instant>,
    /// Refusals since that line.
    unlogged: u64,
}

/// What [`FullDiskLog::refused_at`] decided to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The first refusal: an ERROR line.
    Started,
    /// A summary of this many refusals since the last line.
    StillFull(u64),
    /// Nothing: counted for the next summary.
    Counted,
}

/// Whether the disk has been full (for the store or an object file) since the server
/// started: from then on the store keeps its WAL small, so space freed on a disk with little
/// margin stays free (the writer's idle checkpoint).
pub static DISK_WAS_FULL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl FullDiskLog {
    /// A source named `what` in its log lines ("the store", "an object file").
    pub const fn new(what: &'static str) -> Self {
        Self {
            what,
            state: Mutex::new(State {
                logged_at: None,
                unlogged: 0,
            }),
        }
    }

    /// Notes one refusal for a full disk and logs it when it is due.
    pub fn refused(&self, error: &dyn std::fmt::Display) {
        DISK_WAS_FULL.store(true, std::sync::atomic::Ordering::Release);
        match self.refused_at(Instant::now()) {
            Report::Started => tracing::error!(
                %error,
                "the disk is full: {} cannot be written; calls are refused with 503 until space is freed",
                self.what
            ),
            Report::StillFull(n) => tracing::error!(
                %error,
                refused = n,
                "the disk is still full: {} cannot be written; {n} calls refused since the last report",
                self.what
            ),
            Report::Counted => tracing::debug!(%error, "refused: the disk is full"),
        }
    }

    /// The decision of [`refused`](Self::refused) at `now`, without logging.
    pub fn refused_at(&self, now: Instant) -> Report {
        let Ok(mut state) = self.state.lock() else {
            return Report::Started;
        };
        match state.logged_at {
            None => {
                state.logged_at = Some(now);
                state.unlogged = 0;
                Report::Started
            }
            Some(at) if now.saturating_duration_since(at) >= REPEAT_EVERY => {
                let n = state.unlogged + 1;
                state.logged_at = Some(now);
                state.unlogged = 0;
                Report::StillFull(n)
            }
            Some(_) => {
                state.unlogged += 1;
                Report::Counted
            }
        }
    }

    /// Space is back (a write that had been refused for a full disk succeeded): logs it once
    /// and returns whether it did, so the next refusal is reported as a new episode.
    pub fn recovered(&self) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        if state.logged_at.take().is_none() {
            return false;
        }
        let refused = std::mem::take(&mut state.unlogged);
        tracing::warn!(
            refused_since_last_report = refused,
            "space is available again: {} is written and calls are accepted",
            self.what
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_logged_once_then_summarised_each_minute() {
        let log = FullDiskLog::new("the store");
        let t0 = Instant::now();
        assert_eq!(log.refused_at(t0), Report::Started);
        for s in 1..=59 {
            assert_eq!(log.refused_at(t0 + Duration::from_secs(s)), Report::Counted);
        }
        assert_eq!(
            log.refused_at(t0 + Duration::from_secs(60)),
            Report::StillFull(60)
        );
        assert_eq!(
            log.refused_at(t0 + Duration::from_secs(61)),
            Report::Counted
        );
        assert!(log.recovered());
        assert!(!log.recovered(), "the recovery is reported once");
        assert_eq!(
            log.refused_at(t0 + Duration::from_secs(62)),
            Report::Started,
            "a new episode starts with an ERROR line again"
        );
    }
}
