//! Key policies: every key has exactly one, named `default` (spec §7.6). GetKeyPolicy returns
//! it as stored; PutKeyPolicy validates it as a KMS key policy (`cairn_policy`,
//! `PolicyKind::KeyPolicy`: `Principal` and `Resource` required, Sids may hold spaces), caps it
//! at 32 KB, and applies the lockout safety check: unless `BypassPolicyLockoutSafetyCheck`,
//! the caller must still be allowed `kms:PutKeyPolicy` under the new policy.

use cairn_policy::{Document, PolicyKind, limits::KEY_POLICY_BYTES};
use cairn_store::Connection;

use super::authz::{Actor, KeyAction, key_permission};
use super::{AWS_MANAGED, Key, constraint, err};
use crate::authz::Evaluator;
use crate::context::CallContext;
use crate::error::{ApiResult, ErrorKind};

const DEFAULT_POLICY: &str = include_str!("data/default-key-policy.json");
const AWS_MANAGED_POLICY: &str = include_str!("data/aws-managed-key-policy.json");

/// The only policy name.
pub const POLICY_NAME: &str = "default";

/// The message of a policy the lockout check refuses.
pub const LOCKOUT_MESSAGE: &str =
    "The new key policy will not allow you to update the key policy in the future.";

/// The policy of a key created without one (`key-default-1`): the account may do everything,
/// through its identity policies.
pub fn default_policy(account: &str) -> String {
    DEFAULT_POLICY.replace("{{account}}", account)
}

/// The policy of an AWS managed key for `service` (e.g. `s3`).
pub fn aws_managed_policy(account: &str, region: &str, service: &str) -> String {
    let title = match service {
        "s3" => "S3".to_owned(),
        other => other.to_ascii_uppercase(),
    };
    // EBS volumes are encrypted by EC2 calling KMS, so `aws/ebs`'s key is used through ec2.
    let caller = match service {
        "ebs" => "ec2",
        other => other,
    };
    AWS_MANAGED_POLICY
        .replace("{{account}}", account)
        .replace("{{region}}", region)
        .replace("{{service_title}}", &title)
        .replace("{{via_service}}", caller)
        .replace("{{service}}", service)
}

/// Checks `PolicyName` (only `default` exists).
pub fn check_name(name: Option<&str>) -> ApiResult<()> {
    match name {
        None | Some(POLICY_NAME) => Ok(()),
        Some(other) => {
            super::check_len("policyName", other, 1, 128)?;
            if !other.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(constraint(
                    "policyName",
                    other,
                    "Member must satisfy regular expression pattern: [\\w]+",
                ));
            }
            Err(err(
                ErrorKind::KmsNotFound,
                format!("No such policy exists: {other}. The only key policy name is default."),
            ))
        }
    }
}

