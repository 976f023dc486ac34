//! Opaque, signed pagination tokens.
//!
//! A token carries a position and is bound by HMAC to the parameters of the call that
//! produced it, so a forged token, or a real one replayed with other parameters, is refused.
//! Listings page by key: the position is the sort key of the last item returned ([`Keyset`]),
//! and the next page starts strictly after it, so items that exist throughout a listing are
//! never skipped or repeated when others are created or deleted between pages. Tokens that
//! expire ([`TokenKey::seal_timed`]) also carry the time they were issued, on the server's
//! clock.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The meta key the server's token key is stored under.
pub const META_KEY: &str = "token-key";

/// The server's token key (kept in the store's `meta` table).
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// A fresh random key, hex-encoded for storage.
    pub fn generate_hex() -> String {
        hex::encode(rand::random::<[u8; 32]>())
    }

    /// Loads a key from hex.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    fn mac(&self, scope: &str, position: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(scope.as_bytes());
        mac.update(b"\n");
        mac.update(position.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A keyed fingerprint of `secret` for `scope` (hex): it tells whether a secret changed
    /// without storing anything a copy of the store could be checked against offline
    /// without this key.
    pub fn fingerprint(&self, scope: &str, secret: &str) -> String {
        hex::encode(self.mac(scope, secret))
    }

    /// Seals `position` for calls whose parameters hash to `scope`.
    pub fn seal(&self, scope: &str, position: &str) -> String {
        let tag = self.mac(scope, position);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(position.as_bytes()),
            URL_SAFE_NO_PAD.encode(&tag[..20])
        )
    }

    /// Opens a token for `scope`; `None` if forged, damaged or from other parameters.
    pub fn open(&self, scope: &str, token: &str) -> Option<String> {
        let (pos, tag) = token.split_once('.')?;
        let position = String::from_utf8(URL_SAFE_NO_PAD.decode(pos).ok()?).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let expected = self.mac(scope, &position);
        (tag.len() == 20 && bool::from(expected[..20].ct_eq(&tag))).then_some(position)
    }

    /// The key kept in the store (`cairn serve` creates it at start). A data dir no server
    /// has opened yet (an admin command on a fresh dir) gets a key for this process only.
    pub fn stored(conn: &cairn_store::Connection) -> Result<Self, cairn_store::StoreError> {
        match cairn_store::meta::get(conn, META_KEY)? {
            Some(hex) => Self::from_hex(&hex).ok_or_else(|| {
                cairn_store::StoreError::Corrupt("stored token key is damaged".into())
            }),
            None => Ok(Self::ephemeral()),
        }
    }

    /// A key of this process only (its tokens die with it).
    pub fn ephemeral() -> Self {
        static EPHEMERAL: std::sync::OnceLock<TokenKey> = std::sync::OnceLock::new();
        EPHEMERAL
            .get_or_init(|| Self(rand::random::<[u8; 32]>()))
            .clone()
    }

    /// Seals `position` with the time it is issued (epoch seconds), for tokens that expire.
    pub fn seal_timed(&self, scope: &str, position: &str, issued: i64) -> String {
        self.seal(scope, &format!("{issued}|{position}"))
    }

    /// Opens a token sealed by [`TokenKey::seal_timed`], refusing it once `ttl` seconds
    /// have passed since it was issued (`now`, epoch seconds).
    pub fn open_timed(
        &self,
        scope: &str,
        token: &str,
        now: i64,
        ttl: i64,
    ) -> Result<String, TokenError> {
        let opened = self.open(scope, token).ok_or(TokenError::Invalid)?;
        let (issued, position) = opened.split_once('|').ok_or(TokenError::Invalid)?;
        let issued: i64 = issued.parse().map_err(|_| TokenError::Invalid)?;
        if now.saturating_sub(issued) > ttl {
            return Err(TokenError::Expired);
        }
        Ok(position.to_owned())
    }
}

