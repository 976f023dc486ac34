//! The `Rules` section: each rule's assertions checked against the parameter values before
//! a stack is created or updated ("If a parameter value isn't valid, CloudFormation doesn't
//! create or update the stack"). A rule whose `RuleCondition` is false asserts nothing; a
//! failed assertion refuses the call with its `AssertDescription`.
//!
//! The rule functions are `Fn::And`, `Fn::Or`, `Fn::Not`, `Fn::Equals`, `Fn::Contains`,
//! `Fn::EachMemberEquals` and `Fn::EachMemberIn` over `Ref`s to parameters and literal
//! values, and `Fn::RefAll` of the Availability Zone type. `Fn::ValueOf`, `Fn::ValueOfAll`
//! and `Fn::RefAll` of other AWS-specific types read resources Cairn does not run, so a rule
//! that needs them is refused, never skipped.

use serde_json::{Map, Value};

use crate::error::{TemplateError, TemplateResult};
use crate::eval::{Evaluator, NoResources, loose};
use crate::functions::call;

/// The functions a rule may use.
const RULE_FUNCTIONS: &[&str] = &[
    "Fn::And",
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::Equals",
    "Fn::Not",
    "Fn::Or",
    "Fn::RefAll",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
    "Ref",
];

fn format_error(message: impl AsRef<str>) -> TemplateError {
    TemplateError::format(message)
}

/// One rule: its condition and its assertions (with their descriptions).
struct Rule<'a> {
    name: &'a str,
    condition: Option<&'a Value>,
    assertions: Vec<(&'a Value, Option<&'a str>)>,
}

/// The rules of a template's `Rules` section, shape-checked: each an object with
/// `Assertions` (a list of objects with `Assert`) and an optional `RuleCondition`, every
/// function one a rule may use.
fn rules(root: &Map<String, Value>) -> TemplateResult<Vec<Rule<'_>>> {
    let Some(section) = root.get("Rules") else {
        return Ok(Vec::new());
    };
    let Value::Object(section) = section else {
        return Err(format_error("Every Rules member must be an object"));
    };
    let parameters: Vec<&str> = root
        .get("Parameters")
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (name, body) in section {
        let Value::Object(body) = body else {
            return Err(format_error(format!("Rule {name} must be an object")));
        };
        if let Some(k) = body
            .keys()
            .find(|k| !matches!(k.as_str(), "RuleCondition" | "Assertions"))
        {
            return Err(format_error(format!(
                "Rule {name} has an invalid property {k}"
            )));
        }
        let Some(Value::Array(list)) = body.get("Assertions") else {
            return Err(format_error(format!(
                "Rule {name} must have Assertions, a list of assertions"
            )));
        };
        let mut assertions = Vec::new();
        for a in list {
            let Some(assert) = a.get("Assert") else {
                return Err(format_error(format!(
                    "Every assertion of rule {name} must have an Assert"
                )));
            };
            let description = match a.get("AssertDescription") {
                None => None,
                Some(Value::String(d)) => Some(d.as_str()).filter(|d| !d.is_empty()),
                Some(_) => {
                    return Err(format_error(format!(
                        "The AssertDescription of rule {name} must be a string"
                    )));
                }
            };
            check_functions(assert, &parameters)?;
            assertions.push((assert, description));
        }
        let condition = body.get("RuleCondition");
        if let Some(c) = condition {
            check_functions(c, &parameters)?;
        }
        out.push(Rule {
            name,
            condition,
            assertions,
        });
    }
    Ok(out)
}

/// Refuses, anywhere in `v`, a function a rule may not use, a `Ref` to anything but a
/// parameter (or a pseudo parameter: rules read parameter values, before any resource
/// exists), and an `Fn::And`/`Fn::Or` without 2 to 10 conditions: what CreateStack would
/// refuse, ValidateTemplate refuses too (recheck30).
fn check_functions(v: &Value, parameters: &[&str]) -> TemplateResult<()> {
    if let Some((name, arg)) = call(v, false) {
        if !RULE_FUNCTIONS.contains(&name) {
            return Err(format_error(format!(
                "Encountered unsupported function in Rules: {name} Supported functions are: [{}]",
                RULE_FUNCTIONS.join(", ")
            )));
        }
        if name == "Ref"
            && let Some(target) = arg.as_str()
            && !target.starts_with("AWS::")
            && !parameters.contains(&target)
        {
            return Err(format_error(format!(
                "Unresolved resource dependencies [{target}] in the Rules block of the template"
            )));
        }
        if matches!(name, "Fn::And" | "Fn::Or")
            && !matches!(arg, Value::Array(items) if (2..=10).contains(&items.len()))
        {
            return Err(TemplateError::template(format!(
                "every {name} object requires a list of at least 2 and at most 10 parameters."
            )));
        }
        return check_functions(arg, parameters);
    }
    match v {
        Value::Array(items) => items
            .iter()
            .try_for_each(|i| check_functions(i, parameters)),
        Value::Object(m) => m.values().try_for_each(|i| check_functions(i, parameters)),
        _ => Ok(()),
    }
}

