//! Pure text helpers for the pages and downloads.

use serde_json::Value;

/// One CSV cell: spreadsheet formula injection neutralised (a cell starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'`, as OWASP recommends), then quoted
/// when it holds a comma, quote or line break (RFC 4180).
pub fn csv_cell(raw: &str) -> String {
    let neutral = match raw.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{raw}"),
        _ => raw.to_owned(),
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// One CSV line (CRLF-terminated) of `cells`.
pub fn csv_line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// Whether `c` changes how text around it is ordered or hides itself: the bidirectional
/// controls (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI, LRM, RLM, ALM) and the zero-width
/// space, word joiner and BOM. Not ZWNJ or ZWJ, which Persian, Indic scripts and emoji need.
fn hidden(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{2060}'
            | '\u{FEFF}'
            | '\u{00AD}'
            | '\u{180E}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{2028}'
            | '\u{2029}'
    ) || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2061}'..='\u{2064}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
        || ('\u{E0000}'..='\u{E007F}').contains(&c)
}

/// `raw` with every [`hidden`] character written as its JSON escape (`\u202E`), so a value
/// shown in an audit view reads as what it is: `\u202Egpj.exe` is not shown as "exe.jpg"
/// (CVE-2021-42574's trick). In an event record the escape is the same JSON. Only for text
/// shown, never a form's value, which must come back unchanged.
pub fn visible(raw: &str) -> String {
    if !raw.chars().any(hidden) {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len() + 12);
    for c in raw.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{:04X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Epoch seconds as shown in tables: `2024-05-01 13:45:10 UTC`.
pub fn display_time(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "-".to_owned())
}

/// Epoch seconds as a `datetime-local` input value (UTC).
pub fn input_time(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Parses a `datetime-local` value (UTC; seconds optional) to epoch seconds.
pub fn parse_input_time(value: &str) -> Option<i64> {
    let value = value.trim();
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(value, f).ok())
        .map(|t| t.and_utc().timestamp())
}

/// A JSON value flattened to `(dotted.path, compact JSON)` leaves, at most `limit` of them;
/// arrays are indexed (`items[0].name`).
pub fn flatten(value: &Value, limit: usize) -> Vec<(String, String)> {
    fn walk(v: &Value, path: String, out: &mut Vec<(String, String)>, limit: usize) {
        if out.len() >= limit {
            return;
        }
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(child, p, out, limit);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, child) in a.iter().enumerate() {
                    walk(child, format!("{path}[{i}]"), out, limit);
                }
            }
            Value::String(s) => out.push((path, s.clone())),
            other => out.push((path, other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out, limit);
    out
}

/// Bytes for people: `1.4 KB`.
pub fn display_size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = bytes.max(0) as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reordering_and_invisible_characters_are_shown() {
        assert_eq!(visible("\u{202E}gpj.exe"), "\\u202Egpj.exe");
        assert_eq!(visible("zero\u{200B}width"), "zero\\u200Bwidth");
        assert_eq!(
            visible("a\u{2066}b\u{2069}\u{FEFF}"),
            "a\\u2066b\\u2069\\uFEFF"
        );
        // Soft hyphens, invisible operators and tag characters hide text too (recheck31).
        assert_eq!(
            visible("a\u{00AD}b\u{2062}c\u{180E}\u{E0041}"),
            "a\\u00ADb\\u2062c\\u180E\\uE0041"
        );
        // Hangul fillers (blank, yet letters) and the line and paragraph separators.
        assert_eq!(visible("x\u{3164}y\u{2028}z"), "x\\u3164y\\u2028z");
        // Scripts and emoji that need joiners, and plain right-to-left text, are untouched.
        for kept in ["می\u{200C}خواهم", "👨\u{200D}👩", "עברית", "plain"] {
            assert_eq!(visible(kept), kept);
        }
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_line(&["a", "=b"]), "a,'=b\r\n");
    }

    #[test]
    fn times_round_trip() {
        assert_eq!(display_time(1_704_067_200), "2024-01-01 00:00:00 UTC");
        assert_eq!(input_time(1_704_067_200), "2024-01-01T00:00:00");
        assert_eq!(parse_input_time("2024-01-01T00:00:00"), Some(1_704_067_200));
        assert_eq!(parse_input_time("2024-01-01T00:01"), Some(1_704_067_260));
        assert_eq!(parse_input_time("yesterday"), None);
    }

    #[test]
    fn flattening_is_bounded() {
        let v = serde_json::json!({"a": {"b": 1, "c": ["x", {"d": null}]}, "e": "f"});
        assert_eq!(
            flatten(&v, 10),
            vec![
                ("a.b".to_owned(), "1".to_owned()),
                ("a.c[0]".to_owned(), "x".to_owned()),
                ("a.c[1].d".to_owned(), "null".to_owned()),
                ("e".to_owned(), "f".to_owned()),
            ]
        );
        assert_eq!(flatten(&v, 2).len(), 2);
    }

    #[test]
    fn sizes() {
        assert_eq!(display_size(10), "10 B");
        assert_eq!(display_size(2048), "2.0 KB");
    }
}
