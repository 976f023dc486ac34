//! SigV2 on a path-style bucket request. S3's canonical resource for `/<bucket>` is
//! `/<bucket>/` (with the trailing slash), and botocore signs that form while it requests
//! `/<bucket>` (`/v2test?policy` signed as `/v2test/?policy`). `s3s` builds the resource
//! from the path as it is, so such a request would not verify: when the signature matches
//! the trailing-slash form (and only then), the request's path gets the slash before `s3s`
//! sees it. A request signed over the path as sent is left alone and verifies as before.

use super::access::CairnHost;
use crate::credentials::CredentialCache;

/// The access key and signature of a SigV2 request, and whether it is the presigned form.
fn sigv2_credentials(
    headers: &http::HeaderMap,
    query: &[(String, String)],
) -> Option<(String, String, bool)> {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if let Some(signature) = param("Signature") {
        return Some((param("AWSAccessKeyId")?, signature, true));
    }
    let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (key, signature) = auth.strip_prefix("AWS ")?.split_once(':')?;
    Some((key.trim().to_owned(), signature.trim().to_owned(), false))
}

/// Adds the trailing slash to a path-style bucket request's path when its SigV2 signature
/// covers `/<bucket>/` (see the module doc).
pub(super) async fn add_bucket_slash(
    parts: &mut http::request::Parts,
    vhost: &CairnHost,
    credentials: &CredentialCache,
) {
    let path = parts.uri.path();
    let is_bucket = path
        .strip_prefix('/')
        .is_some_and(|b| !b.is_empty() && !b.contains('/'));
    if !is_bucket {
        return;
    }
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if vhost.bucket(host).is_some() {
        return;
    }
    let raw_query = parts.uri.query().unwrap_or("");
    let query: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .into_owned()
        .collect();
    let Some((access_key, signature, presigned)) = sigv2_credentials(&parts.headers, &query) else {
        return;
    };
    let Some(secret) = credentials.signing_secret(&access_key).await else {
        return;
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let resource = format!("{path}/");
    let request = cairn_sigv4::v2::V2Request {
        method: parts.method.as_str(),
        resource: &resource,
        query: &query,
        headers: &headers,
        presigned,
    };
    if !cairn_sigv4::v2::verify(&request, &secret, &signature) {
        return;
    }
    let path_and_query = match parts.uri.query() {
        Some(q) => format!("{resource}?{q}"),
        None => resource,
    };
    let Ok(pq) = path_and_query.parse::<http::uri::PathAndQuery>() else {
        return;
    };
    let mut uri = parts.uri.clone().into_parts();
    uri.path_and_query = Some(pq);
    if let Ok(uri) = http::Uri::from_parts(uri) {
        parts.uri = uri;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_header_and_query_credentials() {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("AWS AKID:c2ln"),
        );
        assert_eq!(
            sigv2_credentials(&h, &[]),
            Some(("AKID".to_owned(), "c2ln".to_owned(), false))
        );
        let q = vec![
            ("AWSAccessKeyId".to_owned(), "AKID".to_owned()),
            ("Signature".to_owned(), "c2ln".to_owned()),
        ];
        assert_eq!(
            sigv2_credentials(&http::HeaderMap::new(), &q),
            Some(("AKID".to_owned(), "c2ln".to_owned(), true))
        );
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=x"),
        );
        assert_eq!(sigv2_credentials(&h, &[]), None);
    }
}
