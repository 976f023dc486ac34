//! SSE on CopyObject and multipart uploads (spec iam-kms.md §8): the copy and the completed
//! upload are sealed as a PutObject would be (the request's headers, else the destination
//! bucket's default rule, never the source's encryption), a sealed source is opened with
//! `kms:Decrypt` as the caller, responses carry the headers AWS returns, bad headers and
//! unusable keys get S3's errors, and no byte of a part or an object is stored in the clear.

use serde_json::json;

use crate::harness::Server;
use crate::kms_util::kms;
use crate::s3_util::{s3_request, stored_records};

pub(crate) type Answer = (u16, reqwest::header::HeaderMap, Vec<u8>);
type Headers<'a> = &'a [(&'a str, &'a str)];

pub(crate) async fn call(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let headers = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let req = s3_request(&server.addr, method, path, headers, body.to_vec());
    server.send(req).await
}

use crate::s3_util::header as h;

pub(crate) fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

pub(crate) async fn new_key(server: &Server, body: serde_json::Value) -> (String, String) {
    let (s, v) = kms(&reqwest::Client::new(), &server.addr, "CreateKey", body).await;
    assert_eq!(s, 200, "{v}");
    (
        v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned(),
        v["KeyMetadata"]["Arn"].as_str().unwrap().to_owned(),
    )
}

pub(crate) async fn kms_ok(server: &Server, op: &str, body: serde_json::Value) {
    let (s, v) = kms(&reqwest::Client::new(), &server.addr, op, body).await;
    assert_eq!(s, 200, "{op}: {v}");
}

