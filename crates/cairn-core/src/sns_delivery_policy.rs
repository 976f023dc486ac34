//! SNS HTTP/S delivery policies (the `DeliveryPolicy` attribute of a subscription, and of a
//! topic under `http`), checked against AWS's documented bounds: `numRetries` 0–100,
//! `minDelayTarget` at least 1 s and not above `maxDelayTarget`, `maxDelayTarget` at most
//! 3,600 s, the phase counts zero or more and together within `numRetries`, a known
//! `backoffFunction`, the whole policy's retry time within 3,600 s, `maxReceivesPerSecond`
//! at least 1 and a supported `headerContentType`. The error is the reason text.
//!
//! The policies in effect ([`retry_for`], [`effective_topic`], [`effective_subscription`]):
//! a topic's `http` defaults apply to its HTTP/S subscriptions, and a subscription's own
//! policy overrides them unless the topic sets `disableSubscriptionOverrides`.

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

/// A resolved HTTP/S retry policy (`healthyRetryPolicy`), every member set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthyRetry {
    /// `minDelayTarget`, seconds.
    pub min_delay_target: u32,
    /// `maxDelayTarget`, seconds.
    pub max_delay_target: u32,
    /// `numRetries`.
    pub num_retries: u32,
    /// `numMaxDelayRetries`.
    pub num_max_delay_retries: u32,
    /// `numNoDelayRetries`.
    pub num_no_delay_retries: u32,
    /// `numMinDelayRetries`.
    pub num_min_delay_retries: u32,
    /// `backoffFunction`.
    pub backoff_function: String,
}

impl Default for HealthyRetry {
    /// SNS's default: three retries 20 seconds apart.
    fn default() -> Self {
        Self {
            min_delay_target: 20,
            max_delay_target: 20,
            num_retries: 3,
            num_max_delay_retries: 0,
            num_no_delay_retries: 0,
            num_min_delay_retries: 0,
            backoff_function: "linear".into(),
        }
    }
}

impl HealthyRetry {
    /// This policy with the members `m` sets (a checked policy's) in their place.
    fn overlaid(mut self, m: &Map<String, Value>) -> Self {
        let n = |key: &str, current: u32| {
            m.get(key)
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(current)
        };
        self.min_delay_target = n("minDelayTarget", self.min_delay_target);
        self.max_delay_target = n("maxDelayTarget", self.max_delay_target);
        self.num_retries = n("numRetries", self.num_retries);
        self.num_max_delay_retries = n("numMaxDelayRetries", self.num_max_delay_retries);
        self.num_no_delay_retries = n("numNoDelayRetries", self.num_no_delay_retries);
        self.num_min_delay_retries = n("numMinDelayRetries", self.num_min_delay_retries);
        if let Some(f) = m.get("backoffFunction").and_then(Value::as_str) {
            f.clone_into(&mut self.backoff_function);
        }
        self
    }

    fn to_value(&self) -> Value {
        serde_json::json!({
            "minDelayTarget": self.min_delay_target,
            "maxDelayTarget": self.max_delay_target,
            "numRetries": self.num_retries,
            "numMaxDelayRetries": self.num_max_delay_retries,
            "numNoDelayRetries": self.num_no_delay_retries,
            "numMinDelayRetries": self.num_min_delay_retries,
            "backoffFunction": self.backoff_function,
        })
    }
}

const DEFAULT_REQUEST_POLICY: &str = "text/plain; charset=UTF-8";

