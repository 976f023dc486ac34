//! `AWS::KMS::Key` and `AWS::KMS::Alias`, made through KMS's operations (CreateKey,
//! PutKeyPolicy, EnableKeyRotation, CreateAlias, …). Deleting a key schedules its deletion
//! (`PendingWindowInDays`, 30 by default), as CloudFormation does.

use serde_json::{Value, json};

use super::util::{
    document, only, opt_bool, opt_int, opt_str, props, removed_tag_keys, req_str, tags,
};
use super::{Cx, Failure, Made, Provider};
use crate::cloudformation::services::{BoxFuture, Service};

const KEY: &str = "AWS::KMS::Key";
const ALIAS: &str = "AWS::KMS::Alias";

const KEY_PROPERTIES: &[&str] = &[
    "Description",
    "Enabled",
    "EnableKeyRotation",
    "KeyPolicy",
    "KeySpec",
    "KeyUsage",
    "MultiRegion",
    "PendingWindowInDays",
    "RotationPeriodInDays",
    "BypassPolicyLockoutSafetyCheck",
    "Tags",
];

/// `AWS::KMS::Key`. `Ref` is the key id; attributes `Arn` and `KeyId`.
pub struct Key;

fn kms_tags(t: &[(String, String)]) -> Value {
    Value::Array(
        t.iter()
            .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
            .collect(),
    )
}

async fn rotation(cx: &Cx<'_>, key_id: &str, p: &Value) -> Result<(), Failure> {
    match opt_bool(p, "EnableKeyRotation", KEY)? {
        Some(true) => {
            let mut input = json!({"KeyId": key_id});
            if let Some(d) = opt_int(p, "RotationPeriodInDays", KEY)? {
                input["RotationPeriodInDays"] = json!(d);
            }
            cx.call(Service::Kms, "EnableKeyRotation", input).await?;
        }
        _ => {
            cx.call(Service::Kms, "DisableKeyRotation", json!({"KeyId": key_id}))
                .await?;
        }
    }
    Ok(())
}

async fn enabled(cx: &Cx<'_>, key_id: &str, on: bool) -> Result<(), Failure> {
    let action = if on { "EnableKey" } else { "DisableKey" };
    cx.call(Service::Kms, action, json!({"KeyId": key_id}))
        .await
        .map(|_| ())
}

