//! Managed policies: customer managed ones with versions (at most 5, one default) and the AWS
//! managed catalogue of `cairn-policy` (read-only, `arn:aws:iam::aws:policy/…`).

use cairn_policy::{PolicyKind, limits, non_whitespace_len};
use cairn_store::Connection;
use cairn_store::iam::{policies, tags};

use super::ids::{IdKind, new_id};
use super::users::tag_entity;
use super::{Page, PageRequest, Tag, err, name_sort_key, validate};
use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// Customer managed policies per account.
pub const POLICIES_PER_ACCOUNT: i64 = 1500;
/// Versions per managed policy.
pub const VERSIONS_PER_POLICY: usize = 5;

/// A managed policy as GetPolicy/ListPolicies show it.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyInfo {
    /// Name.
    pub name: String,
    /// `ANPA…`.
    pub policy_id: String,
    /// ARN.
    pub arn: String,
    /// Path.
    pub path: String,
    /// Default version id.
    pub default_version: String,
    /// Entities it is attached to.
    pub attachment_count: i64,
    /// Users and roles using it as boundary.
    pub boundary_count: i64,
    /// Whether it can be attached.
    pub attachable: bool,
    /// Description.
    pub description: Option<String>,
    /// Creation time, epoch seconds.
    pub created: f64,
    /// Last default-version change.
    pub updated: f64,
    /// Tags (customer policies only).
    pub tags: Vec<Tag>,
    /// Whether it is an AWS managed policy.
    pub aws_managed: bool,
}

/// One version as GetPolicyVersion/ListPolicyVersions show it.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionInfo {
    /// `v1`…
    pub version_id: String,
    /// The document as submitted.
    pub document: String,
    /// Whether it is the default.
    pub is_default: bool,
    /// Creation time.
    pub created: f64,
}

fn not_found(arn: &str) -> ApiError {
    err(
        ErrorKind::NoSuchEntity,
        format!("Policy {arn} was not found."),
    )
}

fn unmodifiable(arn: &str) -> ApiError {
    err(
        ErrorKind::UnmodifiableEntity,
        format!("Policy {arn} is an AWS managed policy and cannot be modified."),
    )
}

fn aws_info(conn: &Connection, p: &cairn_policy::managed::ManagedPolicy) -> ApiResult<PolicyInfo> {
    Ok(PolicyInfo {
        name: p.name.to_owned(),
        policy_id: p.policy_id(),
        arn: p.arn.to_owned(),
        path: p.path.to_owned(),
        default_version: p.default_version_id.to_owned(),
        attachment_count: policies::attachment_count(conn, p.arn)?,
        boundary_count: policies::boundary_count(conn, p.arn)?,
        attachable: p.attachable,
        description: Some(p.description.to_owned()),
        created: p.created().timestamp() as f64,
        updated: p.updated().timestamp() as f64,
        tags: Vec::new(),
        aws_managed: true,
    })
}

fn customer_info(
    conn: &Connection,
    p: policies::ManagedPolicy,
    with_tags: bool,
) -> ApiResult<PolicyInfo> {
    Ok(PolicyInfo {
        attachment_count: policies::attachment_count(conn, &p.arn)?,
        boundary_count: policies::boundary_count(conn, &p.arn)?,
        tags: if with_tags {
            tags::tags(conn, &p.policy_id)?
        } else {
            Vec::new()
        },
        name: p.name,
        policy_id: p.policy_id,
        arn: p.arn,
        path: p.path,
        default_version: p.default_version,
        attachable: true,
        description: p.description,
        created: p.created,
        updated: p.updated,
        aws_managed: false,
    })
}

