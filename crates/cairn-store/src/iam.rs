//! IAM users and their access keys.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// An IAM user.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// Account.
    pub account: String,
    /// User name.
    pub name: String,
    /// Stable id (`AIDA…`).
    pub user_id: String,
    /// Creation time, epoch seconds.
    pub created: f64,
}

/// An access key with its owner.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessKey {
    /// `AKIA…`.
    pub access_key_id: String,
    /// The secret.
    pub secret: String,
    /// Account.
    pub account: String,
    /// Owning user.
    pub user_name: String,
    /// `Active` or `Inactive`.
    pub status: String,
}

/// The IAM generation: a counter every change to users, keys or policies increments in the
/// same transaction, so caches of credentials and decisions (in this process or another one
/// sharing the data dir) know when to drop what they hold.
pub fn generation(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'iam_generation'")?
        .query_row([], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Increments the IAM generation (call in every transaction that changes IAM state).
pub fn bump_generation(conn: &Connection) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('iam_generation', '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
    )?
    .execute([])?;
    Ok(())
}

/// Creates a user; false if it already existed.
pub fn create_user(conn: &Connection, user: &User) -> StoreResult<bool> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO iam_users (account, name, user_id, created) VALUES (?1, ?2, ?3, ?4)",
        params![user.account, user.name, user.user_id, user.created],
    )?;
    bump_generation(conn)?;
    Ok(n > 0)
}

/// Fetches a user.
pub fn get_user(conn: &Connection, account: &str, name: &str) -> StoreResult<Option<User>> {
    Ok(conn
        .query_row(
            "SELECT account, name, user_id, created FROM iam_users WHERE account = ?1 AND name = ?2",
            params![account, name],
            |r| {
                Ok(User {
                    account: r.get(0)?,
                    name: r.get(1)?,
                    user_id: r.get(2)?,
                    created: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// Lists users of an account by name.
pub fn list_users(conn: &Connection, account: &str) -> StoreResult<Vec<User>> {
    let mut stmt = conn.prepare(
        "SELECT account, name, user_id, created FROM iam_users WHERE account = ?1 ORDER BY name",
    )?;
    let rows = stmt.query_map([account], |r| {
        Ok(User {
            account: r.get(0)?,
            name: r.get(1)?,
            user_id: r.get(2)?,
            created: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Stores a new access key.
pub fn insert_access_key(conn: &Connection, key: &AccessKey, created: f64) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO iam_access_keys (access_key_id, secret, account, user_name, status, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            key.access_key_id,
            key.secret,
            key.account,
            key.user_name,
            key.status,
            created
        ],
    )?;
    bump_generation(conn)
}

/// Looks up an access key together with the user it belongs to, in one query.
pub fn get_access_key(
    conn: &Connection,
    access_key_id: &str,
) -> StoreResult<Option<(AccessKey, User)>> {
    Ok(conn
        .prepare_cached(
            "SELECT k.access_key_id, k.secret, k.account, k.user_name, k.status, u.user_id, u.created
             FROM iam_access_keys k JOIN iam_users u ON u.account = k.account AND u.name = k.user_name
             WHERE k.access_key_id = ?1",
        )?
        .query_row([access_key_id], |r| {
            let key = AccessKey {
                access_key_id: r.get(0)?,
                secret: r.get(1)?,
                account: r.get(2)?,
                user_name: r.get(3)?,
                status: r.get(4)?,
            };
            let user = User {
                account: key.account.clone(),
                name: key.user_name.clone(),
                user_id: r.get(5)?,
                created: r.get(6)?,
            };
            Ok((key, user))
        })
        .optional()?)
}
