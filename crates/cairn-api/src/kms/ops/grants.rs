//! CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.

use cairn_core::authz::Permission;
use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_core::kms::authz::{KeyAction, KeyPermission, key_permission};
use cairn_core::kms::grants::{self, CreateGrantInput};
use cairn_core::kms::{Key, ids, page_limit};
use cairn_store::Connection;
use cairn_store::kms::Grant;
use serde_json::{Map, Value, json};

use super::{Call, Env, Reply, dry_run_error};
use crate::kms::input;
use crate::kms::shapes::{grant_entry, paged};
use crate::wire::{opt_str, req_str};

struct CreateGrant {
    key_id: String,
    input: CreateGrantInput,
    tokens: Vec<String>,
    dry_run: bool,
}

pub(super) fn create_grant(b: &Value) -> ApiResult<Box<dyn Call>> {
    if b.get("GranteeServicePrincipal")
        .is_some_and(|v| !v.is_null())
    {
        return Err(input::service_grants_unsupported());
    }
    if b.get("Operations").is_none_or(Value::is_null) {
        req_str(b, "Operations")?;
    }
    Ok(Box::new(CreateGrant {
        key_id: input::key_id(b, "KeyId")?,
        input: CreateGrantInput {
            grantee: req_str(b, "GranteePrincipal")?,
            retiring: opt_str(b, "RetiringPrincipal")?,
            operations: input::strings(b, "Operations")?,
            constraints: input::constraints(b)?,
            name: opt_str(b, "Name")?,
        },
        tokens: input::grant_tokens(b)?,
        dry_run: input::dry_run(b)?,
    }))
}

