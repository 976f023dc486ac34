//! `AWS::IAM::Role`, `AWS::IAM::User`, `AWS::IAM::Group` and `AWS::IAM::AccessKey`, with
//! the inline policies, managed policy attachments, tags and boundaries of each entity.

use serde_json::{Value, json};

use super::util::{document, only, opt_int, opt_str, props, req_str, str_list, tag_list, tags};
use super::{Capability, Cx, Failure, Made, Provider};
use crate::cloudformation::services::{BoxFuture, Service};

/// Which kind of IAM entity a provider manages.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Role,
    User,
    Group,
}

impl Kind {
    pub(super) fn word(self) -> &'static str {
        match self {
            Self::Role => "Role",
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Self::Role => "AWS::IAM::Role",
            Self::User => "AWS::IAM::User",
            Self::Group => "AWS::IAM::Group",
        }
    }

    fn taggable(self) -> bool {
        !matches!(self, Self::Group)
    }
}

fn inline_policies(p: &Value, type_name: &str) -> Result<Vec<(String, String)>, Failure> {
    let Some(list) = props(p).get("Policies") else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = list else {
        return Err(Failure::schema("#/Policies: expected type: JSONArray"));
    };
    items
        .iter()
        .map(|i| {
            Ok((
                req_str(i, "PolicyName", type_name)?,
                document(i, "PolicyDocument", type_name)?.unwrap_or_default(),
            ))
        })
        .collect()
}

/// Brings an entity's inline policies, managed attachments, tags and boundary from `old` to
/// `new` (`old` `None`: the entity was just created with its tags and boundary).
pub(super) async fn sync_entity(
    cx: &Cx<'_>,
    kind: Kind,
    name: &str,
    old: Option<&Value>,
    new: &Value,
) -> Result<(), Failure> {
    let t = kind.type_name();
    let w = kind.word();
    let key = format!("{w}Name");
    let empty = Value::Object(Default::default());
    let before = old.unwrap_or(&empty);
    let (old_inline, new_inline) = (inline_policies(before, t)?, inline_policies(new, t)?);
    for (pname, _) in old_inline
        .iter()
        .filter(|(n, _)| !new_inline.iter().any(|(m, _)| m == n))
    {
        let action = match kind {
            Kind::Role => "DeleteRolePolicy",
            Kind::User => "DeleteUserPolicy",
            Kind::Group => "DeleteGroupPolicy",
        };
        cx.call(
            Service::Iam,
            action,
            json!({key.as_str(): name, "PolicyName": pname}),
        )
        .await?;
    }
    for (pname, doc) in new_inline.iter().filter(|x| !old_inline.contains(x)) {
        let action = match kind {
            Kind::Role => "PutRolePolicy",
            Kind::User => "PutUserPolicy",
            Kind::Group => "PutGroupPolicy",
        };
        cx.call(
            Service::Iam,
            action,
            json!({key.as_str(): name, "PolicyName": pname, "PolicyDocument": doc}),
        )
        .await?;
    }
    let (old_arns, new_arns) = (
        str_list(before, "ManagedPolicyArns", t)?,
        str_list(new, "ManagedPolicyArns", t)?,
    );
    for arn in old_arns.iter().filter(|a| !new_arns.contains(a)) {
        let action = match kind {
            Kind::Role => "DetachRolePolicy",
            Kind::User => "DetachUserPolicy",
            Kind::Group => "DetachGroupPolicy",
        };
        cx.call(
            Service::Iam,
            action,
            json!({key.as_str(): name, "PolicyArn": arn}),
        )
        .await?;
    }
    for arn in new_arns.iter().filter(|a| !old_arns.contains(a)) {
        let action = match kind {
            Kind::Role => "AttachRolePolicy",
            Kind::User => "AttachUserPolicy",
            Kind::Group => "AttachGroupPolicy",
        };
        cx.call(
            Service::Iam,
            action,
            json!({key.as_str(): name, "PolicyArn": arn}),
        )
        .await?;
    }
    if old.is_some() && kind.taggable() {
        let (a, b) = (
            tags(before, t, cx.old_stack_tags)?,
            tags(new, t, cx.stack_tags)?,
        );
        let removed: Vec<String> = a
            .iter()
            .filter(|(k, _)| !b.iter().any(|(n, _)| n == k))
            .map(|(k, _)| k.clone())
            .collect();
        if !removed.is_empty() {
            cx.call(
                Service::Iam,
                if matches!(kind, Kind::Role) {
                    "UntagRole"
                } else {
                    "UntagUser"
                },
                json!({key.as_str(): name, "TagKeys": removed}),
            )
            .await?;
        }
        if a != b && !b.is_empty() {
            cx.call(
                Service::Iam,
                if matches!(kind, Kind::Role) {
                    "TagRole"
                } else {
                    "TagUser"
                },
                json!({key.as_str(): name, "Tags": tag_list(&b)}),
            )
            .await?;
        }
        let (ob, nb) = (
            opt_str(before, "PermissionsBoundary", t)?,
            opt_str(new, "PermissionsBoundary", t)?,
        );
        if ob != nb {
            match &nb {
                Some(arn) => {
                    cx.call(
                        Service::Iam,
                        if matches!(kind, Kind::Role) {
                            "PutRolePermissionsBoundary"
                        } else {
                            "PutUserPermissionsBoundary"
                        },
                        json!({key.as_str(): name, "PermissionsBoundary": arn}),
                    )
                    .await?;
                }
                None => {
                    cx.call(
                        Service::Iam,
                        if matches!(kind, Kind::Role) {
                            "DeleteRolePermissionsBoundary"
                        } else {
                            "DeleteUserPermissionsBoundary"
                        },
                        json!({key.as_str(): name}),
                    )
                    .await?;
                }
            }
        }
    }
    Ok(())
}

