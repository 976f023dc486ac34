//! Users: CreateUser, GetUser, ListUsers, DeleteUser, Tag/Untag/ListUserTags and the user
//! permissions boundary.

use cairn_model::Principal;
use cairn_store::Connection;
use cairn_store::iam::{groups, inline, keys, policies, tags, users};

use super::ids::{IdKind, new_id};
use super::{
    EntityKind, Page, PageRequest, Tag, err, find_user, not_found, path_matches, validate,
};
use crate::CallContext;
use crate::error::{ApiResult, ErrorKind};

/// Users per account.
pub const USERS_PER_ACCOUNT: i64 = 5000;

/// A user with its tags.
#[derive(Clone, Debug, PartialEq)]
pub struct UserInfo {
    /// The user.
    pub user: users::User,
    /// Its tags.
    pub tags: Vec<Tag>,
}

/// Checks that `arn` names a managed policy that can be a permissions boundary.
pub(crate) fn check_boundary(conn: &Connection, arn: &str) -> ApiResult<()> {
    validate::length(arn, "permissionsBoundary", 20, 2048)?;
    let exists = cairn_policy::managed::get(arn).is_some_and(|p| p.attachable)
        || policies::get_policy(conn, arn)?.is_some();
    if exists {
        Ok(())
    } else {
        Err(err(
            ErrorKind::NoSuchEntity,
            format!("Scope ARN: {arn} does not exist or is not attachable."),
        ))
    }
}

/// CreateUser.
pub fn create_user(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    path: Option<&str>,
    boundary: Option<&str>,
    new_tags: &[Tag],
) -> ApiResult<UserInfo> {
    validate::name(name, "userName", 64)?;
    if let Some(p) = path {
        validate::path(p, "path")?;
    }
    validate::tags(new_tags, 0, "TagsPerUser")?;
    if let Some(b) = boundary {
        check_boundary(conn, b)?;
    }
    let account = ctx.account().as_str();
    if users::get_user(conn, account, name)?.is_some() {
        return Err(err(
            ErrorKind::EntityAlreadyExists,
            format!("User with name {name} already exists."),
        ));
    }
    if users::count_users(conn, account)? >= USERS_PER_ACCOUNT {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!("Cannot exceed quota for UsersPerAccount: {USERS_PER_ACCOUNT}"),
        ));
    }
    let user = users::User {
        account: account.to_owned(),
        name: name.to_owned(),
        user_id: new_id(IdKind::User, ctx.account()),
        path: path.unwrap_or("/").to_owned(),
        created: ctx.now.floor(),
        boundary: boundary.map(str::to_owned),
    };
    users::create_user(conn, &user)?;
    if !new_tags.is_empty() {
        tags::set_tags(conn, &user.user_id, new_tags)?;
    }
    Ok(UserInfo {
        user,
        tags: new_tags.to_vec(),
    })
}

/// What GetUser answers.
#[derive(Clone, Debug, PartialEq)]
pub enum GetUserResult {
    /// An IAM user.
    User(UserInfo),
    /// Root, calling without a user name: its account id and root ARN.
    Root {
        /// Account.
        account: String,
        /// When the root user's credentials were set up (the credential report's
        /// `user_creation_time` for `<root_account>`).
        created: f64,
    },
}

/// GetUser: the named user, or the caller when no name is given.
pub fn get_user(
    conn: &Connection,
    ctx: &CallContext,
    name: Option<&str>,
) -> ApiResult<GetUserResult> {
    let user = match (name, &ctx.principal) {
        (Some(n), _) => find_user(conn, ctx, n)?,
        (
            None,
            Principal::IamUser {
                user_id, user_name, ..
            },
        ) => users::get_user_by_id(conn, user_id)?
            .ok_or_else(|| not_found(EntityKind::User, user_name))?,
        (None, Principal::Root { account, .. }) => {
            let created = cairn_store::iam::report::root_key(conn)?.map_or(ctx.now, |(_, t)| t);
            return Ok(GetUserResult::Root {
                account: account.to_string(),
                created: created.floor(),
            });
        }
        (
            None,
            Principal::AssumedRole { .. }
            | Principal::Service { .. }
            | Principal::Anonymous { .. }
            | Principal::Federated { .. },
        ) => {
            return Err(err(
                ErrorKind::IamValidation,
                "Must specify userName when calling with non-User credentials",
            ));
        }
    };
    let t = tags::tags(conn, &user.user_id)?;
    Ok(GetUserResult::User(UserInfo { user, tags: t }))
}

