//! KMS keys: their metadata, state and policy, their backing-key material (only ever stored
//! wrapped under the operator's master key), aliases, tags and grants.
//!
//! Nothing here sees plaintext key material: `kms_key_material.wrapped` is what
//! `cairn_crypto::MasterKey::wrap` produced. `kms_master_check` holds a value wrapped under the
//! master key so a start with a different master key is refused before it can write anything.

mod aliases;
mod grants;
mod tags;
pub mod usage;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreResult;

pub use aliases::{
    Alias, count_aliases_for_key, delete_alias, get_alias, insert_alias, list_aliases, update_alias,
};
pub use grants::{
    Grant, GrantConstraints, count_grants, delete_grant, find_named_grant, get_grant,
    grants_for_key, insert_grant, list_grants, list_retirable_grants,
};
pub use tags::{Tag, count_tags, delete_tag, list_tags, put_tag};

/// Schema version 8: the KMS tables.
pub(crate) const SCHEMA: &str = "
CREATE TABLE kms_keys (
    key_id TEXT PRIMARY KEY, arn TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
    region TEXT NOT NULL, created REAL NOT NULL, description TEXT NOT NULL,
    key_usage TEXT NOT NULL, key_spec TEXT NOT NULL, origin TEXT NOT NULL,
    key_manager TEXT NOT NULL, state TEXT NOT NULL, deletion_date REAL, pending_window INTEGER,
    policy TEXT NOT NULL, rotation_enabled INTEGER NOT NULL, rotation_period INTEGER,
    next_rotation REAL, current_generation INTEGER NOT NULL, multi_region INTEGER NOT NULL);
CREATE INDEX kms_keys_by_region ON kms_keys (account, region, key_id);
CREATE INDEX kms_keys_by_deletion ON kms_keys (deletion_date) WHERE deletion_date IS NOT NULL;
CREATE TABLE kms_key_material (
    key_id TEXT NOT NULL, generation INTEGER NOT NULL, wrapped BLOB NOT NULL,
    created REAL NOT NULL, rotation_type TEXT,
    PRIMARY KEY (key_id, generation));
CREATE TABLE kms_aliases (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, target_key_id TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE INDEX kms_aliases_by_key ON kms_aliases (target_key_id);
CREATE TABLE kms_tags (
    key_id TEXT NOT NULL, tag_key TEXT NOT NULL, tag_value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key));
CREATE TABLE kms_grants (
    seq INTEGER PRIMARY KEY, grant_id TEXT NOT NULL UNIQUE, key_id TEXT NOT NULL,
    name TEXT, created REAL NOT NULL, grantee TEXT NOT NULL, retiring TEXT,
    issuing_account TEXT NOT NULL, operations TEXT NOT NULL, constraints TEXT);
CREATE INDEX kms_grants_by_key ON kms_grants (key_id, seq);
CREATE INDEX kms_grants_by_retiring ON kms_grants (retiring, seq);
CREATE TABLE kms_master_check (
    id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint TEXT NOT NULL, wrapped BLOB NOT NULL);
";

/// Part of version 29: KMS grants name their grantee and retiring principal by the unique
/// id of a user or role of the account, so a re-created principal of the same name inherits
/// nothing; grants stored before name them by ARN, and are bound to the entities that hold
/// those ARNs at the upgrade. Idempotent: what is an id already, or names no user or role,
/// stays.
pub(crate) const SCHEMA_V29_GRANTS: &str = "
UPDATE kms_grants SET grantee = COALESCE(
    (SELECT u.user_id FROM iam_users u
     WHERE 'arn:aws:iam::' || u.account || ':user' || u.path || u.name = kms_grants.grantee),
    (SELECT r.role_id FROM iam_roles r
     WHERE 'arn:aws:iam::' || r.account || ':role' || r.path || r.name = kms_grants.grantee),
    grantee);
UPDATE kms_grants SET retiring = COALESCE(
    (SELECT u.user_id FROM iam_users u
     WHERE 'arn:aws:iam::' || u.account || ':user' || u.path || u.name = kms_grants.retiring),
    (SELECT r.role_id FROM iam_roles r
     WHERE 'arn:aws:iam::' || r.account || ':role' || r.path || r.name = kms_grants.retiring),
    retiring)
