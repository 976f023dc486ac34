//! Users: CreateUser, GetUser, ListUsers, DeleteUser, TagUser, UntagUser, ListUserTags,
//! Put/DeleteUserPermissionsBoundary.

use cairn_core::iam::users::{self, GetUserResult};
use serde_json::json;

use super::input::Input;
use super::xml::{self, el, paged};
use super::{Call, Reply, Target};

/// The `responseElements.user` of CreateUser.
fn user_element(u: &cairn_store::iam::users::User, tags: &[(String, String)]) -> serde_json::Value {
    let mut user = json!({
        "path": u.path,
        "userName": u.name,
        "userId": u.user_id,
        "arn": cairn_core::iam::user_arn(u),
        "createDate": xml::java_date(u.created),
    });
    xml::record_extras(&mut user, tags, u.boundary.as_deref());
    json!({ "user": user })
}

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    let p = p.clone();
    let name = p.opt("UserName");
    Some(match action {
        "CreateUser" => Call::write(
            Target::New("user", p.opt("Path"), name.clone().unwrap_or_default()),
            move |c, ctx| {
                let name = p.req("UserName", "userName")?;
                let tags = p.tags()?;
                let info = users::create_user(
                    c,
                    ctx,
                    &name,
                    p.opt("Path").as_deref(),
                    p.opt("PermissionsBoundary").as_deref(),
                    &tags,
                )?;
                Ok(Reply::with(
                    format!("<User>{}</User>", xml::user(&info.user, &info.tags, true)),
                    user_element(&info.user, &info.tags),
                ))
            },
        ),
        "GetUser" => Call::read(Target::Entity("user", name), move |c, ctx| {
            Ok(Reply::xml(
                match users::get_user(c, ctx, p.opt("UserName").as_deref())? {
                    GetUserResult::User(info) => {
                        format!("<User>{}</User>", xml::user(&info.user, &info.tags, true))
                    }
                    GetUserResult::Root { account, created } => format!(
                        "<User>{}{}{}</User>",
                        el("UserId", &account),
                        el("Arn", &format!("arn:aws:iam::{account}:root")),
                        el("CreateDate", &xml::date(created))
                    ),
                },
            ))
        }),
        "ListUsers" => Call::read(
            Target::Listing("user", p.opt("PathPrefix")),
            move |c, ctx| {
                let page = users::list_users(c, ctx, p.opt("PathPrefix").as_deref(), &p.page(c)?)?;
                Ok(Reply::xml(paged("Users", &page, |u| {
                    xml::user(u, &[], false)
                })))
            },
        ),
        "DeleteUser" => Call::write(Target::Entity("user", name), move |c, ctx| {
            users::delete_user(c, ctx, &p.req("UserName", "userName")?)?;
            Ok(Reply::empty())
        }),
        "TagUser" => Call::write(Target::Entity("user", name), move |c, ctx| {
            users::tag_user(c, ctx, &p.req("UserName", "userName")?, &p.tags()?)?;
            Ok(Reply::empty())
        }),
        "UntagUser" => Call::write(Target::Entity("user", name), move |c, ctx| {
            users::untag_user(c, ctx, &p.req("UserName", "userName")?, &p.list("TagKeys"))?;
            Ok(Reply::empty())
        }),
        "ListUserTags" => Call::read(Target::Entity("user", name), move |c, ctx| {
            let page = users::list_user_tags(c, ctx, &p.req("UserName", "userName")?, &p.page(c)?)?;
            Ok(Reply::xml(paged("Tags", &page, xml::tag)))
        }),
        "PutUserPermissionsBoundary" => Call::write(Target::Entity("user", name), move |c, ctx| {
            users::put_user_boundary(
                c,
                ctx,
                &p.req("UserName", "userName")?,
                &p.req("PermissionsBoundary", "permissionsBoundary")?,
            )?;
            Ok(Reply::empty())
        }),
        "DeleteUserPermissionsBoundary" => {
            Call::write(Target::Entity("user", name), move |c, ctx| {
                users::delete_user_boundary(c, ctx, &p.req("UserName", "userName")?)?;
                Ok(Reply::empty())
            })
        }
        _ => return None,
    })
}