/// ListUsers (no tags in list results).
pub fn list_users(
    conn: &Connection,
    ctx: &CallContext,
    path_prefix: Option<&str>,
    page: &PageRequest,
) -> ApiResult<Page<users::User>> {
    if let Some(p) = path_prefix {
        validate::path_prefix(p, "pathPrefix")?;
    }
    let all: Vec<users::User> = users::list_users(conn, ctx.account().as_str())?
        .into_iter()
        .filter(|u| path_matches(&u.path, path_prefix))
        .collect();
    page.apply(all, |u| super::name_sort_key(&u.name))
}

/// DeleteUser: only a user with no keys, inline or attached policies and groups.
pub fn delete_user(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<()> {
    let user = find_user(conn, ctx, name)?;
    let conflict = |what: &str| {
        Err(err(
            ErrorKind::DeleteConflict,
            format!("Cannot delete entity, must {what} first."),
        ))
    };
    if !keys::list_access_keys(conn, &user.user_id)?.is_empty() {
        return conflict("delete access keys");
    }
    if !inline::list_inline(conn, &user.user_id)?.is_empty() {
        return conflict("delete policies");
    }
    if !policies::attached(conn, &user.user_id)?.is_empty() {
        return conflict("detach all policies");
    }
    if !groups::groups_for_user(conn, &user.user_id)?.is_empty() {
        return conflict("remove users from group");
    }
    users::delete_user(conn, &user.user_id)?;
    Ok(())
}

/// TagUser.
pub fn tag_user(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    new_tags: &[Tag],
) -> ApiResult<()> {
    let user = find_user(conn, ctx, name)?;
    tag_entity(conn, &user.user_id, new_tags, "TagsPerUser")
}

/// UntagUser.
pub fn untag_user(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    keys: &[String],
) -> ApiResult<()> {
    let user = find_user(conn, ctx, name)?;
    validate::tag_keys(keys)?;
    tags::remove_tags(conn, &user.user_id, keys)?;
    Ok(())
}

/// ListUserTags.
pub fn list_user_tags(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    page: &PageRequest,
) -> ApiResult<Page<Tag>> {
    let user = find_user(conn, ctx, name)?;
    super::page::tag_page(conn, &user.user_id, page)
}

/// Adds tags to an entity after checking the request and the quota.
pub(crate) fn tag_entity(
    conn: &Connection,
    owner_id: &str,
    new_tags: &[Tag],
    quota: &str,
) -> ApiResult<()> {
    let existing = tags::tags(conn, owner_id)?;
    let kept = existing
        .iter()
        .filter(|(k, _)| {
            !new_tags
                .iter()
                .any(|(n, _)| n.to_lowercase() == k.to_lowercase())
        })
        .count();
    validate::tags(new_tags, kept, quota)?;
    tags::set_tags(conn, owner_id, new_tags)?;
    Ok(())
}

/// PutUserPermissionsBoundary.
pub fn put_user_boundary(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    arn: &str,
) -> ApiResult<()> {
    let user = find_user(conn, ctx, name)?;
    check_boundary(conn, arn)?;
    users::set_user_boundary(conn, &user.user_id, Some(arn))?;
    Ok(())
}

/// DeleteUserPermissionsBoundary.
pub fn delete_user_boundary(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<()> {
    let user = find_user(conn, ctx, name)?;
    users::set_user_boundary(conn, &user.user_id, None)?;
    Ok(())
}

/// UpdateUser: a new name and/or path for a user, who keeps its id, keys, groups and
/// policies (IAM's "Renaming an IAM user").
pub fn update_user(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    new_name: Option<&str>,
    new_path: Option<&str>,
) -> ApiResult<()> {
    let user = find_user(conn, ctx, name)?;
    validate::rename(new_name, ("newUserName", 64), new_path)?;
    let target = new_name.unwrap_or(&user.name);
    if let Some(other) = users::get_user(conn, ctx.account().as_str(), target)?
        && other.user_id != user.user_id
    {
        return Err(err(
            ErrorKind::EntityAlreadyExists,
            format!("User with name {target} already exists."),
        ));
    }
    users::rename_user(conn, &user.user_id, target, new_path.unwrap_or(&user.path))?;
    Ok(())
}
