//! Plaintext key material in memory: never printed, zeroed when dropped.

/// Bytes that must not leak: backing keys, data keys, decrypted plaintext.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// `n` zero bytes, to be filled in place.
    pub fn zeroed(n: usize) -> Self {
        Self(vec![0; n])
    }

    /// Takes ownership of `bytes`.
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, mutable.
    pub fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // A volatile-free best effort: the bytes are overwritten before the allocation is
            // returned, so they do not linger in freed memory in the common case.
            *b = 0;
        }
        std::hint::black_box(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_bytes() {
        let s = Secret::from_vec(b"top secret".to_vec());
        let shown = format!("{s:?}");
        assert!(!shown.contains("top"));
        assert!(shown.contains("10 bytes"));
    }
}
