//! What an upload's body must prove before it is stored: `Content-MD5` (`InvalidDigest` when
//! malformed, `BadDigest` when it does not match) and the additional checksums
//! (`x-amz-checksum-*` headers or `aws-chunked` trailers: CRC32, CRC32C, CRC64NVME, SHA1,
//! SHA256), computed while the body streams to disk and compared with what the client sent.
//! Also classifies a failed body stream the way S3 reports it.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_core::{ApiError, ErrorKind};
use s3s::checksum::ChecksumHasher;
use s3s::crypto::Checksum as _;

/// The additional checksum algorithms, with their header and digest length in bytes.
const ALGORITHMS: [(&str, &str, usize); 5] = [
    ("CRC32", "x-amz-checksum-crc32", 4),
    ("CRC32C", "x-amz-checksum-crc32c", 4),
    ("CRC64NVME", "x-amz-checksum-crc64nvme", 8),
    ("SHA1", "x-amz-checksum-sha1", 20),
    ("SHA256", "x-amz-checksum-sha256", 32),
];

/// The checks an upload declared, validated before its body is accepted.
#[derive(Clone, Debug, Default)]
pub struct Declared {
    /// Hex MD5 from `Content-MD5`.
    md5_hex: Option<String>,
    /// Checksums sent as headers, by algorithm (base64).
    headers: BTreeMap<String, String>,
    /// Algorithms whose value comes as an `aws-chunked` trailer (from `x-amz-trailer`).
    trailers: Vec<String>,
    /// An algorithm named by `x-amz-sdk-checksum-algorithm` with no value sent: computed and
    /// kept, as S3 does.
    requested: Option<String>,
}

/// The header values of an upload that [`Declared::parse`] checks.
pub struct Headers<'a> {
    /// `Content-MD5`.
    pub content_md5: Option<&'a str>,
    /// `x-amz-checksum-*` values by algorithm.
    pub checksums: BTreeMap<String, String>,
    /// `x-amz-sdk-checksum-algorithm`.
    pub algorithm: Option<&'a str>,
    /// The request headers (for `x-amz-trailer`).
    pub all: &'a http::HeaderMap,
}

fn invalid_value(header: &str) -> ApiError {
    ApiError::new(
        ErrorKind::S3InvalidRequest,
        format!("Value for {header} header is invalid."),
    )
}

/// Checks the `x-amz-sdk-checksum-algorithm` header an upload sends (s3s leaves it out of
/// PutObject's and UploadPart's input, so it was never read: recheck31). As S3: it must name
/// an algorithm S3 computes, and the checksum it announces must come, as a header or a
/// trailer of that algorithm.
fn sdk_algorithm(all: &http::HeaderMap, declared: &Declared) -> Result<(), ApiError> {
    let Some(value) = all.get("x-amz-sdk-checksum-algorithm") else {
        return Ok(());
    };
    let algo = String::from_utf8_lossy(value.as_bytes()).to_ascii_uppercase();
    if !ALGORITHMS.iter().any(|(a, _, _)| *a == algo) {
        return Err(invalid_value("x-amz-sdk-checksum-algorithm"));
    }
    if declared.headers.is_empty() && declared.trailers.is_empty() {
        return Err(ApiError::new(
            ErrorKind::S3InvalidRequest,
            "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
        ));
    }
    if !declared.headers.contains_key(&algo) && !declared.trailers.contains(&algo) {
        return Err(invalid_value("x-amz-sdk-checksum-algorithm"));
    }
    Ok(())
}

