//! Requests s3s cannot route at all still pass the gate. s3s routes an unknown
//! subresource of GET, PUT and DELETE to the plain operation of the method (the access
//! check in [`super::unserved`] catches those), but a POST naming one it does not know,
//! such as CreateBucketMetadataConfiguration's `POST /bucket?metadataConfiguration`, has no
//! operation to fall back to: s3s would answer "Unknown operation" without any access
//! check, so nothing would authorize or record it.
//!
//! This custom route claims exactly those requests: a POST whose subresource markers name an
//! operation of S3's model (`model_rules.json`, "s3_routes") that s3s does not route. Each is
//! authorized for its own IAM action and recorded, as every unserved operation is.

use s3s::route::S3Route;
use s3s::{Body, S3Request, S3Response, S3Result};

use super::CairnS3;

/// The POST operations s3s 0.14 routes itself (its generated router); every other POST the
/// model names is unroutable there. PostObject (a browser form upload) carries no marker.
const S3S_POSTS: &[&str] = &[
    "CompleteMultipartUpload",
    "CreateBucketMetadataTableConfiguration",
    "CreateMultipartUpload",
    "DeleteObjects",
    "RestoreObject",
    "SelectObjectContent",
    "WriteGetObjectResponse",
];

/// The route for model operations s3s cannot route.
pub struct Unrouted {
    pub(super) s3: CairnS3,
}

/// The model operation an unroutable request names, with its bucket and key.
fn unroutable(
    vhost: &super::access::CairnHost,
    method: &http::Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
) -> Option<(&'static str, Option<String>, Option<String>)> {
    if *method != http::Method::POST {
        return None;
    }
    let query = uri.query().filter(|q| !q.is_empty())?;
    let (bucket, key) = match super::region_check::bucket_and_key(vhost, uri, headers) {
        None => (None, None),
        Some((bucket, key)) => (Some(bucket), key),
    };
    let kind = match (&bucket, &key) {
        (None, _) => "root",
        (Some(_), None) => "bucket",
        (Some(_), Some(_)) => "object",
    };
    let named = super::unserved::model_operations("POST", kind, query);
    let op = *named.first()?;
    (!named.iter().any(|n| S3S_POSTS.contains(n))).then_some((op, bucket, key))
}

#[async_trait::async_trait]
impl S3Route for Unrouted {
    fn is_match(
        &self,
        method: &http::Method,
        uri: &http::Uri,
        headers: &http::HeaderMap,
        _extensions: &mut http::Extensions,
    ) -> bool {
        unroutable(&self.s3.host, method, uri, headers).is_some()
    }

    async fn call(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let Some((op, bucket, key)) =
            unroutable(&self.s3.host, &req.method, &req.uri, &req.headers)
        else {
            return Err(s3s::S3Error::new(s3s::S3ErrorCode::NotImplemented));
        };
        let req = S3Request {
            input: (),
            method: req.method,
            uri: req.uri,
            headers: req.headers,
            extensions: req.extensions,
            credentials: req.credentials,
            region: req.region,
            service: req.service,
            trailing_headers: None,
        };
        Err(self.s3.unserved(req, (bucket, key), op).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(method: &str, uri: &str) -> Option<&'static str> {
        let uri: http::Uri = uri.parse().unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::HOST, "127.0.0.1:4599".parse().unwrap());
        unroutable(
            &Default::default(),
            &method.parse().unwrap(),
            &uri,
            &headers,
        )
        .map(|(op, _, _)| op)
    }

    #[test]
    fn only_posts_s3s_cannot_route_are_claimed() {
        assert_eq!(
            named("POST", "/b?metadataConfiguration"),
            Some("CreateBucketMetadataConfiguration")
        );
        assert_eq!(named("POST", "/b?metadataTable"), None);
        assert_eq!(named("POST", "/b?delete"), None);
        assert_eq!(named("POST", "/b/k?uploads"), None);
        assert_eq!(named("POST", "/b/k?uploadId=1"), None);
        assert_eq!(named("POST", "/b"), None);
        assert_eq!(named("GET", "/b?metadataConfiguration"), None);
    }
}
