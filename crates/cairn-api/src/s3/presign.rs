//! AWS's limits on presigned URLs, checked before `s3s` verifies the signature: SigV4
//! `X-Amz-Expires` at most 604800 s (seven days), a request date no later than the allowed
//! skew, and SigV2 `Expires` no further ahead than the same seven days. Also SigV2 presigned
//! URLs' `x-amz-*` query parameters (a session's `x-amz-security-token`): their signer
//! signed them as headers (botocore's `HmacV1QueryAuth` moves them to the query after), so
//! they are given to `s3s` as the headers they were.

use crate::errors::WireError;

/// The longest validity AWS allows a presigned URL, seconds.
pub const MAX_EXPIRES_SECS: i64 = 604_800;

/// How far in the future a presigned request's date may be.
const MAX_FUTURE_SKEW_SECS: i64 = 900;

fn forbidden(code: &'static str, message: &str) -> WireError {
    WireError {
        code,
        status: http::StatusCode::FORBIDDEN,
        message: message.to_owned(),
    }
}

fn bad(code: &'static str, message: &str) -> WireError {
    WireError::bad_request(code, message)
}

/// Whether a query parameter belongs to the request's signing, not to the operation: a
/// presigned URL's SigV4 `X-Amz-*` (any case) and SigV2 `AWSAccessKeyId`/`Signature`/
/// `Expires`, and the SDKs' `x-id`. Records never show them.
pub fn is_signing_param(name: &str) -> bool {
    name.get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("x-amz-"))
        || matches!(name, "x-id" | "AWSAccessKeyId" | "Signature" | "Expires")
}

/// A request that carries an `Authorization` header besides a presigned URL's signature
/// (SigV4's `X-Amz-Algorithm`, or SigV2's `Signature`): S3 takes one auth mechanism and
/// refuses two, before anything else. Taking the header's would let a presigned URL's
/// holder pass as header-signed (and past `s3:authType` or `s3:signatureversion` conditions).
pub fn two_auth_mechanisms(headers: &http::HeaderMap, raw_query: &str) -> Option<WireError> {
    if !headers.contains_key(http::header::AUTHORIZATION) {
        return None;
    }
    let presigned = form_urlencoded::parse(raw_query.as_bytes())
        .any(|(k, _)| k == "X-Amz-Algorithm" || k == "Signature");
    presigned.then(|| {
        bad(
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        )
    })
}

/// Checks the presigned-URL parameters of `raw_query` at time `now` (epoch seconds). A query
/// without presigned parameters passes.
pub fn check(raw_query: &str, now: i64) -> Result<(), WireError> {
    let mut expires_v4 = None;
    let mut amz_date = None;
    let mut expires_v2 = None;
    let mut signature_v2 = false;
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        match k.as_ref() {
            "X-Amz-Expires" => expires_v4 = Some(v.into_owned()),
            "X-Amz-Date" => amz_date = Some(v.into_owned()),
            "Expires" => expires_v2 = Some(v.into_owned()),
            "Signature" => signature_v2 = true,
            _ => {}
        }
    }
    if let Some(expires) = expires_v4 {
        let secs: i64 = expires.parse().map_err(|_| {
            bad(
                "AuthorizationQueryParametersError",
                "X-Amz-Expires should be a number",
            )
        })?;
        if secs < 0 {
            return Err(bad(
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be non-negative",
            ));
        }
        if secs > MAX_EXPIRES_SECS {
            return Err(bad(
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week (in seconds) that is 604800",
            ));
        }
        if let Some(date) = amz_date.as_deref().and_then(cairn_sigv4::parse_amz_date)
            && date.timestamp() - now > MAX_FUTURE_SKEW_SECS
        {
            return Err(forbidden("AccessDenied", "Request is not valid yet"));
        }
    } else if signature_v2 && let Some(expires) = expires_v2 {
        let at: i64 = expires.parse().map_err(|_| {
            forbidden(
                "AccessDenied",
                "Invalid date (should be seconds since epoch)",
            )
        })?;
        if at - now > MAX_EXPIRES_SECS + MAX_FUTURE_SKEW_SECS {
            return Err(bad(
                "AuthorizationQueryParametersError",
                "Expires must be less than a week (in seconds) from now",
            ));
        }
    }
    Ok(())
}

