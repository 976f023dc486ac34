//! `AWS::IAM::Policy` (an inline policy put on roles, users and groups) and
//! `AWS::IAM::ManagedPolicy` (a customer managed policy, its versions and attachments).

use serde_json::{Value, json};

use super::iam::Kind;
use super::util::{document, only, opt_str, props, req_str, str_list};
use super::{Capability, Cx, Failure, Made, Provider};
use crate::cloudformation::services::{BoxFuture, Service};

fn targets(p: &Value, type_name: &str) -> Result<Vec<(Kind, String)>, Failure> {
    let mut out = Vec::new();
    for (kind, key) in [
        (Kind::Role, "Roles"),
        (Kind::User, "Users"),
        (Kind::Group, "Groups"),
    ] {
        for name in str_list(p, key, type_name)? {
            out.push((kind, name));
        }
    }
    Ok(out)
}

fn tolerate_missing(r: Result<Value, Failure>) -> Result<(), Failure> {
    match r {
        Err(f) if f.is_not_found() => Ok(()),
        other => other.map(|_| ()),
    }
}

/// `AWS::IAM::Policy`. A create, or an update naming a new role, user or group (or a new
/// name), refuses one that already has an inline policy of the name (`AlreadyExists`), before
/// anything is written. The policy name and the entities it was put on are kept
/// (`AppliedPolicy`, an internal attribute), and only those are deleted by a later update, the
/// rollback of a failed one, or a delete: an entity whose Put…Policy was refused was never
/// this resource's (recheck27: a refused update's rollback, then an admin's cleanup, deleted
/// another principal's same-named policy, such as a trail's CloudWatch Logs role's).
pub struct Policy;

/// The internal attribute: `{"name": …, "targets": [[kind, name], …]}`.
const APPLIED: &str = "AppliedPolicy";

/// The policy name and entities `made` put its policy on: its `AppliedPolicy`, or (a resource
/// made before Cairn kept it) its properties `p`.
fn applied(made: &Made, p: &Value) -> Result<(String, Vec<(Kind, String)>), Failure> {
    let Some(a) = made.attributes.get(APPLIED) else {
        return Ok((req_str(p, "PolicyName", POLICY)?, targets(p, POLICY)?));
    };
    let name = a["name"].as_str().unwrap_or_default().to_owned();
    let list = a["targets"].as_array().into_iter().flatten();
    let parsed = list
        .filter_map(|t| {
            let kind = match t[0].as_str()? {
                "Role" => Kind::Role,
                "User" => Kind::User,
                _ => Kind::Group,
            };
            Some((kind, t[1].as_str()?.to_owned()))
        })
        .collect();
    Ok((name, parsed))
}

fn applied_value(name: &str, list: &[(Kind, String)]) -> Value {
    let targets: Vec<Value> = list.iter().map(|(k, t)| json!([k.word(), t])).collect();
    json!({"name": name, "targets": targets})
}

fn same(a: &(Kind, String), b: &(Kind, String)) -> bool {
    a.0.word() == b.0.word() && a.1 == b.1
}

/// Refuses an entity that already has an inline policy `name` (one this resource did not put).
async fn refuse_taken(cx: &Cx<'_>, list: &[&(Kind, String)], name: &str) -> Result<(), Failure> {
    for (kind, target) in list {
        let w = kind.word();
        let found = cx
            .find(
                Service::Iam,
                match kind {
                    Kind::Role => "GetRolePolicy",
                    Kind::User => "GetUserPolicy",
                    Kind::Group => "GetGroupPolicy",
                },
                json!({format!("{w}Name"): target, "PolicyName": name}),
            )
            .await?;
        if found.is_some() {
            return Err(Failure::already_exists(POLICY, &format!("{name}|{target}")));
        }
    }
    Ok(())
}

/// Puts the policy on each entity in order. On a refusal, the entities of `fresh` it was put
/// on go back (deleted) and the refusal is returned.
async fn put_all(
    cx: &Cx<'_>,
    list: &[(Kind, String)],
    fresh: &[&(Kind, String)],
    name: &str,
    doc: &str,
) -> Result<(), Failure> {
    let mut done: Vec<&(Kind, String)> = Vec::new();
    for t in list {
        if let Err(f) = put_inline(cx, t.0, &t.1, name, doc).await {
            for undo in done.iter().filter(|d| fresh.iter().any(|f| same(d, f))) {
                let _ = delete_inline(cx, undo.0, &undo.1, name).await;
            }
            return Err(f);
        }
        done.push(t);
    }
    Ok(())
}

const POLICY: &str = "AWS::IAM::Policy";

async fn put_inline(
    cx: &Cx<'_>,
    kind: Kind,
    target: &str,
    name: &str,
    doc: &str,
) -> Result<(), Failure> {
    let w = kind.word();
    cx.call(
        Service::Iam,
        match kind {
            Kind::Role => "PutRolePolicy",
            Kind::User => "PutUserPolicy",
            Kind::Group => "PutGroupPolicy",
        },
        json!({format!("{w}Name"): target, "PolicyName": name, "PolicyDocument": doc}),
    )
    .await
    .map(|_| ())
}

