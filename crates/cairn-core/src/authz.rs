//! Authorization: the permissions a call needs, and the one decision every call of every
//! service passes before it acts.
//!
//! An operation states what it needs as [`Permission`]s (an IAM action, the resource ARN,
//! request-specific condition keys, and the resource policy that applies). The edge's single
//! choke point asks an [`Evaluator`] about each, inside the same store transaction that then
//! runs the operation and records its event, so a denied call changes nothing and is recorded
//! with its `AccessDenied` error.

use cairn_store::Connection;

use crate::context::CallContext;
use crate::error::ApiResult;

/// The resource policy that takes part in a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourcePolicy {
    /// None applies (CloudTrail, IAM, …).
    None,
    /// The bucket policy of this bucket.
    Bucket(String),
    /// The access policy of this SNS topic (ARN).
    Topic(String),
    /// The trust policy of this role (ARN).
    RoleTrust(String),
    /// The key policy of this KMS key (ARN).
    Key(String),
}

/// One permission a call needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permission {
    /// The IAM action, e.g. `cloudtrail:StopLogging`.
    pub action: String,
    /// The resource ARN, or `*` for actions without resource-level permissions.
    pub resource: String,
    /// Request-specific condition keys (service keys such as `s3:x-amz-acl`), each with its
    /// values. Global keys (`aws:SourceIp`, …) come from the [`CallContext`].
    pub context: Vec<(String, Vec<String>)>,
    /// The resource policy consulted with the caller's identity policies.
    pub resource_policy: ResourcePolicy,
}

impl Permission {
    /// `action` on `resource` with no resource policy and no extra keys.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            context: Vec::new(),
            resource_policy: ResourcePolicy::None,
        }
    }

    /// `action` on no particular resource (`*`).
    pub fn any(action: impl Into<String>) -> Self {
        Self::new(action, "*")
    }

    /// Adds a condition key with one value.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.context.push((key.to_owned(), vec![value.into()]));
        self
    }

    /// Adds a multi-valued condition key.
    pub fn with_values(mut self, key: &str, values: Vec<String>) -> Self {
        self.context.push((key.to_owned(), values));
        self
    }

    /// Sets the resource policy.
    pub fn under(mut self, policy: ResourcePolicy) -> Self {
        self.resource_policy = policy;
        self
    }
}

/// Decides whether a caller holds a permission. Implementations read what they need (identity
/// policies, resource policies) through `conn`, inside the call's transaction.
pub trait Evaluator: Send + Sync + 'static {
    /// `Ok(())` when allowed; an `AccessDenied` [`crate::ApiError`] with AWS's message when
    /// not.
    fn authorize(
        &self,
        conn: &Connection,
        ctx: &CallContext,
        permission: &Permission,
    ) -> ApiResult<()>;
}

/// Checks every permission in order; the first denial ends the call.
pub fn authorize_all(
    evaluator: &dyn Evaluator,
    conn: &Connection,
    ctx: &CallContext,
    permissions: &[Permission],
) -> ApiResult<()> {
    permissions
        .iter()
        .try_for_each(|p| evaluator.authorize(conn, ctx, p))
}

/// The evaluator used until identity policies exist: every authenticated caller of the
/// account is allowed unless a bucket policy explicitly denies it (AWS's rule that an
/// explicit Deny in a resource policy binds even the root user).
pub struct ResourceDenyOnly;

impl Evaluator for ResourceDenyOnly {
    fn authorize(
        &self,
        conn: &Connection,
        ctx: &CallContext,
        permission: &Permission,
    ) -> ApiResult<()> {
        use crate::policy::{AccessRequest, Caller, Decision, Policy};
        let ResourcePolicy::Bucket(bucket) = &permission.resource_policy else {
            return Ok(());
        };
        let Some(document) = cairn_store::buckets::get(conn, bucket)?.and_then(|b| b.policy) else {
            return Ok(());
        };
        let Ok(policy) = Policy::parse(&document) else {
            return Ok(());
        };
        let arn = ctx.principal.arn();
        let mut keys: Vec<(&str, &str)> = vec![
            (
                "aws:SecureTransport",
                if ctx.origin.secure_transport {
                    "true"
                } else {
                    "false"
                },
            ),
            ("aws:SourceIp", ctx.origin.source_ip.as_str()),
        ];
        for (k, values) in &permission.context {
            for v in values {
                keys.push((k.as_str(), v.as_str()));
            }
        }
        let decision = policy.evaluate(&AccessRequest {
            caller: Caller::Aws {
                arn: &arn,
                account: ctx.account().as_str(),
            },
            action: &permission.action,
            resource: &permission.resource,
            context: &keys,
        });
        if decision == Decision::Deny {
            return Err(denied(ctx, permission, true, "resource-based"));
        }
        Ok(())
    }
}

/// AWS's AccessDenied message (IAM user guide, "Troubleshoot access denied"): the implicit
/// form names the missing allow, the explicit form the policy type that denied. S3 quotes the
/// resource; actions without a resource omit it.
pub fn denied(
    ctx: &CallContext,
    permission: &Permission,
    explicit: bool,
    policy_type: &str,
) -> crate::ApiError {
    let resource = if permission.resource == "*" {
        String::new()
    } else if permission.action.starts_with("s3:") {
        format!(" on resource: \"{}\"", permission.resource)
    } else {
        format!(" on resource: {}", permission.resource)
    };
    let action = &permission.action;
    let reason = if explicit {
        let article = if policy_type.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("with an explicit deny in {article} {policy_type} policy")
    } else {
        format!("because no {policy_type} policy allows the {action} action")
    };
    crate::ApiError::new(
        crate::ErrorKind::AccessDenied,
        format!(
            "User: {} is not authorized to perform: {action}{resource} {reason}",
            ctx.principal.arn()
        ),
    )
}
