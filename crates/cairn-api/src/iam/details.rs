//! GetAccountAuthorizationDetails: users, groups, roles and managed policies with every
//! policy document (URL-encoded), paginated.

use cairn_core::iam::details::{self, Detail, Inline};

use super::input::Input;
use super::xml::{self, el, members};
use super::{Call, Reply, Target};

fn inline_list(name: &str, list: &[Inline]) -> String {
    members(name, list, |(n, d)| {
        format!(
            "{}{}",
            el("PolicyName", n),
            el("PolicyDocument", &xml::document(d))
        )
    })
}

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    if action != "GetAccountAuthorizationDetails" {
        return None;
    }
    let p = p.clone();
    Some(Call::read(Target::Any, move |c, ctx| {
        let filter: Vec<String> = p
            .list("Filter")
            .into_iter()
            .filter(|f| !f.is_empty())
            .collect();
        let page = details::get_account_authorization_details(c, ctx, &filter, &p.page(c)?)?;
        let (mut users, mut groups, mut roles, mut policies) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for d in &page.items {
            match d {
                Detail::User {
                    user,
                    inline,
                    groups: g,
                    attached,
                    tags,
                } => users.push(format!(
                    "{}{}{}{}{}{}{}{}{}{}",
                    el("Path", &user.path),
                    el("UserName", &user.name),
                    el("UserId", &user.user_id),
                    el("Arn", &cairn_core::iam::user_arn(user)),
                    el("CreateDate", &xml::date(user.created)),
                    inline_list("UserPolicyList", inline),
                    members("GroupList", g, |n| xml::escape(n)),
                    members("AttachedManagedPolicies", attached, xml::attached),
                    xml::boundary(user.boundary.as_deref()),
                    xml::tags(tags),
                )),
                Detail::Group {
                    group,
                    inline,
                    attached,
                } => groups.push(format!(
                    "{}{}{}",
                    xml::group(group),
                    inline_list("GroupPolicyList", inline),
                    members("AttachedManagedPolicies", attached, xml::attached)
                )),
                Detail::Role {
                    role,
                    inline,
                    attached,
                } => roles.push(format!(
                    "{}<InstanceProfileList/>{}{}",
                    xml::role(role, true),
                    inline_list("RolePolicyList", inline),
                    members("AttachedManagedPolicies", attached, xml::attached)
                )),
                Detail::Policy { policy, versions } => policies.push(format!(
                    "{}{}",
                    xml::policy(policy, true),
                    members("PolicyVersionList", versions, |v| xml::version(v, true))
                )),
            }
        }
        let wrap = |name: &str, items: &[String]| members(name, items, |s| s.clone());
        Ok(Reply::xml(format!(
            "{}{}{}{}<IsTruncated>{}</IsTruncated>{}",
            wrap("UserDetailList", &users),
            wrap("GroupDetailList", &groups),
            wrap("RoleDetailList", &roles),
            wrap("Policies", &policies),
            page.is_truncated(),
            xml::opt("Marker", page.marker.as_deref())
        )))
    }))
}
