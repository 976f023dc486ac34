//! Trails with a KMS key (spec iam-kms.md §9.2): CreateTrail's checks of `KmsKeyId` with
//! AWS's errors, log files sealed at rest (digest files SSE-S3, as CloudTrail writes them)
//! and opened by GetObject for a reader the key policy lets decrypt, CloudTrail's and S3's
//! KMS calls recorded, and a disabled key that holds delivery back (with the error in
//! GetTrailStatus) until it is enabled again, losing nothing.

use serde_json::{Value, json};

use crate::delivery_notify::keys;
use crate::harness::{Server, error_type, sign_s3};
use crate::kms_util::kms;
use crate::s3_util::stored_records;

const ACCT: &str = "123456789012";

/// The key policy of the CloudTrail guide (the console's first four statements) for trails
/// of this account.
fn guide_key_policy(trail: &str) -> String {
    json!({"Version":"2012-10-17","Id":"Key policy created by CloudTrail","Statement":[
        {"Sid":"Enable IAM user permissions","Effect":"Allow",
         "Principal":{"AWS":[format!("arn:aws:iam::{ACCT}:root")]},"Action":"kms:*","Resource":"*"},
        {"Sid":"Allow CloudTrail to encrypt logs","Effect":"Allow",
         "Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*",
         "Condition":{"StringEquals":{"aws:SourceArn":format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/{trail}")},
                      "StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":format!("arn:aws:cloudtrail:*:{ACCT}:trail/*")}}},
        {"Sid":"Allow CloudTrail to describe key","Effect":"Allow",
         "Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:DescribeKey","Resource":"*"},
        {"Sid":"Allow principals in the account to decrypt log files","Effect":"Allow",
         "Principal":{"AWS":"*"},"Action":["kms:Decrypt","kms:ReEncryptFrom"],"Resource":"*",
         "Condition":{"StringEquals":{"kms:CallerAccount":ACCT},
                      "StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":format!("arn:aws:cloudtrail:*:{ACCT}:trail/*")}}}
    ]})
    .to_string()
}

async fn new_key(server: &Server, policy: Option<String>) -> (String, String) {
    let c = reqwest::Client::new();
    let body = match policy {
        Some(p) => json!({"Policy": p}),
        None => json!({}),
    };
    let (s, v) = kms(&c, &server.addr, "CreateKey", body).await;
    assert_eq!(s, 200, "{v}");
    let m = &v["KeyMetadata"];
    (
        m["KeyId"].as_str().unwrap().to_owned(),
        m["Arn"].as_str().unwrap().to_owned(),
    )
}

async fn kms_ok(server: &Server, op: &str, body: Value) {
    let (s, v) = kms(&reqwest::Client::new(), &server.addr, op, body).await;
    assert_eq!(s, 200, "{op}: {v}");
}

async fn ct_ok(server: &Server, op: &str, body: Value) -> Value {
    let (s, v) = server.ct(op, body).await;
    assert_eq!(s, 200, "{op}: {v}");
    v
}

