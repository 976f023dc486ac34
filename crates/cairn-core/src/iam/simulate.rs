//! SimulatePrincipalPolicy and SimulateCustomPolicy, answered by the same evaluator that
//! enforces (`cairn_policy::simulate`): one result per action and resource, with the matched
//! statements and their positions, and the condition keys the policies referenced that the
//! request's `ContextEntries` did not supply. Condition keys come only from those entries.

use cairn_policy::{
    Context, Document, PolicyKind, PolicySet, PolicySource, Position, Request, Slot, SourcedPolicy,
};
use cairn_store::Connection;
use cairn_store::iam::{groups, inline, policies as pstore, roles, users};

use super::principal::{PolicyDoc, PrincipalPolicies, managed_doc, role_policies, user_policies};
use super::{EntityKind, Page, PageRequest, err, not_found, validate};
use crate::CallContext;
use crate::error::{ApiResult, ErrorKind};

/// A `ContextEntries` member.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContextEntry {
    /// `ContextKeyName`.
    pub name: String,
    /// `ContextKeyValues`.
    pub values: Vec<String>,
    /// `ContextKeyType` (`string`, `ipList`…).
    pub kind: Option<String>,
}

/// The inputs both simulations share.
#[derive(Clone, Debug, Default)]
pub struct SimulateInput {
    /// `PolicySourceArn` (SimulatePrincipalPolicy only).
    pub source_arn: Option<String>,
    /// `PolicyInputList`.
    pub policies: Vec<String>,
    /// `PermissionsBoundaryPolicyInputList`.
    pub boundaries: Vec<String>,
    /// `ActionNames`.
    pub actions: Vec<String>,
    /// `ResourceArns` (default `*`).
    pub resources: Vec<String>,
    /// `ResourcePolicy`.
    pub resource_policy: Option<String>,
    /// `CallerArn`.
    pub caller_arn: Option<String>,
    /// `ResourceOwner` (`arn:aws:iam::<account>:root`).
    pub resource_owner: Option<String>,
    /// `ContextEntries`.
    pub context: Vec<ContextEntry>,
}

/// A `MatchedStatements` member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched {
    /// `SourcePolicyId`.
    pub source_policy_id: String,
    /// `SourcePolicyType`.
    pub source_policy_type: String,
    /// Start of the statement.
    pub start: Position,
    /// End of the statement.
    pub end: Position,
}

/// An `EvaluationResults` member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvaluationResult {
    /// `EvalActionName`.
    pub action: String,
    /// `EvalResourceName`.
    pub resource: String,
    /// `allowed`, `explicitDeny` or `implicitDeny`.
    pub decision: &'static str,
    /// `MatchedStatements`.
    pub matched: Vec<Matched>,
    /// `MissingContextValues`.
    pub missing: Vec<String>,
    /// `PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary`, when a boundary
    /// took part.
    pub allowed_by_boundary: Option<bool>,
    /// `EvalDecisionDetails`: absent for `*` in one account, empty for a resource in the
    /// caller's account, and for a resource another account owns, the decision of each side
    /// (the caller's identity policies, and the resource's policy).
    pub details: Option<Vec<(&'static str, &'static str)>>,
}

struct Parsed {
    doc: Document,
    source: PolicySource,
    id: String,
    report_type: String,
}

fn parse(
    text: &str,
    kind: PolicyKind,
    source: PolicySource,
    id: String,
    report_type: &str,
) -> ApiResult<Parsed> {
    let doc = Document::parse(text, kind).map_err(|m| err(ErrorKind::InvalidInput, m.message()))?;
    Ok(Parsed {
        doc,
        source,
        id,
        report_type: report_type.to_owned(),
    })
}

/// A principal's stored policies, reported as IAM reports them in `MatchedStatements` (real
/// SimulatePrincipalPolicy output, not the model's `PolicySourceType` enum): every one is an
/// `IAM Policy`; a managed policy is named by its name, an inline one as
/// `<user|group|role>_<holder>_<policy>`.
fn from_docs(docs: Vec<PolicyDoc>) -> ApiResult<Vec<Parsed>> {
    docs.into_iter()
        .map(|d| {
            let kind = match d.source {
                PolicySource::UserInline => Some("user"),
                PolicySource::GroupInline => Some("group"),
                PolicySource::RoleInline => Some("role"),
                _ => None,
            };
            let id = match (kind, &d.owner) {
                (Some(kind), Some(owner)) => format!("{kind}_{owner}_{}", d.id),
                _ => d.id.rsplit('/').next().unwrap_or_default().to_owned(),
            };
            parse(
                &d.document,
                PolicyKind::Identity,
                d.source,
                id,
                "IAM Policy",
            )
        })
        .collect()
}