WHERE retiring IS NOT NULL;
";

/// The rest of version 29's step for grants: a grantee or retiring principal stored as a
/// role session's ARN (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`) is bound to its
/// role's unique id and the session name (`AROA…:<session>`), when the role exists.
pub(crate) fn bind_session_grants(conn: &Connection) -> crate::StoreResult<()> {
    let rows: Vec<(i64, String, Option<String>)> = conn
        .prepare(
            "SELECT seq, grantee, retiring FROM kms_grants
             WHERE grantee LIKE 'arn:aws:sts::%:assumed-role/%'
                OR retiring LIKE 'arn:aws:sts::%:assumed-role/%'",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let bind = |p: &str| -> crate::StoreResult<String> {
        let parsed = p
            .strip_prefix("arn:aws:sts::")
            .and_then(|r| r.split_once(":assumed-role/"))
            .and_then(|(account, rest)| Some((account, rest.split_once('/')?)));
        let Some((account, (role, session))) = parsed else {
            return Ok(p.to_owned());
        };
        Ok(match crate::iam::roles::get_role(conn, account, role)? {
            Some(r) => format!("{}:{session}", r.role_id),
            None => p.to_owned(),
        })
    };
    for (seq, grantee, retiring) in rows {
        let grantee = bind(&grantee)?;
        let retiring = retiring.as_deref().map(bind).transpose()?;
        conn.execute(
            "UPDATE kms_grants SET grantee = ?1, retiring = ?2 WHERE seq = ?3",
            rusqlite::params![grantee, retiring, seq],
        )?;
    }
    Ok(())
}

/// A KMS key as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyRow {
    /// Key id (UUID).
    pub key_id: String,
    /// `arn:aws:kms:<region>:<account>:key/<key_id>`.
    pub arn: String,
    /// Owner.
    pub account: String,
    /// Region.
    pub region: String,
    /// Creation time, epoch seconds.
    pub created: f64,
    /// Description.
    pub description: String,
    /// `ENCRYPT_DECRYPT`.
    pub key_usage: String,
    /// `SYMMETRIC_DEFAULT`.
    pub key_spec: String,
    /// `AWS_KMS`.
    pub origin: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: String,
    /// `Enabled`, `Disabled` or `PendingDeletion`.
    pub state: String,
    /// When a pending deletion happens.
    pub deletion_date: Option<f64>,
    /// The pending window, days.
    pub pending_window: Option<i64>,
    /// The `default` key policy.
    pub policy: String,
    /// Automatic rotation on.
    pub rotation_enabled: bool,
    /// Rotation period, days (when enabled).
    pub rotation_period: Option<i64>,
    /// Next automatic rotation (when enabled).
    pub next_rotation: Option<f64>,
    /// The generation new ciphertexts use.
    pub current_generation: u32,
    /// Multi-Region key.
    pub multi_region: bool,
}

const KEY_COLUMNS: &str = "key_id, arn, account, region, created, description, key_usage, \
    key_spec, origin, key_manager, state, deletion_date, pending_window, policy, \
    rotation_enabled, rotation_period, next_rotation, current_generation, multi_region";

fn key_row(r: &Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok(KeyRow {
        key_id: r.get(0)?,
        arn: r.get(1)?,
        account: r.get(2)?,
        region: r.get(3)?,
        created: r.get(4)?,
        description: r.get(5)?,
        key_usage: r.get(6)?,
        key_spec: r.get(7)?,
        origin: r.get(8)?,
        key_manager: r.get(9)?,
        state: r.get(10)?,
        deletion_date: r.get(11)?,
        pending_window: r.get(12)?,
        policy: r.get(13)?,
        rotation_enabled: r.get(14)?,
        rotation_period: r.get(15)?,
        next_rotation: r.get(16)?,
        current_generation: r.get(17)?,
        multi_region: r.get(18)?,
    })
}

