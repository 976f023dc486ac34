//! CreateAlias, UpdateAlias, DeleteAlias, ListAliases. Alias changes need the permission on
//! the alias (identity policies) and on each key involved (key policy).

use cairn_core::authz::Permission;
use cairn_core::error::ApiResult;
use cairn_core::kms::authz::KeyPermission;
use cairn_core::kms::{aliases, ids, page_limit};
use cairn_store::Connection;
use serde_json::{Map, Value};

use super::{Call, Env, Reply};
use crate::kms::input;
use crate::kms::shapes::{alias_entry, paged};
use crate::wire::req_str;

fn alias_name(b: &Value) -> ApiResult<String> {
    let name = req_str(b, "AliasName")?;
    Ok(name)
}

struct CreateAlias {
    name: String,
    target: String,
}

pub(super) fn create_alias(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(CreateAlias {
        name: alias_name(b)?,
        target: input::key_id(b, "TargetKeyId")?,
    }))
}

impl Call for CreateAlias {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        aliases::validate_name(&self.name, false)?;
        let key = env.target(conn, &self.target, false)?.key;
        Ok(vec![
            aliases::alias_permission(&env.actor(), "kms:CreateAlias", &self.name),
            env.on_key(conn, &key, "kms:CreateAlias", Vec::new())?,
        ])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.target, false)?.key;
        aliases::create(conn, &env.scope(), &self.name, &key, env.ctx.now)?;
        Ok(Reply::keyed(&key.arn))
    }
}

struct UpdateAlias {
    name: String,
    target: String,
}

pub(super) fn update_alias(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(UpdateAlias {
        name: alias_name(b)?,
        target: input::key_id(b, "TargetKeyId")?,
    }))
}

impl Call for UpdateAlias {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        aliases::validate_name(&self.name, false)?;
        let scope = env.scope();
        let alias = aliases::get(conn, &scope, &self.name)?;
        let old = ids::key_in_scope(conn, &scope, &alias.target_key_id)?;
        let new = env.target(conn, &self.target, false)?.key;
        Ok(vec![
            aliases::alias_permission(&env.actor(), "kms:UpdateAlias", &self.name),
            env.on_key(conn, &old, "kms:UpdateAlias", Vec::new())?,
            env.on_key(conn, &new, "kms:UpdateAlias", Vec::new())?,
        ])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.target, false)?.key;
        aliases::update(conn, &env.scope(), &self.name, &key, env.ctx.now)?;
        Ok(Reply::keyed(&key.arn))
    }
}

struct DeleteAlias {
    name: String,
}

pub(super) fn delete_alias(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(DeleteAlias {
        name: alias_name(b)?,
    }))
}

impl Call for DeleteAlias {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        aliases::validate_name(&self.name, false)?;
        let scope = env.scope();
        let alias = aliases::get(conn, &scope, &self.name)?;
        let key = ids::key_in_scope(conn, &scope, &alias.target_key_id)?;
        Ok(vec![
            aliases::alias_permission(&env.actor(), "kms:DeleteAlias", &self.name),
            env.on_key(conn, &key, "kms:DeleteAlias", Vec::new())?,
        ])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let scope = env.scope();
        let alias = aliases::get(conn, &scope, &self.name)?;
        let key = ids::key_in_scope(conn, &scope, &alias.target_key_id)?;
        aliases::delete(conn, &scope, &self.name)?;
        Ok(Reply::keyed(&key.arn))
    }
}

struct ListAliases {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

pub(super) fn list_aliases(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(ListAliases {
        key_id: input::opt_key_id(b, "KeyId")?,
        limit: input::limit(b)?,
        marker: input::marker(b)?,
    }))
}

impl Call for ListAliases {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        page_limit(self.limit, 50, 100)?;
        if let Some(k) = &self.key_id {
            env.target(conn, k, false)?;
        }
        Ok(vec![KeyPermission::policy_only(
            Permission::any("kms:ListAliases")
                .with("kms:CallerAccount", env.ctx.account().to_string()),
        )])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let limit = page_limit(self.limit, 50, 100)?;
        let key = self
            .key_id
            .as_deref()
            .map(|k| env.target(conn, k, false))
            .transpose()?
            .map(|t| t.key);
        let scope = env.scope();
        let page = aliases::list(conn, &scope, key.as_ref(), self.marker.as_deref(), limit)?;
        let items: Vec<Value> = page
            .items
            .iter()
            .map(|a| alias_entry(a, &ids::alias_arn(&scope, &a.name)))
            .collect();
        let mut body = Map::new();
        body.insert("Aliases".into(), Value::Array(items));
        Ok(Reply::body(paged(body, page.next_marker)))
    }
}
