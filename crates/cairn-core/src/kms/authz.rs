//! What KMS operations must be allowed to do, and the KMS parts of the decision: condition
//! keys (spec §4.7, §7.6), grants, and service principals.
//!
//! Every key operation is authorized against the key's ARN with the key policy as the
//! (mandatory) resource policy: [`ResourcePolicy::Key`]. Its [`Permission`] carries the KMS
//! condition keys: `kms:CallerAccount`, `kms:EncryptionContext:<k>` and
//! `kms:EncryptionContextKeys`, `kms:RequestAlias` when the request named an alias,
//! `kms:KeySpec`, `kms:KeyUsage`, `kms:KeyOrigin`, `kms:MultiRegion`,
//! `kms:EncryptionAlgorithm`, `kms:ResourceAliases`, `kms:ViaService` (with `aws:ViaAWSService` and `aws:CalledVia`)
//! when another Cairn service calls for the principal, and whatever the operation adds (the
//! key's `aws:ResourceTag/<k>` come from the evaluator, as every resource's do) (`kms:BypassPolicyLockoutSafetyCheck`, …).
//!
//! Grants allow what they name without any policy: a permission a grant covers is dropped from
//! what the policy evaluator must allow — unless a policy denies it explicitly, which wins over
//! a grant as it wins over everything.

use cairn_model::{AccountId, Principal, Region};
use cairn_store::Connection;

use super::{EncryptionContext, Key, SYMMETRIC_DEFAULT, Scope};
use crate::authz::{Evaluator, Permission, ResourcePolicy, authorize_all};
use crate::context::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// A service principal acting on its own behalf (CloudTrail encrypting a log file).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceCall {
    /// Service principal, e.g. `cloudtrail.amazonaws.com`.
    pub service: String,
    /// The account whose key it uses.
    pub account: AccountId,
    /// The key's region.
    pub region: Region,
    /// Call time, epoch seconds.
    pub now: f64,
    /// `aws:SourceArn` (e.g. the trail ARN).
    pub source_arn: Option<String>,
    /// `aws:SourceAccount`.
    pub source_account: Option<String>,
}

impl ServiceCall {
    /// The call as the policy evaluator sees it: the service principal, acting in the
    /// account and region of the key.
    pub fn context(&self) -> CallContext {
        CallContext {
            principal: Principal::Service {
                account: self.account.clone(),
                name: self.service.clone(),
            },
            region: self.region.clone(),
            now: self.now,
            origin: crate::context::Origin {
                source_ip: self.service.clone(),
                user_agent: self.service.clone(),
                secure_transport: true,
                sigv2: false,
                console: false,
            },
        }
    }

    /// `aws:SourceArn` and `aws:SourceAccount`, which the service sends with its requests.
    fn source_keys(&self) -> Vec<(String, Vec<String>)> {
        let mut keys = Vec::new();
        if let Some(s) = &self.source_arn {
            keys.push(("aws:SourceArn".to_owned(), vec![s.clone()]));
        }
        if let Some(s) = &self.source_account {
            keys.push(("aws:SourceAccount".to_owned(), vec![s.clone()]));
        }
        keys
    }
}

/// On whose behalf a KMS operation runs.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// A principal calling KMS directly.
    Caller(&'a CallContext),
    /// A principal's request that another Cairn service makes for it (S3 SSE-KMS): the
    /// principal is authorized, with `kms:ViaService = <service>.<region>.amazonaws.com`.
    Via {
        /// The principal's call.
        ctx: &'a CallContext,
        /// The calling service's short name, e.g. `s3`.
        service: &'a str,
    },
    /// A service principal acting for itself.
    Service(&'a ServiceCall),
}

impl Actor<'_> {
    /// Account and region of the call.
    pub fn scope(&self) -> Scope {
        match self {
            Actor::Caller(ctx) | Actor::Via { ctx, .. } => Scope::of(ctx),
            Actor::Service(s) => Scope {
                account: s.account.to_string(),
                region: s.region.to_string(),
            },
        }
    }

    /// Call time.
    pub fn now(&self) -> f64 {
        match self {
            Actor::Caller(ctx) | Actor::Via { ctx, .. } => ctx.now,
            Actor::Service(s) => s.now,
        }
    }

    /// `kms:CallerAccount` (absent for service principals).
    pub fn caller_account(&self) -> Option<String> {
        match self {
            Actor::Caller(ctx) | Actor::Via { ctx, .. } => Some(ctx.account().to_string()),
            Actor::Service(_) => None,
        }
    }

    /// `kms:ViaService`.
    pub fn via_service(&self) -> Option<String> {
        match self {
            Actor::Via { ctx, service } => Some(format!("{service}.{}.amazonaws.com", ctx.region)),
            _ => None,
        }
    }

    /// Whether a grant's `GranteePrincipal` names this actor.
    pub fn is_grantee(&self, grantee: &str) -> bool {
        match self {
            Actor::Caller(ctx) | Actor::Via { ctx, .. } => principal_is(ctx, grantee),
            Actor::Service(s) => s.service == grantee,
        }
    }

    /// The principal ARN as grants name it (`RetiringPrincipal` checks).
    pub fn principal_arn(&self) -> String {
        match self {
            Actor::Caller(ctx) | Actor::Via { ctx, .. } => ctx.principal.arn(),
            Actor::Service(s) => s.service.clone(),
        }
    }
}