async fn get(
    server: &Server,
    path: &str,
    method: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    server
        .send(sign_s3(
            &server.addr,
            "us-east-1",
            method,
            path,
            Vec::new(),
            chrono::Utc::now(),
        ))
        .await
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn flush(server: &mut Server) {
    let now = chrono::Utc::now().timestamp() as f64 + 2.0;
    server.flush(&["--now", &now.to_string()]);
}

/// Every object file of the data dir, as bytes.
fn object_files(server: &Server) -> Vec<Vec<u8>> {
    let dir = server.data_dir().join("objects");
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[tokio::test]
async fn a_trail_with_a_key_seals_its_files_and_readers_open_them() {
    let mut server = Server::start_with(&["--delivery-interval", "86400"]);
    server.bucket_for_trails("enc-logs").await;
    let (key_id, key_arn) = new_key(&server, Some(guide_key_policy("enc"))).await;
    kms_ok(
        &server,
        "CreateAlias",
        json!({"AliasName": "alias/trail-key", "TargetKeyId": key_id}),
    )
    .await;
    let created = ct_ok(
        &server,
        "CreateTrail",
        json!({"Name": "enc", "S3BucketName": "enc-logs", "KmsKeyId": "alias/trail-key",
               "EnableLogFileValidation": true}),
    )
    .await;
    assert_eq!(created["KmsKeyId"], json!(key_arn), "stored as the key ARN");
    let got = ct_ok(&server, "GetTrail", json!({"Name": "enc"})).await;
    assert_eq!(got["Trail"]["KmsKeyId"], json!(key_arn));
    let described = ct_ok(&server, "DescribeTrails", json!({})).await;
    assert_eq!(described["trailList"][0]["KmsKeyId"], json!(key_arn));
    ct_ok(&server, "StartLogging", json!({"Name": "enc"})).await;
    ct_ok(
        &server,
        "DescribeTrails",
        json!({"trailNameList": ["marker-call"]}),
    )
    .await;
    flush(&mut server);

    let logs = keys(&server, "enc-logs", &format!("AWSLogs/{ACCT}/CloudTrail/")).await;
    let digests = keys(
        &server,
        "enc-logs",
        &format!("AWSLogs/{ACCT}/CloudTrail-Digest/"),
    )
    .await;
    assert!(
        !logs.is_empty() && !digests.is_empty(),
        "{logs:?} {digests:?}"
    );
    // "Enabling server-side encryption encrypts the log files but not the digest files with
    // SSE-KMS. Digest files are encrypted with Amazon S3-managed encryption keys (SSE-S3)"
    // (CloudTrail User Guide; kms8).
    for key in &digests {
        let (s, h, _) = get(&server, &format!("/enc-logs/{key}"), "HEAD").await;
        assert_eq!(s, 200);
        assert_eq!(header(&h, "x-amz-server-side-encryption"), "AES256");
        assert_eq!(
            header(&h, "x-amz-server-side-encryption-aws-kms-key-id"),
            ""
        );
    }
    let files = object_files(&server);
    for key in &logs {
        let path = format!("/enc-logs/{key}");
        let (s, h, _) = get(&server, &path, "HEAD").await;
        assert_eq!(s, 200);
        assert_eq!(header(&h, "x-amz-server-side-encryption"), "aws:kms");
        assert_eq!(
            header(&h, "x-amz-server-side-encryption-aws-kms-key-id"),
            key_arn
        );
        let (s, h, body) = get(&server, &path, "GET").await;
        assert_eq!(s, 200);
        assert_eq!(header(&h, "x-amz-server-side-encryption"), "aws:kms");
        assert_eq!(header(&h, "content-length"), body.len().to_string());
        let plain = cairn_logfile::verify::gunzip(&body).unwrap();
        let v: Value = serde_json::from_slice(&plain).unwrap();
        assert!(v.is_object());
        // At rest: no object file holds the file's bytes.
        let probe = &body[..body.len().min(48)];
        assert!(
            !files
                .iter()
                .any(|f| f.windows(probe.len()).any(|w| w == probe)),
            "{key} is stored in the clear"
        );
        // A range read opens only the frames it needs.
        let (s, _, part) = server
            .send({
                let mut r = sign_s3(
                    &server.addr,
                    "us-east-1",
                    "GET",
                    &path,
                    Vec::new(),
                    chrono::Utc::now(),
                );
                r.headers.push(("range".into(), "bytes=3-9".into()));
                r
            })
            .await;
        assert_eq!(s, 206);
        assert_eq!(part, body[3..10]);
    }
    let (logs_body, events) = {
        let (_, _, gz) = get(&server, &format!("/enc-logs/{}", logs[0]), "GET").await;
        let v: Value =
            serde_json::from_slice(&cairn_logfile::verify::gunzip(&gz).unwrap()).unwrap();
        (v.clone(), v["Records"].as_array().unwrap().len())
    };
    assert!(events > 0, "{logs_body}");

    // CloudTrail's own GenerateDataKey calls, with the service identity, and S3's Decrypt
    // calls for the reader, with the reader's identity and S3's mark.
    let records = stored_records(&server, "Management");
    let kms_calls: Vec<&Value> = records
        .iter()
        .filter(|r| r["eventSource"] == "kms.amazonaws.com")
        .collect();
    let by_cloudtrail: Vec<&&Value> = kms_calls
        .iter()
        .filter(|r| r["eventName"] == "GenerateDataKey")
        .collect();
    // The check at CreateTrail, then one per delivered log file (digests are SSE-S3).
    assert_eq!(by_cloudtrail.len(), 1 + logs.len(), "{by_cloudtrail:?}");
    for r in &by_cloudtrail {
        assert_eq!(r["userIdentity"]["type"], "AWSService");
        assert_eq!(r["userIdentity"]["invokedBy"], "cloudtrail.amazonaws.com");
        assert_eq!(r["resources"][0]["ARN"], json!(key_arn));
        assert!(r.get("errorCode").is_none_or(Value::is_null), "{r}");
        assert_eq!(
            r["requestParameters"]["encryptionContext"]["aws:cloudtrail:arn"],
            json!(format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/enc"))
        );
    }
    let decrypts: Vec<&&Value> = kms_calls
        .iter()
        .filter(|r| r["eventName"] == "Decrypt")
        .collect();
    assert!(!decrypts.is_empty());
    for r in decrypts {
        assert_eq!(r["userIdentity"]["type"], "Root");
        assert_eq!(r["userIdentity"]["invokedBy"], "s3.amazonaws.com");
        assert_eq!(r["sourceIPAddress"], "s3.amazonaws.com");
    }
}

#[tokio::test]
async fn create_trail_checks_the_key_as_aws_does() {
    let server = Server::start();
    server.bucket_for_trails("checked-logs").await;
    let create =
        |key: &str| json!({"Name": "checked", "S3BucketName": "checked-logs", "KmsKeyId": key});
    let expect = |v: &Value, s: u16, code: &str| {
        assert_eq!(s, 400, "{v}");
        assert_eq!(error_type(v), code, "{v}");
    };
    let (s, v) = server.ct("CreateTrail", create("not a key!")).await;
    expect(&v, s, "InvalidKmsKeyIdException");
    let (s, v) = server.ct("CreateTrail", create("alias/nobody")).await;
    expect(&v, s, "KmsKeyNotFoundException");
    let (s, v) = server
        .ct(
            "CreateTrail",
            create("1234abcd-12ab-34cd-56ef-1234567890ab"),
        )
        .await;
    expect(&v, s, "KmsKeyNotFoundException");

    // The default key policy does not let CloudTrail use the key.
    let (_, default_arn) = new_key(&server, None).await;
    let (s, v) = server.ct("CreateTrail", create(&default_arn)).await;
    expect(&v, s, "InsufficientEncryptionPolicyException");
    assert_eq!(
        v["Message"].as_str().or(v["message"].as_str()).unwrap(),
        format!(
            "Insufficient permissions to access S3 bucket checked-logs or KMS key {default_arn}."
        )
    );

    // A key whose policy names another trail: DescribeKey passes, GenerateDataKey does not.
    let (_, other_arn) = new_key(&server, Some(guide_key_policy("someone-else"))).await;
    let (s, v) = server.ct("CreateTrail", create(&other_arn)).await;
    expect(&v, s, "InsufficientEncryptionPolicyException");

    // A disabled key.
    let (good_id, good_arn) = new_key(&server, Some(guide_key_policy("checked"))).await;
    kms_ok(&server, "DisableKey", json!({"KeyId": good_id})).await;
    let (s, v) = server.ct("CreateTrail", create(&good_id)).await;
    expect(&v, s, "KmsException");
    assert!(v.to_string().contains("is disabled."), "{v}");
    let (s, v) = server.ct("GetTrail", json!({"Name": "checked"})).await;
    assert_eq!(s, 400, "nothing was created: {v}");

    kms_ok(&server, "EnableKey", json!({"KeyId": good_id})).await;
    let v = ct_ok(&server, "CreateTrail", create(&good_id)).await;
    assert_eq!(v["KmsKeyId"], json!(good_arn));
    // UpdateTrail checks a new key the same way; an empty KmsKeyId removes encryption.
    let (s, v) = server
        .ct(
            "UpdateTrail",
            json!({"Name": "checked", "KmsKeyId": default_arn}),
        )
        .await;
    expect(&v, s, "InsufficientEncryptionPolicyException");
    let v = ct_ok(
        &server,
        "UpdateTrail",
        json!({"Name": "checked", "KmsKeyId": ""}),
    )
    .await;
    assert!(v.get("KmsKeyId").is_none(), "{v}");
}

#[tokio::test]
async fn a_disabled_key_holds_delivery_back_and_loses_nothing() {
    let mut server = Server::start_with(&["--delivery-interval", "86400"]);
    server.bucket_for_trails("held-logs").await;
    let (key_id, _) = new_key(&server, Some(guide_key_policy("held"))).await;
    ct_ok(
        &server,
        "CreateTrail",
        json!({"Name": "held", "S3BucketName": "held-logs", "KmsKeyId": key_id}),
    )
    .await;
    ct_ok(&server, "StartLogging", json!({"Name": "held"})).await;
    kms_ok(&server, "DisableKey", json!({"KeyId": key_id})).await;
    ct_ok(
        &server,
        "DescribeTrails",
        json!({"trailNameList": ["while-disabled"]}),
    )
    .await;
    flush(&mut server);

    let status = ct_ok(&server, "GetTrailStatus", json!({"Name": "held"})).await;
    assert_eq!(
        status["LatestDeliveryError"], "KMS.DisabledException",
        "{status}"
    );
    let logs = keys(&server, "held-logs", &format!("AWSLogs/{ACCT}/CloudTrail/")).await;
    assert!(logs.is_empty(), "nothing is written unsealed: {logs:?}");
    assert!(
        !object_files(&server)
            .iter()
            .any(|f| f.starts_with(&[0x1f, 0x8b])),
        "no gzip file in the clear"
    );

    kms_ok(&server, "EnableKey", json!({"KeyId": key_id})).await;
    flush(&mut server);
    let status = ct_ok(&server, "GetTrailStatus", json!({"Name": "held"})).await;
    assert!(
        status.get("LatestDeliveryError").is_none_or(Value::is_null),
        "{status}"
    );
    let mut names = Vec::new();
    for key in keys(&server, "held-logs", &format!("AWSLogs/{ACCT}/CloudTrail/")).await {
        let (s, _, gz) = get(&server, &format!("/held-logs/{key}"), "GET").await;
        assert_eq!(s, 200);
        let v: Value =
            serde_json::from_slice(&cairn_logfile::verify::gunzip(&gz).unwrap()).unwrap();
        for r in v["Records"].as_array().unwrap() {
            names.push(format!(
                "{}:{}",
                r["eventName"].as_str().unwrap(),
                r["requestParameters"]["trailNameList"][0]
                    .as_str()
                    .unwrap_or("")
            ));
        }
    }
    let marked = names
        .iter()
        .filter(|n| *n == "DescribeTrails:while-disabled")
        .count();
    assert_eq!(marked, 1, "delivered exactly once: {names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("DisableKey")),
        "{names:?}"
    );
}
