//! Per-key settings: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies; TagResource,
//! UntagResource, ListResourceTags; Enable/DisableKeyRotation, GetKeyRotationStatus,
//! RotateKeyOnDemand, ListKeyRotations. All take a key id or key ARN (no aliases).

use cairn_core::error::ApiResult;
use cairn_core::kms::authz::KeyPermission;
use cairn_core::kms::{page_limit, policy, rotation, tags};
use cairn_store::Connection;
use serde_json::{Map, Value, json};

use super::{Call, Env, Reply};
use crate::kms::input;
use crate::kms::shapes::{self, paged};
use crate::wire::{epoch, opt_bool, opt_i64, opt_str, req_str};

/// Which per-key operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    GetKeyPolicy,
    ListKeyPolicies,
    ListResourceTags,
    DisableKeyRotation,
    GetKeyRotationStatus,
    RotateKeyOnDemand,
    ListKeyRotations,
}

impl Kind {
    fn action(self) -> &'static str {
        match self {
            Kind::GetKeyPolicy => "kms:GetKeyPolicy",
            Kind::ListKeyPolicies => "kms:ListKeyPolicies",
            Kind::ListResourceTags => "kms:ListResourceTags",
            Kind::DisableKeyRotation => "kms:DisableKeyRotation",
            Kind::GetKeyRotationStatus => "kms:GetKeyRotationStatus",
            Kind::RotateKeyOnDemand => "kms:RotateKeyOnDemand",
            Kind::ListKeyRotations => "kms:ListKeyRotations",
        }
    }
}

/// A per-key operation whose only inputs are the key and pagination.
struct OnKey {
    kind: Kind,
    key_id: String,
    limit: Option<i64>,
    marker: Option<String>,
}

fn on_key(b: &Value, kind: Kind) -> ApiResult<Box<dyn Call>> {
    if kind == Kind::GetKeyPolicy {
        policy::check_name(opt_str(b, "PolicyName")?.as_deref())?;
    }
    Ok(Box::new(OnKey {
        kind,
        key_id: input::key_id(b, "KeyId")?,
        limit: input::limit(b)?,
        marker: input::marker(b)?,
    }))
}

pub(super) fn get_key_policy(b: &Value) -> ApiResult<Box<dyn Call>> {
    on_key(b, Kind::GetKeyPolicy)
}

pub(super) fn list_key_policies(b: &Value) -> ApiResult<Box<dyn Call>> {
    on_key(b, Kind::ListKeyPolicies)
}

pub(super) fn list_resource_tags(b: &Value) -> ApiResult<Box<dyn Call>> {
    on_key(b, Kind::ListResourceTags)
}

pub(super) fn disable_key_rotation(b: &Value) -> ApiResult<Box<dyn Call>> {
    on_key(b, Kind::DisableKeyRotation)
}

pub(super) fn get_key_rotation_status(b: &Value) -> ApiResult<Box<dyn Call>> {
    on_key(b, Kind::GetKeyRotationStatus)
}

pub(super) fn rotate_key_on_demand(b: &Value) -> ApiResult<Box<dyn Call>> {
    on_key(b, Kind::RotateKeyOnDemand)
}

pub(super) fn list_key_rotations(b: &Value) -> ApiResult<Box<dyn Call>> {
    on_key(b, Kind::ListKeyRotations)
}

