//! AWS JSON 1.0/1.1 protocol pieces shared by every JSON service: operation names from
//! `X-Amz-Target`, the error for a target no operation answers, and request bodies read
//! within a budget of values.

use serde_json::Value;

use crate::errors::WireError;

/// Most values a JSON (or CBOR) request body may hold (map keys count too). The largest
/// legal request holds about half as many (PutMetricData's 1,000 datums, each with 150
/// values, 150 counts and 30 dimensions: about 465,000); the bound stops a small gzip'd
/// body of empty lists from making the server build a tree of millions of values.
pub const MAX_BODY_VALUES: usize = 1_000_000;

/// The error for a body over [`MAX_BODY_VALUES`].
pub fn too_many_values() -> WireError {
    WireError::bad_request(
        "SerializationException",
        format!("The request body holds more than {MAX_BODY_VALUES} values."),
    )
}

/// A JSON request body as the object the operations read (an empty body is an empty
/// object). A body over [`MAX_BODY_VALUES`] is refused before any value is built; one that is
/// not a JSON object is `SerializationException` with `invalid`.
pub fn object_body(body: &[u8], invalid: &str) -> Result<Value, WireError> {
    if body.is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let budget = cairn_model::budget::Budget::new(MAX_BODY_VALUES, usize::MAX);
    if budget
        .count(&mut serde_json::Deserializer::from_slice(body))
        .is_err()
        && budget.exceeded()
    {
        return Err(too_many_values());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(WireError::bad_request("SerializationException", invalid)),
    }
}

/// The message of a body that is not a JSON object, as most JSON services word it.
pub const NOT_AN_OBJECT: &str =
    "Start of structure or map found where not expected, or the body is not valid JSON.";

/// The operation an `X-Amz-Target` names, if it starts with one of the service's prefixes
/// (each ending in `.`). Smithy-based SDKs send the short form (`CloudTrail_20131101.Op`),
/// botocore the long one; both are accepted.
pub fn operation<'a>(target: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    prefixes
        .iter()
        .find_map(|p| target.strip_prefix(p))
        .filter(|op| !op.is_empty() && !op.contains('.'))
}

/// `UnknownOperationException` naming the target received.
pub fn unknown_operation(target: &str) -> WireError {
    let shown: String = target.chars().take(256).collect();
    WireError::bad_request(
        "UnknownOperationException",
        if shown.is_empty() {
            "Unknown operation: the request has no X-Amz-Target header.".to_owned()
        } else {
            format!("Unknown operation {shown}")
        },
    )
}

/// What a JSON call whose body could not be read (not JSON, not an object, over the budget)
/// records: its service and operation, and how its record reads.
pub struct Unreadable {
    /// `eventSource`.
    pub event_source: &'static str,
    /// `eventName`: the operation `X-Amz-Target` named.
    pub name: String,
    /// `readOnly`, as the operation's own records have it.
    pub read_only: bool,
    /// A management event (else a data event, recorded only where a trail selects it).
    pub management: bool,
}

/// Records a signed call of a real operation whose body could not be read, then returns the
/// refusal to answer (logs5: a truncated PutRetentionPolicy body was refused with
/// `SerializationException` and left no record, while a body of the wrong member type was
/// recorded). Nothing was read, so nothing is authorized or run: the record has the refusal
/// as its error and no request parameters. When the record cannot be made durable, that
/// failure is answered instead (503 when the disk is full), as for any call.
pub async fn refuse_unreadable(
    gate: &crate::recording::Gate,
    info: crate::recording::CallInfo,
    call: Unreadable,
    refusal: WireError,
) -> WireError {
    use cairn_core::{ApiError, ErrorKind};
    let error = Some((refusal.code.to_owned(), refusal.message.clone()));
    let Unreadable {
        event_source,
        name,
        read_only,
        management,
    } = call;
    let done = gate
        .execute(
            info,
            crate::recording::Access::Read,
            |_, _| Ok(Vec::new()),
            |_| Err::<(), _>(ApiError::new(ErrorKind::Validation, "unreadable body")),
            move |_: &cairn_core::error::ApiResult<()>| crate::recording::Outcome {
                event_source,
                event_name: name,
                read_only,
                management,
                request_parameters: Value::Null,
                response_elements: Value::Null,
                error,
                resources: Vec::new(),
                additional_event_data: None,
            },
        )
        .await;
    match done {
        Err(e) if e.kind != ErrorKind::Validation => WireError::from(&e),
        _ => refusal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIXES: &[&str] = &[
        "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.",
        "CloudTrail_20131101.",
    ];

    #[test]
    fn long_and_short_targets_name_the_operation() {
        assert_eq!(
            operation(
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListTrails",
                PREFIXES
            ),
            Some("ListTrails")
        );
        assert_eq!(
            operation("CloudTrail_20131101.ListTrails", PREFIXES),
            Some("ListTrails")
        );
        assert_eq!(operation("CloudTrail_20131101.", PREFIXES), None);
        assert_eq!(operation("TrentService.ListKeys", PREFIXES), None);
    }

    #[test]
    fn unknown_targets_are_named_in_the_error() {
        let e = unknown_operation("Foo_2020.Bar");
        assert_eq!(e.code, "UnknownOperationException");
        assert!(e.message.contains("Foo_2020.Bar"));
    }
}
