//! Verification of digests and log files (for `cairn validate-logs`), with the checks in
//! the order `aws cloudtrail validate-logs` makes them, so a file that fails several
//! checks is reported for the same one.

use std::collections::HashMap;
use std::io::Read;

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use flate2::{Decompress, FlushDecompress, Status};
use sha2::{Digest as _, Sha256};

use crate::digest::{Digest, signing_string};
use crate::sha256_hex;

/// Gunzips a file (its first gzip member, as zlib does).
pub fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 8);
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// The most a digest may inflate to. CloudTrail's digests list an hour's log files, a few
/// MB at most; a larger one is treated as malformed rather than filling memory.
pub const MAX_DIGEST_BYTES: u64 = 256 * 1024 * 1024;

/// Gunzips at most `limit` bytes; more is an error.
pub fn gunzip_limited(bytes: &[u8], limit: u64) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(limit + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(std::io::Error::other("inflates past the limit"));
    }
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
    /// The `signature` metadata is not hex (the stock tool prints Python's message).
    SignatureEncoding(&'static str),
    /// The signature does not verify, or the signature metadata is absent.
    BadSignature,
}

impl std::fmt::Display for DigestProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidFormat => f.write_str("invalid format"),
            Self::Moved => f.write_str("has been moved from its original location"),
            Self::UnknownKey(fp) => write!(f, "public key not found for fingerprint {fp}"),
            Self::SignatureEncoding(why) => f.write_str(why),
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

/// The members `aws cloudtrail validate-logs` requires before it looks at a digest
/// (`previousDigestSignature` may be null but must be there).
const REQUIRED: [&str; 6] = [
    "digestPublicKeyFingerprint",
    "digestS3Bucket",
    "digestS3Object",
    "previousDigestSignature",
    "digestEndTime",
    "digestStartTime",
];

/// The object metadata a digest is stored with.
#[derive(Clone, Copy, Debug, Default)]
pub struct DigestMetadata<'a> {
    /// `x-amz-meta-signature`.
    pub signature: Option<&'a str>,
    /// `x-amz-meta-signature-algorithm`.
    pub signature_algorithm: Option<&'a str>,
}

/// Verifies one digest fetched from `bucket`/`key`, given its gzip bytes and metadata,
/// against the public keys (fingerprint → PKCS#1 DER). The checks run in the stock tool's
/// order: gzip and JSON, signature metadata present, required members, location,
/// public key, signature.
pub fn verify_digest(
    bucket: &str,
    key: &str,
    gz: &[u8],
    metadata: DigestMetadata<'_>,
    public_keys: &HashMap<String, Vec<u8>>,
) -> Result<VerifiedDigest, DigestProblem> {
    let raw = gunzip_limited(gz, MAX_DIGEST_BYTES).map_err(|_| DigestProblem::InvalidFormat)?;
    let value: serde_json::Value =
        serde_json::from_slice(&raw).map_err(|_| DigestProblem::InvalidFormat)?;
    let (Some(signature), Some(_)) = (metadata.signature, metadata.signature_algorithm) else {
        return Err(DigestProblem::BadSignature);
    };
    if !REQUIRED.iter().all(|k| value.get(k).is_some()) {
        return Err(DigestProblem::InvalidFormat);
    }
    let digest: Digest = serde_json::from_value(value).map_err(|_| DigestProblem::InvalidFormat)?;
    if digest.digest_s3_bucket != bucket || digest.digest_s3_object != key {
        return Err(DigestProblem::Moved);
    }
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
    let sig = unhexlify(signature)?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
        .verify(message.as_bytes(), &sig)
        .map_err(|_| DigestProblem::BadSignature)?;
    Ok(VerifiedDigest {
        digest,
        sha256,
        signature: signature.to_owned(),
    })
}

