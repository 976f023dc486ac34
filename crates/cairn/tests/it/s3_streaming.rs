//! `aws-chunked` request bodies: the signed streaming form (a signature per chunk) and the
//! unsigned-trailer form current SDKs send with a CRC32 trailer, whose checksum must match.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::harness::*;

pub const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Signs the headers of a streaming PUT; returns (headers, seed signature, date, scope).
pub fn streaming_headers(
    server: &Server,
    path: &str,
    content_sha: &str,
    extra: Vec<(String, String)>,
) -> (Vec<(String, String)>, String, String, String) {
    let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let date = amz_date[..8].to_owned();
    let mut headers = extra;
    headers.push(("host".into(), server.addr.to_string()));
    headers.push(("x-amz-date".into(), amz_date.clone()));
    headers.push(("x-amz-content-sha256".into(), content_sha.into()));
    let mut names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    let (raw_path, raw_query) = path.split_once('?').unwrap_or((path, ""));
    let canonical = cairn_sigv4::canonical_request(
        &cairn_sigv4::RequestParts {
            method: "PUT",
            raw_path,
            raw_query,
            headers: &headers,
            payload_hash: content_sha,
        },
        &names,
        true,
    );
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let key = cairn_sigv4::signing_key(SECRET, &date, "us-east-1", "s3");
    let seed = cairn_sigv4::signature(
        &key,
        &cairn_sigv4::string_to_sign(&amz_date, &scope, &canonical),
    );
    headers.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, SignedHeaders={}, Signature={seed}",
            names.join(";")
        ),
    ));
    (headers, seed, amz_date, scope)
}

async fn get(server: &Server, path: &str) -> (u16, Vec<u8>) {
    let req = sign_s3(
        &server.addr,
        "us-east-1",
        "GET",
        path,
        Vec::new(),
        chrono::Utc::now(),
    );
    let (s, _, body) = server.send(req).await;
    (s, body)
}

#[tokio::test]
async fn signed_streaming_chunks_are_verified_and_stored() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/stream-bkt", b"").await.0, 200);
    let data: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let path = "/stream-bkt/chunked.bin";
    let (headers, seed, amz_date, scope) = streaming_headers(
        &server,
        path,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        vec![
            ("content-encoding".into(), "aws-chunked".into()),
            (
                "x-amz-decoded-content-length".into(),
                data.len().to_string(),
            ),
        ],
    );
    let date = &amz_date[..8];
    let key = cairn_sigv4::signing_key(SECRET, date, "us-east-1", "s3");
    let mut previous = seed;
    let mut body = Vec::new();
    for chunk in data.chunks(65_536).chain(std::iter::once(&[][..])) {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY}\n{}",
            hex::encode(Sha256::digest(chunk))
        );
        let sig = cairn_sigv4::signature(&key, &to_sign);
        body.extend(format!("{:x};chunk-signature={sig}\r\n", chunk.len()).as_bytes());
        body.extend(chunk);
        body.extend(b"\r\n");
        previous = sig;
    }
    let ok = Signed {
        method: "PUT".into(),
        path_and_query: path.into(),
        headers: headers.clone(),
        body: body.clone(),
    };
    let (status, _, resp) = server.send(ok).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    assert_eq!(get(&server, path).await, (200, data.clone()));

    // One flipped byte inside a chunk breaks that chunk's signature.
    let mut tampered = body;
    let at = tampered.len() / 2;
    tampered[at] ^= 0xff;
    let bad = Signed {
        method: "PUT".into(),
        path_and_query: "/stream-bkt/tampered.bin".into(),
        headers,
        body: tampered,
    };
    let (status, _, _) = server.send(bad).await;
    assert!(
        (400..500).contains(&status),
        "tampered chunk accepted with {status}"
    );
    assert_eq!(get(&server, "/stream-bkt/tampered.bin").await.0, 404);
}