/// Why a timed token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Forged, damaged, or from another call.
    Invalid,
    /// Genuine but older than its lifetime.
    Expired,
}

/// A keyset position: the sort key (one or more strings) of the last item a page returned.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Keyset(pub Vec<String>);

impl Keyset {
    /// The position after an item whose sort key is `parts`.
    pub fn of<S: AsRef<str>>(parts: &[S]) -> Self {
        Self(parts.iter().map(|p| p.as_ref().to_owned()).collect())
    }

    /// The text a token carries.
    pub fn encode(&self) -> String {
        serde_json::to_string(&self.0).expect("strings serialise")
    }

    /// Reads a position of `arity` parts back; `None` if it is not one.
    pub fn decode(text: &str, arity: usize) -> Option<Self> {
        let parts: Vec<String> = serde_json::from_str(text).ok()?;
        (parts.len() == arity).then_some(Self(parts))
    }

    /// Whether an item with sort key `parts` comes strictly after this position in
    /// ascending byte order (SQLite's `BINARY` collation).
    pub fn before<S: AsRef<str>>(&self, parts: &[S]) -> bool {
        let item = parts.iter().map(AsRef::as_ref);
        item.cmp(self.0.iter().map(String::as_str)) == std::cmp::Ordering::Greater
    }
}

/// The scope of a call: its operation and its parameters as (name, value) pairs, paging
/// members already left out; the order of the pairs does not matter.
pub fn scope_of(op: &str, params: &[(String, String)]) -> String {
    use sha2::Digest;
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    h.update(op.as_bytes());
    for (k, v) in sorted {
        h.update(b"\n");
        h.update(
            serde_json::to_string(&(k, v))
                .expect("strings serialise")
                .as_bytes(),
        );
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_scope_and_reject_forgery() {
        let key = TokenKey::from_hex(&TokenKey::generate_hex()).unwrap();
        let t = key.seal("a", "100.7");
        assert_eq!(key.open("a", &t).as_deref(), Some("100.7"));
        assert_eq!(key.open("b", &t), None);
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode("99.1"),
            t.split_once('.').unwrap().1
        );
        assert_eq!(key.open("a", &forged), None);
        assert_eq!(key.open("a", "garbage"), None);
    }

    #[test]
    fn timed_tokens_expire_and_stay_bound() {
        let key = TokenKey::from_hex(&TokenKey::generate_hex()).unwrap();
        let t = key.seal_timed("s", "f/1", 1000);
        assert_eq!(
            key.open_timed("s", &t, 1000 + 86_400, 86_400),
            Ok("f/1".into())
        );
        assert_eq!(
            key.open_timed("s", &t, 1001 + 86_400, 86_400),
            Err(TokenError::Expired)
        );
        assert_eq!(
            key.open_timed("other", &t, 1000, 86_400),
            Err(TokenError::Invalid)
        );
        // An untimed token of the same scope is not a timed one.
        let plain = key.seal("s", "f/1");
        assert_eq!(
            key.open_timed("s", &plain, 0, 86_400),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn keysets_order_like_sqlite_binary() {
        let k = Keyset::of(&["b", "x"]);
        assert_eq!(Keyset::decode(&k.encode(), 2), Some(k.clone()));
        assert_eq!(Keyset::decode(&k.encode(), 1), None);
        assert!(k.before(&["b", "y"]));
        assert!(k.before(&["c", ""]));
        assert!(!k.before(&["b", "x"]));
        assert!(!k.before(&["a", "z"]));
        assert_eq!(
            scope_of("Op", &[("a".into(), "1".into()), ("b".into(), "2".into())]),
            scope_of("Op", &[("b".into(), "2".into()), ("a".into(), "1".into())])
        );
        assert_ne!(
            scope_of("Op", &[("a".into(), "1".into())]),
            scope_of("Op2", &[("a".into(), "1".into())])
        );
    }
}
