//! Who made a call: the principal behind a verified access key.
//!
//! Only `Root` and `IamUser` exist today. Roles (assumed-role sessions) and policies come
//! later; they slot in as further variants, and everything that renders identities
//! matches exhaustively so the compiler points at each place to extend.

use crate::AccountId;

/// The authenticated caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The account's root user.
    Root {
        /// The account.
        account: AccountId,
        /// The access key the request was signed with.
        access_key_id: String,
    },
    /// An IAM user.
    IamUser {
        /// The account.
        account: AccountId,
        /// The user's name.
        user_name: String,
        /// The user's stable id (`AIDA…`).
        user_id: String,
        /// The access key the request was signed with.
        access_key_id: String,
    },
}

impl Principal {
    /// The account the principal belongs to.
    pub fn account(&self) -> &AccountId {
        match self {
            Principal::Root { account, .. } | Principal::IamUser { account, .. } => account,
        }
    }

    /// The access key id used for the request.
    pub fn access_key_id(&self) -> &str {
        match self {
            Principal::Root { access_key_id, .. } | Principal::IamUser { access_key_id, .. } => {
                access_key_id
            }
        }
    }

    /// The ARN of the principal.
    pub fn arn(&self) -> String {
        match self {
            Principal::Root { account, .. } => format!("arn:aws:iam::{account}:root"),
            Principal::IamUser {
                account, user_name, ..
            } => format!("arn:aws:iam::{account}:user/{user_name}"),
        }
    }

    /// The name LookupEvents matches for its `Username` attribute (`root` for the root user).
    pub fn lookup_username(&self) -> &str {
        match self {
            Principal::Root { .. } => "root",
            Principal::IamUser { user_name, .. } => user_name,
        }
    }

    /// The `userIdentity` object of a CloudTrail record for this principal.
    pub fn user_identity(&self) -> serde_json::Value {
        match self {
            Principal::Root {
                account,
                access_key_id,
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
            } => serde_json::json!({
                "type": "IAMUser",
                "principalId": user_id,
                "arn": self.arn(),
                "accountId": account.as_str(),
                "accessKeyId": access_key_id,
                "userName": user_name,
            }),
        }
    }
}
