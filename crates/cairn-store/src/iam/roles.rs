//! IAM roles: trust policy, description, maximum session duration, boundary, last use.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{bump_generation, name_key};
use crate::StoreResult;

/// An IAM role.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    /// Account.
    pub account: String,
    /// Role name (case kept).
    pub name: String,
    /// Unique id (`AROA…`).
    pub role_id: String,
    /// Path.
    pub path: String,
    /// Creation time, epoch seconds.
    pub created: f64,
    /// The trust policy, as submitted.
    pub trust_policy: String,
    /// Description.
    pub description: Option<String>,
    /// Longest session, seconds (3600–43200).
    pub max_session: i64,
    /// Permissions boundary policy ARN.
    pub boundary: Option<String>,
    /// When a session was last issued, and in which region.
    pub last_used: Option<(f64, String)>,
}

const COLUMNS: &str = "account, name, role_id, path, created, trust_policy, description, max_session, boundary_arn, last_used, last_used_region";

fn row(r: &Row<'_>) -> rusqlite::Result<Role> {
    let when: Option<f64> = r.get(9)?;
    let region: Option<String> = r.get(10)?;
    Ok(Role {
        account: r.get(0)?,
        name: r.get(1)?,
        role_id: r.get(2)?,
        path: r.get(3)?,
        created: r.get(4)?,
        trust_policy: r.get(5)?,
        description: r.get(6)?,
        max_session: r.get(7)?,
        boundary: r.get(8)?,
        last_used: when.zip(region),
    })
}

/// Creates a role; false if one of that name (in any case) exists.
pub fn create_role(conn: &Connection, role: &Role) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO iam_roles (account, name, name_key, role_id, path, created, trust_policy,
                 description, max_session, boundary_arn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            role.account,
            role.name,
            name_key(&role.name),
            role.role_id,
            role.path,
            role.created,
            role.trust_policy,
            role.description,
            role.max_session,
            role.boundary
        ])?;
    if n > 0 {
        bump_generation(conn)?;
    }
    Ok(n > 0)
}

/// Fetches a role by name (case-insensitive).
pub fn get_role(conn: &Connection, account: &str, name: &str) -> StoreResult<Option<Role>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM iam_roles WHERE account = ?1 AND name_key = ?2"
        ))?
        .query_row(params![account, name_key(name)], row)
        .optional()?)
}

/// Fetches a role by unique id.
pub fn get_role_by_id(conn: &Connection, role_id: &str) -> StoreResult<Option<Role>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM iam_roles WHERE role_id = ?1"
        ))?
        .query_row([role_id], row)
        .optional()?)
}

/// Roles of an account, by name.
pub fn list_roles(conn: &Connection, account: &str) -> StoreResult<Vec<Role>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM iam_roles WHERE account = ?1 ORDER BY name_key, name"
    ))?;
    let rows = stmt.query_map([account], row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Number of roles in an account.
pub fn count_roles(conn: &Connection, account: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM iam_roles WHERE account = ?1")?
        .query_row([account], |r| r.get(0))?)
}

/// Deletes a role row with its tags (the caller has checked for policies).
pub fn delete_role(conn: &Connection, role_id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM iam_roles WHERE role_id = ?1")?
        .execute([role_id])?;
    super::tags::delete_all(conn, role_id)?;
    bump_generation(conn)
}

/// Updates the description and/or the maximum session duration.
pub fn update_role(
    conn: &Connection,
    role_id: &str,
    description: Option<&str>,
    max_session: Option<i64>,
) -> StoreResult<()> {
    if let Some(d) = description {
        conn.prepare_cached("UPDATE iam_roles SET description = ?2 WHERE role_id = ?1")?
            .execute(params![role_id, d])?;
    }
    if let Some(m) = max_session {
        conn.prepare_cached("UPDATE iam_roles SET max_session = ?2 WHERE role_id = ?1")?
            .execute(params![role_id, m])?;
    }
    bump_generation(conn)
}

/// Replaces the trust policy.
pub fn set_trust_policy(conn: &Connection, role_id: &str, document: &str) -> StoreResult<()> {
    conn.prepare_cached("UPDATE iam_roles SET trust_policy = ?2 WHERE role_id = ?1")?
        .execute(params![role_id, document])?;
    bump_generation(conn)
}

/// Sets or clears the permissions boundary.
pub fn set_role_boundary(
    conn: &Connection,
    role_id: &str,
    boundary: Option<&str>,
) -> StoreResult<()> {
    conn.prepare_cached("UPDATE iam_roles SET boundary_arn = ?2 WHERE role_id = ?1")?
        .execute(params![role_id, boundary])?;
    bump_generation(conn)
}

/// Records that a session of the role was issued (`RoleLastUsed`). Not a change anything
/// caches, so the generation stays.
pub fn record_role_used(
    conn: &Connection,
    role_id: &str,
    when: f64,
    region: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE iam_roles SET last_used = ?2, last_used_region = ?3 WHERE role_id = ?1",
    )?
    .execute(params![role_id, when, region])?;
    Ok(())
}
