//! Per-region RSA-2048 signing keys for digests.
//!
//! Private keys are PKCS#8 DER files (mode 0600) in `<data-dir>/keys`; the store keeps each
//! key's public PKCS#1 DER, fingerprint (MD5 of that DER, as `ListPublicKeys` reports it) and
//! validity. A key signs for [`VALIDITY_SECS`]; then a new one is made and the old one stays
//! listable. A region's first key is made on demand: by the first digest, or by the first
//! `ListPublicKeys` (AWS always has a current key). Concurrent creators agree on one key.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use cairn_store::Store;
use cairn_store::delivery::{self, SigningKey};
use md5::{Digest, Md5};

use crate::DeliveryError;

/// How long a key signs (30 days, as in AWS's samples).
pub const VALIDITY_SECS: f64 = 30.0 * 86_400.0;

/// The signing keys of a data dir.
#[derive(Clone)]
pub struct KeyRing {
    dir: PathBuf,
    store: Store,
}

impl KeyRing {
    /// Uses `<data_dir>/keys`.
    pub fn new(data_dir: &std::path::Path, store: Store) -> std::io::Result<Self> {
        let dir = data_dir.join("keys");
        std::fs::create_dir_all(&dir)?;
        // A new directory survives a power cut only once its parent is synced.
        std::fs::File::open(data_dir)?.sync_all()?;
        Ok(Self { dir, store })
    }

    /// The region's key valid at `now`, made if there is none.
    pub fn current(&self, region: &str, now: f64) -> Result<SigningKey, DeliveryError> {
        let r = region.to_owned();
        if let Some(k) = self
            .store
            .read_blocking(move |c| delivery::current_key(c, &r, now))?
        {
            return Ok(k);
        }
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|e| DeliveryError::Signing(e.to_string()))?;
        let pkcs8 = pair
            .as_der()
            .map_err(|e| DeliveryError::Signing(e.to_string()))?;
        let public_der = pair.public_key().as_ref().to_vec();
        let fingerprint = hex::encode(Md5::digest(&public_der));
        let private_file = format!("{fingerprint}.pk8");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(self.dir.join(&private_file))?;
        f.write_all(pkcs8.as_ref())?;
        f.sync_all()?;
        // The file's name is durable before the record that points at it commits.
        std::fs::File::open(&self.dir)?.sync_all()?;
        let key = SigningKey {
            fingerprint,
            region: region.to_owned(),
            public_der,
            private_file,
            valid_from: now,
            valid_to: now + VALIDITY_SECS,
        };
        let k = key.clone();
        let in_force = self
            .store
            .write_blocking(move |c| delivery::insert_key_if_none(c, &k))??;
        if in_force.fingerprint != key.fingerprint {
            // Another creator won the race: its key is the one in force.
            let _ = std::fs::remove_file(self.dir.join(&key.private_file));
        }
        Ok(in_force)
    }

    /// Signs `message` with SHA256withRSA; returns lower-case hex.
    pub fn sign(&self, key: &SigningKey, message: &[u8]) -> Result<String, DeliveryError> {
        // A key file that cannot be read is Cairn's fault, not the bucket's: never an I/O
        // error that reads as `NoSuchBucket` (which gives up a deleted trail's digests).
        let path = self.dir.join(&key.private_file);
        let der = std::fs::read(&path).map_err(|e| {
            DeliveryError::Signing(format!(
                "cannot read the signing key {}: {e}",
                path.display()
            ))
        })?;
        let pair =
            RsaKeyPair::from_pkcs8(&der).map_err(|e| DeliveryError::Signing(e.to_string()))?;
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
            .map_err(|e| DeliveryError::Signing(e.to_string()))?;
        Ok(hex::encode(sig))
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;

    #[test]
    fn keys_are_pkcs1_with_md5_fingerprints_0600_and_sign_verifiably() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let ring = KeyRing::new(dir.path(), store).unwrap();
        let key = ring.current("eu-west-1", 1_000.0).unwrap();
        assert_eq!(
            &key.public_der[..4],
            &[0x30, 0x82, 0x01, 0x0a],
            "PKCS#1 RSAPublicKey, 2048-bit"
        );
        assert_eq!(key.fingerprint, hex::encode(Md5::digest(&key.public_der)));
        let mode = std::fs::metadata(dir.path().join("keys").join(&key.private_file)).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );
        assert_eq!(
            ring.current("eu-west-1", 2_000.0).unwrap(),
            key,
            "the same key until it expires"
        );
        let racers: Vec<_> = (0..4)
            .map(|_| {
                let ring = ring.clone();
                std::thread::spawn(move || ring.current("us-west-2", 5_000.0).unwrap())
            })
            .collect();
        let keys: Vec<SigningKey> = racers.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(
            keys.iter().all(|k| k == &keys[0]),
            "concurrent creators agree on one key"
        );
        let files = std::fs::read_dir(dir.path().join("keys")).unwrap().count();
        assert_eq!(files, 2, "losing creators leave no key file behind");
        let rotated = ring
            .current("eu-west-1", 1_000.0 + VALIDITY_SECS + 1.0)
            .unwrap();
        assert_ne!(rotated.fingerprint, key.fingerprint);
        let sig = hex::decode(ring.sign(&key, b"message").unwrap()).unwrap();
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key.public_der)
            .verify(b"message", &sig)
            .expect("signature verifies with the listed public key");
    }

    #[test]
    fn a_missing_key_file_is_a_signing_fault_not_a_missing_bucket() {
        // digest4: the read's NotFound was reported as NoSuchBucket, which gives up a
        // deleted trail's owed digests for good.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let ring = KeyRing::new(dir.path(), store).unwrap();
        let key = ring.current("eu-west-1", 1_000.0).unwrap();
        std::fs::remove_file(dir.path().join("keys").join(&key.private_file)).unwrap();
        let e = ring.sign(&key, b"m").unwrap_err();
        assert!(matches!(e, DeliveryError::Signing(_)), "{e:?}");
        assert_eq!(e.s3_code(), "InternalError");
    }
}
