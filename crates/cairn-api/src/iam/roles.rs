//! Roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
//! UpdateAssumeRolePolicy, DeleteRole, TagRole, UntagRole, ListRoleTags,
//! Put/DeleteRolePermissionsBoundary.

use cairn_core::iam::roles::{self, CreateRole, RoleInfo};
use serde_json::json;

use super::input::Input;
use super::xml::{self, paged};
use super::{Call, Reply, Target};

fn role_element(r: &RoleInfo, max_session_given: bool) -> serde_json::Value {
    let role = &r.role;
    let mut v = json!({
        "path": role.path,
        "roleName": role.name,
        "roleId": role.role_id,
        "arn": cairn_core::iam::role_arn(role),
        "createDate": xml::java_date(role.created),
        "assumeRolePolicyDocument": xml::document(&role.trust_policy),
    });
    if let Some(d) = &role.description {
        v["description"] = json!(d);
    }
    if max_session_given {
        v["maxSessionDuration"] = json!(role.max_session);
    }
    xml::record_extras(&mut v, &r.tags, role.boundary.as_deref());
    json!({ "role": v })
}

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    let p = p.clone();
    let name = p.opt("RoleName");
    let entity = move || Target::Entity("role", name.clone());
    Some(match action {
        "CreateRole" => Call::write(
            Target::New("role", p.opt("Path"), p.opt("RoleName").unwrap_or_default()),
            move |c, ctx| {
                let name = p.req("RoleName", "roleName")?;
                let trust = p.req("AssumeRolePolicyDocument", "assumeRolePolicyDocument")?;
                let (path, description, boundary) = (
                    p.opt("Path"),
                    p.opt("Description"),
                    p.opt("PermissionsBoundary"),
                );
                let tags = p.tags()?;
                let max_session = p.int("MaxSessionDuration", "maxSessionDuration")?;
                let info = roles::create_role(
                    c,
                    ctx,
                    &CreateRole {
                        name: &name,
                        trust_policy: &trust,
                        path: path.as_deref(),
                        description: description.as_deref(),
                        max_session,
                        boundary: boundary.as_deref(),
                        tags: &tags,
                    },
                )?;
                Ok(Reply::with(
                    format!(
                        "<Role>{}</Role>",
                        xml::created_role(&info, max_session.is_some())
                    ),
                    role_element(&info, max_session.is_some()),
                ))
            },
        ),
        "GetRole" => Call::read(entity(), move |c, ctx| {
            let info = roles::get_role(c, ctx, &p.req("RoleName", "roleName")?)?;
            Ok(Reply::xml(format!(
                "<Role>{}</Role>",
                xml::role(&info, true)
            )))
        }),
        "ListRoles" => Call::read(
            Target::Listing("role", p.opt("PathPrefix")),
            move |c, ctx| {
                let page = roles::list_roles(c, ctx, p.opt("PathPrefix").as_deref(), &p.page(c)?)?;
                Ok(Reply::xml(paged("Roles", &page, |r| {
                    xml::role(
                        &RoleInfo {
                            role: r.clone(),
                            tags: Vec::new(),
                        },
                        false,
                    )
                })))
            },
        ),
        "UpdateRole" => Call::write(entity(), move |c, ctx| {
            roles::update_role(
                c,
                ctx,
                &p.req("RoleName", "roleName")?,
                p.opt("Description").as_deref(),
                p.int("MaxSessionDuration", "maxSessionDuration")?,
            )?;
            // UpdateRole has an (empty) result element.
            Ok(Reply::xml(String::new()))
        }),
        "UpdateRoleDescription" => Call::write(entity(), move |c, ctx| {
            let info = roles::update_role_description(
                c,
                ctx,
                &p.req("RoleName", "roleName")?,
                &p.req("Description", "description")?,
            )?;
            Ok(Reply::xml(format!(
                "<Role>{}</Role>",
                xml::role(&info, true)
            )))
        }),
        "UpdateAssumeRolePolicy" => Call::write(entity(), move |c, ctx| {
            roles::update_assume_role_policy(
                c,
                ctx,
                &p.req("RoleName", "roleName")?,
                &p.req("PolicyDocument", "policyDocument")?,
            )?;
            Ok(Reply::empty())
        }),
        "DeleteRole" => Call::write(entity(), move |c, ctx| {
            roles::delete_role(c, ctx, &p.req("RoleName", "roleName")?)?;
            Ok(Reply::empty())
        }),
        "TagRole" => Call::write(entity(), move |c, ctx| {
            roles::tag_role(c, ctx, &p.req("RoleName", "roleName")?, &p.tags()?)?;
            Ok(Reply::empty())
        }),
        "UntagRole" => Call::write(entity(), move |c, ctx| {
            roles::untag_role(c, ctx, &p.req("RoleName", "roleName")?, &p.list("TagKeys"))?;
            Ok(Reply::empty())
        }),
        "ListRoleTags" => Call::read(entity(), move |c, ctx| {
            let page = roles::list_role_tags(c, ctx, &p.req("RoleName", "roleName")?, &p.page(c)?)?;
            Ok(Reply::xml(paged("Tags", &page, xml::tag)))
        }),
        "PutRolePermissionsBoundary" => Call::write(entity(), move |c, ctx| {
            roles::put_role_boundary(
                c,
                ctx,
                &p.req("RoleName", "roleName")?,
                &p.req("PermissionsBoundary", "permissionsBoundary")?,
            )?;
            Ok(Reply::empty())
        }),
        // Cairn has no instance profiles: every role is instance-less.
        "ListInstanceProfilesForRole" => Call::read(entity(), move |c, ctx| {
            roles::get_role(c, ctx, &p.req("RoleName", "roleName")?)?;
            p.page(c)?;
            Ok(Reply::xml(
                "<InstanceProfiles/><IsTruncated>false</IsTruncated>".to_owned(),
            ))
        }),
        "DeleteRolePermissionsBoundary" => Call::write(entity(), move |c, ctx| {
            roles::delete_role_boundary(c, ctx, &p.req("RoleName", "roleName")?)?;
            Ok(Reply::empty())
        }),
        _ => return None,
    })
}
