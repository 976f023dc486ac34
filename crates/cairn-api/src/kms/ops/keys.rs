//! CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey, ScheduleKeyDeletion,
//! CancelKeyDeletion, UpdateKeyDescription.

use cairn_core::authz::Permission;
use cairn_core::error::ApiResult;
use cairn_core::kms::authz::{KeyAction, KeyPermission, key_permission};
use cairn_core::kms::keys::{self, CreateKeyInput};
use cairn_core::kms::{aliases, grants, metadata, page_limit};
use cairn_store::Connection;
use serde_json::{Map, Value, json};

use super::{Call, Env, Reply};
use crate::kms::input;
use crate::kms::shapes::{java_date, key_metadata, key_metadata_record, paged};
use crate::wire::{epoch, opt_bool, opt_i64, opt_str};

struct CreateKey(CreateKeyInput);

pub(super) fn create_key(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(CreateKey(CreateKeyInput {
        policy: input::opt_text(b, "Policy", 1, 131_072)?,
        description: input::opt_text(b, "Description", 0, 8192)?,
        key_usage: opt_str(b, "KeyUsage")?,
        key_spec: opt_str(b, "KeySpec")?,
        customer_master_key_spec: opt_str(b, "CustomerMasterKeySpec")?,
        origin: opt_str(b, "Origin")?,
        custom_key_store: opt_str(b, "CustomKeyStoreId")?.is_some()
            || opt_str(b, "XksKeyId")?.is_some(),
        bypass_lockout_check: opt_bool(b, "BypassPolicyLockoutSafetyCheck")?.unwrap_or(false),
        tags: input::tags(b, "Tags")?,
        multi_region: opt_bool(b, "MultiRegion")?.unwrap_or(false),
    })))
}

impl Call for CreateKey {
    fn permissions(&self, _: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        keys::validate_create(&self.0)?;
        Ok(keys::create_permissions(&env.ctx, &self.0))
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = keys::create_key(conn, &env.master, env.evaluator.as_ref(), &env.ctx, &self.0)?;
        let m = metadata(&key);
        Ok(Reply {
            body: json!({"KeyMetadata": key_metadata(&m)}),
            response_elements: json!({"keyMetadata": key_metadata_record(&m)}),
            additional: None,
            resources: vec![key.arn],
        })
    }
}

struct DescribeKey {
    key_id: String,
    tokens: Vec<String>,
}

pub(super) fn describe_key(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(DescribeKey {
        key_id: input::key_id(b, "KeyId")?,
        tokens: input::grant_tokens(b)?,
    }))
}

impl Call for DescribeKey {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        grants::check_tokens(&self.tokens)?;
        let t = aliases::resolve_creating_managed(conn, &env.master, &env.ctx, &self.key_id)?;
        Ok(vec![key_permission(
            conn,
            &env.actor(),
            &t.key,
            KeyAction {
                action: "kms:DescribeKey",
                alias: t.alias.as_deref(),
                grant_operation: Some("DescribeKey"),
                ..Default::default()
            },
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let t = env.target(conn, &self.key_id, true)?;
        Ok(Reply::body(
            json!({"KeyMetadata": key_metadata(&metadata(&t.key))}),
        ))
    }
}

struct ListKeys {
    limit: Option<i64>,
    marker: Option<String>,
    /// Whether `ResourceOwners` (newer SDKs) asks for the account's own keys (`SELF`, the
    /// default). Keys other accounts share through RAM (`OTHER_ACCOUNTS_VIA_RAM`) do not
    /// exist in Cairn, which has one account.
    own: bool,
}

pub(super) fn list_keys(b: &Value) -> ApiResult<Box<dyn Call>> {
    let own = match b.get("ResourceOwners").and_then(Value::as_array) {
        Some(owners) => owners.iter().any(|o| o.as_str() == Some("SELF")),
        None => true,
    };
    Ok(Box::new(ListKeys {
        limit: input::limit(b)?,
        marker: input::marker(b)?,
        own,
    }))
}

impl Call for ListKeys {
    fn permissions(&self, _: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        page_limit(self.limit, 100, 1000)?;
        Ok(vec![KeyPermission::policy_only(
            Permission::any("kms:ListKeys")
                .with("kms:CallerAccount", env.ctx.account().to_string()),
        )])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let limit = page_limit(self.limit, 100, 1000)?;
        if !self.own {
            return Ok(Reply::body(paged(
                Map::from_iter([("Keys".to_owned(), Value::Array(Vec::new()))]),
                None,
            )));
        }
        let page = keys::list_keys(conn, &env.scope(), self.marker.as_deref(), limit)?;
        let keys: Vec<Value> = page
            .items
            .iter()
            .map(|(id, arn)| json!({"KeyId": id, "KeyArn": arn}))
            .collect();
        let mut body = Map::new();
        body.insert("Keys".into(), Value::Array(keys));
        Ok(Reply::body(paged(body, page.next_marker)))
    }
}

/// EnableKey, DisableKey, CancelKeyDeletion: an admin action on one key.
struct KeyAdmin {
    key_id: String,
    op: &'static str,
}

fn key_admin(b: &Value, op: &'static str) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(KeyAdmin {
        key_id: input::key_id(b, "KeyId")?,
        op,
    }))
}

