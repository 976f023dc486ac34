//! IAM's XML shapes (botocore's `iam` model): users, groups, roles, policies, versions, tags,
//! lists with `IsTruncated`/`Marker`, ISO 8601 dates, and policy documents URL-encoded with
//! `%20` for spaces (botocore's `json_decode_policies` unquotes them), plus the Java-style
//! dates of CloudTrail `responseElements`.

use cairn_core::iam::managed::{PolicyInfo, VersionInfo};
use cairn_core::iam::roles::RoleInfo;
use cairn_core::iam::{Page, Tag, group_arn, role_arn, user_arn};
use cairn_store::iam::{groups::Group, users::User};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::errors::xml_escape;

/// Everything but `A-Za-z0-9-_.~` is escaped (RFC 3986 unreserved).
const DOCUMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A policy document as IAM returns it: URL-encoded.
pub fn document(text: &str) -> String {
    utf8_percent_encode(text, DOCUMENT).to_string()
}

/// Escapes text.
pub fn escape(text: &str) -> String {
    xml_escape(text)
}

/// `<Name>escaped text</Name>`.
pub fn el(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", xml_escape(text))
}

/// An optional element.
pub fn opt(name: &str, text: Option<&str>) -> String {
    text.map(|t| el(name, t)).unwrap_or_default()
}