/// Hex to bytes, failing with the messages of Python's `binascii.unhexlify`.
fn unhexlify(text: &str) -> Result<Vec<u8>, DigestProblem> {
    if !text.len().is_multiple_of(2) {
        return Err(DigestProblem::SignatureEncoding("Odd-length string"));
    }
    hex::decode(text).map_err(|_| DigestProblem::SignatureEncoding("Non-hexadecimal digit found"))
}

/// Why a log file's bytes cannot be hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidLogFormat;

/// How much inflated output is hashed at a time.
const OUT_CHUNK: usize = 64 * 1024;

/// Gunzips a log file as it streams in and hashes what comes out, as the stock tool
/// does: only the first gzip member counts, a truncated file is hashed as far as it goes,
/// and a corrupt stream or a bad CRC is an invalid format. Bytes after the first member
/// (CloudTrail writes one) do not change the hash; [`LogHasher::trailing`] tells of them.
pub struct LogHasher {
    inflate: Decompress,
    sha: Sha256,
    out: Vec<u8>,
    ended: bool,
    trailing: bool,
}

impl Default for LogHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl LogHasher {
    /// A hasher for one file.
    pub fn new() -> Self {
        Self {
            inflate: Decompress::new_gzip(15),
            sha: Sha256::new(),
            out: Vec::with_capacity(OUT_CHUNK),
            ended: false,
            trailing: false,
        }
    }

    /// Whether bytes followed the first gzip member: a second member or other data, which
    /// the hash (and the stock tool) ignores, and a reader of the file may not.
    pub fn trailing(&self) -> bool {
        self.trailing
    }

    /// Feeds the next bytes of the gzip file.
    pub fn update(&mut self, mut input: &[u8]) -> Result<(), InvalidLogFormat> {
        if self.ended {
            self.trailing |= !input.is_empty();
            return Ok(());
        }
        while !self.ended {
            let in_before = self.inflate.total_in();
            self.out.clear();
            // Inflates into the buffer's spare capacity: nothing to zero first.
            let status = self
                .inflate
                .decompress_vec(input, &mut self.out, FlushDecompress::None)
                .map_err(|_| InvalidLogFormat)?;
            let consumed = (self.inflate.total_in() - in_before) as usize;
            let produced = self.out.len();
            self.sha.update(&self.out);
            input = &input[consumed..];
            if status == Status::StreamEnd {
                self.ended = true;
                self.trailing |= !input.is_empty();
            }
            // Stop when the input is used up and the output buffer was not filled (zlib
            // holds nothing back then), or when zlib can make no progress.
            if (input.is_empty() && produced < self.out.capacity())
                || (consumed == 0 && produced == 0)
            {
                break;
            }
        }
        Ok(())
    }

    /// The hex SHA-256 of everything inflated.
    pub fn finish(self) -> String {
        hex::encode(self.sha.finalize())
    }
}

