//! The key and certificate SNS messages are signed with, one per data dir.
//!
//! An RSA-2048 key (PKCS#8 DER, mode 0600) and a self-signed X.509 certificate for it live in
//! `<data-dir>/sns/`; the certificate is served unauthenticated at
//! `/SimpleNotificationService-<id>.pem` on Cairn's listener (`SigningCertURL`), `<id>` being
//! 32 hex digits of the SHA-256 of the public key. `SignatureVersion` 1 signs with RSA PKCS#1
//! v1.5 over SHA-1, 2 over SHA-256, as SNS does. Made once, on first use; concurrent makers
//! agree on one key (the first link wins).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use rsa::pkcs8::DecodePrivateKey;
use sha2::Digest;

use crate::DeliveryError;

/// `DigestInfo` prefix of a SHA-1 hash in an RSA PKCS#1 v1.5 signature (RFC 8017 §9.2).
const SHA1_DIGEST_INFO: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];

/// The signing key and its certificate.
pub struct SnsSigner {
    pair: RsaKeyPair,
    legacy: rsa::RsaPrivateKey,
    id: String,
    cert_pem: String,
}

impl std::fmt::Debug for SnsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsSigner").field("id", &self.id).finish()
    }
}

fn signing(e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::Signing(e.to_string())
}

/// Writes `bytes` to `path` only if it does not exist yet (temp file, fsync, link); returns
/// what `path` holds afterwards.
fn write_once(path: &Path, bytes: &[u8], mode: u32) -> Result<Vec<u8>, DeliveryError> {
    if let Ok(existing) = std::fs::read(path) {
        return Ok(existing);
    }
    let tmp = path.with_extension(format!("tmp{}", uuid::Uuid::new_v4().simple()));
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(bytes.to_vec())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(std::fs::read(path)?),
        Err(e) => Err(e.into()),
    }
}

impl SnsSigner {
    /// The data dir's signer, made on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, DeliveryError> {
        let dir: PathBuf = data_dir.join("sns");
        std::fs::create_dir_all(&dir)?;
        let key_path = dir.join("signing-key.pk8");
        let fresh = if key_path.exists() {
            Vec::new()
        } else {
            RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|p| p.as_der())
                .map_err(signing)?
                .as_ref()
                .to_vec()
        };
        let der = write_once(&key_path, &fresh, 0o600)?;
        let pair = RsaKeyPair::from_pkcs8(&der).map_err(signing)?;
        let legacy = rsa::RsaPrivateKey::from_pkcs8_der(&der).map_err(signing)?;
        let id = hex::encode(&sha2::Sha256::digest(pair.public_key().as_ref())[..16]);
        let cert_path = dir.join(format!("SimpleNotificationService-{id}.pem"));
        let cert_pem = match std::fs::read_to_string(&cert_path) {
            Ok(pem) => pem,
            Err(_) => {
                let pem = make_certificate(&der)?;
                String::from_utf8_lossy(&write_once(&cert_path, pem.as_bytes(), 0o644)?)
                    .into_owned()
            }
        };
        Ok(Self {
            pair,
            legacy,
            id,
            cert_pem,
        })
    }

    /// `SimpleNotificationService-<id>.pem`.
    pub fn cert_file_name(&self) -> String {
        format!("SimpleNotificationService-{}.pem", self.id)
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// `SigningCertURL` under a Cairn base URL.
    pub fn cert_url(&self, base: &str) -> String {
        format!("{}/{}", base.trim_end_matches('/'), self.cert_file_name())
    }

    /// The base64 `Signature` of `data` for `SignatureVersion` `version` ("2": SHA-256,
    /// otherwise SHA-1).
    pub fn sign(&self, version: &str, data: &[u8]) -> Result<String, DeliveryError> {
        let sig = if version == "2" {
            let mut out = vec![0; self.pair.public_modulus_len()];
            self.pair
                .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), data, &mut out)
                .map_err(signing)?;
            out
        } else {
            let hash = sha1::Sha1::digest(data);
            let scheme = rsa::Pkcs1v15Sign {
                hash_len: Some(20),
                prefix: Box::new(SHA1_DIGEST_INFO),
            };
            self.legacy
                .sign_with_rng(&mut BlindingRng, scheme, &hash)
                .map_err(signing)?
        };
        Ok(base64::engine::general_purpose::STANDARD.encode(sig))
    }
}

/// Randomness for RSA blinding, from the operating system through `rand`.
struct BlindingRng;

impl rsa::rand_core::RngCore for BlindingRng {
    fn next_u32(&mut self) -> u32 {
        rand::random()
    }
    fn next_u64(&mut self) -> u64 {
        rand::random()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::fill(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        rand::fill(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for BlindingRng {}

/// A self-signed certificate for the key, valid ten years.
fn make_certificate(pkcs8: &[u8]) -> Result<String, DeliveryError> {
    let key = rcgen::KeyPair::try_from(pkcs8).map_err(signing)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(signing)?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, "sns.cairn.local");
    dn.push(rcgen::DnType::OrganizationName, "Cairn");
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    let cert = params.self_signed(&key).map_err(signing)?;
    Ok(cert.pem())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{
        RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
    };

    #[test]
    fn signatures_verify_and_the_key_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let s = SnsSigner::load_or_create(dir.path()).unwrap();
        assert!(s.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let key_file = dir.path().join("sns/signing-key.pk8");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&key_file).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let public = s.pair.public_key().as_ref().to_vec();
        let data = b"Message\nhello\nType\nNotification\n";
        for (version, alg) in [
            ("1", &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY),
            ("2", &RSA_PKCS1_2048_8192_SHA256),
        ] {
            let sig = base64::engine::general_purpose::STANDARD
                .decode(s.sign(version, data).unwrap())
                .unwrap();
            UnparsedPublicKey::new(alg, &public)
                .verify(data, &sig)
                .unwrap_or_else(|_| panic!("version {version} verifies"));
            assert!(
                UnparsedPublicKey::new(alg, &public)
                    .verify(b"other", &sig)
                    .is_err()
            );
        }
        let again = SnsSigner::load_or_create(dir.path()).unwrap();
        assert_eq!(again.cert_file_name(), s.cert_file_name());
        assert_eq!(again.cert_pem(), s.cert_pem());
    }
}
