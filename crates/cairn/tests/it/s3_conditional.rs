//! Conditional writes that lose a race: the condition held when the upload was admitted but
//! not when it commits (another write landed while its body streamed), which S3 answers
//! `409 ConditionalRequestConflict` and leaves the other write in place.

use crate::harness::*;
use crate::raw_http::RawConn;
use crate::s3_util::*;

#[tokio::test]
async fn a_conditional_put_raced_by_another_write_is_a_conflict() {
    let server = Server::start();
    let (s, _) = server.s3("PUT", "/race-bkt", b"").await;
    assert_eq!(s, 200);
    let mut conn = RawConn::connect(&server.addr).await;
    let mut put = s3_unsigned(&server.addr, "PUT", "/race-bkt/k", Vec::new());
    put.headers.push(("if-none-match".into(), "*".into()));
    put.headers.push(("expect".into(), "100-continue".into()));
    let body = b"conditional";
    conn.write(&RawConn::head(&put, body.len())).await.unwrap();
    // The server asks for the body only after the condition was checked on admission.
    let go = conn.response(false).await.expect("100 Continue");
    assert_eq!(go.status, 100, "{}", go.text());
    let (s, text) = server.s3("PUT", "/race-bkt/k", b"the other write").await;
    assert_eq!(s, 200, "{text}");
    conn.write(body).await.unwrap();
    let resp = conn.response(false).await.expect("answered");
    assert_eq!(resp.status, 409, "{}", resp.text());
    assert!(
        resp.text()
            .contains("<Code>ConditionalRequestConflict</Code>"),
        "{}",
        resp.text()
    );
    let (s, text) = server.s3("GET", "/race-bkt/k", b"").await;
    assert_eq!((s, text.as_str()), (200, "the other write"));
}