/// Validates a key policy document: the model's length and characters, KMS's 32 KB, and the
/// grammar of a key policy.
pub fn validate(text: &str) -> ApiResult<()> {
    super::check_len("policy", text, 1, 131_072)?;
    if !text
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(constraint(
            "policy",
            text,
            "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        ));
    }
    if text.len() > KEY_POLICY_BYTES {
        return Err(err(
            ErrorKind::KmsLimitExceeded,
            format!(
                "The key policy is {} bytes; a key policy may not exceed {KEY_POLICY_BYTES} bytes.",
                text.len()
            ),
        ));
    }
    Document::parse(text, PolicyKind::KeyPolicy)
        .map_err(|m| err(ErrorKind::KmsMalformedPolicyDocument, m.message()))?;
    Ok(())
}

/// KMS refuses a key policy naming an IAM user or role of the account that does not exist.
pub fn check_principals(conn: &Connection, account: &str, text: &str) -> ApiResult<()> {
    let Ok(doc) = Document::parse(text, PolicyKind::KeyPolicy) else {
        return Ok(()); // `validate` reports it
    };
    if crate::iam::roles::missing_principal(conn, account, &doc)?.is_some() {
        return Err(err(
            ErrorKind::KmsMalformedPolicyDocument,
            "Policy contains a statement with one or more invalid principals.",
        ));
    }
    Ok(())
}

/// The lockout safety check: with the new policy stored (inside the call's transaction), the
/// caller must still be allowed `kms:PutKeyPolicy` on the key. A refusal is
/// `MalformedPolicyDocumentException`, and the caller's transaction rolls the policy back.
pub fn lockout_check(
    conn: &Connection,
    evaluator: &dyn Evaluator,
    ctx: &CallContext,
    key: &Key,
) -> ApiResult<()> {
    let actor = Actor::Caller(ctx);
    let needed = key_permission(
        conn,
        &actor,
        key,
        KeyAction {
            action: "kms:PutKeyPolicy",
            extra: vec![(
                "kms:BypassPolicyLockoutSafetyCheck".to_owned(),
                vec!["false".to_owned()],
            )],
            ..Default::default()
        },
    )?;
    match evaluator.authorize(conn, ctx, &needed.permission) {
        Ok(()) => Ok(()),
        Err(e) if e.kind == ErrorKind::AccessDenied => {
            Err(err(ErrorKind::KmsMalformedPolicyDocument, LOCKOUT_MESSAGE))
        }
        Err(e) => Err(e),
    }
}

/// GetKeyPolicy's text: the stored policy with the users and roles it names shown by their
/// current ARNs ([`crate::iam::principal_ids`]).
pub fn shown(conn: &Connection, key: &Key) -> ApiResult<String> {
    crate::iam::principal_ids::render(conn, &key.policy)
}

/// PutKeyPolicy (after authorization under the current policy).
pub fn put_policy(
    conn: &Connection,
    evaluator: &dyn Evaluator,
    ctx: &CallContext,
    key: &Key,
    text: &str,
    bypass_lockout_check: bool,
) -> ApiResult<()> {
    validate(text)?;
    check_principals(conn, &key.account, text)?;
    // No key-state check: the KMS key-state table allows PutKeyPolicy in every state, so the
    // policy of a key pending deletion can still be fixed (kms3).
    if key.key_manager == AWS_MANAGED {
        return Err(err(
            ErrorKind::UnsupportedOperation,
            format!(
                "{} is an AWS managed key; its key policy cannot be changed.",
                key.arn
            ),
        ));
    }
    // The new policy is stored before the check (the evaluator reads it from the store) and
    // rolled back if the check refuses it.
    let bound = crate::iam::principal_ids::bind(conn, &key.account, text)?;
    cairn_store::with_savepoint(conn, |c| {
        cairn_store::kms::set_policy(c, &key.key_id, &bound)?;
        if !bypass_lockout_check {
            lockout_check(c, evaluator, ctx, key)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policies_are_valid_key_policies() {
        validate(&default_policy("111122223333")).unwrap();
        let managed = aws_managed_policy("111122223333", "us-east-1", "s3");
        validate(&managed).unwrap();
        assert!(managed.contains("s3.us-east-1.amazonaws.com"));
        assert!(managed.contains("through S3 for all principals"));
    }

    #[test]
    fn bad_policies_are_refused_with_kms_errors() {
        assert_eq!(
            validate("{}").unwrap_err().kind,
            ErrorKind::KmsMalformedPolicyDocument
        );
        assert_eq!(
            validate("not json").unwrap_err().kind,
            ErrorKind::KmsMalformedPolicyDocument
        );
        let big = format!(
            "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Sid\":\"{}\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\"}}]}}",
            "a".repeat(40_000)
        );
        assert_eq!(
            validate(&big).unwrap_err().kind,
            ErrorKind::KmsLimitExceeded
        );
        assert!(check_name(Some("default")).is_ok());
        assert_eq!(
            check_name(Some("other")).unwrap_err().kind,
            ErrorKind::KmsNotFound
        );
    }
}
