//! Policies held by users, groups and roles: Attach/Detach/ListAttached{User,Group,Role}
//! Policies (managed) and Put/Get/Delete/List{User,Group,Role}Policy (inline).

use cairn_core::iam::{EntityKind, attach, inline};

use super::input::Input;
use super::xml::{self, el, paged};
use super::{Call, Reply, Target};

/// The entity kind and the name of its member (`UserName`…) an action is about.
fn kind_of(word: &str) -> Option<(EntityKind, &'static str, &'static str)> {
    match word {
        "User" => Some((EntityKind::User, "UserName", "user")),
        "Group" => Some((EntityKind::Group, "GroupName", "group")),
        "Role" => Some((EntityKind::Role, "RoleName", "role")),
        _ => None,
    }
}

/// Splits `AttachUserPolicy` into (`Attach`, `User`, `Policy`).
fn split(action: &str) -> Option<(&'static str, &str, &'static str)> {
    for verb in [
        "ListAttached",
        "Attach",
        "Detach",
        "Put",
        "Get",
        "Delete",
        "List",
    ] {
        if let Some(rest) = action.strip_prefix(verb) {
            for suffix in ["Policies", "Policy"] {
                if let Some(word) = rest.strip_suffix(suffix) {
                    return Some((verb, word, suffix));
                }
            }
        }
    }
    None
}

/// ListEntitiesForPolicy.
fn list_entities(p: &Input) -> Call {
    let p = p.clone();
    Call::read(
        Target::Arn(p.opt("PolicyArn").unwrap_or_else(|| "*".to_owned())),
        move |c, ctx| {
            let (filter, prefix, usage) = (
                p.opt("EntityFilter"),
                p.opt("PathPrefix"),
                p.opt("PolicyUsageFilter"),
            );
            let page = attach::list_entities_for_policy(
                c,
                ctx,
                &p.req("PolicyArn", "policyArn")?,
                filter.as_deref(),
                prefix.as_deref(),
                usage.as_deref(),
                &p.page(c)?,
            )?;
            let of = |kind: EntityKind, word: &str| {
                let items: Vec<_> = page.items.iter().filter(|(k, _, _)| *k == kind).collect();
                xml::members(&format!("Policy{word}s"), &items, |(_, name, id)| {
                    format!(
                        "{}{}",
                        el(&format!("{word}Name"), name),
                        el(&format!("{word}Id"), id)
                    )
                })
            };
            Ok(Reply::xml(format!(
                "{}{}{}<IsTruncated>{}</IsTruncated>{}",
                of(EntityKind::Group, "Group"),
                of(EntityKind::User, "User"),
                of(EntityKind::Role, "Role"),
                page.is_truncated(),
                xml::opt("Marker", page.marker.as_deref())
            )))
        },
    )
}

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    if action == "ListEntitiesForPolicy" {
        return Some(list_entities(p));
    }
    let (verb, word, suffix) = split(action)?;
    let (kind, member, target_kind) = kind_of(word)?;
    let field = kind.field();
    let p = p.clone();
    let target = Target::Entity(target_kind, p.opt(member));
    let entity = move |p: &Input| p.req(member, field);
    Some(match (verb, suffix) {
        ("Attach", "Policy") => Call::write(target, move |c, ctx| {
            attach::attach_policy(
                c,
                ctx,
                kind,
                &entity(&p)?,
                &p.req("PolicyArn", "policyArn")?,
            )?;
            Ok(Reply::empty())
        }),
        ("Detach", "Policy") => Call::write(target, move |c, ctx| {
            attach::detach_policy(
                c,
                ctx,
                kind,
                &entity(&p)?,
                &p.req("PolicyArn", "policyArn")?,
            )?;
            Ok(Reply::empty())
        }),
        ("ListAttached", "Policies") => Call::read(target, move |c, ctx| {
            let page = attach::list_attached(
                c,
                ctx,
                kind,
                &entity(&p)?,
                p.opt("PathPrefix").as_deref(),
                &p.page(c)?,
            )?;
            Ok(Reply::xml(paged("AttachedPolicies", &page, xml::attached)))
        }),
        ("Put", "Policy") => Call::write(target, move |c, ctx| {
            inline::put_inline(
                c,
                ctx,
                kind,
                &entity(&p)?,
                &p.req("PolicyName", "policyName")?,
                &p.req("PolicyDocument", "policyDocument")?,
            )?;
            Ok(Reply::empty())
        }),
        ("Get", "Policy") => Call::read(target, move |c, ctx| {
            let (owner, document) = inline::get_inline(
                c,
                ctx,
                kind,
                &entity(&p)?,
                &p.req("PolicyName", "policyName")?,
            )?;
            Ok(Reply::xml(format!(
                "{}{}{}",
                el(member, &owner.name),
                el("PolicyName", &p.req("PolicyName", "policyName")?),
                el("PolicyDocument", &xml::document(&document))
            )))
        }),
        ("Delete", "Policy") => Call::write(target, move |c, ctx| {
            inline::delete_inline(
                c,
                ctx,
                kind,
                &entity(&p)?,
                &p.req("PolicyName", "policyName")?,
            )?;
            Ok(Reply::empty())
        }),
        ("List", "Policies") => Call::read(target, move |c, ctx| {
            let page = inline::list_inline(c, ctx, kind, &entity(&p)?, &p.page(c)?)?;
            Ok(Reply::xml(paged("PolicyNames", &page, |n| xml::escape(n))))
        }),
        _ => return None,
    })
}