pub(super) fn enable_key(b: &Value) -> ApiResult<Box<dyn Call>> {
    key_admin(b, "EnableKey")
}

pub(super) fn disable_key(b: &Value) -> ApiResult<Box<dyn Call>> {
    key_admin(b, "DisableKey")
}

pub(super) fn cancel_key_deletion(b: &Value) -> ApiResult<Box<dyn Call>> {
    key_admin(b, "CancelKeyDeletion")
}

impl Call for KeyAdmin {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let t = env.target(conn, &self.key_id, false)?;
        Ok(vec![env.on_key(
            conn,
            &t.key,
            &format!("kms:{}", self.op),
            Vec::new(),
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        match self.op {
            "EnableKey" => keys::enable(conn, &key)?,
            "DisableKey" => keys::disable(conn, &key)?,
            _ => {
                keys::cancel_deletion(conn, &key)?;
                return Ok(Reply {
                    body: json!({"KeyId": key.arn}),
                    response_elements: json!({"keyId": key.arn}),
                    ..Default::default()
                });
            }
        }
        Ok(Reply::keyed(&key.arn))
    }
}

struct ScheduleKeyDeletion {
    key_id: String,
    days: Option<i64>,
}

pub(super) fn schedule_key_deletion(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(ScheduleKeyDeletion {
        key_id: input::key_id(b, "KeyId")?,
        days: opt_i64(b, "PendingWindowInDays")?,
    }))
}

impl Call for ScheduleKeyDeletion {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let days = keys::check_window(self.days)?;
        let t = env.target(conn, &self.key_id, false)?;
        Ok(vec![env.on_key(
            conn,
            &t.key,
            "kms:ScheduleKeyDeletion",
            vec![(
                "kms:ScheduleKeyDeletionPendingWindowInDays".into(),
                vec![days.to_string()],
            )],
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        let (when, days) = keys::schedule_deletion(conn, &key, self.days, env.ctx.now)?;
        Ok(Reply {
            body: json!({"KeyId": key.arn, "DeletionDate": epoch(when),
                         "KeyState": "PendingDeletion", "PendingWindowInDays": days}),
            response_elements: json!({"keyId": key.arn, "keyState": "PendingDeletion",
                                      "deletionDate": java_date(when), "pendingWindowInDays": days}),
            ..Default::default()
        })
    }
}

struct UpdateKeyDescription {
    key_id: String,
    description: String,
}

pub(super) fn update_key_description(b: &Value) -> ApiResult<Box<dyn Call>> {
    let description = input::opt_text(b, "Description", 0, 8192)?;
    Ok(Box::new(UpdateKeyDescription {
        key_id: input::key_id(b, "KeyId")?,
        description: match description {
            Some(d) => d,
            None => crate::wire::req_str(b, "Description")?,
        },
    }))
}

impl Call for UpdateKeyDescription {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let t = env.target(conn, &self.key_id, false)?;
        Ok(vec![env.on_key(
            conn,
            &t.key,
            "kms:UpdateKeyDescription",
            Vec::new(),
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        keys::update_description(conn, &key, &self.description)?;
        Ok(Reply::body(json!({})))
    }
}
