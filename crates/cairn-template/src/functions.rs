//! The pieces of intrinsic functions that need no context: which object is a function call,
//! the `Fn::Sub` string grammar (`${Name}`, `${Res.Attr}`, `${!Literal}`), and `Fn::Cidr`'s
//! address arithmetic.

use serde_json::Value;

use crate::error::{TemplateError, TemplateResult};

/// The functions CloudFormation evaluates in `Resources` and `Outputs`, in the order its
/// "unsupported function" message lists them.
pub const SUPPORTED: &[&str] = &[
    "Fn::Base64",
    "Fn::GetAtt",
    "Fn::GetAZs",
    "Fn::ImportValue",
    "Fn::Join",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::Select",
    "Ref",
    "Fn::Equals",
    "Fn::If",
    "Fn::Not",
    "Condition",
    "Fn::And",
    "Fn::Or",
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
    "Fn::RefAll",
    "Fn::Sub",
    "Fn::Cidr",
];

/// Functions Cairn evaluates in `Resources` and `Outputs` (the rule functions `Fn::Contains`,
/// `Fn::EachMember*`, `Fn::ValueOf*` and `Fn::RefAll` belong to the `Rules` section, which
/// `crate::rules` evaluates).
const EVALUATED: &[&str] = &[
    "Fn::Base64",
    "Fn::GetAtt",
    "Fn::GetAZs",
    "Fn::ImportValue",
    "Fn::Join",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::Select",
    "Ref",
    "Fn::Equals",
    "Fn::If",
    "Fn::Not",
    "Condition",
    "Fn::And",
    "Fn::Or",
    "Fn::Sub",
    "Fn::Cidr",
];

/// If `v` is a function call (`{"Ref": …}` or `{"Fn::…": …}` as its only member), its name and
/// argument. `{"Condition": …}` counts only where conditions are expected (`in_condition`).
pub fn call(v: &Value, in_condition: bool) -> Option<(&str, &Value)> {
    let Value::Object(m) = v else {
        return None;
    };
    if m.len() != 1 {
        return None;
    }
    let (k, arg) = m.iter().next()?;
    let is_call = k == "Ref" || k.starts_with("Fn::") || (in_condition && k == "Condition");
    is_call.then_some((k.as_str(), arg))
}

/// Refuses a function Cairn does not evaluate with CloudFormation's message.
pub fn check_supported(name: &str) -> TemplateResult<()> {
    if EVALUATED.contains(&name) {
        Ok(())
    } else {
        Err(TemplateError::format(format!(
            "Encountered unsupported function: {name} Supported functions are: [{}]",
            SUPPORTED.join(", ")
        )))
    }
}

/// `Fn::Join`'s refusal of arguments it cannot take.
pub(crate) fn join_error() -> TemplateError {
    TemplateError::template(
        "every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.",
    )
}

/// `Fn::Split`'s refusal of arguments it cannot take.
pub(crate) fn split_error() -> TemplateError {
    TemplateError::template(
        "every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.",
    )
}

/// `Fn::Select`'s refusal of arguments it cannot take.
pub(crate) fn select_error() -> TemplateError {
    TemplateError::template(
        "Fn::Select requires a list argument with two elements: an integer index and a list",
    )
}

/// `Fn::FindInMap`'s refusal of arguments it cannot take.
pub(crate) fn find_in_map_error() -> TemplateError {
    TemplateError::template(
        "every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value",
    )
}

/// Whether `v` is a function call (whose value is known only when it is evaluated).
fn is_call(v: &Value) -> bool {
    call(v, true).is_some()
}

fn text_or_call(v: &Value) -> bool {
    matches!(v, Value::String(_)) || is_call(v)
}

fn list_or_call(v: &Value) -> bool {
    matches!(v, Value::Array(_)) || is_call(v)
}

/// The shape CloudFormation requires of a function's arguments, checked when a template is
/// submitted (ValidateTemplate, CreateStack), as AWS does, rather than when the value is
/// first evaluated inside a stack operation. Only what is literal is judged: an argument
/// that is itself a function call is checked when it is evaluated.
pub fn check_shape(name: &str, arg: &Value) -> TemplateResult<()> {
    let items = arg.as_array().map(Vec::as_slice);
    let ok = match name {
        "Fn::Join" => match items {
            Some([Value::String(_), list]) => list_or_call(list),
            _ => false,
        },
        "Fn::Split" => match items {
            Some([Value::String(d), text]) => !d.is_empty() && text_or_call(text),
            _ => false,
        },
        "Fn::Select" => match items {
            Some([index, list]) => {
                let index_ok = match index {
                    Value::Number(n) => n.as_u64().is_some(),
                    Value::String(s) => s.trim().parse::<usize>().is_ok(),
                    other => is_call(other),
                };
                index_ok && list_or_call(list)
            }
            _ => false,
        },
        "Fn::FindInMap" => match items {
            Some(keys @ [_, _, _]) => keys
                .iter()
                .all(|k| text_or_call(k) || matches!(k, Value::Number(_) | Value::Bool(_))),
            _ => false,
        },
        "Fn::Base64" | "Fn::GetAZs" | "Fn::ImportValue" => text_or_call(arg),
        "Fn::Cidr" => matches!(items, Some([_, _, _])),
        // The condition functions, checked here too so ValidateTemplate refuses what a
        // deployment would (`eval` words the same messages).
        "Fn::Equals" => matches!(items, Some([_, _])),
        "Fn::Not" => matches!(items, Some([_])),
        "Fn::And" | "Fn::Or" => items.is_some_and(|i| (2..=10).contains(&i.len())),
        "Fn::If" => matches!(items, Some([Value::String(_), _, _])),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    Err(match name {
        "Fn::Join" => join_error(),
        "Fn::Split" => split_error(),
        "Fn::Select" => select_error(),
        "Fn::FindInMap" => find_in_map_error(),
        "Fn::Cidr" => cidr_error(),
        "Fn::Equals" => TemplateError::template(
            "every Fn::Equals object requires a list of 2 string parameters.",
        ),
        "Fn::Not" => TemplateError::template(
            "every Fn::Not object requires a list of at least 1 and at most 1 parameters.",
        ),
        "Fn::And" | "Fn::Or" => TemplateError::template(format!(
            "every {name} object requires a list of at least 2 and at most 10 parameters."
        )),
        "Fn::If" => TemplateError::template(
            "Fn::If requires a list argument with three elements: a condition name, a value if true and a value if false",
        ),
        other => TemplateError::template(format!(
            "every {other} object requires a string or a function that returns a string as its parameter"
        )),
    })
}

/// One piece of an `Fn::Sub` string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubPart {
    /// Literal text (with `${!x}` already turned into `${x}`).
    Text(String),
    /// A `${name}` variable (trimmed).
    Var(String),
}

