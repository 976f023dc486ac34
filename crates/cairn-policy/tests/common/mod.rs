//! Shared fixtures for the integration tests: the principals and policies of the spec's
//! evaluation examples (account 111122223333, region us-east-1).
#![allow(dead_code)]

use cairn_policy::{
    Context, Decision, Document, PolicyKind, PolicySet, PolicySource, PolicyType, Principal,
    Request, SourcedPolicy, authorize, managed,
};

pub const ACCT: &str = "111122223333";
pub const PROD: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/prod";
pub const DEV: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/dev";

pub fn user(name: &str) -> Principal {
    Principal::User {
        account: ACCT.into(),
        arn: format!("arn:aws:iam::{ACCT}:user/{name}"),
        id: format!("AIDA{:0>17}", name.to_uppercase()),
        name: name.into(),
    }
}

pub fn session(role: &str, name: &str) -> Principal {
    Principal::RoleSession {
        account: ACCT.into(),
        role_arn: format!("arn:aws:iam::{ACCT}:role/{role}"),
        role_id: format!("AROA{:0>17}", role.to_uppercase()),
        session_arn: format!("arn:aws:sts::{ACCT}:assumed-role/{role}/{name}"),
        session_name: name.into(),
    }
}

pub fn root() -> Principal {
    Principal::Root {
        account: ACCT.into(),
    }
}

pub fn service(name: &str) -> Principal {
    Principal::Service { name: name.into() }
}

pub fn doc(text: &str, kind: PolicyKind) -> Document {
    match Document::parse(text, kind) {
        Ok(d) => d,
        Err(e) => panic!("policy does not parse: {e}\n{text}"),
    }
}

pub fn identity(text: &str) -> Document {
    doc(text, PolicyKind::Identity)
}

pub fn managed_doc(name: &str) -> &'static Document {
    managed::by_name(name).expect("shipped").parsed()
}

/// The request context the server would build for `p`, plus `extra` keys.
pub fn ctx_for(p: &Principal, extra: &[(&str, &str)]) -> Context {
    let mut c = Context::new()
        .with("aws:SourceIp", "203.0.113.7")
        .with("aws:SecureTransport", "false")
        .with("aws:RequestedRegion", "us-east-1")
        .with("aws:CurrentTime", "2026-11-22T11:39:09Z");
    p.add_context_keys(&mut c);
    for (k, v) in extra {
        c.insert(k, *v);
    }
    c
}

/// Decides with identity policies (`docs`) and an optional resource policy.
pub fn decide(
    p: &Principal,
    docs: &[&Document],
    resource_policy: Option<&Document>,
    action: &str,
    resource: &str,
    ctx: &Context,
) -> Decision {
    let identity: Vec<SourcedPolicy<'_>> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| SourcedPolicy {
            source: PolicySource::CustomerManaged,
            id: ["p0", "p1", "p2", "p3", "p4"][i.min(4)],
            document: d,
        })
        .collect();
    let set = PolicySet {
        identity: &identity,
        resource: resource_policy.map(|d| SourcedPolicy {
            source: PolicySource::Resource,
            id: "resource",
            document: d,
        }),
        ..PolicySet::default()
    };
    authorize(
        &Request {
            principal: p,
            action,
            resource,
            context: ctx,
        },
        &set,
    )
}

pub fn is_allow(d: &Decision) -> bool {
    d.is_allowed()
}

pub fn implicit(d: &Decision, t: PolicyType) -> bool {
    matches!(d, Decision::Deny { explicit: false, policy_type, .. } if *policy_type == t)
}

pub fn explicit(d: &Decision, t: PolicyType) -> bool {
    matches!(d, Decision::Deny { explicit: true, policy_type, .. } if *policy_type == t)
}