/// Every page of a `List…Policies`/`ListAttached…Policies` call's `list` members.
async fn list_all(
    cx: &Cx<'_>,
    action: &'static str,
    key: &str,
    name: &str,
    list: &str,
) -> Result<Vec<Value>, Failure> {
    let mut items = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut input = json!({key: name});
        if let Some(m) = &marker {
            input["Marker"] = json!(m);
        }
        let out = cx.call(Service::Iam, action, input).await?;
        if let Some(page) = out.get(list).and_then(Value::as_array) {
            items.extend(page.iter().cloned());
        }
        marker = out
            .get("Marker")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        let truncated = out.get("IsTruncated").and_then(Value::as_str) == Some("true");
        if !truncated || marker.is_none() {
            return Ok(items);
        }
    }
}

/// Empties an entity before its delete, as CloudFormation's delete handlers do: it lists the
/// managed policies attached and the inline policies the entity has now, and removes just
/// those, so a rollback after a failed `PutRolePolicy` does not ask to delete a policy that
/// was never added (and fail on it). An entity already gone has nothing to empty.
async fn strip_entity(cx: &Cx<'_>, kind: Kind, name: &str) -> Result<(), Failure> {
    let key = format!("{}Name", kind.word());
    let (list_attached, detach, list_inline, delete) = match kind {
        Kind::Role => (
            "ListAttachedRolePolicies",
            "DetachRolePolicy",
            "ListRolePolicies",
            "DeleteRolePolicy",
        ),
        Kind::User => (
            "ListAttachedUserPolicies",
            "DetachUserPolicy",
            "ListUserPolicies",
            "DeleteUserPolicy",
        ),
        Kind::Group => (
            "ListAttachedGroupPolicies",
            "DetachGroupPolicy",
            "ListGroupPolicies",
            "DeleteGroupPolicy",
        ),
    };
    let stripped = async {
        for attached in list_all(cx, list_attached, &key, name, "AttachedPolicies").await? {
            if let Some(arn) = attached.get("PolicyArn").and_then(Value::as_str) {
                cx.call(
                    Service::Iam,
                    detach,
                    json!({key.as_str(): name, "PolicyArn": arn}),
                )
                .await?;
            }
        }
        for policy in list_all(cx, list_inline, &key, name, "PolicyNames").await? {
            if let Some(pname) = policy.as_str() {
                cx.call(
                    Service::Iam,
                    delete,
                    json!({key.as_str(): name, "PolicyName": pname}),
                )
                .await?;
            }
        }
        Ok::<(), Failure>(())
    };
    match stripped.await {
        Err(f) if f.is_not_found() => Ok(()),
        other => other,
    }
}

fn entity_name(cx: &Cx<'_>, p: &Value, kind: Kind, max: usize) -> Result<String, Failure> {
    Ok(
        match opt_str(p, &format!("{}Name", kind.word()), kind.type_name())? {
            Some(n) => n,
            None => cx.generated_name(max, false),
        },
    )
}

fn named_capability(p: &Value, key: &str) -> Option<Capability> {
    Some(if props(p).contains_key(key) {
        Capability::NamedIam
    } else {
        Capability::Iam
    })
}

