//! The typed form of a policy document, compiled for evaluation.
//!
//! Patterns are compiled once: action patterns lower-cased into globs, resource patterns split
//! into their six ARN fields, principals sorted into accounts, ARNs and services, condition
//! values decoded. The texts as written are kept where callers need them (bucket-policy
//! resource checks, principal existence checks, SimulatePolicy positions).

use crate::arn::ArnPattern;
use crate::conditions::Condition;
use crate::glob::Glob;
use crate::positions::Position;
use crate::principal::PrincipalSpec;

/// What a document is attached to; decides which elements it must and must not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Identity-based (inline, managed, session policies, permissions boundaries): no
    /// `Principal`, `Resource` required.
    Identity,
    /// Resource-based (S3 bucket policy, SNS topic policy): `Principal` and `Resource`
    /// required; errors also carry S3's wording.
    Resource,
    /// Role trust policy: `Principal` required, no `Resource`, STS role actions only.
    Trust,
    /// KMS key policy: `Principal` and `Resource` required; Sids may contain spaces.
    KeyPolicy,
}

/// Policy language version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2008-10-17`, also what an absent `Version` means: no policy variables.
    V2008_10_17,
    /// `2012-10-17`: policy variables.
    V2012_10_17,
}

impl Version {
    /// The version string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2008_10_17 => "2008-10-17",
            Self::V2012_10_17 => "2012-10-17",
        }
    }
}

/// Statement effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

/// `Action` or `NotAction`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ActionClause {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<Glob>,
    pub(crate) raw: Vec<String>,
}

impl ActionClause {
    /// Whether the clause applies to `action` (ASCII case-insensitive).
    pub(crate) fn applies(&self, action: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(action)) != self.negated
    }
}

/// `Resource` or `NotResource`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ResourceClause {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<ArnPattern>,
    pub(crate) raw: Vec<String>,
}

/// `Principal` or `NotPrincipal`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PrincipalClause {
    pub(crate) negated: bool,
    pub(crate) spec: PrincipalSpec,
}

/// One statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) principal: Option<PrincipalClause>,
    pub(crate) action: ActionClause,
    pub(crate) resource: Option<ResourceClause>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) start: Position,
    pub(crate) end: Position,
}

impl Statement {
    /// `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// `Effect`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Position of the statement's `{` in the source text.
    pub fn start(&self) -> Position {
        self.start
    }

    /// Position just after the statement's `}`.
    pub fn end(&self) -> Position {
        self.end
    }

    /// Action patterns as written, and whether they are a `NotAction`.
    pub fn actions(&self) -> (&[String], bool) {
        (&self.action.raw, self.action.negated)
    }

    /// Resource patterns as written, and whether they are a `NotResource`; `None` in trust
    /// policies.
    pub fn resources(&self) -> Option<(&[String], bool)> {
        self.resource
            .as_ref()
            .map(|r| (r.raw.as_slice(), r.negated))
    }

    /// Condition keys the statement references, as written.
    pub fn condition_keys(&self) -> impl Iterator<Item = &str> {
        self.conditions.iter().map(Condition::key)
    }
}

/// A parsed, validated and compiled policy document.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub(crate) kind: PolicyKind,
    pub(crate) version: Version,
    pub(crate) version_given: bool,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
    /// The context keys the document reads (condition keys and policy variables),
    /// lower-cased, sorted, once each.
    pub(crate) reads: Vec<String>,
    /// The same keys as written, in order of first appearance, once each (ignoring case).
    pub(crate) context_keys: Vec<String>,
}

impl Document {
    /// The document's kind.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The version (absent means 2008-10-17).
    pub fn version(&self) -> Version {
        self.version
    }

    /// Whether `Version` was written.
    pub fn version_given(&self) -> bool {
        self.version_given
    }

    /// `Id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Every `Resource`/`NotResource` entry as written (S3 checks that a bucket policy names
    /// only the bucket and its objects).
    pub fn resources(&self) -> Vec<&str> {
        self.statements
            .iter()
            .filter_map(|s| s.resource.as_ref())
            .flat_map(|r| r.raw.iter().map(String::as_str))
            .collect()
    }

    /// `AWS` principal entries that name IAM users, roles or sessions (not `*`, not
    /// accounts): IAM and KMS refuse a document naming one that does not exist
    /// (`Reason::InvalidPrincipal`, text `"AWS":"<arn>"`).
    pub fn principal_arns(&self) -> Vec<&str> {
        self.statements
            .iter()
            .filter_map(|s| s.principal.as_ref())
            .flat_map(|p| p.spec.arns.iter().map(|a| &**a))
            .collect()
    }

    /// `Service` principal entries.
    pub fn service_principals(&self) -> Vec<&str> {
        self.statements
            .iter()
            .filter_map(|s| s.principal.as_ref())
            .flat_map(|p| p.spec.services.iter().map(|a| &**a))
            .collect()
    }

    /// Whether the document reads a context key that starts with `prefix` (case-insensitively),
    /// such as `aws:ResourceTag/`, in a condition key or a policy variable: callers skip
    /// gathering keys no policy reads. Computed once, when the document is parsed.
    pub fn tests_key_prefix(&self, prefix: &str) -> bool {
        // `reads` is sorted: the first key not below the prefix is the only candidate.
        let at = self.reads.partition_point(|k| {
            k.as_bytes()
                .iter()
                .map(u8::to_ascii_lowercase)
                .lt(prefix.bytes().map(|b| b.to_ascii_lowercase()))
        });
        self.reads.get(at).is_some_and(|k| {
            k.len() >= prefix.len()
                && k.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        })
    }

    /// Every context key the document reads (policy variables and condition keys), as
    /// written, in order of first appearance, once each ignoring case: IAM's
    /// `GetContextKeysFor*Policy`.
    pub fn context_keys(&self) -> &[String] {
        &self.context_keys
    }

    /// Every condition key referenced, as written, without duplicates (case-insensitive).
    pub fn condition_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for k in self.statements.iter().flat_map(Statement::condition_keys) {
            if !keys.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                keys.push(k);
            }
        }
        keys
    }
}
