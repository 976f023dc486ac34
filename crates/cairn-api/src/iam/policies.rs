//! Managed policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, the version calls
//! (Create/Get/List/DeletePolicyVersion, SetDefaultPolicyVersion) and Tag/Untag/ListPolicyTags.

use cairn_core::iam::managed::{self, ListPolicies};
use serde_json::json;

use super::input::Input;
use super::xml::{self, paged};
use super::{Call, Reply, Target};

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    let p = p.clone();
    let arn = Target::Arn(p.opt("PolicyArn").unwrap_or_else(|| "*".to_owned()));
    Some(match action {
        "CreatePolicy" => Call::write(
            Target::New(
                "policy",
                p.opt("Path"),
                p.opt("PolicyName").unwrap_or_default(),
            ),
            move |c, ctx| {
                let (path, description) = (p.opt("Path"), p.opt("Description"));
                let info = managed::create_policy(
                    c,
                    ctx,
                    &p.req("PolicyName", "policyName")?,
                    &p.req("PolicyDocument", "policyDocument")?,
                    path.as_deref(),
                    description.as_deref(),
                    &p.tags()?,
                )?;
                let element = json!({"policy": {
                    "policyName": info.name,
                    "policyId": info.policy_id,
                    "arn": info.arn,
                    "path": info.path,
                    "defaultVersionId": info.default_version,
                    "attachmentCount": info.attachment_count,
                    "permissionsBoundaryUsageCount": info.boundary_count,
                    "isAttachable": info.attachable,
                    "createDate": xml::java_date(info.created),
                    "updateDate": xml::java_date(info.updated),
                }});
                Ok(Reply::with(
                    format!("<Policy>{}</Policy>", xml::policy(&info, true)),
                    element,
                ))
            },
        ),
        "GetPolicy" => Call::read(arn, move |c, ctx| {
            let info = managed::get_policy(c, ctx, &p.req("PolicyArn", "policyArn")?)?;
            Ok(Reply::xml(format!(
                "<Policy>{}</Policy>",
                xml::policy(&info, true)
            )))
        }),
        // IAM names ListPolicies' resource "policy path /" (its denials say so).
        "ListPolicies" => Call::read(
            Target::Arn(format!(
                "policy path {}",
                p.opt("PathPrefix").unwrap_or_else(|| "/".into())
            )),
            move |c, ctx| {
                let (scope, prefix, usage) = (
                    p.opt("Scope"),
                    p.opt("PathPrefix"),
                    p.opt("PolicyUsageFilter"),
                );
                let filter = ListPolicies {
                    scope: scope.as_deref(),
                    only_attached: p.boolean("OnlyAttached", "onlyAttached")?.unwrap_or(false),
                    path_prefix: prefix.as_deref(),
                    usage: usage.as_deref(),
                };
                let page = managed::list_policies(c, ctx, &filter, &p.page(c)?)?;
                Ok(Reply::xml(paged("Policies", &page, |i| {
                    xml::policy(i, false)
                })))
            },
        ),
        "DeletePolicy" => Call::write(arn, move |c, ctx| {
            managed::delete_policy(c, ctx, &p.req("PolicyArn", "policyArn")?)?;
            Ok(Reply::empty())
        }),
        "CreatePolicyVersion" => Call::write(arn, move |c, ctx| {
            let v = managed::create_policy_version(
                c,
                ctx,
                &p.req("PolicyArn", "policyArn")?,
                &p.req("PolicyDocument", "policyDocument")?,
                p.boolean("SetAsDefault", "setAsDefault")?.unwrap_or(false),
            )?;
            Ok(Reply::with(
                format!("<PolicyVersion>{}</PolicyVersion>", xml::version(&v, false)),
                json!({"policyVersion": {
                    "versionId": v.version_id,
                    "isDefaultVersion": v.is_default,
                    "createDate": xml::java_date(v.created),
                }}),
            ))
        }),
        "GetPolicyVersion" => Call::read(arn, move |c, ctx| {
            let v = managed::get_policy_version(
                c,
                ctx,
                &p.req("PolicyArn", "policyArn")?,
                &p.req("VersionId", "versionId")?,
            )?;
            Ok(Reply::xml(format!(
                "<PolicyVersion>{}</PolicyVersion>",
                xml::version(&v, true)
            )))
        }),
        "ListPolicyVersions" => Call::read(arn, move |c, ctx| {
            let page = managed::list_policy_versions(
                c,
                ctx,
                &p.req("PolicyArn", "policyArn")?,
                &p.page(c)?,
            )?;
            Ok(Reply::xml(paged("Versions", &page, |v| {
                xml::version(v, false)
            })))
        }),
        "DeletePolicyVersion" => Call::write(arn, move |c, ctx| {
            managed::delete_policy_version(
                c,
                ctx,
                &p.req("PolicyArn", "policyArn")?,
                &p.req("VersionId", "versionId")?,
            )?;
            Ok(Reply::empty())
        }),
        "SetDefaultPolicyVersion" => Call::write(arn, move |c, ctx| {
            managed::set_default_policy_version(
                c,
                ctx,
                &p.req("PolicyArn", "policyArn")?,
                &p.req("VersionId", "versionId")?,
            )?;
            Ok(Reply::empty())
        }),
        "TagPolicy" => Call::write(arn, move |c, ctx| {
            managed::tag_policy(c, ctx, &p.req("PolicyArn", "policyArn")?, &p.tags()?)?;
            Ok(Reply::empty())
        }),
        "UntagPolicy" => Call::write(arn, move |c, ctx| {
            managed::untag_policy(
                c,
                ctx,
                &p.req("PolicyArn", "policyArn")?,
                &p.list("TagKeys"),
            )?;
            Ok(Reply::empty())
        }),
        "ListPolicyTags" => Call::read(arn, move |c, ctx| {
            let page =
                managed::list_policy_tags(c, ctx, &p.req("PolicyArn", "policyArn")?, &p.page(c)?)?;
            Ok(Reply::xml(paged("Tags", &page, xml::tag)))
        }),
        _ => return None,
    })
}
