//! The condition keys an IAM request carries (Service Authorization Reference, IAM):
//! `iam:PolicyARN` (the policy an Attach/Detach names), `iam:PermissionsBoundary` (the
//! boundary a Create or Put…PermissionsBoundary sets), `aws:RequestTag/<key>` and
//! `aws:TagKeys` (tags a request adds or removes), and `iam:ResourceTag/<key>` with
//! `aws:ResourceTag/<key>` (the tags of the user or role the request acts on). Without them a
//! policy that tests them decides as if they were absent: a Deny on them would never apply.

use cairn_core::authz::Permission;
use cairn_core::error::ApiResult;
use cairn_store::Connection;

use super::input::Input;

/// `p` with the keys request `input` sets, for a call on `resource` (an IAM ARN or `*`).
pub fn with_request_keys(
    conn: &Connection,
    mut p: Permission,
    input: &Input,
    resource: &str,
) -> ApiResult<Permission> {
    if let Some(arn) = input.opt("PolicyArn") {
        p = p.with("iam:PolicyARN", arn);
    }
    if let Some(arn) = input.opt("PermissionsBoundary") {
        p = p.with("iam:PermissionsBoundary", arn);
    }
    let tags = input.structs("Tags");
    let mut keys: Vec<String> = Vec::new();
    for t in &tags {
        if let (Some(k), Some(v)) = (t.opt("Key"), t.opt("Value")) {
            p = p.with(&format!("aws:RequestTag/{k}"), v);
            keys.push(k);
        }
    }
    keys.extend(input.list("TagKeys"));
    if !keys.is_empty() {
        p = p.with_values("aws:TagKeys", keys);
    }
    for (k, v) in resource_tags(conn, resource)? {
        p = p
            .with(&format!("iam:ResourceTag/{k}"), v.clone())
            .with(&format!("aws:ResourceTag/{k}"), v);
    }
    Ok(p)
}

/// The tags of the user or role `arn` names (none for other resources or a missing one).
fn resource_tags(conn: &Connection, arn: &str) -> ApiResult<Vec<(String, String)>> {
    use cairn_store::iam::{roles, tags, users};
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("iam"), Some(_), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Ok(Vec::new());
    };
    let name = rest.rsplit('/').next().unwrap_or_default();
    let owner = if rest.starts_with("user/") {
        users::get_user(conn, account, name)?.map(|u| u.user_id)
    } else if rest.starts_with("role/") {
        roles::get_role(conn, account, name)?.map(|r| r.role_id)
    } else {
        None
    };
    Ok(match owner {
        Some(id) => tags::tags(conn, &id)?,
        None => Vec::new(),
    })
}
