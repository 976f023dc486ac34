//! What S3 does with a browser form's POST policy that s3s does not: a `Content-Type` field
//! listing several types (comma-separated) must meet a `starts-with $Content-Type` condition
//! with each of them (the S3 API reference, "Creating a POST Policy", condition matching);
//! and S3's words for a form its policy refuses: 403 `AccessDenied` "Invalid according to
//! Policy: …".

use http::StatusCode;

use crate::errors::WireError;

fn invalid_according_to_policy(reason: String) -> WireError {
    WireError {
        code: "AccessDenied",
        status: StatusCode::FORBIDDEN,
        message: format!("Invalid according to Policy: {reason}"),
    }
}

/// `["<op>", "$<field>", "<value>"]`, as S3 quotes a failed condition.
fn condition_text(op: &str, field: &str, value: &str) -> String {
    serde_json::json!([op, format!("${field}"), value])
        .to_string()
        .replace("\",\"", "\", \"")
}

/// Checks each type of a comma-separated `Content-Type` field against the policy's
/// `starts-with $Content-Type` conditions (`policy_b64`: the form's `policy` field). A policy
/// that does not parse is left to s3s, which refuses it.
pub(super) fn listed_content_types(policy_b64: &str, content_type: &str) -> Result<(), WireError> {
    use base64::Engine;
    if !content_type.contains(',') {
        return Ok(());
    }
    let Some(policy) = base64::engine::general_purpose::STANDARD
        .decode(policy_b64.trim())
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    else {
        return Ok(());
    };
    let conditions = policy.get("conditions").and_then(|c| c.as_array());
    for condition in conditions.into_iter().flatten() {
        let Some([op, field, prefix]) = condition.as_array().map(Vec::as_slice) else {
            continue;
        };
        let (Some(op), Some(field), Some(prefix)) = (op.as_str(), field.as_str(), prefix.as_str())
        else {
            continue;
        };
        if !op.eq_ignore_ascii_case("starts-with") || !field.eq_ignore_ascii_case("$content-type") {
            continue;
        }
        if content_type
            .split(',')
            .any(|t| !t.trim().starts_with(prefix))
        {
            return Err(invalid_according_to_policy(format!(
                "Policy Condition failed: {}",
                condition_text(op, &field[1..], prefix)
            )));
        }
    }
    Ok(())
}

/// S3's answer for a form upload s3s refused (its `code` and `message`), when S3 words it
/// otherwise: a failed condition, a field the policy does not name, an expired policy.
pub(super) fn aws_refusal(code: &str, message: &str) -> Option<WireError> {
    match code {
        "InvalidPolicyDocument" => {
            let rest = message.strip_prefix("Policy condition '")?;
            let (op, rest) = rest.split_once("' for field '")?;
            let (field, rest) = rest.split_once("' failed: expected ")?;
            let rest = rest.strip_prefix("prefix ").unwrap_or(rest);
            let (value, _) = rest.strip_prefix('\'')?.rsplit_once("', got '")?;
            Some(invalid_according_to_policy(format!(
                "Policy Condition failed: {}",
                condition_text(op, field, value)
            )))
        }
        "AccessDenied" if message.starts_with("Each form field") => {
            let name = message.split('"').nth(1)?;
            Some(invalid_according_to_policy(format!(
                "Extra input fields: {name}"
            )))
        }
        "AccessDenied" if message == "Request has expired" => {
            Some(invalid_according_to_policy("Policy expired.".to_owned()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn policy(conditions: serde_json::Value) -> String {
        let doc =
            serde_json::json!({"expiration": "2100-01-01T00:00:00Z", "conditions": conditions});
        base64::engine::general_purpose::STANDARD.encode(doc.to_string())
    }

    #[test]
    fn every_listed_type_must_meet_starts_with() {
        let p = policy(serde_json::json!([[
            "starts-with",
            "$Content-Type",
            "image/"
        ]]));
        assert!(listed_content_types(&p, "image/png, image/jpeg").is_ok());
        assert!(listed_content_types(&p, "image/png").is_ok());
        let e = listed_content_types(&p, "image/png,text/html").unwrap_err();
        assert_eq!((e.code, e.status), ("AccessDenied", StatusCode::FORBIDDEN));
        assert_eq!(
            e.message,
            r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]"#
        );
        assert!(listed_content_types("not base64!", "a,b").is_ok());
    }

    #[test]
    fn s3s_refusals_are_worded_as_s3_words_them() {
        let e = aws_refusal(
            "InvalidPolicyDocument",
            "Policy condition 'starts-with' for field 'key' failed: expected prefix 'up/', got 'other/x'",
        )
        .unwrap();
        assert_eq!(
            e.message,
            r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "up/"]"#
        );
        let e = aws_refusal(
            "InvalidPolicyDocument",
            "Policy condition 'eq' for field 'x-amz-meta-a' failed: expected 'b', got 'c'",
        )
        .unwrap();
        assert!(
            e.message.ends_with(r#"["eq", "$x-amz-meta-a", "b"]"#),
            "{}",
            e.message
        );
        let e = aws_refusal(
            "AccessDenied",
            "Each form field that you specify in a form must appear in the list of policy conditions. \"x-amz-meta-extra\" not specified in the policy.",
        )
        .unwrap();
        assert_eq!(
            e.message,
            "Invalid according to Policy: Extra input fields: x-amz-meta-extra"
        );
        assert_eq!(
            aws_refusal("AccessDenied", "Request has expired")
                .unwrap()
                .message,
            "Invalid according to Policy: Policy expired."
        );
        assert!(aws_refusal("NoSuchBucket", "x").is_none());
        assert!(aws_refusal("InvalidPolicyDocument", "failed to parse POST policy").is_none());
    }
}
