//! GetContextKeysForCustomPolicy and GetContextKeysForPrincipalPolicy: the context keys that
//! policies read (condition keys and policy variables), as written and once each, so that a
//! caller knows which `ContextEntries` a simulation needs.

use cairn_policy::{Document, PolicyKind};
use cairn_store::Connection;

use super::{err, simulate, validate};
use crate::CallContext;
use crate::error::{ApiResult, ErrorKind};

/// Adds the keys of `text` to `out`, skipping those already there (ignoring case).
fn add_keys(text: &str, out: &mut Vec<String>) -> ApiResult<()> {
    let doc = Document::parse(text, PolicyKind::Identity)
        .map_err(|m| err(ErrorKind::InvalidInput, m.message()))?;
    for key in doc.context_keys() {
        if !out.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            out.push(key.clone());
        }
    }
    Ok(())
}

/// The keys of the `PolicyInputList` documents, added to `out`.
fn add_input_list(policies: &[String], out: &mut Vec<String>) -> ApiResult<()> {
    for text in policies {
        validate::document_text(text, "policyInputList")?;
        add_keys(text, out)?;
    }
    Ok(())
}

/// GetContextKeysForCustomPolicy.
pub fn for_custom_policy(policies: &[String]) -> ApiResult<Vec<String>> {
    if policies.is_empty() {
        return Err(validate::missing("policyInputList"));
    }
    let mut keys = Vec::new();
    add_input_list(policies, &mut keys)?;
    Ok(keys)
}

/// GetContextKeysForPrincipalPolicy: the identity policies of the user (with its groups'),
/// group or role `source_arn` names, then those of `policies`.
pub fn for_principal_policy(
    conn: &Connection,
    ctx: &CallContext,
    source_arn: Option<&str>,
    policies: &[String],
) -> ApiResult<Vec<String>> {
    let arn = validate::required(source_arn, "policySourceArn")?;
    validate::length(arn, "policySourceArn", 20, 2048)?;
    let (_, stored) = simulate::source(conn, ctx, arn)?;
    let mut keys = Vec::new();
    for doc in &stored.identity {
        add_keys(&doc.document, &mut keys)?;
    }
    add_input_list(policies, &mut keys)?;
    Ok(keys)
}
