//! The request constraints of the AWS service models, checked at the edge of every JSON and
//! Query service before an operation runs: required members, enum values, string lengths,
//! integer ranges, and (for JSON bodies) each member's JSON type.
//!
//! The rules are data (`model_rules.json`, generated from botocore's models by
//! `scripts/model_rules.py`), so every served operation gets the checks AWS's front end
//! applies, worded as AWS words them ("1 validation error detected: Value null at
//! 'topicArn' failed to satisfy constraint: Member must not be null"). Each service turns a
//! [`Problem`] into its own error code ([`Problem::into_error`]), and the refusal goes
//! through the gate like any failed call ([`op_unless`]), so it is recorded. Only top-level
//! members (and enums one level into list items) are checked; deeper shapes stay with the
//! operations.

use crate::wire::lower_first;
use std::collections::HashMap;
use std::sync::OnceLock;

use cairn_core::authz::Permission;
use cairn_core::context::CallContext;
use cairn_core::error::ApiResult;
use cairn_core::{ApiError, ErrorKind};
use cairn_store::Connection;
use serde_json::Value;

use crate::query::Params;
use crate::recording::CallInfo;

/// The rules, and every operation's name, generated from botocore's models.
pub(crate) const MODEL_RULES: &str = include_str!("model_rules.json");

/// One member's rule.
struct Rule {
    /// The model's shape type (`string`, `integer`, `list`, …).
    t: String,
    values: Option<Vec<String>>,
    min: Option<i64>,
    max: Option<i64>,
    /// A list's item rule.
    item: Option<Box<Rule>>,
    /// A list item structure's scalar members with constraints.
    members: Vec<(String, Rule)>,
    /// The model marks the shape sensitive: its value is never quoted in a message.
    sensitive: bool,
}

impl Rule {
    fn parse(v: &Value) -> Self {
        Self {
            t: v["t"].as_str().unwrap_or_default().to_owned(),
            values: v.get("enum").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            }),
            min: v.get("min").and_then(Value::as_i64),
            max: v.get("max").and_then(Value::as_i64),
            item: v.get("item").map(|i| Box::new(Rule::parse(i))),
            members: v
                .get("members")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(m, r)| (m.clone(), Rule::parse(r)))
                .collect(),
            sensitive: v.get("x").is_some(),
        }
    }
}

/// One operation's input rules.
struct OpRules {
    required: Vec<String>,
    /// Members in name order.
    members: Vec<(String, Rule)>,
}

/// service → operation → rules.
type Rules = HashMap<String, HashMap<String, OpRules>>;

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let data: Value = serde_json::from_str(MODEL_RULES).expect("model_rules.json parses");
        let mut out = Rules::new();
        for (service, ops) in data["services"].as_object().into_iter().flatten() {
            let ops = ops.as_object().into_iter().flatten().map(|(op, r)| {
                let required = r["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str().map(str::to_owned))
                    .collect();
                let mut members: Vec<(String, Rule)> = r["members"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(m, rule)| (m.clone(), Rule::parse(rule)))
                    .collect();
                members.sort_by(|a, b| a.0.cmp(&b.0));
                (op.clone(), OpRules { required, members })
            });
            out.insert(service.clone(), ops.collect());
        }
        out
    })
}

/// Whether `member` is no top-level member of operation `op` of `service`'s model (`false`
/// for an operation the model lacks). Such a member is ignored by the call, and AWS, which
/// records the request as its service deserialized it, never records it: nor does Cairn, so a
/// caller cannot put JSON of its choosing into an audit record.
pub fn unmodeled(service: &str, op: &str, member: &str) -> bool {
    rules()
        .get(service)
        .and_then(|ops| ops.get(op))
        .is_some_and(|r| !r.members.iter().any(|(m, _)| m == member))
}

