//! Principals: who makes a request, and the `Principal`/`NotPrincipal` element that names
//! principals in resource-based and trust policies.
//!
//! | policy principal | matches |
//! |---|---|
//! | `"*"` / `{"AWS":"*"}` | everyone, anonymous callers included |
//! | `{"AWS":"<acct>"}` ≡ `{"AWS":"arn:aws:iam::<acct>:root"}` | root directly; every other principal of the account by delegation to its identity policies |
//! | a user ARN (or its `AIDA…` id) | that user |
//! | a role ARN (or its `AROA…` id) | every session of that role |
//! | an `assumed-role` session ARN | that session |
//! | `{"Service":"cloudtrail.amazonaws.com"}` | that service principal |

use crate::context::Context;

/// The caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The account's root user.
    Root {
        /// 12-digit account id.
        account: String,
    },
    /// An IAM user (long-term key or GetSessionToken credentials).
    User {
        /// Account id.
        account: String,
        /// `arn:aws:iam::<acct>:user<path><name>`.
        arn: String,
        /// Unique id (`AIDA…`).
        id: String,
        /// User name.
        name: String,
    },
    /// A session of an assumed role.
    RoleSession {
        /// Account id.
        account: String,
        /// `arn:aws:iam::<acct>:role<path><name>`.
        role_arn: String,
        /// Role unique id (`AROA…`).
        role_id: String,
        /// `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.
        session_arn: String,
        /// Session name.
        session_name: String,
    },
    /// An AWS service principal acting on its own behalf, e.g. `cloudtrail.amazonaws.com`.
    Service {
        /// Service principal name.
        name: String,
    },
    /// An unauthenticated caller (S3 public access).
    Anonymous,
}

impl Principal {
    /// The ARN AWS names in AccessDenied messages: the session ARN for role sessions, the root
    /// ARN for root, the service name for services and `anonymous` for anonymous callers.
    pub fn display_arn(&self) -> String {
        match self {
            Self::Root { account } => format!("arn:aws:iam::{account}:root"),
            Self::User { arn, .. } => arn.clone(),
            Self::RoleSession { session_arn, .. } => session_arn.clone(),
            Self::Service { name } => name.clone(),
            Self::Anonymous => "anonymous".to_owned(),
        }
    }

    /// The principal's account, when it has one.
    pub fn account(&self) -> Option<&str> {
        match self {
            Self::Root { account }
            | Self::User { account, .. }
            | Self::RoleSession { account, .. } => Some(account),
            Self::Service { .. } | Self::Anonymous => None,
        }
    }

    /// Adds the principal keys of the spec's §4.7 table to `ctx`: `aws:PrincipalArn` (the
    /// role ARN for sessions), `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:username`
    /// (users only), `aws:userid`; for services `aws:PrincipalServiceName` and
    /// `aws:PrincipalIsAWSService`.
    pub fn add_context_keys(&self, ctx: &mut Context) {
        match self {
            Self::Root { account } => {
                ctx.insert("aws:PrincipalArn", format!("arn:aws:iam::{account}:root"));
                ctx.insert("aws:PrincipalAccount", account.clone());
                ctx.insert("aws:PrincipalType", "Account");
                ctx.insert("aws:userid", account.clone());
            }
            Self::User {
                account,
                arn,
                id,
                name,
            } => {
                ctx.insert("aws:PrincipalArn", arn.clone());
                ctx.insert("aws:PrincipalAccount", account.clone());
                ctx.insert("aws:PrincipalType", "User");
                ctx.insert("aws:username", name.clone());
                ctx.insert("aws:userid", id.clone());
            }
            Self::RoleSession {
                account,
                role_arn,
                role_id,
                session_name,
                ..
            } => {
                ctx.insert("aws:PrincipalArn", role_arn.clone());
                ctx.insert("aws:PrincipalAccount", account.clone());
                ctx.insert("aws:PrincipalType", "AssumedRole");
                ctx.insert("aws:userid", format!("{role_id}:{session_name}"));
            }
            Self::Service { name } => {
                ctx.insert("aws:PrincipalServiceName", name.clone());
                ctx.insert("aws:PrincipalIsAWSService", "true");
            }
            Self::Anonymous => {}
        }
    }
}