/// A customer managed policy of this account by ARN, or NoSuchEntity; AWS managed ARNs
/// are refused as unmodifiable.
fn customer(conn: &Connection, ctx: &CallContext, arn: &str) -> ApiResult<policies::ManagedPolicy> {
    validate::length(arn, "policyArn", 20, 2048)?;
    if arn.starts_with("arn:aws:iam::aws:policy/") {
        return Err(if cairn_policy::managed::get(arn).is_some() {
            unmodifiable(arn)
        } else {
            not_found(arn)
        });
    }
    policies::get_policy(conn, arn)?
        .filter(|p| p.account == ctx.account().as_str())
        .ok_or_else(|| not_found(arn))
}

fn check_document(text: &str, field: &str) -> ApiResult<()> {
    validate::policy(text, PolicyKind::Identity, field)?;
    if non_whitespace_len(text) > limits::MANAGED_POLICY {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!(
                "Cannot exceed quota for PolicySize: {}",
                limits::MANAGED_POLICY
            ),
        ));
    }
    Ok(())
}

/// CreatePolicy.
pub fn create_policy(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    document: &str,
    path: Option<&str>,
    description: Option<&str>,
    new_tags: &[Tag],
) -> ApiResult<PolicyInfo> {
    validate::name(name, "policyName", 128)?;
    if let Some(p) = path {
        validate::policy_path(p, "path")?;
    }
    if let Some(d) = description {
        validate::description(d, "description", 1000)?;
    }
    validate::tags(new_tags, 0, "TagsPerPolicy")?;
    check_document(document, "policyDocument")?;
    let account = ctx.account().as_str();
    if policies::list_policies(conn, account)?
        .iter()
        .any(|p| name_sort_key(&p.name) == name_sort_key(name))
    {
        return Err(err(
            ErrorKind::EntityAlreadyExists,
            format!("A policy called {name} already exists. Duplicate names are not allowed."),
        ));
    }
    if policies::count_policies(conn, account)? >= POLICIES_PER_ACCOUNT {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!("Cannot exceed quota for PoliciesPerAccount: {POLICIES_PER_ACCOUNT}"),
        ));
    }
    let path = path.unwrap_or("/");
    let p = policies::ManagedPolicy {
        account: account.to_owned(),
        name: name.to_owned(),
        policy_id: new_id(IdKind::Policy, ctx.account()),
        path: path.to_owned(),
        arn: super::arn(account, "policy", path, name),
        description: description.map(str::to_owned),
        created: ctx.now.floor(),
        updated: ctx.now.floor(),
        default_version: "v1".to_owned(),
    };
    policies::create_policy(conn, &p, document)?;
    if !new_tags.is_empty() {
        tags::set_tags(conn, &p.policy_id, new_tags)?;
    }
    customer_info(conn, p, true)
}

/// GetPolicy (AWS managed ARNs resolve from the catalogue).
pub fn get_policy(conn: &Connection, ctx: &CallContext, arn: &str) -> ApiResult<PolicyInfo> {
    validate::length(arn, "policyArn", 20, 2048)?;
    if let Some(p) = cairn_policy::managed::get(arn) {
        return aws_info(conn, p);
    }
    let p = policies::get_policy(conn, arn)?
        .filter(|p| p.account == ctx.account().as_str())
        .ok_or_else(|| not_found(arn))?;
    customer_info(conn, p, true)
}

/// ListPolicies filters.
#[derive(Clone, Debug, Default)]
pub struct ListPolicies<'a> {
    /// `All` (default), `AWS` or `Local`.
    pub scope: Option<&'a str>,
    /// Only policies attached to something.
    pub only_attached: bool,
    /// Path prefix.
    pub path_prefix: Option<&'a str>,
    /// `PermissionsPolicy` or `PermissionsBoundary`.
    pub usage: Option<&'a str>,
}

