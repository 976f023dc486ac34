//! Whether CloudWatch Logs may use a KMS key for a log group, as AWS checks before it
//! associates one (AssociateKmsKey, CreateLogGroup's `kmsKeyId`): the key policy (or a grant)
//! must let `logs.<region>.amazonaws.com` generate and decrypt data keys under the group's
//! encryption context, `aws:logs:arn` = the group's ARN (CloudWatch Logs User Guide, "Encrypt
//! log data in CloudWatch Logs using AWS KMS"). Evaluated by the same evaluator as every call.

use cairn_store::Connection;

use super::group_arn;
use crate::authz::Evaluator;
use crate::context::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::kms::authz::{Actor, KeyAction, authorize, key_permission};
use crate::kms::ids::{KeyRef, key_in_scope, parse};
use crate::kms::{EncryptionContext, Scope};

/// Refuses a key `logs.<region>.amazonaws.com` may not use for `group`, with AWS's
/// `AccessDeniedException` text. `key` is an ARN [`super::groups::check_kms_key`] accepted.
pub fn check_key_policy(
    conn: &Connection,
    evaluator: &dyn Evaluator,
    ctx: &CallContext,
    group: &str,
    key: &str,
) -> ApiResult<()> {
    let (region, account) = (ctx.region.as_str(), ctx.account().as_str());
    let arn = group_arn(region, account, group);
    let Ok(KeyRef::KeyArn { key_id, .. }) = parse(key) else {
        return Ok(());
    };
    let found = key_in_scope(conn, &Scope::of(ctx), &key_id)?;
    let service = format!("logs.{region}.amazonaws.com");
    let call = crate::sse::service_call(&service, &arn, account, region, ctx.now)?;
    let actor = Actor::Service(&call);
    let context = EncryptionContext::from([("aws:logs:arn".to_owned(), arn.clone())]);
    let mut needed = Vec::new();
    for (action, operation) in [
        ("kms:GenerateDataKey", "GenerateDataKey"),
        ("kms:Decrypt", "Decrypt"),
    ] {
        needed.push(key_permission(
            conn,
            &actor,
            &found,
            KeyAction {
                action,
                context: Some(&context),
                algorithm: true,
                grant_operation: Some(operation),
                ..KeyAction::default()
            },
        )?);
    }
    authorize(conn, evaluator, &actor, needed).map_err(|e| match e.kind {
        ErrorKind::AccessDenied => ApiError::new(
            ErrorKind::AccessDenied,
            format!(
                "The specified KMS key does not exist or is not allowed to be used with Arn '{arn}'"
            ),
        ),
        _ => e,
    })
}

/// Refuses to read or write the events of a group whose KMS key CloudWatch Logs can no longer
/// use (disabled, pending deletion, deleted, or its policy no longer lets
/// `logs.<region>.amazonaws.com` use it): on AWS the group's data is encrypted with the key,
/// and "CloudWatch Logs will need permissions for the key whenever that data is accessed"
/// (AssociateKmsKey). The refusal is AssociateKmsKey's `AccessDeniedException`. A group with
/// no key, or one that does not exist (the call's own error follows), passes.
pub fn check_group_key(
    conn: &Connection,
    evaluator: &dyn Evaluator,
    ctx: &CallContext,
    group: &super::GroupKey,
) -> ApiResult<()> {
    let Some(found) =
        cairn_store::logs::get_group(conn, &group.account, &group.region, &group.name)?
    else {
        return Ok(());
    };
    let Some(key) = found.kms_key_id.as_deref() else {
        return Ok(());
    };
    let denied = || {
        ApiError::new(
            ErrorKind::AccessDenied,
            format!(
                "The specified KMS key does not exist or is not allowed to be used with Arn '{}'",
                group_arn(&group.region, &group.account, &group.name)
            ),
        )
    };
    let Ok(KeyRef::KeyArn { key_id, .. }) = parse(key) else {
        return Err(denied());
    };
    match key_in_scope(conn, &Scope::of(ctx), &key_id) {
        Ok(k) if k.state == crate::kms::ENABLED => {}
        _ => return Err(denied()),
    }
    check_key_policy(conn, evaluator, ctx, &group.name, key)
}
