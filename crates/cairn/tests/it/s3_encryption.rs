//! Default encryption as S3 has it since 2023-01-05: objects answer
//! `x-amz-server-side-encryption: AES256`, a never-configured bucket reports the SSE-S3 rule,
//! and Put/Get/DeleteBucketEncryption keep a configuration per bucket, recorded as
//! management events.

use serde_json::json;

use crate::harness::*;
use crate::s3_util::*;

const SSE: &str = "x-amz-server-side-encryption";

fn kms_config(key: Option<&str>, algorithm: &str) -> String {
    let key = key
        .map(|k| format!("<KMSMasterKeyID>{k}</KMSMasterKeyID>"))
        .unwrap_or_default();
    format!(
        "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>{algorithm}</SSEAlgorithm>{key}</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>"
    )
}

async fn put_config(server: &Server, bucket: &str, xml: &str) -> (u16, String) {
    let crc = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        crc32fast::hash(xml.as_bytes()).to_be_bytes(),
    );
    let req = s3_request(
        &server.addr,
        "PUT",
        &format!("/{bucket}?encryption"),
        vec![("x-amz-checksum-crc32".into(), crc)],
        xml.as_bytes().to_vec(),
    );
    let (status, _, body) = server.send(req).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn object_responses_say_sse_s3() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/sse-bkt", b"").await.0, 200);
    let addr = server.addr;
    for (method, path, body) in [
        ("PUT", "/sse-bkt/k", b"encrypted at rest".to_vec()),
        ("GET", "/sse-bkt/k", Vec::new()),
        ("HEAD", "/sse-bkt/k", Vec::new()),
    ] {
        let (status, headers, _) = server
            .send(s3_request(&addr, method, path, vec![], body))
            .await;
        assert_eq!(status, 200, "{method}");
        assert_eq!(
            headers.get(SSE).map(|v| v.to_str().unwrap()),
            Some("AES256"),
            "{method}"
        );
    }
}

#[tokio::test]
async fn bucket_encryption_defaults_to_sse_s3_and_is_kept_per_bucket() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/enc-bkt", b"").await.0, 200);
    assert_eq!(server.s3("PUT", "/other-bkt", b"").await.0, 200);
    let (status, body) = server.s3("GET", "/enc-bkt?encryption", b"").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<SSEAlgorithm>AES256</SSEAlgorithm>"),
        "{body}"
    );
    assert!(
        body.contains("<BucketKeyEnabled>false</BucketKeyEnabled>"),
        "{body}"
    );

    let (status, body) = put_config(
        &server,
        "enc-bkt",
        &kms_config(Some("alias/cloudtrail"), "aws:kms"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = server.s3("GET", "/enc-bkt?encryption", b"").await;
    assert!(
        body.contains("<SSEAlgorithm>aws:kms</SSEAlgorithm>"),
        "{body}"
    );
    assert!(
        body.contains("<KMSMasterKeyID>alias/cloudtrail</KMSMasterKeyID>"),
        "{body}"
    );
    assert!(
        body.contains("<BucketKeyEnabled>true</BucketKeyEnabled>"),
        "{body}"
    );
    // Per bucket: the other one still has the default.
    let (_, body) = server.s3("GET", "/other-bkt?encryption", b"").await;
    assert!(
        body.contains("<SSEAlgorithm>AES256</SSEAlgorithm>"),
        "{body}"
    );

    // Refused configurations change nothing.
    let (status, body) = put_config(&server, "enc-bkt", &kms_config(Some("k"), "AES256")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>InvalidArgument</Code>"), "{body}");
    let (status, body) = put_config(&server, "enc-bkt", &kms_config(None, "DES")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>MalformedXML</Code>"), "{body}");
    let (_, body) = server.s3("GET", "/enc-bkt?encryption", b"").await;
    assert!(
        body.contains("<SSEAlgorithm>aws:kms</SSEAlgorithm>"),
        "{body}"
    );

    // Deleting returns the bucket to the default.
    let (status, body) = server.s3("DELETE", "/enc-bkt?encryption", b"").await;
    assert_eq!(status, 204, "{body}");
    let (_, body) = server.s3("GET", "/enc-bkt?encryption", b"").await;
    assert!(
        body.contains("<SSEAlgorithm>AES256</SSEAlgorithm>"),
        "{body}"
    );
    let (status, body) = server.s3("GET", "/missing-bkt?encryption", b"").await;
    assert_eq!(status, 404, "{body}");

    // A deleted bucket takes its configuration with it.
    put_config(&server, "other-bkt", &kms_config(None, "aws:kms")).await;
    assert_eq!(server.s3("DELETE", "/other-bkt", b"").await.0, 204);
    assert_eq!(server.s3("PUT", "/other-bkt", b"").await.0, 200);
    let (_, body) = server.s3("GET", "/other-bkt?encryption", b"").await;
    assert!(
        body.contains("<SSEAlgorithm>AES256</SSEAlgorithm>"),
        "{body}"
    );

    // Each call is a management event in event history, failures included.
    let (_, page) = server
        .ct(
            "LookupEvents",
            json!({"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": "enc-bkt"}], "MaxResults": 50}),
        )
        .await;
    let names = event_names(&page);
    for name in [
        "GetBucketEncryption",
        "PutBucketEncryption",
        "DeleteBucketEncryption",
    ] {
        assert!(names.contains(&name.to_owned()), "{name} in {names:?}");
    }
    let failed = page["Events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["EventName"] == "PutBucketEncryption")
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e["CloudTrailEvent"].as_str().unwrap())
                .unwrap()
        })
        .filter(|r| r.get("errorCode").is_some())
        .count();
    assert_eq!(failed, 2);
}