/// ListPolicies (without descriptions or tags).
pub fn list_policies(
    conn: &Connection,
    ctx: &CallContext,
    filter: &ListPolicies<'_>,
    page: &PageRequest,
) -> ApiResult<Page<PolicyInfo>> {
    let scope = filter.scope.unwrap_or("All");
    if !matches!(scope, "All" | "AWS" | "Local") {
        return Err(validate::violation(
            scope,
            "scope",
            "Member must satisfy enum value set: [All, AWS, Local]",
        ));
    }
    if let Some(u) = filter.usage
        && !matches!(u, "PermissionsPolicy" | "PermissionsBoundary")
    {
        return Err(validate::violation(
            u,
            "policyUsageFilter",
            "Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]",
        ));
    }
    if let Some(p) = filter.path_prefix {
        validate::policy_path(p, "pathPrefix")?;
    }
    let mut all = Vec::new();
    if scope != "Local" {
        for p in cairn_policy::managed::all() {
            let info = aws_info(conn, p)?;
            if info.attachable || info.attachment_count > 0 {
                all.push(PolicyInfo {
                    description: None,
                    ..info
                });
            }
        }
    }
    if scope != "AWS" {
        for p in policies::list_policies(conn, ctx.account().as_str())? {
            let mut info = customer_info(conn, p, false)?;
            info.description = None;
            all.push(info);
        }
    }
    all.retain(|p| {
        let used = match filter.usage {
            Some("PermissionsPolicy") => p.attachment_count > 0,
            Some("PermissionsBoundary") => p.boundary_count > 0,
            _ => p.attachment_count > 0 || p.boundary_count > 0,
        };
        (!filter.only_attached || used) && filter.path_prefix.is_none_or(|x| p.path.starts_with(x))
    });
    // The lower-cased name, then AWS managed before local (a local policy may take an AWS
    // managed one's name): short enough that the marker stays within IAM's 320 characters
    // whatever the policy's path.
    let key = |p: &PolicyInfo| {
        let local = if p.arn.starts_with("arn:aws:iam::aws:") {
            "0"
        } else {
            "1"
        };
        format!("{}\u{1}{local}", name_sort_key(&p.name))
    };
    all.sort_by_key(key);
    page.apply(all, key)
}

/// DeletePolicy: only when attached nowhere (nor a boundary) and left with its default
/// version alone.
pub fn delete_policy(conn: &Connection, ctx: &CallContext, arn: &str) -> ApiResult<()> {
    let p = customer(conn, ctx, arn)?;
    if policies::attachment_count(conn, arn)? > 0 || policies::boundary_count(conn, arn)? > 0 {
        return Err(err(
            ErrorKind::DeleteConflict,
            "Cannot delete a policy attached to entities.",
        ));
    }
    if policies::list_versions(conn, &p.policy_id)?.len() > 1 {
        return Err(err(
            ErrorKind::DeleteConflict,
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
        ));
    }
    policies::delete_policy(conn, &p.policy_id)?;
    Ok(())
}

