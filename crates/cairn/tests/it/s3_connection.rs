//! A kept-alive connection survives an S3 error answered before the request body was read
//! (the JavaScript SDK reuses sockets and failed its next call with `write EPIPE`), and when
//! the body is too large to drain the response says `Connection: close`. Also AWS's
//! messages on protocol-level S3 errors.

use crate::harness::*;
use crate::raw_http::RawConn;
use crate::s3_util::*;

#[tokio::test]
async fn an_early_error_leaves_the_connection_usable() {
    let server = Server::start();
    let mut conn = RawConn::connect(&server.addr).await;
    // A 70,000-byte PutObject to a bucket that does not exist: refused before the body.
    let put = s3_request(
        &server.addr,
        "PUT",
        "/no-such-bucket/key",
        vec![],
        vec![b'x'; 70_000],
    );
    let resp = conn.call(&put).await.expect("PutObject answered");
    assert_eq!(resp.status, 404, "{}", resp.text());
    assert!(resp.text().contains("<Code>NoSuchBucket</Code>"));
    assert_ne!(resp.header("connection"), Some("close"));
    // The same socket serves the next call.
    let list = s3_request(&server.addr, "GET", "/", vec![], vec![]);
    let resp = conn
        .call(&list)
        .await
        .expect("the kept-alive connection still works");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp.text().contains("<ListAllMyBucketsResult"));
    // And again after an error raised once the body is read (a bad Content-MD5).
    assert_eq!(server.s3("PUT", "/conn-bkt", b"").await.0, 200);
    let put = s3_request(
        &server.addr,
        "PUT",
        "/conn-bkt/k",
        vec![("content-md5".into(), "AAAAAAAAAAAAAAAAAAAAAA==".into())],
        vec![b'y'; 70_000],
    );
    let resp = conn.call(&put).await.expect("PutObject answered");
    assert_eq!(resp.status, 400, "{}", resp.text());
    let resp = conn.call(&list).await.expect("still usable");
    assert_eq!(resp.status, 200);
    // And after a refusal made before s3s runs at all (a region that does not exist).
    let put = sign(
        &server.addr,
        "xx-nowhere-7",
        "s3",
        ACCESS_KEY,
        SECRET,
        "PUT",
        "/conn-bkt/k",
        Vec::new(),
        vec![b'z'; 70_000],
        chrono::Utc::now(),
    );
    let resp = conn.call(&put).await.expect("PutObject answered");
    assert!((400..500).contains(&resp.status), "{}", resp.text());
    let resp = conn.call(&list).await.expect("still usable");
    assert_eq!(resp.status, 200);
}

#[tokio::test]
async fn a_body_too_large_to_drain_gets_connection_close() {
    let server = Server::start();
    let mut conn = RawConn::connect(&server.addr).await;
    let size = 8 * 1024 * 1024;
    let put = s3_unsigned(&server.addr, "PUT", "/no-such-bucket/big", Vec::new());
    // Only the head is sent: the server must answer without waiting for 8 MiB.
    conn.write(&RawConn::head(&put, size)).await.unwrap();
    let resp = conn.response(false).await.expect("answered early");
    assert_eq!(resp.status, 404, "{}", resp.text());
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(conn.is_closed_by_server().await);
}

#[tokio::test]
async fn an_expect_continue_upload_refused_early_is_not_asked_for_its_body() {
    let server = Server::start();
    let mut conn = RawConn::connect(&server.addr).await;
    let mut put = s3_unsigned(&server.addr, "PUT", "/no-such-bucket/k", Vec::new());
    put.headers.push(("expect".into(), "100-continue".into()));
    conn.write(&RawConn::head(&put, 1000)).await.unwrap();
    let resp = conn.response(false).await.expect("answered");
    assert_eq!(resp.status, 404, "{}", resp.text());
    assert_eq!(resp.header("connection"), Some("close"));
}

#[tokio::test]
async fn protocol_errors_carry_aws_messages() {
    let server = Server::start();
    let (status, body) = server.s3("PUT", "/Not_A_Valid_Bucket", b"").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>InvalidBucketName</Code>"), "{body}");
    assert!(
        body.contains("<Message>The specified bucket is not valid.</Message>"),
        "{body}"
    );
}
