//! Canonical request, string to sign and key derivation, as AWS's published SigV4 test suite
//! defines them (checked against those vectors and against requests signed by botocore and
//! the JavaScript SDK in `tests/`).
//!
//! Paths: every service but S3 normalizes `.`/`..`/empty segments and URI-encodes the path as
//! received (so an already-encoded `%20` becomes `%2520`); S3 takes the path exactly as sent.
//! Query strings: each name and value is percent-decoded and re-encoded with RFC 3986's
//! unreserved set (upper-case hex), then the pairs are sorted by name, then value.

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{
    AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode, utf8_percent_encode,
};
use sha2::{Digest, Sha256};

/// A received request, as the edge saw it.
pub struct RequestParts<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Raw path, as sent (still percent-encoded).
    pub raw_path: &'a str,
    /// Raw query string without `?`, as sent.
    pub raw_query: &'a str,
    /// Every header as (name, value); names in any case, repeated names allowed.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body, or the `X-Amz-Content-SHA256` value.
    pub payload_hash: &'a str,
}

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
const URI_ENCODE_PATH: &AsciiSet = &URI_ENCODE.remove(b'/');

fn canonical_uri(raw_path: &str, is_s3: bool) -> String {
    let path = if raw_path.is_empty() { "/" } else { raw_path };
    if is_s3 {
        return path.to_owned();
    }
    let normalized = normalize_path(path);
    utf8_percent_encode(&normalized, URI_ENCODE_PATH).to_string()
}

fn normalize_path(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut joined = format!("/{}", out.join("/"));
    if path.ends_with('/') && joined != "/" {
        joined.push('/');
    }
    joined
}

/// Decodes `%XX` escapes (a malformed escape stays literal) and encodes the bytes again the
/// one canonical way, so `%e1`, `%E1` and a raw non-ASCII byte all canonicalize alike.
fn reencode(component: &str) -> String {
    let bytes: Vec<u8> = percent_decode_str(component).collect();
    percent_encode(&bytes, URI_ENCODE).to_string()
}

fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(k, _)| *k != "X-Amz-Signature")
        .map(|(k, v)| (reencode(k), reencode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical request over the headers named in `signed_headers`.
pub fn canonical_request(
    parts: &RequestParts<'_>,
    signed_headers: &[String],
    is_s3: bool,
) -> String {
    let mut sorted: Vec<&String> = signed_headers.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut headers_block = String::new();
    for name in &sorted {
        let values: Vec<String> = parts
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| collapse_spaces(v))
            .collect();
        headers_block.push_str(name);
        headers_block.push(':');
        headers_block.push_str(&values.join(","));
        headers_block.push('\n');
    }
    let signed_list = sorted
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(";");
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method,
        canonical_uri(parts.raw_path, is_s3),
        canonical_query(parts.raw_query),
        headers_block,
        signed_list,
        parts.payload_hash
    )
}

/// The string to sign.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The derived signing key.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// Lower-case hex signature of `string_to_sign`.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac(signing_key, string_to_sign.as_bytes()))
}