/// The `http` member of a stored topic policy (checked when it was set).
fn topic_http(topic_policy: Option<&str>) -> Map<String, Value> {
    topic_policy
        .and_then(|t| object(t).ok())
        .and_then(|m| match m.get("http") {
            Some(Value::Object(h)) => Some(h.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn sub_object(m: &Map<String, Value>, key: &str) -> Option<Map<String, Value>> {
    match m.get(key) {
        Some(Value::Object(o)) => Some(o.clone()),
        _ => None,
    }
}

/// The retry policy an HTTP/S subscription is delivered under: SNS's default, overlaid by
/// the topic's `http.defaultHealthyRetryPolicy`, overlaid by the subscription's
/// `healthyRetryPolicy` unless the topic sets `disableSubscriptionOverrides`. `None` when
/// neither sets one (the sender's own default applies).
pub fn retry_for(topic_policy: Option<&str>, sub_policy: Option<&str>) -> Option<HealthyRetry> {
    let http = topic_http(topic_policy);
    let topic = sub_object(&http, "defaultHealthyRetryPolicy");
    let overrides = http.get("disableSubscriptionOverrides") != Some(&Value::Bool(true));
    let sub = sub_policy
        .filter(|_| overrides)
        .and_then(|s| object(s).ok())
        .and_then(|m| sub_object(&m, "healthyRetryPolicy"));
    if topic.is_none() && sub.is_none() {
        return None;
    }
    let mut r = HealthyRetry::default();
    for m in [topic, sub].iter().flatten() {
        r = r.overlaid(m);
    }
    Some(r)
}

/// A topic's `EffectiveDeliveryPolicy`: SNS's default HTTP policy with what the topic's
/// `DeliveryPolicy` sets in its place.
pub fn effective_topic(topic_policy: Option<&str>) -> String {
    let http = topic_http(topic_policy);
    let retry = match sub_object(&http, "defaultHealthyRetryPolicy") {
        Some(m) => HealthyRetry::default().overlaid(&m),
        None => HealthyRetry::default(),
    };
    let mut out = Map::new();
    out.insert("defaultHealthyRetryPolicy".into(), retry.to_value());
    out.insert(
        "disableSubscriptionOverrides".into(),
        http.get("disableSubscriptionOverrides")
            .cloned()
            .unwrap_or(Value::Bool(false)),
    );
    if let Some(t) = http.get("defaultThrottlePolicy") {
        out.insert("defaultThrottlePolicy".into(), t.clone());
    }
    out.insert(
        "defaultRequestPolicy".into(),
        http.get("defaultRequestPolicy")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({"headerContentType": DEFAULT_REQUEST_POLICY})),
    );
    serde_json::json!({ "http": out }).to_string()
}

/// The `Content-Type` an HTTP/S subscription's notifications are posted with: its request
/// policy's `headerContentType`, else its topic's default, else SNS's `text/plain;
/// charset=UTF-8`.
pub fn content_type_for(topic_policy: Option<&str>, sub_policy: Option<&str>) -> String {
    let effective: Value = serde_json::from_str(&effective_subscription(topic_policy, sub_policy))
        .unwrap_or(Value::Null);
    effective["requestPolicy"]["headerContentType"]
        .as_str()
        .unwrap_or(DEFAULT_REQUEST_POLICY)
        .to_owned()
}

/// An HTTP/S subscription's `EffectiveDeliveryPolicy`: the policy it is delivered under
/// ([`retry_for`]), with the throttle and request policies of the subscription, else the
/// topic's defaults.
pub fn effective_subscription(topic_policy: Option<&str>, sub_policy: Option<&str>) -> String {
    let http = topic_http(topic_policy);
    let sub = sub_policy.and_then(|s| object(s).ok()).unwrap_or_default();
    let pick = |own: &str, default: &str| {
        sub_object(&sub, own)
            .map(Value::Object)
            .or_else(|| http.get(default).cloned())
    };
    let retry = retry_for(topic_policy, sub_policy).unwrap_or_default();
    serde_json::json!({
        "healthyRetryPolicy": retry.to_value(),
        "sicklyRetryPolicy": null,
        "throttlePolicy": pick("throttlePolicy", "defaultThrottlePolicy"),
        "requestPolicy": pick("requestPolicy", "defaultRequestPolicy")
            .unwrap_or_else(|| serde_json::json!({"headerContentType": DEFAULT_REQUEST_POLICY})),
        "guaranteed": false,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_topic_policy_applies_and_a_subscription_overrides_it() {
        let topic = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":5,"numRetries":1}}}"#;
        assert_eq!(retry_for(None, None), None);
        let r = retry_for(Some(topic), None).unwrap();
        assert_eq!((r.num_retries, r.min_delay_target), (1, 5));
        let sub = r#"{"healthyRetryPolicy":{"numRetries":7}}"#;
        let r = retry_for(Some(topic), Some(sub)).unwrap();
        assert_eq!((r.num_retries, r.min_delay_target), (7, 5));
        let locked = r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":1},"disableSubscriptionOverrides":true}}"#;
        assert_eq!(retry_for(Some(locked), Some(sub)).unwrap().num_retries, 1);
        assert_eq!(
            effective_topic(None),
            crate::sns::EFFECTIVE_DELIVERY_POLICY,
            "no policy shows SNS's default"
        );
        assert!(effective_topic(Some(topic)).contains(r#""numRetries":1,"#));
        let s: Value = serde_json::from_str(&effective_subscription(Some(topic), None)).unwrap();
        assert_eq!(s["healthyRetryPolicy"]["minDelayTarget"], 5);
        assert_eq!(
            s["requestPolicy"]["headerContentType"],
            DEFAULT_REQUEST_POLICY
        );
    }

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
