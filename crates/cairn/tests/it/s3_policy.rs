//! Bucket policies grant to other principals: an `Allow` naming an IAM user lets that user
//! (who has no identity policy) use the bucket, a `*` principal lets anyone with a key read
//! what it names, and nobody else gets in.

use serde_json::json;

use crate::harness::*;
use crate::s3_util::{new_user as user, s3_as};

async fn call(
    server: &Server,
    who: &(String, String),
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, String) {
    s3_as(server, who, method, path, &[], body).await
}

#[tokio::test]
async fn a_bucket_policy_allow_grants_the_principals_it_names_and_no_others() {
    let server = Server::start();
    let alice = user(&server, "alice");
    let bob = user(&server, "bob");
    assert_eq!(server.s3("PUT", "/shared-bkt", b"").await.0, 200);
    assert_eq!(server.s3("PUT", "/private-bkt", b"").await.0, 200);
    assert_eq!(
        server
            .s3("PUT", "/shared-bkt/public/readme", b"hello")
            .await
            .0,
        200
    );
    assert_eq!(
        server.s3("PUT", "/shared-bkt/secret", b"s3cr3t").await.0,
        200
    );
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AliceReadsAndWrites", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"},
         "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::shared-bkt/*"},
        {"Sid": "AnyoneReadsPublic", "Effect": "Allow", "Principal": "*",
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-bkt/public/*"}]});
    let (s, body) = server
        .s3("PUT", "/shared-bkt?policy", policy.to_string().as_bytes())
        .await;
    assert_eq!(s, 204, "{body}");

    // Alice, named by the policy, reads and writes though no identity policy lets her.
    assert_eq!(
        call(&server, &alice, "PUT", "/shared-bkt/from-alice", b"a")
            .await
            .0,
        200
    );
    assert_eq!(
        call(&server, &alice, "GET", "/shared-bkt/secret", b"").await,
        (200, "s3cr3t".to_owned())
    );
    // Only what the policy lists: not DeleteObject, not another bucket.
    let (s, body) = call(&server, &alice, "DELETE", "/shared-bkt/secret", b"").await;
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert_eq!(
        call(&server, &alice, "GET", "/private-bkt/anything", b"")
            .await
            .0,
        403
    );
    // Bob is covered only by the `*` statement.
    assert_eq!(
        call(&server, &bob, "GET", "/shared-bkt/public/readme", b"").await,
        (200, "hello".to_owned())
    );
    assert_eq!(
        call(&server, &bob, "GET", "/shared-bkt/secret", b"")
            .await
            .0,
        403
    );
    assert_eq!(
        call(&server, &bob, "PUT", "/shared-bkt/from-bob", b"b")
            .await
            .0,
        403
    );
    assert_eq!(server.s3("GET", "/shared-bkt/from-bob", b"").await.0, 404);
}
