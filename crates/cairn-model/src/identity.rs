//! Who made a call: the principal behind a verified access key.
//!
//! Three kinds of caller exist: the account's root user, IAM users, and sessions of assumed
//! roles (STS `AssumeRole`). Root and users may also call with temporary credentials from
//! `GetSessionToken`; those carry a [`SessionContext`]. Everything that renders identities
//! matches exhaustively so the compiler points at each place to extend.

use crate::AccountId;

/// The facts about temporary credentials (an STS session) that records and policies see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionContext {
    /// When the credentials were issued, epoch seconds.
    pub created: i64,
    /// When they expire, epoch seconds.
    pub expires: i64,
    /// Whether MFA was presented when they were issued.
    pub mfa: bool,
    /// The `SourceIdentity` set when the role was assumed.
    pub source_identity: Option<String>,
}

impl SessionContext {
    /// `sessionContext.attributes` of a record.
    fn attributes(&self) -> serde_json::Value {
        serde_json::json!({
            "creationDate": crate::event::format_event_time(self.created),
            "mfaAuthenticated": if self.mfa { "true" } else { "false" },
        })
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The account's root user.
    Root {
        /// The account.
        account: AccountId,
        /// The access key the request was signed with.
        access_key_id: String,
        /// Set when the key is a `GetSessionToken` credential.
        session: Option<SessionContext>,
    },
    /// An IAM user.
    IamUser {
        /// The account.
        account: AccountId,
        /// The user's name.
        user_name: String,
        /// The user's stable id (`AIDA…`).
        user_id: String,
        /// The user's path (`/` or `/a/b/`).
        path: String,
        /// The access key the request was signed with.
        access_key_id: String,
        /// Set when the key is a `GetSessionToken` credential.
        session: Option<SessionContext>,
    },
    /// A session of an assumed role.
    AssumedRole {
        /// The account.
        account: AccountId,
        /// The role's name.
        role_name: String,
        /// The role's stable id (`AROA…`).
        role_id: String,
        /// The role's path.
        role_path: String,
        /// The `RoleSessionName`.
        session_name: String,
        /// The temporary access key (`ASIA…`).
        access_key_id: String,
        /// The session.
        session: SessionContext,
    },
    /// An AWS service acting on its own behalf inside Cairn (CloudTrail writing to a bucket,
    /// encrypting with a key or assuming a role), recorded as AWS records such calls.
    Service {
        /// The account the work is done for.
        account: AccountId,
        /// The service principal, e.g. `cloudtrail.amazonaws.com`.
        name: String,
    },
    /// A caller without credentials whose call is authorized otherwise (an SNS subscription
    /// confirmed by its token, an S3 object a bucket policy makes public).
    Anonymous {
        /// The account whose resource the call touched.
        account: AccountId,
    },
    /// The caller of an unsigned federation call (AssumeRoleWithWebIdentity,
    /// AssumeRoleWithSAML) as the token or assertion it presented names it. Never verified:
    /// it is recorded (`WebIdentityUser`/`SAMLUser`) and authorized as an anonymous caller.
    Federated {
        /// The account of the role the call asked for.
        account: AccountId,
        /// Web identity or SAML.
        kind: FederationKind,
        /// `principalId`: the provider, audience and subject the token names.
        principal_id: String,
        /// `userName`: the subject.
        user_name: String,
        /// `identityProvider`: the issuer.
        identity_provider: String,
    },
}

/// How a federated caller presented itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FederationKind {
    /// An OpenID Connect token (`WebIdentityUser`).
    WebIdentity,
    /// A SAML assertion (`SAMLUser`).
    Saml,
}

impl Principal {
    /// The account the principal belongs to.
    pub fn account(&self) -> &AccountId {
        match self {
            Principal::Root { account, .. }
            | Principal::IamUser { account, .. }
            | Principal::AssumedRole { account, .. }
            | Principal::Service { account, .. }
            | Principal::Anonymous { account }
            | Principal::Federated { account, .. } => account,
        }
    }

    /// The access key id used for the request.
    pub fn access_key_id(&self) -> &str {
        match self {
            Principal::Root { access_key_id, .. }
            | Principal::IamUser { access_key_id, .. }
            | Principal::AssumedRole { access_key_id, .. } => access_key_id,
            Principal::Service { .. }
            | Principal::Anonymous { .. }
            | Principal::Federated { .. } => "",
        }
    }

    /// The session of temporary credentials, if the call used some.
    pub fn session(&self) -> Option<&SessionContext> {
        match self {
            Principal::Root { session, .. } | Principal::IamUser { session, .. } => {
                session.as_ref()
            }
            Principal::AssumedRole { session, .. } => Some(session),
            Principal::Service { .. }
            | Principal::Anonymous { .. }
            | Principal::Federated { .. } => None,
        }
    }

    /// The ARN of the principal (for a role session, the `assumed-role` session ARN).
    pub fn arn(&self) -> String {
        match self {
            Principal::Root { account, .. } => format!("arn:aws:iam::{account}:root"),
            Principal::IamUser {
                account,
                user_name,
                path,
                ..
            } => format!("arn:aws:iam::{account}:user{path}{user_name}"),
            Principal::AssumedRole {
                account,
                role_name,
                session_name,
                ..
            } => format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"),
            Principal::Service { name, .. } => name.clone(),
            Principal::Anonymous { .. } | Principal::Federated { .. } => "anonymous".to_owned(),
        }
    }

    /// For a role session, the role's ARN (with its path).
    pub fn role_arn(&self) -> Option<String> {
        match self {
            Principal::AssumedRole {
                account,
                role_name,
                role_path,
                ..
            } => Some(format!("arn:aws:iam::{account}:role{role_path}{role_name}")),
            _ => None,
        }
    }

