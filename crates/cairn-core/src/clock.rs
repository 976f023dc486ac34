//! The server's clock for the calls it answers: the system's, or, for tests of features that
//! span days (an Insights baseline is a week of calls), epoch seconds read from a file that
//! only the operator can write (`cairn serve --clock-file`). Every JSON and Query service
//! reads its request time here: the signature's time check, `eventTime`, and the call's
//! `now`. Nothing over the API can move it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// Where "now" comes from.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    file: Option<PathBuf>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that reads epoch seconds (fractions allowed) from `path` at every call; the
    /// system clock while the file is missing or does not hold a time.
    pub fn from_file(path: PathBuf) -> Self {
        Self { file: Some(path) }
    }

    /// Whether this is a file-driven test clock.
    pub fn is_controlled(&self) -> bool {
        self.file.is_some()
    }

    /// Now.
    pub fn now(&self) -> DateTime<Utc> {
        self.file
            .as_ref()
            .and_then(|path| {
                let text = std::fs::read_to_string(path).ok()?;
                let read = parse(&text);
                if read.is_none() && !text.trim().is_empty() {
                    warn_once(path);
                }
                read
            })
            .unwrap_or_else(Utc::now)
    }
}

/// Says once that the clock file holds something that is not a time (the system clock is
/// used meanwhile), so a typo there is not silently ignored.
fn warn_once(path: &std::path::Path) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            file = %path.display(),
            "the clock file does not hold epoch seconds: the system clock is used until it does"
        );
    }
}

fn parse(text: &str) -> Option<DateTime<Utc>> {
    let secs: f64 = text.trim().parse().ok()?;
    if !secs.is_finite() {
        return None;
    }
    DateTime::from_timestamp_millis((secs * 1000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_clock_reads_the_file_and_falls_back_to_the_system() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clock");
        let clock = Clock::from_file(path.clone());
        let before = Utc::now();
        assert!(clock.now() >= before, "no file: the system clock");
        std::fs::write(&path, "1700000000.25\n").unwrap();
        assert_eq!(clock.now().timestamp_millis(), 1_700_000_000_250);
        std::fs::write(&path, "yesterday").unwrap();
        assert!(clock.now() >= before, "not a time: the system clock");
        assert!(Clock::system().now() >= before);
    }
}
