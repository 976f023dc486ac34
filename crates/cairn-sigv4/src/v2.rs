//! S3's legacy Signature Version 2 (HMAC-SHA1), header (`Authorization: AWS <key>:<sig>`)
//! and presigned-query (`AWSAccessKeyId`, `Expires`, `Signature`) forms, as the S3 user
//! guide's "Signing and authenticating REST requests" defines them.
//!
//! The edge verifies SigV2 through `s3s`, which builds the canonical resource from the
//! request path as it is. For a path-style request on a bucket, S3's canonical resource is
//! `/<bucket>/` (with the trailing slash), and that is what botocore signs even when it
//! requests `/<bucket>`; [`string_to_sign`] and [`verify`] let the edge tell that form apart.

use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;

/// The query parameters that are part of the canonical resource (sorted, as S3 and botocore
/// list them).
pub const SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// A SigV2 request as received: lower-case header names, decoded query pairs.
#[derive(Clone, Copy, Debug)]
pub struct V2Request<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The resource before sub-resources: `/<bucket>/<key>` (path style, or the virtual
    /// host's bucket prefixed to the path).
    pub resource: &'a str,
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    /// Header pairs, names lower-case.
    pub headers: &'a [(String, String)],
    /// True for the presigned-query form (`Expires` takes the date's place).
    pub presigned: bool,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The string to sign: verb, Content-MD5, Content-Type, date (empty when `x-amz-date` is
/// sent; `Expires` when presigned), the `x-amz-*` headers and the canonical resource.
pub fn string_to_sign(req: &V2Request<'_>) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(header(req.headers, "content-md5").unwrap_or_default());
    out.push('\n');
    out.push_str(header(req.headers, "content-type").unwrap_or_default());
    out.push('\n');
    if req.presigned {
        let expires = req.query.iter().find(|(k, _)| k == "Expires");
        out.push_str(expires.map_or("", |(_, v)| v.as_str()));
    } else if header(req.headers, "x-amz-date").is_none() {
        out.push_str(header(req.headers, "date").unwrap_or_default());
    }
    out.push('\n');
    let mut amz: Vec<&(String, String)> = req
        .headers
        .iter()
        .filter(|(n, _)| n.starts_with("x-amz-"))
        .collect();
    amz.sort_by(|a, b| a.0.cmp(&b.0));
    let mut i = 0;
    while i < amz.len() {
        let name = &amz[i].0;
        let values: Vec<&str> = amz[i..]
            .iter()
            .take_while(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .collect();
        i += values.len();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push_str(req.resource);
    let mut first = true;
    for sub in SUBRESOURCES {
        if let Some((_, v)) = req.query.iter().find(|(k, _)| k == sub) {
            out.push(if first { '?' } else { '&' });
            first = false;
            out.push_str(sub);
            if !v.is_empty() {
                out.push('=');
                out.push_str(v);
            }
        }
    }
    out
}

/// Base64 HMAC-SHA1 of `string_to_sign` under `secret`.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    use base64::Engine;
    let mut mac = <Hmac<sha1::Sha1>>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `given` is the signature of `req` under `secret` (constant time).
pub fn verify(req: &V2Request<'_>, secret: &str, given: &str) -> bool {
    let expected = signature(secret, &string_to_sign(req));
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn subresources_are_sorted() {
        for w in SUBRESOURCES.windows(2) {
            assert!(w[0] < w[1], "{w:?}");
        }
    }

    /// The S3 user guide's examples ("Fetch": a bucket's ACL, and an object GET).
    #[test]
    fn user_guide_examples() {
        let headers = pairs(&[("date", "Tue, 27 Mar 2007 19:44:46 +0000")]);
        let query = pairs(&[("acl", "")]);
        let req = V2Request {
            method: "GET",
            resource: "/awsexamplebucket1/",
            query: &query,
            headers: &headers,
            presigned: false,
        };
        assert_eq!(
            string_to_sign(&req),
            "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl"
        );
        assert!(verify(&req, SECRET, "82ZHiFIjc+WbcwFKGUVEQspPn+0="));
        let headers = pairs(&[("date", "Tue, 27 Mar 2007 19:36:42 +0000")]);
        let req = V2Request {
            method: "GET",
            resource: "/awsexamplebucket1/photos/puppy.jpg",
            query: &[],
            headers: &headers,
            presigned: false,
        };
        assert!(verify(&req, SECRET, "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="));
    }

    #[test]
    fn amz_headers_are_sorted_and_joined_and_replace_the_date() {
        let headers = pairs(&[
            ("x-amz-meta-b", "2"),
            ("date", "ignored"),
            ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
            ("x-amz-meta-b", " 3 "),
            ("content-type", "text/plain"),
        ]);
        let query = pairs(&[("Expires", "1"), ("list-type", "2")]);
        let req = V2Request {
            method: "PUT",
            resource: "/b/",
            query: &query,
            headers: &headers,
            presigned: false,
        };
        assert_eq!(
            string_to_sign(&req),
            "PUT\n\ntext/plain\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\nx-amz-meta-b:2,3\n/b/"
        );
        let presigned = V2Request {
            presigned: true,
            headers: &[],
            ..req
        };
        assert_eq!(string_to_sign(&presigned), "PUT\n\n\n1\n/b/");
    }
}