impl Call for CreateGrant {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        grants::validate_create(&self.input)?;
        grants::check_tokens(&self.tokens)?;
        let key = env.target(conn, &self.key_id, false)?.key;
        Ok(vec![key_permission(
            conn,
            &env.actor(),
            &key,
            KeyAction {
                action: "kms:CreateGrant",
                grant_operation: Some("CreateGrant"),
                creates: Some((
                    self.input.operations.clone(),
                    self.input.constraints.clone(),
                )),
                extra: grants::create_condition_keys(&self.input, false),
                ..Default::default()
            },
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        if self.dry_run {
            cairn_core::kms::crypto::check_usable(&key)?;
            return Err(dry_run_error());
        }
        let g = grants::create_grant(
            conn,
            &env.master,
            &env.scope(),
            &key,
            &self.input,
            env.ctx.now,
        )?;
        Ok(Reply {
            body: json!({"GrantToken": g.token, "GrantId": g.grant_id}),
            response_elements: json!({"grantId": g.grant_id, "keyId": key.arn}),
            ..Default::default()
        })
    }
}

struct ListGrants {
    key_id: String,
    grant_id: Option<String>,
    grantee: Option<String>,
    /// A `GranteeServicePrincipal` filter: no grant names one (Cairn refuses such grants).
    service_filter: bool,
    limit: Option<i64>,
    marker: Option<String>,
}

pub(super) fn list_grants(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(ListGrants {
        key_id: input::key_id(b, "KeyId")?,
        grant_id: opt_str(b, "GrantId")?,
        grantee: opt_str(b, "GranteePrincipal")?,
        service_filter: opt_str(b, "GranteeServicePrincipal")?.is_some(),
        limit: input::limit(b)?,
        marker: input::marker(b)?,
    }))
}

fn grants_body(items: Vec<Value>, next: Option<String>) -> Value {
    let mut body = Map::new();
    body.insert("Grants".into(), Value::Array(items));
    paged(body, next)
}

impl Call for ListGrants {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        page_limit(self.limit, 50, 100)?;
        let key = env.target(conn, &self.key_id, false)?.key;
        Ok(vec![env.on_key(
            conn,
            &key,
            "kms:ListGrants",
            Vec::new(),
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let limit = page_limit(self.limit, 50, 100)?;
        let key = env.target(conn, &self.key_id, false)?.key;
        if self.service_filter {
            return Ok(Reply::body(grants_body(Vec::new(), None)));
        }
        let page = grants::list_grants(
            conn,
            &key,
            self.grant_id.as_deref(),
            self.grantee.as_deref(),
            self.marker.as_deref(),
            limit,
        )?;
        let items = page
            .items
            .iter()
            .map(|g| grant_entry(g, &key.arn))
            .collect();
        Ok(Reply::body(grants_body(items, page.next_marker)))
    }
}

struct ListRetirableGrants {
    retiring: String,
    limit: Option<i64>,
    marker: Option<String>,
}

pub(super) fn list_retirable_grants(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(ListRetirableGrants {
        retiring: req_str(b, "RetiringPrincipal")?,
        limit: input::limit(b)?,
        marker: input::marker(b)?,
    }))
}

impl Call for ListRetirableGrants {
    fn permissions(&self, _: &Connection, _: &Env) -> ApiResult<Vec<KeyPermission>> {
        page_limit(self.limit, 50, 100)?;
        Ok(vec![KeyPermission::policy_only(Permission::any(
            "kms:ListRetirableGrants",
        ))])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let limit = page_limit(self.limit, 50, 100)?;
        let page = grants::list_retirable(
            conn,
            &env.scope(),
            &self.retiring,
            self.marker.as_deref(),
            limit,
        )?;
        let items = page
            .items
            .iter()
            .map(|(g, arn)| grant_entry(g, arn))
            .collect();
        Ok(Reply::body(grants_body(items, page.next_marker)))
    }
}

/// RetireGrant names its grant by token, or by key and grant id.
struct RetireGrant {
    token: Option<String>,
    key_id: Option<String>,
    grant_id: Option<String>,
    dry_run: bool,
}

pub(super) fn retire_grant(b: &Value) -> ApiResult<Box<dyn Call>> {
    let r = RetireGrant {
        token: input::opt_text(b, "GrantToken", 1, 8192)?,
        key_id: input::opt_key_id(b, "KeyId")?,
        grant_id: input::opt_text(b, "GrantId", 1, 128)?,
        dry_run: input::dry_run(b)?,
    };
    if r.token.is_none() && (r.key_id.is_none() || r.grant_id.is_none()) {
        return Err(ApiError::new(
            ErrorKind::Validation,
            "Specify either a GrantToken, or both KeyId and GrantId.",
        ));
    }
    Ok(Box::new(r))
}

impl RetireGrant {
    fn grant(&self, conn: &Connection, env: &Env) -> ApiResult<(Key, Grant)> {
        let scope = env.scope();
        if let Some(token) = &self.token {
            let g = grants::grant_of_token(conn, &env.master, token)?;
            let key = ids::key_in_scope(conn, &scope, &g.key_id)?;
            if let Some(named) = &self.key_id {
                let t = env.target(conn, named, false)?;
                if t.key.key_id != key.key_id {
                    return Err(ApiError::new(
                        ErrorKind::KmsNotFound,
                        format!("Grant id not found: {}", g.grant_id),
                    ));
                }
            }
            return Ok((key, g));
        }
        let key = env
            .target(conn, self.key_id.as_deref().unwrap_or(""), false)?
            .key;
        let g = grants::grant_of_key(conn, &key, self.grant_id.as_deref().unwrap_or(""))?;
        Ok((key, g))
    }
}

impl Call for RetireGrant {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let (key, g) = self.grant(conn, env)?;
        grants::retire_permissions(conn, &env.actor(), &key, &g)
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let (key, g) = self.grant(conn, env)?;
        if self.dry_run {
            return Err(dry_run_error());
        }
        grants::delete(conn, &g)?;
        // Which grant was retired, as AWS's record says it (the request may name it only by
        // its token).
        Ok(Reply {
            body: json!({}),
            resources: vec![key.arn],
            additional: Some(json!({"grantId": g.grant_id})),
            ..Default::default()
        })
    }
}

struct RevokeGrant {
    key_id: String,
    grant_id: String,
    dry_run: bool,
}

pub(super) fn revoke_grant(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(RevokeGrant {
        key_id: input::key_id(b, "KeyId")?,
        grant_id: req_str(b, "GrantId")?,
        dry_run: input::dry_run(b)?,
    }))
}

impl Call for RevokeGrant {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let key = env.target(conn, &self.key_id, false)?.key;
        Ok(vec![env.on_key(
            conn,
            &key,
            "kms:RevokeGrant",
            Vec::new(),
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        let g = grants::grant_of_key(conn, &key, &self.grant_id)?;
        if self.dry_run {
            return Err(dry_run_error());
        }
        grants::delete(conn, &g)?;
        Ok(Reply::body(json!({})))
    }
}
