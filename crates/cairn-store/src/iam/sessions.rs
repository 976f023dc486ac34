//! STS sessions: temporary credentials issued by AssumeRole and GetSessionToken. Durable, so
//! credentials survive a restart; the secret is sealed and only a SHA-256 of the session token
//! is kept.

use rusqlite::{Connection, OptionalExtension, params};

use super::secrets::ServerKey;
use super::{list_from_json, pairs_from_json};
use crate::StoreResult;

/// Whose session it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    /// A role session (AssumeRole); `subject_id` is the role id.
    Role,
    /// A user's GetSessionToken credentials; `subject_id` is the user id.
    User,
    /// Root's GetSessionToken credentials; `subject_id` is the account.
    Root,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Role => "role",
            Self::User => "user",
            Self::Root => "root",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "role" => Some(Self::Role),
            "user" => Some(Self::User),
            "root" => Some(Self::Root),
            _ => None,
        }
    }
}

/// A session.
#[derive(Clone, PartialEq)]
pub struct Session {
    /// `ASIA…`.
    pub access_key_id: String,
    /// Account.
    pub account: String,
    /// The secret (plaintext in memory only).
    pub secret: String,
    /// Hex SHA-256 of the session token.
    pub token_hash: String,
    /// Whose.
    pub kind: SessionKind,
    /// Role id, user id or account.
    pub subject_id: String,
    /// Role or user name when issued (kept so a session renders after its role is deleted).
    pub subject_name: String,
    /// Role or user path when issued.
    pub subject_path: String,
    /// `RoleSessionName` (role sessions).
    pub session_name: Option<String>,
    /// Issue time, epoch seconds.
    pub issued: f64,
    /// Expiry, epoch seconds.
    pub expires: f64,
    /// Whether MFA was presented.
    pub mfa: bool,
    /// Inline session policy.
    pub policy: Option<String>,
    /// Managed session policy ARNs.
    pub policy_arns: Vec<String>,
    /// Session tags.
    pub tags: Vec<(String, String)>,
    /// Transitive tag keys.
    pub transitive_tag_keys: Vec<String>,
    /// `SourceIdentity`.
    pub source_identity: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"<redacted>")
            .field("kind", &self.kind)
            .field("subject_id", &self.subject_id)
            .field("session_name", &self.session_name)
            .field("expires", &self.expires)
            .finish()
    }
}

/// How long expired sessions are kept before they are pruned (a day: long enough for their
/// `ExpiredToken` answers, short enough to keep the table small).
const PRUNE_AFTER_SECS: f64 = 86_400.0;

/// Names a renamed user or group anew in the sessions it holds (UpdateUser).
pub fn rename_subject(
    conn: &Connection,
    subject_id: &str,
    name: &str,
    path: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE sts_sessions SET subject_name = ?2, subject_path = ?3 WHERE subject_id = ?1",
    )?
    .execute(params![subject_id, name, path])?;
    Ok(())
}

/// Stores a new session (sealing its secret) and prunes long-expired ones.
pub fn insert_session(conn: &Connection, s: &Session) -> StoreResult<()> {
    let sealed =
        ServerKey::for_connection(conn)?.seal(s.secret.as_bytes(), s.access_key_id.as_bytes())?;
    conn.prepare_cached(
        "INSERT INTO sts_sessions (access_key_id, account, secret, token_hash, kind, subject_id, session_name,
             issued, expires, mfa, policy, policy_arns, tags, transitive_tag_keys, source_identity,
             subject_name, subject_path)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        s.access_key_id,
        s.account,
        sealed,
        s.token_hash,
        s.kind.as_str(),
        s.subject_id,
        s.session_name,
        s.issued,
        s.expires,
        s.mfa,
        s.policy,
        json(&s.policy_arns),
        json(&s.tags),
        json(&s.transitive_tag_keys),
        s.source_identity,
        s.subject_name,
        s.subject_path
    ])?;
    conn.prepare_cached("DELETE FROM sts_sessions WHERE expires < ?1")?
        .execute([s.issued - PRUNE_AFTER_SECS])?;
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// Fetches a session by access key id, opening its secret.
pub fn get_session(conn: &Connection, access_key_id: &str) -> StoreResult<Option<Session>> {
    let found = conn
        .prepare_cached(
            "SELECT access_key_id, account, secret, token_hash, kind, subject_id, session_name, issued,
                    expires, mfa, policy, policy_arns, tags, transitive_tag_keys, source_identity,
                    subject_name, subject_path
             FROM sts_sessions WHERE access_key_id = ?1",
        )?
        .query_row([access_key_id], |r| {
            Ok((
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(11)?,
                r.get::<_, String>(12)?,
                r.get::<_, String>(13)?,
                Session {
                    access_key_id: r.get(0)?,
                    account: r.get(1)?,
                    secret: String::new(),
                    token_hash: r.get(3)?,
                    kind: SessionKind::Role,
                    subject_id: r.get(5)?,
                    subject_name: r.get(15)?,
                    subject_path: r.get(16)?,
                    session_name: r.get(6)?,
                    issued: r.get(7)?,
                    expires: r.get(8)?,
                    mfa: r.get(9)?,
                    policy: r.get(10)?,
                    policy_arns: Vec::new(),
                    tags: Vec::new(),
                    transitive_tag_keys: Vec::new(),
                    source_identity: r.get(14)?,
                },
            ))
        })
        .optional()?;
    let Some((sealed, kind, arns, tags, transitive, mut s)) = found else {
        return Ok(None);
    };
    s.kind = SessionKind::parse(&kind)
        .ok_or_else(|| crate::StoreError::Corrupt(format!("session kind {kind}")))?;
    s.policy_arns = list_from_json(&arns)?;
    s.tags = pairs_from_json(&tags)?;
    s.transitive_tag_keys = list_from_json(&transitive)?;
    s.secret = ServerKey::for_connection(conn)?.open_string(&sealed, s.access_key_id.as_bytes())?;
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_round_trip_and_prune() {
        let (_d, conn) = super::super::test_support::open();
        let mut s = Session {
            access_key_id: "ASIAOLD".into(),
            account: "123456789012".into(),
            secret: "old-secret".into(),
            token_hash: "00".into(),
            kind: SessionKind::Role,
            subject_id: "AROA1".into(),
            subject_name: "ops".into(),
            subject_path: "/".into(),
            session_name: Some("s".into()),
            issued: 1000.0,
            expires: 1900.0,
            mfa: false,
            policy: None,
            policy_arns: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            tags: vec![("k".into(), "v".into())],
            transitive_tag_keys: vec![],
            source_identity: Some("me".into()),
        };
        insert_session(&conn, &s).unwrap();
        let got = get_session(&conn, "ASIAOLD").unwrap().unwrap();
        assert_eq!(got, s);
        s.access_key_id = "ASIANEW".into();
        s.issued = 1000.0 + 2.0 * PRUNE_AFTER_SECS;
        s.expires = s.issued + 900.0;
        insert_session(&conn, &s).unwrap();
        assert!(get_session(&conn, "ASIAOLD").unwrap().is_none());
        assert!(get_session(&conn, "ASIANEW").unwrap().is_some());
    }
}
