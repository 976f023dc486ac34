//! The ciphertext blob KMS returns from Encrypt and GenerateDataKey*, and takes back in
//! Decrypt and ReEncrypt. AWS's format is opaque; this one is Cairn's own (spec iam-kms.md
//! §7.8), versioned, and self-describing enough to find its key:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | format tag `0xC1` (AWS blobs start `0x01`/`0x02`) |
//! | 1 | 1 | version `0x01` |
//! | 2 | 1 | `L`, length of the key id |
//! | 3 | L | key id, ASCII (never an alias) |
//! | 3+L | 4 | backing-key generation, big-endian |
//! | 7+L | 16 | HKDF salt, random |
//! | 23+L | 12 | GCM nonce, random |
//! | 35+L | n | AES-256-GCM ciphertext |
//! | 35+L+n | 16 | GCM tag |
//!
//! The content key is HKDF-SHA256(backing key, salt, `"cairn-kms/v1" ‖ key ARN`). The GCM
//! additional data is the header (bytes `0..35+L`) followed by the canonical encryption
//! context ([`canonical_context`]), so a changed header, body, tag or context — or a blob
//! presented to another key — fails to open with [`CryptoError::InvalidCiphertext`].

use std::collections::BTreeMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf;

use crate::{CryptoError, CryptoResult, Secret, random_array};

/// First byte of every Cairn blob.
pub const FORMAT_TAG: u8 = 0xC1;
/// The layout version this code writes.
pub const VERSION: u8 = 1;
/// Longest key id a blob can carry.
pub const MAX_KEY_ID_LEN: usize = 64;
const SALT_LEN: usize = 16;
const TAG_LEN: usize = 16;
const INFO_PREFIX: &[u8] = b"cairn-kms/v1";

/// Bytes a blob adds to its plaintext for a key id of `key_id_len` bytes.
pub fn overhead(key_id_len: usize) -> usize {
    3 + key_id_len + 4 + SALT_LEN + NONCE_LEN + TAG_LEN
}

/// What a blob's header says, readable without any key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The KMS key id the blob was sealed under.
    pub key_id: String,
    /// The backing-key generation.
    pub generation: u32,
}

/// Reads a blob's header. Anything that is not a well-formed version-1 Cairn blob fails.
pub fn peek(blob: &[u8]) -> CryptoResult<Header> {
    let bad = || CryptoError::InvalidCiphertext;
    if blob.len() < 3 || blob[0] != FORMAT_TAG || blob[1] != VERSION {
        return Err(bad());
    }
    let l = usize::from(blob[2]);
    if l == 0 || l > MAX_KEY_ID_LEN || blob.len() < overhead(l) {
        return Err(bad());
    }
    let id = &blob[3..3 + l];
    if !id
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    {
        return Err(bad());
    }
    let mut g = [0u8; 4];
    g.copy_from_slice(&blob[3 + l..7 + l]);
    Ok(Header {
        key_id: String::from_utf8(id.to_vec()).map_err(|_| bad())?,
        generation: u32::from_be_bytes(g),
    })
}