async fn delete_inline(cx: &Cx<'_>, kind: Kind, target: &str, name: &str) -> Result<(), Failure> {
    let w = kind.word();
    tolerate_missing(
        cx.call(
            Service::Iam,
            match kind {
                Kind::Role => "DeleteRolePolicy",
                Kind::User => "DeleteUserPolicy",
                Kind::Group => "DeleteGroupPolicy",
            },
            json!({format!("{w}Name"): target, "PolicyName": name}),
        )
        .await,
    )
}

impl Provider for Policy {
    fn required(&self) -> &'static [&'static str] {
        &["PolicyDocument", "PolicyName"]
    }

    fn resource_type(&self) -> &'static str {
        POLICY
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["Id"]
    }
    fn replaces(&self) -> &'static [&'static str] {
        &[]
    }
    fn capability(&self, _: &Value) -> Option<Capability> {
        Some(Capability::Iam)
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(
                p,
                POLICY,
                &["PolicyName", "PolicyDocument", "Roles", "Users", "Groups"],
            )?;
            let name = req_str(p, "PolicyName", POLICY)?;
            let doc = document(p, "PolicyDocument", POLICY)?.unwrap_or_default();
            let all = targets(p, POLICY)?;
            if all.is_empty() {
                return Err(Failure::new(
                    "At least one of [Groups,Roles,Users] must be non-empty.",
                ));
            }
            // Put{Role,User,Group}Policy replaces an inline policy of the same name: one the
            // stack did not put is refused before anything is written; a refusal part way
            // takes back what this create put, so there is nothing to roll back.
            let every: Vec<&(Kind, String)> = all.iter().collect();
            refuse_taken(cx, &every, &name).await?;
            put_all(cx, &all, &every, &name, &doc).await?;
            let id = cx.generated_name(128, false);
            Ok(Made::id(id.clone())
                .with("Id", id)
                .with(APPLIED, applied_value(&name, &all)))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        old: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(
                new,
                POLICY,
                &["PolicyName", "PolicyDocument", "Roles", "Users", "Groups"],
            )?;
            let (old_name, before) = applied(current, old)?;
            let new_name = req_str(new, "PolicyName", POLICY)?;
            let after = targets(new, POLICY)?;
            let renamed = old_name != new_name;
            // The entities this update newly claims are checked before anything is written.
            let fresh: Vec<&(Kind, String)> = after
                .iter()
                .filter(|t| renamed || !before.iter().any(|b| same(b, t)))
                .collect();
            refuse_taken(cx, &fresh, &new_name).await?;
            for t in &before {
                if renamed || !after.iter().any(|a| same(a, t)) {
                    delete_inline(cx, t.0, &t.1, &old_name).await?;
                }
            }
            let doc = document(new, "PolicyDocument", POLICY)?.unwrap_or_default();
            put_all(cx, &after, &fresh, &new_name, &doc).await?;
            Ok(current
                .clone()
                .with(APPLIED, applied_value(&new_name, &after)))
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        made: &'a Made,
        p: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            let (name, list) = applied(made, p)?;
            for (kind, target) in list {
                delete_inline(cx, kind, &target, &name).await?;
            }
            Ok(())
        })
    }
}

/// `AWS::IAM::ManagedPolicy`.
pub struct ManagedPolicy;

const MANAGED: &str = "AWS::IAM::ManagedPolicy";
const MANAGED_PROPERTIES: &[&str] = &[
    "Description",
    "Groups",
    "ManagedPolicyName",
    "Path",
    "PolicyDocument",
    "Roles",
    "Users",
];

async fn attach(cx: &Cx<'_>, kind: Kind, target: &str, arn: &str, on: bool) -> Result<(), Failure> {
    let w = kind.word();
    let action = match (kind, on) {
        (Kind::Role, true) => "AttachRolePolicy",
        (Kind::User, true) => "AttachUserPolicy",
        (Kind::Group, true) => "AttachGroupPolicy",
        (Kind::Role, false) => "DetachRolePolicy",
        (Kind::User, false) => "DetachUserPolicy",
        (Kind::Group, false) => "DetachGroupPolicy",
    };
    let r = cx
        .call(
            Service::Iam,
            action,
            json!({format!("{w}Name"): target, "PolicyArn": arn}),
        )
        .await;
    if on {
        r.map(|_| ())
    } else {
        tolerate_missing(r)
    }
}

fn managed_name(cx: &Cx<'_>, p: &Value) -> Result<String, Failure> {
    Ok(match opt_str(p, "ManagedPolicyName", MANAGED)? {
        Some(n) => n,
        None => cx.generated_name(128, false),
    })
}

