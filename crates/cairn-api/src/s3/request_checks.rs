//! Checks of an S3 request made before its signature is: answers that must say nothing about
//! the key that signed it (a PutObject of no stated length), and checksum headers of
//! algorithms Cairn does not compute, refused rather than ignored.

use axum::response::Response;

/// The refusal of a request these checks stop, if any: S3's XML error, before the signature
/// is checked.
pub(super) fn refusal(
    parts: &http::request::Parts,
    target: Option<&(String, Option<String>)>,
    rid: &str,
    head: bool,
) -> Option<Response> {
    if let Some(name) = unsupported_checksum(&parts.headers) {
        // Newer algorithms Cairn does not compute: refused, never stored unchecked (s3seven).
        return Some(crate::errors::s3_error_response(
            "InvalidRequest",
            http::StatusCode::BAD_REQUEST,
            &format!(
                "The value specified in the {name} header is not supported: use CRC32, CRC32C, CRC64NVME, SHA1 or SHA256"
            ),
            rid,
            None,
            head,
        ));
    }
    // Answered before the signature is checked, whoever sends it, as S3's front end answers
    // it: after the check (s3s's order) a valid key got 411 where a bad one got 403, which
    // told them apart without a record (s3seven).
    length_missing(parts, target).then(|| {
        crate::errors::s3_error_response(
            "MissingContentLength",
            http::StatusCode::LENGTH_REQUIRED,
            "You must provide the Content-Length HTTP header.",
            rid,
            None,
            head,
        )
    })
}

/// The `x-amz-checksum-*` header of an algorithm S3 has and Cairn does not compute (SHA512,
/// MD5, XXHASH64, XXHASH3, XXHASH128), if the request sends one: it was ignored, and a body
/// that did not match it was stored.
fn unsupported_checksum(headers: &http::HeaderMap) -> Option<&'static str> {
    [
        "x-amz-checksum-sha512",
        "x-amz-checksum-md5",
        "x-amz-checksum-xxhash64",
        "x-amz-checksum-xxhash3",
        "x-amz-checksum-xxhash128",
    ]
    .into_iter()
    .find(|h| headers.contains_key(*h))
}

/// Whether a PutObject or UploadPart sends a body of no stated length: chunked transfer
/// with neither `Content-Length` nor, for an `aws-chunked` body,
/// `x-amz-decoded-content-length`. S3 needs one (no body at all is an empty object; other
/// PUTs on a key, a copy or a subresource such as `?tagging`, are left to their operations).
fn length_missing(parts: &http::request::Parts, target: Option<&(String, Option<String>)>) -> bool {
    let subresource =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).any(|(k, _)| {
            !matches!(
                k.as_ref(),
                "partNumber" | "uploadId" | "x-id" | "AWSAccessKeyId" | "Signature" | "Expires"
            ) && !k.starts_with("X-Amz-")
        });
    parts.method == http::Method::PUT
        && target.is_some_and(|(_, key)| key.is_some())
        && !subresource
        && parts.headers.contains_key(http::header::TRANSFER_ENCODING)
        && !parts.headers.contains_key(http::header::CONTENT_LENGTH)
        && !parts.headers.contains_key("x-amz-decoded-content-length")
        && !parts.headers.contains_key("x-amz-copy-source")
}