impl Declared {
    /// Validates the declared digests' form: a `Content-MD5` must be base64 of 16 bytes, a
    /// checksum header base64 of its algorithm's length, a trailer one S3 knows.
    pub fn parse(h: Headers<'_>) -> Result<Self, ApiError> {
        let mut out = Declared::default();
        if let Some(md5) = h.content_md5 {
            let bytes = STANDARD.decode(md5.trim()).ok().filter(|b| b.len() == 16);
            let Some(bytes) = bytes else {
                return Err(ApiError::new(
                    ErrorKind::S3InvalidDigest,
                    "The Content-MD5 you specified was invalid.",
                ));
            };
            out.md5_hex = Some(hex::encode(bytes));
        }
        for (algo, value) in h.checksums {
            let (_, header, len) = ALGORITHMS
                .iter()
                .find(|(a, _, _)| *a == algo)
                .copied()
                .ok_or_else(|| invalid_value(&algo))?;
            if STANDARD.decode(value.trim()).map(|b| b.len()) != Ok(len) {
                return Err(invalid_value(header));
            }
            out.headers.insert(algo, value.trim().to_owned());
        }
        if out.headers.len() > 1 {
            return Err(ApiError::new(
                ErrorKind::S3InvalidRequest,
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            ));
        }
        for value in h.all.get_all("x-amz-trailer") {
            let names = String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase();
            for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let Some((algo, _, _)) = ALGORITHMS.iter().find(|(_, hd, _)| *hd == name) else {
                    return Err(ApiError::new(
                        ErrorKind::S3InvalidRequest,
                        format!(
                            "The value specified in the x-amz-trailer header is not supported: {name}"
                        ),
                    ));
                };
                out.trailers.push((*algo).to_owned());
            }
        }
        sdk_algorithm(h.all, &out)?;
        if let Some(algo) = h.algorithm {
            let algo = algo.to_ascii_uppercase();
            if !ALGORITHMS.iter().any(|(a, _, _)| *a == algo) {
                return Err(ApiError::new(
                    ErrorKind::S3InvalidRequest,
                    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                ));
            }
            if out.headers.is_empty() && out.trailers.is_empty() {
                out.requested = Some(algo);
            }
        }
        Ok(out)
    }

    /// The algorithms the request declared: checksum headers, trailers, and one named by
    /// `x-amz-sdk-checksum-algorithm` alone.
    pub fn algorithms(&self) -> Vec<String> {
        let mut out: Vec<String> = self.headers.keys().cloned().collect();
        out.extend(self.trailers.iter().cloned());
        out.extend(self.requested.iter().cloned());
        out.dedup();
        out
    }

    /// Computes and keeps `algorithm` when the request declared no checksum (a multipart
    /// upload's part, which carries the upload's algorithm).
    pub fn request(&mut self, algorithm: &str) {
        if self.headers.is_empty() && self.trailers.is_empty() && self.requested.is_none() {
            self.requested = Some(algorithm.to_owned());
        }
    }

    /// A hasher for every algorithm that must be computed.
    pub fn hasher(&self) -> ChecksumHasher {
        let mut hasher = ChecksumHasher::default();
        let names = self
            .headers
            .keys()
            .chain(self.trailers.iter())
            .chain(self.requested.iter());
        for algo in names {
            match algo.as_str() {
                "CRC32" => hasher.crc32 = Some(s3s::crypto::Crc32::new()),
                "CRC32C" => hasher.crc32c = Some(s3s::crypto::Crc32c::new()),
                "CRC64NVME" => hasher.crc64nvme = Some(s3s::crypto::Crc64Nvme::new()),
                "SHA1" => hasher.sha1 = Some(s3s::crypto::Sha1::new()),
                "SHA256" => hasher.sha256 = Some(s3s::crypto::Sha256::new()),
                _ => {}
            }
        }
        hasher
    }

    /// Compares what was received (hex MD5, computed checksums, the trailers that came) with
    /// what was declared; returns the checksums to keep with the object.
    pub fn verify(
        &self,
        md5_hex: &str,
        computed: s3s::dto::Checksum,
        trailers: Option<&http::HeaderMap>,
    ) -> Result<BTreeMap<String, String>, ApiError> {
        if let Some(declared) = &self.md5_hex
            && declared != md5_hex
        {
            return Err(ApiError::new(
                ErrorKind::S3BadDigest,
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
        let computed: BTreeMap<&str, String> = [
            ("CRC32", computed.checksum_crc32),
            ("CRC32C", computed.checksum_crc32c),
            ("CRC64NVME", computed.checksum_crc64nvme),
            ("SHA1", computed.checksum_sha1),
            ("SHA256", computed.checksum_sha256),
        ]
        .into_iter()
        .filter_map(|(a, v)| v.map(|v| (a, v)))
        .collect();
        let mut claims: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(a, v)| (a.clone(), v.clone()))
            .collect();
        for algo in &self.trailers {
            let (_, header, len) = ALGORITHMS
                .iter()
                .find(|(a, _, _)| a == algo)
                .copied()
                .expect("parsed trailers are known algorithms");
            let value = trailers
                .and_then(|t| t.get(header))
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned());
            let Some(value) = value else {
                return Err(ApiError::new(
                    ErrorKind::S3MalformedTrailer,
                    "The request contained trailing data that was not well-formed or did not conform to our published schema.",
                ));
            };
            if STANDARD.decode(&value).map(|b| b.len()) != Ok(len) {
                return Err(invalid_value(header));
            }
            claims.push((algo.clone(), value));
        }
        let mut kept = BTreeMap::new();
        for (algo, value) in claims {
            if computed.get(algo.as_str()) != Some(&value) {
                return Err(ApiError::new(
                    ErrorKind::S3BadDigest,
                    format!("The {algo} you specified did not match the calculated checksum."),
                ));
            }
            kept.insert(algo, value);
        }
        if let Some(algo) = &self.requested
            && let Some(value) = computed.get(algo.as_str())
        {
            kept.insert(algo.clone(), value.clone());
        }
        Ok(kept)
    }
}

