//! SSE-KMS on PutObject (spec iam-kms.md §8): `x-amz-server-side-encryption: aws:kms` with or
//! without a key id and context; the body sealed at rest, opened by GetObject as the caller;
//! a disabled key refused with S3's `KMS.`-prefixed code; S3's KMS calls recorded with the
//! caller's identity and S3's mark.

use serde_json::json;

use crate::harness::{Server, sign_s3};
use crate::kms_util::kms;
use crate::s3_util::{s3_request, stored_records};

async fn put(
    server: &Server,
    path: &str,
    headers: Vec<(&str, String)>,
    body: &[u8],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let headers = headers
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let req = s3_request(&server.addr, "PUT", path, headers, body.to_vec());
    server.send(req).await
}

use crate::s3_util::header as h;

#[tokio::test]
async fn aws_kms_uploads_are_sealed_and_opened_for_the_caller() {
    use base64::Engine;
    let server = Server::start();
    let (s, _) = server.s3("PUT", "/sealed", b"").await;
    assert_eq!(s, 200);
    let plain: Vec<u8> = (0..200_000u32)
        .flat_map(|i| format!("line {i} of a secret\n").into_bytes())
        .take(200_000)
        .collect();

    // No key id: the account's alias/aws/s3 key, created on first use.
    let (s, hd, body) = put(
        &server,
        "/sealed/default",
        vec![("x-amz-server-side-encryption", "aws:kms".into())],
        &plain,
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
    let managed = h(&hd, "x-amz-server-side-encryption-aws-kms-key-id").to_owned();
    assert!(
        managed.starts_with("arn:aws:kms:us-east-1:123456789012:key/"),
        "{managed}"
    );

    // A named key (by alias) and a caller's context; Content-MD5 is of the plaintext.
    let (s, v) = kms(
        &reqwest::Client::new(),
        &server.addr,
        "CreateKey",
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let (key_id, key_arn) = (
        v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned(),
        v["KeyMetadata"]["Arn"].as_str().unwrap().to_owned(),
    );
    let (s, _) = kms(
        &reqwest::Client::new(),
        &server.addr,
        "CreateAlias",
        json!({"AliasName": "alias/objects", "TargetKeyId": key_id}),
    )
    .await;
    assert_eq!(s, 200);
    let md5 = {
        use md5::Digest;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&plain))
    };
    let context = base64::engine::general_purpose::STANDARD.encode(br#"{"project":"cairn"}"#);
    let (s, hd, body) = put(
        &server,
        "/sealed/named",
        vec![
            ("x-amz-server-side-encryption", "aws:kms".into()),
            (
                "x-amz-server-side-encryption-aws-kms-key-id",
                "alias/objects".into(),
            ),
            ("x-amz-server-side-encryption-context", context),
            ("content-md5", md5),
        ],
        &plain,
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"),
        key_arn
    );

    for (path, arn) in [
        ("/sealed/default", managed.as_str()),
        ("/sealed/named", key_arn.as_str()),
    ] {
        let (s, hd, got) = server
            .send(sign_s3(
                &server.addr,
                "us-east-1",
                "GET",
                path,
                Vec::new(),
                chrono::Utc::now(),
            ))
            .await;
        assert_eq!(s, 200);
        assert_eq!(got, plain);
        assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
        assert_eq!(h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"), arn);
        let mut ranged = sign_s3(
            &server.addr,
            "us-east-1",
            "GET",
            path,
            Vec::new(),
            chrono::Utc::now(),
        );
        ranged
            .headers
            .push(("range".into(), "bytes=65530-131080".into()));
        let (s, _, part) = server.send(ranged).await;
        assert_eq!(s, 206);
        assert_eq!(part, plain[65530..=131080]);
    }
    // At rest: no object file holds the plaintext.
    let probe = &plain[1000..1064];
    for e in std::fs::read_dir(server.data_dir().join("objects"))
        .unwrap()
        .flatten()
    {
        if e.path().is_file() {
            let f = std::fs::read(e.path()).unwrap();
            assert!(
                !f.windows(probe.len()).any(|w| w == probe),
                "plaintext at rest"
            );
        }
    }

    // A disabled key: writes and reads refused with S3's KMS codes.
    let (s, _) = kms(
        &reqwest::Client::new(),
        &server.addr,
        "DisableKey",
        json!({"KeyId": key_id}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _, body) = put(
        &server,
        "/sealed/more",
        vec![
            ("x-amz-server-side-encryption", "aws:kms".into()),
            (
                "x-amz-server-side-encryption-aws-kms-key-id",
                key_arn.clone(),
            ),
        ],
        b"x",
    )
    .await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(s, 400, "{text}");
    assert!(
        text.contains("<Code>KMS.DisabledException</Code>"),
        "{text}"
    );
    let (s, body) = server.s3("GET", "/sealed/named", b"").await;
    assert_eq!(s, 400);
    assert!(
        body.contains("<Code>KMS.DisabledException</Code>"),
        "{body}"
    );
    let (s, _) = server.s3("GET", "/sealed/more", b"").await;
    assert_eq!(s, 404, "nothing was stored");

    // S3's KMS calls, as the caller via S3.
    let records = stored_records(&server, "Management");
    let by_s3: Vec<_> = records
        .iter()
        .filter(|r| {
            r["eventSource"] == "kms.amazonaws.com"
                && r["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
        })
        .collect();
    let names: Vec<&str> = by_s3
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    assert!(
        names.iter().filter(|n| **n == "GenerateDataKey").count() >= 3,
        "{names:?}"
    );
    assert!(names.contains(&"Decrypt"), "{names:?}");
    assert!(
        by_s3.iter().any(|r| r["errorCode"] == "DisabledException"),
        "{names:?}"
    );
    for r in &by_s3 {
        assert_eq!(r["userIdentity"]["type"], "Root");
        assert!(
            r["requestParameters"]["encryptionContext"]["aws:s3:arn"]
                .as_str()
                .unwrap()
                .starts_with("arn:aws:s3:::sealed/")
        );
    }
}

#[tokio::test]
async fn a_bucket_default_aws_kms_rule_seals_uploads_without_headers() {
    let server = Server::start();
    let (s, _) = server.s3("PUT", "/defaulted", b"").await;
    assert_eq!(s, 200);
    let c = reqwest::Client::new();
    let (s, v) = kms(&c, &server.addr, "CreateKey", json!({})).await;
    assert_eq!(s, 200);
    let key_arn = v["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    let config = format!(
        "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>\
         <SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>{key_arn}</KMSMasterKeyID>\
         </ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule>\
         </ServerSideEncryptionConfiguration>"
    );
    let (s, body) = server
        .s3("PUT", "/defaulted?encryption", config.as_bytes())
        .await;
    assert_eq!(s, 200, "{body}");

    let plain = b"a line that must not be stored as written\n".repeat(500);
    let (s, hd, body) = put(&server, "/defaulted/plain-put", Vec::new(), &plain).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
    assert_eq!(
        h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"),
        key_arn
    );
    assert_eq!(
        h(&hd, "x-amz-server-side-encryption-bucket-key-enabled"),
        "true"
    );
    // Opened for the caller, and not on disk as written.
    let req = sign_s3(
        &server.addr,
        "us-east-1",
        "GET",
        "/defaulted/plain-put",
        Vec::new(),
        chrono::Utc::now(),
    );
    let (s, hd, got) = server.send(req).await;
    assert_eq!(s, 200);
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
    assert_eq!(got, plain);
    let probe = &plain[..64];
    for entry in walk(&server.data_dir().join("objects")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(probe.len()).any(|w| w == probe),
            "{} holds the plaintext",
            entry.display()
        );
    }
    // An explicit header still wins over the default.
    let (s, hd, _) = put(
        &server,
        "/defaulted/as-s3",
        vec![("x-amz-server-side-encryption", "AES256".into())],
        b"x",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "AES256");
    // S3's GenerateDataKey for the default rule is recorded as the caller's.
    let kms_events: Vec<_> = stored_records(&server, "Management")
        .into_iter()
        .filter(|r| r["eventName"] == "GenerateDataKey")
        .collect();
    assert_eq!(
        kms_events.len(),
        1,
        "one data key for the one sealed upload"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
