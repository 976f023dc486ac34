//! Groups: CreateGroup, GetGroup (with members), ListGroups, ListGroupsForUser,
//! AddUserToGroup (at most 10 groups per user), RemoveUserFromGroup, DeleteGroup.

use cairn_store::Connection;
use cairn_store::iam::{groups, inline, policies, users};

use super::ids::{IdKind, new_id};
use super::{Page, PageRequest, err, find_group, find_user, name_sort_key, path_matches, validate};
use crate::CallContext;
use crate::error::{ApiResult, ErrorKind};

/// Groups per account.
pub const GROUPS_PER_ACCOUNT: i64 = 300;
/// Groups a user may belong to.
pub const GROUPS_PER_USER: usize = 10;

/// CreateGroup.
pub fn create_group(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    path: Option<&str>,
) -> ApiResult<groups::Group> {
    validate::name(name, "groupName", 128)?;
    if let Some(p) = path {
        validate::path(p, "path")?;
    }
    let account = ctx.account().as_str();
    if groups::get_group(conn, account, name)?.is_some() {
        return Err(err(
            ErrorKind::EntityAlreadyExists,
            format!("Group with name {name} already exists."),
        ));
    }
    if groups::count_groups(conn, account)? >= GROUPS_PER_ACCOUNT {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!("Cannot exceed quota for GroupsPerAccount: {GROUPS_PER_ACCOUNT}"),
        ));
    }
    let group = groups::Group {
        account: account.to_owned(),
        name: name.to_owned(),
        group_id: new_id(IdKind::Group, ctx.account()),
        path: path.unwrap_or("/").to_owned(),
        created: ctx.now.floor(),
    };
    groups::create_group(conn, &group)?;
    Ok(group)
}

/// GetGroup: the group and a page of its members.
pub fn get_group(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    page: &PageRequest,
) -> ApiResult<(groups::Group, Page<users::User>)> {
    let group = find_group(conn, ctx, name)?;
    let members = page.apply(groups::members(conn, &group.group_id)?, |u| {
        name_sort_key(&u.name)
    })?;
    Ok((group, members))
}

/// ListGroups.
pub fn list_groups(
    conn: &Connection,
    ctx: &CallContext,
    path_prefix: Option<&str>,
    page: &PageRequest,
) -> ApiResult<Page<groups::Group>> {
    if let Some(p) = path_prefix {
        validate::path_prefix(p, "pathPrefix")?;
    }
    let all: Vec<groups::Group> = groups::list_groups(conn, ctx.account().as_str())?
        .into_iter()
        .filter(|g| path_matches(&g.path, path_prefix))
        .collect();
    page.apply(all, |g| name_sort_key(&g.name))
}

/// ListGroupsForUser.
pub fn list_groups_for_user(
    conn: &Connection,
    ctx: &CallContext,
    user_name: &str,
    page: &PageRequest,
) -> ApiResult<Page<groups::Group>> {
    let user = find_user(conn, ctx, user_name)?;
    let list = groups::groups_for_user_with_seq(conn, &user.user_id)?;
    Ok(page
        .apply(list, |(seq, _)| super::page::seq_key(*seq))?
        .map(|(_, g)| g))
}

/// AddUserToGroup (adding twice is a no-op).
pub fn add_user_to_group(
    conn: &Connection,
    ctx: &CallContext,
    group: &str,
    user: &str,
) -> ApiResult<()> {
    let g = find_group(conn, ctx, group)?;
    let u = find_user(conn, ctx, user)?;
    let current = groups::groups_for_user(conn, &u.user_id)?;
    if current.iter().any(|x| x.group_id == g.group_id) {
        return Ok(());
    }
    if current.len() >= GROUPS_PER_USER {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!("Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"),
        ));
    }
    groups::add_member(conn, &g.group_id, &u.user_id)?;
    Ok(())
}

/// RemoveUserFromGroup.
pub fn remove_user_from_group(
    conn: &Connection,
    ctx: &CallContext,
    group: &str,
    user: &str,
) -> ApiResult<()> {
    let g = find_group(conn, ctx, group)?;
    let u = find_user(conn, ctx, user)?;
    if !groups::remove_member(conn, &g.group_id, &u.user_id)? {
        return Err(err(
            ErrorKind::NoSuchEntity,
            format!(
                "The user with name {} cannot be found in group {}.",
                u.name, g.name
            ),
        ));
    }
    Ok(())
}

/// DeleteGroup: only an empty group without policies.
pub fn delete_group(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<()> {
    let g = find_group(conn, ctx, name)?;
    let conflict = |what: &str| {
        Err(err(
            ErrorKind::DeleteConflict,
            format!("Cannot delete entity, must {what} first."),
        ))
    };
    if !groups::members(conn, &g.group_id)?.is_empty() {
        return conflict("remove users from group");
    }
    if !inline::list_inline(conn, &g.group_id)?.is_empty() {
        return conflict("delete policies");
    }
    if !policies::attached(conn, &g.group_id)?.is_empty() {
        return conflict("detach all policies");
    }
    groups::delete_group(conn, &g.group_id)?;
    Ok(())
}

/// UpdateGroup: a new name and/or path for a group, which keeps its id, members and
/// policies.
pub fn update_group(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    new_name: Option<&str>,
    new_path: Option<&str>,
) -> ApiResult<()> {
    let group = find_group(conn, ctx, name)?;
    validate::rename(new_name, ("newGroupName", 128), new_path)?;
    let target = new_name.unwrap_or(&group.name);
    if let Some(other) = groups::get_group(conn, ctx.account().as_str(), target)?
        && other.group_id != group.group_id
    {
        return Err(err(
            ErrorKind::EntityAlreadyExists,
            format!("Group with name {target} already exists."),
        ));
    }
    groups::rename_group(
        conn,
        &group.group_id,
        target,
        new_path.unwrap_or(&group.path),
    )?;
    Ok(())
}
