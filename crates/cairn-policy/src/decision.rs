//! The decision over all policies that bear on a request (spec §4.8).
//!
//! ```text
//! 0. sts:GetCallerIdentity                                   -> Allow (never denied)
//! 1. applicable statements: identity policies (users and role sessions only), session
//!    policies, permissions boundary, the resource policy's statements naming the caller
//! 2. any applicable Deny                                     -> Deny explicit
//! 3. KMS key policy or role trust policy (always required):
//!      Allow naming the caller                               -> Allow (a trust policy: only
//!                                                   if boundary and session policies allow)
//!      Allow naming its account, and an identity Allow        -> Allow
//!      Allow naming its account, no identity Allow            -> Deny implicit, identity-based
//!      otherwise                                             -> Deny implicit, resource-based
//! 4. root                                                    -> Allow
//! 5. resource Allow naming the caller's user or session ARN  -> Allow
//!    (naming its role, or `*`, for a session: only if session policies and boundary allow)
//! 6. service principal or anonymous                          -> Deny implicit, resource-based
//! 7. identity Allow, and boundary Allow and session Allow where those exist -> Allow
//! 8.                                                         -> Deny implicit (identity-based,
//!                                                               or the boundary/session that failed)
//! ```
//!
//! Session policies and a permissions boundary only ever restrict. Explicit denies are
//! reported with the type of the first one found, in the order identity, resource, boundary,
//! session.

use crate::ast::{Document, Effect, PolicyKind};
use crate::context::Missing;
use crate::matching::Request;
use crate::principal::{Principal, PrincipalMatch};

/// Where a policy comes from (SimulatePolicy's `SourcePolicyType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicySource {
    /// Inline policy of a user.
    UserInline,
    /// Inline policy of a group the user belongs to.
    GroupInline,
    /// Inline policy of a role.
    RoleInline,
    /// Customer managed policy.
    CustomerManaged,
    /// AWS managed policy.
    AwsManaged,
    /// Session policy (AssumeRole `Policy`/`PolicyArns`).
    Session,
    /// Permissions boundary.
    PermissionsBoundary,
    /// Resource-based policy (bucket, topic, key or trust policy).
    Resource,
}

/// A policy with its origin.
#[derive(Clone, Copy, Debug)]
pub struct SourcedPolicy<'a> {
    /// Origin.
    pub source: PolicySource,
    /// Policy id for reports: the managed policy ARN, or the inline policy's name (or
    /// SimulatePolicy's `PolicyInputList.N`).
    pub id: &'a str,
    /// The document.
    pub document: &'a Document,
}

/// Every policy that bears on a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct PolicySet<'a> {
    /// Identity policies: a user's inline and attached ones plus its groups', or a role's.
    /// Ignored for root, services and anonymous callers.
    pub identity: &'a [SourcedPolicy<'a>],
    /// Session policies, when the session has any (`Some(&[])` is not the same as `None`: a
    /// session with an empty policy list allows nothing).
    pub session: Option<&'a [SourcedPolicy<'a>]>,
    /// Permissions boundary of the user or role.
    pub boundary: Option<SourcedPolicy<'a>>,
    /// The resource's policy. Its document kind decides the rules: `KeyPolicy` and `Trust`
    /// are mandatory (nothing is allowed unless they allow), `Resource` is not.
    pub resource: Option<SourcedPolicy<'a>>,
}

/// Which policy of a [`PolicySet`] a statement belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// `identity[i]`.
    Identity(usize),
    /// `session[i]`.
    Session(usize),
    /// The boundary.
    Boundary,
    /// The resource policy.
    Resource,
}

/// A statement that took part in a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MatchedStatement {
    /// Its policy.
    pub slot: Slot,
    /// Index in the policy's statements.
    pub statement: usize,
}

impl<'a> PolicySet<'a> {
    /// The policy in `slot`.
    pub fn policy(&self, slot: Slot) -> Option<&SourcedPolicy<'a>> {
        match slot {
            Slot::Identity(i) => self.identity.get(i),
            Slot::Session(i) => self.session.and_then(|s| s.get(i)),
            Slot::Boundary => self.boundary.as_ref(),
            Slot::Resource => self.resource.as_ref(),
        }
    }

    /// The policy and statement a match refers to.
    pub fn resolve(
        &self,
        m: MatchedStatement,
    ) -> Option<(&SourcedPolicy<'a>, &'a crate::Statement)> {
        let p = self.policy(m.slot)?;
        let doc: &'a Document = p.document;
        Some((p, doc.statements.get(m.statement)?))
    }
}