/// The checksum headers of a PutObject or UploadPart, by algorithm.
pub fn checksum_headers(
    crc32: &Option<String>,
    crc32c: &Option<String>,
    crc64: &Option<String>,
    sha1: &Option<String>,
    sha256: &Option<String>,
) -> BTreeMap<String, String> {
    [
        ("CRC32", crc32),
        ("CRC32C", crc32c),
        ("CRC64NVME", crc64),
        ("SHA1", sha1),
        ("SHA256", sha256),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
    .collect()
}

/// How S3 reports a request body that failed while streaming: a chunk whose signature does
/// not verify is `SignatureDoesNotMatch`; one that came below the rate floor
/// `RequestTimeout`, which the SDKs retry; anything else (a client gone, a malformed chunk, a
/// short body) is `IncompleteBody`.
pub fn body_fault(message: &str) -> ApiError {
    if message.contains(crate::body_rate::TOO_SLOW) {
        ApiError::new(
            ErrorKind::S3RequestTimeout,
            "Your socket connection to the server was not read from or written to within the timeout period.",
        )
    } else if message.contains("Sha256Mismatch") {
        ApiError::new(
            ErrorKind::S3ContentSha256Mismatch,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    } else if message.contains("SignatureMismatch") {
        ApiError::new(
            ErrorKind::S3SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )
    } else {
        ApiError::new(
            ErrorKind::S3IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        )
    }
}

/// Whether a request declares a digest of its body: `Content-MD5` or an `x-amz-checksum-*`
/// value (DeleteObjects needs one).
pub fn declares_digest(headers: &http::HeaderMap) -> bool {
    let trailer = headers
        .get("x-amz-trailer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("x-amz-checksum-"));
    trailer
        || headers.contains_key("content-md5")
        || headers.keys().any(|k| {
            k.as_str()
                .strip_prefix("x-amz-checksum-")
                .is_some_and(|rest| rest != "type" && rest != "algorithm")
        })
}

/// Checks a whole configuration body (a lifecycle, tagging or versioning document, a
/// DeleteObjects list) against the digests its request declares, `Content-MD5` and
/// `x-amz-checksum-*`: S3's `InvalidDigest` or `BadDigest` when they do not hold, as for an
/// object's body.
pub fn check_whole_body(headers: &http::HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let md5_header = get("content-md5");
    let declared = Declared::parse(Headers {
        content_md5: md5_header.as_deref(),
        checksums: checksum_headers(
            &get("x-amz-checksum-crc32"),
            &get("x-amz-checksum-crc32c"),
            &get("x-amz-checksum-crc64nvme"),
            &get("x-amz-checksum-sha1"),
            &get("x-amz-checksum-sha256"),
        ),
        algorithm: None,
        all: headers,
    })?;
    let mut hasher = declared.hasher();
    hasher.update(body);
    let md5 = {
        use md5::Digest;
        hex::encode(md5::Md5::digest(body))
    };
    declared.verify(&md5, hasher.finalize(), None).map(|_| ())
}

/// A CopyObject's `x-amz-checksum-algorithm`, upper-cased, and S3's refusal of one it does
/// not know (the model: "Unrecognized or unsupported values will respond with ... 400").
pub fn copy_algorithm(given: Option<&str>) -> (Option<String>, Result<(), ApiError>) {
    let Some(a) = given else {
        return (None, Ok(()));
    };
    let a = a.to_ascii_uppercase();
    if ALGORITHMS.iter().any(|(known, _, _)| *known == a) {
        (Some(a), Ok(()))
    } else {
        (
            None,
            Err(ApiError::new(
                ErrorKind::S3InvalidRequest,
                "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
            )),
        )
    }
}

/// The storage classes of S3's model (`StorageClass`).
const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
    "FSX_OPENZFS",
    "FSX_ONTAP",
];

/// An object write's `x-amz-storage-class`: one S3 does not know is `InvalidStorageClass`
/// (S3's error list: "The storage class you specified is not valid").
pub fn check_storage_class(class: Option<&str>) -> Result<(), ApiError> {
    match class {
        Some(c) if !STORAGE_CLASSES.contains(&c) => Err(ApiError::new(
            ErrorKind::S3InvalidStorageClass,
            "The storage class you specified is not valid",
        )),
        _ => Ok(()),
    }
}

/// Whether an object write's s3s input (PutObject, CopyObject, CreateMultipartUpload)
/// carries any `x-amz-grant-*` header.
macro_rules! any_grant {
    ($input:expr) => {
        $input.grant_full_control.is_some()
            || $input.grant_read.is_some()
            || $input.grant_read_acp.is_some()
            || $input.grant_write_acp.is_some()
    };
}
pub(crate) use any_grant;

/// Whether an object write asks for Object Lock: a mode, a retain-until date or a legal hold,
/// from its `x-amz-object-lock-*` headers or, for a browser form upload, its form fields; or
/// any other `x-amz-object-lock-*` header the router does not know (the event hold newer
/// SDKs send), which would otherwise be dropped unseen.
macro_rules! lock_asked {
    ($input:expr) => {
        $input.object_lock_mode.is_some()
            || $input.object_lock_retain_until_date.is_some()
            || $input.object_lock_legal_hold_status.is_some()
    };
    ($input:expr, $headers:expr) => {
        $crate::s3::integrity::lock_asked!($input) || $crate::s3::integrity::lock_header($headers)
    };
}
pub(crate) use lock_asked;

/// Whether a request carries an `x-amz-object-lock-*` header.
pub fn lock_header(headers: &http::HeaderMap) -> bool {
    headers
        .keys()
        .any(|k| k.as_str().starts_with("x-amz-object-lock-"))
}

/// `x-amz-website-redirect-location`: a path (`/…`) or an `http://` or `https://` URL, at
/// most 2 KB, as S3 takes it.
pub fn check_website_redirect(location: Option<&str>) -> Result<(), ApiError> {
    let Some(l) = location else {
        return Ok(());
    };
    if !(l.starts_with('/') || l.starts_with("http://") || l.starts_with("https://")) {
        return Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "The website redirect location must have a prefix of 'http://' or 'https://' or '/'",
        ));
    }
    if l.len() > 2048 {
        return Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "The website redirect location must be at most 2048 bytes long",
        ));
    }
    Ok(())
}

