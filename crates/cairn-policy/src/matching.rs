//! Whether a statement applies to a request: action, resource, principal and conditions.
//!
//! Checks run cheapest first (action, resource, principal, conditions) and allocate nothing
//! unless a pattern holds a policy variable.

use crate::ast::{Document, Effect, Statement};
use crate::context::{Context, Missing};
use crate::principal::{Principal, PrincipalMatch};

/// One request to authorize.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Who asks.
    pub principal: &'a Principal,
    /// The IAM action, e.g. `cloudtrail:StopLogging` (matched case-insensitively).
    pub action: &'a str,
    /// The resource ARN, or `*` for actions without resource-level permissions.
    pub resource: &'a str,
    /// Condition keys.
    pub context: &'a Context,
}

/// What one document says about a request on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyEffect {
    /// A statement allows and none denies.
    Allow,
    /// A statement denies.
    Deny,
    /// No statement applies.
    NotApplicable,
}

impl Statement {
    /// How the statement applies to `req`: [`PrincipalMatch::No`] when it does not. Identity
    /// statements (no principal element) apply as `Direct`. `bounded`: the caller (a user or a
    /// role session) has a permissions boundary.
    pub(crate) fn applies(
        &self,
        req: &Request<'_>,
        missing: &mut Missing,
        bounded: bool,
    ) -> PrincipalMatch {
        if !self.action.applies(req.action) {
            return PrincipalMatch::No;
        }
        if let Some(r) = &self.resource {
            let hit = r
                .patterns
                .iter()
                .any(|p| p.matches(req.resource, req.context, missing));
            if hit == r.negated {
                return PrincipalMatch::No;
            }
        }
        let how = match &self.principal {
            None => PrincipalMatch::Direct,
            Some(p) if p.negated => not_principal(self.effect, &p.spec, req.principal, bounded),
            Some(p) => p.spec.matches(req.principal),
        };
        if how == PrincipalMatch::No {
            return how;
        }
        let deny = self.effect == Effect::Deny;
        let holds = if missing.0.is_some() {
            // Tracing: evaluate every condition so every absent key is reported.
            let mut holds = true;
            for c in &self.conditions {
                holds &= c.eval(req.context, missing, deny);
            }
            holds
        } else {
            self.conditions
                .iter()
                .all(|c| c.eval(req.context, missing, deny))
        };
        if holds { how } else { PrincipalMatch::No }
    }
}

/// How a `NotPrincipal` statement applies to `principal`: to everyone it does not exclude.
///
/// IAM user guide, "AWS JSON policy elements: NotPrincipal" (and "Permissions boundaries for
/// IAM entities"): a `Deny` with `NotPrincipal` "will always deny any IAM principal that has a
/// permissions boundary policy attached, regardless of the values specified in the
/// NotPrincipal element"; and an assumed-role session is excluded only when the element names
/// that session ("you cannot use a wildcard (*) to mean all sessions. Principals must always
/// name a specific session"), so naming only its role does not exclude it.
fn not_principal(
    effect: Effect,
    spec: &crate::principal::PrincipalSpec,
    principal: &Principal,
    bounded: bool,
) -> PrincipalMatch {
    let iam_principal = matches!(
        principal,
        Principal::User { .. } | Principal::RoleSession { .. }
    );
    if effect == Effect::Deny && bounded && iam_principal {
        return PrincipalMatch::Direct;
    }
    if spec.any {
        return PrincipalMatch::No;
    }
    match spec.matches(principal) {
        PrincipalMatch::Direct => PrincipalMatch::No,
        // A session named only through its role: excluded by an `Allow` (as before), never
        // by a `Deny`.
        PrincipalMatch::Role if effect == Effect::Allow => PrincipalMatch::No,
        PrincipalMatch::Role | PrincipalMatch::No | PrincipalMatch::Account => {
            PrincipalMatch::Direct
        }
    }
}

impl Document {
    /// Evaluates this one document: an applicable `Deny` wins, then an applicable `Allow`.
    /// A principal named only through its account counts as named. The decision algorithm
    /// over all of a caller's policies is [`crate::authorize`].
    pub fn evaluate(&self, req: &Request<'_>) -> PolicyEffect {
        let mut missing = Missing(None);
        let mut allowed = false;
        for st in &self.statements {
            if st.applies(req, &mut missing, false) == PrincipalMatch::No {
                continue;
            }
            match st.effect {
                Effect::Deny => return PolicyEffect::Deny,
                Effect::Allow => allowed = true,
            }
        }
        if allowed {
            PolicyEffect::Allow
        } else {
            PolicyEffect::NotApplicable
        }
    }
}