impl Call for OnKey {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        page_limit(self.limit, 100, 1000)?;
        let key = env.target(conn, &self.key_id, false)?.key;
        Ok(vec![env.on_key(
            conn,
            &key,
            self.kind.action(),
            Vec::new(),
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        let mut body = Map::new();
        let next = match self.kind {
            Kind::GetKeyPolicy => {
                return Ok(Reply::body(
                    json!({"Policy": policy::shown(conn, &key)?, "PolicyName": policy::POLICY_NAME}),
                ));
            }
            Kind::ListKeyPolicies => {
                body.insert("PolicyNames".into(), json!([policy::POLICY_NAME]));
                None
            }
            Kind::ListResourceTags => {
                let limit = page_limit(self.limit, 50, 50)?;
                let page = tags::list(conn, &key, self.marker.as_deref(), limit)?;
                let items: Vec<Value> = page.items.iter().map(shapes::tag).collect();
                body.insert("Tags".into(), Value::Array(items));
                page.next_marker
            }
            Kind::DisableKeyRotation => {
                rotation::disable(conn, &key)?;
                return Ok(Reply::keyed(&key.arn));
            }
            Kind::GetKeyRotationStatus => {
                let s = rotation::status(&key)?;
                let mut o = json!({"KeyRotationEnabled": s.enabled, "KeyId": key.arn});
                if let Some(p) = s.period_days {
                    o["RotationPeriodInDays"] = json!(p);
                }
                if let Some(n) = s.next {
                    o["NextRotationDate"] = epoch(n);
                }
                return Ok(Reply::body(o));
            }
            Kind::RotateKeyOnDemand => {
                rotation::rotate_on_demand(conn, &env.master, &key, env.ctx.now)?;
                return Ok(Reply {
                    body: json!({"KeyId": key.arn}),
                    response_elements: json!({"keyId": key.arn}),
                    ..Default::default()
                });
            }
            Kind::ListKeyRotations => {
                let limit = page_limit(self.limit, 100, 1000)?;
                let page = rotation::list(conn, &key, self.marker.as_deref(), limit)?;
                let items: Vec<Value> = page
                    .items
                    .iter()
                    .map(|m| shapes::rotation(&key.arn, m))
                    .collect();
                body.insert("Rotations".into(), Value::Array(items));
                page.next_marker
            }
        };
        Ok(Reply::body(paged(body, next)))
    }
}

struct PutKeyPolicy {
    key_id: String,
    policy: String,
    bypass: bool,
}

pub(super) fn put_key_policy(b: &Value) -> ApiResult<Box<dyn Call>> {
    policy::check_name(opt_str(b, "PolicyName")?.as_deref())?;
    Ok(Box::new(PutKeyPolicy {
        key_id: input::key_id(b, "KeyId")?,
        policy: req_str(b, "Policy")?,
        bypass: opt_bool(b, "BypassPolicyLockoutSafetyCheck")?.unwrap_or(false),
    }))
}

impl Call for PutKeyPolicy {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let key = env.target(conn, &self.key_id, false)?.key;
        Ok(vec![env.on_key(
            conn,
            &key,
            "kms:PutKeyPolicy",
            vec![(
                "kms:BypassPolicyLockoutSafetyCheck".into(),
                vec![self.bypass.to_string()],
            )],
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        policy::put_policy(
            conn,
            env.evaluator.as_ref(),
            &env.ctx,
            &key,
            &self.policy,
            self.bypass,
        )?;
        Ok(Reply::body(json!({})))
    }
}

struct TagResource {
    key_id: String,
    tags: Vec<(String, String)>,
}

pub(super) fn tag_resource(b: &Value) -> ApiResult<Box<dyn Call>> {
    if b.get("Tags").is_none_or(Value::is_null) {
        req_str(b, "Tags")?;
    }
    Ok(Box::new(TagResource {
        key_id: input::key_id(b, "KeyId")?,
        tags: input::tags(b, "Tags")?,
    }))
}

impl Call for TagResource {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        tags::validate(&self.tags)?;
        let key = env.target(conn, &self.key_id, false)?.key;
        let mut extra: Vec<(String, Vec<String>)> = self
            .tags
            .iter()
            .map(|(k, v)| (format!("aws:RequestTag/{k}"), vec![v.clone()]))
            .collect();
        extra.push((
            "aws:TagKeys".into(),
            self.tags.iter().map(|(k, _)| k.clone()).collect(),
        ));
        Ok(vec![env.on_key(conn, &key, "kms:TagResource", extra)?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        tags::tag(conn, &key, &self.tags)?;
        Ok(Reply::body(json!({})))
    }
}

struct UntagResource {
    key_id: String,
    keys: Vec<String>,
}

pub(super) fn untag_resource(b: &Value) -> ApiResult<Box<dyn Call>> {
    if b.get("TagKeys").is_none_or(Value::is_null) {
        req_str(b, "TagKeys")?;
    }
    Ok(Box::new(UntagResource {
        key_id: input::key_id(b, "KeyId")?,
        keys: input::strings(b, "TagKeys")?,
    }))
}

impl Call for UntagResource {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let key = env.target(conn, &self.key_id, false)?.key;
        Ok(vec![env.on_key(
            conn,
            &key,
            "kms:UntagResource",
            vec![("aws:TagKeys".into(), self.keys.clone())],
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        tags::untag(conn, &key, &self.keys)?;
        Ok(Reply::body(json!({})))
    }
}

struct EnableKeyRotation {
    key_id: String,
    period: Option<i64>,
}

pub(super) fn enable_key_rotation(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(EnableKeyRotation {
        key_id: input::key_id(b, "KeyId")?,
        period: opt_i64(b, "RotationPeriodInDays")?,
    }))
}

impl Call for EnableKeyRotation {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let key = env.target(conn, &self.key_id, false)?.key;
        Ok(vec![env.on_key(
            conn,
            &key,
            "kms:EnableKeyRotation",
            vec![(
                "kms:RotationPeriodInDays".into(),
                vec![self.period.unwrap_or(365).to_string()],
            )],
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        rotation::enable(conn, &key, self.period, env.ctx.now)?;
        Ok(Reply::keyed(&key.arn))
    }
}
