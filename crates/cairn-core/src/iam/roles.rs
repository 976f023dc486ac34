//! Roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
//! UpdateAssumeRolePolicy, DeleteRole, Tag/Untag/ListRoleTags and the role permissions
//! boundary. Trust policies are validated as such and may name only principals that exist.

use cairn_policy::{PolicyKind, limits, non_whitespace_len};
use cairn_store::Connection;
use cairn_store::iam::{inline, policies, roles, tags, users};

use super::ids::{IdKind, new_id};
use super::principal_ids;
use super::users::{check_boundary, tag_entity};
use super::{Page, PageRequest, Tag, err, find_role, name_sort_key, path_matches, validate};
use crate::CallContext;
use crate::error::{ApiResult, ErrorKind};

/// Roles per account.
pub const ROLES_PER_ACCOUNT: i64 = 1000;

/// A role with its tags.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleInfo {
    /// The role.
    pub role: roles::Role,
    /// Its tags.
    pub tags: Vec<Tag>,
}

/// Validates a trust policy: grammar, size, and that every IAM user or role of this account
/// it names exists.
pub(crate) fn check_trust_policy(
    conn: &Connection,
    ctx: &CallContext,
    text: &str,
    field: &str,
) -> ApiResult<()> {
    let doc = validate::policy(text, PolicyKind::Trust, field)?;
    if non_whitespace_len(text) > limits::TRUST_POLICY {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!(
                "Cannot exceed quota for ACLSizePerRole: {}",
                limits::TRUST_POLICY
            ),
        ));
    }
    if let Some(p) = missing_principal(conn, ctx.account().as_str(), &doc)? {
        return Err(err(
            ErrorKind::MalformedPolicyDocument,
            format!("Invalid principal in policy: \"AWS\":\"{p}\""),
        ));
    }
    Ok(())
}

/// The first principal `doc` names that is no principal: an IAM user or role of `account`
/// that does not exist, or an IAM ARN of any account that names no principal kind (a group,
/// a managed policy, an instance profile: "You cannot identify a user group as a principal",
/// the IAM user guide). AWS refuses such resource policies: trust, bucket and key policies.
pub fn missing_principal(
    conn: &Connection,
    account: &str,
    doc: &cairn_policy::Document,
) -> ApiResult<Option<String>> {
    let ours = format!("arn:aws:iam::{account}:");
    for p in doc.principal_arns() {
        let kind = p
            .strip_prefix("arn:aws:iam::")
            .and_then(|r| r.split_once(':'))
            .map(|(_, resource)| resource.split('/').next().unwrap_or_default());
        if kind.is_some_and(|k| !matches!(k, "root" | "user" | "role")) {
            return Ok(Some(p.to_owned()));
        }
        let Some(rest) = p.strip_prefix(&ours) else {
            continue;
        };
        let exists = if let Some(r) = rest.strip_prefix("user") {
            entity_exists(
                r,
                |n| Ok(users::get_user(conn, account, n)?.map(|u| u.path)),
            )?
        } else if let Some(r) = rest.strip_prefix("role") {
            entity_exists(
                r,
                |n| Ok(roles::get_role(conn, account, n)?.map(|x| x.path)),
            )?
        } else {
            true
        };
        if !exists {
            return Ok(Some(p.to_owned()));
        }
    }
    Ok(None)
}

/// Whether `<path><name>` names an entity `lookup` finds with that path.
fn entity_exists(
    path_and_name: &str,
    lookup: impl Fn(&str) -> ApiResult<Option<String>>,
) -> ApiResult<bool> {
    let Some((path, name)) = path_and_name.rsplit_once('/') else {
        return Ok(false);
    };
    Ok(lookup(name)?.is_some_and(|stored| stored == format!("{path}/")))
}

/// The inputs of CreateRole.
#[derive(Clone, Debug, Default)]
pub struct CreateRole<'a> {
    /// RoleName.
    pub name: &'a str,
    /// AssumeRolePolicyDocument.
    pub trust_policy: &'a str,
    /// Path.
    pub path: Option<&'a str>,
    /// Description.
    pub description: Option<&'a str>,
    /// MaxSessionDuration.
    pub max_session: Option<i64>,
    /// PermissionsBoundary.
    pub boundary: Option<&'a str>,
    /// Tags.
    pub tags: &'a [Tag],
}

