//! UpdateUser and UpdateGroup: a new name and/or path. As IAM documents, the caller needs the
//! action on both the entity as it is and as it will be ("to change Bob to Robert, the
//! entity making the request must have permission on Bob and Robert").

use cairn_core::iam::{groups, users};

use super::input::Input;
use super::{Call, Reply, Target};

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    let p = p.clone();
    let (kind, member, new_member) = match action {
        "UpdateUser" => ("user", "UserName", "NewUserName"),
        "UpdateGroup" => ("group", "GroupName", "NewGroupName"),
        _ => return None,
    };
    let target = Target::Renamed {
        kind,
        name: p.opt(member).unwrap_or_default(),
        new_name: p.opt(new_member),
        new_path: p.opt("NewPath"),
    };
    Some(Call::write(target, move |c, ctx| {
        let (new_name, new_path) = (p.opt(new_member), p.opt("NewPath"));
        if kind == "user" {
            let name = p.req("UserName", "userName")?;
            users::update_user(c, ctx, &name, new_name.as_deref(), new_path.as_deref())?;
        } else {
            let name = p.req("GroupName", "groupName")?;
            groups::update_group(c, ctx, &name, new_name.as_deref(), new_path.as_deref())?;
        }
        Ok(Reply::empty())
    }))
}