/// Whether `name` (a grant's grantee or retiring principal) names the caller: its unique id
/// or ARN, the role of a role session (by id or ARN), the account for root, or the service
/// principal's name.
pub fn principal_is(ctx: &CallContext, name: &str) -> bool {
    let p = &ctx.principal;
    match p {
        Principal::Root { account, .. } => name == p.arn() || name == account.as_str(),
        Principal::Service { name: service, .. } => name == service,
        Principal::Anonymous { .. } => false,
        // A grant names a user or role of the account by unique id, and a role session by
        // its role's id and session name (`super::grants::bind_principal`; grants stored
        // before were bound by schema 29), so an ARN alone matches no one.
        Principal::IamUser { user_id, .. } => name == user_id,
        Principal::AssumedRole {
            role_id,
            session_name,
            ..
        } => {
            name == role_id
                || name
                    .strip_prefix(role_id.as_str())
                    .and_then(|rest| rest.strip_prefix(':'))
                    == Some(session_name.as_str())
        }
        _ => name == p.arn() || p.role_arn().is_some_and(|role| role == name),
    }
}

/// A permission on a key, and the grant operation that could allow it instead.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyPermission {
    /// What the policies must allow.
    pub permission: Permission,
    /// A grant that names this operation (and whose constraints the context meets) allows
    /// it as well.
    pub grant: Option<GrantUse>,
    /// The caller may do this without any policy allowing it: only an explicit `Deny` stops
    /// it (RetireGrant by a grant's retiring principal or a grantee the grant lets retire).
    pub unless_denied: bool,
}

impl KeyPermission {
    /// A permission no grant can give (`kms:CreateKey`, `kms:ListKeys`, alias resources…).
    pub fn policy_only(permission: Permission) -> Self {
        Self {
            permission,
            grant: None,
            unless_denied: false,
        }
    }
}

/// What a grant must cover.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantUse {
    /// The key.
    pub key_id: String,
    /// The grant operation, e.g. `Decrypt`, `ReEncryptFrom`, `DescribeKey`.
    pub operation: String,
    /// The request's encryption context (for grant constraints).
    pub context: EncryptionContext,
    /// For CreateGrant: the operations and constraints of the grant asked for. A grant that
    /// allows CreateGrant only allows grants at most as wide as itself.
    pub creates: Option<(Vec<String>, Option<cairn_store::kms::GrantConstraints>)>,
}

/// A key operation's needs, for [`key_permission`].
#[derive(Clone, Debug, Default)]
pub struct KeyAction<'a> {
    /// IAM action, e.g. `kms:Decrypt`.
    pub action: &'a str,
    /// `kms:RequestAlias`, when the request named the key by an alias.
    pub alias: Option<&'a str>,
    /// The request's encryption context.
    pub context: Option<&'a EncryptionContext>,
    /// Adds `kms:EncryptionAlgorithm` (`SYMMETRIC_DEFAULT`).
    pub algorithm: bool,
    /// The grant operation that may allow it.
    pub grant_operation: Option<&'a str>,
    /// For CreateGrant: the grant asked for (see [`GrantUse::creates`]).
    pub creates: Option<(Vec<String>, Option<cairn_store::kms::GrantConstraints>)>,
    /// Operation-specific keys.
    pub extra: Vec<(String, Vec<String>)>,
}