/// The principal a simulation evaluates as, and the stored policies of its source.
pub(super) fn source(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
) -> ApiResult<(cairn_policy::Principal, PrincipalPolicies)> {
    let account = ctx.account().as_str();
    let prefix = format!("arn:aws:iam::{account}:");
    let missing = || {
        err(
            ErrorKind::NoSuchEntity,
            format!("PolicySourceArn {arn} does not exist."),
        )
    };
    let rest = arn.strip_prefix(&prefix).ok_or_else(missing)?;
    let name = rest.rsplit('/').next().unwrap_or_default();
    if rest.starts_with("user/") {
        let u = users::get_user(conn, account, name)?
            .filter(|u| super::user_arn(u) == arn)
            .ok_or_else(|| not_found(EntityKind::User, name))?;
        let p = cairn_policy::Principal::User {
            account: account.to_owned(),
            arn: arn.to_owned(),
            id: u.user_id.clone(),
            name: u.name.clone(),
        };
        Ok((p, user_policies(conn, &u.user_id)?))
    } else if rest.starts_with("role/") {
        let r = roles::get_role(conn, account, name)?
            .filter(|r| super::role_arn(r) == arn)
            .ok_or_else(|| not_found(EntityKind::Role, name))?;
        let p = cairn_policy::Principal::RoleSession {
            account: account.to_owned(),
            role_arn: arn.to_owned(),
            role_id: r.role_id.clone(),
            session_arn: format!(
                "arn:aws:sts::{account}:assumed-role/{}/SimulatedSession",
                r.name
            ),
            session_name: "SimulatedSession".to_owned(),
        };
        Ok((p, role_policies(conn, &r.role_id)?))
    } else if rest.starts_with("group/") {
        let g = groups::get_group(conn, account, name)?
            .filter(|g| super::group_arn(g) == arn)
            .ok_or_else(|| not_found(EntityKind::Group, name))?;
        let mut docs = Vec::new();
        for (n, d) in inline::list_inline(conn, &g.group_id)? {
            docs.push(PolicyDoc {
                source: PolicySource::GroupInline,
                id: n,
                owner: Some(g.name.clone()),
                version_id: None,
                document: d,
            });
        }
        for a in pstore::attached(conn, &g.group_id)? {
            docs.extend(managed_doc(conn, &a, None)?);
        }
        let p = cairn_policy::Principal::User {
            account: account.to_owned(),
            arn: arn.to_owned(),
            id: g.group_id.clone(),
            name: g.name.clone(),
        };
        Ok((
            p,
            PrincipalPolicies {
                identity: docs,
                ..Default::default()
            },
        ))
    } else {
        Err(missing())
    }
}

fn caller(ctx: &CallContext, arn: &str) -> cairn_policy::Principal {
    let account = ctx.account().as_str();
    if arn == format!("arn:aws:iam::{account}:root") {
        return cairn_policy::Principal::Root {
            account: account.to_owned(),
        };
    }
    // A CallerArn of another account is a user of that account (iamapi7: every caller was
    // taken as one of this account's).
    let account = arn
        .split(':')
        .nth(4)
        .filter(|a| is_account_id(a))
        .unwrap_or(account);
    cairn_policy::Principal::User {
        account: account.to_owned(),
        arn: arn.to_owned(),
        id: String::new(),
        name: arn.rsplit('/').next().unwrap_or_default().to_owned(),
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account a `ResourceOwner` names (`arn:<partition>:iam::<account>:root`), or
/// InvalidInput.
fn owner_account(arn: &str) -> ApiResult<String> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, "root"]
            if cairn_policy::is_partition(partition) && is_account_id(account) =>
        {
            Ok((*account).to_owned())
        }
        _ => Err(err(
            ErrorKind::InvalidInput,
            format!(
                "ResourceOwner must be the ARN of an account (arn:aws:iam::<account-id>:root): {arn}."
            ),
        )),
    }
}

/// The account that owns `resource`: the one its ARN names, else `ResourceOwner`'s, else the
/// caller's ("If the ResourceOwner parameter is not specified, then the owner of the
/// resources and the resource policy defaults to the account of the identity provided in
/// CallerArn").
fn resource_account<'a>(resource: &'a str, owner: Option<&'a str>, caller: &'a str) -> &'a str {
    resource
        .split(':')
        .nth(4)
        .filter(|a| resource.starts_with("arn:") && is_account_id(a))
        .or(owner)
        .unwrap_or(caller)
}

