//! Inline policies of users, groups and roles: Put (create or replace, within the entity's
//! aggregate size quota), Get, Delete, List.

use cairn_policy::{PolicyKind, limits, non_whitespace_len};
use cairn_store::Connection;
use cairn_store::iam::inline;

use super::{EntityKind, Owner, Page, PageRequest, err, find_owner, validate};
use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

fn aggregate_limit(kind: EntityKind) -> usize {
    match kind {
        EntityKind::User => limits::USER_INLINE_AGGREGATE,
        EntityKind::Group => limits::GROUP_INLINE_AGGREGATE,
        EntityKind::Role => limits::ROLE_INLINE_AGGREGATE,
    }
}

fn not_found(kind: EntityKind, policy: &str) -> ApiError {
    err(
        ErrorKind::NoSuchEntity,
        format!(
            "The {} policy with name {policy} cannot be found.",
            kind.as_str()
        ),
    )
}

/// Put{User,Group,Role}Policy.
pub fn put_inline(
    conn: &Connection,
    ctx: &CallContext,
    kind: EntityKind,
    name: &str,
    policy_name: &str,
    document: &str,
) -> ApiResult<()> {
    validate::name(policy_name, "policyName", 128)?;
    validate::policy(document, PolicyKind::Identity, "policyDocument")?;
    let owner = find_owner(conn, ctx, kind, name)?;
    let others: usize = inline::list_inline(conn, &owner.id)?
        .iter()
        .filter(|(n, _)| n != policy_name)
        .map(|(_, d)| non_whitespace_len(d))
        .sum();
    let limit = aggregate_limit(kind);
    if others + non_whitespace_len(document) > limit {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!(
                "Maximum policy size of {limit} bytes exceeded for {} {}",
                kind.as_str(),
                owner.name
            ),
        ));
    }
    inline::put_inline(conn, kind.as_str(), &owner.id, policy_name, document)?;
    Ok(())
}

/// Get{User,Group,Role}Policy: the owner and the document.
pub fn get_inline(
    conn: &Connection,
    ctx: &CallContext,
    kind: EntityKind,
    name: &str,
    policy_name: &str,
) -> ApiResult<(Owner, String)> {
    validate::name(policy_name, "policyName", 128)?;
    let owner = find_owner(conn, ctx, kind, name)?;
    let doc = inline::get_inline(conn, &owner.id, policy_name)?
        .ok_or_else(|| not_found(kind, policy_name))?;
    Ok((owner, doc))
}

/// Delete{User,Group,Role}Policy.
pub fn delete_inline(
    conn: &Connection,
    ctx: &CallContext,
    kind: EntityKind,
    name: &str,
    policy_name: &str,
) -> ApiResult<()> {
    validate::name(policy_name, "policyName", 128)?;
    let owner = find_owner(conn, ctx, kind, name)?;
    if !inline::delete_inline(conn, &owner.id, policy_name)? {
        return Err(not_found(kind, policy_name));
    }
    Ok(())
}

/// List{User,Group,Role}Policies: inline policy names.
pub fn list_inline(
    conn: &Connection,
    ctx: &CallContext,
    kind: EntityKind,
    name: &str,
    page: &PageRequest,
) -> ApiResult<Page<String>> {
    let owner = find_owner(conn, ctx, kind, name)?;
    let names: Vec<String> = inline::list_inline(conn, &owner.id)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    page.apply(names, |n| n.clone())
}
