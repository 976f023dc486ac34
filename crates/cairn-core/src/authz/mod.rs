//! Authorization: the permissions a call needs, and the one decision every call of every
//! service passes before it acts.
//!
//! An operation states what it needs as [`Permission`]s (an IAM action, the resource ARN,
//! request-specific condition keys, and the resource policy that applies). The edge's single
//! choke point asks an [`Evaluator`] about each, inside the same store transaction that then
//! runs the operation and records its event, so a denied call changes nothing and is recorded
//! with its `AccessDenied` error.

mod evaluator;
mod forward;
mod identity;
mod resource_tags;

use cairn_store::Connection;

use crate::context::CallContext;
use crate::error::ApiResult;

pub use evaluator::{PolicyEvaluator, request_context, with_resource_tags};
pub use forward::{ForwardAccess, via};
pub use identity::{Gathered, OwnedPolicy};

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
    /// Another ARN of the same resource that policies also name it by (a log group as
    /// `…:log-group:<g>` beside `…:log-group:<g>:log-stream:`): a `Deny` naming either
    /// applies, an `Allow` naming either allows.
    pub alias: Option<String>,
    /// Another action that grants the same (CloudWatch Logs: tagging a new log group needs
    /// "either the `logs:TagResource` or `logs:TagLogGroup` permission"): the permission is
    /// held when `action` is allowed, or else when this one is.
    pub or_action: Option<String>,
}

impl Permission {
    /// `action` on `resource` with no resource policy and no extra keys.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            context: Vec::new(),
            resource_policy: ResourcePolicy::None,
            alias: None,
            or_action: None,
        }
    }

    /// Also held when `action` is allowed (see [`Permission::or_action`]).
    pub fn or(mut self, action: impl Into<String>) -> Self {
        self.or_action = Some(action.into());
        self
    }

    /// The resource is also named `alias` (see [`Permission::alias`]).
    pub fn also_named(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
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

    /// Adds the tags a request sets: `aws:RequestTag/<key>` for each, and `aws:TagKeys` when
    /// there is one.
    pub fn with_request_tags(mut self, tags: &[(String, String)]) -> Self {
        for (k, v) in tags {
            self = self.with(&format!("aws:RequestTag/{k}"), v.clone());
        }
        if !tags.is_empty() {
            self = self.with_values("aws:TagKeys", tags.iter().map(|t| t.0.clone()).collect());
        }
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

/// Checks every permission in order; the first denial ends the call. A permission with an
/// [`Permission::or_action`] is held when either action is allowed; when neither is, the
/// first action's denial is the answer.
pub fn authorize_all(
    evaluator: &dyn Evaluator,
    conn: &Connection,
    ctx: &CallContext,
    permissions: &[Permission],
) -> ApiResult<()> {
    permissions.iter().try_for_each(|p| {
        let first = evaluator.authorize(conn, ctx, p);
        match (&first, &p.or_action) {
            (Err(_), Some(other)) => {
                let alternative = Permission {
                    action: other.clone(),
                    or_action: None,
                    ..p.clone()
                };
                evaluator.authorize(conn, ctx, &alternative).or(first)
            }
            _ => first,
        }
    })
}
