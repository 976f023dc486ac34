//! Helpers every provider uses: generated names, property coercion (templates write booleans
//! and numbers as strings too, as CloudFormation accepts), and refusing properties Cairn
//! cannot honour.

use rand::Rng;
use serde_json::{Map, Value, json};

use super::Failure;

/// A fresh random suffix for generated names: 12 upper-case letters and digits, as
/// CloudFormation's.
pub fn new_suffix() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// `<stack>-<logicalid>-<suffix>` within `max` characters: the stack name and logical id are
/// shortened (the longer first) until it fits.
pub fn generated_name(stack: &str, logical: &str, suffix: &str, max: usize, lower: bool) -> String {
    let room = max.saturating_sub(suffix.len() + 2);
    let (mut s, mut l) = (stack.len(), logical.len());
    while s + l > room {
        if s >= l && s > 0 {
            s -= 1;
        } else if l > 0 {
            l -= 1;
        } else {
            break;
        }
    }
    let name = format!("{}-{}-{suffix}", &stack[..s], &logical[..l]);
    if lower { name.to_lowercase() } else { name }
}

/// The properties object.
pub fn props(v: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    v.as_object().unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// A property of the wrong type (the schema message names its path; the type is the
/// resource's, named by the reason's logical id).
fn bad(_type_name: &str, prop: &str, expected: &str) -> Failure {
    Failure::schema(format!("#/{prop}: expected type: {expected}"))
}

/// An optional string property (numbers and booleans are written as text).
pub fn opt_str(p: &Value, name: &str, type_name: &str) -> Result<Option<String>, Failure> {
    match props(p).get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(bad(type_name, name, "String")),
    }
}

/// A required string property.
pub fn req_str(p: &Value, name: &str, type_name: &str) -> Result<String, Failure> {
    opt_str(p, name, type_name)?
        .ok_or_else(|| Failure::schema(format!("#: required key [{name}] not found")))
}

/// An optional boolean property (`true`/`false`, as JSON or text).
pub fn opt_bool(p: &Value, name: &str, type_name: &str) -> Result<Option<bool>, Failure> {
    match props(p).get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(bad(type_name, name, "Boolean")),
    }
}

/// An optional integer property.
pub fn opt_int(p: &Value, name: &str, type_name: &str) -> Result<Option<i64>, Failure> {
    match props(p).get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(type_name, name, "Integer")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad(type_name, name, "Integer")),
        Some(_) => Err(bad(type_name, name, "Integer")),
    }
}

/// An optional list of strings.
pub fn str_list(p: &Value, name: &str, type_name: &str) -> Result<Vec<String>, Failure> {
    match props(p).get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(bad(type_name, name, "Array of String")),
            })
            .collect(),
        Some(_) => Err(bad(type_name, name, "Array")),
    }
}

/// A policy document property as JSON text (templates write objects or strings).
pub fn document(p: &Value, name: &str, type_name: &str) -> Result<Option<String>, Failure> {
    match props(p).get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v @ Value::Object(_)) => Ok(Some(v.to_string())),
        Some(_) => Err(bad(type_name, name, "JSONObject")),
    }
}

/// `Tags` as (key, value) pairs, stack tags first (template tags win on the same key).
pub fn tags(
    p: &Value,
    type_name: &str,
    stack_tags: &[(String, String)],
) -> Result<Vec<(String, String)>, Failure> {
    let mut out: Vec<(String, String)> = stack_tags.to_vec();
    if let Some(v) = props(p).get("Tags") {
        let Value::Array(items) = v else {
            return Err(bad(type_name, "Tags", "Array"));
        };
        for item in items {
            let k = opt_str(item, "Key", type_name)?
                .ok_or_else(|| bad(type_name, "Tags", "Tag with Key"))?;
            let v = opt_str(item, "Value", type_name)?.unwrap_or_default();
            out.retain(|(x, _)| *x != k);
            out.push((k, v));
        }
    }
    Ok(out)
}

/// The tag set a resource that carries CloudFormation's system tags gets: the stack tags
/// `stack`, the template's `Tags` (which win on a shared key), then
/// `aws:cloudformation:stack-name`, `stack-id` and `logical-id`.
pub fn tags_with_system(
    cx: &super::Cx<'_>,
    stack: &[(String, String)],
    p: &Value,
    type_name: &str,
) -> Result<Vec<(String, String)>, Failure> {
    let mut t = tags(p, type_name, stack)?;
    t.push(("aws:cloudformation:stack-name".into(), cx.stack_name.into()));
    t.push(("aws:cloudformation:stack-id".into(), cx.stack_id.into()));
    t.push(("aws:cloudformation:logical-id".into(), cx.logical_id.into()));
    Ok(t)
}

/// Whether a tag key is under the reserved `aws:` prefix (any case), which only
/// CloudFormation's own tags may use.
pub fn is_system_tag(key: &str) -> bool {
    key.get(..4).is_some_and(|x| x.eq_ignore_ascii_case("aws:"))
}