/// How a policy principal matched the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PrincipalMatch {
    /// Not named.
    No,
    /// Named as itself: `*`, its user/session ARN, root's account, its service.
    Direct,
    /// Named through its role's ARN (a session): like `Direct`, but session policies and a
    /// permissions boundary still apply.
    Role,
    /// Named only through its account: delegates to the identity policies.
    Account,
}

/// A compiled `Principal`/`NotPrincipal` value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PrincipalSpec {
    pub(crate) any: bool,
    pub(crate) accounts: Vec<Box<str>>,
    pub(crate) arns: Vec<Box<str>>,
    pub(crate) services: Vec<Box<str>>,
    /// Federated and canonical-user entries: kept, never matched.
    pub(crate) other: Vec<Box<str>>,
}

impl PrincipalSpec {
    /// Adds one `AWS` entry.
    pub(crate) fn add_aws(&mut self, value: &str) {
        if value == "*" {
            self.any = true;
        } else if is_account_id(value) {
            self.accounts.push(value.into());
        } else if let Some(acct) = value
            .strip_prefix("arn:aws:iam::")
            .and_then(|r| r.strip_suffix(":root"))
        {
            self.accounts.push(acct.into());
        } else {
            self.arns.push(value.into());
        }
    }

    /// How `p` is named.
    pub(crate) fn matches(&self, p: &Principal) -> PrincipalMatch {
        if self.any {
            // `*` names a role session only as one of its role's sessions: session policies and
            // the role's boundary still apply.
            return match p {
                Principal::RoleSession { .. } => PrincipalMatch::Role,
                _ => PrincipalMatch::Direct,
            };
        }
        let arn = |a: &str| self.arns.iter().any(|x| **x == *a);
        let account = |a: &str| self.accounts.iter().any(|x| **x == *a);
        match p {
            Principal::Root { account: a } if account(a) => PrincipalMatch::Direct,
            Principal::User {
                account: a,
                arn: u,
                id,
                ..
            } => {
                if arn(u) || arn(id) {
                    PrincipalMatch::Direct
                } else if account(a) {
                    PrincipalMatch::Account
                } else {
                    PrincipalMatch::No
                }
            }
            Principal::RoleSession {
                account: a,
                role_arn,
                role_id,
                session_arn,
                ..
            } => {
                if arn(session_arn) {
                    PrincipalMatch::Direct
                } else if arn(role_arn) || arn(role_id) {
                    PrincipalMatch::Role
                } else if account(a) {
                    PrincipalMatch::Account
                } else {
                    PrincipalMatch::No
                }
            }
            Principal::Service { name }
                if self.services.iter().any(|s| s.eq_ignore_ascii_case(name)) =>
            {
                PrincipalMatch::Direct
            }
            _ => PrincipalMatch::No,
        }
    }
}

/// Twelve ASCII digits.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Principal {
        Principal::RoleSession {
            account: "111122223333".into(),
            role_arn: "arn:aws:iam::111122223333:role/ops".into(),
            role_id: "AROAEXAMPLEEXAMPLE01".into(),
            session_arn: "arn:aws:sts::111122223333:assumed-role/ops/s1".into(),
            session_name: "s1".into(),
        }
    }

    #[test]
    fn principal_forms() {
        let mut s = PrincipalSpec::default();
        s.add_aws("arn:aws:iam::111122223333:root");
        assert_eq!(s.matches(&session()), PrincipalMatch::Account);
        assert_eq!(
            s.matches(&Principal::Root {
                account: "111122223333".into()
            }),
            PrincipalMatch::Direct
        );
        assert_eq!(s.matches(&Principal::Anonymous), PrincipalMatch::No);
        let mut r = PrincipalSpec::default();
        r.add_aws("arn:aws:iam::111122223333:role/ops");
        assert_eq!(r.matches(&session()), PrincipalMatch::Role);
        let mut d = PrincipalSpec::default();
        d.add_aws("arn:aws:sts::111122223333:assumed-role/ops/s1");
        assert_eq!(d.matches(&session()), PrincipalMatch::Direct);
        assert_eq!(
            session().display_arn(),
            "arn:aws:sts::111122223333:assumed-role/ops/s1"
        );
        let mut c = Context::new();
        session().add_context_keys(&mut c);
        assert_eq!(
            c.first("aws:PrincipalArn"),
            Some("arn:aws:iam::111122223333:role/ops")
        );
        assert!(c.get("aws:username").is_none());
    }
}
