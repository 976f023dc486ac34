//! Temporary credentials (spec §6.4): the `ASIA…` key, its secret and its session token, and
//! turning a presented key and token back into the principal they act as.
//!
//! Token: base64 of `0x01 ‖ session id (16 random bytes) ‖ HMAC-SHA256(server token key,
//! 0x01 ‖ session id ‖ access key id)`. The session record (principal, expiry, MFA, session
//! policies, tags, source identity) is durable in the store, which keeps only the SHA-256 of
//! the token. A token is accepted for a key when its MAC verifies for that key and its hash is
//! the record's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_model::identity::SessionContext;
use cairn_model::{AccountId, Principal};
use cairn_store::iam::secrets::ServerKey;
use cairn_store::iam::sessions::{self, Session, SessionKind};
use cairn_store::{Connection, StoreResult};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const TOKEN_VERSION: u8 = 1;

/// A new session token for `access_key_id`, and the hex SHA-256 the store keeps.
pub(crate) fn new_token(conn: &Connection, access_key_id: &str) -> StoreResult<(String, String)> {
    let key = ServerKey::for_connection(conn)?;
    let mut session_id = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut session_id);
    let mut signed = vec![TOKEN_VERSION];
    signed.extend_from_slice(&session_id);
    let mac = key.token_mac(&[signed.as_slice(), access_key_id.as_bytes()].concat());
    signed.extend_from_slice(&mac);
    let token = STANDARD.encode(&signed);
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    Ok((token, hash))
}

/// SHA-256 of a presented token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether `token` is a token this data dir issued for `access_key_id` (MAC check only).
fn mac_valid(key: &ServerKey, access_key_id: &str, token: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(token) else {
        return false;
    };
    if bytes.len() != 1 + 16 + 32 || bytes[0] != TOKEN_VERSION {
        return false;
    }
    let (signed, mac) = bytes.split_at(17);
    key.verify_token_mac(&[signed, access_key_id.as_bytes()].concat(), mac)
}

/// A session's credential as the authenticator needs it.
#[derive(Clone)]
pub struct SessionCredential {
    /// The secret (never logged).
    pub secret: String,
    /// Who the session acts as.
    pub principal: Principal,
    /// SHA-256 of its token.
    pub token_hash: [u8; 32],
    /// Expiry, epoch seconds.
    pub expires: i64,
}

impl std::fmt::Debug for SessionCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCredential")
            .field("principal", &self.principal)
            .field("expires", &self.expires)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl SessionCredential {
    /// Whether a presented token is this session's (constant time).
    pub fn token_matches(&self, token: &str) -> bool {
        token_hash(token).ct_eq(&self.token_hash).into()
    }
}

/// What a presented temporary key and token resolve to.
#[derive(Debug)]
pub enum SessionLookup {
    /// No session has this key.
    Unknown,
    /// The key exists but the token is not its token (altered, forged, another key's).
    BadToken,
    /// The session (expiry not yet checked: the caller compares with the request time).
    Found(Box<SessionCredential>),
}

fn principal_of(s: &Session, account: AccountId) -> Principal {
    let context = SessionContext {
        created: s.issued.floor() as i64,
        expires: s.expires.floor() as i64,
        mfa: s.mfa,
        source_identity: s.source_identity.clone(),
    };
    match s.kind {
        SessionKind::Role => Principal::AssumedRole {
            account,
            role_name: s.subject_name.clone(),
            role_id: s.subject_id.clone(),
            role_path: s.subject_path.clone(),
            session_name: s.session_name.clone().unwrap_or_default(),
            access_key_id: s.access_key_id.clone(),
            session: context,
        },
        SessionKind::User => Principal::IamUser {
            account,
            user_name: s.subject_name.clone(),
            user_id: s.subject_id.clone(),
            path: s.subject_path.clone(),
            access_key_id: s.access_key_id.clone(),
            session: Some(context),
        },
        SessionKind::Root => Principal::Root {
            account,
            access_key_id: s.access_key_id.clone(),
            session: Some(context),
        },
    }
}

/// Resolves a temporary key and its token.
pub fn load_session(
    conn: &Connection,
    access_key_id: &str,
    token: &str,
) -> StoreResult<SessionLookup> {
    let Some(s) = sessions::get_session(conn, access_key_id)? else {
        return Ok(SessionLookup::Unknown);
    };
    let key = ServerKey::for_connection(conn)?;
    let mut stored = [0u8; 32];
    if hex::decode_to_slice(&s.token_hash, &mut stored).is_err() {
        return Ok(SessionLookup::BadToken);
    }
    let credential = SessionCredential {
        secret: s.secret.clone(),
        principal: principal_of(
            &s,
            match AccountId::parse(&s.account) {
                Ok(a) => a,
                Err(_) => return Ok(SessionLookup::Unknown),
            },
        ),
        token_hash: stored,
        expires: s.expires.floor() as i64,
    };
    if !mac_valid(&key, access_key_id, token) || !credential.token_matches(token) {
        return Ok(SessionLookup::BadToken);
    }
    Ok(SessionLookup::Found(Box::new(credential)))
}

/// The principal a temporary key acts as and its expiry (epoch seconds), without its token:
/// for a caller that verified the token earlier with [`load_session`] and kept only the key
/// id (the web console's server-side session). `None` when the session is gone.
pub fn session_principal(
    conn: &Connection,
    access_key_id: &str,
) -> StoreResult<Option<(Principal, i64)>> {
    let Some(s) = sessions::get_session(conn, access_key_id)? else {
        return Ok(None);
    };
    let Ok(account) = AccountId::parse(&s.account) else {
        return Ok(None);
    };
    Ok(Some((principal_of(&s, account), s.expires.floor() as i64)))
}

/// Whether an access key id is a temporary one (`ASIA…`).
pub fn is_temporary_key(access_key_id: &str) -> bool {
    access_key_id.starts_with("ASIA")
}