/// CreateRole.
pub fn create_role(
    conn: &Connection,
    ctx: &CallContext,
    input: &CreateRole<'_>,
) -> ApiResult<RoleInfo> {
    validate::name(input.name, "roleName", 64)?;
    if let Some(p) = input.path {
        validate::path(p, "path")?;
        // Reserved for service-linked roles, which only AWS makes (and Cairn does not): a
        // role there passes for one, and scanners leave such roles out.
        if p.starts_with("/aws-service-role/") {
            return Err(err(
                ErrorKind::InvalidInput,
                "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles",
            ));
        }
    }
    if let Some(d) = input.description {
        validate::role_description(d)?;
    }
    if let Some(m) = input.max_session {
        validate::range(m, "maxSessionDuration", 3600, 43200)?;
    }
    validate::tags(input.tags, 0, "TagsPerRole")?;
    check_trust_policy(conn, ctx, input.trust_policy, "assumeRolePolicyDocument")?;
    if let Some(b) = input.boundary {
        check_boundary(conn, b)?;
    }
    let account = ctx.account().as_str();
    if roles::get_role(conn, account, input.name)?.is_some() {
        return Err(err(
            ErrorKind::EntityAlreadyExists,
            format!("Role with name {} already exists.", input.name),
        ));
    }
    if roles::count_roles(conn, account)? >= ROLES_PER_ACCOUNT {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!("Cannot exceed quota for RolesPerAccount: {ROLES_PER_ACCOUNT}"),
        ));
    }
    let role = roles::Role {
        account: account.to_owned(),
        name: input.name.to_owned(),
        role_id: new_id(IdKind::Role, ctx.account()),
        path: input.path.unwrap_or("/").to_owned(),
        created: ctx.now.floor(),
        trust_policy: principal_ids::bind(conn, account, input.trust_policy)?,
        description: input.description.map(str::to_owned),
        max_session: input.max_session.unwrap_or(3600),
        boundary: input.boundary.map(str::to_owned),
        last_used: None,
    };
    roles::create_role(conn, &role)?;
    if !input.tags.is_empty() {
        tags::set_tags(conn, &role.role_id, input.tags)?;
    }
    Ok(RoleInfo {
        role: rendered(conn, role)?,
        tags: input.tags.to_vec(),
    })
}

/// `role` with its trust policy as Get calls show it ([`principal_ids::render`]).
pub(crate) fn rendered(conn: &Connection, mut role: roles::Role) -> ApiResult<roles::Role> {
    role.trust_policy = principal_ids::render(conn, &role.trust_policy)?;
    Ok(role)
}

/// GetRole.
pub fn get_role(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<RoleInfo> {
    let role = rendered(conn, find_role(conn, ctx, name)?)?;
    let t = tags::tags(conn, &role.role_id)?;
    Ok(RoleInfo { role, tags: t })
}

/// ListRoles.
pub fn list_roles(
    conn: &Connection,
    ctx: &CallContext,
    path_prefix: Option<&str>,
    page: &PageRequest,
) -> ApiResult<Page<roles::Role>> {
    if let Some(p) = path_prefix {
        validate::path_prefix(p, "pathPrefix")?;
    }
    let all: Vec<roles::Role> = roles::list_roles(conn, ctx.account().as_str())?
        .into_iter()
        .filter(|r| path_matches(&r.path, path_prefix))
        .map(|r| rendered(conn, r))
        .collect::<ApiResult<_>>()?;
    page.apply(all, |r| name_sort_key(&r.name))
}

/// UpdateRole (description and/or maximum session duration).
pub fn update_role(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    description: Option<&str>,
    max_session: Option<i64>,
) -> ApiResult<()> {
    let role = find_role(conn, ctx, name)?;
    if let Some(d) = description {
        validate::role_description(d)?;
    }
    if let Some(m) = max_session {
        validate::range(m, "maxSessionDuration", 3600, 43200)?;
    }
    roles::update_role(conn, &role.role_id, description, max_session)?;
    Ok(())
}

/// UpdateRoleDescription: returns the updated role.
pub fn update_role_description(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    description: &str,
) -> ApiResult<RoleInfo> {
    update_role(conn, ctx, name, Some(description), None)?;
    get_role(conn, ctx, name)
}

/// UpdateAssumeRolePolicy.
pub fn update_assume_role_policy(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    document: &str,
) -> ApiResult<()> {
    let role = find_role(conn, ctx, name)?;
    check_trust_policy(conn, ctx, document, "policyDocument")?;
    let bound = principal_ids::bind(conn, ctx.account().as_str(), document)?;
    roles::set_trust_policy(conn, &role.role_id, &bound)?;
    Ok(())
}

/// DeleteRole: only a role without inline or attached policies. Sessions already issued keep
/// authenticating until they expire, with no permissions.
pub fn delete_role(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<()> {
    let role = find_role(conn, ctx, name)?;
    if !inline::list_inline(conn, &role.role_id)?.is_empty() {
        return Err(err(
            ErrorKind::DeleteConflict,
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if !policies::attached(conn, &role.role_id)?.is_empty() {
        return Err(err(
            ErrorKind::DeleteConflict,
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    roles::delete_role(conn, &role.role_id)?;
    Ok(())
}

/// TagRole.
pub fn tag_role(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    new_tags: &[Tag],
) -> ApiResult<()> {
    let role = find_role(conn, ctx, name)?;
    tag_entity(conn, &role.role_id, new_tags, "TagsPerRole")
}

/// UntagRole.
pub fn untag_role(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    keys: &[String],
) -> ApiResult<()> {
    let role = find_role(conn, ctx, name)?;
    validate::tag_keys(keys)?;
    tags::remove_tags(conn, &role.role_id, keys)?;
    Ok(())
}

/// ListRoleTags.
pub fn list_role_tags(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    page: &PageRequest,
) -> ApiResult<Page<Tag>> {
    let role = find_role(conn, ctx, name)?;
    super::page::tag_page(conn, &role.role_id, page)
}

/// PutRolePermissionsBoundary.
pub fn put_role_boundary(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    arn: &str,
) -> ApiResult<()> {
    let role = find_role(conn, ctx, name)?;
    check_boundary(conn, arn)?;
    roles::set_role_boundary(conn, &role.role_id, Some(arn))?;
    Ok(())
}

/// DeleteRolePermissionsBoundary.
pub fn delete_role_boundary(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<()> {
    let role = find_role(conn, ctx, name)?;
    roles::set_role_boundary(conn, &role.role_id, None)?;
    Ok(())
}
