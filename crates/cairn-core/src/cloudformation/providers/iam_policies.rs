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

/// `AWS::IAM::Policy`. A create refuses a role, user or group that already has an inline policy
/// of the name (`AlreadyExists`).
pub struct Policy;

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
            // stack did not put is refused before anything is written, so a rollback or a
            // delete never removes it.
            for (kind, target) in &all {
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
            let id = cx.generated_name(128, false);
            for (kind, target) in &all {
                put_inline(cx, *kind, target, &name, &doc)
                    .await
                    .map_err(|f| f.made(&id))?;
            }
            Ok(Made::id(id.clone()).with("Id", id))
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
            let (old_name, new_name) = (
                req_str(old, "PolicyName", POLICY)?,
                req_str(new, "PolicyName", POLICY)?,
            );
            let (before, after) = (targets(old, POLICY)?, targets(new, POLICY)?);
            for (kind, target) in &before {
                let kept = after
                    .iter()
                    .any(|(k, t)| k.word() == kind.word() && t == target);
                if !kept || old_name != new_name {
                    delete_inline(cx, *kind, target, &old_name).await?;
                }
            }
            let doc = document(new, "PolicyDocument", POLICY)?.unwrap_or_default();
            for (kind, target) in &after {
                put_inline(cx, *kind, target, &new_name, &doc).await?;
            }
            Ok(current.clone())
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        _: &'a Made,
        p: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            let name = req_str(p, "PolicyName", POLICY)?;
            for (kind, target) in targets(p, POLICY)? {
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
