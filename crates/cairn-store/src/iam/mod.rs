//! IAM and STS state: users, access keys, groups, roles, managed and inline policies, tags and
//! STS sessions, one module per table family.
//!
//! Names of users, groups, roles and managed policies are unique case-insensitively within an
//! account (`name_key` is the lower-cased name) and keep their case. Entities are keyed by
//! their unique ids (`AIDA…`, `AGPA…`, `AROA…`, `ANPA…`), which are never reused, so tags,
//! attachments and inline policies hang off ids.
//!
//! Every function that changes IAM state increments the IAM [`generation`] in the same
//! transaction, so caches of credentials and decisions (in this process or another one sharing
//! the data dir) know when to drop what they hold. Two writes are exempt because nothing cached
//! depends on them: a new STS session (its key was never cached) and a role's `RoleLastUsed`.
//!
//! Access-key and session secrets are sealed at rest ([`secrets`]).

pub mod account;
pub mod groups;
pub mod inline;
pub mod key_use;
pub mod keys;
pub mod policies;
pub mod report;
pub mod roles;
pub mod secrets;
pub mod sessions;
pub mod tags;
pub mod users;

use rusqlite::{Connection, OptionalExtension};

use crate::StoreResult;

pub use keys::{AccessKey, AccessKeyMeta, get_access_key, insert_access_key};
pub use users::{User, create_user, get_user, list_users};

/// The IAM generation: a counter every change to users, keys or policies increments in the
/// same transaction.
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

/// The key names are compared by: ASCII lower case (IAM names are ASCII).
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Seals access-key secrets stored in plaintext by schema versions before 7 (run at open).
pub fn seal_legacy_secrets(conn: &Connection) -> StoreResult<()> {
    let legacy: Vec<(String, Vec<u8>)> = {
        let mut stmt =
            conn.prepare("SELECT access_key_id, secret FROM iam_access_keys WHERE sealed = 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    if legacy.is_empty() {
        return Ok(());
    }
    let key = secrets::ServerKey::for_connection(conn)?;
    for (id, plain) in legacy {
        let sealed = key.seal(&plain, id.as_bytes())?;
        conn.execute(
            "UPDATE iam_access_keys SET secret = ?2, sealed = 1 WHERE access_key_id = ?1",
            rusqlite::params![id, sealed],
        )?;
    }
    bump_generation(conn)
}

/// Reads a `(key, value)` list stored as a JSON array of pairs.
pub(crate) fn pairs_from_json(text: &str) -> StoreResult<Vec<(String, String)>> {
    serde_json::from_str(text).map_err(|e| crate::StoreError::Corrupt(format!("pairs: {e}")))
}

/// Reads a string list stored as a JSON array.
pub(crate) fn list_from_json(text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| crate::StoreError::Corrupt(format!("list: {e}")))
}

#[cfg(test)]
pub(crate) mod test_support {
    use rusqlite::Connection;

    /// A migrated store in a temp dir (the secrets key lives beside the database).
    pub(crate) fn open() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = Connection::open(dir.path().join("cairn.db")).expect("open");
        crate::schema::configure(&conn).expect("configure");
        crate::schema::migrate(&conn).expect("migrate");
        (dir, conn)
    }
}