/// `body` with only the top-level members of `op`'s input ([`unmodeled`] ones dropped), as
/// the operation, its authorization and its record read it: a member of another operation
/// added by hand (Logs `logGroupName` on PutLogGroupDeletionProtection, whose member is
/// `logGroupIdentifier`) is ignored, as AWS ignores it, so it cannot steer authorization to
/// a resource the call does not act on (hostile5). An operation the model lacks keeps all.
pub fn own_members(service: &str, op: &str, body: Value) -> Value {
    let Some(rules) = rules().get(service).and_then(|ops| ops.get(op)) else {
        return body;
    };
    let own = |k: &str| {
        rules.members.iter().any(|(m, _)| m == k)
            || rules.required.iter().any(|m| m == k)
            || OPTIONAL_BLOBS.contains(&(service, op, k))
    };
    match body {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(k, _)| own(k)).collect()),
        other => other,
    }
}

/// The optional blob members of the served operations, which the rules leave out (blobs are
/// never recorded): the rest are required, and the rules list those (botocore 1.44.8).
const OPTIONAL_BLOBS: [(&str, &str, &str); 2] = [
    ("kms", "Decrypt", "CiphertextBlob"),
    ("kms", "ReEncrypt", "CiphertextBlob"),
];

/// `body` without the members that are no members of `op`: at the top level
/// ([`unmodeled`]) and, for the recorded JSON services, at every depth
/// ([`crate::model_shapes`]).
pub fn modeled_only(service: &str, op: &str, body: &Value) -> Value {
    match body {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !unmodeled(service, op, k))
                .map(|(k, v)| {
                    let kept = crate::model_shapes::modeled_value(service, op, k, v);
                    (k.clone(), kept)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// [`unmodeled`] for a Query operation of `service` (its model's name): judged by that
/// service's model only, since SNS and CloudWatch share operation names (`TagResource`, …)
/// whose members are spelled differently (`ResourceArn`, `ResourceARN`).
pub fn query_unmodeled(service: &str, action: &str, member: &str) -> bool {
    rules()
        .get(service)
        .and_then(|ops| ops.get(action))
        .is_some_and(|r| !r.members.iter().any(|(m, _)| m == member))
}

/// The Query services, by their model names.
const QUERY_MODELS: [&str; 5] = ["iam", "sts", "sns", "cloudformation", "cloudwatch"];

/// Whether `member` of Query operation `action` is a list in its service's model (the
/// recorder tells an empty list, sent as `Name=`, from an empty string so). The operation
/// is found by name among the Query services' models, whose operation names do not clash on
/// a member of another type.
pub fn query_list_member(action: &str, member: &str) -> bool {
    query_member_type(action, member) == Some("list")
}

/// The model's shape type (`string`, `integer`, `boolean`, `list`, …) of `member` of Query
/// operation `action` (see [`query_list_member`]).
pub fn query_member_type(action: &str, member: &str) -> Option<&'static str> {
    QUERY_MODELS
        .iter()
        .find_map(|service| member_type(service, action, member))
}

/// The model's shape type of top-level `member` of `service`'s operation `action`.
pub fn member_type(service: &str, action: &str, member: &str) -> Option<&'static str> {
    rules()
        .get(service)?
        .get(action)?
        .members
        .iter()
        .find(|(m, _)| m == member)
        .map(|(_, r)| r.t.as_str())
}

/// A request as the checks see it.
#[derive(Clone, Copy)]
pub enum Input<'a> {
    /// A JSON (or CBOR folded to JSON) body. `typed`: members must have their model's JSON
    /// type (false for Query parameters folded into JSON, whose values are all strings).
    Json { body: &'a Value, typed: bool },
    /// Query parameters (`Name`, `Name.member.N`, `Name.entry.N.key`).
    Query(&'a Params),
}

/// What the checks found wrong with a request.
#[derive(Debug, PartialEq)]
pub enum Problem {
    /// A member's JSON value has the wrong type (`SerializationException`).
    Type {
        member: String,
        expected: &'static str,
    },
    /// Constraint violations; `missing` is the first required member absent.
    Invalid {
        missing: Option<String>,
        messages: Vec<String>,
    },
}

impl Problem {
    /// The error a service answers: type errors are `SerializationException`; constraint
    /// violations are `validation` with AWS's "N validation error(s) detected" message.
    pub fn into_error(self, validation: ErrorKind) -> ApiError {
        match self {
            Problem::Type { member, expected } => ApiError::new(
                ErrorKind::Serialization,
                format!("Cannot deserialize member {member}: expected {expected}."),
            ),
            Problem::Invalid { messages, .. } => ApiError::new(validation, summary(&messages)),
        }
    }

    /// CloudWatch's errors: a missing member is `MissingParameter` ("The parameter X is
    /// required."), the other violations `ValidationError`.
    pub fn into_cloudwatch_error(self) -> ApiError {
        match self {
            Problem::Invalid {
                missing: Some(m), ..
            } => ApiError::new(
                ErrorKind::CwMissingParameter,
                format!("The parameter {m} is required."),
            ),
            other => other.into_error(ErrorKind::IamValidation),
        }
    }
}

/// The refusal of a call: what `checked` finds wrong with a request a client sent. Calls a
/// service makes inside the server (a stack's, `invoked_by`) are not checked.
pub fn refusal(
    info: &CallInfo,
    checked: impl FnOnce() -> Result<(), ApiError>,
) -> Option<ApiError> {
    if info.invoked_by.is_some() {
        return None;
    }
    checked().err()
}

/// A gate's permission step for a call that may be refused: a refused call needs nothing
/// (the model's checks come before authorization, as on AWS).
pub fn permissions_unless<P>(
    refused: bool,
    permissions: P,
) -> impl FnOnce(&Connection, &CallContext) -> ApiResult<Vec<Permission>> + Send + 'static
where
    P: FnOnce(&Connection, &CallContext) -> ApiResult<Vec<Permission>> + Send + 'static,
{
    move |conn, ctx| {
        if refused {
            Ok(Vec::new())
        } else {
            permissions(conn, ctx)
        }
    }
}

/// A gate's operation for a call that may be refused: the refusal is its result, so the
/// call changes nothing and is recorded with the error, like any failed call.
pub fn op_unless<T, O>(
    refusal: Option<ApiError>,
    op: O,
) -> impl FnOnce(&Connection) -> ApiResult<T> + Send + 'static
where
    O: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
{
    move |conn| match refusal {
        Some(e) => Err(e),
        None => op(conn),
    }
}

fn summary(messages: &[String]) -> String {
    let n = messages.len();
    let s = if n == 1 { "" } else { "s" };
    format!("{n} validation error{s} detected: {}", messages.join("; "))
}

/// Checks `input` against the model of `service`'s `op` (unknown operations pass).
pub fn check(service: &str, op: &str, input: Input<'_>) -> Result<(), Problem> {
    check_with(service, op, input, true)
}

/// Only required members and JSON types: for a service (CloudTrail) whose operations answer
/// bad values with their own modelled exceptions (`InvalidMaxResultsException`, …).
pub fn check_presence(service: &str, op: &str, input: Input<'_>) -> Result<(), Problem> {
    check_with(service, op, input, false)
}

fn check_with(service: &str, op: &str, input: Input<'_>, constraints: bool) -> Result<(), Problem> {
    let Some(rules) = rules().get(service).and_then(|s| s.get(op)) else {
        return Ok(());
    };
    let mut messages = Vec::new();
    let mut missing = None;
    for member in &rules.required {
        if !present(input, member) {
            missing.get_or_insert_with(|| member.clone());
            messages.push(format!(
                "Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(member)
            ));
        }
    }
    for (name, rule) in &rules.members {
        match input {
            Input::Json { body, typed } => {
                let Some(v) = body.get(name.as_str()).filter(|v| !v.is_null()) else {
                    continue;
                };
                if typed && let Some(expected) = wrong_type(rule, v) {
                    return Err(Problem::Type {
                        member: name.clone(),
                        expected,
                    });
                }
                if constraints {
                    json_violations(name, rule, v, &mut messages);
                }
            }
            Input::Query(params) if constraints => {
                query_violations(name, rule, params, &mut messages)
            }
            Input::Query(_) => {}
        }
    }
    if messages.is_empty() {
        Ok(())
    } else {
        Err(Problem::Invalid { missing, messages })
    }
}

fn present(input: Input<'_>, member: &str) -> bool {
    match input {
        Input::Json { body, .. } => body.get(member).is_some_and(|v| !v.is_null()),
        Input::Query(params) => {
            let prefix = format!("{member}.");
            params
                .iter()
                .any(|(k, _)| k == member || k.starts_with(&prefix))
        }
    }
}

/// The JSON type `rule` wants when `v` is not it.
fn wrong_type(rule: &Rule, v: &Value) -> Option<&'static str> {
    let (ok, expected) = match rule.t.as_str() {
        "string" => (v.is_string(), "a string"),
        // An `integer` is 32 bits in AWS's models (a `long` 64): a larger value is not one.
        "integer" => (
            v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "an integer",
        ),
        "long" => (v.is_i64() || v.is_u64(), "an integer"),
        "boolean" => (v.is_boolean(), "a boolean"),
        // The JSON protocols send a timestamp as epoch seconds (an ISO 8601 string is taken
        // too, as the operations read it).
        "timestamp" => (
            v.is_number()
                || v.as_str()
                    .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
            "a timestamp",
        ),
        // The JSON protocols send the non-finite doubles as these strings (botocore and the
        // Smithy SDKs alike): they are numbers of the right type, for the operation to judge.
        "double" | "float" => (
            v.is_number() || matches!(v.as_str(), Some("NaN" | "Infinity" | "-Infinity")),
            "a number",
        ),
        "list" => (v.is_array(), "a list"),
        "structure" | "map" => (v.is_object(), "an object"),
        _ => (true, ""),
    };
    (!ok).then_some(expected)
}

fn json_violations(name: &str, rule: &Rule, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => {
            let texts: Vec<String> = items.iter().filter_map(scalar_text).collect();
            list_length(name, rule, items.len(), &texts, out);
            let Some(item) = &rule.item else { return };
            if item.t == "structure" {
                for (i, entry) in items.iter().enumerate() {
                    for (m, r) in &item.members {
                        if let Some(text) = entry.get(m.as_str()).and_then(scalar_text) {
                            let path = format!(
                                "{}.{}.member.{}",
                                lower_first(name),
                                i + 1,
                                lower_first(m)
                            );
                            scalar_violations(&path, r, &text, out);
                        }
                    }
                }
                return;
            }
            let texts: Vec<String> = items.iter().filter_map(scalar_text).collect();
            list_violations(name, item, &texts, out);
        }
        other => {
            if let Some(text) = scalar_text(other) {
                scalar_violations(name, rule, &text, out);
            }
        }
    }
}

