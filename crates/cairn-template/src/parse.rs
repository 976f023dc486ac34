//! Template bodies into one JSON model: a body whose first non-blank character is `{` is JSON,
//! anything else YAML. YAML's short-form tags become their long forms (`!Ref X` →
//! `{"Ref": "X"}`, `!GetAtt a.b` → `{"Fn::GetAtt": ["a", "b"]}`, `!Sub s` → `{"Fn::Sub": s}`,
//! …), which is also the form CloudFormation processes, so the rest of the crate sees only
//! JSON values.

use serde_json::{Map, Number, Value};
use serde_norway::Value as Yaml;

use crate::error::{TemplateError, TemplateResult};

/// The largest template body CloudFormation accepts inline (`TemplateBody`), in bytes.
pub const MAX_BODY_BYTES: usize = 51_200;

/// How deeply values may nest before the template is refused (guards the stack).
const MAX_DEPTH: usize = 64;

/// The short-form tags and the long-form keys they stand for.
const SHORT_FORMS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("GetAtt", "Fn::GetAtt"),
    ("Base64", "Fn::Base64"),
    ("Cidr", "Fn::Cidr"),
    ("FindInMap", "Fn::FindInMap"),
    ("GetAZs", "Fn::GetAZs"),
    ("ImportValue", "Fn::ImportValue"),
    ("Join", "Fn::Join"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("Sub", "Fn::Sub"),
    ("Transform", "Fn::Transform"),
    ("And", "Fn::And"),
    ("Equals", "Fn::Equals"),
    ("If", "Fn::If"),
    ("Not", "Fn::Not"),
    ("Or", "Fn::Or"),
    // The rule functions of the `Rules` section.
    ("Contains", "Fn::Contains"),
    ("EachMemberEquals", "Fn::EachMemberEquals"),
    ("EachMemberIn", "Fn::EachMemberIn"),
    ("RefAll", "Fn::RefAll"),
    ("ValueOf", "Fn::ValueOf"),
    ("ValueOfAll", "Fn::ValueOfAll"),
];

/// Whether a body is JSON (its first non-blank character is `{`).
pub fn is_json(body: &str) -> bool {
    body.trim_start().starts_with('{')
}

