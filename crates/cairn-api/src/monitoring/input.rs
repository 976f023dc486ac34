//! CloudWatch request members, whatever the protocol: AWS Query parameters are folded into the
//! JSON shape (`A.member.1.B` → `{"A":[{"B":…}]}`) so one set of typed accessors reads both;
//! scalars from Query arrive as strings and are accepted as such.

use std::collections::BTreeMap;

use cairn_core::alarms::{invalid, missing};
use cairn_core::error::ApiResult;
use serde_json::{Map, Value};

#[derive(Default)]
struct Node {
    value: Option<String>,
    children: BTreeMap<String, Node>,
}

fn to_value(node: Node) -> Value {
    if node.children.is_empty() {
        return node.value.map(Value::String).unwrap_or(Value::Null);
    }
    let mut fields = Map::new();
    for (k, child) in node.children {
        fields.insert(k, to_value_member(child));
    }
    Value::Object(fields)
}

/// A node whose only child is `member` (with numbered children) is a list.
fn to_value_member(mut node: Node) -> Value {
    if node.children.len() == 1
        && let Some(members) = node.children.remove("member")
    {
        let mut items: Vec<(u64, Node)> = members
            .children
            .into_iter()
            .filter_map(|(i, n)| i.parse::<u64>().ok().map(|i| (i, n)))
            .collect();
        items.sort_by_key(|(i, _)| *i);
        return Value::Array(items.into_iter().map(|(_, n)| to_value(n)).collect());
    }
    to_value(node)
}

/// Folds Query parameters (other than `Action` and `Version`) into a JSON object.
pub fn from_query(params: &crate::query::Params) -> Value {
    let mut root = Node::default();
    for (k, v) in params.iter() {
        if k == "Action" || k == "Version" {
            continue;
        }
        let mut node = &mut root;
        for part in k.split('.') {
            node = node.children.entry(part.to_owned()).or_default();
        }
        node.value = Some(v.clone());
    }
    match to_value(root) {
        Value::Null => Value::Object(Map::new()),
        v => v,
    }
}

/// Members nested in CloudWatch's inputs that its model types as numbers or booleans
/// (MetricData's `Value`, `Values`, `Counts`, `StatisticValues`, `StorageResolution`;
/// GetMetricData's queries' `Period` and `ReturnData`): recorded with that type.
const NESTED_NUMBERS: &[&str] = &[
    "Value",
    "Values",
    "Counts",
    "SampleCount",
    "Sum",
    "Minimum",
    "Maximum",
    "StorageResolution",
    "Period",
    "WarmUpPeriodDurationInMinutes",
];
const NESTED_BOOLEANS: &[&str] = &["ReturnData", "OnlyStartEvaluatingAfterWarmUpPeriodEnds"];

/// A request folded from Query parameters (every scalar a string), with its scalars typed
/// as the model types them, so its record is the same whatever the protocol: top-level
/// members by the model's type, nested ones by [`NESTED_NUMBERS`] and [`NESTED_BOOLEANS`].
pub fn typed_from_query(op: &str, body: &Value) -> Value {
    let Value::Object(members) = body else {
        return body.clone();
    };
    let mut out = serde_json::Map::new();
    for (name, v) in members {
        if matches!(name.as_str(), "Dimensions" | "Tags") {
            out.insert(name.clone(), v.clone());
            continue;
        }
        let ty = crate::model_check::member_type("cloudwatch", op, name);
        out.insert(name.clone(), typed_as(ty, v));
    }
    Value::Object(out)
}