/// Splits an `Fn::Sub` string into text and variables.
pub fn sub_parts(s: &str) -> TemplateResult<Vec<SubPart>> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            // An unterminated `${` is literal text.
            text.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            text.push_str("${");
            text.push_str(literal);
            text.push('}');
        } else {
            let name = name.trim();
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'));
            if !valid {
                return Err(TemplateError::template(
                    "variable names in Fn::Sub syntax must contain only alphanumeric characters, underscores, periods, and colons",
                ));
            }
            if !text.is_empty() {
                parts.push(SubPart::Text(std::mem::take(&mut text)));
            }
            parts.push(SubPart::Var(name.to_owned()));
        }
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(SubPart::Text(text));
    }
    Ok(parts)
}

/// The arguments of an `Fn::Sub`: its string and its variable map (possibly empty).
pub fn sub_args(arg: &Value) -> TemplateResult<(&str, Option<&serde_json::Map<String, Value>>)> {
    let bad = || {
        TemplateError::template(
            "One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
        )
    };
    match arg {
        Value::String(s) => Ok((s, None)),
        Value::Array(items) if items.len() == 2 => match (&items[0], &items[1]) {
            (Value::String(s), Value::Object(m)) => Ok((s, Some(m))),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

fn cidr_error() -> TemplateError {
    TemplateError::template(
        "Fn::Cidr requires an IP block in CIDR notation, a count from 1 to 256 and a number of subnet bits",
    )
}

/// `Fn::Cidr`: `count` consecutive subnets of `bits` host bits carved from `block`.
pub fn cidr(block: &str, count: u64, bits: u32) -> TemplateResult<Vec<String>> {
    let (addr, prefix) = block.split_once('/').ok_or_else(cidr_error)?;
    let prefix: u32 = prefix.parse().map_err(|_| cidr_error())?;
    if !(1..=256).contains(&count) {
        return Err(cidr_error());
    }
    if let Ok(v4) = addr.parse::<std::net::Ipv4Addr>() {
        if prefix > 32 || bits == 0 || bits > 32 || 32 - bits < prefix {
            return Err(cidr_error());
        }
        let new_prefix = 32 - bits;
        let available = 1u64 << (new_prefix - prefix);
        if count > available {
            return Err(cidr_error());
        }
        let base = u32::from(v4) & (u32::MAX.checked_shl(32 - prefix).unwrap_or(0));
        return Ok((0..count)
            .map(|i| {
                let a = base as u64 + (i << bits);
                format!("{}/{new_prefix}", std::net::Ipv4Addr::from(a as u32))
            })
            .collect());
    }
    let v6: std::net::Ipv6Addr = addr.parse().map_err(|_| cidr_error())?;
    if prefix > 128 || bits == 0 || bits > 128 || 128 - bits < prefix {
        return Err(cidr_error());
    }
    let new_prefix = 128 - bits;
    if new_prefix - prefix < 64 && count > (1u64 << (new_prefix - prefix)) {
        return Err(cidr_error());
    }
    let base = u128::from(v6) & (u128::MAX.checked_shl(128 - prefix).unwrap_or(0));
    Ok((0..count as u128)
        .map(|i| {
            let a = base + (i << bits);
            format!("{}/{new_prefix}", std::net::Ipv6Addr::from(a))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_grammar() {
        assert_eq!(
            sub_parts("arn:${AWS::Partition}:s3:::${Bucket}/x${!Literal}").unwrap(),
            vec![
                SubPart::Text("arn:".into()),
                SubPart::Var("AWS::Partition".into()),
                SubPart::Text(":s3:::".into()),
                SubPart::Var("Bucket".into()),
                SubPart::Text("/x${Literal}".into()),
            ]
        );
        assert!(sub_parts("${a b}").is_err());
        assert_eq!(sub_parts("${").unwrap(), vec![SubPart::Text("${".into())]);
    }

    #[test]
    fn cidr_blocks() {
        assert_eq!(
            cidr("192.168.0.0/24", 6, 5).unwrap(),
            vec![
                "192.168.0.0/27",
                "192.168.0.32/27",
                "192.168.0.64/27",
                "192.168.0.96/27",
                "192.168.0.128/27",
                "192.168.0.160/27"
            ]
        );
        assert!(cidr("10.0.0.0/24", 9, 5).is_err());
        assert_eq!(
            cidr("2001:db8::/56", 2, 64).unwrap()[1],
            "2001:db8:0:1::/64"
        );
    }
}
