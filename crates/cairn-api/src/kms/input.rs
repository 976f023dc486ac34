//! Decoding KMS request members: key identifiers, base64 blobs, encryption-context maps,
//! `TagKey`/`TagValue` lists, grant tokens and constraints, pagination. Wrong JSON types are
//! `SerializationException`; model constraints are `ValidationException`.

use crate::wire::lower_first;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_core::kms::EncryptionContext;
use cairn_core::{ApiError, ErrorKind};
use cairn_store::kms::GrantConstraints;
use serde_json::Value;

use crate::wire::{opt_bool, opt_str, opt_str_list, req_str};

fn serialization(member: &str, expected: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Serialization,
        format!("Cannot deserialize member {member}: expected {expected}."),
    )
}

fn length(member: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    let rule = if n < min {
        format!("Member must have length greater than or equal to {min}")
    } else if n > max {
        format!("Member must have length less than or equal to {max}")
    } else {
        return Ok(());
    };
    let shown: String = value.chars().take(256).collect();
    Err(ApiError::new(
        ErrorKind::Validation,
        format!(
            "1 validation error detected: Value '{shown}' at '{}' failed to satisfy constraint: {rule}",
            lower_first(member)
        ),
    ))
}

/// A required key identifier (1–2048 characters).
pub fn key_id(body: &Value, member: &str) -> Result<String, ApiError> {
    let v = req_str(body, member)?;
    length(member, &v, 1, 2048)?;
    Ok(v)
}

/// An optional key identifier.
pub fn opt_key_id(body: &Value, member: &str) -> Result<Option<String>, ApiError> {
    let v = opt_str(body, member)?;
    if let Some(s) = &v {
        length(member, s, 1, 2048)?;
    }
    Ok(v)
}

/// An optional string with model length bounds.
pub fn opt_text(
    body: &Value,
    member: &str,
    min: usize,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let v = opt_str(body, member)?;
    if let Some(s) = &v {
        length(member, s, min, max)?;
    }
    Ok(v)
}

/// An optional blob (base64 in JSON).
pub fn opt_blob(body: &Value, member: &str) -> Result<Option<Vec<u8>>, ApiError> {
    match opt_str(body, member)? {
        None => Ok(None),
        Some(s) => STANDARD
            .decode(s.as_bytes())
            .map(Some)
            .map_err(|_| serialization(member, "a base64-encoded blob")),
    }
}

/// A required blob.
pub fn blob(body: &Value, member: &str) -> Result<Vec<u8>, ApiError> {
    opt_blob(body, member)?.ok_or_else(|| {
        ApiError::new(
            ErrorKind::Validation,
            format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(member)
            ),
        )
    })
}

/// An optional string→string map (an encryption context).
pub fn opt_context(body: &Value, member: &str) -> Result<Option<EncryptionContext>, ApiError> {
    match body.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(serialization(member, "a map of strings")),
            })
            .collect::<Result<EncryptionContext, _>>()
            .map(Some),
        Some(_) => Err(serialization(member, "a map of strings")),
    }
}

/// An encryption context, empty when absent.
pub fn context(body: &Value, member: &str) -> Result<EncryptionContext, ApiError> {
    Ok(opt_context(body, member)?.unwrap_or_default())
}

/// `Tags`: `[{"TagKey":…,"TagValue":…}]`.
pub fn tags(body: &Value, member: &str) -> Result<Vec<(String, String)>, ApiError> {
    let Some(items) = crate::wire::opt_list(body, member)? else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|t| {
            if !t.is_object() {
                return Err(serialization(member, "a list of Tag structures"));
            }
            Ok((req_str(t, "TagKey")?, req_str(t, "TagValue")?))
        })
        .collect()
}

/// A list of strings, empty when absent.
pub fn strings(body: &Value, member: &str) -> Result<Vec<String>, ApiError> {
    Ok(opt_str_list(body, member)?.unwrap_or_default())
}

/// `GrantTokens`.
pub fn grant_tokens(body: &Value) -> Result<Vec<String>, ApiError> {
    let tokens = strings(body, "GrantTokens")?;
    for t in &tokens {
        length("GrantTokens", t, 1, 8192)?;
    }
    Ok(tokens)
}

/// `Constraints` of CreateGrant.
pub fn constraints(body: &Value) -> Result<Option<GrantConstraints>, ApiError> {
    match body.get("Constraints") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o))
            if o.iter()
                .any(|(k, v)| !v.is_null() && !k.starts_with("EncryptionContext")) =>
        {
            // A constraint Cairn does not enforce (`SourceArn`, for grants to AWS services)
            // is refused: kept silently, the grant would allow more than its record says
            // (kms7).
            Err(service_grants_unsupported())
        }
        Some(c @ Value::Object(_)) => Ok(Some(GrantConstraints {
            subset: opt_context(c, "EncryptionContextSubset")?,
            equals: opt_context(c, "EncryptionContextEquals")?,
        })),
        Some(_) => Err(serialization("Constraints", "a structure")),
    }
}

/// The refusal of grants meant for AWS services (`GranteeServicePrincipal`, the `SourceArn`
/// constraint): Cairn's own services never use grants, so such a grant could never act as
/// AWS's does.
pub fn service_grants_unsupported() -> ApiError {
    ApiError::new(
        ErrorKind::UnsupportedOperation,
        "Cairn does not support grants for AWS service principals (GranteeServicePrincipal, or a SourceArn constraint): its services do not use grants.",
    )
}

/// `DryRun`.
pub fn dry_run(body: &Value) -> Result<bool, ApiError> {
    Ok(opt_bool(body, "DryRun")?.unwrap_or(false))
}

/// `Marker` (1–1024 characters).
pub fn marker(body: &Value) -> Result<Option<String>, ApiError> {
    opt_text(body, "Marker", 1, 1024)
}

/// `Limit`.
pub fn limit(body: &Value) -> Result<Option<i64>, ApiError> {
    crate::wire::opt_i64(body, "Limit")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn members_decode_with_aws_errors() {
        let b = json!({"Blob": "aGk=", "Bad": "***", "Ctx": {"a": "1"}, "BadCtx": {"a": 1},
            "Tags": [{"TagKey": "k", "TagValue": "v"}], "KeyId": ""});
        assert_eq!(opt_blob(&b, "Blob").unwrap().unwrap(), b"hi");
        assert_eq!(
            opt_blob(&b, "Bad").unwrap_err().kind,
            ErrorKind::Serialization
        );
        assert_eq!(context(&b, "Ctx").unwrap()["a"], "1");
        assert!(context(&b, "BadCtx").is_err());
        assert_eq!(tags(&b, "Tags").unwrap(), vec![("k".into(), "v".into())]);
        assert_eq!(key_id(&b, "KeyId").unwrap_err().kind, ErrorKind::Validation);
        assert!(key_id(&b, "Missing").is_err());
    }
}
