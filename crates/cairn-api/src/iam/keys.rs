//! Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey. The secret
//! appears in CreateAccessKey's response only, never in its event.

use cairn_core::iam::keys;
use serde_json::json;

use super::input::Input;
use super::xml::{self, el, paged};
use super::{Call, Reply, Target};

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    let p = p.clone();
    let name = p.opt("UserName");
    Some(match action {
        "CreateAccessKey" => Call::write(Target::Entity("user", name), move |c, ctx| {
            let new = keys::create_access_key(c, ctx, p.opt("UserName").as_deref())?;
            let k = &new.key;
            let out = format!(
                "<AccessKey>{}{}{}{}{}</AccessKey>",
                el("UserName", &new.user_name),
                el("AccessKeyId", &k.access_key_id),
                el("Status", &k.status),
                el("SecretAccessKey", &k.secret),
                el("CreateDate", &xml::date(k.created))
            );
            Ok(Reply::with(
                out,
                json!({"accessKey": {
                    "userName": new.user_name,
                    "accessKeyId": k.access_key_id,
                    "status": k.status,
                    "createDate": xml::java_date(k.created),
                }}),
            ))
        }),
        "ListAccessKeys" => Call::read(Target::Entity("user", name), move |c, ctx| {
            let page = keys::list_access_keys(c, ctx, p.opt("UserName").as_deref(), &p.page(c)?)?;
            Ok(Reply::xml(paged("AccessKeyMetadata", &page, |k| {
                format!(
                    "{}{}{}{}",
                    // The root user's own key has no user name.
                    xml::opt(
                        "UserName",
                        Some(k.user_name.as_str()).filter(|n| !n.is_empty())
                    ),
                    el("AccessKeyId", &k.meta.access_key_id),
                    el("Status", &k.meta.status),
                    el("CreateDate", &xml::date(k.meta.created))
                )
            })))
        }),
        "UpdateAccessKey" => Call::write(Target::Entity("user", name), move |c, ctx| {
            keys::update_access_key(
                c,
                ctx,
                p.opt("UserName").as_deref(),
                &p.req("AccessKeyId", "accessKeyId")?,
                &p.req("Status", "status")?,
            )?;
            Ok(Reply::empty())
        }),
        "DeleteAccessKey" => Call::write(Target::Entity("user", name), move |c, ctx| {
            keys::delete_access_key(
                c,
                ctx,
                p.opt("UserName").as_deref(),
                &p.req("AccessKeyId", "accessKeyId")?,
            )?;
            Ok(Reply::empty())
        }),
        _ => return None,
    })
}
