//! The condition keys an IAM request carries (Service Authorization Reference, IAM):
//! `iam:PolicyARN` (the policy an Attach/Detach names), `iam:PermissionsBoundary` (the
//! boundary a Create or Put…PermissionsBoundary sets, else, for the calls that change a user's
//! or role's permissions, the boundary it has), `aws:RequestTag/<key>` and `aws:TagKeys` (tags
//! a request adds or removes). Without them a policy that tests them decides as if they were
//! absent: a Deny on them would never apply. The tags of the user or role a call acts on
//! (`iam:ResourceTag/<key>`, `aws:ResourceTag/<key>`) are added by the evaluator, as every
//! service's are.

use cairn_core::authz::Permission;
use cairn_core::error::ApiResult;
use cairn_store::Connection;

use super::input::Input;

/// Calls that change the permissions of a user or role that already exists: their
/// `iam:PermissionsBoundary` is the boundary it has (the delegated-administrator pattern of
/// the IAM user guide's "Permissions boundaries for IAM entities" conditions them on it).
const KEEPS_BOUNDARY: [&str; 10] = [
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:DetachRolePolicy",
    "iam:DetachUserPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:DeleteRolePolicy",
    "iam:DeleteUserPolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
];

/// The action that tags what `create` makes, when it is given `Tags` (the IAM user guide's
/// tag-on-create: "you must also have permission to tag"): CreateUser needs `iam:TagUser`,
/// CreateRole `iam:TagRole`, and so on.
pub fn tag_on_create(create: &str) -> Option<&'static str> {
    Some(match create {
        "iam:CreateUser" => "iam:TagUser",
        "iam:CreateRole" => "iam:TagRole",
        "iam:CreatePolicy" => "iam:TagPolicy",
        "iam:CreateInstanceProfile" => "iam:TagInstanceProfile",
        "iam:CreateOpenIDConnectProvider" => "iam:TagOpenIDConnectProvider",
        "iam:CreateSAMLProvider" => "iam:TagSAMLProvider",
        "iam:UploadServerCertificate" => "iam:TagServerCertificate",
        "iam:CreateVirtualMFADevice" => "iam:TagMFADevice",
        _ => return None,
    })
}

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
    match input.opt("PermissionsBoundary") {
        Some(arn) => p = p.with("iam:PermissionsBoundary", arn),
        None if KEEPS_BOUNDARY.contains(&p.action.as_str()) => {
            if let Some(arn) = cairn_core::iam::named_by_arn(conn, resource)?
                .as_ref()
                .and_then(cairn_core::iam::Named::boundary)
            {
                p = p.with("iam:PermissionsBoundary", arn);
            }
        }
        None => {}
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
    Ok(p)
}
