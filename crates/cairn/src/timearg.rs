//! Time arguments of the admin commands (`--now`, `--start-time`, …): epoch seconds (with an
//! optional fraction) or ISO-8601, parsed by the one parser `validate-logs` also uses
//! ([`crate::validate::time::parse_time`]). Times without an offset are UTC. Only times from
//! 1970 to the end of year 9999 are taken: a value in milliseconds (or `inf`, `NaN`) would
//! otherwise drive a sweep thousands of years ahead (or nowhere) without a word.

/// Parses a time argument into epoch seconds, keeping a fraction given in epoch form.
pub fn parse(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let secs = if t.contains('.')
        && !t.contains(['-', ':', 'T'])
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && let Ok(secs) = t.parse::<f64>()
    {
        secs
    } else {
        crate::validate::time::parse_time(t).map_err(|e| e.to_string())? as f64
    };
    if !(0.0..=LATEST).contains(&secs) {
        return Err(format!(
            "{text} is not between 1970 and the end of year 9999 (epoch seconds, not milliseconds)"
        ));
    }
    Ok(secs)
}

/// 9999-12-31T23:59:59Z, the latest time taken.
const LATEST: f64 = 253_402_300_799.0;

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
        assert_eq!(parse("2026-11-30").unwrap(), t - 14.0 * 3600.0);
        assert!(parse("yesterday").is_err());
        for bad in [
            "inf",
            "NaN",
            "1e18",
            "1796047200000",
            "1796047200000.5",
            "-1",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("1796047200000").unwrap_err().contains("milliseconds"));
    }
}
