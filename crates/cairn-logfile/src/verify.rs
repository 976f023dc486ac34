//! Verification of digests and log files (for `cairn validate-logs`).

use std::io::Read;

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

use crate::digest::{Digest, signing_string};
use crate::sha256_hex;

/// Gunzips a file.
pub fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 8);
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// Why a digest is invalid, worded like `aws cloudtrail validate-logs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DigestProblem {
    /// Not gzip JSON with the required fields.
    InvalidFormat,
    /// `digestS3Bucket`/`digestS3Object` name another place.
    Moved,
    /// No listed public key has the fingerprint.
    UnknownKey(String),
    /// The signature does not verify.
    BadSignature,
}

impl std::fmt::Display for DigestProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidFormat => f.write_str("invalid format"),
            Self::Moved => f.write_str("has been moved from its original location"),
            Self::UnknownKey(fp) => write!(f, "public key not found for fingerprint {fp}"),
            Self::BadSignature => f.write_str("signature verification failed"),
        }
    }
}

/// A digest that verified.
#[derive(Clone, Debug)]
pub struct VerifiedDigest {
    /// The parsed digest.
    pub digest: Digest,
    /// Hex SHA-256 of its uncompressed bytes.
    pub sha256: String,
    /// Its signature (from object metadata).
    pub signature: String,
}

/// Verifies one digest fetched from `bucket`/`key`, given its gzip bytes and the
/// `signature` metadata, against the public keys (fingerprint → PKCS#1 DER).
pub fn verify_digest(
    bucket: &str,
    key: &str,
    gz: &[u8],
    signature: Option<&str>,
    public_keys: &std::collections::HashMap<String, Vec<u8>>,
) -> Result<VerifiedDigest, DigestProblem> {
    let raw = gunzip(gz).map_err(|_| DigestProblem::InvalidFormat)?;
    let digest: Digest = serde_json::from_slice(&raw).map_err(|_| DigestProblem::InvalidFormat)?;
    if digest.digest_s3_bucket != bucket || digest.digest_s3_object != key {
        return Err(DigestProblem::Moved);
    }
    let signature = signature.ok_or(DigestProblem::BadSignature)?;
    let der = public_keys
        .get(&digest.digest_public_key_fingerprint)
        .ok_or_else(|| DigestProblem::UnknownKey(digest.digest_public_key_fingerprint.clone()))?;
    let sha256 = sha256_hex(&raw);
    let message = signing_string(
        &digest.digest_end_time,
        bucket,
        key,
        &sha256,
        digest.previous_digest_signature.as_deref(),
    );
    let sig = hex::decode(signature).map_err(|_| DigestProblem::BadSignature)?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
        .verify(message.as_bytes(), &sig)
        .map_err(|_| DigestProblem::BadSignature)?;
    Ok(VerifiedDigest {
        digest,
        sha256,
        signature: signature.to_owned(),
    })
}
