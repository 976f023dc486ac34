//! Helpers for AWS JSON 1.1 bodies: typed member access with AWS-shaped errors,
//! timestamps, and CloudTrail's lower-camel rendering of requests and responses.

use cairn_core::{ApiError, ErrorKind};
use serde_json::{Map, Value};

fn type_error(member: &str, expected: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Serialization,
        format!("Cannot deserialize member {member}: expected {expected}."),
    )
}

/// An optional string member.
pub fn opt_str(body: &Value, member: &str) -> Result<Option<String>, ApiError> {
    match body.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(type_error(member, "a string")),
    }
}

/// A required string member.
pub fn req_str(body: &Value, member: &str) -> Result<String, ApiError> {
    opt_str(body, member)?.ok_or_else(|| {
        ApiError::new(
            ErrorKind::Validation,
            format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(member)),
        )
    })
}

/// An optional boolean member.
pub fn opt_bool(body: &Value, member: &str) -> Result<Option<bool>, ApiError> {
    match body.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(type_error(member, "a boolean")),
    }
}

/// An optional integer member.
pub fn opt_i64(body: &Value, member: &str) -> Result<Option<i64>, ApiError> {
    match body.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| type_error(member, "an integer")),
        Some(_) => Err(type_error(member, "an integer")),
    }
}

/// An optional timestamp member: epoch seconds (int or float) or an ISO-8601 string.
pub fn opt_time(body: &Value, member: &str) -> Result<Option<f64>, ApiError> {
    match body.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| type_error(member, "a timestamp")),
        Some(Value::String(s)) => {
            // "NaN" and "inf" parse as floats but are no time.
            if let Ok(f) = s.parse::<f64>() {
                return f
                    .is_finite()
                    .then_some(Some(f))
                    .ok_or_else(|| type_error(member, "a timestamp"));
            }
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| {
                    Some(t.timestamp() as f64 + f64::from(t.timestamp_subsec_millis()) / 1000.0)
                })
                .map_err(|_| type_error(member, "a timestamp"))
        }
        Some(_) => Err(type_error(member, "a timestamp")),
    }
}

/// An optional list member.
pub fn opt_list<'a>(body: &'a Value, member: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
    match body.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(_) => Err(type_error(member, "a list")),
    }
}

/// An optional list of strings.
pub fn opt_str_list(body: &Value, member: &str) -> Result<Option<Vec<String>>, ApiError> {
    match opt_list(body, member)? {
        None => Ok(None),
        Some(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| type_error(member, "a list of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
    }
}

/// The strings of list `member`, leniently: none when it is absent or not a list, and its
/// non-strings skipped (for building a call's condition keys, where a malformed member is the
/// operation's own error to give).
pub fn strings_of(body: &Value, member: &str) -> Vec<String> {
    body.get(member)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Requires a structure (JSON object) value.
pub fn as_object<'a>(value: &'a Value, member: &str) -> Result<&'a Value, ApiError> {
    if value.is_object() {
        Ok(value)
    } else {
        Err(type_error(member, "a structure"))
    }
}

/// A member name with its first letter in lower case. ASCII only: AWS's member names are
/// ASCII, and a letter such as the Kelvin sign (U+212A), which Unicode lowers to `k`, must not
/// make another key collide with a member in the record.
pub(crate) fn lower_first(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(c) => std::iter::once(c.to_ascii_lowercase())
            .chain(chars)
            .collect(),
        None => String::new(),
    }
}

/// CloudTrail's record form of a request or response: keys with a lower-case first letter,
/// recursively. Values are untouched.
pub fn camelize(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                insert_member(&mut out, k, camelize(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(camelize).collect()),
        other => other.clone(),
    }
}

/// Puts `key`'s value into a record object under its lower-camel name. Two keys sent that
/// differ only in their first letter's case (`Name` and `name`) are one name in the record,
/// and only one of them is the call's member: the upper-case one, in the PascalCase shapes
/// records are made from (the other is ignored by the call). It wins whatever the order, so
/// the record always names what the call acted on.
pub fn insert_member(out: &mut Map<String, Value>, key: &str, value: Value) {
    let name = lower_first(key);
    let upper = key.starts_with(|c: char| c.is_ascii_uppercase());
    if out.contains_key(&name) && !upper {
        return;
    }
    out.insert(name, value);
}

/// Epoch seconds as a JSON number, with millisecond precision like the real service.
pub fn epoch(seconds: f64) -> Value {
    let rounded = (seconds * 1000.0).round() / 1000.0;
    serde_json::Number::from_f64(rounded)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camelize_lowers_first_letters_only() {
        let v = serde_json::json!({"S3BucketName": "b", "TagsList": [{"Key": "k", "Value": "v"}], "TrailARN": "x"});
        assert_eq!(
            camelize(&v).to_string(),
            r#"{"s3BucketName":"b","tagsList":[{"key":"k","value":"v"}],"trailARN":"x"}"#
        );
    }

    #[test]
    fn a_member_sent_twice_in_another_case_never_replaces_the_member() {
        for body in [
            r#"{"Name": "main", "name": "other"}"#,
            r#"{"name": "other", "Name": "main"}"#,
        ] {
            let v: Value = serde_json::from_str(body).unwrap();
            assert_eq!(camelize(&v), serde_json::json!({"name": "main"}), "{body}");
        }
        // The Kelvin sign lowers to `k` in Unicode, never here.
        let v = serde_json::json!({"KeyId": "real", "\u{212A}eyId": "decoy"});
        assert_eq!(camelize(&v)["keyId"], "real");
    }

    #[test]
    fn timestamps_accept_ints_floats_and_iso() {
        let v = serde_json::json!({"A": 1704067200, "B": 1704067200.5, "C": "2024-01-01T00:00:00Z", "D": true});
        assert_eq!(opt_time(&v, "A").unwrap(), Some(1704067200.0));
        assert_eq!(opt_time(&v, "B").unwrap(), Some(1704067200.5));
        assert_eq!(opt_time(&v, "C").unwrap(), Some(1704067200.0));
        assert!(opt_time(&v, "D").is_err());
    }
}
