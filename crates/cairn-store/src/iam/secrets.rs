//! Secrets at rest: access-key and STS-session secrets are sealed with AES-256-GCM under a
//! server key, and STS session tokens are authenticated with an HMAC derived from it.
//!
//! SigV4 needs the plaintext secret (the signing key is an HMAC chain over it), so secrets
//! cannot be stored as one-way hashes. The server key is 32 random bytes in
//! `iam-secrets.key` beside the database file (`<data-dir>/iam-secrets.key`), created `0600`
//! on first use and never stored in the database: a copy of `cairn.db` alone (a backup, a
//! file shared for debugging) does not reveal any secret. Anyone who can read both files can,
//! as with any server that must verify HMAC signatures.
//!
//! Sealed blob: `0x01 ‖ nonce (12) ‖ ciphertext ‖ tag (16)`, with the row's access key id as
//! additional data, so a sealed secret cannot be moved to another row.
//!
//! Keys are cached per database directory for the life of the process. In-memory databases
//! (tests) get one random key per process.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use rusqlite::Connection;

use crate::{StoreError, StoreResult};

/// File name of the server key, beside the database.
pub const KEY_FILE: &str = "iam-secrets.key";

const FORMAT: u8 = 1;

/// The server key of one data dir.
pub struct ServerKey {
    aead: LessSafeKey,
    token: hmac::Key,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(<redacted>)")
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

fn random<const N: usize>() -> StoreResult<[u8; N]> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| corrupt("system random source failed"))?;
    Ok(out)
}

impl ServerKey {
    fn from_bytes(bytes: &[u8; 32]) -> StoreResult<Self> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| corrupt("bad server key"))?;
        // The token MAC key is derived, so one file holds everything.
        let master = hmac::Key::new(hmac::HMAC_SHA256, bytes);
        let derived = hmac::sign(&master, b"cairn-sts-session-token-v1");
        Ok(Self {
            aead: LessSafeKey::new(unbound),
            token: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        })
    }

    /// The key of the database `conn` is open on (loaded or created once per process).
    pub fn for_connection(conn: &Connection) -> StoreResult<Arc<ServerKey>> {
        match conn.path().filter(|p| !p.is_empty()) {
            Some(path) => {
                let dir = Path::new(path)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                Self::for_dir(&dir)
            }
            None => {
                static EPHEMERAL: OnceLock<Arc<ServerKey>> = OnceLock::new();
                if let Some(k) = EPHEMERAL.get() {
                    return Ok(k.clone());
                }
                let key = Arc::new(Self::from_bytes(&random::<32>()?)?);
                Ok(EPHEMERAL.get_or_init(|| key).clone())
            }
        }
    }

    /// The key kept in `dir` (created `0600` if missing).
    pub fn for_dir(dir: &Path) -> StoreResult<Arc<ServerKey>> {
        static CACHE: Mutex<Vec<(PathBuf, Arc<ServerKey>)>> = Mutex::new(Vec::new());
        let mut cache = CACHE.lock().map_err(|_| corrupt("key cache poisoned"))?;
        if let Some((_, k)) = cache.iter().find(|(d, _)| d == dir) {
            return Ok(k.clone());
        }
        let key = Arc::new(Self::from_bytes(&load_or_create(&dir.join(KEY_FILE))?)?);
        cache.push((dir.to_owned(), key.clone()));
        Ok(key)
    }

    /// Seals `plain`, bound to `context` (the row's key id).
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> StoreResult<Vec<u8>> {
        let nonce_bytes = random::<NONCE_LEN>()?;
        let mut data = plain.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context),
                &mut data,
            )
            .map_err(|_| corrupt("seal failed"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + data.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&data);
        Ok(out)
    }

    /// Opens a blob sealed by [`ServerKey::seal`] with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> StoreResult<Vec<u8>> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != FORMAT {
            return Err(corrupt("sealed secret has an unknown format"));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[1..1 + NONCE_LEN]);
        let mut data = sealed[1 + NONCE_LEN..].to_vec();
        let plain = self
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut data,
            )
            .map_err(|_| corrupt("sealed secret does not open with this data dir's key"))?;
        Ok(plain.to_vec())
    }

    /// Opens a sealed UTF-8 secret.
    pub fn open_string(&self, sealed: &[u8], context: &[u8]) -> StoreResult<String> {
        String::from_utf8(self.open(sealed, context)?).map_err(|_| corrupt("secret is not UTF-8"))
    }

    /// HMAC-SHA256 of `data` under the session-token key.
    pub fn token_mac(&self, data: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&self.token, data);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Verifies a session-token MAC in constant time.
    pub fn verify_token_mac(&self, data: &[u8], mac: &[u8]) -> bool {
        hmac::verify(&self.token, data, mac).is_ok()
    }
}

fn load_or_create(path: &Path) -> StoreResult<[u8; 32]> {
    let read = |path: &Path| -> StoreResult<[u8; 32]> {
        let bytes = std::fs::read(path)
            .map_err(|e| StoreError::Corrupt(format!("reading {}: {e}", path.display())))?;
        bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("{} is not a 32-byte key", path.display())))
    };
    if path.exists() {
        return read(path);
    }
    let key = random::<32>()?;
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(mut f) => {
            f.write_all(&key)
                .and_then(|()| f.sync_all())
                .map_err(|e| StoreError::Corrupt(format!("writing {}: {e}", path.display())))?;
            if let Some(dir) = path.parent()
                && let Ok(d) = std::fs::File::open(dir)
            {
                let _ = d.sync_all();
            }
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(StoreError::Corrupt(format!(
            "creating {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn sealed_secrets_open_only_with_their_context() {
        let dir = tempfile::tempdir().unwrap();
        let key = ServerKey::for_dir(dir.path()).unwrap();
        let sealed = key.seal(b"secret", b"AKIAONE").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(key.open(&sealed, b"AKIAONE").unwrap(), b"secret");
        assert!(key.open(&sealed, b"AKIATWO").is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open(&tampered, b"AKIAONE").is_err());
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn token_macs_verify() {
        let dir = tempfile::tempdir().unwrap();
        let key = ServerKey::for_dir(dir.path()).unwrap();
        let mac = key.token_mac(b"data");
        assert!(key.verify_token_mac(b"data", &mac));
        assert!(!key.verify_token_mac(b"datb", &mac));
    }
}