/// `arn:<partition>:iam::<account>:user/<path/name>`: the only callers a simulation takes.
fn is_user_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    cairn_policy::is_partition(partition)
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && rest.strip_prefix("user/").is_some_and(|n| !n.is_empty())
}

/// A context entry's values read as its `ContextKeyType`; a type that is not a list has one.
fn check_context_entry(e: &ContextEntry) -> ApiResult<()> {
    let Some(kind) = e.kind.as_deref() else {
        return Ok(());
    };
    let invalid = |why: String| {
        Err(err(
            ErrorKind::InvalidInput,
            format!("Invalid context entry for key {}: {why}.", e.name),
        ))
    };
    if !kind.ends_with("List") && e.values.len() > 1 {
        return invalid(format!("a {kind} key takes one value"));
    }
    for v in &e.values {
        if cairn_policy::context_value_fits(kind, v) == Some(false) {
            return invalid(format!("'{v}' is not a valid {kind} value"));
        }
    }
    Ok(())
}

/// SimulatePrincipalPolicy.
pub fn simulate_principal_policy(
    conn: &Connection,
    ctx: &CallContext,
    input: &SimulateInput,
    page: &PageRequest,
) -> ApiResult<Page<EvaluationResult>> {
    let arn = validate::required(input.source_arn.as_deref(), "policySourceArn")?;
    validate::length(arn, "policySourceArn", 20, 2048)?;
    if input.resource_policy.is_some() && input.caller_arn.is_none() && !arn.contains(":user/") {
        return Err(err(
            ErrorKind::InvalidInput,
            "CallerArn is required with a ResourcePolicy when PolicySourceArn is not an IAM user.",
        ));
    }
    let (principal, stored) = source(conn, ctx, arn)?;
    let mut identity = from_docs(stored.identity)?;
    let mut boundary = stored.boundary.map(|b| from_docs(vec![b])).transpose()?;
    run(ctx, input, principal, &mut identity, &mut boundary, page)
}

/// SimulateCustomPolicy.
pub fn simulate_custom_policy(
    ctx: &CallContext,
    input: &SimulateInput,
    page: &PageRequest,
) -> ApiResult<Page<EvaluationResult>> {
    if input.policies.is_empty() {
        return Err(validate::missing("policyInputList"));
    }
    if input.resource_policy.is_some() && input.caller_arn.is_none() {
        return Err(err(
            ErrorKind::InvalidInput,
            "CallerArn is required when a ResourcePolicy is included.",
        ));
    }
    let principal = caller(
        ctx,
        input.caller_arn.as_deref().unwrap_or(&format!(
            "arn:aws:iam::{}:user/SimulatedUser",
            ctx.account()
        )),
    );
    run(ctx, input, principal, &mut Vec::new(), &mut None, page)
}

