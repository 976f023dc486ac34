//! Request time checks with AWS's exact messages.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// Allowed clock skew.
pub const MAX_SKEW: TimeDelta = TimeDelta::minutes(5);

/// The request time is outside the allowed window.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SkewError {
    /// Older than now − 5 min.
    #[error("Signature expired: {request} is now earlier than {limit} ({now} - 5 min.)")]
    Expired {
        /// Request time.
        request: String,
        /// Earliest accepted.
        limit: String,
        /// Server time.
        now: String,
    },
    /// Later than now + 5 min.
    #[error("Signature not yet current: {request} is still later than {limit} ({now} + 5 min.)")]
    NotYetCurrent {
        /// Request time.
        request: String,
        /// Latest accepted.
        limit: String,
        /// Server time.
        now: String,
    },
}

/// Parses `YYYYMMDDTHHMMSSZ`.
pub fn parse_amz_date(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|n| n.and_utc())
}

fn fmt(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Checks that `request` lies within ±5 minutes of `now`.
pub fn check_skew(request: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), SkewError> {
    if request < now - MAX_SKEW {
        return Err(SkewError::Expired {
            request: fmt(request),
            limit: fmt(now - MAX_SKEW),
            now: fmt(now),
        });
    }
    if request > now + MAX_SKEW {
        return Err(SkewError::NotYetCurrent {
            request: fmt(request),
            limit: fmt(now + MAX_SKEW),
            now: fmt(now),
        });
    }
    Ok(())
}
