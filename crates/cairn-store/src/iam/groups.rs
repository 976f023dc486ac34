//! IAM groups and their members.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::users::User;
use super::{bump_generation, name_key};
use crate::StoreResult;

/// An IAM group.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Account.
    pub account: String,
    /// Group name (case kept).
    pub name: String,
    /// Unique id (`AGPA…`).
    pub group_id: String,
    /// Path.
    pub path: String,
    /// Creation time, epoch seconds.
    pub created: f64,
}

const COLUMNS: &str = "account, name, group_id, path, created";

fn row(r: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        account: r.get(0)?,
        name: r.get(1)?,
        group_id: r.get(2)?,
        path: r.get(3)?,
        created: r.get(4)?,
    })
}

/// Creates a group; false if one of that name (in any case) exists.
pub fn create_group(conn: &Connection, g: &Group) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO iam_groups (account, name, name_key, group_id, path, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            g.account,
            g.name,
            name_key(&g.name),
            g.group_id,
            g.path,
            g.created
        ])?;
    if n > 0 {
        bump_generation(conn)?;
    }
    Ok(n > 0)
}

/// Fetches a group by name (case-insensitive).
pub fn get_group(conn: &Connection, account: &str, name: &str) -> StoreResult<Option<Group>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM iam_groups WHERE account = ?1 AND name_key = ?2"
        ))?
        .query_row(params![account, name_key(name)], row)
        .optional()?)
}

/// Groups of an account, by name.
pub fn list_groups(conn: &Connection, account: &str) -> StoreResult<Vec<Group>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM iam_groups WHERE account = ?1 ORDER BY name_key, name"
    ))?;
    let rows = stmt.query_map([account], row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Number of groups in an account.
pub fn count_groups(conn: &Connection, account: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM iam_groups WHERE account = ?1")?
        .query_row([account], |r| r.get(0))?)
}

/// Renames a group and sets its path (UpdateGroup); its id, members and policies stay. The
/// caller has checked that no other group has the name (in any case).
pub fn rename_group(
    conn: &Connection,
    group_id: &str,
    name: &str,
    path: &str,
) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE iam_groups SET name = ?2, name_key = ?3, path = ?4 WHERE group_id = ?1",
        )?
        .execute(params![group_id, name, name_key(name), path])?;
    if n > 0 {
        bump_generation(conn)?;
    }
    Ok(n > 0)
}

/// Deletes a group row (the caller has checked for members and policies).
pub fn delete_group(conn: &Connection, group_id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM iam_groups WHERE group_id = ?1")?
        .execute([group_id])?;
    bump_generation(conn)
}

/// Adds a user to a group; false if it was already a member.
pub fn add_member(conn: &Connection, group_id: &str, user_id: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO iam_group_members (group_id, user_id, seq)
             VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM iam_group_members))",
        )?
        .execute(params![group_id, user_id])?;
    if n > 0 {
        bump_generation(conn)?;
    }
    Ok(n > 0)
}

/// Removes a user from a group; false if it was not a member.
pub fn remove_member(conn: &Connection, group_id: &str, user_id: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("DELETE FROM iam_group_members WHERE group_id = ?1 AND user_id = ?2")?
        .execute(params![group_id, user_id])?;
    if n > 0 {
        bump_generation(conn)?;
    }
    Ok(n > 0)
}

/// Members of a group, by name.
pub fn members(conn: &Connection, group_id: &str) -> StoreResult<Vec<User>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.account, u.name, u.user_id, u.path, u.created, u.boundary_arn
         FROM iam_group_members m JOIN iam_users u ON u.user_id = m.user_id
         WHERE m.group_id = ?1 ORDER BY u.name_key, u.name",
    )?;
    let rows = stmt.query_map([group_id], |r| {
        Ok(User {
            account: r.get(0)?,
            name: r.get(1)?,
            user_id: r.get(2)?,
            path: r.get(3)?,
            created: r.get(4)?,
            boundary: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Groups a user belongs to, in the order it joined them.
pub fn groups_for_user(conn: &Connection, user_id: &str) -> StoreResult<Vec<Group>> {
    Ok(groups_for_user_with_seq(conn, user_id)?
        .into_iter()
        .map(|(_, g)| g)
        .collect())
}

/// [`groups_for_user`] with each membership's sequence number (its order, unique).
pub fn groups_for_user_with_seq(
    conn: &Connection,
    user_id: &str,
) -> StoreResult<Vec<(i64, Group)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT g.account, g.name, g.group_id, g.path, g.created, m.seq
         FROM iam_group_members m JOIN iam_groups g ON g.group_id = m.group_id
         WHERE m.user_id = ?1 ORDER BY m.seq",
    )?;
    let rows = stmt.query_map([user_id], |r| Ok((r.get(5)?, row(r)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
