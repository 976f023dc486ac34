//! Key material for Cairn's KMS, pure and free of storage: the operator's [`MasterKey`], the
//! wrapping of per-key backing keys under it, and the ciphertext blobs KMS hands out.
//!
//! Every primitive comes from `aws-lc-rs`: AES-256-GCM, HKDF-SHA256, HMAC-SHA256, SHA-256 and
//! the system random source. Nothing here is hand-written cryptography; this crate only fixes
//! the byte layouts and what each authenticated field binds.
//!
//! - A **backing key** is 32 random bytes per KMS key *generation* (rotation adds one). It is
//!   stored only wrapped: `MasterKey::wrap` with the key ARN and generation as additional
//!   data ([`backing_key_aad`]), so a wrapped key cannot be moved to another key or generation.
//! - A **ciphertext blob** ([`blob`]) names its key id and generation in a header, derives a
//!   content key with HKDF from the backing key and a random salt, and seals the plaintext with
//!   AES-256-GCM whose additional data is the header plus the canonical encryption context.
//!   Any change to the header, the body or the context fails to open.
//! - [`Secret`] holds plaintext key material in memory, redacted in `Debug` and zeroed on drop.

pub mod blob;
pub mod frames;
pub mod key_pairs;
mod master;
mod secret;

pub use master::{MASTER_KEY_LEN, MasterKey};
pub use secret::Secret;

/// What can go wrong with key material.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The system random source failed.
    #[error("the system random source failed")]
    Random,
    /// A master key file or value is not 32 bytes (raw) or 64 hex digits.
    #[error("invalid master key: {0}")]
    InvalidMasterKey(String),
    /// Wrapped material does not open under this master key (wrong key, or damaged).
    #[error("key material does not open under this master key")]
    Unwrap,
    /// A ciphertext blob is malformed, tampered with, or bound to another context or key.
    #[error("invalid ciphertext")]
    InvalidCiphertext,
    /// Reading or writing a key file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Result alias.
pub type CryptoResult<T> = Result<T, CryptoError>;

/// `N` bytes from the system random source.
pub fn random_array<const N: usize>() -> CryptoResult<[u8; N]> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

/// `n` random bytes, held as a [`Secret`] (data keys, GenerateRandom, new backing keys).
pub fn random_secret(n: usize) -> CryptoResult<Secret> {
    let mut out = Secret::zeroed(n);
    aws_lc_rs::rand::fill(out.expose_mut()).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

/// The additional data a backing key is wrapped with: its key ARN and generation.
pub fn backing_key_aad(key_arn: &str, generation: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + key_arn.len());
    aad.extend_from_slice(b"cairn-kms-backing-key/v1\0");
    aad.extend_from_slice(key_arn.as_bytes());
    aad.push(0);
    aad.extend_from_slice(&generation.to_be_bytes());
    aad
}

/// `KeyMaterialId`: hex SHA-256 of the key ARN and the generation (64 lowercase hex digits,
/// as the KMS model requires). Reveals nothing about the material.
pub fn key_material_id(key_arn: &str, generation: u32) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(key_arn.as_bytes());
    ctx.update(&generation.to_be_bytes());
    hex::encode(ctx.finish().as_ref())
}

/// Constant-time equality of two byte strings.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_material_ids_are_64_hex_and_differ_by_generation() {
        let a = key_material_id("arn:aws:kms:us-east-1:111122223333:key/k", 1);
        let b = key_material_id("arn:aws:kms:us-east-1:111122223333:key/k", 2);
        assert_eq!(a.len(), 64);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn random_secrets_differ() {
        let a = random_secret(32).unwrap();
        let b = random_secret(32).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a.expose(), b.expose());
    }
}
