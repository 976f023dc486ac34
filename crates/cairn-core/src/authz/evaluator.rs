//! The evaluator every call passes: it gathers the caller's identity policies and the
//! resource's policy, builds the request context (global keys, principal keys, the call's own
//! keys) and lets `cairn_policy` decide with AWS's algorithm.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cairn_policy::{
    Context, Decision, Document, PolicyKind, PolicySet, PolicySource, Request, ResourceStyle,
    SourcedPolicy,
};
use cairn_store::Connection;

use super::identity::IdentityCache;
use super::{Evaluator, Permission, ResourcePolicy};
use crate::context::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// Decides with identity policies, resource policies and AWS's order.
#[derive(Default)]
pub struct PolicyEvaluator {
    identities: IdentityCache,
    documents: Mutex<HashMap<String, Arc<Document>>>,
}

impl PolicyEvaluator {
    /// A fresh evaluator with empty caches.
    pub fn new() -> Self {
        Self::default()
    }

    /// A resource policy document, parsed once per distinct text. A stored document that no
    /// longer parses applies nothing (it was validated when it was stored).
    fn document(&self, text: &str, kind: PolicyKind) -> Option<Arc<Document>> {
        if let Some(d) = self.documents.lock().expect("document cache").get(text) {
            return Some(d.clone());
        }
        let parsed = Arc::new(Document::parse(text, kind).ok()?);
        let mut cache = self.documents.lock().expect("document cache");
        if cache.len() > 1_024 {
            cache.clear();
        }
        cache.insert(text.to_owned(), parsed.clone());
        Some(parsed)
    }

    fn resource_policy(
        &self,
        conn: &Connection,
        which: &ResourcePolicy,
    ) -> ApiResult<Option<(String, Arc<Document>)>> {
        let (id, text, kind) = match which {
            ResourcePolicy::None => return Ok(None),
            ResourcePolicy::Bucket(b) => {
                match cairn_store::buckets::get(conn, b)?.and_then(|b| b.policy) {
                    Some(p) => (format!("arn:aws:s3:::{b}"), p, PolicyKind::Resource),
                    None => return Ok(None),
                }
            }
            ResourcePolicy::Topic(arn) => match cairn_store::sns::get_topic(conn, arn)? {
                Some(t) => (arn.clone(), t.policy, PolicyKind::Resource),
                None => return Ok(None),
            },
            ResourcePolicy::RoleTrust(arn) => {
                let account = arn.split(':').nth(4).unwrap_or_default();
                match crate::iam::role_trust_policy(conn, account, arn)? {
                    Some(t) => (t.role_arn, t.document, PolicyKind::Trust),
                    None => return Ok(None),
                }
            }
            // KMS key policies are mandatory: `PolicyKind::KeyPolicy` makes cairn-policy apply
            // KMS's rule (identity policies count only when the key policy delegates).
            ResourcePolicy::Key(arn) => match cairn_store::kms::key_policy_by_arn(conn, arn)? {
                Some(p) => (arn.clone(), p, PolicyKind::KeyPolicy),
                None => return Ok(None),
            },
        };
        Ok(self.document(&text, kind).map(|d| (id, d)))
    }
}

/// The `cairn_policy` view of a caller.
pub fn policy_principal(principal: &cairn_model::Principal) -> cairn_policy::Principal {
    crate::sts::evaluator_principal(principal)
}