/// A list shorter or longer than the model allows (an empty one where it wants one item, six
/// notification ARNs where it takes five), as AWS words it.
fn list_length(name: &str, rule: &Rule, len: usize, texts: &[String], out: &mut Vec<String>) {
    let len = len as i64;
    let broken = match (rule.min, rule.max) {
        (Some(min), _) if len < min => format!("greater than or equal to {min}"),
        (_, Some(max)) if len > max => format!("less than or equal to {max}"),
        _ => return,
    };
    let sensitive = rule.sensitive || rule.item.as_ref().is_some_and(|i| i.sensitive);
    let value = if sensitive {
        "Value".to_owned()
    } else {
        format!("Value '[{}]'", shown(&texts.join(", ")))
    };
    out.push(format!(
        "{value} at '{}' failed to satisfy constraint: Member must have length {broken}",
        lower_first(name)
    ));
}

/// The items of the Query list `name`: the distinct `name.member.N` indexes given.
fn query_items(name: &str, params: &Params) -> Vec<String> {
    let prefix = format!("{name}.member.");
    let mut indexes: Vec<&str> = params
        .iter()
        .filter_map(|(k, _)| k.strip_prefix(&prefix))
        .map(|rest| rest.split_once('.').map_or(rest, |(n, _)| n))
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    indexes.into_iter().map(str::to_owned).collect()
}