#[tokio::test]
async fn unsigned_payload_with_crc32_trailer_is_accepted_and_the_checksum_kept() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/trailer-bkt", b"").await.0, 200);
    let data = b"object body sent with a trailing checksum".repeat(100);
    let crc =
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(&data).to_be_bytes());
    let path = "/trailer-bkt/t.bin";
    let (headers, _, _, _) = streaming_headers(
        &server,
        path,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        vec![
            ("content-encoding".into(), "aws-chunked".into()),
            (
                "x-amz-decoded-content-length".into(),
                data.len().to_string(),
            ),
            ("x-amz-trailer".into(), "x-amz-checksum-crc32".into()),
        ],
    );
    let mut body = Vec::new();
    body.extend(format!("{:x}\r\n", data.len()).as_bytes());
    body.extend(&data);
    body.extend(format!("\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n").as_bytes());
    let req = Signed {
        method: "PUT".into(),
        path_and_query: path.into(),
        headers,
        body,
    };
    let (status, _, resp) = server.send(req).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    assert_eq!(get(&server, path).await, (200, data.to_vec()));
    // The trailer's checksum is kept and returned when asked for.
    let mut head = sign(
        &server.addr,
        "us-east-1",
        "s3",
        ACCESS_KEY,
        SECRET,
        "HEAD",
        path,
        vec![("x-amz-checksum-mode".into(), "ENABLED".into())],
        Vec::new(),
        chrono::Utc::now(),
    );
    head.method = "HEAD".into();
    let (status, headers, _) = server.send(head).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-amz-checksum-crc32"].to_str().unwrap(), crc);
}

/// A body in the signed streaming form, one signature per 64 KiB chunk.
pub fn signed_chunks(data: &[u8], seed: &str, amz_date: &str, scope: &str) -> Vec<u8> {
    let key = cairn_sigv4::signing_key(SECRET, &amz_date[..8], "us-east-1", "s3");
    let mut previous = seed.to_owned();
    let mut body = Vec::new();
    for chunk in data.chunks(65_536).chain(std::iter::once(&[][..])) {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY}\n{}",
            hex::encode(Sha256::digest(chunk))
        );
        let sig = cairn_sigv4::signature(&key, &to_sign);
        body.extend(format!("{:x};chunk-signature={sig}\r\n", chunk.len()).as_bytes());
        body.extend(chunk);
        body.extend(b"\r\n");
        previous = sig;
    }
    body
}

/// An unsigned `aws-chunked` PUT of `data` whose CRC32 trailer says `crc` (base64).
pub fn trailer_put(server: &Server, path: &str, data: &[u8], crc: &str) -> Signed {
    let (headers, _, _, _) = streaming_headers(
        server,
        path,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        vec![
            ("content-encoding".into(), "aws-chunked".into()),
            (
                "x-amz-decoded-content-length".into(),
                data.len().to_string(),
            ),
            ("x-amz-trailer".into(), "x-amz-checksum-crc32".into()),
        ],
    );
    let mut body = Vec::new();
    body.extend(format!("{:x}\r\n", data.len()).as_bytes());
    body.extend(data);
    body.extend(format!("\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n").as_bytes());
    Signed {
        method: "PUT".into(),
        path_and_query: path.into(),
        headers,
        body,
    }
}

#[tokio::test]
async fn a_trailer_checksum_that_does_not_match_the_body_is_refused_and_nothing_stored() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/badcrc-bkt", b"").await.0, 200);
    let data = b"the body the trailer lies about".repeat(50);
    let wrong = crc32fast::hash(b"some other body");
    let crc = base64::engine::general_purpose::STANDARD.encode(wrong.to_be_bytes());
    let (status, _, body) = server
        .send(trailer_put(&server, "/badcrc-bkt/bad.bin", &data, &crc))
        .await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>BadDigest</Code>"), "{body}");
    assert!(
        body.contains("The CRC32 you specified did not match the calculated checksum."),
        "{body}"
    );
    assert_eq!(get(&server, "/badcrc-bkt/bad.bin").await.0, 404);
    let (_, listing) = server.s3("GET", "/badcrc-bkt?list-type=2", b"").await;
    assert!(listing.contains("<KeyCount>0</KeyCount>"), "{listing}");
    // Nothing of the refused body is left on disk either.
    let files = std::fs::read_dir(server.data_dir().join("objects"))
        .unwrap()
        .count();
    assert_eq!(files, 0, "the refused upload's file was left behind");
    // A header checksum is held to the same rule.
    let req = crate::s3_util::s3_request(
        &server.addr,
        "PUT",
        "/badcrc-bkt/header.bin",
        vec![("x-amz-checksum-crc32".into(), crc.clone())],
        data.clone(),
    );
    let (status, _, body) = server.send(req).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert_eq!(get(&server, "/badcrc-bkt/header.bin").await.0, 404);
}
