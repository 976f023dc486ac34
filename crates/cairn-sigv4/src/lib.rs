//! Sans-IO verification of AWS Signature Version 4 (header form).
//!
//! The edge hands over the request as received — method, raw path and query, header
//! pairs, payload hash — plus the secret for the access key named in the credential scope.
//! This crate rebuilds the canonical request over exactly the headers the client signed,
//! derives the signing key and compares signatures in constant time. Clock skew is checked
//! separately so the caller can answer with AWS's exact messages, and so are the
//! signature-edge rules of [`rules`]: which headers must be signed, which payload hashes a
//! service accepts. [`v2`] holds S3's legacy Signature Version 2 string to sign.

mod authorization;
mod canonical;
pub mod rules;
mod skew;
pub mod v2;

pub use authorization::{Authorization, AuthorizationError};
pub use canonical::{RequestParts, canonical_request, signature, signing_key, string_to_sign};
pub use rules::{
    HOST_NOT_SIGNED, PayloadHashError, PayloadRules, S3_PAYLOAD_LITERALS, SIGNATURE_MISMATCH,
    SignedHeaderError, check_signed_headers, payload_hash,
};
pub use skew::{SkewError, check_skew, parse_amz_date};

use subtle::ConstantTimeEq;

/// Hex SHA-256 of an empty payload.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Verifies a header-signed request against `secret`. True when the signature matches.
pub fn verify(
    auth: &Authorization,
    parts: &RequestParts<'_>,
    amz_date: &str,
    secret: &str,
) -> bool {
    let canonical = canonical_request(parts, &auth.signed_headers, auth.service == "s3");
    let to_sign = string_to_sign(amz_date, &auth.scope(), &canonical);
    let key = signing_key(secret, &auth.date, &auth.region, &auth.service);
    let expected = signature(&key, &to_sign);
    expected.as_bytes().ct_eq(auth.signature.as_bytes()).into()
}

#[cfg(test)]
mod tests;