/// The headers of a write sealed with SSE-KMS under `key`.
pub(crate) fn sse_kms(key: &str) -> [(&'static str, &str); 2] {
    [
        ("x-amz-server-side-encryption", "aws:kms"),
        ("x-amz-server-side-encryption-aws-kms-key-id", key),
    ]
}

/// Creates the bucket `locked` and stores `body` as `/locked/src` sealed under a key the
/// account may use for everything but `Decrypt` (so nobody may read or copy it).
pub(crate) async fn locked_source(server: &Server, body: &[u8]) {
    assert_eq!(server.s3("PUT", "/locked", b"").await.0, 200);
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "no-decrypt", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": "kms:Decrypt", "Resource": "*"}]});
    let (_, key_arn) = new_key(server, json!({"Policy": policy.to_string()})).await;
    let (s, _, answer) = call(server, "PUT", "/locked/src", &sse_kms(&key_arn), body).await;
    assert_eq!(s, 200, "{}", text(&answer));
}

/// A copy of `/locked/src` (see [`locked_source`]) to `path` (an object, or a part of an
/// upload): refused, AccessDenied for `kms:Decrypt`.
pub(crate) async fn copying_the_locked_source_is_refused(server: &Server, path: &str) {
    let source = [("x-amz-copy-source", "/locked/src")];
    let (s, _, body) = call(server, "PUT", path, &source, b"").await;
    assert_eq!(s, 403, "{}", text(&body));
    assert!(text(&body).contains("<Code>AccessDenied</Code>"));
    assert!(text(&body).contains("kms:Decrypt"), "{}", text(&body));
}

/// Bytes that differ in every 64-byte window, so a probe finds them only where stored.
pub(crate) fn plaintext(n: usize, tag: &str) -> Vec<u8> {
    (0..)
        .flat_map(|i: u64| format!("{tag} line {i:08} of a secret\n").into_bytes())
        .take(n)
        .collect()
}

/// Every file under the data dir's object store.
fn stored_files(server: &Server) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![server.data_dir().join("objects")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
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

pub(crate) fn assert_not_at_rest(server: &Server, plain: &[u8], what: &str) {
    let files = stored_files(server);
    for at in [0, plain.len() / 2, plain.len() - 64] {
        let probe = &plain[at..at + 64];
        assert!(
            !files.iter().any(|f| f.windows(64).any(|w| w == probe)),
            "{what}: plaintext at offset {at} is stored in the clear"
        );
    }
}

pub(crate) async fn set_default_kms(server: &Server, bucket: &str, key_arn: &str) {
    let config = format!(
        "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>\
         <SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>{key_arn}</KMSMasterKeyID>\
         </ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"
    );
    let (s, body) = server
        .s3("PUT", &format!("/{bucket}?encryption"), config.as_bytes())
        .await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test]
async fn copies_are_sealed_as_their_request_or_destination_default_says() {
    let server = Server::start();
    for b in ["/src", "/dst", "/dflt"] {
        assert_eq!(server.s3("PUT", b, b"").await.0, 200);
    }
    let (key_id, key_arn) = new_key(&server, json!({})).await;
    kms_ok(
        &server,
        "CreateAlias",
        json!({"AliasName": "alias/copies", "TargetKeyId": key_id}),
    )
    .await;
    let (_, default_arn) = new_key(&server, json!({})).await;
    set_default_kms(&server, "dflt", &default_arn).await;

    let plain = plaintext(150_000, "plain");
    let sealed = plaintext(140_000, "sealed");
    assert_eq!(call(&server, "PUT", "/src/plain", &[], &plain).await.0, 200);
    let (s, _, body) = call(&server, "PUT", "/src/sealed", &sse_kms(&key_arn), &sealed).await;
    assert_eq!(s, 200, "{}", text(&body));

    // A plaintext source copied with aws:kms and a key alias: sealed under that key.
    let context = "eyJwcm9qZWN0IjoiY2Fpcm4ifQ=="; // {"project":"cairn"}
    let (s, hd, body) = call(
        &server,
        "PUT",
        "/dst/kms",
        &[
            ("x-amz-copy-source", "/src/plain"),
            ("x-amz-server-side-encryption", "aws:kms"),
            (
                "x-amz-server-side-encryption-aws-kms-key-id",
                "alias/copies",
            ),
            ("x-amz-server-side-encryption-context", context),
            ("x-amz-server-side-encryption-bucket-key-enabled", "true"),
        ],
        b"",
    )
    .await;
    assert_eq!(s, 200, "{}", text(&body));
    assert!(text(&body).contains("<CopyObjectResult"), "{}", text(&body));
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
    assert_eq!(
        h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"),
        key_arn
    );
    assert_eq!(h(&hd, "x-amz-server-side-encryption-context"), context);
    assert_eq!(
        h(&hd, "x-amz-server-side-encryption-bucket-key-enabled"),
        "true"
    );
    let (s, hd, got) = call(&server, "GET", "/dst/kms", &[], b"").await;
    assert_eq!(s, 200);
    assert!(got == plain, "the sealed copy reads back as its source");
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
    assert_eq!(h(&hd, "content-length"), plain.len().to_string());

    // A sealed source copied with no headers: the destination's SSE-S3 default, not the
    // source's key (as on S3).
    let (s, hd, body) = call(
        &server,
        "PUT",
        "/dst/s3",
        &[("x-amz-copy-source", "/src/sealed")],
        b"",
    )
    .await;
    assert_eq!(s, 200, "{}", text(&body));
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "AES256");
    assert_eq!(h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"), "");
    let (s, hd, _) = call(&server, "HEAD", "/dst/s3", &[], b"").await;
    assert_eq!(s, 200);
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "AES256");
    assert_eq!(h(&hd, "content-length"), sealed.len().to_string());
    let (_, _, got_s3) = call(&server, "GET", "/dst/s3", &[], b"").await;
    assert!(got_s3 == sealed, "the opened copy reads back as its source");

    // No headers into a bucket whose default is aws:kms: that key.
    let (s, hd, body) = call(
        &server,
        "PUT",
        "/dflt/copy",
        &[("x-amz-copy-source", "/src/plain")],
        b"",
    )
    .await;
    assert_eq!(s, 200, "{}", text(&body));
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
    assert_eq!(
        h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"),
        default_arn
    );
    let (_, _, got) = call(&server, "GET", "/dflt/copy", &[], b"").await;
    assert!(got == plain);

    // Re-encrypting an object onto itself is a legal copy.
    let (s, hd, body) = call(
        &server,
        "PUT",
        "/src/plain",
        &[
            ("x-amz-copy-source", "/src/plain"),
            ("x-amz-server-side-encryption", "aws:kms"),
        ],
        b"",
    )
    .await;
    assert_eq!(s, 200, "{}", text(&body));
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
    let (_, hd, got) = call(&server, "GET", "/src/plain", &[], b"").await;
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
    assert!(got == plain);
    assert_not_at_rest(&server, &plain, "copies");

    // S3's errors for bad headers and unusable keys; nothing is written.
    let cases: [(Headers, u16, &str); 4] = [
        (
            &[
                ("x-amz-server-side-encryption", "AES256"),
                ("x-amz-server-side-encryption-aws-kms-key-id", &key_arn),
            ],
            400,
            "InvalidArgument",
        ),
        (
            &[("x-amz-server-side-encryption", "ROT13")],
            400,
            "InvalidArgument",
        ),
        (
            &[
                ("x-amz-server-side-encryption", "aws:kms"),
                ("x-amz-server-side-encryption-aws-kms-key-id", "alias/none"),
            ],
            400,
            "KMS.NotFoundException",
        ),
        (
            &[
                ("x-amz-server-side-encryption", "aws:kms"),
                ("x-amz-server-side-encryption-context", "%%%"),
            ],
            400,
            "InvalidArgument",
        ),
    ];
    for (headers, status, code) in cases {
        let mut all = vec![("x-amz-copy-source", "/src/plain")];
        all.extend_from_slice(headers);
        let (s, _, body) = call(&server, "PUT", "/dst/refused", &all, b"").await;
        assert_eq!(s, status, "{headers:?}: {}", text(&body));
        assert!(
            text(&body).contains(&format!("<Code>{code}</Code>")),
            "{headers:?}: {}",
            text(&body)
        );
    }
    kms_ok(&server, "DisableKey", json!({"KeyId": key_id})).await;
    // Neither a disabled destination key nor a disabled source key lets the copy through.
    for (headers, source) in [
        (
            vec![
                ("x-amz-server-side-encryption", "aws:kms"),
                (
                    "x-amz-server-side-encryption-aws-kms-key-id",
                    key_arn.as_str(),
                ),
            ],
            "/src/plain",
        ),
        (Vec::new(), "/src/sealed"),
    ] {
        let mut all = vec![("x-amz-copy-source", source)];
        all.extend(headers);
        let (s, _, body) = call(&server, "PUT", "/dst/refused", &all, b"").await;
        assert_eq!(s, 400, "{}", text(&body));
        assert!(
            text(&body).contains("<Code>KMS.DisabledException</Code>"),
            "{}",
            text(&body)
        );
    }
    assert_eq!(server.s3("GET", "/dst/refused", b"").await.0, 404);

    // S3's KMS calls for the copies, as the caller: Decrypt of the source, GenerateDataKey
    // for the copy with the destination object's ARN in the context (the bucket's ARN for
    // the copy made with an S3 Bucket Key).
    let records = stored_records(&server, "Management");
    let by_s3: Vec<_> = records
        .iter()
        .filter(|r| {
            r["eventSource"] == "kms.amazonaws.com"
                && r["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
        })
        .collect();
    let context_of = |name: &str, arn: &str| {
        by_s3.iter().any(|r| {
            r["eventName"] == name
                && r["requestParameters"]["encryptionContext"]["aws:s3:arn"] == arn
        })
    };
    assert!(context_of("Decrypt", "arn:aws:s3:::src/sealed"));
    assert!(context_of("GenerateDataKey", "arn:aws:s3:::dst"));
    assert!(context_of("GenerateDataKey", "arn:aws:s3:::dflt/copy"));
    let copy_kms = by_s3
        .iter()
        .find(|r| {
            r["eventName"] == "GenerateDataKey"
                && r["requestParameters"]["encryptionContext"]["aws:s3:arn"] == "arn:aws:s3:::dst"
        })
        .unwrap();
    assert_eq!(
        copy_kms["requestParameters"]["encryptionContext"]["project"],
        "cairn"
    );
}

#[tokio::test]
async fn copying_a_sealed_source_needs_kms_decrypt_as_the_caller() {
    let server = Server::start();
    locked_source(&server, &plaintext(70_000, "locked")).await;
    copying_the_locked_source_is_refused(&server, "/locked/copy").await;
    assert_eq!(server.s3("GET", "/locked/copy", b"").await.0, 404);
}

pub(crate) fn upload_id(body: &[u8]) -> String {
    let t = text(body);
    let start = t.find("<UploadId>").unwrap() + "<UploadId>".len();
    t[start..start + t[start..].find('<').unwrap()].to_owned()
}

/// Uploads `parts` to a new upload of `path` created with `headers`; returns the create,
/// part and complete answers.
async fn multipart(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
    parts: &[&[u8]],
) -> (Answer, Vec<Answer>, Answer) {
    let created = call(server, "POST", &format!("{path}?uploads"), headers, b"").await;
    assert_eq!(created.0, 200, "{}", text(&created.2));
    let id = upload_id(&created.2);
    let mut answers = Vec::new();
    let mut listed = String::new();
    for (i, part) in parts.iter().enumerate() {
        let n = i + 1;
        let a = call(
            server,
            "PUT",
            &format!("{path}?partNumber={n}&uploadId={id}"),
            &[],
            part,
        )
        .await;
        assert_eq!(a.0, 200, "{}", text(&a.2));
        listed.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
            h(&a.1, "etag")
        ));
        answers.push(a);
    }
    // ListParts reports the parts' plaintext sizes.
    let (s, _, body) = call(server, "GET", &format!("{path}?uploadId={id}"), &[], b"").await;
    assert_eq!(s, 200);
    for part in parts {
        assert!(
            text(&body).contains(&format!("<Size>{}</Size>", part.len())),
            "{}",
            text(&body)
        );
    }
    let done = call(
        server,
        "POST",
        &format!("{path}?uploadId={id}"),
        &[],
        format!("<CompleteMultipartUpload>{listed}</CompleteMultipartUpload>").as_bytes(),
    )
    .await;
    (created, answers, done)
}

