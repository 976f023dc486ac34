//! Times on the command line: ISO 8601 (date only, or date and time with or without
//! seconds, fraction and offset; `T` or a space between them) or epoch seconds. A time
//! without an offset is UTC, as `aws cloudtrail validate-logs` takes it.

use anyhow::bail;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parses a time flag into epoch seconds (a fraction is dropped: the tools compare whole
/// seconds).
pub fn parse_time(text: &str) -> anyhow::Result<i64> {
    let t = text.trim();
    if t.is_empty() {
        bail!("Unable to parse date value: {text}");
    }
    if let Some(epoch) = parse_epoch(t) {
        return Ok(epoch);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp());
    }
    let with_t = t.replacen(' ', "T", 1);
    // With an offset: `Z`, `+HH:MM`, `+HHMM` or `+HH`, seconds and fraction optional.
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M%#z",
        "%Y%m%dT%H%M%S%.f%#z",
        "%Y%m%dT%H%M%#z",
    ] {
        let normalized = with_t.replace('z', "Z").replacen("Z", "+00:00", 1);
        if let Ok(d) = DateTime::parse_from_str(&normalized, fmt) {
            return Ok(d.timestamp());
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y%m%dT%H%M%S%.f",
        "%Y%m%dT%H%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(&with_t, fmt) {
            return Ok(d.and_utc().timestamp());
        }
    }
    for fmt in ["%Y-%m-%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, fmt)
            && let Some(midnight) = d.and_hms_opt(0, 0, 0)
        {
            return Ok(midnight.and_utc().timestamp());
        }
    }
    bail!(
        "Unable to parse date value: {text} (use ISO 8601, such as 2026-11-24T10:00:00Z, \
         2026-11-24T10:00+02:00 or 2026-11-24, or epoch seconds)"
    )
}

/// Epoch seconds, optionally with a fraction. Eight digits are read as a basic ISO date
/// (`20261124`), not as a time in 1970.
fn parse_epoch(t: &str) -> Option<i64> {
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    let digits = whole.strip_prefix('-').unwrap_or(whole);
    if digits.is_empty()
        || digits.len() == 8 && fraction.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let value: i64 = whole.parse().ok()?;
    // Keep to what chrono can show (about ±262,000 years).
    DateTime::<Utc>::from_timestamp(value, 0).map(|_| value)
}

/// `YYYY-MM-DDTHH:MM:SSZ`, as the stock tool prints times.
pub fn display(epoch: i64) -> String {
    cairn_logfile::iso_seconds(epoch)
}

/// `YYYYMMDDTHHMMSSZ`, as digest keys carry times.
pub fn key_stamp(epoch: i64) -> String {
    DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// Epoch seconds of a `YYYYMMDDTHHMMSSZ` stamp.
pub fn parse_key_stamp(stamp: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// Epoch seconds of a digest's `digestStartTime`/`digestEndTime` (ISO 8601).
pub fn parse_digest_time(text: &str) -> Option<i64> {
    parse_time(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_515_000; // 2026-11-24T10:10:00Z

    #[test]
    fn iso_forms_and_epoch_seconds_agree() {
        for text in [
            "2026-11-24T10:10:00Z",
            "2026-11-24T10:10:00.750Z",
            "2026-11-24T10:10Z",
            "2026-11-24T10:10",
            "2026-11-24 10:10:00",
            "2026-11-24T10:10:00",
            "2026-11-24T12:10:00+02:00",
            "2026-11-24T12:10+02:00",
            "2026-11-24T12:10:00+0200",
            "2026-11-24T05:10:00-05",
            "20261124T101000Z",
            "20261124T1010Z",
            "1795515000",
            "1795515000.25",
        ] {
            assert_eq!(parse_time(text).unwrap(), T, "{text}");
        }
        assert_eq!(parse_time("2026-11-24").unwrap(), T - 36_600);
        assert_eq!(parse_time("20261124").unwrap(), T - 36_600);
    }

    #[test]
    fn nonsense_is_refused_with_the_stock_message() {
        for text in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-11-24T25:00",
            "12ab",
            "1e9",
        ] {
            let e = parse_time(text).unwrap_err().to_string();
            assert!(e.starts_with("Unable to parse date value"), "{text}: {e}");
        }
        assert!(parse_time("99999999999999999999").is_err());
    }

    #[test]
    fn stamps_round_trip() {
        assert_eq!(key_stamp(T), "20261124T101000Z");
        assert_eq!(parse_key_stamp("20261124T101000Z"), Some(T));
        assert_eq!(display(T), "2026-11-24T10:10:00Z");
    }

    proptest::proptest! {
        #[test]
        fn parse_time_never_panics(s in "\\PC{0,40}") {
            let _ = parse_time(&s);
        }

        #[test]
        fn display_parses_back(t in -10_000_000_000i64..100_000_000_000i64) {
            proptest::prop_assert_eq!(parse_time(&display(t)).unwrap(), t);
        }
    }
}
