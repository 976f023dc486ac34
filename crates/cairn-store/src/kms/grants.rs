//! KMS grants: who may use a key for which operations, under which encryption-context
//! constraints. Listing order is creation order (`seq`).

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::{StoreError, StoreResult};

/// A grant's encryption-context constraints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantConstraints {
    /// The request's context must contain these pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<BTreeMap<String, String>>,
    /// The request's context must be exactly these pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<BTreeMap<String, String>>,
}

/// A grant.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// Position in creation order.
    pub seq: i64,
    /// Grant id (64 hex digits).
    pub grant_id: String,
    /// The key.
    pub key_id: String,
    /// Optional name (idempotency of CreateGrant).
    pub name: Option<String>,
    /// Creation time.
    pub created: f64,
    /// Grantee principal, as given.
    pub grantee: String,
    /// Retiring principal, as given.
    pub retiring: Option<String>,
    /// `arn:aws:iam::<account>:root` of the creator's account.
    pub issuing_account: String,
    /// Granted operations.
    pub operations: Vec<String>,
    /// Constraints.
    pub constraints: Option<GrantConstraints>,
}

const COLUMNS: &str = "seq, grant_id, key_id, name, created, grantee, retiring, issuing_account, \
    operations, constraints";

fn grant_row(r: &Row<'_>) -> rusqlite::Result<(Grant, String, Option<String>)> {
    Ok((
        Grant {
            seq: r.get(0)?,
            grant_id: r.get(1)?,
            key_id: r.get(2)?,
            name: r.get(3)?,
            created: r.get(4)?,
            grantee: r.get(5)?,
            retiring: r.get(6)?,
            issuing_account: r.get(7)?,
            operations: Vec::new(),
            constraints: None,
        },
        r.get(8)?,
        r.get(9)?,
    ))
}

fn decode(row: (Grant, String, Option<String>)) -> StoreResult<Grant> {
    let (mut g, ops, constraints) = row;
    g.operations =
        serde_json::from_str(&ops).map_err(|e| StoreError::Corrupt(format!("grant ops: {e}")))?;
    g.constraints = constraints
        .map(|c| serde_json::from_str(&c))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("grant constraints: {e}")))?;
    Ok(g)
}

fn collect(
    rows: impl Iterator<Item = rusqlite::Result<(Grant, String, Option<String>)>>,
) -> StoreResult<Vec<Grant>> {
    rows.map(|r| decode(r?)).collect()
}

/// Inserts a grant (its `seq` is assigned); returns the seq.
pub fn insert_grant(conn: &Connection, g: &Grant) -> StoreResult<i64> {
    let ops = serde_json::to_string(&g.operations).expect("strings serialise");
    let constraints = g
        .constraints
        .as_ref()
        .map(|c| serde_json::to_string(c).expect("maps serialise"));
    conn.prepare_cached(
        "INSERT INTO kms_grants (grant_id, key_id, name, created, grantee, retiring, \
         issuing_account, operations, constraints) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        g.grant_id,
        g.key_id,
        g.name,
        g.created,
        g.grantee,
        g.retiring,
        g.issuing_account,
        ops,
        constraints
    ])?;
    Ok(conn.last_insert_rowid())
}

/// A grant by id.
pub fn get_grant(conn: &Connection, grant_id: &str) -> StoreResult<Option<Grant>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM kms_grants WHERE grant_id = ?1"
    ))?
    .query_row([grant_id], grant_row)
    .optional()?
    .map(decode)
    .transpose()
}

/// The grant of a key with this name, if any.
pub fn find_named_grant(conn: &Connection, key_id: &str, name: &str) -> StoreResult<Vec<Grant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM kms_grants WHERE key_id = ?1 AND name = ?2 ORDER BY seq"
    ))?;
    collect(stmt.query_map(params![key_id, name], grant_row)?)
}

/// Deletes a grant.
pub fn delete_grant(conn: &Connection, grant_id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM kms_grants WHERE grant_id = ?1")?
        .execute([grant_id])?;
    Ok(())
}

/// Grants of a key after seq `after`, optionally filtered by id and grantee.
pub fn list_grants(
    conn: &Connection,
    key_id: &str,
    grant_id: Option<&str>,
    grantee: Option<&str>,
    after: i64,
    limit: usize,
) -> StoreResult<Vec<Grant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM kms_grants WHERE key_id = ?1 AND (?2 IS NULL OR grant_id = ?2) \
         AND (?3 IS NULL OR grantee = ?3) AND seq > ?4 ORDER BY seq LIMIT ?5"
    ))?;
    collect(stmt.query_map(
        params![key_id, grant_id, grantee, after, limit as i64],
        grant_row,
    )?)
}

/// Every grant of a key (authorization looks for one that applies).
pub fn grants_for_key(conn: &Connection, key_id: &str) -> StoreResult<Vec<Grant>> {
    list_grants(conn, key_id, None, None, 0, i64::MAX as usize)
}

/// Grants a principal may retire, after seq `after`, with their keys' account and region.
pub fn list_retirable_grants(
    conn: &Connection,
    retiring: &str,
    after: i64,
    limit: usize,
) -> StoreResult<Vec<Grant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM kms_grants WHERE retiring = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
    ))?;
    collect(stmt.query_map(params![retiring, after, limit as i64], grant_row)?)
}

/// How many grants a key has (KMS's quota is 50,000).
pub fn count_grants(conn: &Connection, key_id: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM kms_grants WHERE key_id = ?1")?
        .query_row([key_id], |r| r.get(0))?)
}
