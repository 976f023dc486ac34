//! Customer managed policies with their versions, and attachments of managed policies
//! (customer or AWS managed, by ARN) to users, groups and roles.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{bump_generation, name_key};
use crate::StoreResult;

/// A customer managed policy.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagedPolicy {
    /// Account.
    pub account: String,
    /// Name (case kept).
    pub name: String,
    /// Unique id (`ANPA…`).
    pub policy_id: String,
    /// Path.
    pub path: String,
    /// ARN.
    pub arn: String,
    /// Description.
    pub description: Option<String>,
    /// Creation time.
    pub created: f64,
    /// Time the default version last changed.
    pub updated: f64,
    /// Default version id (`v1`…).
    pub default_version: String,
}

/// One version of a managed policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyVersion {
    /// `v1`, `v2`, …
    pub version_id: String,
    /// The document as submitted.
    pub document: String,
    /// Creation time.
    pub created: f64,
}

const COLUMNS: &str =
    "account, name, policy_id, path, arn, description, created, updated, default_version";

fn row(r: &Row<'_>) -> rusqlite::Result<ManagedPolicy> {
    Ok(ManagedPolicy {
        account: r.get(0)?,
        name: r.get(1)?,
        policy_id: r.get(2)?,
        path: r.get(3)?,
        arn: r.get(4)?,
        description: r.get(5)?,
        created: r.get(6)?,
        updated: r.get(7)?,
        default_version: r.get(8)?,
    })
}

/// Creates a policy with its first version `v1`; false if one of that name exists.
pub fn create_policy(conn: &Connection, p: &ManagedPolicy, document: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO iam_policies (account, name, name_key, policy_id, path, arn, description,
                 created, updated, default_version, next_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 'v1', 2)",
        )?
        .execute(params![
            p.account,
            p.name,
            name_key(&p.name),
            p.policy_id,
            p.path,
            p.arn,
            p.description,
            p.created
        ])?;
    if n == 0 {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO iam_policy_versions (policy_id, version_id, version_num, document, created)
         VALUES (?1, 'v1', 1, ?2, ?3)",
    )?
    .execute(params![p.policy_id, document, p.created])?;
    bump_generation(conn)?;
    Ok(true)
}

/// Fetches a policy by ARN.
pub fn get_policy(conn: &Connection, arn: &str) -> StoreResult<Option<ManagedPolicy>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM iam_policies WHERE arn = ?1"
        ))?
        .query_row([arn], row)
        .optional()?)
}

/// Customer managed policies of an account, by name.
pub fn list_policies(conn: &Connection, account: &str) -> StoreResult<Vec<ManagedPolicy>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM iam_policies WHERE account = ?1 ORDER BY name_key, name"
    ))?;
    let rows = stmt.query_map([account], row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Number of customer managed policies in an account.
pub fn count_policies(conn: &Connection, account: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM iam_policies WHERE account = ?1")?
        .query_row([account], |r| r.get(0))?)
}

/// Deletes a policy with its versions and tags (the caller has checked attachments).
pub fn delete_policy(conn: &Connection, policy_id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM iam_policy_versions WHERE policy_id = ?1")?
        .execute([policy_id])?;
    conn.prepare_cached("DELETE FROM iam_policies WHERE policy_id = ?1")?
        .execute([policy_id])?;
    super::tags::delete_all(conn, policy_id)?;
    bump_generation(conn)
}