/// An object write asking for Object Lock ([`lock_asked`]): no Cairn bucket has Object Lock
/// (CreateBucket refuses to enable it), so it is S3's answer for a bucket without it, rather
/// than a retention silently not kept.
pub fn check_object_lock(asked: bool) -> Result<(), ApiError> {
    if asked {
        return Err(ApiError::new(
            ErrorKind::S3InvalidRequest,
            "Bucket is missing Object Lock Configuration",
        ));
    }
    Ok(())
}

/// The ACL an object write sets (`x-amz-acl`, and whether any `x-amz-grant-*` header is
/// there). A canned ACL S3 does not know is `InvalidArgument`. Cairn's buckets are as new S3
/// buckets are by default, "bucket owner enforced": ACLs are disabled, so only
/// `bucket-owner-full-control` and its equivalent `private` are accepted, and any other ACL
/// or grant fails with `AccessControlListNotSupported` (S3 User Guide, "Troubleshooting
/// Object Ownership").
pub fn check_acl(acl: Option<&str>, grants: bool) -> Result<(), ApiError> {
    const KNOWN: [&str; 7] = [
        "private",
        "public-read",
        "public-read-write",
        "authenticated-read",
        "aws-exec-read",
        "bucket-owner-read",
        "bucket-owner-full-control",
    ];
    match acl {
        Some(a) if !KNOWN.contains(&a) => Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "Invalid canned ACL",
        )),
        Some(a) if a != "private" && a != "bucket-owner-full-control" => Err(acls_disabled()),
        _ if grants => Err(acls_disabled()),
        _ => Ok(()),
    }
}

fn acls_disabled() -> ApiError {
    ApiError::new(
        ErrorKind::S3AccessControlListNotSupported,
        "The bucket does not allow ACLs",
    )
}

/// `Content-Encoding` as stored: `aws-chunked` describes how the request body was framed,
/// not the object, so it is dropped and any other coding (`gzip`) kept, as on S3.
pub fn stored_encoding(content_encoding: Option<String>) -> Option<String> {
    let kept: Vec<&str> = content_encoding
        .as_deref()?
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(","))
}