    /// `principalId` of records and `UserId` of GetCallerIdentity: the account for root,
    /// `AIDA…` for users, `AROA…:<session>` for role sessions.
    pub fn principal_id(&self) -> String {
        match self {
            Principal::Root { account, .. } => account.to_string(),
            Principal::IamUser { user_id, .. } => user_id.clone(),
            Principal::AssumedRole {
                role_id,
                session_name,
                ..
            } => format!("{role_id}:{session_name}"),
            Principal::Service { name, .. } => name.clone(),
            Principal::Anonymous { .. } => String::new(),
            Principal::Federated { principal_id, .. } => principal_id.clone(),
        }
    }

    /// The name LookupEvents matches for its `Username` attribute: `root` for the root user,
    /// the user name for users, the role session name for role sessions.
    pub fn lookup_username(&self) -> &str {
        match self {
            Principal::Root { .. } => "root",
            Principal::IamUser { user_name, .. } => user_name,
            Principal::AssumedRole { session_name, .. } => session_name,
            Principal::Service { name, .. } => name,
            Principal::Anonymous { .. } => "anonymous",
            Principal::Federated { user_name, .. } => user_name,
        }
    }

    /// The `userIdentity` object of a CloudTrail record for this principal.
    pub fn user_identity(&self) -> serde_json::Value {
        let mut identity = match self {
            Principal::Root {
                account,
                access_key_id,
                ..
            } => serde_json::json!({
                "type": "Root",
                "principalId": account.as_str(),
                "arn": self.arn(),
                "accountId": account.as_str(),
                "accessKeyId": access_key_id,
            }),
            Principal::IamUser {
                account,
                user_name,
                user_id,
                access_key_id,
                ..
            } => serde_json::json!({
                "type": "IAMUser",
                "principalId": user_id,
                "arn": self.arn(),
                "accountId": account.as_str(),
                "accessKeyId": access_key_id,
                "userName": user_name,
            }),
            Principal::Service { name, .. } => serde_json::json!({
                "type": "AWSService",
                "invokedBy": name,
            }),
            Principal::Anonymous { .. } => serde_json::json!({
                "type": "AWSAccount",
                "principalId": "",
                "accountId": "anonymous",
            }),
            Principal::Federated {
                kind,
                principal_id,
                user_name,
                identity_provider,
                ..
            } => serde_json::json!({
                "type": match kind {
                    FederationKind::WebIdentity => "WebIdentityUser",
                    FederationKind::Saml => "SAMLUser",
                },
                "principalId": principal_id,
                "userName": user_name,
                "identityProvider": identity_provider,
            }),
            Principal::AssumedRole {
                account,
                role_name,
                role_id,
                access_key_id,
                session,
                ..
            } => {
                let mut context = serde_json::json!({
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": self.role_arn(),
                        "accountId": account.as_str(),
                        "userName": role_name,
                    },
                    "webIdFederationData": {},
                    "attributes": session.attributes(),
                });
                if let Some(source) = &session.source_identity {
                    context["sourceIdentity"] = serde_json::json!(source);
                }
                return serde_json::json!({
                    "type": "AssumedRole",
                    "principalId": self.principal_id(),
                    "arn": self.arn(),
                    "accountId": account.as_str(),
                    "accessKeyId": access_key_id,
                    "sessionContext": context,
                });
            }
        };
        if let Some(session) = self.session()
            && !matches!(self, Principal::AssumedRole { .. })
        {
            identity["sessionContext"] = serde_json::json!({
                "sessionIssuer": {},
                "webIdFederationData": {},
                "attributes": session.attributes(),
            });
        }
        identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct() -> AccountId {
        AccountId::parse("111122223333").unwrap()
    }

    #[test]
    fn assumed_role_identity_has_session_context() {
        let p = Principal::AssumedRole {
            account: acct(),
            role_name: "ops".into(),
            role_id: "AROAEXAMPLE".into(),
            role_path: "/team/".into(),
            session_name: "s1".into(),
            access_key_id: "ASIAEXAMPLE".into(),
            session: SessionContext {
                created: 1_704_067_200,
                expires: 1_704_070_800,
                mfa: false,
                source_identity: None,
            },
        };
        let id = p.user_identity();
        assert_eq!(id["type"], "AssumedRole");
        assert_eq!(id["principalId"], "AROAEXAMPLE:s1");
        assert_eq!(id["arn"], "arn:aws:sts::111122223333:assumed-role/ops/s1");
        assert!(id.get("userName").is_none());
        let ctx = &id["sessionContext"];
        assert_eq!(
            ctx["sessionIssuer"]["arn"],
            "arn:aws:iam::111122223333:role/team/ops"
        );
        assert_eq!(ctx["sessionIssuer"]["userName"], "ops");
        assert_eq!(ctx["attributes"]["creationDate"], "2024-01-01T00:00:00Z");
        assert_eq!(ctx["attributes"]["mfaAuthenticated"], "false");
        assert_eq!(p.lookup_username(), "s1");
    }

    #[test]
    fn user_with_session_token_keeps_its_type() {
        let p = Principal::IamUser {
            account: acct(),
            user_name: "alice".into(),
            user_id: "AIDAEXAMPLE".into(),
            path: "/div/".into(),
            access_key_id: "ASIAEXAMPLE".into(),
            session: Some(SessionContext {
                created: 0,
                expires: 900,
                mfa: true,
                source_identity: None,
            }),
        };
        let id = p.user_identity();
        assert_eq!(id["type"], "IAMUser");
        assert_eq!(id["arn"], "arn:aws:iam::111122223333:user/div/alice");
        assert_eq!(
            id["sessionContext"]["attributes"]["mfaAuthenticated"],
            "true"
        );
    }
}
