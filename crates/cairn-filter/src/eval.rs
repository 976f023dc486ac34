//! Evaluation of each pattern kind over one message (§2.2–§2.5). JSON patterns read a parsed
//! value (see [`crate::projection`]); the others read the raw text.

use serde_json::Value;

use crate::ast::{Check, Cond, Delimited, FieldTest, JsonTest, Op, Operand, Slot, Step, Terms};
use crate::parse::is_number;

/// Unstructured terms: some alternative has all its substrings, and no excluded one occurs.
pub(crate) fn terms(t: &Terms, text: &str) -> bool {
    !t.excluded.iter().any(|x| text.contains(x.as_str()))
        && t.groups
            .iter()
            .any(|g| g.iter().all(|term| text.contains(term.as_str())))
}

/// Splits a message into space-delimited tokens: `"…"` and `[…]` are one token each, without
/// their enclosing characters.
pub fn tokenize(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            return out;
        }
        let close = match rest.as_bytes()[0] {
            b'"' => Some('"'),
            b'[' => Some(']'),
            _ => None,
        };
        match close {
            Some(c) => {
                let body = &rest[1..];
                let end = body.find(c).unwrap_or(body.len());
                out.push(&body[..end]);
                rest = body.get(end + 1..).unwrap_or("");
                // Whatever touches the closing character belongs to no token.
                let skip = rest.find(' ').unwrap_or(rest.len());
                rest = &rest[skip..];
            }
            None => {
                let end = rest.find(' ').unwrap_or(rest.len());
                out.push(&rest[..end]);
                rest = &rest[end..];
            }
        }
    }
}

fn field_test(test: &FieldTest, token: Option<&str>) -> bool {
    let Some(t) = token else { return false };
    operand(
        test.op,
        &test.operand,
        t,
        is_number(t).then(|| t.parse().ok()).flatten(),
    )
}

/// Compares a textual value (and its numeric reading, if it has one) with an operand.
fn operand(op: Op, operand: &Operand, text: &str, number: Option<f64>) -> bool {
    let eq = op == Op::Eq;
    match operand {
        Operand::Number(n) => number.is_some_and(|v| op.numbers(v, *n)),
        Operand::Text(s) => (text == s) == eq,
        Operand::Glob(g) => g.matches(text) == eq,
        Operand::Any => eq,
        Operand::Regex(re) => re.regex.is_match(text) == eq,
    }
}

fn cond<T>(c: &Cond<T>, test: &impl Fn(&T) -> bool) -> bool {
    match c {
        Cond::Test(t) => test(t),
        Cond::And(items) => items.iter().all(|i| cond(i, test)),
        Cond::Or(items) => items.iter().any(|i| cond(i, test)),
    }
}

/// A space-delimited pattern: the extracted values (`$name` or `$<position>` → token) when the
/// message matches.
pub(crate) fn delimited(d: &Delimited, text: &str) -> Option<Vec<(String, String)>> {
    let tokens = tokenize(text);
    let slot_of = assign(d, tokens.len())?;
    let named = |field: &str| -> Option<&str> {
        slot_of
            .iter()
            .zip(&tokens)
            .find_map(|(slot, tok)| match slot {
                Some(k) => match &d.slots[*k] {
                    Slot::Field { name: Some(n), .. } if n == field => Some(*tok),
                    _ => None,
                },
                None => None,
            })
    };
    for s in &d.slots {
        if let Slot::Field {
            condition: Some(c), ..
        } = s
            && !cond(c, &|t: &FieldTest| field_test(t, named(&t.field)))
        {
            return None;
        }
    }
    Some(
        slot_of
            .iter()
            .zip(&tokens)
            .enumerate()
            .map(|(pos, (slot, tok))| {
                let key = match slot.map(|k| &d.slots[k]) {
                    Some(Slot::Field { name: Some(n), .. }) => format!("${n}"),
                    _ => format!("${}", pos + 1),
                };
                (key, (*tok).to_owned())
            })
            .collect(),
    )
}

/// For each token, the index of the slot it fills (`None` under `...`); `None` overall when the
/// token count does not fit the slots.
fn assign(d: &Delimited, count: usize) -> Option<Vec<Option<usize>>> {
    match d.ellipsis() {
        None => (count == d.slots.len()).then(|| (0..count).map(Some).collect()),
        Some(e) => {
            let after = d.slots.len() - e - 1;
            if count < e + after {
                return None;
            }
            let absorbed = count - e - after;
            Some(
                (0..count)
                    .map(|p| {
                        if p < e {
                            Some(p)
                        } else if p < e + absorbed {
                            None
                        } else {
                            Some(p - absorbed + 1)
                        }
                    })
                    .collect(),
            )
        }
    }
}

/// The node a selector names, if present.
pub fn select<'v>(root: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(root, |node, step| match (step, node) {
        (Step::Key(k), Value::Object(m)) => m.get(k),
        (Step::Index(n), Value::Array(a)) => a.get(*n),
        _ => None,
    })
}

fn json_test(t: &JsonTest, root: &Value) -> bool {
    let node = select(root, &t.path);
    match &t.check {
        Check::NotExists => node.is_none(),
        Check::IsNull => matches!(node, Some(Value::Null)),
        Check::IsTrue => matches!(node, Some(Value::Bool(true))),
        Check::IsFalse => matches!(node, Some(Value::Bool(false))),
        Check::Compare(op, value) => match (node, value) {
            (Some(Value::Number(n)), Operand::Number(x)) => {
                n.as_f64().is_some_and(|v| op.numbers(v, *x))
            }
            (Some(Value::String(s)), Operand::Text(_) | Operand::Glob(_) | Operand::Regex(_)) => {
                operand(*op, value, s, None)
            }
            (Some(Value::Number(n)), Operand::Glob(_) | Operand::Regex(_)) => {
                operand(*op, value, &n.to_string(), None)
            }
            (Some(Value::String(_) | Value::Number(_) | Value::Bool(_)), Operand::Any) => {
                *op == Op::Eq
            }
            _ => false,
        },
    }
}

/// A JSON pattern over a parsed message.
pub(crate) fn json(c: &Cond<JsonTest>, root: &Value) -> bool {
    root.is_object() && cond(c, &|t: &JsonTest| json_test(t, root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_strip_quotes_and_brackets() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
        assert_eq!(
            tokenize(line),
            vec![
                "127.0.0.1",
                "-",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /apache_pb.gif HTTP/1.0",
                "200",
                "1534"
            ]
        );
        assert_eq!(tokenize("  a   b "), vec!["a", "b"]);
        assert_eq!(tokenize(r#"a "unclosed"#), vec!["a", "unclosed"]);
        assert!(tokenize("").is_empty());
    }
}
