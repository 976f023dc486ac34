//! Attaching managed policies (customer or AWS managed) to users, groups and roles: at most
//! 10 per entity, re-attaching is a no-op, deprecated AWS policies cannot be attached anew.

use cairn_store::Connection;
use cairn_store::iam::policies;

use super::{EntityKind, Page, PageRequest, err, find_owner, validate};
use crate::CallContext;
use crate::error::{ApiResult, ErrorKind};
use crate::token::Keyset;

/// Managed policies attached per user, group or role.
pub const POLICIES_PER_ENTITY: usize = 10;

/// An attached policy: `(PolicyName, PolicyArn)`.
pub type Attached = (String, String);

fn quota_name(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "PoliciesPerUser",
        EntityKind::Group => "PoliciesPerGroup",
        EntityKind::Role => "PoliciesPerRole",
    }
}

/// The name of a managed policy by ARN, if it exists in this account or the catalogue.
pub(crate) fn policy_name(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
) -> ApiResult<Option<(String, String, bool)>> {
    if let Some(p) = cairn_policy::managed::get(arn) {
        return Ok(Some((p.name.to_owned(), p.path.to_owned(), p.attachable)));
    }
    Ok(policies::get_policy(conn, arn)?
        .filter(|p| p.account == ctx.account().as_str())
        .map(|p| (p.name, p.path, true)))
}

/// Attach{User,Group,Role}Policy.
pub fn attach_policy(
    conn: &Connection,
    ctx: &CallContext,
    kind: EntityKind,
    name: &str,
    arn: &str,
) -> ApiResult<()> {
    validate::length(arn, "policyArn", 20, 2048)?;
    let owner = find_owner(conn, ctx, kind, name)?;
    let attached = policies::attached(conn, &owner.id)?;
    if attached.iter().any(|a| a == arn) {
        return Ok(());
    }
    let attachable = policy_name(conn, ctx, arn)?.is_some_and(|(_, _, ok)| ok);
    if !attachable {
        return Err(err(
            ErrorKind::NoSuchEntity,
            format!("Policy {arn} does not exist or is not attachable."),
        ));
    }
    if attached.len() >= POLICIES_PER_ENTITY {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!(
                "Cannot exceed quota for {}: {POLICIES_PER_ENTITY}",
                quota_name(kind)
            ),
        ));
    }
    policies::attach(conn, kind.as_str(), &owner.id, arn)?;
    Ok(())
}

/// Detach{User,Group,Role}Policy.
pub fn detach_policy(
    conn: &Connection,
    ctx: &CallContext,
    kind: EntityKind,
    name: &str,
    arn: &str,
) -> ApiResult<()> {
    validate::length(arn, "policyArn", 20, 2048)?;
    let owner = find_owner(conn, ctx, kind, name)?;
    if !policies::detach(conn, &owner.id, arn)? {
        return Err(err(
            ErrorKind::NoSuchEntity,
            format!("Policy {arn} was not found."),
        ));
    }
    Ok(())
}

/// The policies attached to an entity, in attachment order.
pub(crate) fn attached_of(
    conn: &Connection,
    ctx: &CallContext,
    owner_id: &str,
) -> ApiResult<Vec<(Attached, String)>> {
    let mut out = Vec::new();
    for arn in policies::attached(conn, owner_id)? {
        if let Some((name, path, _)) = policy_name(conn, ctx, &arn)? {
            out.push(((name, arn), path));
        }
    }
    Ok(out)
}