impl Provider for Key {
    fn resource_type(&self) -> &'static str {
        KEY
    }
    fn takes_stack_tags(&self) -> bool {
        true
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["Arn", "KeyId"]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &["KeySpec", "KeyUsage", "MultiRegion"]
    }

    // AWS::KMS::Key reference: "If you change the value of the KeySpec, KeyUsage, Origin, or
    // MultiRegion properties of an existing KMS key, the update request fails, regardless of
    // the value of the UpdateReplacePolicy attribute" (a replacement deleted the old key and
    // everything encrypted under it).
    fn immutable(&self) -> &'static [&'static str] {
        &["KeySpec", "KeyUsage", "MultiRegion"]
    }

    fn defaults(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("KeySpec", "SYMMETRIC_DEFAULT"),
            ("KeyUsage", "ENCRYPT_DECRYPT"),
            ("MultiRegion", "false"),
            ("Enabled", "true"),
            ("EnableKeyRotation", "false"),
        ]
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(p, KEY, KEY_PROPERTIES)?;
            // Checked at create, as the schema does: a value KMS refuses used to fail only the
            // stack's deletion (cfn5).
            if let Some(days) = opt_int(p, "PendingWindowInDays", KEY)?
                && !(7..=30).contains(&days)
            {
                return Err(Failure::schema(format!(
                    "#/PendingWindowInDays: {days} is not {} {}",
                    if days < 7 {
                        "greater or equal to"
                    } else {
                        "less or equal to"
                    },
                    if days < 7 { 7 } else { 30 }
                )));
            }
            let mut input = json!({});
            for (prop, member) in [
                ("Description", "Description"),
                ("KeySpec", "KeySpec"),
                ("KeyUsage", "KeyUsage"),
            ] {
                if let Some(v) = opt_str(p, prop, KEY)? {
                    input[member] = v.into();
                }
            }
            if let Some(doc) = document(p, "KeyPolicy", KEY)? {
                input["Policy"] = doc.into();
            }
            for flag in ["MultiRegion", "BypassPolicyLockoutSafetyCheck"] {
                if let Some(b) = opt_bool(p, flag, KEY)? {
                    input[flag] = b.into();
                }
            }
            let t = tags(p, KEY, cx.stack_tags)?;
            if !t.is_empty() {
                input["Tags"] = kms_tags(&t);
            }
            let out = cx.call(Service::Kms, "CreateKey", input).await?;
            let meta = out.get("KeyMetadata").cloned().unwrap_or_default();
            let key_id = meta
                .get("KeyId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let arn = meta
                .get("Arn")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let settle = async {
                if opt_bool(p, "EnableKeyRotation", KEY)? == Some(true) {
                    rotation(cx, &key_id, p).await?;
                }
                if opt_bool(p, "Enabled", KEY)? == Some(false) {
                    enabled(cx, &key_id, false).await?;
                }
                Ok::<(), Failure>(())
            };
            settle.await.map_err(|f| f.made(&key_id))?;
            Ok(Made::id(key_id.clone())
                .with("Arn", arn)
                .with("KeyId", key_id))
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
            only(new, KEY, KEY_PROPERTIES)?;
            let id = current.physical_id.as_str();
            let changed = |k: &str| props(old).get(k) != props(new).get(k);
            if changed("Description") {
                let d = opt_str(new, "Description", KEY)?.unwrap_or_default();
                cx.call(
                    Service::Kms,
                    "UpdateKeyDescription",
                    json!({"KeyId": id, "Description": d}),
                )
                .await?;
            }
            if changed("KeyPolicy")
                && let Some(doc) = document(new, "KeyPolicy", KEY)?
            {
                cx.call(
                    Service::Kms,
                    "PutKeyPolicy",
                    json!({"KeyId": id, "PolicyName": "default", "Policy": doc}),
                )
                .await?;
            }
            // AWS's key handler: a key being enabled is enabled first, rotation is updated
            // next, and a key being disabled is disabled last (cfn11 F1: disabling first
            // failed the rotation change with DisabledException); rotation of a key that
            // stays disabled is refused with the handler's own reason (F5).
            let was = opt_bool(old, "Enabled", KEY)?.unwrap_or(true);
            let will = opt_bool(new, "Enabled", KEY)?.unwrap_or(true);
            let rotation_changed = changed("EnableKeyRotation") || changed("RotationPeriodInDays");
            // (A rollback asking back what never changed has nothing to do.)
            let rotation_changed = rotation_changed
                && (was
                    || will
                    || cx
                        .call(Service::Kms, "GetKeyRotationStatus", json!({"KeyId": id}))
                        .await?
                        .get("KeyRotationEnabled")
                        .and_then(Value::as_bool)
                        != Some(opt_bool(new, "EnableKeyRotation", KEY)?.unwrap_or(false)));
            if rotation_changed && !was && !will {
                return Err(Failure::new(
                    "You cannot modify the EnableKeyRotation property when the Enabled property is false. Set Enabled to true to modify the EnableKeyRotation property.".to_owned(),
                ));
            }
            if changed("Enabled") && will {
                enabled(cx, id, true).await?;
            }
            if rotation_changed {
                rotation(cx, id, new).await?;
            }
            if changed("Enabled") && !will {
                enabled(cx, id, false).await?;
            }
            let (before, after) = (
                tags(old, KEY, cx.old_stack_tags)?,
                tags(new, KEY, cx.stack_tags)?,
            );
            if before != after {
                let gone = removed_tag_keys(&before, &after);
                if !gone.is_empty() {
                    cx.call(
                        Service::Kms,
                        "UntagResource",
                        json!({"KeyId": id, "TagKeys": gone}),
                    )
                    .await?;
                }
                if !after.is_empty() {
                    cx.call(
                        Service::Kms,
                        "TagResource",
                        json!({"KeyId": id, "Tags": kms_tags(&after)}),
                    )
                    .await?;
                }
            }
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
            let days = opt_int(p, "PendingWindowInDays", KEY)?.unwrap_or(30);
            match cx
                .call(
                    Service::Kms,
                    "ScheduleKeyDeletion",
                    json!({"KeyId": current.physical_id, "PendingWindowInDays": days}),
                )
                .await
            {
                // A key already pending deletion (scheduled outside the stack) is gone as far
                // as the stack goes: AWS's key handler takes KMS's invalid state as not found.
                Err(f) if f.code.as_deref() == Some("KMSInvalidStateException") => Ok(()),
                other => other.map(|_| ()),
            }
        })
    }
}

/// `AWS::KMS::Alias`: `AliasName` (replaces) and `TargetKeyId` (updated in place). `Ref` is
/// the alias name.
pub struct Alias;

impl Provider for Alias {
    fn required(&self) -> &'static [&'static str] {
        &["AliasName", "TargetKeyId"]
    }

    fn resource_type(&self) -> &'static str {
        ALIAS
    }

    fn attributes(&self) -> &'static [&'static str] {
        &[]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &["AliasName"]
    }

    fn name_property(&self) -> Option<&'static str> {
        Some("AliasName")
    }

    fn intended_id(&self, _: &Cx<'_>, p: &Value) -> Option<String> {
        opt_str(p, "AliasName", ALIAS).ok().flatten()
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(p, ALIAS, &["AliasName", "TargetKeyId"])?;
            let name = req_str(p, "AliasName", ALIAS)?;
            cx.call(
                Service::Kms,
                "CreateAlias",
                json!({"AliasName": name, "TargetKeyId": req_str(p, "TargetKeyId", ALIAS)?}),
            )
            .await?;
            Ok(Made::id(name))
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
            only(new, ALIAS, &["AliasName", "TargetKeyId"])?;
            cx.call(
                Service::Kms,
                "UpdateAlias",
                json!({"AliasName": current.physical_id, "TargetKeyId": req_str(new, "TargetKeyId", ALIAS)?}),
            )
            .await?;
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
            cx.call(
                Service::Kms,
                "DeleteAlias",
                json!({"AliasName": current.physical_id}),
            )
            .await
            .map(|_| ())
        })
    }
}
