//! CloudTrail's file formats, byte for byte. Pure: no IO, no clock, no randomness.
//!
//! - [`keys`]: object keys of log files and digests.
//! - [`records`]: the `{"Records":[…]}` body and its gzip.
//! - [`digest`]: the digest JSON and the string its RSA signature covers.
//! - [`verify`]: digest signature and hash checks for `cairn validate-logs`.
//!
//! Shared by delivery (which writes these files) and, later, `cairn validate-logs`.

pub mod digest;
pub mod keys;
pub mod records;
pub mod verify;

use sha2::{Digest as _, Sha256};

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `YYYY-MM-DDTHH:MM:SSZ` of epoch seconds.
pub fn iso_seconds(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
