//! S3 Bucket Keys: with `BucketKeyEnabled`, S3 asks KMS for one bucket-level key (its
//! `GenerateDataKey` bound to the bucket ARN, as CloudTrail then records it) and derives each
//! object's key from it, so N writes cost one KMS call instead of N; objects stay readable
//! after a restart (the wrapped key is stored with them), readers still need `kms:Decrypt`,
//! and nothing is stored in the clear.

use serde_json::{Value, json};

use crate::harness::Server;
use crate::kms_util::write_master_key;
use crate::s3_sse_copy_multipart::{assert_not_at_rest, call, new_key, plaintext, text};
use crate::s3_util::{header as h, new_user, s3_as};

const N: usize = 12;

/// Every KMS event S3 made for the caller with `name`, through LookupEvents.
async fn kms_events(server: &Server, name: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut body = json!({"LookupAttributes": [
        {"AttributeKey": "EventName", "AttributeValue": name}], "MaxResults": 50});
    loop {
        let (s, page) = server.ct("LookupEvents", body.clone()).await;
        assert_eq!(s, 200, "{page}");
        for e in page["Events"].as_array().unwrap() {
            let record: Value =
                serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap();
            if record["eventSource"] == "kms.amazonaws.com"
                && record["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
            {
                out.push(record);
            }
        }
        match page["NextToken"].as_str() {
            Some(t) => body["NextToken"] = json!(t),
            None => break,
        }
    }
    out
}

fn s3_arns(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|r| {
            r["requestParameters"]["encryptionContext"]["aws:s3:arn"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn master_key() -> (tempfile::TempDir, String) {
    let keys = tempfile::tempdir().unwrap();
    let path = keys.path().join("master.key");
    write_master_key(&path);
    let arg = path.to_str().unwrap().to_owned();
    (keys, arg)
}

#[tokio::test]
async fn n_writes_with_a_bucket_key_ask_kms_once_and_without_n_times() {
    let (_keys, master) = master_key();
    let mut server = Server::start_with(&["--kms-master-key-file", &master]);
    for b in ["/keyed", "/unkeyed"] {
        assert_eq!(server.s3("PUT", b, b"").await.0, 200);
    }
    let (_, key_arn) = new_key(&server, json!({})).await;
    let bodies: Vec<Vec<u8>> = (0..N)
        .map(|i| plaintext(20_000 + i * 1000, &format!("object {i}")))
        .collect();
    for (bucket, bucket_key) in [("keyed", "true"), ("unkeyed", "false")] {
        for (i, body) in bodies.iter().enumerate() {
            let (s, hd, answer) = call(
                &server,
                "PUT",
                &format!("/{bucket}/o{i}"),
                &[
                    ("x-amz-server-side-encryption", "aws:kms"),
                    ("x-amz-server-side-encryption-aws-kms-key-id", &key_arn),
                    (
                        "x-amz-server-side-encryption-bucket-key-enabled",
                        bucket_key,
                    ),
                ],
                body,
            )
            .await;
            assert_eq!(s, 200, "{}", text(&answer));
            let reported = h(&hd, "x-amz-server-side-encryption-bucket-key-enabled");
            assert_eq!(reported, if bucket_key == "true" { "true" } else { "" });
        }
    }
    let generated = kms_events(&server, "GenerateDataKey").await;
    let arns = s3_arns(&generated);
    let keyed: Vec<_> = arns.iter().filter(|a| a.contains(":::keyed")).collect();
    let unkeyed: Vec<_> = arns.iter().filter(|a| a.contains(":::unkeyed")).collect();
    println!(
        "KMS GenerateDataKey calls for {N} PutObjects: {} with a bucket key, {} without",
        keyed.len(),
        unkeyed.len()
    );
    assert_eq!(
        keyed,
        ["arn:aws:s3:::keyed"],
        "one call, bound to the bucket ARN"
    );
    assert_eq!(unkeyed.len(), N, "{unkeyed:?}");
    for i in 0..N {
        assert!(unkeyed.contains(&&format!("arn:aws:s3:::unkeyed/o{i}")));
    }
    let keyed_event = generated
        .iter()
        .find(|r| r["requestParameters"]["encryptionContext"]["aws:s3:arn"] == "arn:aws:s3:::keyed")
        .unwrap();
    assert_eq!(keyed_event["resources"][0]["ARN"], key_arn.as_str());

    // Reads: the writer holds the bucket key; HeadObject and GetObject report it.
    for (i, body) in bodies.iter().enumerate() {
        let (s, hd, got) = call(&server, "GET", &format!("/keyed/o{i}"), &[], b"").await;
        assert_eq!(s, 200);
        assert!(got == *body, "object {i} reads back");
        assert_eq!(
            h(&hd, "x-amz-server-side-encryption-bucket-key-enabled"),
            "true"
        );
        assert_eq!(
            h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"),
            key_arn
        );
    }
    let (s, hd, _) = call(&server, "HEAD", "/keyed/o0", &[], b"").await;
    assert_eq!(s, 200);
    assert_eq!(
        h(&hd, "x-amz-server-side-encryption-bucket-key-enabled"),
        "true"
    );
    let decrypts = s3_arns(&kms_events(&server, "Decrypt").await);
    assert!(
        !decrypts.iter().any(|a| a.contains(":::keyed")),
        "the writer reads with the key it holds: {decrypts:?}"
    );
    for (i, body) in bodies.iter().enumerate() {
        assert_not_at_rest(&server, body, &format!("bucket-key object {i}"));
    }

    // After a restart (nothing held), every object still opens: one Decrypt of the bucket
    // key, with the bucket ARN, for all of them.
    server.kill9_and_restart();
    for (i, body) in bodies.iter().enumerate() {
        let (s, _, got) = call(&server, "GET", &format!("/keyed/o{i}"), &[], b"").await;
        assert_eq!(s, 200, "{}", text(&got));
        assert!(got == *body, "object {i} reads back after the restart");
    }
    let decrypts = s3_arns(&kms_events(&server, "Decrypt").await);
    let keyed: Vec<_> = decrypts.iter().filter(|a| a.contains(":::keyed")).collect();
    println!(
        "KMS Decrypt calls for {N} GetObjects after a restart: {}",
        keyed.len()
    );
    assert_eq!(keyed, ["arn:aws:s3:::keyed"]);
}

#[tokio::test]
async fn a_bucket_default_rule_with_bucket_key_enabled_uses_one() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/ruled", b"").await.0, 200);
    let (_, key_arn) = new_key(&server, json!({})).await;
    let config = format!(
        "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>\
         <SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>{key_arn}</KMSMasterKeyID>\
         </ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled>\
         </Rule></ServerSideEncryptionConfiguration>"
    );
    let (s, body) = server
        .s3("PUT", "/ruled?encryption", config.as_bytes())
        .await;
    assert_eq!(s, 200, "{body}");
    for i in 0..5 {
        let (s, hd, body) = call(&server, "PUT", &format!("/ruled/o{i}"), &[], b"ruled").await;
        assert_eq!(s, 200, "{}", text(&body));
        assert_eq!(
            h(&hd, "x-amz-server-side-encryption-bucket-key-enabled"),
            "true"
        );
    }
    // A write that turns the bucket key off gets a data key of its own.
    let (s, hd, _) = call(
        &server,
        "PUT",
        "/ruled/own",
        &[("x-amz-server-side-encryption-bucket-key-enabled", "false")],
        b"own",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        h(&hd, "x-amz-server-side-encryption-bucket-key-enabled"),
        ""
    );
    let arns = s3_arns(&kms_events(&server, "GenerateDataKey").await);
    let mut arns: Vec<&str> = arns.iter().map(String::as_str).collect();
    arns.sort();
    assert_eq!(arns, ["arn:aws:s3:::ruled", "arn:aws:s3:::ruled/own"]);
    let (s, _, got) = call(&server, "GET", "/ruled/o3", &[], b"").await;
    assert_eq!((s, got.as_slice()), (200, &b"ruled"[..]));
}

/// A user whose identity policy allows `actions`; its (access key id, secret).
fn user(server: &Server, name: &str, actions: &[&str]) -> (String, String) {
    let who = new_user(server, name);
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": "*"}]})
    .to_string();
    server.admin_iam(&[
        "put-user-policy",
        name,
        "--policy-name",
        "p",
        "--policy-document",
        &policy,
    ]);
    who
}

#[tokio::test]
async fn a_held_bucket_key_does_not_spare_another_principal_kms_authorization() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/shared", b"").await.0, 200);
    // The default key policy delegates to the account's IAM policies.
    let (_, key_arn) = new_key(&server, json!({})).await;
    let sealed = [
        ("x-amz-server-side-encryption", "aws:kms"),
        (
            "x-amz-server-side-encryption-aws-kms-key-id",
            key_arn.as_str(),
        ),
        ("x-amz-server-side-encryption-bucket-key-enabled", "true"),
    ];
    // The root writes (and holds the bucket key).
    let (s, _, body) = call(&server, "PUT", "/shared/by-root", &sealed, b"root's secret").await;
    assert_eq!(s, 200, "{}", text(&body));

    let s3_only = user(&server, "s3-only", &["s3:*"]);
    let (s, body) = s3_as(&server, &s3_only, "GET", "/shared/by-root", &[], b"").await;
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(body.contains("kms:Decrypt"), "{body}");
    let (s, body) = s3_as(&server, &s3_only, "PUT", "/shared/by-user", &sealed, b"x").await;
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("kms:GenerateDataKey"), "{body}");
    // HeadObject needs no KMS call.
    assert_eq!(
        s3_as(&server, &s3_only, "HEAD", "/shared/by-root", &[], b"")
            .await
            .0,
        200
    );

    // A user with kms:Decrypt reads; with GenerateDataKey too it writes, under a bucket key of
    // its own (its own KMS call).
    let reader = user(
        &server,
        "reader",
        &["s3:*", "kms:Decrypt", "kms:GenerateDataKey"],
    );
    let (s, body) = s3_as(&server, &reader, "GET", "/shared/by-root", &[], b"").await;
    assert_eq!((s, body.as_str()), (200, "root's secret"));
    let (s, body) = s3_as(&server, &reader, "PUT", "/shared/by-reader", &sealed, b"r").await;
    assert_eq!(s, 200, "{body}");
    let generated = kms_events(&server, "GenerateDataKey").await;
    let ok: Vec<&str> = generated
        .iter()
        .filter(|r| r.get("errorCode").is_none())
        .map(|r| r["userIdentity"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(ok.len(), 2, "{generated:?}");
    assert!(ok.contains(&"Root") && ok.contains(&"IAMUser"), "{ok:?}");
    assert!(
        generated
            .iter()
            .any(|r| r["errorCode"] == "AccessDenied"
                && r["userIdentity"]["userName"] == "s3-only"),
        "the refused call is recorded"
    );
}