fn typed_as(ty: Option<&str>, v: &Value) -> Value {
    match (ty, v) {
        (Some("integer" | "long"), Value::String(s)) => {
            s.parse::<i64>().map_or_else(|_| v.clone(), Value::from)
        }
        // As a JSON client sends it: `5` stays an integer, `100.0` a double.
        (Some("double" | "float"), Value::String(s)) => s.parse::<i64>().map_or_else(
            |_| {
                s.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| v.clone(), Value::Number)
            },
            Value::from,
        ),
        // A JSON client sends epoch seconds.
        (Some("timestamp"), Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map_or_else(
                |_| v.clone(),
                |t| {
                    let ms = t.timestamp_millis();
                    if ms % 1000 == 0 {
                        Value::from(ms / 1000)
                    } else {
                        serde_json::Number::from_f64(ms as f64 / 1000.0)
                            .map_or_else(|| v.clone(), Value::Number)
                    }
                },
            ),
        (Some("boolean"), Value::String(s)) if s == "true" || s == "false" => {
            Value::Bool(s == "true")
        }
        (_, Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|i| typed_as(ty.filter(|t| *t != "list"), i))
                .collect(),
        ),
        (_, Value::Object(m)) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    // Dimension and tag values are strings, whatever they look like.
                    if matches!(k.as_str(), "Dimensions" | "Tags") {
                        return (k.clone(), v.clone());
                    }
                    let nested = if NESTED_NUMBERS.contains(&k.as_str()) {
                        Some("double")
                    } else if NESTED_BOOLEANS.contains(&k.as_str()) {
                        Some("boolean")
                    } else {
                        None
                    };
                    (k.clone(), typed_as(nested, v))
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

fn type_error(member: &str, expected: &str) -> cairn_core::ApiError {
    invalid(format!("The parameter {member} must be {expected}."))
}

/// An optional string.
pub fn opt_str(v: &Value, member: &str) -> ApiResult<Option<String>> {
    match v.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(type_error(member, "a string")),
    }
}

/// A required string.
pub fn req_str(v: &Value, member: &str) -> ApiResult<String> {
    opt_str(v, member)?.ok_or_else(|| missing(member))
}

/// An optional number (JSON number or numeric string).
pub fn opt_f64(v: &Value, member: &str) -> ApiResult<Option<f64>> {
    match v.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| type_error(member, "a number")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| type_error(member, "a number")),
        Some(_) => Err(type_error(member, "a number")),
    }
}

/// An optional integer: every whole-number member CloudWatch reads is an `integer` of its
/// model, 32 bits, at the top level or nested (`MetricStat.Period`); a larger value is not one.
pub fn opt_i64(v: &Value, member: &str) -> ApiResult<Option<i64>> {
    match opt_f64(v, member)? {
        None => Ok(None),
        Some(f) if f.fract() == 0.0 && f >= f64::from(i32::MIN) && f <= f64::from(i32::MAX) => {
            Ok(Some(f as i64))
        }
        Some(_) => Err(type_error(member, "an integer")),
    }
}

/// A required integer.
pub fn req_i64(v: &Value, member: &str) -> ApiResult<i64> {
    opt_i64(v, member)?.ok_or_else(|| missing(member))
}

/// An optional boolean (`true`/`false`, as JSON or text).
pub fn opt_bool(v: &Value, member: &str) -> ApiResult<Option<bool>> {
    match v.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(_) => Err(type_error(member, "a boolean")),
    }
}

/// An optional timestamp in ms: epoch seconds (JSON) or ISO 8601 (Query).
pub fn opt_time(v: &Value, member: &str) -> ApiResult<Option<i64>> {
    let secs = match v.get(member) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.parse::<f64>().ok().or_else(|| {
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.timestamp_millis() as f64 / 1000.0)
        }),
        Some(_) => None,
    };
    match secs {
        Some(s) if s.is_finite() && s.abs() < 1.0e12 => Ok(Some((s * 1000.0).round() as i64)),
        _ => Err(type_error(member, "a timestamp")),
    }
}

/// A required timestamp in ms.
pub fn req_time(v: &Value, member: &str) -> ApiResult<i64> {
    opt_time(v, member)?.ok_or_else(|| missing(member))
}

/// An optional list.
pub fn opt_list<'a>(v: &'a Value, member: &str) -> ApiResult<&'a [Value]> {
    match v.get(member) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(type_error(member, "a list")),
    }
}

/// An optional list of strings.
pub fn str_list(v: &Value, member: &str) -> ApiResult<Vec<String>> {
    opt_list(v, member)?
        .iter()
        .map(|x| {
            x.as_str()
                .map(str::to_owned)
                .ok_or_else(|| type_error(member, "a list of strings"))
        })
        .collect()
}