/// Which kind of policy denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyType {
    /// Identity-based policies.
    IdentityBased,
    /// The resource-based policy.
    ResourceBased,
    /// Session policies.
    Session,
    /// The permissions boundary.
    PermissionsBoundary,
}

impl PolicyType {
    /// The words AWS uses in AccessDenied messages.
    pub fn words(self) -> &'static str {
        match self {
            Self::IdentityBased => "identity-based",
            Self::ResourceBased => "resource-based",
            Self::Session => "session",
            Self::PermissionsBoundary => "permissions boundary",
        }
    }
}

/// The outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Allowed. `matched`: the allowing statements ([`simulate`] only; empty from
    /// [`authorize`]).
    Allow {
        /// Allowing statements.
        matched: Vec<MatchedStatement>,
    },
    /// Denied.
    Deny {
        /// An applicable `Deny` statement (else: nothing allowed).
        explicit: bool,
        /// The kind of policy named in the message.
        policy_type: PolicyType,
        /// Denying statements: all of them from [`simulate`], the first from [`authorize`];
        /// empty for implicit denies.
        matched: Vec<MatchedStatement>,
    },
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow { .. })
    }

    /// SimulatePolicy's `EvalDecision`: `allowed`, `explicitDeny` or `implicitDeny`.
    pub fn eval_decision(&self) -> &'static str {
        match self {
            Self::Allow { .. } => "allowed",
            Self::Deny { explicit: true, .. } => "explicitDeny",
            Self::Deny { .. } => "implicitDeny",
        }
    }

    /// The statements that took part.
    pub fn matched(&self) -> &[MatchedStatement] {
        match self {
            Self::Allow { matched } | Self::Deny { matched, .. } => matched,
        }
    }
}

/// A traced decision, for SimulatePrincipalPolicy / SimulateCustomPolicy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Simulation {
    /// The decision, with every matched statement.
    pub decision: Decision,
    /// Condition keys (and variables) that applicable statements referenced but the context
    /// lacked, as written in the policies.
    pub missing_context_values: Vec<String>,
}

/// Decides a request (the enforcement hot path: no tracing, early exit on a `Deny`).
pub fn authorize(req: &Request<'_>, set: &PolicySet<'_>) -> Decision {
    decide(req, set, &mut Missing(None), false)
}

/// Decides a request and reports every matched statement and every missing context key.
pub fn simulate(req: &Request<'_>, set: &PolicySet<'_>) -> Simulation {
    let mut missing = Vec::new();
    let decision = decide(req, set, &mut Missing(Some(&mut missing)), true);
    Simulation {
        decision,
        missing_context_values: missing,
    }
}

#[derive(Default)]
struct Hits {
    deny: Option<MatchedStatement>,
    allow: bool,
    direct: bool,
    role: bool,
    account: bool,
    denies: Vec<MatchedStatement>,
    allows: Vec<MatchedStatement>,
}

impl Hits {
    fn scan(
        &mut self,
        slot: Slot,
        doc: &Document,
        req: &Request<'_>,
        missing: &mut Missing,
        all: bool,
        bounded: bool,
    ) {
        for (i, st) in doc.statements.iter().enumerate() {
            let how = st.applies(req, missing, bounded);
            if how == PrincipalMatch::No {
                continue;
            }
            let m = MatchedStatement { slot, statement: i };
            match st.effect {
                Effect::Deny => {
                    self.deny.get_or_insert(m);
                    if !all {
                        return;
                    }
                    self.denies.push(m);
                }
                Effect::Allow => {
                    self.allow = true;
                    match how {
                        PrincipalMatch::Direct => self.direct = true,
                        PrincipalMatch::Role => self.role = true,
                        PrincipalMatch::Account => self.account = true,
                        PrincipalMatch::No => {}
                    }
                    if all {
                        self.allows.push(m);
                    }
                }
            }
        }
    }
}

