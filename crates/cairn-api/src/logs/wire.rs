//! Wire helpers of the CloudWatch Logs API: required members (missing ones are
//! `InvalidParameterException` with AWS's validation wording), page sizes, maps, and sealed
//! pagination tokens bound to the call's other parameters.

use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_core::logs::{constraint, invalid};
use cairn_core::token::{Keyset, TokenError, TokenKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use crate::wire::{opt_bool, opt_i64, opt_list, opt_str, opt_str_list};

/// A required string member.
pub fn req_str(body: &Value, member: &str) -> ApiResult<String> {
    opt_str(body, member)?.ok_or_else(|| missing(member))
}

/// The error for a required member that is absent.
pub fn missing(member: &str) -> ApiError {
    invalid(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

/// A required integer member.
pub fn req_i64(body: &Value, member: &str) -> ApiResult<i64> {
    opt_i64(body, member)?.ok_or_else(|| missing(member))
}

/// An optional page size within `1..=max`, defaulting to `default`.
pub fn limit(body: &Value, member: &str, max: i64, default: i64) -> ApiResult<i64> {
    match opt_i64(body, member)? {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(constraint(
            &n.to_string(),
            member,
            &format!(
                "Member must have value less than or equal to {max} and greater than or equal to 1"
            ),
        )),
    }
}

/// An optional time member in epoch milliseconds (a non-negative integer).
pub fn opt_time(body: &Value, member: &str) -> ApiResult<Option<i64>> {
    match opt_i64(body, member)? {
        Some(t) if t < 0 => Err(constraint(
            &t.to_string(),
            member,
            "Member must have value greater than or equal to 0",
        )),
        other => Ok(other),
    }
}

/// An optional string→string map member, in key order.
pub fn opt_map(body: &Value, member: &str) -> ApiResult<Option<Vec<(String, String)>>> {
    match body.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(ApiError::new(
                    ErrorKind::Serialization,
                    format!("Cannot deserialize member {member}: expected a map of strings."),
                )),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(ApiError::new(
            ErrorKind::Serialization,
            format!("Cannot deserialize member {member}: expected a map."),
        )),
    }
}

/// A string→string map as JSON.
pub fn map(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

/// The scope a token is bound to: the operation and every member but `nextToken` and the page
/// size (`limit`): the CLI resumes `--starting-token` without the `--page-size` that gave it,
/// and a position does not depend on how many items a page held.
fn scope(op: &str, body: &Value) -> String {
    let mut b = body.clone();
    if let Some(m) = b.as_object_mut() {
        m.remove("nextToken");
        m.remove("limit");
    }
    hex::encode(Sha256::digest(format!("{op}\n{b}").as_bytes()))
}

/// Opens `nextToken`, if present, into the position it carries.
pub fn open_token(key: &TokenKey, op: &str, body: &Value) -> ApiResult<Option<String>> {
    match opt_str(body, "nextToken")? {
        None => Ok(None),
        Some(t) => key
            .open(&scope(op, body), &t)
            .map(Some)
            .ok_or_else(|| invalid("The specified nextToken is invalid.")),
    }
}

/// An offset carried by `nextToken` (0 without one).
pub fn open_offset(key: &TokenKey, op: &str, body: &Value) -> ApiResult<i64> {
    match open_token(key, op, body)? {
        None => Ok(0),
        Some(p) => p
            .parse()
            .map_err(|_| invalid("The specified nextToken is invalid.")),
    }
}

/// Opens `nextToken`, if present, into the keyset position (`arity` strings) it carries.
pub fn open_keyset(
    key: &TokenKey,
    op: &str,
    body: &Value,
    arity: usize,
) -> ApiResult<Option<Keyset>> {
    match open_token(key, op, body)? {
        None => Ok(None),
        Some(p) => Keyset::decode(&p, arity)
            .map(Some)
            .ok_or_else(|| invalid("The specified nextToken is invalid.")),
    }
}

/// Seals the keyset position after the last item of a page into a `nextToken`.
pub fn seal_keyset(key: &TokenKey, op: &str, body: &Value, last: &Keyset) -> String {
    seal(key, op, body, &last.encode())
}

/// How long FilterLogEvents' and GetLogEvents' tokens live: "The token expires after 24
/// hours." (the 2014-03-28 model), on the server's clock.
pub const EVENT_TOKEN_TTL_SECS: i64 = 86_400;

/// Opens an events token (`nextToken` of FilterLogEvents, GetLogEvents' forward and backward
/// tokens) sealed for `scope` at most a day before `now` (epoch seconds). CloudWatch Logs
/// documents the lifetime but no error of its own for an expired token: it is
/// `InvalidParameterException`, as for any token it cannot use.
pub fn open_event_token(key: &TokenKey, scope: &str, token: &str, now: i64) -> ApiResult<String> {
    key.open_timed(scope, token, now, EVENT_TOKEN_TTL_SECS)
        .map_err(|e| match e {
            TokenError::Expired => {
                invalid("The specified nextToken has expired: tokens are valid for 24 hours.")
            }
            TokenError::Invalid => invalid("The specified nextToken is invalid."),
        })
}

/// The scope of a call's events token: the operation and every member but `nextToken` and
/// `limit`.
pub fn token_scope(op: &str, body: &Value) -> String {
    scope(op, body)
}

/// Seals a position into a `nextToken` for the same call.
pub fn seal(key: &TokenKey, op: &str, body: &Value, position: &str) -> String {
    key.seal(&scope(op, body), position)
}