fn arn_of(out: &Value, element: &str) -> String {
    out.get(element)
        .and_then(|e| e.get("Arn"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// `AWS::IAM::Role`.
pub struct Role;

const ROLE_PROPERTIES: &[&str] = &[
    "AssumeRolePolicyDocument",
    "Description",
    "ManagedPolicyArns",
    "MaxSessionDuration",
    "Path",
    "PermissionsBoundary",
    "Policies",
    "RoleName",
    "Tags",
];

impl Provider for Role {
    fn required(&self) -> &'static [&'static str] {
        &["AssumeRolePolicyDocument"]
    }

    fn resource_type(&self) -> &'static str {
        "AWS::IAM::Role"
    }
    fn takes_stack_tags(&self) -> bool {
        true
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["Arn", "RoleId"]
    }
    fn replaces(&self) -> &'static [&'static str] {
        &["RoleName", "Path"]
    }
    fn name_property(&self) -> Option<&'static str> {
        Some("RoleName")
    }
    fn capability(&self, p: &Value) -> Option<Capability> {
        named_capability(p, "RoleName")
    }
    fn intended_id(&self, cx: &Cx<'_>, p: &Value) -> Option<String> {
        entity_name(cx, p, Kind::Role, 64).ok()
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            let t = "AWS::IAM::Role";
            only(p, t, ROLE_PROPERTIES)?;
            let name = entity_name(cx, p, Kind::Role, 64)?;
            let trust = document(p, "AssumeRolePolicyDocument", t)?.ok_or_else(|| {
                Failure::schema("#: required key [AssumeRolePolicyDocument] not found")
            })?;
            let mut input = json!({"RoleName": name, "AssumeRolePolicyDocument": trust});
            for k in ["Path", "Description", "PermissionsBoundary"] {
                if let Some(v) = opt_str(p, k, t)? {
                    input[k] = json!(v);
                }
            }
            if let Some(m) = opt_int(p, "MaxSessionDuration", t)? {
                input["MaxSessionDuration"] = json!(m);
            }
            let all_tags = tags(p, t, cx.stack_tags)?;
            if !all_tags.is_empty() {
                input["Tags"] = tag_list(&all_tags);
            }
            let out = cx.call(Service::Iam, "CreateRole", input).await?;
            sync_entity(cx, Kind::Role, &name, None, p)
                .await
                .map_err(|f| f.made(&name))?;
            let role_id = out
                .get("Role")
                .and_then(|r| r.get("RoleId"))
                .cloned()
                .unwrap_or(Value::Null);
            Ok(Made::id(name)
                .with("Arn", arn_of(&out, "Role"))
                .with("RoleId", role_id))
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
            let t = "AWS::IAM::Role";
            only(new, t, ROLE_PROPERTIES)?;
            let name = &current.physical_id;
            let (o, n) = (props(old), props(new));
            if o.get("AssumeRolePolicyDocument") != n.get("AssumeRolePolicyDocument") {
                let doc = document(new, "AssumeRolePolicyDocument", t)?.unwrap_or_default();
                cx.call(
                    Service::Iam,
                    "UpdateAssumeRolePolicy",
                    json!({"RoleName": name, "PolicyDocument": doc}),
                )
                .await?;
            }
            if o.get("Description") != n.get("Description")
                || o.get("MaxSessionDuration") != n.get("MaxSessionDuration")
            {
                let mut input = json!({"RoleName": name, "Description": opt_str(new, "Description", t)?.unwrap_or_default()});
                if let Some(m) = opt_int(new, "MaxSessionDuration", t)? {
                    input["MaxSessionDuration"] = json!(m);
                }
                cx.call(Service::Iam, "UpdateRole", input).await?;
            }
            sync_entity(cx, Kind::Role, name, Some(old), new).await?;
            Ok(current.clone())
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        _: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            strip_entity(cx, Kind::Role, &current.physical_id).await?;
            cx.call(
                Service::Iam,
                "DeleteRole",
                json!({"RoleName": current.physical_id}),
            )
            .await
            .map(|_| ())
        })
    }
}

/// `AWS::IAM::User`.
pub struct User;

const USER_PROPERTIES: &[&str] = &[
    "Groups",
    "ManagedPolicyArns",
    "Path",
    "PermissionsBoundary",
    "Policies",
    "Tags",
    "UserName",
];

