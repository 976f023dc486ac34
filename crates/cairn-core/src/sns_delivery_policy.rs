//! SNS HTTP/S delivery policies (the `DeliveryPolicy` attribute of a subscription, and of a
//! topic under `http`), checked against AWS's documented bounds: `numRetries` 0–100,
//! `minDelayTarget` at least 1 s and not above `maxDelayTarget`, `maxDelayTarget` at most
//! 3,600 s, the phase counts zero or more and together within `numRetries`, a known
//! `backoffFunction`, the whole policy's retry time within 3,600 s, `maxReceivesPerSecond`
//! at least 1 and a supported `headerContentType`. The error is the reason text.

use serde_json::{Map, Value};

/// Most retries an HTTP/S policy may ask for.
pub const MAX_RETRIES: i64 = 100;
/// Longest `maxDelayTarget`, and longest total retry time, in seconds.
pub const MAX_RETRY_SECONDS: i64 = 3600;

const BACKOFF: [&str; 4] = ["linear", "arithmetic", "geometric", "exponential"];
const CONTENT_TYPES: [&str; 3] = ["text/plain", "application/json", "application/xml"];

/// Checks a subscription's `DeliveryPolicy`:
/// `{"healthyRetryPolicy":{…},"throttlePolicy":{…},"requestPolicy":{…}}`.
pub fn check_subscription(text: &str) -> Result<(), String> {
    let policy = object(text)?;
    if let Some(r) = member(&policy, "healthyRetryPolicy")? {
        retry_policy(r)?;
    }
    if let Some(t) = member(&policy, "throttlePolicy")? {
        throttle_policy(t)?;
    }
    if let Some(r) = member(&policy, "requestPolicy")? {
        request_policy(r)?;
    }
    Ok(())
}

/// Checks a topic's `DeliveryPolicy`: `{"http":{"defaultHealthyRetryPolicy":{…},
/// "disableSubscriptionOverrides":bool,"defaultThrottlePolicy":{…},"defaultRequestPolicy":{…}}}`.
pub fn check_topic(text: &str) -> Result<(), String> {
    let policy = object(text)?;
    let Some(http) = member(&policy, "http")? else {
        return Ok(());
    };
    if let Some(r) = member(http, "defaultHealthyRetryPolicy")? {
        retry_policy(r)?;
    }
    if let Some(t) = member(http, "defaultThrottlePolicy")? {
        throttle_policy(t)?;
    }
    if let Some(r) = member(http, "defaultRequestPolicy")? {
        request_policy(r)?;
    }
    match http.get("disableSubscriptionOverrides") {
        None | Some(Value::Bool(_)) => Ok(()),
        Some(_) => Err("disableSubscriptionOverrides must be true or false".into()),
    }
}

fn object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err("failed to parse JSON.".into()),
    }
}

fn member<'a>(
    m: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(format!("{key} must be a JSON object")),
    }
}

/// An integer member, or `default` when absent.
fn int(m: &Map<String, Value>, key: &str, default: i64) -> Result<i64, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| format!("{key} must be an integer")),
    }
}

fn retry_policy(r: &Map<String, Value>) -> Result<(), String> {
    let num = int(r, "numRetries", 3)?;
    if !(0..=MAX_RETRIES).contains(&num) {
        return Err(format!(
            "numRetries must be between 0 and {MAX_RETRIES}, was {num}"
        ));
    }
    let min = int(r, "minDelayTarget", 20)?;
    let max = int(r, "maxDelayTarget", 20)?;
    if min < 1 {
        return Err(format!("minDelayTarget must be at least 1, was {min}"));
    }
    if max > MAX_RETRY_SECONDS {
        return Err(format!(
            "maxDelayTarget must be at most {MAX_RETRY_SECONDS}, was {max}"
        ));
    }
    if min > max {
        return Err(format!(
            "minDelayTarget ({min}) must not exceed maxDelayTarget ({max})"
        ));
    }
    let mut phases = 0;
    for key in [
        "numNoDelayRetries",
        "numMinDelayRetries",
        "numMaxDelayRetries",
    ] {
        let n = int(r, key, 0)?;
        if n < 0 {
            return Err(format!("{key} must be zero or greater, was {n}"));
        }
        phases += n;
    }
    if phases > num {
        return Err(format!(
            "numNoDelayRetries, numMinDelayRetries and numMaxDelayRetries together ({phases}) must not exceed numRetries ({num})"
        ));
    }
    match r.get("backoffFunction") {
        None | Some(Value::Null) => {}
        Some(Value::String(f)) if BACKOFF.contains(&f.as_str()) => {}
        Some(other) => {
            return Err(format!(
                "backoffFunction must be one of linear, arithmetic, geometric, exponential, was {other}"
            ));
        }
    }
    // The least time the policy can take: the backoff phase at its minimum delay.
    let at_min = int(r, "numMinDelayRetries", 0)?;
    let at_max = int(r, "numMaxDelayRetries", 0)?;
    let backoff = num - phases;
    let least = at_min * min + at_max * max + backoff * min;
    if least > MAX_RETRY_SECONDS {
        return Err(format!(
            "the total retry time must not exceed {MAX_RETRY_SECONDS} seconds"
        ));
    }
    Ok(())
}

fn throttle_policy(t: &Map<String, Value>) -> Result<(), String> {
    match t.get("maxReceivesPerSecond") {
        None | Some(Value::Null) => Ok(()),
        Some(v) => match v.as_i64() {
            Some(n) if n >= 1 => Ok(()),
            _ => Err(format!(
                "maxReceivesPerSecond must be an integer of at least 1, was {v}"
            )),
        },
    }
}

fn request_policy(r: &Map<String, Value>) -> Result<(), String> {
    match r.get("headerContentType") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(c)) if supported_content_type(c) => Ok(()),
        Some(other) => Err(format!("headerContentType {other} is not supported")),
    }
}

fn supported_content_type(c: &str) -> bool {
    let (media, params) = c.split_once(';').unwrap_or((c, ""));
    let charset_ok = params.trim().is_empty()
        || params
            .trim()
            .strip_prefix("charset=")
            .is_some_and(|cs| cs.eq_ignore_ascii_case("UTF-8"));
    CONTENT_TYPES.contains(&media.trim()) && charset_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        let p = |v: serde_json::Value| check_subscription(&v.to_string());
        assert!(p(serde_json::json!({"healthyRetryPolicy": {"numRetries": 100, "minDelayTarget": 1, "maxDelayTarget": 30}})).is_ok());
        assert!(p(serde_json::json!({"healthyRetryPolicy": {"numRetries": 101}})).is_err());
        assert!(p(serde_json::json!({"healthyRetryPolicy": {"numRetries": "3"}})).is_err());
        assert!(p(serde_json::json!({"healthyRetryPolicy": {"minDelayTarget": 0}})).is_err());
        assert!(p(serde_json::json!({"healthyRetryPolicy": {"numRetries": 100, "minDelayTarget": 40, "maxDelayTarget": 40}})).is_err());
        assert!(p(serde_json::json!({"requestPolicy": {"headerContentType": "application/json; charset=UTF-8"}})).is_ok());
        assert!(
            p(serde_json::json!({"requestPolicy": {"headerContentType": "text/html"}})).is_err()
        );
        assert!(check_topic(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":3},"disableSubscriptionOverrides":false}}"#).is_ok());
        assert!(
            check_topic(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":300}}}"#).is_err()
        );
        assert!(check_topic("[]").is_err());
    }
}