fn versions(out: &Value) -> Vec<(String, bool)> {
    out.get("Versions")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| {
                    let id = v.get("VersionId")?.as_str()?.to_owned();
                    let default = v.get("IsDefaultVersion").and_then(Value::as_str) == Some("true");
                    Some((id, default))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Provider for ManagedPolicy {
    fn required(&self) -> &'static [&'static str] {
        &["PolicyDocument"]
    }

    fn resource_type(&self) -> &'static str {
        MANAGED
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["PolicyArn", "PolicyId", "DefaultVersionId"]
    }
    fn replaces(&self) -> &'static [&'static str] {
        &["ManagedPolicyName", "Path", "Description"]
    }
    fn name_property(&self) -> Option<&'static str> {
        Some("ManagedPolicyName")
    }
    fn capability(&self, p: &Value) -> Option<Capability> {
        Some(if props(p).contains_key("ManagedPolicyName") {
            Capability::NamedIam
        } else {
            Capability::Iam
        })
    }
    fn intended_id(&self, cx: &Cx<'_>, p: &Value) -> Option<String> {
        let name = managed_name(cx, p).ok()?;
        let path = opt_str(p, "Path", MANAGED)
            .ok()
            .flatten()
            .unwrap_or_else(|| "/".to_owned());
        Some(format!("arn:aws:iam::{}:policy{path}{name}", cx.account))
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(p, MANAGED, MANAGED_PROPERTIES)?;
            let name = managed_name(cx, p)?;
            let doc = document(p, "PolicyDocument", MANAGED)?
                .ok_or_else(|| Failure::schema("#: required key [PolicyDocument] not found"))?;
            let mut input = json!({"PolicyName": name, "PolicyDocument": doc});
            for k in ["Path", "Description"] {
                if let Some(v) = opt_str(p, k, MANAGED)? {
                    input[k] = json!(v);
                }
            }
            let out = cx.call(Service::Iam, "CreatePolicy", input).await?;
            let policy = out.get("Policy").cloned().unwrap_or(Value::Null);
            let arn = policy
                .get("Arn")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            for (kind, target) in targets(p, MANAGED)? {
                attach(cx, kind, &target, &arn, true)
                    .await
                    .map_err(|f| f.made(&arn))?;
            }
            Ok(Made::id(arn.clone())
                .with("PolicyArn", arn)
                .with(
                    "PolicyId",
                    policy.get("PolicyId").cloned().unwrap_or(Value::Null),
                )
                .with(
                    "DefaultVersionId",
                    policy
                        .get("DefaultVersionId")
                        .cloned()
                        .unwrap_or(Value::Null),
                ))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        old: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(new, MANAGED, MANAGED_PROPERTIES)?;
            let arn = current.physical_id.clone();
            let mut made = current.clone();
            if props(old).get("PolicyDocument") != props(new).get("PolicyDocument") {
                let doc = document(new, "PolicyDocument", MANAGED)?.unwrap_or_default();
                let listed = cx
                    .call(
                        Service::Iam,
                        "ListPolicyVersions",
                        json!({"PolicyArn": arn}),
                    )
                    .await?;
                let existing = versions(&listed);
                if existing.len() >= 5
                    && let Some((oldest, _)) = existing.iter().rev().find(|(_, d)| !d)
                {
                    cx.call(
                        Service::Iam,
                        "DeletePolicyVersion",
                        json!({"PolicyArn": arn, "VersionId": oldest}),
                    )
                    .await?;
                }
                let out = cx
                    .call(
                        Service::Iam,
                        "CreatePolicyVersion",
                        json!({"PolicyArn": arn, "PolicyDocument": doc, "SetAsDefault": true}),
                    )
                    .await?;
                if let Some(v) = out.get("PolicyVersion").and_then(|v| v.get("VersionId")) {
                    made = made.with("DefaultVersionId", v.clone());
                }
            }
            let (before, after) = (targets(old, MANAGED)?, targets(new, MANAGED)?);
            let same =
                |a: &(Kind, String), b: &(Kind, String)| a.0.word() == b.0.word() && a.1 == b.1;
            for t in before.iter().filter(|t| !after.iter().any(|a| same(t, a))) {
                attach(cx, t.0, &t.1, &arn, false).await?;
            }
            for t in after.iter().filter(|t| !before.iter().any(|b| same(t, b))) {
                attach(cx, t.0, &t.1, &arn, true).await?;
            }
            Ok(made)
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        p: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            let arn = &current.physical_id;
            for (kind, target) in targets(p, MANAGED)? {
                attach(cx, kind, &target, arn, false).await?;
            }
            let listed = cx
                .call(
                    Service::Iam,
                    "ListPolicyVersions",
                    json!({"PolicyArn": arn}),
                )
                .await?;
            for (id, default) in versions(&listed) {
                if !default {
                    cx.call(
                        Service::Iam,
                        "DeletePolicyVersion",
                        json!({"PolicyArn": arn, "VersionId": id}),
                    )
                    .await?;
                }
            }
            cx.call(Service::Iam, "DeletePolicy", json!({"PolicyArn": arn}))
                .await
                .map(|_| ())
        })
    }
}