/// The permission `action` on `key` needs for `actor`, with every KMS condition key.
pub fn key_permission(
    conn: &Connection,
    actor: &Actor<'_>,
    key: &Key,
    a: KeyAction<'_>,
) -> ApiResult<KeyPermission> {
    let mut p = Permission::new(a.action, &key.arn).under(ResourcePolicy::Key(key.arn.clone()));
    if let Some(acct) = actor.caller_account() {
        p = p.with("kms:CallerAccount", acct);
    }
    p = p
        .with("kms:KeySpec", &key.key_spec)
        .with("kms:KeyUsage", &key.key_usage)
        .with("kms:KeyOrigin", &key.origin)
        .with(
            "kms:MultiRegion",
            if key.multi_region { "true" } else { "false" },
        );
    if let Some(alias) = a.alias {
        p = p.with("kms:RequestAlias", alias);
    }
    if let Some(ctx) = a.context.filter(|c| !c.is_empty()) {
        for (k, v) in ctx {
            p = p.with(&format!("kms:EncryptionContext:{k}"), v);
        }
        p = p.with_values("kms:EncryptionContextKeys", ctx.keys().cloned().collect());
    }
    if a.algorithm {
        p = p.with("kms:EncryptionAlgorithm", SYMMETRIC_DEFAULT);
    }
    if let Some(via) = actor.via_service() {
        let called = match actor {
            Actor::Via { service, .. } => format!("{service}.amazonaws.com"),
            _ => String::new(),
        };
        p = p
            .with("kms:ViaService", via)
            .with("aws:ViaAWSService", "true")
            .with_values("aws:CalledVia", vec![called.clone()])
            .with("aws:CalledViaFirst", called.clone())
            .with("aws:CalledViaLast", called);
    }
    // `kms:ResourceAliases`: every alias of the key (multi-valued, at most 50 per key).
    let region = key.arn.split(':').nth(3).unwrap_or_default();
    let aliases: Vec<String> =
        cairn_store::kms::list_aliases(conn, &key.account, region, Some(&key.key_id), "", 50)?
            .into_iter()
            .map(|a| a.name)
            .collect();
    if !aliases.is_empty() {
        p = p.with_values("kms:ResourceAliases", aliases);
    }
    for (k, v) in a.extra {
        p = p.with_values(&k, v);
    }
    Ok(KeyPermission {
        unless_denied: false,
        permission: p,
        grant: a.grant_operation.map(|op| GrantUse {
            key_id: key.key_id.clone(),
            operation: op.to_owned(),
            context: a.context.cloned().unwrap_or_default(),
            creates: a.creates.clone(),
        }),
    })
}

/// Whether an AccessDenied came from an explicit `Deny` (the evaluator's AWS message says so).
fn is_explicit_denial(e: &ApiError) -> bool {
    e.kind == ErrorKind::AccessDenied && e.message.contains(" with an explicit deny in ")
}

/// For API calls through the edge's choke point: the permissions the choke point must still
/// check. A permission a grant may give is decided here, inside the call's transaction: when
/// the policies allow it, it is done; when they deny it implicitly, a grant that covers the
/// request allows it; otherwise (an explicit deny, which wins over grants, or no grant) it is
/// returned, and the choke point denies it with AWS's message.
pub fn resolve_grants(
    conn: &Connection,
    evaluator: &dyn Evaluator,
    ctx: &CallContext,
    needed: Vec<KeyPermission>,
) -> ApiResult<Vec<Permission>> {
    resolve(conn, evaluator, ctx, &Actor::Caller(ctx), needed)
}

fn resolve(
    conn: &Connection,
    evaluator: &dyn Evaluator,
    ctx: &CallContext,
    actor: &Actor<'_>,
    needed: Vec<KeyPermission>,
) -> ApiResult<Vec<Permission>> {
    let mut out = Vec::with_capacity(needed.len());
    for kp in needed {
        if kp.unless_denied {
            match evaluator.authorize(conn, ctx, &kp.permission) {
                Err(e) if e.kind != ErrorKind::AccessDenied => return Err(e),
                Err(e) if is_explicit_denial(&e) => out.push(kp.permission),
                _ => {}
            }
            continue;
        }
        let Some(g) = &kp.grant else {
            out.push(kp.permission);
            continue;
        };
        match evaluator.authorize(conn, ctx, &kp.permission) {
            Ok(()) => {}
            Err(e) if e.kind != ErrorKind::AccessDenied => return Err(e),
            Err(e) if is_explicit_denial(&e) => out.push(kp.permission),
            Err(_) if super::grants::grant_allows(conn, actor, g)? => {}
            Err(_) => out.push(kp.permission),
        }
    }
    Ok(out)
}

/// Authorizes everything `needed` for `actor` (internal calls: S3 for a caller, CloudTrail as
/// itself), through the same policy evaluator as API calls. A service principal is evaluated
/// as `Principal::Service` with its `aws:SourceArn`/`aws:SourceAccount`; it has no identity
/// policies, so only the key policy (or a grant) can allow it. The first denial ends with
/// AWS's AccessDenied message.
pub fn authorize(
    conn: &Connection,
    evaluator: &dyn Evaluator,
    actor: &Actor<'_>,
    needed: Vec<KeyPermission>,
) -> ApiResult<()> {
    match actor {
        // S3 refuses anything under an SSE-KMS key to a SigV2-signed request (the model's
        // `SSEKMSKeyId`: "All GET and PUT requests for an object protected by KMS will fail if
        // they're not made via SSL or using SigV4").
        Actor::Via { ctx, service: "s3" } if ctx.origin.sigv2 => Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.",
        )),
        Actor::Caller(ctx) | Actor::Via { ctx, .. } => {
            let perms = resolve(conn, evaluator, ctx, actor, needed)?;
            authorize_all(evaluator, conn, ctx, &perms)
        }
        Actor::Service(call) => {
            let ctx = call.context();
            let keys = call.source_keys();
            let needed = needed
                .into_iter()
                .map(|mut kp| {
                    kp.permission.context.extend(keys.iter().cloned());
                    kp
                })
                .collect();
            let perms = resolve(conn, evaluator, &ctx, actor, needed)?;
            authorize_all(evaluator, conn, &ctx, &perms)
        }
    }
}
