//! Object bytes encrypted at rest (SSE-KMS, spec iam-kms.md §8.3): the plaintext is cut into
//! frames of [`FRAME_LEN`] bytes, each sealed with AES-256-GCM under the object's own data
//! key. Frame `i`'s nonce is `i` as a 96-bit big-endian counter (a data key seals one object
//! only, so nonces never repeat), and its additional data binds the frame index and whether it
//! is the last frame, so frames cannot be reordered, dropped or the object truncated without
//! failing to open. An empty object is one empty last frame.
//!
//! The data key itself is KMS's business: it comes from `GenerateDataKey` with the object's
//! encryption context (which names the object ARN) and is stored only wrapped, so a frame file
//! moved to another object does not open there.
//!
//! Stored layout: frame after frame, each `ciphertext ‖ tag (16)`; frame `i` starts at
//! `i * (FRAME_LEN + 16)`. A byte range of the plaintext maps to whole frames
//! ([`FrameSpan::of`]), so ranged reads open only the frames they touch.

use std::io::Write;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::{CryptoError, CryptoResult};

/// Plaintext bytes per frame.
pub const FRAME_LEN: usize = 64 * 1024;
/// GCM tag bytes per frame.
pub const TAG_LEN: usize = 16;
/// Stored bytes of a full frame.
pub const SEALED_FRAME_LEN: usize = FRAME_LEN + TAG_LEN;

const AAD_LABEL: &[u8] = b"cairn-sse-frame/v1\0";

/// Number of frames of a `plain_len`-byte object (at least one).
pub fn frame_count(plain_len: u64) -> u64 {
    plain_len.div_ceil(FRAME_LEN as u64).max(1)
}

/// Stored size of a `plain_len`-byte object.
pub fn sealed_len(plain_len: u64) -> u64 {
    plain_len + frame_count(plain_len) * TAG_LEN as u64
}

fn cipher(data_key: &[u8]) -> CryptoResult<LessSafeKey> {
    let unbound = UnboundKey::new(&AES_256_GCM, data_key)
        .map_err(|_| CryptoError::InvalidMasterKey("a data key must be 32 bytes".to_owned()))?;
    Ok(LessSafeKey::new(unbound))
}