/// The global condition keys of a call (spec iam-kms.md §4.7).
pub fn request_context(ctx: &CallContext, principal: &cairn_policy::Principal) -> Context {
    let mut c = Context::new();
    principal.add_context_keys(&mut c);
    let now = ctx.now_secs();
    c.insert("aws:SourceIp", ctx.origin.source_ip.clone());
    c.insert(
        "aws:SecureTransport",
        if ctx.origin.secure_transport {
            "true"
        } else {
            "false"
        },
    );
    c.insert("aws:UserAgent", ctx.origin.user_agent.clone());
    c.insert("aws:RequestedRegion", ctx.region.to_string());
    c.insert("aws:EpochTime", now.to_string());
    if let Some(t) = chrono::DateTime::from_timestamp(now, 0) {
        c.insert(
            "aws:CurrentTime",
            t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
    }
    c.insert("aws:ResourceAccount", ctx.account().to_string());
    // Temporary credentials carry the MFA flag and their issue time; long-term keys carry
    // neither (so `Bool aws:MultiFactorAuthPresent false` does not match them, as on AWS).
    if let Some(session) = ctx.principal.session() {
        c.insert(
            "aws:MultiFactorAuthPresent",
            if session.mfa { "true" } else { "false" },
        );
        if let Some(t) = chrono::DateTime::from_timestamp(session.created, 0) {
            c.insert(
                "aws:TokenIssueTime",
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            );
        }
        if session.mfa {
            c.insert(
                "aws:MultiFactorAuthAge",
                (now - session.created).to_string(),
            );
        }
        // A role session created with `SourceIdentity` (or chained from one) carries it in
        // every request (IAM user guide, "aws:SourceIdentity").
        if let Some(source) = &session.source_identity {
            c.insert("aws:SourceIdentity", source.clone());
        }
    } else if ctx.origin.console {
        // A console session is temporary credentials: the key is present, `false` as Cairn's
        // console signs in without MFA (console10: a Deny on `Bool
        // aws:MultiFactorAuthPresent false`, AWS's way to require MFA, did not apply).
        c.insert("aws:MultiFactorAuthPresent", "false");
    }
    c
}

/// The condition-key prefixes of the key-value pairs a request sets, whose key names IAM
/// reads without case: the tags a request sets, an object write's tags, and a KMS call's
/// encryption context (recheck31: `env=prod&Env=x` and `{"ENV":"prod","env":"x"}` dodged a
/// Deny on the `env` value, the last case variant winning).
const PAIR_PREFIXES: &[&str] = &[
    "aws:RequestTag/",
    "s3:RequestObjectTag/",
    "kms:EncryptionContext:",
];

/// Whether `key` names one pair of a request (see [`PAIR_PREFIXES`]).
fn is_request_pair(key: &str) -> bool {
    PAIR_PREFIXES.iter().any(|prefix| {
        key.len() > prefix.len()
            && key.is_char_boundary(prefix.len())
            && key[..prefix.len()].eq_ignore_ascii_case(prefix)
    })
}

/// Adds the tags of the resource `arn` names to `context` (see `resource_tags`).
pub fn with_resource_tags(conn: &Connection, context: &mut Context, arn: &str) -> ApiResult<()> {
    let (tags, iam) = super::resource_tags::of(conn, arn)?;
    for (k, v) in tags {
        if iam {
            context.add_tag(&format!("iam:ResourceTag/{k}"), v.clone());
        }
        context.add_tag(&format!("aws:ResourceTag/{k}"), v);
    }
    Ok(())
}

/// S3's escape hatch: the root user of the account that owns a bucket may always get, put
/// and delete the bucket's policy, even when the policy denies it, so a policy cannot lock
/// its owner out for good.
fn owner_root_on_own_bucket_policy(
    conn: &Connection,
    ctx: &CallContext,
    permission: &Permission,
) -> ApiResult<bool> {
    const POLICY_ACTIONS: [&str; 3] = [
        "s3:GetBucketPolicy",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
    ];
    let (cairn_model::Principal::Root { account, .. }, ResourcePolicy::Bucket(bucket)) =
        (&ctx.principal, &permission.resource_policy)
    else {
        return Ok(false);
    };
    if !POLICY_ACTIONS.contains(&permission.action.as_str()) {
        return Ok(false);
    }
    Ok(cairn_store::buckets::get(conn, bucket)?.is_some_and(|b| b.account == account.as_str()))
}

impl Evaluator for PolicyEvaluator {
    fn authorize(
        &self,
        conn: &Connection,
        ctx: &CallContext,
        permission: &Permission,
    ) -> ApiResult<()> {
        if owner_root_on_own_bucket_policy(conn, ctx, permission)? {
            return Ok(());
        }
        let principal = policy_principal(&ctx.principal);
        let gathered = self.identities.get(conn, &ctx.principal)?;
        let resource = self.resource_policy(conn, &permission.resource_policy)?;
        let identity: Vec<SourcedPolicy<'_>> =
            gathered.identity.iter().map(|p| p.sourced()).collect();
        let session: Option<Vec<SourcedPolicy<'_>>> = gathered
            .session
            .as_ref()
            .map(|s| s.iter().map(|p| p.sourced()).collect());
        let set = PolicySet {
            identity: &identity,
            session: session.as_deref(),
            boundary: gathered.boundary.as_ref().map(|b| b.sourced()),
            resource: resource.as_ref().map(|(id, d)| SourcedPolicy {
                source: PolicySource::Resource,
                id,
                document: d,
            }),
        };
        let mut context = request_context(ctx, &principal);
        for (k, v) in &gathered.tags {
            context.insert(&format!("aws:PrincipalTag/{k}"), v.clone());
        }
        // Keys of the resource itself are read only when a policy of the decision reads them
        // (a condition key or a policy variable): S3 objects have their own tag key and
        // buckets none here, and other resources no owner but the caller's account.
        let reads = |prefix: &str| {
            identity
                .iter()
                .chain(session.iter().flatten())
                .map(|p| p.document)
                .chain(set.boundary.map(|b| b.document))
                .chain(set.resource.map(|r| r.document))
                .any(|d| d.tests_key_prefix(prefix))
        };
        if permission.resource.starts_with("arn:aws:s3:::") {
            // The account that owns the bucket: `s3:ResourceAccount`, and `aws:ResourceAccount`
            // with it (the caller's account otherwise).
            if (reads("s3:ResourceAccount") || reads("aws:ResourceAccount"))
                && let Some(owner) = super::resource_tags::s3_owner(conn, &permission.resource)?
            {
                context.insert("s3:ResourceAccount", owner.clone());
                context.insert("aws:ResourceAccount", owner);
            }
            // The tags of the object the call acts on (not of the object a write replaces).
            if reads("s3:ExistingObjectTag/")
                && crate::object_tags::action_sees_existing_tags(&permission.action)
            {
                for (k, v) in crate::object_tags::of_arn(conn, &permission.resource)? {
                    context.add_tag(&format!("s3:ExistingObjectTag/{k}"), v);
                }
            }
        } else if reads("aws:ResourceTag/") || reads("iam:ResourceTag/") {
            with_resource_tags(conn, &mut context, &permission.resource)?;
        }
        for (k, values) in &permission.context {
            // A request's tags (or encryption context), one key each: case-variant keys
            // (`env`, `Env`) keep both values rather than the last (see `Context::add_tag`).
            if is_request_pair(k) {
                for v in values {
                    context.add_tag(k, v.clone());
                }
            } else {
                context.insert_values(k, values.clone());
            }
        }
        // Always in the request context (false unless the call says otherwise).
        for key in ["aws:ViaAWSService", "aws:PrincipalIsAWSService"] {
            if context.get(key).is_none() {
                let service = matches!(ctx.principal, cairn_model::Principal::Service { .. });
                let value = key == "aws:PrincipalIsAWSService" && service;
                context.insert(key, value.to_string());
            }
        }
        let request = Request {
            principal: &principal,
            action: &permission.action,
            resource: &permission.resource,
            context: &context,
        };
        let mut decision = cairn_policy::authorize(&request, &set);
        if let Some(alias) = &permission.alias {
            // Either name of the resource: an explicit Deny of either wins, then an Allow
            // of either.
            let other = cairn_policy::authorize(
                &Request {
                    resource: alias,
                    ..request
                },
                &set,
            );
            let explicit = |d: &Decision| matches!(d, Decision::Deny { explicit: true, .. });
            if explicit(&other)
                || (!explicit(&decision)
                    && matches!(other, Decision::Allow { .. })
                    && !matches!(decision, Decision::Allow { .. }))
            {
                decision = other;
            }
        }
        if let Decision::Allow { .. } = decision {
            return Ok(());
        }
        let style = if permission.action.starts_with("s3:") {
            ResourceStyle::Quoted
        } else {
            ResourceStyle::Plain
        };
        // SNS names its actions with the service in capitals (`SNS:Publish`) in its denials.
        let shown = match permission.action.strip_prefix("sns:") {
            Some(op) => format!("SNS:{op}"),
            None => permission.action.clone(),
        };
        let message = cairn_policy::access_denied_message(
            &principal,
            &shown,
            &permission.resource,
            &decision,
            style,
        )
        .unwrap_or_else(|| "Access Denied".to_owned());
        // STS words an implicit denial without the reason ("… sts:AssumeRole on resource:
        // <role ARN>", as its records and answers show).
        let message = match (
            permission.action.starts_with("sts:"),
            message.split_once(" because no "),
        ) {
            (true, Some((head, _))) => head.to_owned(),
            _ => message,
        };
        Err(ApiError::new(ErrorKind::AccessDenied, message))
    }
}
