//! Time arguments of the admin commands (`--now`, `--start-time`, …): epoch seconds (with an
//! optional fraction) or ISO-8601, parsed by the one parser `validate-logs` also uses
//! ([`crate::validate::time::parse_time`]). Times without an offset are UTC.

/// Parses a time argument into epoch seconds, keeping a fraction given in epoch form.
pub fn parse(text: &str) -> Result<f64, String> {
    let t = text.trim();
    if t.contains('.')
        && !t.contains(['-', ':', 'T'])
        && let Ok(secs) = t.parse::<f64>()
        && secs.is_finite()
    {
        return Ok(secs);
    }
    crate::validate::time::parse_time(t)
        .map(|s| s as f64)
        .map_err(|e| e.to_string())
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
        assert_eq!(parse("2026-11-30").unwrap(), t - 14.0 * 3600.0);
        assert!(parse("yesterday").is_err());
    }
}