fn query_violations(name: &str, rule: &Rule, params: &Params, out: &mut Vec<String>) {
    if rule.t == "list" {
        // Only a list too long: an absent Query list is no items, not a list too short.
        if let Some(max) = rule.max {
            let items = query_items(name, params);
            if items.len() as i64 > max {
                let texts: Vec<String> = items
                    .iter()
                    .filter_map(|n| params.get(&format!("{name}.member.{n}")).map(str::to_owned))
                    .collect();
                list_length(name, rule, items.len(), &texts, out);
            }
        }
        let Some(item) = &rule.item else { return };
        let prefix = format!("{name}.member.");
        if item.t == "structure" {
            for (k, v) in params.iter() {
                let Some((n, m)) = k.strip_prefix(&prefix).and_then(|r| r.split_once('.')) else {
                    continue;
                };
                if let Some((_, r)) = item.members.iter().find(|(x, _)| x == m) {
                    let path = format!("{}.{n}.member.{}", lower_first(name), lower_first(m));
                    scalar_violations(&path, r, v, out);
                }
            }
            return;
        }
        let texts: Vec<String> = params
            .iter()
            .filter(|(k, _)| {
                k.strip_prefix(&prefix)
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|(_, v)| v.clone())
            .collect();
        list_violations(name, item, &texts, out);
    } else if let Some(v) = params.get(name) {
        if let Some(kind) = unparsed_query_scalar(rule, v) {
            out.push(format!(
                "{} at '{}' failed to satisfy constraint: Member must be {kind}",
                quoted(rule, v),
                lower_first(name)
            ));
            return;
        }
        scalar_violations(name, rule, v, out);
    }
}

/// A Query value its model type cannot read: a number member that is not a number, a
/// boolean that is neither `true` nor `false`. Such a value is refused, never recorded as
/// text.
fn unparsed_query_scalar(rule: &Rule, text: &str) -> Option<&'static str> {
    match rule.t.as_str() {
        "integer" => text.trim().parse::<i32>().is_err().then_some("an integer"),
        "long" => text.trim().parse::<i64>().is_err().then_some("an integer"),
        "boolean" => (!matches!(text, "true" | "false")).then_some("a boolean"),
        _ => None,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The constraints a scalar value breaks, as AWS words them (without the "Member must").
fn broken(rule: &Rule, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    match rule.t.as_str() {
        "string" => {
            if let Some(values) = &rule.values
                && !values.iter().any(|v| v == text)
            {
                out.push(format!("satisfy enum value set: [{}]", values.join(", ")));
            }
            let len = text.chars().count() as i64;
            if let Some(max) = rule.max
                && len > max
            {
                out.push(format!("have length less than or equal to {max}"));
            }
            if let Some(min) = rule.min
                && len < min
            {
                out.push(format!("have length greater than or equal to {min}"));
            }
        }
        "integer" | "long" => {
            let Ok(n) = text.trim().parse::<i64>() else {
                return out;
            };
            if let Some(max) = rule.max
                && n > max
            {
                out.push(format!("have value less than or equal to {max}"));
            }
            if let Some(min) = rule.min
                && n < min
            {
                out.push(format!("have value greater than or equal to {min}"));
            }
        }
        _ => {}
    }
    out
}

fn scalar_violations(name: &str, rule: &Rule, text: &str, out: &mut Vec<String>) {
    for c in broken(rule, text) {
        out.push(format!(
            "{} at '{}' failed to satisfy constraint: Member must {c}",
            quoted(rule, text),
            lower_first(name)
        ));
    }
}

/// `Value '<text>'`, or `Value` alone for a shape the model marks sensitive (a custom key
/// store's password): AWS leaves such values out of its messages, and a refused call's
/// record keeps the message as its errorMessage (iamapi5).
fn quoted(rule: &Rule, text: &str) -> String {
    if rule.sensitive {
        "Value".to_owned()
    } else {
        format!("Value '{}'", shown(text))
    }
}

fn list_violations(name: &str, item: &Rule, texts: &[String], out: &mut Vec<String>) {
    let mut constraints: Vec<String> = Vec::new();
    for t in texts {
        for c in broken(item, t) {
            if !constraints.contains(&c) {
                constraints.push(c);
            }
        }
    }
    if constraints.is_empty() {
        return;
    }
    let list = format!("[{}]", texts.join(", "));
    let inner: Vec<String> = constraints
        .iter()
        .map(|c| format!("Member must {c}"))
        .collect();
    out.push(format!(
        "{} at '{}' failed to satisfy constraint: Member must satisfy constraint: [{}]",
        quoted(item, &list),
        lower_first(name),
        inner.join(", ")
    ));
}

/// A value as a message shows it: at most 1,024 characters, so a huge value cannot make a
/// huge error.
fn shown(text: &str) -> String {
    text.chars().take(1024).collect()
}

#[cfg(test)]
#[path = "model_check_tests.rs"]
mod tests;
