//! Server-side encryption with customer-provided keys (SSE-C), which Cairn does not carry
//! out. Since April 2026 S3 blocks SSE-C on every new general purpose bucket by default
//! (the S3 user guide's "Blocking or unblocking SSE-C for a general purpose bucket"): a
//! PutObject, CopyObject, PostObject or multipart upload that asks for it is refused with
//! 403 `AccessDenied`. Cairn's buckets all behave so, since no bucket here can unblock it.
//! No object is ever SSE-C encrypted, so SSE-C headers on a read (or naming a copy's source)
//! are S3's 400 `InvalidRequest` for parameters that do not apply to the object. Either way
//! the customer's key is never used, stored or recorded, and nothing is written.

use cairn_core::{ApiError, ErrorKind};

/// Whether any of an SSE-C header triple was sent.
pub(super) fn asked(algorithm: Option<&str>, key: Option<&str>, key_md5: Option<&str>) -> bool {
    algorithm.is_some() || key.is_some() || key_md5.is_some()
}

/// A write that asks for SSE-C: refused as on a bucket that blocks it.
pub(super) fn check_write(asked: bool) -> Result<(), ApiError> {
    if asked {
        return Err(ApiError::new(
            ErrorKind::S3AccessDenied,
            "Server-side encryption with customer-provided keys (SSE-C) is blocked for this bucket (BlockedEncryptionTypes SSE-C).",
        ));
    }
    Ok(())
}

/// A read (or a copy's source) that gives SSE-C parameters for an object not encrypted so.
pub(super) fn check_read(asked: bool) -> Result<(), ApiError> {
    if asked {
        return Err(ApiError::new(
            ErrorKind::S3InvalidRequest,
            "The encryption parameters are not applicable to this object.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_refused_403_and_reads_400_only_when_sse_c_is_asked_for() {
        assert!(check_write(false).is_ok() && check_read(false).is_ok());
        assert_eq!(
            check_write(asked(Some("AES256"), None, None))
                .unwrap_err()
                .kind,
            ErrorKind::S3AccessDenied
        );
        assert_eq!(
            check_read(asked(None, None, Some("x"))).unwrap_err().kind,
            ErrorKind::S3InvalidRequest
        );
    }
}