/// Parses a template body (JSON or YAML) into its long-form JSON model.
pub fn parse_body(body: &str) -> TemplateResult<Value> {
    let value = if is_json(body) {
        serde_json::from_str::<Value>(body).map_err(|e| {
            TemplateError::format(format!(
                "JSON not well-formed. (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?
    } else {
        refuse_deep_flow(body)?;
        refuse_aliases(body)?;
        let yaml: Yaml = serde_norway::from_str(body).map_err(|e| match e.location() {
            Some(l) => TemplateError::format(format!(
                "YAML not well-formed. (line {}, column {})",
                l.line(),
                l.column()
            )),
            None => TemplateError::format(format!("YAML not well-formed. {e}")),
        })?;
        to_json(yaml, 0)?
    };
    check_depth(&value, 0)?;
    let mut value = value;
    dotted_get_att(&mut value);
    match value {
        Value::Object(_) => Ok(value),
        _ => Err(TemplateError::format(
            "not a valid template: the template must be a JSON object or a YAML mapping",
        )),
    }
}

/// How deeply `[`/`{` may open in a YAML body's text before it is refused unparsed. The YAML
/// parser's time grows with the square of flow nesting (a 40 KB body of nested `[` took
/// seconds of a core, before authorization), so a body nesting far beyond [`MAX_DEPTH`] is
/// refused by a linear scan first; the exact limit is checked on the parsed value. Every
/// bracket counts, in strings and comments too (telling those apart needs the parser this
/// guards): a template refused that way holds over 256 brackets opened and not closed.
const MAX_FLOW_SCAN_DEPTH: usize = 4 * MAX_DEPTH;

fn refuse_deep_flow(body: &str) -> TemplateResult<()> {
    let mut depth = 0usize;
    for b in body.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FLOW_SCAN_DEPTH {
                    return Err(too_deep());
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// CloudFormation does not support YAML aliases. A template without them holds no more
/// string content than its own text and at most two values a byte, so a count of what the
/// YAML expands to (made without building it) that goes past that proves an alias repeats a
/// node, and the template is refused before anything is expanded: a 50 KB template cannot
/// make the server build gigabytes. A malformed body is left to the parse, which names where.
fn refuse_aliases(body: &str) -> TemplateResult<()> {
    let budget = cairn_model::budget::Budget::new(2 * body.len() + 16, body.len() + 16);
    match budget.count(serde_norway::Deserializer::from_str(body)) {
        Err(_) if budget.exceeded() => Err(TemplateError::template(
            "YAML aliases are not allowed in CloudFormation templates",
        )),
        _ => Ok(()),
    }
}

/// `{"Fn::GetAtt": "a.b"}`, the dotted string CloudFormation also takes in the long form
/// (JSON, or YAML's `Fn::GetAtt: a.b`), as the two-item list every other step reads. Runs
/// after the depth check, so the walk is bounded.
fn dotted_get_att(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.len() == 1
                && let Some(arg) = m.get_mut("Fn::GetAtt")
                && let Some((res, attr)) = arg.as_str().and_then(|s| s.split_once('.'))
            {
                *arg = Value::Array(vec![Value::String(res.into()), Value::String(attr.into())]);
                return;
            }
            m.values_mut().for_each(dotted_get_att);
        }
        Value::Array(items) => items.iter_mut().for_each(dotted_get_att),
        _ => {}
    }
}

fn too_deep() -> TemplateError {
    TemplateError::format(format!(
        "the template nests values more than {MAX_DEPTH} levels deep"
    ))
}

fn check_depth(v: &Value, depth: usize) -> TemplateResult<()> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    match v {
        Value::Array(items) => items.iter().try_for_each(|i| check_depth(i, depth + 1)),
        Value::Object(m) => m.values().try_for_each(|i| check_depth(i, depth + 1)),
        _ => Ok(()),
    }
}

fn number(n: &serde_norway::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Number(i.into())
    } else if let Some(u) = n.as_u64() {
        Value::Number(u.into())
    } else {
        n.as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(n.to_string()))
    }
}

fn key_string(k: Yaml) -> TemplateResult<String> {
    match k {
        Yaml::String(s) => Ok(s),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::Null => Ok("null".to_owned()),
        _ => Err(TemplateError::format(
            "YAML not well-formed. Mapping keys must be scalars",
        )),
    }
}

fn to_json(y: Yaml, depth: usize) -> TemplateResult<Value> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => number(&n),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(|i| to_json(i, depth + 1))
                .collect::<TemplateResult<_>>()?,
        ),
        Yaml::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(key_string(k)?, to_json(v, depth + 1)?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let Some((short, long)) = SHORT_FORMS.iter().find(|(s, _)| *s == name) else {
                return Err(TemplateError::format(format!(
                    "YAML not well-formed. Unsupported tag {tag}: the short forms are !Ref, !Condition and !{{function}} for Fn:: functions"
                )));
            };
            let inner = to_json(tagged.value, depth + 1)?;
            let inner = match (*short, inner) {
                ("GetAtt", Value::String(s)) => match s.split_once('.') {
                    Some((res, attr)) => {
                        Value::Array(vec![Value::String(res.into()), Value::String(attr.into())])
                    }
                    None => Value::String(s),
                },
                (_, v) => v,
            };
            let mut out = Map::new();
            out.insert((*long).to_owned(), inner);
            Value::Object(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn aliases_that_repeat_nodes_are_refused_before_they_are_expanded() {
        let s = "x".repeat(2_000);
        let l1 = vec!["*s"; 100].join(", ");
        let l2 = vec!["*l1"; 200].join(", ");
        // 200 × 100 copies of 2,000 bytes: 40 MB from a 4 KB body.
        let body = format!(
            "Resources:\n  A:\n    Type: AWS::SNS::Topic\nMetadata:\n  s: &s {s}\n  l1: &l1 [{l1}]\n  l2: [{l2}]\n"
        );
        let e = parse_body(&body).unwrap_err();
        assert_eq!(
            e.message(),
            "Template error: YAML aliases are not allowed in CloudFormation templates"
        );
        // `&` and `*` inside strings are text, not anchors.
        let ok = "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: 'a & b *c'\n      TopicName: arn:aws:s3:::b/*\n";
        assert!(parse_body(ok).is_ok());
    }

    #[test]
    fn short_forms_become_long_forms() {
        let v = parse_body(
            "Resources:\n  A:\n    Type: X\n    Properties:\n      P: !Ref B\n      Q: !GetAtt B.Arn\n      R: !Join ['', [a, !Sub '${AWS::Region}']]\n      S: !If [C, !Ref AWS::NoValue, 1]\n",
        )
        .unwrap();
        let p = &v["Resources"]["A"]["Properties"];
        assert_eq!(p["P"], json!({"Ref": "B"}));
        assert_eq!(p["Q"], json!({"Fn::GetAtt": ["B", "Arn"]}));
        // The dotted string of the long form, in JSON and in YAML.
        for body in [
            r#"{"Resources": {"A": {"Type": "X", "Properties": {"Q": {"Fn::GetAtt": "B.Arn"}}}}}"#,
            "Resources:\n  A:\n    Type: X\n    Properties:\n      Q:\n        Fn::GetAtt: B.Arn\n",
        ] {
            let t = parse_body(body).unwrap();
            assert_eq!(
                t["Resources"]["A"]["Properties"]["Q"],
                json!({"Fn::GetAtt": ["B", "Arn"]}),
                "{body}"
            );
        }
        assert_eq!(
            p["R"],
            json!({"Fn::Join": ["", ["a", {"Fn::Sub": "${AWS::Region}"}]]})
        );
        assert_eq!(p["S"], json!({"Fn::If": ["C", {"Ref": "AWS::NoValue"}, 1]}));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse_body("{\"Resources\": ").unwrap_err();
        assert!(
            e.message()
                .starts_with("Template format error: JSON not well-formed. (line 1, column"),
            "{e}"
        );
        let e = parse_body("Resources:\n  A: [1,\n").unwrap_err();
        assert!(
            e.message()
                .starts_with("Template format error: YAML not well-formed. (line"),
            "{e}"
        );
        let e = parse_body("A: !Nope x").unwrap_err();
        assert!(e.message().contains("Unsupported tag !Nope"), "{e}");
        assert!(parse_body("- a").is_err());
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_body(&format!("{{\"a\": {deep}}}")).is_err());
        assert!(parse_body(&format!("a: {deep}")).is_err());
    }

    #[test]
    fn deep_yaml_flow_is_refused_before_the_parser_reads_it() {
        // cfn5: 20,000 nested `[` (40 KB) took the YAML parser ~15 s, quadratic in the depth,
        // before the call was even authorized. Refused by the scan, it costs a pass over the
        // bytes; the message is the depth check's.
        let body = format!(
            "Resources:\n  T: {{Type: AWS::SNS::Topic, Properties: {{DisplayName: {}{}}}}}\n",
            "[".repeat(20_000),
            "]".repeat(20_000)
        );
        let e = parse_body(&body).unwrap_err();
        assert!(e.message().contains("levels deep"), "{e}");
        assert!(
            refuse_deep_flow(&body).is_err(),
            "refused by the scan, not the parser"
        );
        // Balanced brackets in strings, `!Sub` variables and inline code stay accepted.
        let ok = "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !Sub '${AWS::Region}-[x]'\n";
        assert!(parse_body(ok).is_ok());
    }
}