/// `[{Name, Value}]` dimensions (`Value` required unless `value_optional`).
pub fn dimensions(
    v: &Value,
    member: &str,
    value_optional: bool,
) -> ApiResult<Vec<(String, Option<String>)>> {
    opt_list(v, member)?
        .iter()
        .map(|d| {
            let name = req_str(d, "Name")?;
            let value = opt_str(d, "Value")?;
            if value.is_none() && !value_optional {
                return Err(missing("Value"));
            }
            Ok((name, value))
        })
        .collect()
}

/// Dimensions whose values are all present.
pub fn full_dimensions(v: &Value, member: &str) -> ApiResult<Vec<(String, String)>> {
    Ok(dimensions(v, member, false)?
        .into_iter()
        .map(|(n, v)| (n, v.unwrap_or_default()))
        .collect())
}

/// `[{Key, Value}]` tags.
pub fn tags(v: &Value, member: &str) -> ApiResult<Vec<(String, String)>> {
    opt_list(v, member)?
        .iter()
        .map(|t| Ok((req_str(t, "Key")?, req_str(t, "Value")?)))
        .collect()
}

/// What a `NextToken` of DescribeAlarms or ListMetrics is bound to: the operation and every
/// member but the paging ones (a token used with a changed `AlarmNamePrefix`, `Namespace`…
/// is refused).
fn page_scope(op: &str, body: &Value) -> String {
    let mut b = body.clone();
    if let Some(m) = b.as_object_mut() {
        m.remove("NextToken");
        m.remove("MaxRecords");
    }
    cairn_core::token::scope_of(op, &[("body".to_owned(), b.to_string())])
}

pub fn bad_next_token() -> cairn_core::ApiError {
    cairn_core::ApiError::new(
        cairn_core::ErrorKind::CwInvalidNextToken,
        "The NextToken is invalid.",
    )
}

/// The keyset position (`arity` strings: the last item's sort key) a `NextToken` carries;
/// `InvalidNextToken` for one Cairn did not give for this call.
pub fn open_page(
    key: &cairn_core::token::TokenKey,
    op: &str,
    body: &Value,
    arity: usize,
) -> ApiResult<Option<cairn_core::token::Keyset>> {
    match opt_str(body, "NextToken")? {
        None => Ok(None),
        Some(t) => key
            .open(&page_scope(op, body), &t)
            .and_then(|p| cairn_core::token::Keyset::decode(&p, arity))
            .map(Some)
            .ok_or_else(bad_next_token),
    }
}

/// The `NextToken` resuming after the last item of a page.
pub fn seal_page(
    key: &cairn_core::token::TokenKey,
    op: &str,
    body: &Value,
    last: &cairn_core::token::Keyset,
) -> String {
    key.seal(&page_scope(op, body), &last.encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_parameters_fold_into_the_json_shape() {
        let p = crate::query::Params::parse(
            "",
            b"Action=PutMetricData&Version=2010-08-01&Namespace=ns&MetricData.member.2.MetricName=b&MetricData.member.1.MetricName=a&MetricData.member.1.Value=1.5&MetricData.member.1.Dimensions.member.1.Name=d&MetricData.member.1.Dimensions.member.1.Value=v",
        );
        assert_eq!(
            from_query(&p),
            json!({"Namespace": "ns", "MetricData": [
                {"MetricName": "a", "Value": "1.5", "Dimensions": [{"Name": "d", "Value": "v"}]},
                {"MetricName": "b"}]})
        );
    }

    #[test]
    fn scalars_read_from_text_or_json() {
        let v =
            json!({"a": "1.5", "b": 2, "t": "2024-01-01T00:00:30Z", "u": 1704067230, "f": "false"});
        assert_eq!(opt_f64(&v, "a").unwrap(), Some(1.5));
        assert_eq!(opt_i64(&v, "b").unwrap(), Some(2));
        assert_eq!(opt_time(&v, "t").unwrap(), Some(1_704_067_230_000));
        assert_eq!(opt_time(&v, "u").unwrap(), Some(1_704_067_230_000));
        assert_eq!(opt_bool(&v, "f").unwrap(), Some(false));
        assert!(opt_i64(&v, "a").is_err());
        assert!(req_str(&v, "missing").is_err());
    }
}