/// An `aws-chunked` body must decode to `x-amz-decoded-content-length` bytes; S3 refuses one
/// that does not with `IncompleteBody`.
pub fn check_decoded_length(headers: &http::HeaderMap, received: i64) -> Result<(), ApiError> {
    let declared = headers
        .get("x-amz-decoded-content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    match declared {
        Some(n) if n != received => Err(body_fault("decoded length")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_is_not_stored() {
        assert_eq!(stored_encoding(Some("aws-chunked".into())), None);
        assert_eq!(
            stored_encoding(Some("aws-chunked,gzip".into())),
            Some("gzip".into())
        );
        assert_eq!(
            stored_encoding(Some("gzip, aws-chunked".into())),
            Some("gzip".into())
        );
        assert_eq!(stored_encoding(Some("gzip".into())), Some("gzip".into()));
        assert_eq!(stored_encoding(None), None);
    }

    fn declared(md5: Option<&str>, checksums: &[(&str, &str)], trailer: Option<&str>) -> Declared {
        let mut all = http::HeaderMap::new();
        if let Some(t) = trailer {
            all.insert("x-amz-trailer", t.parse().unwrap());
        }
        Declared::parse(Headers {
            content_md5: md5,
            checksums: checksums
                .iter()
                .map(|(a, v)| (a.to_string(), v.to_string()))
                .collect(),
            algorithm: None,
            all: &all,
        })
        .unwrap()
    }

    fn computed(data: &[u8], d: &Declared) -> s3s::dto::Checksum {
        let mut h = d.hasher();
        h.update(data);
        h.finalize()
    }

    #[test]
    fn malformed_md5_and_checksum_values_are_refused_before_the_body() {
        let all = http::HeaderMap::new();
        let parse = |md5: Option<&str>, sums: &[(&str, &str)]| {
            Declared::parse(Headers {
                content_md5: md5,
                checksums: sums
                    .iter()
                    .map(|(a, v)| (a.to_string(), v.to_string()))
                    .collect(),
                algorithm: None,
                all: &all,
            })
            .map(|_| ())
            .map_err(|e| e.kind)
        };
        assert_eq!(
            parse(Some("not base64!"), &[]),
            Err(ErrorKind::S3InvalidDigest)
        );
        assert_eq!(parse(Some("AAAA"), &[]), Err(ErrorKind::S3InvalidDigest));
        assert_eq!(
            parse(None, &[("CRC32", "AAAAAAAA")]),
            Err(ErrorKind::S3InvalidRequest)
        );
        assert_eq!(parse(None, &[("CRC32", "AAAAAA==")]), Ok(()));
    }

    #[test]
    fn checksums_are_compared_with_the_bytes_received() {
        let data = b"hello world";
        let crc = STANDARD.encode(crc32fast_like(data));
        let good = declared(None, &[("CRC32", &crc)], None);
        let kept = good
            .verify("", computed(data, &good), None)
            .expect("matching checksum");
        assert_eq!(kept["CRC32"], crc);
        let bad = declared(None, &[("CRC32", "AAAAAA==")], None);
        let e = bad.verify("", computed(data, &bad), None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::S3BadDigest);
        assert_eq!(
            e.message,
            "The CRC32 you specified did not match the calculated checksum."
        );
    }

    #[test]
    fn a_trailer_checksum_must_arrive_and_match() {
        let data = b"trailer body";
        let d = declared(None, &[], Some("x-amz-checksum-crc32"));
        let e = d.verify("", computed(data, &d), None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::S3MalformedTrailer);
        let mut t = http::HeaderMap::new();
        t.insert("x-amz-checksum-crc32", "AAAAAA==".parse().unwrap());
        let e = d.verify("", computed(data, &d), Some(&t)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::S3BadDigest);
        let crc = STANDARD.encode(crc32fast_like(data));
        t.insert("x-amz-checksum-crc32", crc.parse().unwrap());
        assert!(d.verify("", computed(data, &d), Some(&t)).is_ok());
    }

    #[test]
    fn content_md5_mismatch_is_bad_digest() {
        let md5 = STANDARD.encode([0u8; 16]);
        let d = declared(Some(&md5), &[], None);
        let e = d.verify("ff", computed(b"x", &d), None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::S3BadDigest);
        assert!(
            d.verify(&hex::encode([0u8; 16]), computed(b"x", &d), None)
                .is_ok()
        );
    }

    /// CRC32 (IEEE) computed independently of s3s's implementation.
    fn crc32fast_like(data: &[u8]) -> [u8; 4] {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        (!crc).to_be_bytes()
    }
}