/// Inserts a key (its material is added with [`add_material`]).
pub fn insert_key(conn: &Connection, k: &KeyRow) -> StoreResult<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO kms_keys ({KEY_COLUMNS}) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
    ))?
    .execute(params![
        k.key_id,
        k.arn,
        k.account,
        k.region,
        k.created,
        k.description,
        k.key_usage,
        k.key_spec,
        k.origin,
        k.key_manager,
        k.state,
        k.deletion_date,
        k.pending_window,
        k.policy,
        k.rotation_enabled,
        k.rotation_period,
        k.next_rotation,
        k.current_generation,
        k.multi_region,
    ])?;
    Ok(())
}

/// A key by id, whatever its account and region.
/// How many customer managed keys an account has in a region (KMS's quota is 100,000).
pub fn count_customer_keys(conn: &Connection, account: &str, region: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM kms_keys WHERE account = ?1 AND region = ?2
             AND key_manager = 'CUSTOMER'",
        )?
        .query_row(params![account, region], |r| r.get(0))?)
}

pub fn get_key(conn: &Connection, key_id: &str) -> StoreResult<Option<KeyRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {KEY_COLUMNS} FROM kms_keys WHERE key_id = ?1"
        ))?
        .query_row([key_id], key_row)
        .optional()?)
}

/// The key policy of the key with this ARN (what the policy evaluator consults).
pub fn key_policy_by_arn(conn: &Connection, arn: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT policy FROM kms_keys WHERE arn = ?1")?
        .query_row([arn], |r| r.get(0))
        .optional()?)
}

/// Keys of an account and region after `after` (a key id), by key id: (key id, ARN).
pub fn list_keys(
    conn: &Connection,
    account: &str,
    region: &str,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key_id, arn FROM kms_keys WHERE account = ?1 AND region = ?2 AND key_id > ?3 \
         ORDER BY key_id LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![account, region, after, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Sets a key's state and its deletion schedule.
pub fn set_state(
    conn: &Connection,
    key_id: &str,
    state: &str,
    deletion_date: Option<f64>,
    pending_window: Option<i64>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE kms_keys SET state = ?2, deletion_date = ?3, pending_window = ?4 WHERE key_id = ?1",
    )?
    .execute(params![key_id, state, deletion_date, pending_window])?;
    Ok(())
}

/// Replaces a key's policy.
pub fn set_policy(conn: &Connection, key_id: &str, policy: &str) -> StoreResult<()> {
    conn.prepare_cached("UPDATE kms_keys SET policy = ?2 WHERE key_id = ?1")?
        .execute(params![key_id, policy])?;
    Ok(())
}

/// Replaces a key's description.
pub fn set_description(conn: &Connection, key_id: &str, description: &str) -> StoreResult<()> {
    conn.prepare_cached("UPDATE kms_keys SET description = ?2 WHERE key_id = ?1")?
        .execute(params![key_id, description])?;
    Ok(())
}

/// Sets automatic rotation.
pub fn set_rotation(
    conn: &Connection,
    key_id: &str,
    enabled: bool,
    period: Option<i64>,
    next: Option<f64>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE kms_keys SET rotation_enabled = ?2, rotation_period = ?3, next_rotation = ?4 \
         WHERE key_id = ?1",
    )?
    .execute(params![key_id, enabled, period, next])?;
    Ok(())
}