/// Shape-checks the `Rules` section (ValidateTemplate and every stack call).
pub fn validate(root: &Value) -> TemplateResult<()> {
    match root {
        Value::Object(m) => rules(m).map(|_| ()),
        _ => Ok(()),
    }
}

/// Checks every rule against the parameter values `ev` holds: the first failed assertion
/// refuses the call with its description.
pub fn check(ev: &Evaluator<'_>, root: &Value) -> TemplateResult<()> {
    let Value::Object(m) = root else {
        return Ok(());
    };
    for rule in rules(m)? {
        if let Some(c) = rule.condition
            && !boolean(ev, c)?
        {
            continue;
        }
        for (assert, description) in &rule.assertions {
            if !boolean(ev, assert)? {
                return Err(TemplateError::plain(match description {
                    Some(d) => d.to_string(),
                    None => format!("Assertion failed for rule {}", rule.name),
                }));
            }
        }
    }
    Ok(())
}

fn args<'a>(name: &str, arg: &'a Value, n: usize) -> TemplateResult<&'a [Value]> {
    match arg {
        Value::Array(items) if items.len() == n => Ok(items),
        _ => Err(TemplateError::template(format!(
            "every {name} object in Rules requires a list of {n} parameters."
        ))),
    }
}

fn boolean(ev: &Evaluator<'_>, v: &Value) -> TemplateResult<bool> {
    let Some((name, arg)) = call(v, false) else {
        return match v {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            _ => Err(TemplateError::template(
                "A rule's assertion or condition must be a boolean function",
            )),
        };
    };
    match name {
        "Fn::And" | "Fn::Or" => {
            let items = match arg {
                Value::Array(items) if (2..=10).contains(&items.len()) => items,
                _ => {
                    return Err(TemplateError::template(format!(
                        "every {name} object requires a list of at least 2 and at most 10 parameters."
                    )));
                }
            };
            let mut values = Vec::new();
            for i in items {
                values.push(boolean(ev, i)?);
            }
            Ok(if name == "Fn::And" {
                values.iter().all(|b| *b)
            } else {
                values.iter().any(|b| *b)
            })
        }
        "Fn::Not" => Ok(!boolean(ev, &args(name, arg, 1)?[0])?),
        "Fn::Equals" => {
            let a = args(name, arg, 2)?;
            Ok(loose(&value(ev, &a[0])?) == loose(&value(ev, &a[1])?))
        }
        "Fn::Contains" | "Fn::EachMemberEquals" | "Fn::EachMemberIn" => {
            let a = args(name, arg, 2)?;
            let first = strings(&value(ev, &a[0])?, name)?;
            let second = value(ev, &a[1])?;
            Ok(match name {
                "Fn::Contains" => first.contains(&text(&second, name)?),
                "Fn::EachMemberEquals" => {
                    let s = text(&second, name)?;
                    first.iter().all(|x| *x == s)
                }
                _ => {
                    let allowed = strings(&second, name)?;
                    first.iter().all(|x| allowed.contains(x))
                }
            })
        }
        other => Err(TemplateError::template(format!(
            "{other} is not a boolean rule function"
        ))),
    }
}

/// A rule function's value: a parameter's (`Ref`), a literal, or `Fn::RefAll` of the region's
/// Availability Zones.
fn value(ev: &Evaluator<'_>, v: &Value) -> TemplateResult<Value> {
    match call(v, false) {
        Some(("Fn::RefAll", arg)) => {
            let t = arg.as_str().unwrap_or_default();
            if t == "AWS::EC2::AvailabilityZone::Name" {
                let zones =
                    crate::eval::availability_zones(&ev.pseudo().region).unwrap_or_default();
                return Ok(Value::Array(zones.into_iter().map(Value::String).collect()));
            }
            Err(TemplateError::plain(format!(
                "Fn::RefAll of {t} in Rules reads resources Cairn does not run"
            )))
        }
        Some((f @ ("Fn::ValueOf" | "Fn::ValueOfAll"), _)) => Err(TemplateError::plain(format!(
            "{f} in Rules reads resources Cairn does not run"
        ))),
        Some(_) => ev.resolve(v, &NoResources),
        None => match v {
            Value::Array(items) => items
                .iter()
                .map(|i| value(ev, i))
                .collect::<TemplateResult<Vec<_>>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        },
    }
}

fn text(v: &Value, name: &str) -> TemplateResult<String> {
    match loose(v) {
        Value::String(s) => Ok(s),
        _ => Err(TemplateError::template(format!(
            "{name} in Rules compares a string"
        ))),
    }
}

/// A list of strings (a comma-delimited string counts as its items, as a list parameter's
/// value is one).
fn strings(v: &Value, name: &str) -> TemplateResult<Vec<String>> {
    match loose(v) {
        Value::Array(items) => items.iter().map(|i| text(i, name)).collect(),
        Value::String(s) => Ok(s.split(',').map(|x| x.trim().to_owned()).collect()),
        _ => Err(TemplateError::template(format!(
            "{name} in Rules needs a list of strings"
        ))),
    }
}
