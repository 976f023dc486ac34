//! Whether a role's trust policy lets the caller assume it: the one place AssumeRole asks.
//!
//! It runs `cairn_policy::authorize` with the trust policy as the (mandatory) resource policy
//! and the caller's identity policies, for action `sts:AssumeRole` on the role ARN, with the
//! request keys AssumeRole adds (`sts:RoleSessionName`, `sts:ExternalId`,
//! `sts:SourceIdentity`, `aws:RequestTag/…`, `aws:TagKeys`) and the caller's principal keys.
//! A trust policy naming the caller allows by itself; one naming the account also needs an
//! identity `Allow` (spec §4.8 step 3). The edge's global keys (`aws:SourceIp`,
//! `aws:CurrentTime`…) are not added here: the authorization layer may replace this function
//! with its own call that carries the full request context.

use cairn_model::Principal;
use cairn_policy::{Document, PolicyKind, PolicySet, Request, SourcedPolicy};
use cairn_store::Connection;

use crate::CallContext;
use crate::error::ApiResult;
use crate::iam::{PolicyDoc, Tag, TrustPolicy, principal_policies};

/// The AssumeRole request keys the trust policy may test.
#[derive(Clone, Copy, Debug)]
pub struct AssumeRoleContext<'a> {
    /// `ExternalId`.
    pub external_id: Option<&'a str>,
    /// `RoleSessionName`.
    pub session_name: &'a str,
    /// `SourceIdentity`.
    pub source_identity: Option<&'a str>,
    /// Session tags requested.
    pub tags: &'a [Tag],
    /// `TransitiveTagKeys`.
    pub transitive_tag_keys: &'a [String],
}

/// The evaluator's view of a caller.
pub fn evaluator_principal(p: &Principal) -> cairn_policy::Principal {
    match p {
        Principal::Root { account, .. } => cairn_policy::Principal::Root {
            account: account.to_string(),
        },
        Principal::Service { name, .. } => cairn_policy::Principal::Service { name: name.clone() },
        Principal::Anonymous { .. } | Principal::Federated { .. } => {
            cairn_policy::Principal::Anonymous
        }
        Principal::IamUser {
            account,
            user_name,
            user_id,
            ..
        } => cairn_policy::Principal::User {
            account: account.to_string(),
            arn: p.arn(),
            id: user_id.clone(),
            name: user_name.clone(),
        },
        Principal::AssumedRole {
            account,
            role_id,
            session_name,
            ..
        } => cairn_policy::Principal::RoleSession {
            account: account.to_string(),
            role_arn: p.role_arn().unwrap_or_default(),
            role_id: role_id.clone(),
            session_arn: p.arn(),
            session_name: session_name.clone(),
        },
    }
}

/// Parses stored identity policies (a stored document always parses: it was validated when
/// written; one that no longer does is left out).
fn parse_all(docs: &[PolicyDoc]) -> Vec<(Document, &PolicyDoc)> {
    docs.iter()
        .filter_map(|d| {
            Document::parse(&d.document, PolicyKind::Identity)
                .ok()
                .map(|doc| (doc, d))
        })
        .collect()
}

fn sourced<'a>(list: &'a [(Document, &'a PolicyDoc)]) -> Vec<SourcedPolicy<'a>> {
    list.iter()
        .map(|(doc, d)| SourcedPolicy {
            source: d.source,
            id: &d.id,
            document: doc,
        })
        .collect()
}

/// Whether `trust` allows the caller of `ctx` to assume the role.
pub fn trust_allows(
    conn: &Connection,
    ctx: &CallContext,
    trust: &TrustPolicy,
    request: &AssumeRoleContext<'_>,
) -> ApiResult<bool> {
    Ok(trust_refusal(conn, ctx, trust, request, &[])?.is_none())
}

/// The first action of the AssumeRole request that the trust policy (with the caller's own
/// policies) refuses: `sts:AssumeRole`, then `sts:TagSession` when session tags are passed or
/// inherited (`inherited`: the caller's transitive tags), then `sts:SetSourceIdentity`;
/// `None` when all are allowed.
pub fn trust_refusal(
    conn: &Connection,
    ctx: &CallContext,
    trust: &TrustPolicy,
    request: &AssumeRoleContext<'_>,
    inherited: &[Tag],
) -> ApiResult<Option<&'static str>> {
    let Ok(trust_doc) = Document::parse(&trust.document, PolicyKind::Trust) else {
        return Ok(Some("sts:AssumeRole"));
    };
    let stored = principal_policies(conn, &ctx.principal)?;
    let identity = parse_all(&stored.identity);
    let session = stored.session.as_deref().map(parse_all);
    let boundary = stored.boundary.as_ref().and_then(|b| {
        Document::parse(&b.document, PolicyKind::Identity)
            .ok()
            .map(|doc| (doc, b))
    });
    let identity_set = sourced(&identity);
    let session_set = session.as_ref().map(|s| sourced(s));
    let set = PolicySet {
        identity: &identity_set,
        session: session_set.as_deref(),
        boundary: boundary.as_ref().map(|(doc, d)| SourcedPolicy {
            source: d.source,
            id: &d.id,
            document: doc,
        }),
        resource: Some(SourcedPolicy {
            source: cairn_policy::PolicySource::Resource,
            id: &trust.role_arn,
            document: &trust_doc,
        }),
    };
    let principal = evaluator_principal(&ctx.principal);
    // The global keys every call carries (source address, time, MFA, source identity, …) and
    // the role's tags, then AssumeRole's own keys.
    let mut context = crate::authz::request_context(ctx, &principal);
    crate::authz::with_resource_tags(conn, &mut context, &trust.role_arn)?;
    if let Some(account) = trust.role_arn.split(':').nth(4) {
        context.insert("aws:ResourceAccount", account);
    }
    context.insert("sts:RoleSessionName", request.session_name);
    if let Some(e) = request.external_id {
        context.insert("sts:ExternalId", e);
    }
    if let Some(s) = request.source_identity {
        context.insert("sts:SourceIdentity", s);
    }
    for (k, v) in crate::iam::principal_tags(conn, &ctx.principal)? {
        context.insert(&format!("aws:PrincipalTag/{k}"), v);
    }
    if !request.transitive_tag_keys.is_empty() {
        context.insert_values(
            "sts:TransitiveTagKeys",
            request.transitive_tag_keys.to_vec(),
        );
    }
    if !request.tags.is_empty() {
        for (k, v) in request.tags {
            context.add_tag(&format!("aws:RequestTag/{k}"), v.clone());
        }
        context.insert_values(
            "aws:TagKeys",
            request.tags.iter().map(|(k, _)| k.clone()).collect(),
        );
    }
    // Tags and a source identity each need their own action too (IAM user guide: "Required
    // permissions to add session tags", "Permissions required to set source identity").
    // Inherited transitive tags are session tags of the new session, so they need
    // `sts:TagSession` as well.
    let mut actions = vec!["sts:AssumeRole"];
    if !request.tags.is_empty() || !inherited.is_empty() {
        actions.push("sts:TagSession");
    }
    if request.source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    Ok(actions.into_iter().find(|action| {
        let req = Request {
            principal: &principal,
            action,
            resource: &trust.role_arn,
            context: &context,
        };
        !cairn_policy::authorize(&req, &set).is_allowed()
    }))
}