fn run(
    ctx: &CallContext,
    input: &SimulateInput,
    mut principal: cairn_policy::Principal,
    identity: &mut Vec<Parsed>,
    boundary: &mut Option<Vec<Parsed>>,
    page: &PageRequest,
) -> ApiResult<Page<EvaluationResult>> {
    if input.actions.is_empty() {
        return Err(validate::missing("actionNames"));
    }
    for (i, a) in input.actions.iter().enumerate() {
        validate::length(a, &format!("actionNames.{}.member", i + 1), 3, 128)?;
        if a.contains(['*', '?']) {
            return Err(err(
                ErrorKind::InvalidInput,
                format!("Action names cannot contain wildcards: {a}."),
            ));
        }
    }
    if let Some(c) = &input.caller_arn
        && !is_user_arn(c)
    {
        return Err(err(
            ErrorKind::InvalidInput,
            format!("CallerArn must be the ARN of an IAM user: {c}."),
        ));
    }
    for e in &input.context {
        check_context_entry(e)?;
    }
    let owner = input
        .resource_owner
        .as_deref()
        .map(owner_account)
        .transpose()?;
    for (i, text) in input.policies.iter().enumerate() {
        validate::document_text(text, "policyInputList")?;
        identity.push(parse(
            text,
            PolicyKind::Identity,
            PolicySource::UserInline,
            format!("PolicyInputList.{}", i + 1),
            "IAM Policy",
        )?);
    }
    // "You can input only one permissions boundary" (the API reference; iamapi7: a second
    // one was silently dropped).
    if input.boundaries.len() > 1 {
        return Err(err(
            ErrorKind::InvalidInput,
            "Only one permissions boundary can be specified in PermissionsBoundaryPolicyInputList.",
        ));
    }
    if !input.boundaries.is_empty() {
        let mut list = Vec::new();
        for (i, text) in input.boundaries.iter().enumerate() {
            list.push(parse(
                text,
                PolicyKind::Identity,
                PolicySource::PermissionsBoundary,
                format!("PermissionsBoundaryPolicyInputList.{}", i + 1),
                "IAM Policy",
            )?);
        }
        *boundary = Some(list);
    }
    let resource_policy = input
        .resource_policy
        .as_deref()
        .map(|t| {
            parse(
                t,
                PolicyKind::Resource,
                PolicySource::Resource,
                "ResourcePolicy".into(),
                "resource",
            )
        })
        .transpose()?;
    if let Some(c) = &input.caller_arn {
        principal = caller(ctx, c);
    }
    let mut context = Context::new();
    for (i, e) in input.context.iter().enumerate() {
        validate::length(
            &e.name,
            &format!("contextEntries.{}.member.contextKeyName", i + 1),
            5,
            256,
        )?;
        context.insert_values(&e.name, e.values.clone());
    }
    let sourced: Vec<SourcedPolicy<'_>> = identity
        .iter()
        .map(|p| SourcedPolicy {
            source: p.source,
            id: &p.id,
            document: &p.doc,
        })
        .collect();
    let boundary_parsed = boundary.as_ref().and_then(|b| b.first());
    let set = PolicySet {
        identity: &sourced,
        session: None,
        boundary: boundary_parsed.map(|p| SourcedPolicy {
            source: p.source,
            id: &p.id,
            document: &p.doc,
        }),
        resource: resource_policy.as_ref().map(|p| SourcedPolicy {
            source: p.source,
            id: &p.id,
            document: &p.doc,
        }),
    };
    let report_type = |slot: Slot| -> &str {
        match slot {
            Slot::Identity(i) => &identity[i].report_type,
            Slot::Boundary => boundary_parsed.map_or("none", |p| p.report_type.as_str()),
            Slot::Resource => "resource",
            Slot::Session(_) => "none",
        }
    };
    let resources: Vec<String> = if input.resources.is_empty() {
        vec!["*".to_owned()]
    } else {
        input.resources.clone()
    };
    let (range, marker) = page.range_of(input.actions.len().saturating_mul(resources.len()))?;
    let mut results = Vec::new();
    for at in range {
        let (action, resource) = (
            &input.actions[at / resources.len()],
            &resources[at % resources.len()],
        );
        {
            let req = Request {
                principal: &principal,
                action,
                resource,
                context: &context,
            };
            let sim = cairn_policy::simulate(&req, &set);
            let caller_account = principal.account().unwrap_or(ctx.account().as_str());
            let owned_by = resource_account(resource, owner.as_deref(), caller_account);
            // Another account's resource: "The request is allowed only if both evaluations
            // return true" (the caller's identity policies, and the resource's policy).
            let cross = (owned_by != caller_account).then(|| {
                let own = cairn_policy::simulate(
                    &req,
                    &PolicySet {
                        resource: None,
                        ..set
                    },
                )
                .decision
                .eval_decision();
                let theirs = match resource_policy.as_ref().map(|p| p.doc.evaluate(&req)) {
                    Some(cairn_policy::PolicyEffect::Allow) => "allowed",
                    Some(cairn_policy::PolicyEffect::Deny) => "explicitDeny",
                    _ => "implicitDeny",
                };
                (own, theirs)
            });
            let decision = match cross {
                None => sim.decision.eval_decision(),
                Some((a, b)) if a == "explicitDeny" || b == "explicitDeny" => "explicitDeny",
                Some(("allowed", "allowed")) => "allowed",
                Some(_) => "implicitDeny",
            };
            let details = match cross {
                Some((own, theirs)) => Some(vec![("IAM Policy", own), ("resource", theirs)]),
                None if resource == "*" => None,
                None => Some(Vec::new()),
            };
            let matched = if decision == "implicitDeny" {
                Vec::new()
            } else {
                sim.decision
                    .matched()
                    .iter()
                    .filter_map(|m| {
                        let (p, st) = set.resolve(*m)?;
                        Some(Matched {
                            source_policy_id: p.id.to_owned(),
                            source_policy_type: report_type(m.slot).to_owned(),
                            start: st.start(),
                            end: st.end(),
                        })
                    })
                    .collect()
            };
            let allowed_by_boundary =
                boundary_parsed.map(|b| b.doc.evaluate(&req) == cairn_policy::PolicyEffect::Allow);
            results.push(EvaluationResult {
                action: action.clone(),
                resource: resource.clone(),
                decision,
                matched,
                missing: sim.missing_context_values,
                allowed_by_boundary,
                details,
            });
        }
    }
    Ok(Page {
        items: results,
        marker,
    })
}