#[tokio::test]
async fn multipart_uploads_are_sealed_and_read_like_put_objects() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/mpu", b"").await.0, 200);
    assert_eq!(server.s3("PUT", "/mp-default", b"").await.0, 200);
    let (key_id, key_arn) = new_key(&server, json!({})).await;
    kms_ok(
        &server,
        "CreateAlias",
        json!({"AliasName": "alias/parts", "TargetKeyId": key_id}),
    )
    .await;
    let first = plaintext(5 * 1024 * 1024 + 100, "first");
    let second = plaintext(70_000, "second");
    let whole: Vec<u8> = [first.clone(), second.clone()].concat();

    let (created, parts, done) = multipart(
        &server,
        "/mpu/big",
        &sse_kms("alias/parts"),
        &[&first, &second],
    )
    .await;
    for (what, hd) in [("create", &created.1), ("complete", &done.1)]
        .into_iter()
        .chain(parts.iter().map(|p| ("part", &p.1)))
    {
        assert_eq!(h(hd, "x-amz-server-side-encryption"), "aws:kms", "{what}");
        assert_eq!(
            h(hd, "x-amz-server-side-encryption-aws-kms-key-id"),
            key_arn,
            "{what}"
        );
    }
    assert_eq!(done.0, 200, "{}", text(&done.2));
    let (s, hd, got) = call(&server, "GET", "/mpu/big", &[], b"").await;
    assert_eq!(s, 200);
    assert_eq!(got.len(), whole.len());
    assert!(got == whole, "the completed upload reads back as sent");
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
    let (s, hd, _) = call(&server, "HEAD", "/mpu/big", &[], b"").await;
    assert_eq!(s, 200);
    assert_eq!(h(&hd, "content-length"), whole.len().to_string());
    assert_eq!(
        h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"),
        key_arn
    );
    // A range across the parts' seam.
    let seam = first.len();
    let range = format!("bytes={}-{}", seam - 1000, seam + 1000);
    let (s, _, part) = call(&server, "GET", "/mpu/big", &[("range", &range)], b"").await;
    assert_eq!(s, 206);
    assert!(part == whole[seam - 1000..=seam + 1000]);
    assert_not_at_rest(&server, &whole, "multipart object");

    // No headers into a bucket whose default is aws:kms: that key, for the parts too.
    set_default_kms(&server, "mp-default", &key_arn).await;
    let small = plaintext(3000, "small");
    let (created, parts, done) = multipart(&server, "/mp-default/one", &[], &[&small]).await;
    assert_eq!(done.0, 200, "{}", text(&done.2));
    assert_eq!(h(&created.1, "x-amz-server-side-encryption"), "aws:kms");
    assert_eq!(h(&parts[0].1, "x-amz-server-side-encryption"), "aws:kms");
    let (_, hd, got) = call(&server, "GET", "/mp-default/one", &[], b"").await;
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
    assert!(got == small);

    // Without headers in an SSE-S3 bucket the upload stays SSE-S3.
    let (created, _, done) = multipart(&server, "/mpu/plain", &[], &[&small]).await;
    assert_eq!(done.0, 200);
    assert_eq!(h(&created.1, "x-amz-server-side-encryption"), "AES256");
    assert_eq!(h(&done.1, "x-amz-server-side-encryption"), "AES256");

    // S3's errors: an unknown key at creation; a key disabled mid-upload stops the parts.
    let (s, _, body) = call(
        &server,
        "POST",
        "/mpu/nokey?uploads",
        &sse_kms("alias/nokey"),
        b"",
    )
    .await;
    assert_eq!(s, 400);
    assert!(text(&body).contains("<Code>KMS.NotFoundException</Code>"));
    let created = call(
        &server,
        "POST",
        "/mpu/late?uploads",
        &sse_kms(&key_arn),
        b"",
    )
    .await;
    let id = upload_id(&created.2);
    kms_ok(&server, "DisableKey", json!({"KeyId": key_id})).await;
    let (s, _, body) = call(
        &server,
        "PUT",
        &format!("/mpu/late?partNumber=1&uploadId={id}"),
        &[],
        b"part",
    )
    .await;
    assert_eq!(s, 400, "{}", text(&body));
    assert!(text(&body).contains("<Code>KMS.DisabledException</Code>"));

    // S3's KMS calls as the caller: a data key at creation, Decrypt for each part and at
    // completion.
    let records = stored_records(&server, "Management");
    let count = |name: &str| {
        records
            .iter()
            .filter(|r| {
                r["eventName"] == name
                    && r["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
                    && r["requestParameters"]["encryptionContext"]["aws:s3:arn"]
                        == "arn:aws:s3:::mpu/big"
            })
            .count()
    };
    assert_eq!(count("GenerateDataKey"), 1);
    assert_eq!(count("Decrypt"), 3 + 2, "two parts, completion, two GETs");
}