/// Pending-deletion keys whose deletion date is at or before `now`.
pub fn due_deletions(conn: &Connection, now: f64) -> StoreResult<Vec<KeyRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM kms_keys WHERE deletion_date IS NOT NULL \
         AND deletion_date <= ?1 AND state = 'PendingDeletion' ORDER BY deletion_date, key_id"
    ))?;
    let rows = stmt.query_map([now], key_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Enabled keys with automatic rotation due at or before `now`.
pub fn due_rotations(conn: &Connection, now: f64) -> StoreResult<Vec<KeyRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM kms_keys WHERE rotation_enabled = 1 \
         AND next_rotation IS NOT NULL AND next_rotation <= ?1 AND state = 'Enabled' \
         ORDER BY next_rotation, key_id"
    ))?;
    let rows = stmt.query_map([now], key_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Deletes a key with its material, aliases, tags and grants.
pub fn delete_key(conn: &Connection, key_id: &str) -> StoreResult<()> {
    for sql in [
        "DELETE FROM kms_key_material WHERE key_id = ?1",
        "DELETE FROM kms_aliases WHERE target_key_id = ?1",
        "DELETE FROM kms_tags WHERE key_id = ?1",
        "DELETE FROM kms_grants WHERE key_id = ?1",
        "DELETE FROM kms_keys WHERE key_id = ?1",
    ] {
        conn.prepare_cached(sql)?.execute([key_id])?;
    }
    Ok(())
}

/// One generation of a key's backing material (metadata only).
#[derive(Clone, Debug, PartialEq)]
pub struct Material {
    /// Generation, from 1.
    pub generation: u32,
    /// When it was created.
    pub created: f64,
    /// `AUTOMATIC` or `ON_DEMAND` for rotations; `None` for the first generation.
    pub rotation_type: Option<String>,
}

/// Adds generation `generation` (wrapped) and makes it current.
pub fn add_material(
    conn: &Connection,
    key_id: &str,
    generation: u32,
    wrapped: &[u8],
    created: f64,
    rotation_type: Option<&str>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO kms_key_material (key_id, generation, wrapped, created, rotation_type) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![key_id, generation, wrapped, created, rotation_type])?;
    conn.prepare_cached("UPDATE kms_keys SET current_generation = ?2 WHERE key_id = ?1")?
        .execute(params![key_id, generation])?;
    Ok(())
}

/// The wrapped material of one generation.
pub fn wrapped_material(
    conn: &Connection,
    key_id: &str,
    generation: u32,
) -> StoreResult<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT wrapped FROM kms_key_material WHERE key_id = ?1 AND generation = ?2",
        )?
        .query_row(params![key_id, generation], |r| r.get(0))
        .optional()?)
}

/// Every generation of a key, oldest first.
pub fn materials(conn: &Connection, key_id: &str) -> StoreResult<Vec<Material>> {
    let mut stmt = conn.prepare_cached(
        "SELECT generation, created, rotation_type FROM kms_key_material WHERE key_id = ?1 \
         ORDER BY generation",
    )?;
    let rows = stmt.query_map([key_id], |r| {
        Ok(Material {
            generation: r.get(0)?,
            created: r.get(1)?,
            rotation_type: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// One wrapped generation with the key it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct Wrapped {
    /// Key id.
    pub key_id: String,
    /// Key ARN (part of the wrapping's additional data).
    pub arn: String,
    /// Generation.
    pub generation: u32,
    /// The wrapped backing key.
    pub wrapped: Vec<u8>,
}

/// Every wrapped generation of every key.
pub fn all_wrapped(conn: &Connection) -> StoreResult<Vec<Wrapped>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.key_id, k.arn, m.generation, m.wrapped FROM kms_key_material m \
         JOIN kms_keys k ON k.key_id = m.key_id ORDER BY m.key_id, m.generation",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Wrapped {
            key_id: r.get(0)?,
            arn: r.get(1)?,
            generation: r.get(2)?,
            wrapped: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Replaces one generation's wrapped material (master-key rotation).
pub fn replace_wrapped(
    conn: &Connection,
    key_id: &str,
    generation: u32,
    wrapped: &[u8],
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE kms_key_material SET wrapped = ?3 WHERE key_id = ?1 AND generation = ?2",
    )?
    .execute(params![key_id, generation, wrapped])?;
    Ok(())
}

/// Number of wrapped generations stored (to tell whether a master key is already in use).
pub fn material_count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM kms_key_material")?
        .query_row([], |r| r.get(0))?)
}

/// The stored master-key check: (fingerprint, wrapped check value).
pub fn master_check(conn: &Connection) -> StoreResult<Option<(String, Vec<u8>)>> {
    Ok(conn
        .prepare_cached("SELECT fingerprint, wrapped FROM kms_master_check WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Stores (or replaces) the master-key check.
pub fn set_master_check(conn: &Connection, fingerprint: &str, wrapped: &[u8]) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO kms_master_check (id, fingerprint, wrapped) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, wrapped = excluded.wrapped",
    )?
    .execute(params![fingerprint, wrapped])?;
    Ok(())
}

#[cfg(test)]
mod tests;