/// ISO 8601 UTC with seconds.
pub fn date(epoch: f64) -> String {
    chrono::DateTime::from_timestamp(epoch.floor() as i64, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The Java-style date CloudTrail writes in IAM `responseElements`
/// (`Nov 22, 2026 11:39:09 AM`: no comma after the year, unlike STS and KMS records; real
/// IAM records of 2022 and 2024 in Stratus Red Team's and Panther's fixtures).
pub fn java_date(epoch: f64) -> String {
    chrono::DateTime::from_timestamp(epoch.floor() as i64, 0)
        .unwrap_or_default()
        .format("%b %-d, %Y %-I:%M:%S %p")
        .to_string()
}

/// What a created entity's `responseElements` carry besides its own members, as real
/// records show them: its tags (`[{"key", "value"}]`) and its permissions boundary.
pub fn record_extras(v: &mut serde_json::Value, tags: &[(String, String)], boundary: Option<&str>) {
    if !tags.is_empty() {
        v["tags"] = tags
            .iter()
            .map(|(k, val)| serde_json::json!({"key": k, "value": val}))
            .collect();
    }
    // The record's type is `Policy` (a real CreateRole record, stratus-red-team's
    // iam-create-backdoor-role detonation log), where the API answers
    // `PermissionsBoundaryPolicy`.
    if let Some(arn) = boundary {
        v["permissionsBoundary"] = serde_json::json!({
            "permissionsBoundaryType": "Policy",
            "permissionsBoundaryArn": arn,
        });
    }
}

/// `<Name><member>…</member>…</Name>` (`<Name/>` when empty).
pub fn members<T>(name: &str, items: &[T], f: impl Fn(&T) -> String) -> String {
    if items.is_empty() {
        return format!("<{name}/>");
    }
    let inner: String = items
        .iter()
        .map(|i| format!("<member>{}</member>", f(i)))
        .collect();
    format!("<{name}>{inner}</{name}>")
}

/// A page: the list element, then `IsTruncated` and `Marker`.
pub fn paged<T>(name: &str, page: &Page<T>, f: impl Fn(&T) -> String) -> String {
    format!(
        "{}<IsTruncated>{}</IsTruncated>{}",
        members(name, &page.items, f),
        page.is_truncated(),
        opt("Marker", page.marker.as_deref())
    )
}

/// `Tags` members (omitted when there are none).
pub fn tags(tags: &[Tag]) -> String {
    if tags.is_empty() {
        return String::new();
    }
    members("Tags", tags, tag)
}

/// One `Tag`.
pub fn tag(t: &Tag) -> String {
    format!("{}{}", el("Key", &t.0), el("Value", &t.1))
}

/// A `PermissionsBoundary` element, empty without one.
pub fn boundary(arn: Option<&str>) -> String {
    arn.map(|a| {
        format!(
            "<PermissionsBoundary><PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType>{}</PermissionsBoundary>",
            el("PermissionsBoundaryArn", a)
        )
    })
    .unwrap_or_default()
}

/// A `User`. `full` (GetUser, CreateUser) adds the permissions boundary and the tags, which
/// listings (ListUsers, GetGroup) do not return.
pub fn user(u: &User, t: &[Tag], full: bool) -> String {
    let mut out = format!(
        "{}{}{}{}{}",
        el("Path", &u.path),
        el("UserName", &u.name),
        el("UserId", &u.user_id),
        el("Arn", &user_arn(u)),
        el("CreateDate", &date(u.created)),
    );
    if full {
        out.push_str(&boundary(u.boundary.as_deref()));
        out.push_str(&tags(t));
    }
    out
}

/// A `Group`.
pub fn group(g: &Group) -> String {
    format!(
        "{}{}{}{}{}",
        el("Path", &g.path),
        el("GroupName", &g.name),
        el("GroupId", &g.group_id),
        el("Arn", &group_arn(g)),
        el("CreateDate", &date(g.created))
    )
}

fn role_last_used(r: &RoleInfo) -> String {
    match &r.role.last_used {
        None => "<RoleLastUsed/>".to_owned(),
        Some((when, region)) => format!(
            "<RoleLastUsed>{}{}</RoleLastUsed>",
            el("LastUsedDate", &date(*when)),
            el("Region", region)
        ),
    }
}

/// A `Role`. `full` adds what GetRole shows beyond ListRoles (boundary, tags, last use).
pub fn role(r: &RoleInfo, full: bool) -> String {
    role_with(r, full, true)
}

/// The `Role` CreateRole answers: `MaxSessionDuration` only when the request gave one (AWS's
/// CreateRole answers and records leave the default out).
pub fn created_role(r: &RoleInfo, max_session_given: bool) -> String {
    role_with(r, true, max_session_given)
}

fn role_with(r: &RoleInfo, full: bool, max_session: bool) -> String {
    let role = &r.role;
    let mut out = format!(
        "{}{}{}{}{}{}{}{}",
        el("Path", &role.path),
        el("RoleName", &role.name),
        el("RoleId", &role.role_id),
        el("Arn", &role_arn(role)),
        el("CreateDate", &date(role.created)),
        el("AssumeRolePolicyDocument", &document(&role.trust_policy)),
        opt("Description", role.description.as_deref()),
        if max_session {
            el("MaxSessionDuration", &role.max_session.to_string())
        } else {
            String::new()
        },
    );
    if full {
        out.push_str(&boundary(role.boundary.as_deref()));
        out.push_str(&tags(&r.tags));
        out.push_str(&role_last_used(r));
    }
    out
}

/// A `Policy` (`full`: with description and tags, as GetPolicy/CreatePolicy show it).
pub fn policy(p: &PolicyInfo, full: bool) -> String {
    let mut out = format!(
        "{}{}{}{}{}{}{}{}",
        el("PolicyName", &p.name),
        el("PolicyId", &p.policy_id),
        el("Arn", &p.arn),
        el("Path", &p.path),
        el("DefaultVersionId", &p.default_version),
        el("AttachmentCount", &p.attachment_count.to_string()),
        el(
            "PermissionsBoundaryUsageCount",
            &p.boundary_count.to_string()
        ),
        el("IsAttachable", if p.attachable { "true" } else { "false" }),
    );
    if full {
        out.push_str(&opt("Description", p.description.as_deref()));
    }
    out.push_str(&el("CreateDate", &date(p.created)));
    out.push_str(&el("UpdateDate", &date(p.updated)));
    if full {
        out.push_str(&tags(&p.tags));
    }
    out
}

/// A `PolicyVersion` (`with_document`: GetPolicyVersion and the details list carry it).
pub fn version(v: &VersionInfo, with_document: bool) -> String {
    format!(
        "{}{}{}{}",
        if with_document {
            el("Document", &document(&v.document))
        } else {
            String::new()
        },
        el("VersionId", &v.version_id),
        el(
            "IsDefaultVersion",
            if v.is_default { "true" } else { "false" }
        ),
        el("CreateDate", &date(v.created))
    )
}

/// An `AttachedPolicy`.
pub fn attached(a: &(String, String)) -> String {
    format!("{}{}", el("PolicyName", &a.0), el("PolicyArn", &a.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_url_encoded_with_percent_20() {
        assert_eq!(
            document(r#"{"Version": "2012-10-17"}"#),
            "%7B%22Version%22%3A%20%222012-10-17%22%7D"
        );
    }

    #[test]
    fn java_dates() {
        assert_eq!(java_date(1_795_347_549.0), "Nov 22, 2026 11:39:09 AM");
    }
}
