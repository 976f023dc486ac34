//! SimulatePrincipalPolicy and SimulateCustomPolicy: one `EvaluationResults` member per action
//! and resource, with `MatchedStatements` (and their positions) and `MissingContextValues`;
//! GetContextKeysForPrincipalPolicy and GetContextKeysForCustomPolicy, the keys to supply.

use cairn_core::iam::context_keys;
use cairn_core::iam::simulate::{self, ContextEntry, EvaluationResult, SimulateInput};
use cairn_policy::Position;

use super::input::Input;
use super::xml::{el, members, paged};
use super::{Call, Reply, Target};

fn position(name: &str, p: &Position) -> String {
    format!(
        "<{name}><Line>{}</Line><Column>{}</Column></{name}>",
        p.line, p.column
    )
}

fn result(r: &EvaluationResult) -> String {
    let matched = members("MatchedStatements", &r.matched, |m| {
        format!(
            "{}{}{}{}",
            el("SourcePolicyId", &m.source_policy_id),
            el("SourcePolicyType", &m.source_policy_type),
            position("StartPosition", &m.start),
            position("EndPosition", &m.end)
        )
    });
    let boundary = r
        .allowed_by_boundary
        .map(|b| {
            format!(
                "<PermissionsBoundaryDecisionDetail><AllowedByPermissionsBoundary>{b}</AllowedByPermissionsBoundary></PermissionsBoundaryDecisionDetail>"
            )
        })
        .unwrap_or_default();
    // "If the simulation … specifies all resources (*), then the parameter is not returned."
    let details = match &r.details {
        None => String::new(),
        Some(d) if d.is_empty() => "<EvalDecisionDetails/>".to_owned(),
        Some(d) => format!(
            "<EvalDecisionDetails>{}</EvalDecisionDetails>",
            d.iter()
                .map(|(k, v)| format!("<entry>{}{}</entry>", el("key", k), el("value", v)))
                .collect::<String>()
        ),
    };
    format!(
        "{}{}{}{}{}{}{details}",
        el("EvalActionName", &r.action),
        el("EvalResourceName", &r.resource),
        el("EvalDecision", r.decision),
        matched,
        members("MissingContextValues", &r.missing, |k| super::xml::escape(
            k
        )),
        boundary
    )
}

fn key_names(keys: &[String]) -> String {
    members("ContextKeyNames", keys, |k| super::xml::escape(k))
}

fn input(p: &Input) -> SimulateInput {
    SimulateInput {
        source_arn: p.opt("PolicySourceArn"),
        policies: p.list("PolicyInputList"),
        boundaries: p.list("PermissionsBoundaryPolicyInputList"),
        actions: p.list("ActionNames"),
        resources: p.list("ResourceArns"),
        resource_policy: p.opt("ResourcePolicy"),
        caller_arn: p.opt("CallerArn"),
        resource_owner: p.opt("ResourceOwner"),
        context: p
            .structs("ContextEntries")
            .into_iter()
            .map(|e| ContextEntry {
                name: e.opt("ContextKeyName").unwrap_or_default(),
                values: e.list("ContextKeyValues"),
                kind: e.opt("ContextKeyType"),
            })
            .collect(),
    }
}

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    let p = p.clone();
    Some(match action {
        "SimulatePrincipalPolicy" => Call::read(
            Target::Arn(p.opt("PolicySourceArn").unwrap_or_else(|| "*".to_owned())),
            move |c, ctx| {
                let page = simulate::simulate_principal_policy(c, ctx, &input(&p), &p.page(c)?)?;
                Ok(Reply::xml(paged("EvaluationResults", &page, result)))
            },
        ),
        "SimulateCustomPolicy" => Call::read(Target::Any, move |c, ctx| {
            let page = simulate::simulate_custom_policy(ctx, &input(&p), &p.page(c)?)?;
            Ok(Reply::xml(paged("EvaluationResults", &page, result)))
        }),
        "GetContextKeysForPrincipalPolicy" => Call::read(
            Target::Arn(p.opt("PolicySourceArn").unwrap_or_else(|| "*".to_owned())),
            move |c, ctx| {
                let keys = context_keys::for_principal_policy(
                    c,
                    ctx,
                    p.opt("PolicySourceArn").as_deref(),
                    &p.list("PolicyInputList"),
                )?;
                Ok(Reply::xml(key_names(&keys)))
            },
        ),
        "GetContextKeysForCustomPolicy" => Call::read(Target::Any, move |_, _| {
            let keys = context_keys::for_custom_policy(&p.list("PolicyInputList"))?;
            Ok(Reply::xml(key_names(&keys)))
        }),
        _ => return None,
    })
}
