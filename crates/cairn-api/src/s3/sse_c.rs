//! Server-side encryption with customer-provided keys (SSE-C), which Cairn does not carry
//! out. Since April 2026 S3 blocks SSE-C on every new general purpose bucket by default
//! (the S3 user guide's "Blocking or unblocking SSE-C for a general purpose bucket"): a
//! PutObject, CopyObject, PostObject or multipart upload that asks for it is refused with
//! 403 `AccessDenied`. Cairn's buckets all behave so, since no bucket here can unblock it.
//! No object is ever SSE-C encrypted, so SSE-C headers on a read (or naming a copy's source)
//! are S3's 400 `InvalidRequest` for parameters that do not apply to the object. Either way
//! the customer's key is never used, stored or recorded, and nothing is written.

use cairn_core::{ApiError, ErrorKind};

/// The SSE-C headers a record shows as sent (S3's records carry them in `requestParameters`:
/// the S3 user guide's CloudTrail examples; detections of SSE-C ransomware key on the
/// algorithm): the algorithm and key MD5 of the object and of a copy's source. The key itself
/// is never recorded.
pub(crate) fn recorded_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    const RECORDED: [&str; 4] = [
        "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-server-side-encryption-customer-key-MD5",
        "x-amz-copy-source-server-side-encryption-customer-algorithm",
        "x-amz-copy-source-server-side-encryption-customer-key-MD5",
    ];
    RECORDED
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect()
}

/// Whether any of an SSE-C header triple was sent.
pub(super) fn asked(algorithm: Option<&str>, key: Option<&str>, key_md5: Option<&str>) -> bool {
    algorithm.is_some() || key.is_some() || key_md5.is_some()
}

/// Whether an s3s input's `x-amz-server-side-encryption-customer-*` headers ask for SSE-C.
macro_rules! sse_c_asked {
    ($input:expr) => {
        super::sse_c::asked(
            $input.sse_customer_algorithm.as_deref(),
            $input.sse_customer_key.as_deref(),
            $input.sse_customer_key_md5.as_deref(),
        )
    };
}
pub(crate) use sse_c_asked;

/// Whether a copy's `x-amz-copy-source-server-side-encryption-customer-*` headers name an
/// SSE-C source.
macro_rules! copy_source_sse_c_asked {
    ($input:expr) => {
        super::sse_c::asked(
            $input.copy_source_sse_customer_algorithm.as_deref(),
            $input.copy_source_sse_customer_key.as_deref(),
            $input.copy_source_sse_customer_key_md5.as_deref(),
        )
    };
}
pub(crate) use copy_source_sse_c_asked;

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

/// A read, a copy's source, or a part of an upload that is not SSE-C, given SSE-C
/// parameters: they do not apply.
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
