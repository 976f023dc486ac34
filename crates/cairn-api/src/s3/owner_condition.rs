//! S3's bucket owner condition on the wire: `x-amz-expected-bucket-owner` names the account
//! expected to own the bucket a request acts on, `x-amz-source-expected-bucket-owner` the
//! account expected to own a copy's source bucket (CopyObject, UploadPartCopy). The gate
//! checks them once the call is authorized ([`cairn_core::buckets::check_owners`]), so a
//! refusal is recorded like any other. CreateBucket and ListBuckets take no condition, as on
//! AWS: there is no bucket to own yet, or none named.

use cairn_core::buckets::OwnerCondition;

use super::access::CairnHost;

/// The owner conditions a request carries.
pub(super) fn of(
    host: &CairnHost,
    method: &http::Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
) -> Vec<OwnerCondition> {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let mut conditions = Vec::new();
    if let Some(expected) = header("x-amz-expected-bucket-owner")
        && let Some((bucket, key)) = super::region_check::bucket_and_key(host, uri, headers)
        && !(key.is_none() && creates_bucket(method, uri.query().unwrap_or("")))
    {
        conditions.push(OwnerCondition { bucket, expected });
    }
    if let Some(expected) = header("x-amz-source-expected-bucket-owner")
        && let Some(source) = header("x-amz-copy-source")
        && let Ok(s3s::dto::CopySource::Bucket { bucket, .. }) =
            s3s::dto::CopySource::parse(&source)
    {
        conditions.push(OwnerCondition {
            bucket: bucket.to_string(),
            expected,
        });
    }
    conditions
}

/// CreateBucket: a PUT on a bucket naming no subresource.
fn creates_bucket(method: &http::Method, query: &str) -> bool {
    *method == http::Method::PUT
        && form_urlencoded::parse(query.as_bytes())
            .all(|(k, _)| k.starts_with("X-Amz-") || k == "x-id")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conditions(method: &str, uri: &str, headers: &[(&str, &str)]) -> Vec<(String, String)> {
        let host = CairnHost::default();
        let mut map = http::HeaderMap::new();
        map.insert(http::header::HOST, "127.0.0.1:4599".parse().unwrap());
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let method = http::Method::from_bytes(method.as_bytes()).unwrap();
        of(&host, &method, &uri.parse().unwrap(), &map)
            .into_iter()
            .map(|c| (c.bucket, c.expected))
            .collect()
    }

    #[test]
    fn a_request_names_the_owner_of_its_bucket_and_of_a_copy_source() {
        let want = |b: &str, a: &str| (b.to_owned(), a.to_owned());
        assert_eq!(
            conditions(
                "GET",
                "/b1/k",
                &[("x-amz-expected-bucket-owner", "111122223333")]
            ),
            vec![want("b1", "111122223333")]
        );
        assert_eq!(
            conditions(
                "PUT",
                "/b1/k",
                &[
                    ("x-amz-copy-source", "/src%2Dbucket/a%20b"),
                    ("x-amz-source-expected-bucket-owner", "444455556666"),
                ]
            ),
            vec![want("src-bucket", "444455556666")]
        );
        assert!(conditions("GET", "/b1/k", &[]).is_empty());
    }

    #[test]
    fn create_bucket_and_list_buckets_take_no_condition() {
        let h = [("x-amz-expected-bucket-owner", "111122223333")];
        assert!(conditions("PUT", "/b1", &h).is_empty());
        assert!(conditions("GET", "/", &h).is_empty());
        assert_eq!(conditions("PUT", "/b1?policy", &h).len(), 1);
        assert_eq!(conditions("DELETE", "/b1", &h).len(), 1);
    }
}
