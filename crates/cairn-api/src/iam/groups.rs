//! Groups: CreateGroup, GetGroup, ListGroups, ListGroupsForUser, AddUserToGroup,
//! RemoveUserFromGroup, DeleteGroup. Membership changes are authorized on the group.

use cairn_core::iam::groups;
use serde_json::json;

use super::input::Input;
use super::xml::{self, paged};
use super::{Call, Reply, Target};

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    let p = p.clone();
    let group = p.opt("GroupName");
    Some(match action {
        "CreateGroup" => Call::write(
            Target::New("group", p.opt("Path"), group.unwrap_or_default()),
            move |c, ctx| {
                let g = groups::create_group(
                    c,
                    ctx,
                    &p.req("GroupName", "groupName")?,
                    p.opt("Path").as_deref(),
                )?;
                Ok(Reply::with(
                    format!("<Group>{}</Group>", xml::group(&g)),
                    json!({"group": {
                        "path": g.path,
                        "groupName": g.name,
                        "groupId": g.group_id,
                        "arn": cairn_core::iam::group_arn(&g),
                        "createDate": xml::java_date(g.created),
                    }}),
                ))
            },
        ),
        "GetGroup" => Call::read(Target::Entity("group", group), move |c, ctx| {
            let (g, members) =
                groups::get_group(c, ctx, &p.req("GroupName", "groupName")?, &p.page(c)?)?;
            Ok(Reply::xml(format!(
                "<Group>{}</Group>{}",
                xml::group(&g),
                paged("Users", &members, |u| xml::user(u, &[], false))
            )))
        }),
        "ListGroups" => Call::read(
            Target::Listing("group", p.opt("PathPrefix")),
            move |c, ctx| {
                let page =
                    groups::list_groups(c, ctx, p.opt("PathPrefix").as_deref(), &p.page(c)?)?;
                Ok(Reply::xml(paged("Groups", &page, xml::group)))
            },
        ),
        "ListGroupsForUser" => {
            Call::read(Target::Entity("user", p.opt("UserName")), move |c, ctx| {
                let page = groups::list_groups_for_user(
                    c,
                    ctx,
                    &p.req("UserName", "userName")?,
                    &p.page(c)?,
                )?;
                Ok(Reply::xml(paged("Groups", &page, xml::group)))
            })
        }
        "AddUserToGroup" => Call::write(Target::Entity("group", group), move |c, ctx| {
            groups::add_user_to_group(
                c,
                ctx,
                &p.req("GroupName", "groupName")?,
                &p.req("UserName", "userName")?,
            )?;
            Ok(Reply::empty())
        }),
        "RemoveUserFromGroup" => Call::write(Target::Entity("group", group), move |c, ctx| {
            groups::remove_user_from_group(
                c,
                ctx,
                &p.req("GroupName", "groupName")?,
                &p.req("UserName", "userName")?,
            )?;
            Ok(Reply::empty())
        }),
        "DeleteGroup" => Call::write(Target::Entity("group", group), move |c, ctx| {
            groups::delete_group(c, ctx, &p.req("GroupName", "groupName")?)?;
            Ok(Reply::empty())
        }),
        _ => return None,
    })
}
