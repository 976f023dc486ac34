//! Runs the conformance table (`tests/data/conformance.json`, sources in
//! `tests/data/conformance_gen.py`) through the parser and matcher.

use std::collections::BTreeMap;

use cairn_filter::FilterPattern;
use serde_json::Value;

fn table() -> Value {
    serde_json::from_str(include_str!("data/conformance.json")).expect("conformance.json")
}

fn message<'a>(table: &'a Value, row: &'a Value) -> &'a str {
    let m = row["message"].as_str().expect("message");
    match m.strip_prefix('@') {
        Some(id) => table["messages"][id].as_str().expect("named message"),
        None => m,
    }
}

#[test]
fn every_row_of_the_table_holds() {
    let table = table();
    let rows = table["rows"].as_array().expect("rows");
    assert!(rows.len() >= 150, "the table has {} rows", rows.len());
    let mut failures = Vec::new();
    for row in rows {
        let pattern = row["pattern"].as_str().expect("pattern");
        let source = row["source"].as_str().unwrap_or("");
        let parsed = FilterPattern::parse(pattern);
        if let Some(expected) = row.get("error").and_then(Value::as_str) {
            match parsed {
                Err(e) if e.message == expected => {}
                other => failures.push(format!(
                    "[{source}] {pattern:?}: expected error {expected:?}, got {other:?}"
                )),
            }
            continue;
        }
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("[{source}] {pattern:?}: unexpected error {e}"));
                continue;
            }
        };
        let text = message(&table, row);
        let got = parsed.test(text);
        let want = row["match"].as_bool().expect("match");
        if got.is_some() != want {
            failures.push(format!(
                "[{source}] {pattern:?} on {text:.80?}: expected match={want}"
            ));
            continue;
        }
        if let Some(m) = got {
            let got: BTreeMap<String, String> = m.extracted.into_iter().collect();
            let want: BTreeMap<String, String> =
                serde_json::from_value(row["extracted"].clone()).expect("extracted map");
            if got != want {
                failures.push(format!(
                    "[{source}] {pattern:?}: extracted {got:?}, expected {want:?}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
