//! Time arguments of the admin commands (`--now`, `--start-time`, …): epoch seconds (with an
//! optional fraction) or ISO-8601 (`2026-11-30`, `2026-11-30T14:00Z`, `2026-11-30T14:00:05Z`,
//! `2026-11-30T14:00:05.250+01:00`, …). Times without an offset are UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parses a time argument into epoch seconds.
pub fn parse(text: &str) -> Result<f64, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>()
        && secs.is_finite()
    {
        return Ok(secs);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(seconds(d.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(d) = DateTime::parse_from_str(t, format) {
            return Ok(seconds(d.with_timezone(&Utc)));
        }
    }
    let naive = t.trim_end_matches('Z');
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y%m%dT%H%M%S",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(naive, format) {
            return Ok(seconds(d.and_utc()));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(naive, "%Y-%m-%d") {
        return Ok(seconds(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()));
    }
    Err(format!(
        "{text:?} is not a time: use epoch seconds or ISO-8601 such as 2026-11-30T14:00:00Z"
    ))
}

fn seconds(d: DateTime<Utc>) -> f64 {
    d.timestamp() as f64 + f64::from(d.timestamp_subsec_millis()) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn epoch_and_iso_forms_parse() {
        let t = 1_796_047_200.0; // 2026-11-30T14:00:00Z
        assert_eq!(parse("1796047200").unwrap(), t);
        assert_eq!(parse("1796047200.5").unwrap(), t + 0.5);
        assert_eq!(parse("2026-11-30T14:00:00Z").unwrap(), t);
        assert_eq!(parse("2026-11-30T14:00Z").unwrap(), t);
        assert_eq!(parse("2026-11-30T14:00").unwrap(), t);
        assert_eq!(parse("2026-11-30T15:00:00+01:00").unwrap(), t);
        assert_eq!(parse("2026-11-30T14:00:00.250Z").unwrap(), t + 0.25);
        assert_eq!(parse("2026-11-30").unwrap(), t - 14.0 * 3600.0);
        assert!(parse("yesterday").is_err());
        assert!(parse("NaN").is_err());
    }
}
