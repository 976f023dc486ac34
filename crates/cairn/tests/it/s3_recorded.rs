//! Every S3 call that reaches an operation is recorded, failures included: refusals made
//! before a body is accepted, bodies that fail or do not match their digests, and bad
//! arguments. Each failing call below must leave exactly one data event with its error.

use crate::harness::*;
use crate::s3_streaming::{signed_chunks, streaming_headers, trailer_put};
use crate::s3_util::*;
use base64::Engine;

const BUCKET: &str = "rec-bkt";

/// Sends `req` and checks the status and error code it gets.
async fn expect_error(server: &Server, req: Signed, status: u16, code: &str) {
    let what = format!("{} {}", req.method, req.path_and_query);
    let (got, _, body) = server.send(req).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(got, status, "{what}: {body}");
    assert!(
        body.contains(&format!("<Code>{code}</Code>")),
        "{what}: {body}"
    );
}

fn upload_id(xml: &str) -> String {
    let start = xml.find("<UploadId>").expect("UploadId") + "<UploadId>".len();
    let end = xml[start..].find("</UploadId>").unwrap() + start;
    xml[start..end].to_owned()
}

#[tokio::test]
async fn every_failing_object_call_is_recorded_once() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", &format!("/{BUCKET}"), b"").await.0, 200);
    select_data_events(&server, BUCKET).await;
    let addr = server.addr;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let body = b"a small object body".to_vec();
    let mut expected: Vec<(&str, &str)> = Vec::new();

    // Content-MD5 that is not an MD5, then one that does not match.
    let req = s3_request(
        &addr,
        "PUT",
        &format!("/{BUCKET}/md5-malformed"),
        vec![("content-md5".into(), "bm90LW1kNQ==".into())],
        body.clone(),
    );
    expect_error(&server, req, 400, "InvalidDigest").await;
    expected.push(("PutObject", "InvalidDigest"));
    let req = s3_request(
        &addr,
        "PUT",
        &format!("/{BUCKET}/md5-wrong"),
        vec![("content-md5".into(), b64(&[0u8; 16]))],
        body.clone(),
    );
    expect_error(&server, req, 400, "BadDigest").await;
    expected.push(("PutObject", "BadDigest"));

    // Additional checksums: a wrong value, then a malformed one.
    let req = s3_request(
        &addr,
        "PUT",
        &format!("/{BUCKET}/crc-wrong"),
        vec![("x-amz-checksum-crc32".into(), b64(&[1, 2, 3, 4]))],
        body.clone(),
    );
    expect_error(&server, req, 400, "BadDigest").await;
    expected.push(("PutObject", "BadDigest"));
    let req = s3_request(
        &addr,
        "PUT",
        &format!("/{BUCKET}/sha-malformed"),
        vec![("x-amz-checksum-sha256".into(), "abc".into())],
        body.clone(),
    );
    expect_error(&server, req, 400, "InvalidRequest").await;
    expected.push(("PutObject", "InvalidRequest"));

    // A PutObject over AWS's 5 GiB single-PUT limit is refused from its headers alone (and the
    // connection closed, since its body cannot be drained).
    let mut conn = crate::raw_http::RawConn::connect(&addr).await;
    let huge = s3_unsigned(&addr, "PUT", &format!("/{BUCKET}/huge"), Vec::new());
    let six_gib = 6 * 1024 * 1024 * 1024;
    conn.write(&crate::raw_http::RawConn::head(&huge, six_gib))
        .await
        .unwrap();
    let resp = conn
        .response(false)
        .await
        .expect("answered from the headers");
    assert_eq!(resp.status, 400, "{}", resp.text());
    assert!(resp.text().contains("<Code>EntityTooLarge</Code>"));
    assert_eq!(resp.header("connection"), Some("close"));
    expected.push(("PutObject", "EntityTooLarge"));

    // A trailer checksum that does not match the streamed body.
    let crc = b64(&crc32fast::hash(b"another body").to_be_bytes());
    let req = trailer_put(&server, &format!("/{BUCKET}/trailer-wrong"), &body, &crc);
    expect_error(&server, req, 400, "BadDigest").await;
    expected.push(("PutObject", "BadDigest"));

    // A signed streaming body with a tampered chunk fails while it is being read.
    let path = format!("/{BUCKET}/tampered");
    let data = vec![7u8; 100_000];
    let (headers, seed, amz_date, scope) = streaming_headers(
        &server,
        &path,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        vec![
            ("content-encoding".into(), "aws-chunked".into()),
            (
                "x-amz-decoded-content-length".into(),
                data.len().to_string(),
            ),
        ],
    );
    let mut chunked = signed_chunks(&data, &seed, &amz_date, &scope);
    let at = chunked.len() / 2;
    chunked[at] ^= 0xff;
    let req = Signed {
        method: "PUT".into(),
        path_and_query: path,
        headers,
        body: chunked,
    };
    expect_error(&server, req, 403, "SignatureDoesNotMatch").await;
    expected.push(("PutObject", "SignatureDoesNotMatch"));

    // Multipart: a part for an upload that does not exist, a part number out of range, and
    // completing an upload that does not exist.
    let req = s3_request(
        &addr,
        "PUT",
        &format!("/{BUCKET}/mp?partNumber=1&uploadId=no-such-upload"),
        vec![],
        body.clone(),
    );
    expect_error(&server, req, 404, "NoSuchUpload").await;
    expected.push(("UploadPart", "NoSuchUpload"));
    let (s, created) = server
        .s3("POST", &format!("/{BUCKET}/mp?uploads"), b"")
        .await;
    assert_eq!(s, 200, "{created}");
    let id = upload_id(&created);
    let req = s3_request(
        &addr,
        "PUT",
        &format!("/{BUCKET}/mp?partNumber=10001&uploadId={id}"),
        vec![],
        body.clone(),
    );
    expect_error(&server, req, 400, "InvalidArgument").await;
    expected.push(("UploadPart", "InvalidArgument"));
    let complete = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>";
    let req = s3_request(
        &addr,
        "POST",
        &format!("/{BUCKET}/mp?uploadId=no-such-upload"),
        vec![],
        complete.to_vec(),
    );
    expect_error(&server, req, 404, "NoSuchUpload").await;
    expected.push(("CompleteMultipartUpload", "NoSuchUpload"));

    // Bad arguments: a continuation token that is not ours, a batch delete over 1000 keys.
    let req = s3_request(
        &addr,
        "GET",
        &format!("/{BUCKET}?continuation-token=%21%21%21&list-type=2"),
        vec![],
        vec![],
    );
    expect_error(&server, req, 400, "InvalidArgument").await;
    expected.push(("ListObjects", "InvalidArgument"));
    let mut delete = String::from("<Delete>");
    for i in 0..1001 {
        delete.push_str(&format!("<Object><Key>k{i}</Key></Object>"));
    }
    delete.push_str("</Delete>");
    // S3 requires an integrity header on a batch delete; a CRC32 serves.
    let crc = b64(&crc32fast::hash(delete.as_bytes()).to_be_bytes());
    let req = s3_request(
        &addr,
        "POST",
        &format!("/{BUCKET}?delete"),
        vec![("x-amz-checksum-crc32".into(), crc)],
        delete.into_bytes(),
    );
    expect_error(&server, req, 400, "MalformedXML").await;
    expected.push(("DeleteObjects", "MalformedXML"));

    // Copies: from a missing key, and onto itself without a change.
    assert_eq!(
        server
            .s3("PUT", &format!("/{BUCKET}/present"), b"here")
            .await
            .0,
        200
    );
    let req = s3_request(
        &addr,
        "PUT",
        &format!("/{BUCKET}/copy"),
        vec![("x-amz-copy-source".into(), format!("/{BUCKET}/absent"))],
        vec![],
    );
    expect_error(&server, req, 404, "NoSuchKey").await;
    expected.push(("CopyObject", "NoSuchKey"));
    let req = s3_request(
        &addr,
        "PUT",
        &format!("/{BUCKET}/present"),
        vec![("x-amz-copy-source".into(), format!("/{BUCKET}/present"))],
        vec![],
    );
    expect_error(&server, req, 400, "InvalidRequest").await;
    expected.push(("CopyObject", "InvalidRequest"));

    // A read of a missing key (recorded before this change too: the control).
    let req = s3_request(&addr, "GET", &format!("/{BUCKET}/absent"), vec![], vec![]);
    expect_error(&server, req, 404, "NoSuchKey").await;
    expected.push(("GetObject", "NoSuchKey"));

    let mut failures: Vec<(String, String)> = stored_records(&server, "Data")
        .iter()
        .filter(|r| r["requestParameters"]["bucketName"] == BUCKET)
        .filter(|r| r.get("errorCode").is_some_and(|c| !c.is_null()))
        .map(|r| {
            assert!(
                r["errorMessage"].as_str().is_some_and(|m| !m.is_empty()),
                "{r}"
            );
            (
                r["eventName"].as_str().unwrap().to_owned(),
                r["errorCode"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(n, c)| (n.to_owned(), c.to_owned()))
        .collect();
    failures.sort();
    expected.sort();
    assert_eq!(failures, expected);
    // The refused uploads left no object behind.
    let (_, listing) = server
        .s3("GET", &format!("/{BUCKET}?list-type=2"), b"")
        .await;
    assert!(listing.contains("<KeyCount>1</KeyCount>"), "{listing}");
}

/// s3s reads a served call's XML body before the handler runs: a malformed one is still
/// authorized (a caller who may not make the call is told `AccessDenied`, not that its body
/// is wrong) and recorded with its error, like every other call.
#[tokio::test]
async fn bodies_refused_before_the_handler_are_authorized_and_recorded() {
    let server = Server::start();
    let bucket = "cfg-bkt";
    assert_eq!(server.s3("PUT", &format!("/{bucket}"), b"").await.0, 200);
    let malformed = b"<LifecycleConfiguration><Rule><Unclosed>".to_vec();
    let mut expected = Vec::new();
    for (query, name) in [
        ("lifecycle", "PutBucketLifecycle"),
        ("tagging", "PutBucketTagging"),
        ("encryption", "PutBucketEncryption"),
    ] {
        let req = s3_request(
            &server.addr,
            "PUT",
            &format!("/{bucket}?{query}"),
            vec![],
            malformed.clone(),
        );
        expect_error(&server, req, 400, "MalformedXML").await;
        expected.push((name.to_owned(), "MalformedXML".to_owned(), "root"));
    }
    let nobody = new_user(&server, "nobody");
    let (status, body) = s3_as(
        &server,
        &nobody,
        "PUT",
        &format!("/{bucket}?lifecycle"),
        &[],
        &malformed,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    expected.push((
        "PutBucketLifecycle".to_owned(),
        "AccessDenied".to_owned(),
        "nobody",
    ));

    let mut failures: Vec<(String, String, &str)> = stored_records(&server, "Management")
        .iter()
        .filter(|r| r["requestParameters"]["bucketName"] == bucket)
        .filter(|r| r.get("errorCode").is_some_and(|c| !c.is_null()))
        .map(|r| {
            assert!(
                r["errorMessage"].as_str().is_some_and(|m| !m.is_empty()),
                "{r}"
            );
            let who = if r["userIdentity"]["userName"] == "nobody" {
                "nobody"
            } else {
                "root"
            };
            (
                r["eventName"].as_str().unwrap().to_owned(),
                r["errorCode"].as_str().unwrap().to_owned(),
                who,
            )
        })
        .collect();
    failures.sort();
    expected.sort();
    assert_eq!(failures, expected);
    // Nothing was configured.
    let (status, _) = server.s3("GET", &format!("/{bucket}?lifecycle"), b"").await;
    assert_eq!(status, 404);
}

/// s3s parses a served call's typed headers and query before the handler runs (s3four): a
/// value it cannot parse (`max-buckets=abc`, `Range: bytes=1-0`) must still be authorized, so
/// a caller without permission is told `AccessDenied` (a valid key cannot be told from a bad
/// one by a refusal that leaves no trace), and recorded, as a data event where the call is
/// one: DeleteObjects with no body is a data event, like every DeleteObjects.
#[tokio::test]
async fn headers_and_queries_refused_before_the_handler_are_authorized_and_recorded() {
    let server = Server::start();
    let bucket = "hdr-bkt";
    assert_eq!(server.s3("PUT", &format!("/{bucket}"), b"").await.0, 200);
    assert_eq!(
        server.s3("PUT", &format!("/{bucket}/k"), b"body").await.0,
        200
    );
    select_data_events(&server, bucket).await;
    let nobody = new_user(&server, "nobody");
    let key = format!("/{bucket}/k");
    let (status, body) = s3_as(&server, &nobody, "GET", "/?max-buckets=abc", &[], b"").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    let (status, body) = s3_as(
        &server,
        &nobody,
        "GET",
        &key,
        &[("range", "bytes=1-0")],
        b"",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let req = s3_request(
        &server.addr,
        "GET",
        &key,
        vec![("range".into(), "bytes=1-0".into())],
        vec![],
    );
    let (status, _, _) = server.send(req).await;
    assert_eq!(status / 100, 4);
    let req = s3_request(
        &server.addr,
        "GET",
        &format!("/{bucket}?list-type=2&max-keys=abc"),
        vec![],
        vec![],
    );
    let (status, _, _) = server.send(req).await;
    assert_eq!(status, 400);
    let req = s3_request(
        &server.addr,
        "POST",
        &format!("/{bucket}?delete"),
        vec![],
        vec![],
    );
    let (status, _, _) = server.send(req).await;
    assert_eq!(status, 400);

    let failed = |category: &str| -> Vec<(String, String, String)> {
        let mut v: Vec<(String, String, String)> = stored_records(&server, category)
            .iter()
            .filter(|r| r.get("errorCode").is_some_and(|c| !c.is_null()))
            .map(|r| {
                let who = r["userIdentity"]["userName"]
                    .as_str()
                    .unwrap_or("root")
                    .to_owned();
                (
                    r["eventName"].as_str().unwrap().to_owned(),
                    r["errorCode"].as_str().unwrap().to_owned(),
                    who,
                )
            })
            .collect();
        v.sort();
        v
    };
    let own = |n: &str, c: &str, w: &str| (n.to_owned(), c.to_owned(), w.to_owned());
    assert_eq!(
        failed("Management"),
        vec![own("ListBuckets", "AccessDenied", "nobody")]
    );
    let data = failed("Data");
    assert_eq!(data.len(), 4, "{data:?}");
    assert!(
        data.contains(&own("GetObject", "AccessDenied", "nobody")),
        "{data:?}"
    );
    assert!(
        data.iter().any(|(n, _, w)| n == "GetObject" && w == "root"),
        "{data:?}"
    );
    assert!(data.iter().any(|(n, _, _)| n == "ListObjects"), "{data:?}");
    assert!(
        data.iter().any(|(n, _, _)| n == "DeleteObjects"),
        "{data:?}"
    );
}