/// The canonical encoding of an encryption context: a u16 count, then each pair sorted by the
/// key's UTF-8 bytes as `u16 len ‖ key ‖ u16 len ‖ value`. Fails only for strings longer than
/// 65535 bytes (KMS caps a whole context far below that).
pub fn canonical_context(context: &BTreeMap<String, String>) -> CryptoResult<Vec<u8>> {
    let count = u16::try_from(context.len()).map_err(|_| CryptoError::InvalidCiphertext)?;
    let mut out = Vec::with_capacity(2 + context.len() * 16);
    out.extend_from_slice(&count.to_be_bytes());
    for (k, v) in context {
        for s in [k, v] {
            let n = u16::try_from(s.len()).map_err(|_| CryptoError::InvalidCiphertext)?;
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
    Ok(out)
}

fn content_key(backing: &[u8], salt: &[u8], key_arn: &str) -> LessSafeKey {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(backing);
    let info = [INFO_PREFIX, key_arn.as_bytes()];
    let okm = prk
        .expand(&info, &AES_256_GCM)
        .expect("32 bytes is within HKDF-SHA256's output limit");
    LessSafeKey::new(UnboundKey::from(okm))
}

/// Seals `plaintext` under generation `generation` of the key `key_id` (`key_arn`), bound to
/// `context`.
pub fn seal(
    backing: &[u8],
    key_id: &str,
    key_arn: &str,
    generation: u32,
    context: &BTreeMap<String, String>,
    plaintext: &[u8],
) -> CryptoResult<Vec<u8>> {
    let l = key_id.len();
    if l == 0 || l > MAX_KEY_ID_LEN || !key_id.is_ascii() {
        return Err(CryptoError::InvalidCiphertext);
    }
    let salt = random_array::<SALT_LEN>()?;
    let nonce = random_array::<NONCE_LEN>()?;
    let mut out = Vec::with_capacity(overhead(l) + plaintext.len());
    out.push(FORMAT_TAG);
    out.push(VERSION);
    out.push(l as u8);
    out.extend_from_slice(key_id.as_bytes());
    out.extend_from_slice(&generation.to_be_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let mut aad = out.clone();
    aad.extend_from_slice(&canonical_context(context)?);
    let mut body = plaintext.to_vec();
    content_key(backing, &salt, key_arn)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&aad),
            &mut body,
        )
        .map_err(|_| CryptoError::Random)?;
    out.extend_from_slice(&body);
    // The sealed copy of the plaintext is now ciphertext; nothing secret remains in `body`.
    Ok(out)
}

/// Opens a blob sealed by [`seal`] with the same backing key, key ARN and context.
pub fn open(
    backing: &[u8],
    key_arn: &str,
    blob: &[u8],
    context: &BTreeMap<String, String>,
) -> CryptoResult<Secret> {
    let header = peek(blob)?;
    let l = header.key_id.len();
    let salt = &blob[7 + l..7 + l + SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&blob[23 + l..35 + l]);
    let mut aad = blob[..35 + l].to_vec();
    aad.extend_from_slice(&canonical_context(context)?);
    let mut body = Secret::from_vec(blob[35 + l..].to_vec());
    let n = content_key(backing, salt, key_arn)
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&aad),
            body.expose_mut(),
        )
        .map_err(|_| CryptoError::InvalidCiphertext)?
        .len();
    Ok(Secret::from_vec(body.expose()[..n].to_vec()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
    const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn round_trip_and_sizes_match_the_spec() {
        let k = [9u8; 32];
        let c = ctx(&[("b", "2"), ("a", "1")]);
        let blob = seal(&k, ID, ARN, 3, &c, &[5u8; 32]).unwrap();
        assert_eq!(blob.len(), 119, "a 32-byte data key makes a 119-byte blob");
        assert_eq!(
            peek(&blob).unwrap(),
            Header {
                key_id: ID.into(),
                generation: 3
            }
        );
        assert_eq!(open(&k, ARN, &blob, &c).unwrap().expose(), &[5u8; 32]);
        let big = seal(&k, ID, ARN, 1, &c, &[0u8; 4096]).unwrap();
        assert_eq!(big.len(), 4183);
    }

    #[test]
    fn context_is_bound_exactly() {
        let k = [1u8; 32];
        let c = ctx(&[("ab", "c")]);
        let blob = seal(&k, ID, ARN, 1, &c, b"x").unwrap();
        for wrong in [
            ctx(&[]),
            ctx(&[("a", "bc")]),
            ctx(&[("ab", "C")]),
            ctx(&[("ab", "c"), ("d", "e")]),
        ] {
            assert!(open(&k, ARN, &blob, &wrong).is_err(), "{wrong:?}");
        }
        assert!(
            open(
                &k,
                "arn:aws:kms:us-east-1:111122223333:key/other",
                &blob,
                &c
            )
            .is_err()
        );
        assert!(open(&[2u8; 32], ARN, &blob, &c).is_err());
    }

    #[test]
    fn canonical_context_separates_keys_from_values() {
        assert_ne!(
            canonical_context(&ctx(&[("ab", "c")])).unwrap(),
            canonical_context(&ctx(&[("a", "bc")])).unwrap()
        );
    }

    #[test]
    fn garbage_is_invalid_ciphertext() {
        for b in [
            &b""[..],
            b"\x01\x02\x03",
            b"\xc1\x01\x00",
            b"\xc1\x02\x04abcd",
        ] {
            assert!(peek(b).is_err());
        }
    }

    proptest! {
        #[test]
        fn any_single_bit_flip_fails(pos in 0usize..119, bit in 0u8..8) {
            let k = [3u8; 32];
            let c = ctx(&[("purpose", "test")]);
            let mut blob = seal(&k, ID, ARN, 1, &c, &[7u8; 32]).unwrap();
            blob[pos] ^= 1 << bit;
            prop_assert!(open(&k, ARN, &blob, &c).is_err());
        }

        #[test]
        fn peek_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = peek(&data);
            let _ = open(&[0u8; 32], ARN, &data, &BTreeMap::new());
        }
    }
}
