//! Principals bound to the entity they named when the policy was saved.
//!
//! A resource-based policy (a role's trust policy, a bucket policy, a key policy, a topic
//! policy) that names an IAM user or role by ARN names *that* user or role, not whoever holds
//! the name later. AWS stores the entity's unique id (`AIDA…`, `AROA…`) in place of the ARN
//! and shows the ARN again on read while the entity exists; once it is deleted, the policy
//! shows the bare id and matches no one, not even a new entity of the same name (IAM user
//! guide, "Role trust policies": delete and re-create a user or role and the trust policy must
//! be edited). Without this, anyone allowed `iam:CreateUser` could re-create a deleted auditor
//! and inherit its grants on the trail's bucket or key.
//!
//! [`bind`] rewrites `Principal`/`NotPrincipal` `AWS` entries naming an existing user or role
//! of the account into ids before the policy is stored; [`render`] turns the ids of entities
//! that still exist back into their current ARNs for Get calls. The evaluator matches ids
//! against the caller's own (`cairn_policy::principal`).

use cairn_store::Connection;
use cairn_store::iam::{roles as rstore, users as ustore};
use serde_json::Value;

use super::{role_arn, user_arn};
use crate::error::ApiResult;

/// The policy text to store: `text` with each user or role ARN of `account` named as a
/// principal replaced by that entity's unique id. The text is returned unchanged when nothing
/// is bound (or when it is not JSON: the caller's validation reports that).
pub fn bind(conn: &Connection, account: &str, text: &str) -> ApiResult<String> {
    rewrite(text, |entry| bind_one(conn, account, entry))
}

/// The policy text to show: the ids of users and roles that still exist replaced by their
/// current ARNs. Ids of deleted entities stay as they are, as on AWS.
pub fn render(conn: &Connection, text: &str) -> ApiResult<String> {
    rewrite(text, |entry| render_one(conn, entry))
}

/// One principal as stored (an entry of a policy's `Principal`, a KMS grant's grantee or
/// retiring principal): the unique id of the user or role of `account` it names, if one
/// exists.
pub fn bind_one(conn: &Connection, account: &str, entry: &str) -> ApiResult<Option<String>> {
    let Some(rest) = entry.strip_prefix(&format!("arn:aws:iam::{account}:")) else {
        return Ok(None);
    };
    let Some((kind_and_path, name)) = rest.rsplit_once('/') else {
        return Ok(None);
    };
    let path = |kind: &str| kind_and_path.strip_prefix(kind).map(|p| format!("{p}/"));
    if let Some(path) = path("user") {
        return Ok(ustore::get_user(conn, account, name)?
            .filter(|u| u.path == path)
            .map(|u| u.user_id));
    }
    if let Some(path) = path("role") {
        return Ok(rstore::get_role(conn, account, name)?
            .filter(|r| r.path == path)
            .map(|r| r.role_id));
    }
    Ok(None)
}

/// One stored principal as shown: the current ARN of the user or role an id names, if it
/// still exists.
pub fn render_one(conn: &Connection, entry: &str) -> ApiResult<Option<String>> {
    if entry.starts_with("AIDA") {
        return Ok(ustore::get_user_by_id(conn, entry)?.map(|u| user_arn(&u)));
    }
    if entry.starts_with("AROA") {
        return Ok(rstore::get_role_by_id(conn, entry)?.map(|r| role_arn(&r)));
    }
    Ok(None)
}

/// Applies `map` to every `AWS` principal entry of every statement; re-serialises only when
/// an entry changed, so documents without bound principals keep their text.
fn rewrite(
    text: &str,
    mut map: impl FnMut(&str) -> ApiResult<Option<String>>,
) -> ApiResult<String> {
    let Ok(mut doc) = serde_json::from_str::<Value>(text) else {
        return Ok(text.to_owned());
    };
    let mut changed = false;
    let statements = match doc.get_mut("Statement") {
        Some(Value::Array(items)) => items.iter_mut().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    for statement in statements {
        for element in ["Principal", "NotPrincipal"] {
            let Some(aws) = statement.get_mut(element).and_then(|p| p.get_mut("AWS")) else {
                continue;
            };
            let entries: Vec<&mut Value> = match aws {
                Value::Array(items) => items.iter_mut().collect(),
                one => vec![one],
            };
            for entry in entries {
                if let Value::String(s) = entry
                    && let Some(new) = map(s)?
                {
                    *s = new;
                    changed = true;
                }
            }
        }
    }
    if !changed {
        return Ok(text.to_owned());
    }
    Ok(serde_json::to_string(&doc).unwrap_or_else(|_| text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upper(s: &str) -> ApiResult<Option<String>> {
        Ok(s.starts_with("arn:").then(|| s.to_uppercase()))
    }

    #[test]
    fn only_aws_principal_entries_are_rewritten() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:a","*"],"Service":"arn:s"},"Action":"s3:*","Resource":"arn:r","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:c"}}},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:b"},"Action":"*","Resource":"*"}]}"#;
        let out = rewrite(text, upper).unwrap();
        assert_eq!(
            out,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["ARN:A","*"],"Service":"arn:s"},"Action":"s3:*","Resource":"arn:r","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:c"}}},{"Effect":"Deny","NotPrincipal":{"AWS":"ARN:B"},"Action":"*","Resource":"*"}]}"#
        );
    }

    #[test]
    fn documents_without_entries_to_rewrite_keep_their_text() {
        for text in [
            "{ \"Statement\": {\"Principal\": \"*\"} }",
            "not json",
            "{\"Statement\": [{\"Principal\": {\"Service\": \"arn:x\"}}]}",
        ] {
            assert_eq!(rewrite(text, upper).unwrap(), text);
        }
    }
}
