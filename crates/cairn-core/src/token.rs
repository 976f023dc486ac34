//! Opaque, signed pagination tokens.
//!
//! A token carries a position and is bound by HMAC to the parameters of the call that
//! produced it, so a forged token, or a real one replayed with other parameters, is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

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
}