/// Hashes a whole gzip log file with [`LogHasher`].
pub fn hash_log(gz: &[u8]) -> Result<String, InvalidLogFormat> {
    let mut h = LogHasher::new();
    h.update(gz)?;
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn body(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"eventID\":\"{i}\",\"x\":{}}}", i * 7919 % 1000))
            .collect::<Vec<_>>()
            .join(",")
            .into_bytes()
    }

    #[test]
    fn streamed_hash_equals_the_hash_of_the_inflated_bytes_in_any_chunking() {
        let data = body(20_000); // about 400 KB: several output buffers
        let file = gz(&data);
        let want = sha256_hex(&data);
        assert_eq!(hash_log(&file).unwrap(), want);
        for chunk in [1, 7, 1000, 65_536] {
            let mut h = LogHasher::new();
            for piece in file.chunks(chunk) {
                h.update(piece).unwrap();
            }
            assert_eq!(h.finish(), want, "chunk {chunk}");
        }
    }

    #[test]
    fn only_the_first_member_counts_and_truncation_is_a_mismatch_not_an_error() {
        let data = body(100);
        let mut two = gz(&data);
        two.extend(gz(b"appended"));
        assert_eq!(hash_log(&two).unwrap(), sha256_hex(&data));
        // The hasher tells of what followed, in any chunking.
        for chunk in [1, 7, 1000, two.len()] {
            let mut h = LogHasher::new();
            for piece in two.chunks(chunk) {
                h.update(piece).unwrap();
            }
            assert!(h.trailing(), "chunk {chunk}");
        }
        let mut one = LogHasher::new();
        one.update(&gz(&data)).unwrap();
        assert!(!one.trailing());
        let file = gz(&data);
        let cut = hash_log(&file[..file.len() / 2]).unwrap();
        assert_ne!(cut, sha256_hex(&data));
    }

    #[test]
    fn garbage_and_bad_crcs_are_invalid_format() {
        assert_eq!(hash_log(b"not gzip at all"), Err(InvalidLogFormat));
        let mut file = gz(&body(100));
        let n = file.len();
        file[n - 6] ^= 0xff; // inside the CRC-32 trailer
        assert_eq!(hash_log(&file), Err(InvalidLogFormat));
    }

    #[test]
    fn inflating_is_bounded() {
        let file = gz(&vec![b'a'; 10_000]);
        assert_eq!(gunzip_limited(&file, 10_000).unwrap().len(), 10_000);
        assert!(gunzip_limited(&file, 9_999).is_err());
    }

    #[test]
    fn signature_hex_errors_use_pythons_words() {
        assert_eq!(
            unhexlify("abc"),
            Err(DigestProblem::SignatureEncoding("Odd-length string"))
        );
        assert_eq!(
            unhexlify("zz"),
            Err(DigestProblem::SignatureEncoding(
                "Non-hexadecimal digit found"
            ))
        );
    }

    #[test]
    fn checks_run_in_the_stock_order() {
        let keys = HashMap::new();
        let meta = DigestMetadata {
            signature: Some("00"),
            signature_algorithm: Some("SHA256withRSA"),
        };
        let verify = |body: &[u8], meta| verify_digest("b", "k", &gz(body), meta, &keys);
        assert_eq!(
            verify(b"{nope", meta).unwrap_err(),
            DigestProblem::InvalidFormat
        );
        assert_eq!(
            verify(b"{}", DigestMetadata::default()).unwrap_err(),
            DigestProblem::BadSignature,
            "missing signature metadata is checked before the members"
        );
        assert_eq!(
            verify(b"{}", meta).unwrap_err(),
            DigestProblem::InvalidFormat
        );
        let doc = serde_json::json!({
            "awsAccountId": "123456789012", "digestStartTime": "2026-11-24T10:00:00Z",
            "digestEndTime": "2026-11-24T11:00:00Z", "digestS3Bucket": "b",
            "digestS3Object": "other", "digestPublicKeyFingerprint": "fp",
            "digestSignatureAlgorithm": "SHA256withRSA", "newestEventTime": null,
            "oldestEventTime": null, "previousDigestS3Bucket": null,
            "previousDigestS3Object": null, "previousDigestHashValue": null,
            "previousDigestHashAlgorithm": null, "previousDigestSignature": null,
            "logFiles": []
        });
        let moved = doc.to_string();
        assert_eq!(
            verify(moved.as_bytes(), meta).unwrap_err(),
            DigestProblem::Moved
        );
        let here = moved.replace("\"other\"", "\"k\"");
        assert_eq!(
            verify(here.as_bytes(), meta).unwrap_err(),
            DigestProblem::UnknownKey("fp".into())
        );
    }

    proptest::proptest! {
        #[test]
        fn the_log_hasher_never_panics(bytes in proptest::collection::vec(0u8..=255, 0..512)) {
            let _ = hash_log(&bytes);
            let mut gzipped = gz(&bytes);
            let n = gzipped.len();
            gzipped[n / 2] ^= 0x55;
            let _ = hash_log(&gzipped);
        }
    }
}