async fn sync_groups(
    cx: &Cx<'_>,
    name: &str,
    old: &[String],
    new: &[String],
) -> Result<(), Failure> {
    for g in old.iter().filter(|g| !new.contains(g)) {
        match cx
            .call(
                Service::Iam,
                "RemoveUserFromGroup",
                json!({"UserName": name, "GroupName": g}),
            )
            .await
        {
            Err(f) if f.is_not_found() => {}
            other => {
                other?;
            }
        }
    }
    for g in new.iter().filter(|g| !old.contains(g)) {
        cx.call(
            Service::Iam,
            "AddUserToGroup",
            json!({"UserName": name, "GroupName": g}),
        )
        .await?;
    }
    Ok(())
}

impl Provider for User {
    fn resource_type(&self) -> &'static str {
        "AWS::IAM::User"
    }
    fn takes_stack_tags(&self) -> bool {
        true
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["Arn"]
    }
    fn replaces(&self) -> &'static [&'static str] {
        // `Path` is updated in place (UpdateUser `NewPath`): only the name is create-only in
        // the resource's registry schema, so the user keeps its keys and groups.
        &["UserName"]
    }
    fn name_property(&self) -> Option<&'static str> {
        Some("UserName")
    }
    fn capability(&self, p: &Value) -> Option<Capability> {
        named_capability(p, "UserName")
    }
    fn intended_id(&self, cx: &Cx<'_>, p: &Value) -> Option<String> {
        entity_name(cx, p, Kind::User, 64).ok()
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            let t = "AWS::IAM::User";
            only(p, t, USER_PROPERTIES)?;
            let name = entity_name(cx, p, Kind::User, 64)?;
            let mut input = json!({"UserName": name});
            for k in ["Path", "PermissionsBoundary"] {
                if let Some(v) = opt_str(p, k, t)? {
                    input[k] = json!(v);
                }
            }
            let all_tags = tags(p, t, cx.stack_tags)?;
            if !all_tags.is_empty() {
                input["Tags"] = tag_list(&all_tags);
            }
            let out = cx.call(Service::Iam, "CreateUser", input).await?;
            sync_entity(cx, Kind::User, &name, None, p)
                .await
                .map_err(|f| f.made(&name))?;
            sync_groups(cx, &name, &[], &str_list(p, "Groups", t)?)
                .await
                .map_err(|f| f.made(&name))?;
            Ok(Made::id(name).with("Arn", arn_of(&out, "User")))
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
            let t = "AWS::IAM::User";
            only(new, t, USER_PROPERTIES)?;
            let moved = move_path(cx, Kind::User, &current.physical_id, old, new, t).await?;
            sync_entity(cx, Kind::User, &current.physical_id, Some(old), new).await?;
            sync_groups(
                cx,
                &current.physical_id,
                &str_list(old, "Groups", t)?,
                &str_list(new, "Groups", t)?,
            )
            .await?;
            Ok(with_arn(current, moved))
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        p: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            let name = &current.physical_id;
            sync_groups(cx, name, &str_list(p, "Groups", "AWS::IAM::User")?, &[])
                .await
                .or_else(|f| if f.is_not_found() { Ok(()) } else { Err(f) })?;
            strip_entity(cx, Kind::User, name).await?;
            cx.call(Service::Iam, "DeleteUser", json!({"UserName": name}))
                .await
                .map(|_| ())
        })
    }
}

/// `AWS::IAM::Group`.
pub struct Group;

impl Provider for Group {
    fn resource_type(&self) -> &'static str {
        "AWS::IAM::Group"
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["Arn"]
    }
    fn replaces(&self) -> &'static [&'static str] {
        // `Path` is updated in place (UpdateGroup `NewPath`), as for a user.
        &["GroupName"]
    }
    fn name_property(&self) -> Option<&'static str> {
        Some("GroupName")
    }
    fn capability(&self, p: &Value) -> Option<Capability> {
        named_capability(p, "GroupName")
    }
    fn intended_id(&self, cx: &Cx<'_>, p: &Value) -> Option<String> {
        entity_name(cx, p, Kind::Group, 128).ok()
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            let t = "AWS::IAM::Group";
            only(
                p,
                t,
                &["GroupName", "ManagedPolicyArns", "Path", "Policies"],
            )?;
            let name = entity_name(cx, p, Kind::Group, 128)?;
            let mut input = json!({"GroupName": name});
            if let Some(v) = opt_str(p, "Path", t)? {
                input["Path"] = json!(v);
            }
            let out = cx.call(Service::Iam, "CreateGroup", input).await?;
            sync_entity(cx, Kind::Group, &name, None, p)
                .await
                .map_err(|f| f.made(&name))?;
            Ok(Made::id(name).with("Arn", arn_of(&out, "Group")))
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
                "AWS::IAM::Group",
                &["GroupName", "ManagedPolicyArns", "Path", "Policies"],
            )?;
            let t = "AWS::IAM::Group";
            let moved = move_path(cx, Kind::Group, &current.physical_id, old, new, t).await?;
            sync_entity(cx, Kind::Group, &current.physical_id, Some(old), new).await?;
            Ok(with_arn(current, moved))
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        _: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            strip_entity(cx, Kind::Group, &current.physical_id).await?;
            cx.call(
                Service::Iam,
                "DeleteGroup",
                json!({"GroupName": current.physical_id}),
            )
            .await
            .map(|_| ())
        })
    }
}

