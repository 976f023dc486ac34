//! AWS JSON 1.0/1.1 protocol pieces shared by every JSON service: operation names from
//! `X-Amz-Target`, and the error for a target no operation answers.

use crate::errors::WireError;

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
