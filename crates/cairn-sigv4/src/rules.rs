//! Signature-edge rules: what a valid signature must also cover before a request is trusted.
//!
//! A signature only protects what it covers. These pure checks run before [`crate::verify`]:
//!
//! - [`check_signed_headers`]: `host` and every `x-amz-*` header present on the request
//!   (`X-Amz-Target` above all: it names the operation) must be listed in `SignedHeaders`.
//!   `Content-Type` is not required: AWS's JSON services accept requests that leave it
//!   unsigned (older SDKs did), and Cairn does not dispatch on it.
//! - [`payload_hash`]: which hash stands for the body in the canonical request. For the JSON
//!   and Query services the body is always covered: the hash is the body's own SHA-256, and an
//!   `x-amz-content-sha256` header must equal it. Only S3 accepts `UNSIGNED-PAYLOAD` and the
//!   `STREAMING-*` literals; anything else that is not 64 hex digits is refused, never used
//!   as the payload hash.

use crate::Authorization;

/// AWS's message when `host` is missing from `SignedHeaders`.
pub const HOST_NOT_SIGNED: &str =
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";

/// AWS's message when the recomputed signature differs.
pub const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// The non-hash values S3 accepts in `x-amz-content-sha256`.
pub const S3_PAYLOAD_LITERALS: [&str; 6] = [
    "UNSIGNED-PAYLOAD",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
];

/// A header the signature had to cover and does not.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignedHeaderError {
    /// `host` is not in `SignedHeaders`.
    #[error("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")]
    HostNotSigned,
    /// An `x-amz-*` header on the request is not in `SignedHeaders`; holds its name as sent.
    #[error("'{0}' must be a 'SignedHeader' in the AWS Authorization.")]
    NotSigned(String),
}

/// Checks that `host` and every `x-amz-*` header present in `headers` are signed.
///
/// The edge answers a failure as a signature failure (`InvalidSignatureException`, 403, for
/// the JSON services; `SignatureDoesNotMatch`, 403, for the Query services) with this message.
pub fn check_signed_headers(
    auth: &Authorization,
    headers: &[(String, String)],
) -> Result<(), SignedHeaderError> {
    let signed = |name: &str| {
        auth.signed_headers
            .iter()
            .any(|s| s.eq_ignore_ascii_case(name))
    };
    if !signed("host") {
        return Err(SignedHeaderError::HostNotSigned);
    }
    let unsigned = headers.iter().map(|(name, _)| name).find(|name| {
        let amz = name
            .as_bytes()
            .get(..6)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"x-amz-"));
        amz && !signed(name)
    });
    match unsigned {
        Some(name) => Err(SignedHeaderError::NotSigned(name.clone())),
        None => Ok(()),
    }
}

/// How a service treats the payload in SigV4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadRules {
    /// S3: `x-amz-content-sha256` is required by S3 and may be one of [`S3_PAYLOAD_LITERALS`].
    S3,
    /// The JSON and Query services: the body is always part of the signature.
    BodySigned,
}

/// Why a request's payload hash is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadHashError {
    /// A hex `x-amz-content-sha256` that is not the body's hash. AWS's S3 message
    /// (`XAmzContentSHA256Mismatch`, 400).
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    Mismatch,
    /// S3: neither 64 hex digits nor a documented literal. AWS's message (`InvalidArgument`,
    /// 400, `ArgumentName` `x-amz-content-sha256`).
    #[error(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value."
    )]
    InvalidS3Value,
    /// JSON and Query services: the client signed something other than the body's hash
    /// (`UNSIGNED-PAYLOAD`, a streaming literal, junk). Those services always hash the body
    /// themselves, so AWS answers such a request as a signature mismatch
    /// (`InvalidSignatureException` / `SignatureDoesNotMatch`, 403); so does this message.
    #[error("{SIGNATURE_MISMATCH}")]
    BodyNotSigned,
}

fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The payload hash to put in the canonical request, given the request's
/// `x-amz-content-sha256` header (if any) and the hex SHA-256 of the body as received.
///
/// With [`PayloadRules::BodySigned`] the answer is always the body's hash (or the header's
/// spelling of that same hash). With [`PayloadRules::S3`] a documented literal is returned as
/// is; the caller then verifies the streamed body by other means.
pub fn payload_hash<'a>(
    declared: Option<&'a str>,
    body_sha256: &'a str,
    rules: PayloadRules,
) -> Result<&'a str, PayloadHashError> {
    let Some(declared) = declared else {
        return Ok(body_sha256);
    };
    if is_sha256_hex(declared) {
        return if declared.eq_ignore_ascii_case(body_sha256) {
            Ok(declared)
        } else {
            Err(PayloadHashError::Mismatch)
        };
    }
    match rules {
        PayloadRules::S3 if S3_PAYLOAD_LITERALS.contains(&declared) => Ok(declared),
        PayloadRules::S3 => Err(PayloadHashError::InvalidS3Value),
        PayloadRules::BodySigned => Err(PayloadHashError::BodyNotSigned),
    }
}
