//! How an upload's body was framed is not part of the object: `aws-chunked` is dropped from the
//! stored `Content-Encoding` (other codings kept), an `aws-chunked` body must decode to its
//! `x-amz-decoded-content-length`, and a body whose SHA-256 is not the signed one is S3's
//! `XAmzContentSHA256Mismatch`.

use crate::harness::*;
use crate::s3_streaming::streaming_headers;
use crate::s3_util::header;

/// An unsigned `aws-chunked` PUT of `data` (one chunk and its CRC32 trailer, as SDKs send)
/// declaring `decoded` bytes.
fn chunked_put(server: &Server, path: &str, data: &[u8], encoding: &str, decoded: usize) -> Signed {
    let (headers, _, _, _) = streaming_headers(
        server,
        path,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        vec![
            ("content-encoding".into(), encoding.into()),
            ("x-amz-decoded-content-length".into(), decoded.to_string()),
            ("x-amz-trailer".into(), "x-amz-checksum-crc32".into()),
        ],
    );
    let crc = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        crc32fast::hash(data).to_be_bytes(),
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

async fn head(server: &Server, path: &str) -> (u16, reqwest::header::HeaderMap) {
    let mut req = sign_s3(
        &server.addr,
        "us-east-1",
        "HEAD",
        path,
        Vec::new(),
        chrono::Utc::now(),
    );
    req.method = "HEAD".into();
    let (status, headers, _) = server.send(req).await;
    (status, headers)
}

#[tokio::test]
async fn aws_chunked_is_not_stored_as_the_objects_encoding() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/frame-bkt", b"").await.0, 200);
    let data = b"nineteen bytes long";
    let put = chunked_put(&server, "/frame-bkt/plain", data, "aws-chunked", data.len());
    let (status, _, body) = server.send(put).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let (status, headers) = head(&server, "/frame-bkt/plain").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-encoding"), "");
    let put = chunked_put(
        &server,
        "/frame-bkt/gz",
        data,
        "aws-chunked,gzip",
        data.len(),
    );
    assert_eq!(server.send(put).await.0, 200);
    let (_, headers) = head(&server, "/frame-bkt/gz").await;
    assert_eq!(header(&headers, "content-encoding"), "gzip");
}

#[tokio::test]
async fn a_body_shorter_than_its_decoded_length_is_refused() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/short-bkt", b"").await.0, 200);
    let data = b"nineteen bytes long";
    let put = chunked_put(&server, "/short-bkt/k", data, "aws-chunked", 24);
    let (status, _, body) = server.send(put).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("<Code>IncompleteBody</Code>"), "{text}");
    assert_eq!(head(&server, "/short-bkt/k").await.0, 404);
}

#[tokio::test]
async fn a_body_that_is_not_the_signed_one_is_a_sha256_mismatch() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/sha-bkt", b"").await.0, 200);
    let mut put = sign_s3(
        &server.addr,
        "us-east-1",
        "PUT",
        "/sha-bkt/k",
        b"the signed body".to_vec(),
        chrono::Utc::now(),
    );
    put.body = b"another body!!!".to_vec();
    let (status, _, body) = server.send(put).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("<Code>XAmzContentSHA256Mismatch</Code>"),
        "{text}"
    );
    assert_eq!(head(&server, "/sha-bkt/k").await.0, 404);
}

/// UploadPart holds its aws-chunked body to the same decoded length as PutObject.
#[tokio::test]
async fn a_part_shorter_than_its_decoded_length_is_refused() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/part-bkt", b"").await.0, 200);
    let (status, created) = server.s3("POST", "/part-bkt/k?uploads", b"").await;
    assert_eq!(status, 200);
    let id = crate::console::xml_member(&created, "UploadId");
    let data = b"nineteen bytes long";
    let path = format!("/part-bkt/k?partNumber=1&uploadId={id}");
    let (status, _, body) = server
        .send(chunked_put(&server, &path, data, "aws-chunked", 24))
        .await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("<Code>IncompleteBody</Code>"), "{text}");
    let (status, _, body) = server
        .send(chunked_put(&server, &path, data, "aws-chunked", data.len()))
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}

/// An upload whose body comes below the rate floor is S3's `RequestTimeout`, which the SDKs
/// retry (ops5: it was `IncompleteBody`, which they do not, so a slow upload failed for good).
#[tokio::test]
async fn a_dribbled_upload_is_request_timeout() {
    let server = Server::start_with(&["--header-timeout-secs", "1", "--min-body-rate", "1000"]);
    let (s, out) = server.s3("PUT", "/dribble", b"").await;
    assert_eq!(s, 200, "{out}");
    let body = vec![b'x'; 100_000];
    let req = sign_s3(
        &server.addr,
        "us-east-1",
        "PUT",
        "/dribble/slow.bin",
        body,
        chrono::Utc::now(),
    );
    let mut head = format!("PUT {} HTTP/1.1\r\n", req.path_and_query);
    for (k, v) in &req.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("content-length: 100000\r\n\r\n");
    let addr = server.addr;
    let answer = tokio::task::spawn_blocking(move || crate::edge_hardening::dribble(addr, &head))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("<Code>RequestTimeout</Code>"), "{answer}");
}
