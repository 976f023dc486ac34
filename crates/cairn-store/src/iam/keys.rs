//! Long-term access keys of IAM users (root's keys come from configuration). Secrets are
//! sealed at rest ([`super::secrets`]) and only opened to authenticate.

use rusqlite::{Connection, OptionalExtension, params};

use super::bump_generation;
use super::secrets::ServerKey;
use super::users::User;
use crate::StoreResult;

/// An access key with its secret.
#[derive(Clone, PartialEq)]
pub struct AccessKey {
    /// `AKIA…`.
    pub access_key_id: String,
    /// The secret (plaintext in memory only).
    pub secret: String,
    /// Account.
    pub account: String,
    /// Owning user's id.
    pub user_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// Creation time, epoch seconds.
    pub created: f64,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"<redacted>")
            .field("user_id", &self.user_id)
            .field("status", &self.status)
            .finish()
    }
}

/// What ListAccessKeys shows of a key (never the secret).
#[derive(Clone, Debug, PartialEq)]
pub struct AccessKeyMeta {
    /// `AKIA…`.
    pub access_key_id: String,
    /// Owning user's id.
    pub user_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// Creation time.
    pub created: f64,
}

/// Stores a new access key, sealing its secret.
pub fn insert_access_key(conn: &Connection, key: &AccessKey) -> StoreResult<()> {
    let sealed = ServerKey::for_connection(conn)?
        .seal(key.secret.as_bytes(), key.access_key_id.as_bytes())?;
    conn.prepare_cached(
        "INSERT INTO iam_access_keys (access_key_id, account, user_id, secret, sealed, status, created)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)",
    )?
    .execute(params![
        key.access_key_id,
        key.account,
        key.user_id,
        sealed,
        key.status,
        key.created
    ])?;
    bump_generation(conn)
}

/// Looks up an access key together with its user, in one query, opening the secret.
pub fn get_access_key(
    conn: &Connection,
    access_key_id: &str,
) -> StoreResult<Option<(AccessKey, User)>> {
    let found = conn
        .prepare_cached(
            "SELECT k.access_key_id, k.secret, k.account, k.user_id, k.status, k.created,
                    u.name, u.path, u.created, u.boundary_arn
             FROM iam_access_keys k JOIN iam_users u ON u.user_id = k.user_id
             WHERE k.access_key_id = ?1 AND k.sealed = 1",
        )?
        .query_row([access_key_id], |r| {
            let sealed: Vec<u8> = r.get(1)?;
            let key = AccessKey {
                access_key_id: r.get(0)?,
                secret: String::new(),
                account: r.get(2)?,
                user_id: r.get(3)?,
                status: r.get(4)?,
                created: r.get(5)?,
            };
            let user = User {
                account: key.account.clone(),
                name: r.get(6)?,
                user_id: key.user_id.clone(),
                path: r.get(7)?,
                created: r.get(8)?,
                boundary: r.get(9)?,
            };
            Ok((sealed, key, user))
        })
        .optional()?;
    let Some((sealed, mut key, user)) = found else {
        return Ok(None);
    };
    key.secret =
        ServerKey::for_connection(conn)?.open_string(&sealed, key.access_key_id.as_bytes())?;
    Ok(Some((key, user)))
}

/// The metadata of one key.
pub fn get_access_key_meta(
    conn: &Connection,
    access_key_id: &str,
) -> StoreResult<Option<AccessKeyMeta>> {
    Ok(conn
        .prepare_cached(
            "SELECT access_key_id, user_id, status, created FROM iam_access_keys WHERE access_key_id = ?1",
        )?
        .query_row([access_key_id], meta_row)
        .optional()?)
}

fn meta_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessKeyMeta> {
    Ok(AccessKeyMeta {
        access_key_id: r.get(0)?,
        user_id: r.get(1)?,
        status: r.get(2)?,
        created: r.get(3)?,
    })
}

/// A user's keys, oldest first.
pub fn list_access_keys(conn: &Connection, user_id: &str) -> StoreResult<Vec<AccessKeyMeta>> {
    let mut stmt = conn.prepare_cached(
        "SELECT access_key_id, user_id, status, created FROM iam_access_keys
         WHERE user_id = ?1 ORDER BY created, access_key_id",
    )?;
    let rows = stmt.query_map([user_id], meta_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Sets a key's status.
pub fn set_access_key_status(
    conn: &Connection,
    access_key_id: &str,
    status: &str,
) -> StoreResult<()> {
    conn.prepare_cached("UPDATE iam_access_keys SET status = ?2 WHERE access_key_id = ?1")?
        .execute(params![access_key_id, status])?;
    bump_generation(conn)
}

/// Deletes a key.
pub fn delete_access_key(conn: &Connection, access_key_id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM iam_access_keys WHERE access_key_id = ?1")?
        .execute([access_key_id])?;
    super::key_use::forget(conn, access_key_id)?;
    bump_generation(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sealed_in_the_database() {
        let (_d, conn) = super::super::test_support::open();
        let user = User {
            account: "123456789012".into(),
            name: "alice".into(),
            user_id: "AIDA1".into(),
            path: "/".into(),
            created: 1.0,
            boundary: None,
        };
        super::super::users::create_user(&conn, &user).unwrap();
        let key = AccessKey {
            access_key_id: "AKIATEST".into(),
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            account: user.account.clone(),
            user_id: user.user_id.clone(),
            status: "Active".into(),
            created: 2.0,
        };
        insert_access_key(&conn, &key).unwrap();
        let raw: Vec<u8> = conn
            .query_row("SELECT secret FROM iam_access_keys", [], |r| r.get(0))
            .unwrap();
        assert!(!raw.windows(8).any(|w| w == b"wJalrXUt"));
        let (got, owner) = get_access_key(&conn, "AKIATEST").unwrap().unwrap();
        assert_eq!(got.secret, key.secret);
        assert_eq!(owner.name, "alice");
    }

    #[test]
    fn legacy_plaintext_secrets_are_sealed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cairn.db");
        {
            // A store as version 6 left it, whose access keys held their secrets in plaintext.
            let conn = Connection::open(&path).unwrap();
            crate::schema::migrate_to(&conn, 6).unwrap();
            conn.execute_batch(
                "INSERT INTO iam_users VALUES ('123456789012', 'bob', 'AIDABOB', 1.0);
                 INSERT INTO iam_access_keys VALUES ('AKIABOB', 'plain-secret', '123456789012', 'bob', 'Active', 2.0);",
            )
            .unwrap();
        }
        let conn = Connection::open(&path).unwrap();
        crate::schema::migrate(&conn).unwrap();
        let sealed: i64 = conn
            .query_row("SELECT sealed FROM iam_access_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sealed, 1);
        let (key, user) = get_access_key(&conn, "AKIABOB").unwrap().unwrap();
        assert_eq!(key.secret, "plain-secret");
        assert_eq!(user.name, "bob");
        assert_eq!(user.path, "/");
    }
}