fn check_version_id(v: &str) -> ApiResult<()> {
    let ok = v.strip_prefix('v').is_some_and(|rest| {
        let (num, suffix) = rest.split_once('.').unwrap_or((rest, ""));
        !num.is_empty()
            && !num.starts_with('0')
            && num.bytes().all(|b| b.is_ascii_digit())
            && suffix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if ok {
        Ok(())
    } else {
        Err(validate::violation(
            v,
            "versionId",
            r"Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?",
        ))
    }
}

fn version_not_found(arn: &str, v: &str) -> ApiError {
    err(
        ErrorKind::NoSuchEntity,
        format!("Policy {arn} version {v} does not exist or is not attachable."),
    )
}

/// CreatePolicyVersion.
pub fn create_policy_version(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    document: &str,
    set_as_default: bool,
) -> ApiResult<VersionInfo> {
    let p = customer(conn, ctx, arn)?;
    check_document(document, "policyDocument")?;
    if policies::list_versions(conn, &p.policy_id)?.len() >= VERSIONS_PER_POLICY {
        return Err(err(
            ErrorKind::LimitExceeded,
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
        ));
    }
    let version_id = policies::add_version(conn, &p.policy_id, document, ctx.now.floor())?;
    if set_as_default {
        policies::set_default_version(conn, &p.policy_id, &version_id, ctx.now.floor())?;
    }
    Ok(VersionInfo {
        version_id,
        document: document.to_owned(),
        is_default: set_as_default,
        created: ctx.now.floor(),
    })
}

/// GetPolicyVersion.
pub fn get_policy_version(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    version_id: &str,
) -> ApiResult<VersionInfo> {
    check_version_id(version_id)?;
    list_versions(conn, ctx, arn)?
        .into_iter()
        .find(|v| v.version_id == version_id)
        .ok_or_else(|| version_not_found(arn, version_id))
}

/// Every version of a policy, newest first.
pub(crate) fn list_versions(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
) -> ApiResult<Vec<VersionInfo>> {
    validate::length(arn, "policyArn", 20, 2048)?;
    if let Some(p) = cairn_policy::managed::get(arn) {
        return Ok(vec![VersionInfo {
            version_id: p.default_version_id.to_owned(),
            document: p.document.to_owned(),
            is_default: true,
            created: p.updated().timestamp() as f64,
        }]);
    }
    let p = policies::get_policy(conn, arn)?
        .filter(|p| p.account == ctx.account().as_str())
        .ok_or_else(|| not_found(arn))?;
    Ok(policies::list_versions(conn, &p.policy_id)?
        .into_iter()
        .map(|v| VersionInfo {
            is_default: v.version_id == p.default_version,
            version_id: v.version_id,
            document: v.document,
            created: v.created,
        })
        .collect())
}

/// ListPolicyVersions.
pub fn list_policy_versions(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    page: &PageRequest,
) -> ApiResult<Page<VersionInfo>> {
    // Newest first: the key counts down as version numbers go up.
    page.apply(list_versions(conn, ctx, arn)?, |v| {
        let n: i64 = v.version_id.trim_start_matches('v').parse().unwrap_or(0);
        super::page::seq_key(i64::MAX - n)
    })
}

/// DeletePolicyVersion (never the default).
pub fn delete_policy_version(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    version_id: &str,
) -> ApiResult<()> {
    check_version_id(version_id)?;
    let p = customer(conn, ctx, arn)?;
    if policies::get_version(conn, &p.policy_id, version_id)?.is_none() {
        return Err(version_not_found(arn, version_id));
    }
    if p.default_version == version_id {
        return Err(err(
            ErrorKind::DeleteConflict,
            "Cannot delete the default version of a policy.",
        ));
    }
    policies::delete_version(conn, &p.policy_id, version_id)?;
    Ok(())
}

/// SetDefaultPolicyVersion.
pub fn set_default_policy_version(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    version_id: &str,
) -> ApiResult<()> {
    check_version_id(version_id)?;
    let p = customer(conn, ctx, arn)?;
    if policies::get_version(conn, &p.policy_id, version_id)?.is_none() {
        return Err(version_not_found(arn, version_id));
    }
    policies::set_default_version(conn, &p.policy_id, version_id, ctx.now.floor())?;
    Ok(())
}

/// TagPolicy.
pub fn tag_policy(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    new_tags: &[Tag],
) -> ApiResult<()> {
    let p = customer(conn, ctx, arn)?;
    tag_entity(conn, &p.policy_id, new_tags, "TagsPerPolicy")
}

/// UntagPolicy.
pub fn untag_policy(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    keys: &[String],
) -> ApiResult<()> {
    let p = customer(conn, ctx, arn)?;
    validate::tag_keys(keys)?;
    tags::remove_tags(conn, &p.policy_id, keys)?;
    Ok(())
}

/// ListPolicyTags.
pub fn list_policy_tags(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    page: &PageRequest,
) -> ApiResult<Page<Tag>> {
    let p = customer(conn, ctx, arn)?;
    super::page::tag_page(conn, &p.policy_id, page)
}