/// `current` with its new ARN, when it moved.
fn with_arn(current: &Made, moved: Option<String>) -> Made {
    match moved {
        Some(arn) => current.clone().with("Arn", arn),
        None => current.clone(),
    }
}

/// A user's or group's new `Path` (absent is `/`), set in place with UpdateUser or
/// UpdateGroup `NewPath`. Returns the entity's new ARN (its path is part of it) when it moved.
async fn move_path(
    cx: &Cx<'_>,
    kind: Kind,
    name: &str,
    old: &Value,
    new: &Value,
    t: &str,
) -> Result<Option<String>, Failure> {
    let path = |p: &Value| -> Result<String, Failure> {
        Ok(opt_str(p, "Path", t)?.unwrap_or_else(|| "/".to_owned()))
    };
    let (before, after) = (path(old)?, path(new)?);
    if before == after {
        return Ok(None);
    }
    let (update, get, member, element) = match kind {
        Kind::Group => ("UpdateGroup", "GetGroup", "GroupName", "Group"),
        _ => ("UpdateUser", "GetUser", "UserName", "User"),
    };
    cx.call(
        Service::Iam,
        update,
        json!({member: name, "NewPath": after}),
    )
    .await?;
    let out = cx.call(Service::Iam, get, json!({member: name})).await?;
    Ok(Some(arn_of(&out, element)))
}

/// `AWS::IAM::AccessKey`: `UserName`, `Status`, `Serial`. `Ref` is the access key id;
/// `Fn::GetAtt … SecretAccessKey` the secret.
pub struct AccessKey;

impl Provider for AccessKey {
    fn resource_type(&self) -> &'static str {
        "AWS::IAM::AccessKey"
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["SecretAccessKey"]
    }
    fn replaces(&self) -> &'static [&'static str] {
        &["UserName", "Serial"]
    }
    fn capability(&self, _: &Value) -> Option<Capability> {
        Some(Capability::Iam)
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            let t = "AWS::IAM::AccessKey";
            only(p, t, &["UserName", "Status", "Serial"])?;
            let user = req_str(p, "UserName", t)?;
            // Checked before the key is made: `inactive` made a live key (cfn5).
            let status = opt_str(p, "Status", t)?;
            if let Some(s) = status
                .as_deref()
                .filter(|s| !matches!(*s, "Active" | "Inactive"))
            {
                return Err(Failure::schema(format!(
                    "#/Status: {s} is not a valid enum value"
                )));
            }
            let out = cx
                .call(Service::Iam, "CreateAccessKey", json!({"UserName": user}))
                .await?;
            let key = out.get("AccessKey").cloned().unwrap_or(Value::Null);
            let id = key
                .get("AccessKeyId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let secret = key.get("SecretAccessKey").cloned().unwrap_or(Value::Null);
            if status.as_deref() == Some("Inactive") {
                cx.call(
                    Service::Iam,
                    "UpdateAccessKey",
                    json!({"UserName": user, "AccessKeyId": id, "Status": "Inactive"}),
                )
                .await
                .map_err(|f| f.made(&id))?;
            }
            Ok(Made::id(id).with("SecretAccessKey", secret))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        _: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            let t = "AWS::IAM::AccessKey";
            let status = opt_str(new, "Status", t)?.unwrap_or_else(|| "Active".to_owned());
            cx.call(
                Service::Iam,
                "UpdateAccessKey",
                json!({"UserName": req_str(new, "UserName", t)?, "AccessKeyId": current.physical_id, "Status": status}),
            )
            .await?;
            Ok(current.clone())
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        p: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            let user = req_str(p, "UserName", "AWS::IAM::AccessKey")?;
            cx.call(
                Service::Iam,
                "DeleteAccessKey",
                json!({"UserName": user, "AccessKeyId": current.physical_id}),
            )
            .await
            .map(|_| ())
        })
    }
}