/// For a SigV2 presigned URL (`AWSAccessKeyId` and `Signature` in the query, no
/// `Authorization` header), the `x-amz-*` query parameters become request headers (unless a
/// header of that name was sent), as their signer signed them.
pub fn sigv2_query_headers(headers: &mut http::HeaderMap, raw_query: &str) {
    if headers.contains_key(http::header::AUTHORIZATION) {
        return;
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let has = |name: &str| params.iter().any(|(k, _)| k == name);
    if !has("AWSAccessKeyId") || !has("Signature") {
        return;
    }
    for (name, value) in &params {
        let lower = name.to_ascii_lowercase();
        if !lower.starts_with("x-amz-") || headers.contains_key(lower.as_str()) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(lower.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
}

/// For a SigV4 presigned URL (`X-Amz-Algorithm` in the query, no `Authorization` header),
/// the `x-amz-*` query parameters besides its signing ones (`x-amz-meta-*`, `x-amz-tagging`,
/// …, which the JavaScript and Ruby presigners move out of the headers) become request
/// headers, unless a header of that name was sent: the signature covers the query, and S3
/// applies them as the headers they stand for. Call after the signed-headers check.
///
/// Checksum parameters (`x-amz-checksum-*`, `x-amz-sdk-checksum-algorithm`) are not: the
/// JavaScript SDK's presigner (flexible checksums on by default since 3.729) signs the
/// checksum of the empty body it had when presigning, and S3 uploads the real body through
/// such a URL without checking it against that value.
pub fn sigv4_query_headers(headers: &mut http::HeaderMap, raw_query: &str) {
    const SIGNING: &[&str] = &[
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-signedheaders",
        "x-amz-signature",
        "x-amz-security-token",
    ];
    if headers.contains_key(http::header::AUTHORIZATION) {
        return;
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !params.iter().any(|(k, _)| k == "X-Amz-Algorithm") {
        return;
    }
    for (name, value) in &params {
        let lower = name.to_ascii_lowercase();
        if !lower.starts_with("x-amz-")
            || SIGNING.contains(&lower.as_str())
            || lower.starts_with("x-amz-checksum-")
            || lower == "x-amz-sdk-checksum-algorithm"
            || headers.contains_key(lower.as_str())
        {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(lower.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000; // 2025-11-24T16:00:00Z

    fn amz(t: i64) -> String {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y%m%dT%H%M%SZ")
            .to_string()
    }

    #[test]
    fn sigv4_expiry_is_at_most_a_week() {
        let ok = format!(
            "X-Amz-Date={}&X-Amz-Expires=604800&X-Amz-Signature=x",
            amz(NOW)
        );
        assert!(check(&ok, NOW).is_ok());
        let long = format!(
            "X-Amz-Date={}&X-Amz-Expires=604801&X-Amz-Signature=x",
            amz(NOW)
        );
        let e = check(&long, NOW).unwrap_err();
        assert_eq!(e.code, "AuthorizationQueryParametersError");
        assert!(check("X-Amz-Expires=-1", NOW).is_err());
        assert!(check("X-Amz-Expires=soon", NOW).is_err());
    }

    #[test]
    fn sigv4_dates_in_the_future_are_refused_beyond_the_skew() {
        let near = format!("X-Amz-Date={}&X-Amz-Expires=60", amz(NOW + 600));
        assert!(check(&near, NOW).is_ok());
        let far = format!("X-Amz-Date={}&X-Amz-Expires=60", amz(NOW + 86_400));
        assert_eq!(check(&far, NOW).unwrap_err().code, "AccessDenied");
    }

    #[test]
    fn sigv2_query_amz_parameters_become_headers() {
        let mut h = http::HeaderMap::new();
        sigv2_query_headers(
            &mut h,
            "AWSAccessKeyId=ASIA&Signature=s&Expires=1&x-amz-security-token=t%2Bo",
        );
        assert_eq!(h["x-amz-security-token"], "t+o");
        let mut h = http::HeaderMap::new();
        sigv2_query_headers(&mut h, "X-Amz-Signature=s&x-amz-security-token=t");
        assert!(h.is_empty(), "SigV4 keeps its query");
    }

    #[test]
    fn sigv4_query_amz_parameters_become_headers_but_not_signing_ones() {
        let mut h = http::HeaderMap::new();
        sigv4_query_headers(
            &mut h,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=x&X-Amz-Security-Token=t&x-amz-meta-owner=alice&x-amz-tagging=a%3Db&x-id=PutObject",
        );
        assert_eq!(h["x-amz-meta-owner"], "alice");
        assert_eq!(h["x-amz-tagging"], "a=b");
        assert_eq!(h.len(), 2, "{h:?}");
        let mut h = http::HeaderMap::new();
        sigv4_query_headers(&mut h, "AWSAccessKeyId=A&Signature=s&x-amz-meta-a=b");
        assert!(h.is_empty(), "not SigV4");
    }

    #[test]
    fn a_presigned_checksum_of_the_empty_body_is_not_applied() {
        let mut h = http::HeaderMap::new();
        sigv4_query_headers(
            &mut h,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&x-amz-checksum-crc32=AAAAAA%3D%3D&x-amz-sdk-checksum-algorithm=CRC32&x-amz-meta-a=b",
        );
        assert_eq!(h.len(), 1);
        assert_eq!(h["x-amz-meta-a"], "b");
    }

    #[test]
    fn a_presigned_url_with_an_authorization_header_is_refused() {
        let mut headers = http::HeaderMap::new();
        let v4 = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc";
        assert!(two_auth_mechanisms(&headers, v4).is_none());
        headers.insert(http::header::AUTHORIZATION, "junk".parse().unwrap());
        assert_eq!(
            two_auth_mechanisms(&headers, v4).unwrap().code,
            "InvalidArgument"
        );
        assert!(two_auth_mechanisms(&headers, "AWSAccessKeyId=a&Signature=s&Expires=1").is_some());
        assert!(two_auth_mechanisms(&headers, "list-type=2").is_none());
    }

    #[test]
    fn sigv2_expires_is_bounded_too() {
        let ok = format!("AWSAccessKeyId=A&Signature=s&Expires={}", NOW + 3600);
        assert!(check(&ok, NOW).is_ok());
        let forever = format!(
            "AWSAccessKeyId=A&Signature=s&Expires={}",
            NOW + 10 * 365 * 86_400
        );
        assert!(check(&forever, NOW).is_err());
        assert!(
            check("Expires=123", NOW).is_ok(),
            "no Signature: not a presigned URL"
        );
    }
}
