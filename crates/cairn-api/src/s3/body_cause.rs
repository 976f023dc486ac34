//! What is known of an S3 request body when s3s answers an error without its cause: how
//! reading it went (cut short, too slow), whether its hash was signed, and what the request
//! names, so the error is the one S3 gives (`IncompleteBody`, `RequestTimeout`,
//! `XAmzContentSHA256Mismatch`, `<BucketName>`/`<Key>`/`<Condition>` elements).

use super::{leftover, unhandled};

/// What is known of a request body when s3s answers an error without its cause.
pub(super) struct BodyCause {
    pub(super) watch: leftover::BodyWatch,
    /// The body's SHA-256 was signed (`x-amz-content-sha256` a hex hash).
    pub(super) signed_hash: bool,
    /// The request is a browser form upload (`post_policy` words its refusals).
    pub(super) form: bool,
    /// The bucket and key the request names (`NoSuchBucket` and `NoSuchKey` name them).
    pub(super) target: Option<(String, Option<String>)>,
    /// A copy (`x-amz-copy-source`): its `NoSuchKey` is the source's.
    pub(super) copy: bool,
    /// The conditional header a `PreconditionFailed` names (`<Condition>`).
    pub(super) condition: Option<&'static str>,
}

impl BodyCause {
    /// The element S3 adds to an error naming what was missing: `<BucketName>` for
    /// `NoSuchBucket`, `<Key>` for `NoSuchKey` (the request's own key). Not for a copy, whose
    /// missing bucket or key may be its source (s3eight: the destination, which exists, was
    /// named).
    pub(super) fn named(&self, code: &str) -> Option<(&'static str, &str)> {
        let (bucket, key) = self.target.as_ref()?;
        match code {
            "NoSuchBucket" if !self.copy => Some(("BucketName", bucket.as_str())),
            "NoSuchKey" if !self.copy => Some(("Key", key.as_deref()?)),
            "PreconditionFailed" => Some(("Condition", self.condition?)),
            _ => None,
        }
    }
}

impl BodyCause {
    /// s3s answers `InternalError` for a body it could not read whole before the handler
    /// ran (its note still there): that is the client's body, cut short (`IncompleteBody`)
    /// or not matching its signed hash (`XAmzContentSHA256Mismatch`), as S3 answers them.
    pub(super) fn refusal(
        &self,
        status: http::StatusCode,
        code: &str,
        pending: &unhandled::PendingSlot,
    ) -> Option<(http::StatusCode, &'static str, &'static str)> {
        if status != http::StatusCode::INTERNAL_SERVER_ERROR
            || code != "InternalError"
            || !pending.is_noted()
        {
            return None;
        }
        if self.watch.too_slow() {
            // S3's answer, which the SDKs retry (ops5: `IncompleteBody`, which they do not).
            Some((
                http::StatusCode::BAD_REQUEST,
                "RequestTimeout",
                "Your socket connection to the server was not read from or written to within the timeout period.",
            ))
        } else if self.watch.failed() {
            Some((
                http::StatusCode::BAD_REQUEST,
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            ))
        } else if self.signed_hash {
            Some((
                http::StatusCode::BAD_REQUEST,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ))
        } else {
            None
        }
    }
}
