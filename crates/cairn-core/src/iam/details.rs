//! GetAccountAuthorizationDetails: every user, group, role and managed policy with their
//! policies, in one paginated list (users, then groups, roles, policies).

use cairn_store::Connection;
use cairn_store::iam::{groups, inline, policies, roles, tags, users};

use super::attach::{Attached, attached_of};
use super::managed::{PolicyInfo, VersionInfo, get_policy, list_versions};
use super::roles::RoleInfo;
use super::{Page, PageRequest, Tag, name_sort_key, validate};
use crate::CallContext;
use crate::error::ApiResult;
use crate::token::Keyset;

/// An inline policy: `(name, document)`.
pub type Inline = (String, String);

/// One entry of the result.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// `UserDetailList` member.
    User {
        /// The user.
        user: users::User,
        /// Inline policies.
        inline: Vec<Inline>,
        /// Names of its groups.
        groups: Vec<String>,
        /// Attached managed policies.
        attached: Vec<Attached>,
        /// Tags.
        tags: Vec<Tag>,
    },
    /// `GroupDetailList` member.
    Group {
        /// The group.
        group: groups::Group,
        /// Inline policies.
        inline: Vec<Inline>,
        /// Attached managed policies.
        attached: Vec<Attached>,
    },
    /// `RoleDetailList` member.
    Role {
        /// The role with its tags.
        role: RoleInfo,
        /// Inline policies.
        inline: Vec<Inline>,
        /// Attached managed policies.
        attached: Vec<Attached>,
    },
    /// `Policies` member.
    Policy {
        /// The policy.
        policy: PolicyInfo,
        /// Every version with its document.
        versions: Vec<VersionInfo>,
    },
}

const FILTERS: [&str; 5] = [
    "User",
    "Role",
    "Group",
    "LocalManagedPolicy",
    "AWSManagedPolicy",
];

fn attached_list(conn: &Connection, ctx: &CallContext, id: &str) -> ApiResult<Vec<Attached>> {
    Ok(attached_of(conn, ctx, id)?
        .into_iter()
        .map(|(a, _)| a)
        .collect())
}

/// GetAccountAuthorizationDetails. An empty `filter` means every kind.
pub fn get_account_authorization_details(
    conn: &Connection,
    ctx: &CallContext,
    filter: &[String],
    page: &PageRequest,
) -> ApiResult<Page<Detail>> {
    for f in filter {
        if !FILTERS.contains(&f.as_str()) {
            return Err(validate::violation(
                f,
                "filter",
                "Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]",
            ));
        }
    }
    let want = |k: &str| filter.is_empty() || filter.iter().any(|f| f == k);
    let account = ctx.account().as_str();
    // Each detail with its sort key: its kind's place in the list, then the store's order
    // (names; AWS managed policies by their place in the catalogue). Names are unique per
    // kind whatever their case, so the lower-cased name alone keeps the key (and the marker
    // sealing it) within IAM's 320-character bound on `Marker`.
    let named = |kind: &str, name: &str| Keyset::of(&[kind, &name_sort_key(name)]);
    let mut out: Vec<(Keyset, Detail)> = Vec::new();
    if want("User") {
        for user in users::list_users(conn, account)? {
            out.push((
                named("0", &user.name),
                Detail::User {
                    inline: inline::list_inline(conn, &user.user_id)?,
                    groups: groups::groups_for_user(conn, &user.user_id)?
                        .into_iter()
                        .map(|g| g.name)
                        .collect(),
                    attached: attached_list(conn, ctx, &user.user_id)?,
                    tags: tags::tags(conn, &user.user_id)?,
                    user,
                },
            ));
        }
    }
    if want("Group") {
        for group in groups::list_groups(conn, account)? {
            out.push((
                named("1", &group.name),
                Detail::Group {
                    inline: inline::list_inline(conn, &group.group_id)?,
                    attached: attached_list(conn, ctx, &group.group_id)?,
                    group,
                },
            ));
        }
    }
    if want("Role") {
        for role in roles::list_roles(conn, account)? {
            out.push((
                named("2", &role.name.clone()),
                Detail::Role {
                    inline: inline::list_inline(conn, &role.role_id)?,
                    attached: attached_list(conn, ctx, &role.role_id)?,
                    role: RoleInfo {
                        tags: tags::tags(conn, &role.role_id)?,
                        role: super::roles::rendered(conn, role)?,
                    },
                },
            ));
        }
    }
    if want("LocalManagedPolicy") {
        for p in policies::list_policies(conn, account)? {
            out.push((
                named("3", &p.name),
                Detail::Policy {
                    versions: list_versions(conn, ctx, &p.arn)?,
                    policy: get_policy(conn, ctx, &p.arn)?,
                },
            ));
        }
    }
    if want("AWSManagedPolicy") {
        for (i, p) in cairn_policy::managed::all().iter().enumerate() {
            if policies::attachment_count(conn, p.arn)? > 0
                || policies::boundary_count(conn, p.arn)? > 0
            {
                out.push((
                    Keyset::of(&["4", &format!("{i:08}")]),
                    Detail::Policy {
                        versions: list_versions(conn, ctx, p.arn)?,
                        policy: get_policy(conn, ctx, p.arn)?,
                    },
                ));
            }
        }
    }
    Ok(page.apply_keyed(out, |(k, _)| k.clone())?.map(|(_, d)| d))
}
