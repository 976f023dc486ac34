//! IAM users.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{bump_generation, name_key};
use crate::StoreResult;

/// An IAM user.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// Account.
    pub account: String,
    /// User name (case kept).
    pub name: String,
    /// Unique id (`AIDA…`).
    pub user_id: String,
    /// Path (`/` or `/a/b/`).
    pub path: String,
    /// Creation time, epoch seconds.
    pub created: f64,
    /// Permissions boundary policy ARN.
    pub boundary: Option<String>,
}

const COLUMNS: &str = "account, name, user_id, path, created, boundary_arn";

fn row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        account: r.get(0)?,
        name: r.get(1)?,
        user_id: r.get(2)?,
        path: r.get(3)?,
        created: r.get(4)?,
        boundary: r.get(5)?,
    })
}

/// Creates a user; false if a user of that name (in any case) already exists.
pub fn create_user(conn: &Connection, user: &User) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO iam_users (account, name, name_key, user_id, path, created, boundary_arn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            user.account,
            user.name,
            name_key(&user.name),
            user.user_id,
            user.path,
            user.created,
            user.boundary
        ])?;
    if n > 0 {
        bump_generation(conn)?;
    }
    Ok(n > 0)
}

/// Fetches a user by name (case-insensitive).
pub fn get_user(conn: &Connection, account: &str, name: &str) -> StoreResult<Option<User>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM iam_users WHERE account = ?1 AND name_key = ?2"
        ))?
        .query_row(params![account, name_key(name)], row)
        .optional()?)
}

/// Fetches a user by unique id.
pub fn get_user_by_id(conn: &Connection, user_id: &str) -> StoreResult<Option<User>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM iam_users WHERE user_id = ?1"
        ))?
        .query_row([user_id], row)
        .optional()?)
}

/// Users of an account, by name.
pub fn list_users(conn: &Connection, account: &str) -> StoreResult<Vec<User>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM iam_users WHERE account = ?1 ORDER BY name_key, name"
    ))?;
    let rows = stmt.query_map([account], row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Number of users in an account.
pub fn count_users(conn: &Connection, account: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM iam_users WHERE account = ?1")?
        .query_row([account], |r| r.get(0))?)
}

/// Deletes a user row with its tags (the caller has checked for dependents).
pub fn delete_user(conn: &Connection, user_id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM iam_users WHERE user_id = ?1")?
        .execute([user_id])?;
    super::tags::delete_all(conn, user_id)?;
    bump_generation(conn)
}

/// Renames a user and sets its path (UpdateUser); its id, keys, groups and policies stay. The
/// sessions it holds name it anew. The caller has checked that no other user has the name (in
/// any case).
pub fn rename_user(conn: &Connection, user_id: &str, name: &str, path: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE iam_users SET name = ?2, name_key = ?3, path = ?4 WHERE user_id = ?1",
        )?
        .execute(params![user_id, name, name_key(name), path])?;
    if n > 0 {
        super::sessions::rename_subject(conn, user_id, name, path)?;
        bump_generation(conn)?;
    }
    Ok(n > 0)
}

/// Sets or clears a user's permissions boundary.
pub fn set_user_boundary(
    conn: &Connection,
    user_id: &str,
    boundary: Option<&str>,
) -> StoreResult<()> {
    conn.prepare_cached("UPDATE iam_users SET boundary_arn = ?2 WHERE user_id = ?1")?
        .execute(params![user_id, boundary])?;
    bump_generation(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_case_insensitively() {
        let (_d, conn) = super::super::test_support::open();
        let mut u = User {
            account: "123456789012".into(),
            name: "Alice".into(),
            user_id: "AIDA1".into(),
            path: "/".into(),
            created: 1.0,
            boundary: None,
        };
        assert!(create_user(&conn, &u).unwrap());
        u.name = "alice".into();
        u.user_id = "AIDA2".into();
        assert!(!create_user(&conn, &u).unwrap());
        let got = get_user(&conn, "123456789012", "ALICE").unwrap().unwrap();
        assert_eq!(got.name, "Alice");
        assert_eq!(got.user_id, "AIDA1");
    }
}
