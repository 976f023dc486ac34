//! CORS as S3 answers it for a bucket without a CORS configuration (PutBucketCors is not
//! carried out, so every bucket is one): a browser's preflight `OPTIONS` is refused with
//! S3's 403 `AccessForbidden` (its message, misspelling included), and one without an
//! `Origin` is 400 `BadRequest`. A preflight is no API call: it is not authorized or recorded.

use axum::response::Response;
use http::StatusCode;

/// S3's answer to a preflight request (`OPTIONS`).
pub(super) fn preflight(headers: &http::HeaderMap, request_id: &str) -> Response {
    if !headers.contains_key(http::header::ORIGIN) {
        return crate::errors::s3_error_response(
            "BadRequest",
            StatusCode::BAD_REQUEST,
            "Insufficient information. Origin request header needed.",
            request_id,
            None,
            false,
        );
    }
    let method = headers
        .get(http::header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    crate::errors::s3_error_response(
        "AccessForbidden",
        StatusCode::FORBIDDEN,
        "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
        request_id,
        Some(("Method", method)),
        false,
    )
}