fn nonce(index: u64) -> Nonce {
    let mut n = [0u8; NONCE_LEN];
    n[4..].copy_from_slice(&index.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

fn aad(index: u64, last: bool) -> Vec<u8> {
    let mut a = Vec::with_capacity(AAD_LABEL.len() + 9);
    a.extend_from_slice(AAD_LABEL);
    a.extend_from_slice(&index.to_be_bytes());
    a.push(u8::from(last));
    a
}

/// A `Write` that seals what it is given into frames written to `inner`. Call
/// [`FrameSealer::finish`] to seal the last frame; dropping it without that leaves a
/// truncated object that does not open.
pub struct FrameSealer<W: Write> {
    inner: W,
    key: LessSafeKey,
    buf: Vec<u8>,
    index: u64,
    plain: u64,
}

impl<W: Write> FrameSealer<W> {
    /// Seals into `inner` under the 32-byte `data_key`.
    pub fn new(inner: W, data_key: &[u8]) -> CryptoResult<Self> {
        Ok(Self {
            inner,
            key: cipher(data_key)?,
            buf: Vec::with_capacity(FRAME_LEN + 1),
            index: 0,
            plain: 0,
        })
    }

    fn seal(&mut self, len: usize, last: bool) -> std::io::Result<()> {
        let mut frame: Vec<u8> = self.buf.drain(..len).collect();
        self.key
            .seal_in_place_append_tag(
                nonce(self.index),
                Aad::from(aad(self.index, last)),
                &mut frame,
            )
            .map_err(|_| std::io::Error::other("frame sealing failed"))?;
        self.inner.write_all(&frame)?;
        self.index += 1;
        Ok(())
    }

    /// The writer sealed frames go to (to take what was written so far).
    pub fn inner_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Seals the last frame and returns the inner writer and the plaintext length.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        let n = self.buf.len();
        self.seal(n, true)?;
        self.inner.flush()?;
        Ok((self.inner, self.plain))
    }
}

impl<W: Write> Write for FrameSealer<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        // A full frame is sealed only once a byte beyond it arrives: until then it may be
        // the last one.
        self.buf.extend_from_slice(data);
        self.plain += data.len() as u64;
        while self.buf.len() > FRAME_LEN {
            self.seal(FRAME_LEN, false)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Bytes of the salt [`piece_key`] derives a key from.
pub const PIECE_SALT_LEN: usize = 16;

/// A key of its own for one piece of an object sealed before the object is whole (a multipart
/// upload's part): HKDF-SHA256 of the object's data key with a random `salt`, so two pieces
/// (or two uploads of the same part number) never seal frames under the same key and nonce.
pub fn piece_key(data_key: &[u8], salt: &[u8]) -> crate::Secret {
    derived_key(data_key, salt, b"cairn-sse-piece/v1")
}

/// An object's data key under an S3 Bucket Key: HKDF-SHA256 of the bucket key with the
/// object's random `salt` (stored with the object), domain-separated from [`piece_key`].
pub fn bucket_object_key(bucket_key: &[u8], salt: &[u8]) -> crate::Secret {
    derived_key(bucket_key, salt, b"cairn-s3-bucket-key/v1")
}

fn derived_key(ikm: &[u8], salt: &[u8], label: &'static [u8]) -> crate::Secret {
    use aws_lc_rs::hkdf;
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info: [&[u8]; 1] = [label];
    let okm = prk
        .expand(&info, hkdf::HKDF_SHA256)
        .expect("32 bytes is within HKDF-SHA256's output limit");
    let mut out = crate::Secret::zeroed(32);
    okm.fill(out.expose_mut())
        .expect("32 bytes is within HKDF-SHA256's output limit");
    out
}

/// Seals a whole plaintext at once (small objects, tests).
pub fn seal_all(data_key: &[u8], plaintext: &[u8]) -> CryptoResult<Vec<u8>> {
    let mut s = FrameSealer::new(Vec::new(), data_key)?;
    s.write_all(plaintext).map_err(CryptoError::Io)?;
    Ok(s.finish().map_err(CryptoError::Io)?.0)
}

/// Which stored frames a plaintext byte range needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameSpan {
    /// First frame index.
    pub first: u64,
    /// The stored byte range holding frames `first..` up to the one holding the range's end.
    pub stored: std::ops::Range<u64>,
    /// Plaintext bytes to skip at the start of the first frame.
    pub skip: u64,
    /// Plaintext bytes to return.
    pub len: u64,
}

impl FrameSpan {
    /// The frames of `range` (plaintext offsets) in an object of `plain_len` bytes.
    pub fn of(range: std::ops::Range<u64>, plain_len: u64) -> Self {
        let f = FRAME_LEN as u64;
        let sealed = SEALED_FRAME_LEN as u64;
        let first = (range.start / f).min(frame_count(plain_len) - 1);
        let last = if range.end > range.start {
            (range.end - 1) / f
        } else {
            first
        };
        Self {
            first,
            stored: first * sealed..((last + 1) * sealed).min(sealed_len(plain_len)),
            skip: range.start - first * f,
            len: range.end - range.start,
        }
    }
}

/// Opens frames one by one, in order, from a given frame index.
pub struct FrameOpener {
    key: LessSafeKey,
    next: u64,
    frames: u64,
}

impl FrameOpener {
    /// An opener for an object of `plain_len` bytes, starting at frame `first`.
    pub fn new(data_key: &[u8], plain_len: u64, first: u64) -> CryptoResult<Self> {
        Ok(Self {
            key: cipher(data_key)?,
            next: first,
            frames: frame_count(plain_len),
        })
    }

    /// Opens the next stored frame (`ciphertext ‖ tag`) and returns its plaintext.
    pub fn open(&mut self, mut sealed: Vec<u8>) -> CryptoResult<Vec<u8>> {
        let index = self.next;
        if index >= self.frames {
            return Err(CryptoError::InvalidCiphertext);
        }
        let last = index + 1 == self.frames;
        let n = self
            .key
            .open_in_place(nonce(index), Aad::from(aad(index, last)), &mut sealed)
            .map_err(|_| CryptoError::InvalidCiphertext)?
            .len();
        sealed.truncate(n);
        self.next += 1;
        Ok(sealed)
    }
}

/// Opens a whole stored object (small objects, tests).
pub fn open_all(data_key: &[u8], stored: &[u8], plain_len: u64) -> CryptoResult<Vec<u8>> {
    if stored.len() as u64 != sealed_len(plain_len) {
        return Err(CryptoError::InvalidCiphertext);
    }
    let mut opener = FrameOpener::new(data_key, plain_len, 0)?;
    let mut out = Vec::with_capacity(plain_len as usize);
    for chunk in stored.chunks(SEALED_FRAME_LEN) {
        out.extend(opener.open(chunk.to_vec())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: [u8; 32] = [7u8; 32];

    #[test]
    fn piece_keys_differ_by_salt_and_data_key() {
        let a = piece_key(&KEY, &[1u8; PIECE_SALT_LEN]);
        let b = piece_key(&KEY, &[2u8; PIECE_SALT_LEN]);
        let c = piece_key(&[8u8; 32], &[1u8; PIECE_SALT_LEN]);
        assert_eq!(a.len(), 32);
        assert_ne!(a.expose(), b.expose());
        assert_ne!(a.expose(), c.expose());
        assert_eq!(a.expose(), piece_key(&KEY, &[1u8; PIECE_SALT_LEN]).expose());
        assert_ne!(a.expose(), &KEY[..]);
        let o = bucket_object_key(&KEY, &[1u8; PIECE_SALT_LEN]);
        assert_eq!(o.len(), 32);
        assert_ne!(o.expose(), a.expose(), "domain-separated from piece keys");
        assert_ne!(
            o.expose(),
            bucket_object_key(&KEY, &[2u8; PIECE_SALT_LEN]).expose()
        );
    }

    #[test]
    fn round_trips_at_frame_boundaries() {
        for n in [0, 1, FRAME_LEN - 1, FRAME_LEN, FRAME_LEN + 1, 3 * FRAME_LEN] {
            let plain: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let stored = seal_all(&KEY, &plain).unwrap();
            assert_eq!(stored.len() as u64, sealed_len(n as u64), "n={n}");
            assert_eq!(open_all(&KEY, &stored, n as u64).unwrap(), plain);
            if n > 0 {
                assert!(!stored.windows(n.min(16)).any(|w| w == &plain[..n.min(16)]));
            }
        }
    }

    #[test]
    fn truncation_reordering_and_other_keys_fail() {
        let plain = vec![1u8; 2 * FRAME_LEN + 10];
        let stored = seal_all(&KEY, &plain).unwrap();
        let n = plain.len() as u64;
        // The last frame dropped: the new last frame was sealed as not last.
        let cut = &stored[..2 * SEALED_FRAME_LEN];
        assert!(open_all(&KEY, cut, 2 * FRAME_LEN as u64).is_err());
        let mut swapped = stored.clone();
        let (a, b) = swapped.split_at_mut(SEALED_FRAME_LEN);
        a.swap_with_slice(&mut b[..SEALED_FRAME_LEN]);
        assert!(open_all(&KEY, &swapped, n).is_err());
        assert!(open_all(&[8u8; 32], &stored, n).is_err());
        let mut flipped = stored;
        flipped[5] ^= 1;
        assert!(open_all(&KEY, &flipped, n).is_err());
    }

    proptest! {
        #[test]
        fn ranges_open_only_their_frames(len in 0u64..(3 * FRAME_LEN as u64), a in 0u64..1_000_000, b in 0u64..1_000_000) {
            let plain: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let stored = seal_all(&KEY, &plain).unwrap();
            let (s, e) = if len == 0 { (0, 0) } else { let s = a % len; (s, s + 1 + b % (len - s)) };
            let span = FrameSpan::of(s..e, len);
            let mut opener = FrameOpener::new(&KEY, len, span.first).unwrap();
            let mut got = Vec::new();
            for chunk in stored[span.stored.start as usize..span.stored.end as usize].chunks(SEALED_FRAME_LEN) {
                got.extend(opener.open(chunk.to_vec()).unwrap());
            }
            let got = &got[span.skip as usize..(span.skip + span.len) as usize];
            prop_assert_eq!(got, &plain[s as usize..e as usize]);
        }
    }
}