fn decide(req: &Request<'_>, set: &PolicySet<'_>, missing: &mut Missing, all: bool) -> Decision {
    if req.action.eq_ignore_ascii_case("sts:GetCallerIdentity") {
        return Decision::Allow {
            matched: Vec::new(),
        };
    }
    let has_identity = matches!(
        req.principal,
        Principal::User { .. } | Principal::RoleSession { .. }
    );
    // A boundary changes how a `Deny` with `NotPrincipal` applies (see `matching`).
    let bounded = has_identity && set.boundary.is_some();
    let explicit = |policy_type, hits: &mut Hits| Decision::Deny {
        explicit: true,
        policy_type,
        matched: if all {
            std::mem::take(&mut hits.denies)
        } else {
            hits.deny.into_iter().collect()
        },
    };
    let mut id = Hits::default();
    if has_identity {
        for (i, p) in set.identity.iter().enumerate() {
            id.scan(Slot::Identity(i), p.document, req, missing, all, bounded);
            if id.deny.is_some() && !all {
                return explicit(PolicyType::IdentityBased, &mut id);
            }
        }
    }
    let mut res = Hits::default();
    if let Some(p) = &set.resource {
        res.scan(Slot::Resource, p.document, req, missing, all, bounded);
    }
    let mut bnd = Hits::default();
    let mut ses = Hits::default();
    if has_identity {
        if let Some(p) = &set.boundary {
            bnd.scan(Slot::Boundary, p.document, req, missing, all, bounded);
        }
        for (i, p) in set.session.unwrap_or_default().iter().enumerate() {
            ses.scan(Slot::Session(i), p.document, req, missing, all, bounded);
        }
    }
    // Step 2: explicit denies.
    if all {
        let mut denies: Vec<MatchedStatement> = Vec::new();
        let mut first = None;
        for (hits, t) in [
            (&mut id, PolicyType::IdentityBased),
            (&mut res, PolicyType::ResourceBased),
            (&mut bnd, PolicyType::PermissionsBoundary),
            (&mut ses, PolicyType::Session),
        ] {
            if hits.deny.is_some() {
                first.get_or_insert(t);
                denies.append(&mut hits.denies);
            }
        }
        if let Some(policy_type) = first {
            return Decision::Deny {
                explicit: true,
                policy_type,
                matched: denies,
            };
        }
    } else {
        for (hits, t) in [
            (&mut res, PolicyType::ResourceBased),
            (&mut bnd, PolicyType::PermissionsBoundary),
            (&mut ses, PolicyType::Session),
        ] {
            if hits.deny.is_some() {
                return explicit(t, hits);
            }
        }
    }
    let boundary_ok = !has_identity || set.boundary.is_none() || bnd.allow;
    let session_ok = !has_identity || set.session.is_none() || ses.allow;
    let limits_ok = boundary_ok && session_ok;
    let identity_ok = has_identity && id.allow && limits_ok;
    let limits_type = if boundary_ok {
        PolicyType::Session
    } else {
        PolicyType::PermissionsBoundary
    };
    let outcome = outcome(
        req,
        set,
        has_identity,
        &id,
        &res,
        limits_ok,
        identity_ok,
        limits_type,
    );
    match outcome {
        None => {
            let mut matched = Vec::new();
            if all {
                for hits in [&mut id, &mut res, &mut bnd, &mut ses] {
                    matched.append(&mut hits.allows);
                }
            }
            Decision::Allow { matched }
        }
        Some(policy_type) => Decision::Deny {
            explicit: false,
            policy_type,
            matched: Vec::new(),
        },
    }
}

/// Steps 3 to 8: `None` allows, `Some(type)` denies implicitly.
#[allow(clippy::too_many_arguments)]
fn outcome(
    req: &Request<'_>,
    set: &PolicySet<'_>,
    has_identity: bool,
    id: &Hits,
    res: &Hits,
    limits_ok: bool,
    identity_ok: bool,
    limits_type: PolicyType,
) -> Option<PolicyType> {
    // Step 3: mandatory resource policies.
    let kind = set.resource.as_ref().map(|p| p.document.kind);
    let mandatory = matches!(kind, Some(PolicyKind::KeyPolicy | PolicyKind::Trust));
    if mandatory {
        // A trust policy naming the caller still needs the caller's boundary (and session
        // policies) to allow sts:AssumeRole (IAM user guide, "Update a role trust policy": "If a
        // permissions boundary is set for the user, then it must allow the sts:AssumeRole
        // action"); a key policy naming it does not.
        let trust = kind == Some(PolicyKind::Trust);
        if (res.direct && (limits_ok || !trust)) || (res.role && limits_ok) {
            return None;
        }
        if res.direct {
            return Some(limits_type);
        }
        if res.account || res.role {
            if identity_ok {
                return None;
            }
            return Some(if has_identity && id.allow {
                limits_type
            } else {
                PolicyType::IdentityBased
            });
        }
        return Some(PolicyType::ResourceBased);
    }
    // Step 4: root.
    if matches!(req.principal, Principal::Root { .. }) {
        return None;
    }
    // Step 5: resource policy naming the caller.
    if res.direct || (res.role && limits_ok) {
        return None;
    }
    // Step 6: services and anonymous callers.
    if !has_identity {
        return Some(PolicyType::ResourceBased);
    }
    // Steps 7 and 8.
    if identity_ok {
        return None;
    }
    // An Allow (identity, or resource naming the role) that the limits cut off names them.
    Some(if id.allow || res.role {
        limits_type
    } else {
        PolicyType::IdentityBased
    })
}