/// The keys of `before` that `after` no longer has (the tags an update must remove).
pub fn removed_tag_keys<'t>(
    before: &'t [(String, String)],
    after: &[(String, String)],
) -> Vec<&'t String> {
    before
        .iter()
        .filter(|(k, _)| !after.iter().any(|(x, _)| x == k))
        .map(|(k, _)| k)
        .collect()
}

/// Tags as the API takes them: `[{"Key": …, "Value": …}]`.
pub fn tag_list(tags: &[(String, String)]) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// Properties a provider does not implement whose value, written out, is the type's default
/// and what Cairn does anyway: taken as no change (cfn11 F4: generated templates write them).
const WRITTEN_DEFAULTS: &[(&str, &str, &str)] = &[
    ("AWS::S3::Bucket", "AccessControl", "Private"),
    ("AWS::S3::Bucket", "ObjectLockEnabled", "false"),
    ("AWS::KMS::Key", "Origin", "AWS_KMS"),
    ("AWS::SNS::Topic", "ContentBasedDeduplication", "false"),
];

/// Whether `value` of `type_name`'s `key` is a default in [`WRITTEN_DEFAULTS`] (a boolean
/// as a JSON boolean or CloudFormation's string).
fn is_default(type_name: &str, key: &str, value: &Value) -> bool {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        _ => return false,
    };
    WRITTEN_DEFAULTS
        .iter()
        .any(|(t, k, d)| *t == type_name && *k == key && text.eq_ignore_ascii_case(d))
}

/// Refuses properties a provider does not implement, naming them: one that AWS's schema
/// for the type does not have either is refused as CloudFormation refuses it
/// (`#: extraneous key [Bogus] is not permitted`), one it has with Cairn's own reason.
pub fn only(p: &Value, type_name: &str, supported: &[&str]) -> Result<(), Failure> {
    let unsupported: Vec<&str> = props(p)
        .iter()
        .filter(|(k, v)| !supported.contains(&k.as_str()) && !is_default(type_name, k, v))
        .map(|(k, _)| k.as_str())
        .collect();
    let schema = super::schema::aws_properties(type_name);
    let extraneous: Vec<String> = unsupported
        .iter()
        .filter(|k| schema.is_some_and(|s| !s.contains(k)))
        .map(|k| format!("#: extraneous key [{k}] is not permitted"))
        .collect();
    match extraneous.as_slice() {
        [] if unsupported.is_empty() => Ok(()),
        [] => Err(Failure::new(format!(
            "Cairn cannot honour the {} of {type_name} [{}]: this release does not implement them, so the resource is not created rather than created without them.",
            if unsupported.len() == 1 {
                "property"
            } else {
                "properties"
            },
            unsupported.join(", ")
        ))),
        [one] => Err(Failure::schema(one.clone())),
        many => Err(Failure::schema(format!("[{}]", many.join(", ")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_properties_are_extraneous_and_known_ones_unimplemented() {
        let t = "AWS::CloudTrail::Trail";
        let have = ["S3BucketName", "IsLogging"];
        let reason = |p: serde_json::Value| {
            only(&p, t, &have)
                .err()
                .map(|f| f.of_resource("Trail").reason)
        };
        assert_eq!(reason(serde_json::json!({"IsLogging": true})), None);
        assert_eq!(
            reason(serde_json::json!({"IsLogging": true, "Bogus": 1})).as_deref(),
            Some(
                "Properties validation failed for resource Trail with message: #: extraneous key [Bogus] is not permitted"
            )
        );
        let unimplemented = reason(serde_json::json!({"InsightSelectors": []})).unwrap_or_default();
        assert!(
            unimplemented.starts_with(
                "Cairn cannot honour the property of AWS::CloudTrail::Trail [InsightSelectors]"
            ),
            "{unimplemented}"
        );
        // A nested object's keys are Cairn's to judge (no schema of its own here).
        let nested = only(
            &serde_json::json!({"X": 1}),
            "AWS::S3::Bucket VersioningConfiguration",
            &["Status"],
        );
        assert!(nested.is_err_and(|f| !f.schema));
    }

    #[test]
    fn names_fit() {
        assert_eq!(
            generated_name(
                "example-cloudtrail",
                "CloudTrailBucket",
                "1A2B3C4D5E6F",
                63,
                true
            ),
            "example-cloudtrail-cloudtrailbucket-1a2b3c4d5e6f"
        );
        let long = generated_name(
            &"s".repeat(100),
            &"L".repeat(100),
            "ABCDEFGHIJKL",
            63,
            false,
        );
        assert_eq!(long.len(), 63);
        assert!(long.ends_with("-ABCDEFGHIJKL"));
        assert_eq!(new_suffix().len(), 12);
    }
}
