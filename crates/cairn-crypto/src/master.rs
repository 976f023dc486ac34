//! The operator's master key: 32 random bytes kept outside the data dir. Everything KMS stores
//! that could reveal plaintext (backing keys) is wrapped under it with AES-256-GCM; a copy of
//! the data dir without it yields no plaintext.
//!
//! File form: 64 hex digits (optionally surrounded by whitespace, e.g. a trailing newline) or
//! exactly 32 raw bytes. Environment form: 64 hex digits.
//!
//! Wrapped layout: `0x01 ‖ nonce (12) ‖ ciphertext ‖ tag (16)`, with caller-chosen additional
//! data (for backing keys: the key ARN and generation, [`crate::backing_key_aad`]).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;

use crate::{CryptoError, CryptoResult, Secret, random_array};

/// Length of a master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;

const WRAP_FORMAT: u8 = 1;
const CHECK_PLAINTEXT: &[u8] = b"cairn-kms master key check v1";
const CHECK_AAD: &[u8] = b"cairn-kms-master-check";

/// The master key, ready to wrap and unwrap.
pub struct MasterKey {
    aead: LessSafeKey,
    mac: hmac::Key,
    fingerprint: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey(fingerprint {})", self.fingerprint)
    }
}

impl MasterKey {
    /// A master key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; MASTER_KEY_LEN]) -> Self {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).expect("32 bytes is an AES-256 key");
        // Sub-keys are derived so one secret serves every purpose without reuse.
        let root = hmac::Key::new(hmac::HMAC_SHA256, bytes);
        let mac_bytes = hmac::sign(&root, b"cairn-kms grant tokens v1");
        let mac = hmac::Key::new(hmac::HMAC_SHA256, mac_bytes.as_ref());
        let fp = hmac::sign(&root, b"cairn-kms fingerprint v1");
        Self {
            aead: LessSafeKey::new(unbound),
            mac,
            fingerprint: hex::encode(&fp.as_ref()[..8]),
        }
    }

    /// Parses a key file's contents: exactly 32 raw bytes, or 64 hex digits with optional
    /// surrounding whitespace.
    pub fn parse(contents: &[u8]) -> CryptoResult<Self> {
        if contents.len() == MASTER_KEY_LEN {
            let mut bytes = [0u8; MASTER_KEY_LEN];
            bytes.copy_from_slice(contents);
            let key = Self::from_bytes(&bytes);
            bytes.fill(0);
            return Ok(key);
        }
        let text = std::str::from_utf8(contents).map_err(|_| {
            CryptoError::InvalidMasterKey("expected 32 raw bytes or 64 hex digits".into())
        })?;
        Self::from_hex(text)
    }

    /// Parses 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> CryptoResult<Self> {
        let text = text.trim();
        if text.len() != 2 * MASTER_KEY_LEN {
            return Err(CryptoError::InvalidMasterKey(format!(
                "expected 64 hex digits (32 bytes), found {} characters",
                text.len()
            )));
        }
        let mut bytes = [0u8; MASTER_KEY_LEN];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| CryptoError::InvalidMasterKey("not hexadecimal".into()))?;
        let key = Self::from_bytes(&bytes);
        bytes.fill(0);
        Ok(key)
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> CryptoResult<Self> {
        let mut contents = std::fs::read(path)?;
        let key = Self::parse(&contents);
        contents.fill(0);
        key
    }

    /// A fresh random key and its hex form.
    pub fn generate() -> CryptoResult<(Self, Secret)> {
        let mut bytes = random_array::<MASTER_KEY_LEN>()?;
        let hex_form = Secret::from_vec(hex::encode(bytes).into_bytes());
        let key = Self::from_bytes(&bytes);
        bytes.fill(0);
        Ok((key, hex_form))
    }

    /// Generates a key into a new file at `path` (mode 0600, hex, fsynced with its directory).
    /// Fails if the file exists.
    pub fn create_file(path: &Path) -> CryptoResult<Self> {
        let (key, hex_form) = Self::generate()?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(hex_form.expose())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(key)
    }

    /// A short public fingerprint (16 hex digits of a keyed hash): safe to print, tells two
    /// keys apart.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Wraps `plain` bound to `aad`.
    pub fn wrap(&self, plain: &[u8], aad: &[u8]) -> CryptoResult<Vec<u8>> {
        let nonce = random_array::<NONCE_LEN>()?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plain.len() + 16);
        out.push(WRAP_FORMAT);
        out.extend_from_slice(&nonce);
        let mut body = plain.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .map_err(|_| CryptoError::Random)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens what [`MasterKey::wrap`] produced with the same `aad`.
    pub fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> CryptoResult<Secret> {
        if wrapped.len() < 1 + NONCE_LEN + 16 || wrapped[0] != WRAP_FORMAT {
            return Err(CryptoError::Unwrap);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&wrapped[1..1 + NONCE_LEN]);
        let mut body = Secret::from_vec(wrapped[1 + NONCE_LEN..].to_vec());
        let n = self
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                body.expose_mut(),
            )
            .map_err(|_| CryptoError::Unwrap)?
            .len();
        Ok(Secret::from_vec(body.expose()[..n].to_vec()))
    }

    /// A value to store beside wrapped material so a later start can tell whether it was
    /// given the same master key ([`MasterKey::verify_check`]).
    pub fn check_value(&self) -> CryptoResult<Vec<u8>> {
        self.wrap(CHECK_PLAINTEXT, CHECK_AAD)
    }

    /// Whether `check` was made by this key.
    pub fn verify_check(&self, check: &[u8]) -> bool {
        self.unwrap(check, CHECK_AAD)
            .is_ok_and(|p| p.expose() == CHECK_PLAINTEXT)
    }

    /// HMAC-SHA256 of `data` under a sub-key reserved for grant tokens.
    pub fn grant_token_mac(&self, data: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&self.mac, data);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn wrap_round_trips_and_binds_aad() {
        let (key, _) = MasterKey::generate().unwrap();
        let w = key.wrap(b"backing key bytes", b"arn-1").unwrap();
        assert_eq!(
            key.unwrap(&w, b"arn-1").unwrap().expose(),
            b"backing key bytes"
        );
        assert!(key.unwrap(&w, b"arn-2").is_err());
        let (other, _) = MasterKey::generate().unwrap();
        assert!(other.unwrap(&w, b"arn-1").is_err());
        let mut flipped = w.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(key.unwrap(&flipped, b"arn-1").is_err());
        assert!(key.unwrap(&w[..10], b"arn-1").is_err());
    }

    #[test]
    fn files_are_hex_0600_and_parse_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let key = MasterKey::create_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 64);
        let again = MasterKey::load(&path).unwrap();
        assert_eq!(again.fingerprint(), key.fingerprint());
        assert!(again.verify_check(&key.check_value().unwrap()));
        assert!(MasterKey::create_file(&path).is_err(), "never overwrites");
    }

    #[test]
    fn raw_and_hex_forms_agree_and_bad_forms_fail() {
        let raw = [7u8; 32];
        let a = MasterKey::parse(&raw).unwrap();
        let b = MasterKey::parse(format!("  {}\n", hex::encode(raw)).as_bytes()).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert!(MasterKey::parse(b"short").is_err());
        assert!(MasterKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(!format!("{a:?}").contains("0707"));
    }
}