const ACCT: &str = "123456789012";

/// A key CloudTrail may use for the trail `trail` as a bucket default (no CloudTrail context
/// condition: S3 asks with its own context), and the account may administer and decrypt.
fn bucket_key_policy(trail: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "account", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCT}:root")},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "cloudtrail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceArn": format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/{trail}")}}}]})
    .to_string()
}

#[tokio::test]
async fn trail_files_take_their_bucket_default_kms_rule() {
    let mut server = Server::start_with(&["--delivery-interval", "86400"]);
    server.bucket_for_trails("dflt-logs").await;
    server.bucket_for_trails("denied-logs").await;
    server.bucket_for_trails("aes-logs").await;
    let (_, key_arn) = new_key(&server, json!({"Policy": bucket_key_policy("dflt")})).await;
    // A key whose policy does not let CloudTrail use it.
    let (_, closed_arn) = new_key(&server, json!({})).await;
    set_default_kms(&server, "dflt-logs", &key_arn).await;
    set_default_kms(&server, "denied-logs", &closed_arn).await;
    for (name, bucket) in [
        ("dflt", "dflt-logs"),
        ("denied", "denied-logs"),
        ("aes", "aes-logs"),
    ] {
        let (s, v) = server
            .ct(
                "CreateTrail",
                json!({"Name": name, "S3BucketName": bucket, "EnableLogFileValidation": true}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert!(v.get("KmsKeyId").is_none(), "{v}");
        let (s, v) = server.ct("StartLogging", json!({"Name": name})).await;
        assert_eq!(s, 200, "{v}");
    }
    let now = chrono::Utc::now().timestamp() as f64 + 2.0;
    server.flush(&["--now", &now.to_string()]);

    let logs =
        crate::delivery_notify::keys(&server, "dflt-logs", &format!("AWSLogs/{ACCT}/CloudTrail/"))
            .await;
    let digests = crate::delivery_notify::keys(
        &server,
        "dflt-logs",
        &format!("AWSLogs/{ACCT}/CloudTrail-Digest/"),
    )
    .await;
    assert!(
        !logs.is_empty() && !digests.is_empty(),
        "{logs:?} {digests:?}"
    );
    for key in logs.iter().chain(&digests) {
        let path = format!("/dflt-logs/{key}");
        let (s, hd, _) = call(&server, "HEAD", &path, &[], b"").await;
        assert_eq!(s, 200);
        assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms", "{key}");
        assert_eq!(
            h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"),
            key_arn
        );
        let (s, _, gz) = call(&server, "GET", &path, &[], b"").await;
        assert_eq!(s, 200);
        let v: serde_json::Value =
            serde_json::from_slice(&cairn_logfile::verify::gunzip(&gz).unwrap()).unwrap();
        assert!(v.is_object());
    }
    // In an SSE-S3 bucket the files are sealed too (with Cairn's own key).
    let aes = crate::delivery_notify::keys(&server, "aes-logs", "AWSLogs/").await;
    assert!(aes.len() >= 2, "{aes:?}");
    for key in &aes {
        let (s, hd, gz) = call(&server, "GET", &format!("/aes-logs/{key}"), &[], b"").await;
        assert_eq!(s, 200);
        assert_eq!(h(&hd, "x-amz-server-side-encryption"), "AES256");
        assert!(cairn_logfile::verify::gunzip(&gz).is_ok(), "{key}");
    }
    assert!(
        !stored_files(&server)
            .iter()
            .any(|f| f.starts_with(&[0x1f, 0x8b])),
        "no log or digest file is stored in the clear"
    );

    // A default key CloudTrail may not use: S3 refuses the PUT, nothing is written.
    let (_, status) = server.ct("GetTrailStatus", json!({"Name": "denied"})).await;
    assert_eq!(status["LatestDeliveryError"], "AccessDenied", "{status}");
    let denied = crate::delivery_notify::keys(&server, "denied-logs", "AWSLogs/").await;
    assert!(denied.is_empty(), "{denied:?}");

    // S3's GenerateDataKey for CloudTrail's PUTs: the service identity, S3's context.
    let records = stored_records(&server, "Management");
    let for_files: Vec<_> = records
        .iter()
        .filter(|r| {
            r["eventName"] == "GenerateDataKey"
                && r["requestParameters"]["encryptionContext"]["aws:s3:arn"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("arn:aws:s3:::dflt-logs/AWSLogs/"))
        })
        .collect();
    // One per file written (a file planned from the delivery's own KMS events may follow).
    for key in logs.iter().chain(&digests) {
        let arn = format!("arn:aws:s3:::dflt-logs/{key}");
        assert!(
            for_files
                .iter()
                .any(|r| r["requestParameters"]["encryptionContext"]["aws:s3:arn"] == arn),
            "{key}"
        );
    }
    for r in for_files {
        assert_eq!(r["userIdentity"]["type"], "AWSService");
        assert_eq!(r["userIdentity"]["invokedBy"], "cloudtrail.amazonaws.com");
        assert_eq!(r["resources"][0]["ARN"], json!(key_arn));
        assert!(
            r["requestParameters"]["encryptionContext"]
                .get("aws:cloudtrail:arn")
                .is_none()
        );
    }
    assert!(records.iter().any(|r| {
        r["eventName"] == "GenerateDataKey"
            && r["errorCode"] == "AccessDenied"
            && r["requestParameters"]["keyId"] == closed_arn.as_str()
    }));
}

#[tokio::test]
async fn sse_s3_objects_are_sealed_at_rest_and_keep_md5_etags() {
    use md5::Digest;
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/aes", b"").await.0, 200);
    let md5_of = |b: &[u8]| format!("\"{}\"", hex::encode(md5::Md5::digest(b)));
    let body = plaintext(200_000, "aes-put");
    let (s, hd, _) = call(&server, "PUT", "/aes/put", &[], &body).await;
    assert_eq!(s, 200);
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "AES256");
    assert_eq!(
        h(&hd, "etag"),
        md5_of(&body),
        "SSE-S3 ETags are the data's MD5"
    );
    let (s, hd, got) = call(&server, "GET", "/aes/put", &[], b"").await;
    assert_eq!(s, 200);
    assert!(got == body);
    assert_eq!(h(&hd, "etag"), md5_of(&body));
    let (s, _, part) = call(
        &server,
        "GET",
        "/aes/put",
        &[("range", "bytes=65530-65545")],
        b"",
    )
    .await;
    assert_eq!(s, 206);
    assert!(part == body[65530..=65545]);

    let (s, hd, _) = call(
        &server,
        "PUT",
        "/aes/copy",
        &[("x-amz-copy-source", "/aes/put")],
        b"",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(h(&hd, "x-amz-server-side-encryption"), "AES256");
    let (_, _, got) = call(&server, "GET", "/aes/copy", &[], b"").await;
    assert!(got == body);

    let first = plaintext(5 * 1024 * 1024, "aes-part");
    let second = plaintext(1000, "aes-tail");
    let (created, parts, done) = multipart(&server, "/aes/multi", &[], &[&first, &second]).await;
    assert_eq!(done.0, 200, "{}", text(&done.2));
    assert_eq!(h(&created.1, "x-amz-server-side-encryption"), "AES256");
    assert_eq!(h(&parts[0].1, "etag"), md5_of(&first));
    let (_, _, got) = call(&server, "GET", "/aes/multi", &[], b"").await;
    assert!(got == [first.clone(), second].concat());

    assert_not_at_rest(&server, &body, "SSE-S3 put and copy");
    assert_not_at_rest(&server, &first, "SSE-S3 multipart");
}
