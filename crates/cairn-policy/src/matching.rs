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
    /// statements (no principal element) apply as `Direct`.
    pub(crate) fn applies(&self, req: &Request<'_>, missing: &mut Missing) -> PrincipalMatch {
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
            Some(p) if p.negated => match p.spec.matches(req.principal) {
                PrincipalMatch::Direct | PrincipalMatch::Role => PrincipalMatch::No,
                PrincipalMatch::No | PrincipalMatch::Account => PrincipalMatch::Direct,
            },
            Some(p) => p.spec.matches(req.principal),
        };
        if how == PrincipalMatch::No {
            return how;
        }
        let holds = if missing.0.is_some() {
            // Tracing: evaluate every condition so every absent key is reported.
            let mut holds = true;
            for c in &self.conditions {
                holds &= c.eval(req.context, missing);
            }
            holds
        } else {
            self.conditions.iter().all(|c| c.eval(req.context, missing))
        };
        if holds { how } else { PrincipalMatch::No }
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
            if st.applies(req, &mut missing) == PrincipalMatch::No {
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