/// ListAttached{User,Group,Role}Policies.
pub fn list_attached(
    conn: &Connection,
    ctx: &CallContext,
    kind: EntityKind,
    name: &str,
    path_prefix: Option<&str>,
    page: &PageRequest,
) -> ApiResult<Page<Attached>> {
    if let Some(p) = path_prefix {
        validate::policy_path(p, "pathPrefix")?;
    }
    let owner = find_owner(conn, ctx, kind, name)?;
    let mut list: Vec<(i64, Attached)> = Vec::new();
    for (seq, arn) in policies::attached_with_seq(conn, &owner.id)? {
        if let Some((name, path, _)) = policy_name(conn, ctx, &arn)?
            && path_prefix.is_none_or(|p| path.starts_with(p))
        {
            list.push((seq, (name, arn)));
        }
    }
    // In attachment order, resumed after the last attachment returned.
    Ok(page
        .apply(list, |(seq, _)| super::page::seq_key(*seq))?
        .map(|(_, a)| a))
}

/// A ListEntitiesForPolicy member: kind, name, unique id.
pub type Entity = (EntityKind, String, String);

/// ListEntitiesForPolicy: the users, groups and roles a managed policy is attached to (or,
/// with `usage` `PermissionsBoundary`, that use it as their boundary).
#[allow(clippy::too_many_arguments)]
pub fn list_entities_for_policy(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    entity_filter: Option<&str>,
    path_prefix: Option<&str>,
    usage: Option<&str>,
    page: &PageRequest,
) -> ApiResult<Page<Entity>> {
    use cairn_store::iam::{groups, roles, users};
    validate::length(arn, "policyArn", 20, 2048)?;
    if policy_name(conn, ctx, arn)?.is_none() {
        return Err(err(
            ErrorKind::NoSuchEntity,
            format!("Policy {arn} was not found."),
        ));
    }
    if let Some(f) = entity_filter
        && !matches!(
            f,
            "User" | "Role" | "Group" | "LocalManagedPolicy" | "AWSManagedPolicy"
        )
    {
        return Err(validate::violation(
            f,
            "entityFilter",
            "Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]",
        ));
    }
    let account = ctx.account().as_str();
    // Each entity with its sort key: kind (boundaries: users, then roles), then name order
    // (boundaries) or attachment order (sequence number, owner id).
    let mut out: Vec<(Keyset, Entity, String)> = Vec::new();
    if usage == Some("PermissionsBoundary") {
        for u in users::list_users(conn, account)? {
            if u.boundary.as_deref() == Some(arn) {
                let key = Keyset::of(&["0user", &super::name_sort_key(&u.name), &u.name]);
                out.push((key, (EntityKind::User, u.name, u.user_id), u.path));
            }
        }
        for r in roles::list_roles(conn, account)? {
            if r.boundary.as_deref() == Some(arn) {
                let key = Keyset::of(&["1role", &super::name_sort_key(&r.name), &r.name]);
                out.push((key, (EntityKind::Role, r.name, r.role_id), r.path));
            }
        }
    } else {
        for (kind, id, seq) in policies::attachments_of_with_seq(conn, arn)? {
            let key = Keyset::of(&[kind.as_str(), &super::page::seq_key(seq), &id]);
            let found = match kind.as_str() {
                "user" => users::get_user_by_id(conn, &id)?
                    .map(|u| ((EntityKind::User, u.name, u.user_id), u.path)),
                "role" => roles::get_role_by_id(conn, &id)?
                    .map(|r| ((EntityKind::Role, r.name, r.role_id), r.path)),
                _ => groups::list_groups(conn, account)?
                    .into_iter()
                    .find(|g| g.group_id == id)
                    .map(|g| ((EntityKind::Group, g.name, g.group_id), g.path)),
            };
            out.extend(found.map(|(e, path)| (key, e, path)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    let wanted = |k: EntityKind| match entity_filter {
        Some("User") => k == EntityKind::User,
        Some("Group") => k == EntityKind::Group,
        Some("Role") => k == EntityKind::Role,
        _ => true,
    };
    let list: Vec<(Keyset, Entity)> = out
        .into_iter()
        .filter(|(_, (k, _, _), path)| {
            wanted(*k) && path_prefix.is_none_or(|p| path.starts_with(p))
        })
        .map(|(key, e, _)| (key, e))
        .collect();
    Ok(page.apply_keyed(list, |(k, _)| k.clone())?.map(|(_, e)| e))
}
