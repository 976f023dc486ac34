//! S3's region check: a request signed for one region acts on a bucket only if the bucket
//! lives there. AWS answers anything else with `AuthorizationHeaderMalformed` (a presigned
//! URL: `AuthorizationQueryParametersError`), 400, naming the bucket's region in the body's
//! `<Region>` and the `x-amz-bucket-region` header, which is how the SDKs learn where to
//! re-sign. Calls that name no bucket (ListBuckets), CreateBucket (its own location rules)
//! and GetBucketLocation (how clients find a bucket's region) are served from any region.

use s3s::{S3Error, S3ErrorCode, S3Result};

use super::access::CairnHost;

/// The bucket a request names: the virtual host's, else the path's first segment; and
/// whether it names a key too.
fn bucket_of(
    host: &CairnHost,
    uri: &http::Uri,
    headers: &http::HeaderMap,
) -> Option<(String, bool)> {
    bucket_and_key(host, uri, headers).map(|(b, k)| (b, k.is_some()))
}

/// The bucket and key (percent-decoded) a request names.
pub(super) fn bucket_and_key(
    vhost: &CairnHost,
    uri: &http::Uri,
    headers: &http::HeaderMap,
) -> Option<(String, Option<String>)> {
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let path = uri.path().trim_start_matches('/');
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    };
    let key = |k: &str| {
        if k.is_empty() {
            Some(None)
        } else {
            decode(k).map(Some)
        }
    };
    if let Some(b) = vhost.bucket(host) {
        return Some((b.to_owned(), key(path)?));
    }
    let (bucket, k) = path.split_once('/').unwrap_or((path, ""));
    let bucket = decode(bucket)?;
    (!bucket.is_empty()).then_some(())?;
    Some((bucket, key(k)?))
}

/// Whether the call may be signed for any region (see the module doc).
fn any_region(method: &http::Method, query: &str, has_key: bool) -> bool {
    if has_key {
        return false;
    }
    let mut names = form_urlencoded::parse(query.as_bytes()).map(|(k, _)| k);
    match *method {
        http::Method::GET => names.any(|k| k == "location"),
        // CreateBucket: a PUT on the bucket with no subresource.
        http::Method::PUT => names.all(|k| k.starts_with("X-Amz-") || k == "x-id"),
        _ => false,
    }
}

/// Refuses a request signed for `signed` (the credential scope's region; `None` for SigV2,
/// which carries none) when the bucket it names lives in another region.
pub(super) fn check(
    store: &cairn_store::Store,
    vhost: &CairnHost,
    method: &http::Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
    signed: Option<&str>,
) -> S3Result<()> {
    let Some(signed) = signed else {
        return Ok(());
    };
    let Some((bucket, has_key)) = bucket_of(vhost, uri, headers) else {
        return Ok(());
    };
    let query = uri.query().unwrap_or("");
    if any_region(method, query, has_key) {
        return Ok(());
    }
    let region = store
        .read_blocking(move |c| Ok(cairn_store::buckets::get(c, &bucket)?.map(|b| b.region)))
        .map_err(|e| {
            tracing::error!(error = %e, "cannot read a bucket's region");
            S3Error::with_message(
                S3ErrorCode::InternalError,
                "We encountered an internal error. Please try again.",
            )
        })?;
    let Some(region) = region.filter(|r| r != signed) else {
        return Ok(());
    };
    let presigned = form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "X-Amz-Credential");
    let (code, message) = if presigned {
        (
            S3ErrorCode::AuthorizationQueryParametersError,
            format!(
                "Error parsing the X-Amz-Credential parameter; the region '{signed}' is wrong; expecting '{region}'"
            ),
        )
    } else {
        (
            S3ErrorCode::AuthorizationHeaderMalformed,
            format!(
                "The authorization header is malformed; the region '{signed}' is wrong; expecting '{region}'"
            ),
        )
    };
    let mut err = S3Error::with_message(code, message);
    err.set_status_code(http::StatusCode::BAD_REQUEST);
    let mut h = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_str(&region) {
        h.insert("x-amz-bucket-region", v);
    }
    err.set_headers(h);
    Err(err)
}

/// The `<Region>` element an error body carries: the bucket's region of a region refusal.
pub(super) fn region_element<'a>(code: &str, headers: &'a http::HeaderMap) -> Option<&'a str> {
    matches!(
        code,
        "AuthorizationHeaderMalformed" | "AuthorizationQueryParametersError"
    )
    .then(|| headers.get("x-amz-bucket-region")?.to_str().ok())
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, host: &str) -> (http::Method, http::Uri, http::HeaderMap) {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::HOST, host.parse().unwrap());
        (method.parse().unwrap(), uri.parse().unwrap(), h)
    }

    #[test]
    fn buckets_and_exempt_calls_are_recognised() {
        let (_, u, h) = parts("GET", "/b%2Dx/k/y", "127.0.0.1:4566");
        assert_eq!(
            bucket_of(&CairnHost::default(), &u, &h),
            Some(("b-x".into(), true))
        );
        let (_, u, h) = parts("GET", "/k", "bkt.localhost:4566");
        assert_eq!(
            bucket_of(&CairnHost::default(), &u, &h),
            Some(("bkt".into(), true))
        );
        let (_, u, h) = parts("GET", "/", "127.0.0.1");
        assert_eq!(bucket_of(&CairnHost::default(), &u, &h), None);
        assert!(any_region(&http::Method::PUT, "", false));
        assert!(any_region(&http::Method::GET, "location", false));
        assert!(!any_region(&http::Method::PUT, "policy", false));
        assert!(!any_region(&http::Method::PUT, "", true));
        assert!(!any_region(&http::Method::GET, "list-type=2", false));
    }
}
