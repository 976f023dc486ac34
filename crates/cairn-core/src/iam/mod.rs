//! IAM semantics: users, access keys, groups, roles, managed and inline policies, tags,
//! authorization details and policy simulation, with AWS's name rules, quotas, errors and
//! messages (spec `iam-kms.md` §2), and the account-embedding ids of §1.3 ([`ids`]).
//!
//! Every function takes a store connection (the edge runs it in the transaction that also
//! records the call) and a [`CallContext`]; lists take a [`PageRequest`] and return a
//! [`Page`]. The evaluator's inputs come from [`principal_policies`] and
//! [`role_trust_policy`].

pub mod account;
pub mod attach;
pub mod context_keys;
pub mod details;
pub mod groups;
pub mod ids;
pub mod inline;
pub mod keys;
pub mod managed;
mod page;
mod principal;
pub mod principal_ids;
pub mod report;
pub mod roles;
pub mod simulate;
pub mod users;
pub mod validate;

use cairn_store::Connection;
use cairn_store::iam::{groups as gstore, roles as rstore, users as ustore};

pub use page::{Binding, Page, PageRequest};
pub(crate) use principal::role_policies;
pub use principal::{
    PolicyDoc, PrincipalPolicies, TrustPolicy, principal_policies, principal_tags,
    role_trust_policy,
};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// A tag: `(key, value)`.
pub type Tag = (String, String);

/// `arn:aws:iam::<account>:<kind><path><name>`.
pub fn arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

/// The ARN of a user.
pub fn user_arn(u: &ustore::User) -> String {
    arn(&u.account, "user", &u.path, &u.name)
}

/// The ARN of a group.
pub fn group_arn(g: &gstore::Group) -> String {
    arn(&g.account, "group", &g.path, &g.name)
}

/// The ARN of a role.
pub fn role_arn(r: &rstore::Role) -> String {
    arn(&r.account, "role", &r.path, &r.name)
}

/// A user or role an ARN names.
pub enum Named {
    /// A user.
    User(ustore::User),
    /// A role.
    Role(rstore::Role),
}

impl Named {
    /// The unique id (`AIDA…`, `AROA…`) its tags are kept under.
    pub fn id(&self) -> &str {
        match self {
            Named::User(u) => &u.user_id,
            Named::Role(r) => &r.role_id,
        }
    }

    /// Its permissions boundary's ARN, if it has one.
    pub fn boundary(&self) -> Option<&str> {
        match self {
            Named::User(u) => u.boundary.as_deref(),
            Named::Role(r) => r.boundary.as_deref(),
        }
    }
}

/// The user or role `arn` (`arn:aws:iam::<acct>:user<path><name>` or `role…`) names, when it
/// exists; `None` for any other ARN.
pub fn named_by_arn(conn: &Connection, arn: &str) -> ApiResult<Option<Named>> {
    let Some((account, rest)) = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(':'))
    else {
        return Ok(None);
    };
    let name = rest.rsplit('/').next().unwrap_or_default();
    Ok(if rest.starts_with("user/") {
        ustore::get_user(conn, account, name)?.map(Named::User)
    } else if rest.starts_with("role/") {
        rstore::get_role(conn, account, name)?.map(Named::Role)
    } else {
        None
    })
}

pub(crate) fn err(kind: ErrorKind, message: impl Into<String>) -> ApiError {
    ApiError::new(kind, message)
}

/// The three kinds of IAM identity that own policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    /// A user.
    User,
    /// A group.
    Group,
    /// A role.
    Role,
}

impl EntityKind {
    /// `user`, `group` or `role` (the store's owner kinds, and words in messages).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
        }
    }

    /// The request member naming such an entity, in messages (`userName`…).
    pub fn field(self) -> &'static str {
        match self {
            Self::User => "userName",
            Self::Group => "groupName",
            Self::Role => "roleName",
        }
    }
}

/// An entity that owns inline policies and attachments.
#[derive(Clone, Debug, PartialEq)]
pub struct Owner {
    /// Kind.
    pub kind: EntityKind,
    /// Unique id.
    pub id: String,
    /// Name as stored.
    pub name: String,
}

/// "The user with name X cannot be found." and its group and role forms.
pub fn not_found(kind: EntityKind, name: &str) -> ApiError {
    err(
        ErrorKind::NoSuchEntity,
        format!("The {} with name {name} cannot be found.", kind.as_str()),
    )
}

/// A user by name, or NoSuchEntity.
pub fn find_user(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<ustore::User> {
    validate::existing_user_name(name)?;
    ustore::get_user(conn, ctx.account().as_str(), name)?
        .ok_or_else(|| not_found(EntityKind::User, name))
}

/// A group by name, or NoSuchEntity.
pub fn find_group(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<gstore::Group> {
    validate::name(name, "groupName", 128)?;
    gstore::get_group(conn, ctx.account().as_str(), name)?
        .ok_or_else(|| not_found(EntityKind::Group, name))
}

/// A role by name, or NoSuchEntity.
pub fn find_role(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<rstore::Role> {
    validate::name(name, "roleName", 64)?;
    rstore::get_role(conn, ctx.account().as_str(), name)?
        .ok_or_else(|| not_found(EntityKind::Role, name))
}

/// Whether `arn` names a role of `account` that exists (its path and name as stored; the
/// name matched as IAM matches it, case-insensitively). An unsigned federated call naming
/// none is not recorded (hostile13: anyone could fill the event store with calls naming
/// made-up roles).
pub fn role_arn_exists(conn: &Connection, account: &str, arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix(&format!("arn:aws:iam::{account}:role")) else {
        return false;
    };
    let Some((path, name)) = rest.rsplit_once('/') else {
        return false;
    };
    matches!(rstore::get_role(conn, account, name), Ok(Some(r)) if r.path == format!("{path}/"))
}

/// The owner entity of that kind and name, or NoSuchEntity.
pub fn find_owner(
    conn: &Connection,
    ctx: &CallContext,
    kind: EntityKind,
    name: &str,
) -> ApiResult<Owner> {
    let (id, name) = match kind {
        EntityKind::User => {
            let u = find_user(conn, ctx, name)?;
            (u.user_id, u.name)
        }
        EntityKind::Group => {
            let g = find_group(conn, ctx, name)?;
            (g.group_id, g.name)
        }
        EntityKind::Role => {
            let r = find_role(conn, ctx, name)?;
            (r.role_id, r.name)
        }
    };
    Ok(Owner { kind, id, name })
}

/// Whether a path starts with `prefix` (absent prefix: everything).
pub(crate) fn path_matches(path: &str, prefix: Option<&str>) -> bool {
    prefix.is_none_or(|p| path.starts_with(p))
}

/// The order IAM lists entities in: by name, case-insensitively (names are unique that way).
pub(crate) fn name_sort_key(name: &str) -> String {
    name.to_ascii_lowercase()
}