/// Versions of a policy, newest first.
pub fn list_versions(conn: &Connection, policy_id: &str) -> StoreResult<Vec<PolicyVersion>> {
    let mut stmt = conn.prepare_cached(
        "SELECT version_id, document, created FROM iam_policy_versions
         WHERE policy_id = ?1 ORDER BY version_num DESC",
    )?;
    let rows = stmt.query_map([policy_id], |r| {
        Ok(PolicyVersion {
            version_id: r.get(0)?,
            document: r.get(1)?,
            created: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// One version.
pub fn get_version(
    conn: &Connection,
    policy_id: &str,
    version_id: &str,
) -> StoreResult<Option<PolicyVersion>> {
    Ok(conn
        .prepare_cached(
            "SELECT version_id, document, created FROM iam_policy_versions
             WHERE policy_id = ?1 AND version_id = ?2",
        )?
        .query_row(params![policy_id, version_id], |r| {
            Ok(PolicyVersion {
                version_id: r.get(0)?,
                document: r.get(1)?,
                created: r.get(2)?,
            })
        })
        .optional()?)
}

/// Adds the next version; returns its id.
pub fn add_version(
    conn: &Connection,
    policy_id: &str,
    document: &str,
    created: f64,
) -> StoreResult<String> {
    let num: i64 = conn
        .prepare_cached("SELECT next_version FROM iam_policies WHERE policy_id = ?1")?
        .query_row([policy_id], |r| r.get(0))?;
    let version_id = format!("v{num}");
    conn.prepare_cached(
        "INSERT INTO iam_policy_versions (policy_id, version_id, version_num, document, created)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![policy_id, version_id, num, document, created])?;
    conn.prepare_cached("UPDATE iam_policies SET next_version = ?2 WHERE policy_id = ?1")?
        .execute(params![policy_id, num + 1])?;
    bump_generation(conn)?;
    Ok(version_id)
}

/// Deletes a (non-default) version.
pub fn delete_version(conn: &Connection, policy_id: &str, version_id: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "DELETE FROM iam_policy_versions WHERE policy_id = ?1 AND version_id = ?2",
    )?
    .execute(params![policy_id, version_id])?;
    bump_generation(conn)
}

/// Makes a version the default.
pub fn set_default_version(
    conn: &Connection,
    policy_id: &str,
    version_id: &str,
    now: f64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE iam_policies SET default_version = ?2, updated = ?3 WHERE policy_id = ?1",
    )?
    .execute(params![policy_id, version_id, now])?;
    bump_generation(conn)
}

/// The default version's document of a customer managed policy, by ARN.
pub fn default_document(conn: &Connection, arn: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v
               ON v.policy_id = p.policy_id AND v.version_id = p.default_version
             WHERE p.arn = ?1",
        )?
        .query_row([arn], |r| r.get(0))
        .optional()?)
}

/// Attaches a policy ARN to an entity; false if it was already attached. `owner_kind` is
/// `user`, `group` or `role`.
pub fn attach(conn: &Connection, owner_kind: &str, owner_id: &str, arn: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO iam_attachments (owner_id, owner_kind, policy_arn, seq)
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(seq), 0) + 1 FROM iam_attachments WHERE owner_id = ?1))",
        )?
        .execute(params![owner_id, owner_kind, arn])?;
    if n > 0 {
        bump_generation(conn)?;
    }
    Ok(n > 0)
}

/// Detaches; false if it was not attached.
pub fn detach(conn: &Connection, owner_id: &str, arn: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("DELETE FROM iam_attachments WHERE owner_id = ?1 AND policy_arn = ?2")?
        .execute(params![owner_id, arn])?;
    if n > 0 {
        bump_generation(conn)?;
    }
    Ok(n > 0)
}

/// Policy ARNs attached to an entity, in attachment order.
pub fn attached(conn: &Connection, owner_id: &str) -> StoreResult<Vec<String>> {
    Ok(attached_with_seq(conn, owner_id)?
        .into_iter()
        .map(|(_, arn)| arn)
        .collect())
}

/// [`attached`] with each attachment's sequence number (its order, never reused while the
/// attachment lasts).
pub fn attached_with_seq(conn: &Connection, owner_id: &str) -> StoreResult<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, policy_arn FROM iam_attachments WHERE owner_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([owner_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Entities a policy is attached to: `(owner_kind, owner_id)`.
pub fn attachments_of(conn: &Connection, arn: &str) -> StoreResult<Vec<(String, String)>> {
    Ok(attachments_of_with_seq(conn, arn)?
        .into_iter()
        .map(|(kind, id, _)| (kind, id))
        .collect())
}

/// [`attachments_of`] with each attachment's sequence number (unique per owner), ordered by
/// kind, sequence number and owner id.
pub fn attachments_of_with_seq(
    conn: &Connection,
    arn: &str,
) -> StoreResult<Vec<(String, String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT owner_kind, owner_id, seq FROM iam_attachments WHERE policy_arn = ?1
         ORDER BY owner_kind, seq, owner_id",
    )?;
    let rows = stmt.query_map([arn], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// How many entities have the policy attached.
pub fn attachment_count(conn: &Connection, arn: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM iam_attachments WHERE policy_arn = ?1")?
        .query_row([arn], |r| r.get(0))?)
}

/// How many users and roles use the policy as permissions boundary.
pub fn boundary_count(conn: &Connection, arn: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM iam_users WHERE boundary_arn = ?1)
                  + (SELECT COUNT(*) FROM iam_roles WHERE boundary_arn = ?1)",
        )?
        .query_row([arn], |r| r.get(0))?)
}
