//! Web console sessions. Only a hash of each session id is stored, so a copy of the database
//! does not let anyone resume a session; no secret is stored either: a session names the
//! access key it signed in with, and every request re-resolves that key (a deactivated or
//! deleted key ends its sessions at once).

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// A stored session.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// SHA-256 of the session id, hex.
    pub id_hash: String,
    /// The access key the user signed in with.
    pub access_key_id: String,
    /// The console's current region.
    pub region: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Sign-in time, epoch seconds.
    pub created: f64,
    /// Expiry, epoch seconds.
    pub expires: f64,
}

/// Stores a new session.
pub fn insert(conn: &Connection, s: &Session) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO console_sessions (id_hash, access_key_id, region, csrf, created, expires)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        s.id_hash,
        s.access_key_id,
        s.region,
        s.csrf,
        s.created,
        s.expires
    ])?;
    Ok(())
}

/// The session with this id hash, if it has not expired at `now`.
pub fn get(conn: &Connection, id_hash: &str, now: f64) -> StoreResult<Option<Session>> {
    Ok(conn
        .prepare_cached(
            "SELECT id_hash, access_key_id, region, csrf, created, expires
             FROM console_sessions WHERE id_hash = ?1 AND expires > ?2",
        )?
        .query_row(params![id_hash, now], |r| {
            Ok(Session {
                id_hash: r.get(0)?,
                access_key_id: r.get(1)?,
                region: r.get(2)?,
                csrf: r.get(3)?,
                created: r.get(4)?,
                expires: r.get(5)?,
            })
        })
        .optional()?)
}

/// Changes a session's region.
pub fn set_region(conn: &Connection, id_hash: &str, region: &str) -> StoreResult<()> {
    conn.prepare_cached("UPDATE console_sessions SET region = ?2 WHERE id_hash = ?1")?
        .execute(params![id_hash, region])?;
    Ok(())
}

/// Ends a session.
pub fn delete(conn: &Connection, id_hash: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM console_sessions WHERE id_hash = ?1")?
        .execute([id_hash])?;
    Ok(())
}

/// Ends every session signed in with `access_key_id` (the key was deactivated or deleted, or
/// its temporary session ended); returns how many.
pub fn delete_for_key(conn: &Connection, access_key_id: &str) -> StoreResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM console_sessions WHERE access_key_id = ?1")?
        .execute([access_key_id])?)
}

/// Removes sessions that expired before `now`; returns how many.
pub fn delete_expired(conn: &Connection, now: f64) -> StoreResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM console_sessions WHERE expires <= ?1")?
        .execute([now])?)
}

/// Notes the keyed fingerprint of the secret access key `access_key_id` signs with now, and
/// ends that key's sessions when it differs from the one noted before: root's secret comes
/// from the environment or a file and can change with the key id unchanged, and a session
/// must not outlive the secret it proved (console4). Returns how many sessions ended.
pub fn note_secret(
    conn: &Connection,
    access_key_id: &str,
    fingerprint: &str,
) -> StoreResult<usize> {
    let name = format!("console-secret:{access_key_id}");
    let before = crate::meta::get(conn, &name)?;
    let ended = match before {
        Some(old) if old != fingerprint => delete_for_key(conn, access_key_id)?,
        _ => 0,
    };
    crate::meta::put(conn, &name, fingerprint)?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&c).unwrap();
        c
    }

    fn session(id: &str, expires: f64) -> Session {
        Session {
            id_hash: id.into(),
            access_key_id: "AKID".into(),
            region: "us-east-1".into(),
            csrf: "t".into(),
            created: 1.0,
            expires,
        }
    }

    #[test]
    fn sessions_expire_and_end() {
        let c = db();
        insert(&c, &session("a", 100.0)).unwrap();
        insert(&c, &session("b", 50.0)).unwrap();
        assert_eq!(get(&c, "a", 10.0).unwrap().unwrap().region, "us-east-1");
        assert!(
            get(&c, "a", 100.0).unwrap().is_none(),
            "expired at its expiry"
        );
        set_region(&c, "a", "eu-west-1").unwrap();
        assert_eq!(get(&c, "a", 10.0).unwrap().unwrap().region, "eu-west-1");
        assert_eq!(delete_expired(&c, 60.0).unwrap(), 1);
        delete(&c, "a").unwrap();
        assert!(get(&c, "a", 10.0).unwrap().is_none());
    }

    #[test]
    fn a_key_ends_all_its_sessions() {
        let c = db();
        insert(&c, &session("a", 100.0)).unwrap();
        insert(&c, &session("b", 100.0)).unwrap();
        let mut other = session("c", 100.0);
        other.access_key_id = "OTHER".into();
        insert(&c, &other).unwrap();
        assert_eq!(delete_for_key(&c, "AKID").unwrap(), 2);
        assert!(get(&c, "a", 10.0).unwrap().is_none());
        assert!(get(&c, "c", 10.0).unwrap().is_some(), "other keys' stay");
    }
}
