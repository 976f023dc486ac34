//! The KMS master key: generated beside a new data dir with a message, refused inside the data
//! dir, taken from `CAIRN_KMS_MASTER_KEY`, and rotated with `cairn kms rotate-master-key` so
//! that old ciphertexts, SSE-S3 objects and multipart uploads still open under the new key
//! and the old key is refused.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::harness::{send_with, sign_s3};
use crate::kms_util::{admin, b64, kms, refused, start, start_logging_to, unb64, write_master_key};

/// A signed S3 call as the root user: status and body.
async fn s3(
    c: &reqwest::Client,
    addr: &std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, String) {
    let req = sign_s3(
        addr,
        "us-east-1",
        method,
        path,
        body.to_vec(),
        chrono::Utc::now(),
    );
    let (status, _, bytes) = send_with(c, &format!("http://{addr}"), req).await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A first part of S3's minimum size.
fn first_part() -> Vec<u8> {
    vec![b'a'; 5 * 1024 * 1024]
}

/// The `<UploadId>` of a CreateMultipartUpload answer.
fn upload_id(xml: &str) -> String {
    let start = xml.find("<UploadId>").expect(xml) + "<UploadId>".len();
    xml[start..start + xml[start..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn a_new_data_dir_gets_a_generated_key_beside_it() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let log_path = parent.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = start_logging_to(&data, &["--log-format", "json"], &[], log.into());
    let key_file = parent.path().join("data.kms-master-key");
    let message = server.printed.join("\n");
    assert!(
        message.contains(&format!(
            "generated the KMS master key in {}",
            key_file.display()
        )) && message.contains("back it up"),
        "{message}"
    );
    let meta = std::fs::metadata(&key_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim().len(), 64);
    let c = reqwest::Client::new();
    let (s, v) = kms(&c, &server.addr, "CreateKey", json!({})).await;
    assert_eq!(s, 200, "{v}");
    drop(server);
    // The next start finds the key beside the data dir and says nothing more.
    let again = start(&data, &[], &[]);
    assert!(again.printed.iter().all(|l| !l.contains("generated")));
    // The notice is in the log too, where a pipeline that keeps only the (JSON) log sees it;
    // the first start wrote it before listening, so it is in the file now.
    let logged = std::fs::read_to_string(&log_path).unwrap();
    let line = logged
        .lines()
        .find(|l| l.contains("generated the KMS master key"))
        .unwrap_or_else(|| panic!("not in the log: {logged}"));
    let v: serde_json::Value = serde_json::from_str(line).expect(line);
    assert_eq!(v["level"], "WARN", "{line}");
    assert_eq!(
        v["fields"]["path"],
        key_file.display().to_string(),
        "{line}"
    );
    let (s, _) = kms(&c, &again.addr, "ListKeys", json!({})).await;
    assert_eq!(s, 200);
}

#[test]
fn a_key_file_inside_the_data_dir_is_refused() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let inside = data.join("master.key");
    write_master_key(&inside);
    let stderr = refused(
        &data,
        &["--kms-master-key-file", inside.to_str().unwrap()],
        &[],
    );
    assert!(stderr.contains("is inside the data dir"), "{stderr}");
}

#[tokio::test]
async fn rotating_the_master_key_rewraps_every_backing_key() {
    let keys = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let old = keys.path().join("old.key");
    write_master_key(&old);
    let old_arg = old.to_str().unwrap().to_owned();
    let c = reqwest::Client::new();

    let server = start(&data, &["--kms-master-key-file", &old_arg], &[]);
    let (_, created) = kms(&c, &server.addr, "CreateKey", json!({})).await;
    let key_id = created["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    kms(
        &c,
        &server.addr,
        "RotateKeyOnDemand",
        json!({"KeyId": key_id}),
    )
    .await;
    let (s, enc) = kms(
        &c,
        &server.addr,
        "Encrypt",
        json!({"KeyId": key_id, "Plaintext": b64(b"survives rotation")}),
    )
    .await;
    assert_eq!(s, 200, "{enc}");
    // An SSE-S3 object (every bucket's default) and a multipart upload in progress.
    assert_eq!(s3(&c, &server.addr, "PUT", "/sealed", b"").await.0, 200);
    let (s, put) = s3(&c, &server.addr, "PUT", "/sealed/object", b"sealed at rest").await;
    assert_eq!(s, 200, "{put}");
    let (s, created) = s3(&c, &server.addr, "POST", "/sealed/big?uploads", b"").await;
    assert_eq!(s, 200, "{created}");
    let upload = upload_id(&created);
    let part = format!("/sealed/big?partNumber=1&uploadId={upload}");
    assert_eq!(
        s3(&c, &server.addr, "PUT", &part, &first_part()).await.0,
        200
    );
    drop(server);

    let new = keys.path().join("new.key");
    let generated = admin(&["generate-master-key", "--out", new.to_str().unwrap()]);
    assert_eq!(
        generated["MasterKeyFingerprint"].as_str().unwrap().len(),
        16
    );
    let data_arg = data.to_str().unwrap();
    let rotated = admin(&[
        "rotate-master-key",
        "--data-dir",
        data_arg,
        "--old",
        &old_arg,
        "--new",
        new.to_str().unwrap(),
    ]);
    assert_eq!(rotated["Rewrapped"], 2, "both generations of the key");
    assert_eq!(
        rotated["ObjectKeysRewrapped"], 2,
        "the object and the upload"
    );

    let stderr = refused(&data, &["--kms-master-key-file", &old_arg], &[]);
    assert!(stderr.contains("does not open"), "{stderr}");
    let new_hex = std::fs::read_to_string(&new).unwrap();
    let server = start(&data, &[], &[("CAIRN_KMS_MASTER_KEY", new_hex.trim())]);
    let (s, dec) = kms(
        &c,
        &server.addr,
        "Decrypt",
        json!({"CiphertextBlob": enc["CiphertextBlob"]}),
    )
    .await;
    assert_eq!(s, 200, "{dec}");
    assert_eq!(unb64(&dec["Plaintext"]), b"survives rotation");
    let (s, got) = s3(&c, &server.addr, "GET", "/sealed/object", b"").await;
    assert_eq!((s, got.as_str()), (200, "sealed at rest"));
    // The upload goes on under the new key: a second part, then the whole object.
    let part = format!("/sealed/big?partNumber=2&uploadId={upload}");
    assert_eq!(s3(&c, &server.addr, "PUT", &part, b", second").await.0, 200);
    let (s, parts) = s3(
        &c,
        &server.addr,
        "GET",
        &format!("/sealed/big?uploadId={upload}"),
        b"",
    )
    .await;
    assert_eq!(s, 200, "{parts}");
    let etags: Vec<&str> = parts
        .split("<ETag>")
        .skip(1)
        .map(|p| &p[..p.find("</ETag>").unwrap()])
        .collect();
    let complete = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
        etags[0], etags[1]
    );
    let (s, done) = s3(
        &c,
        &server.addr,
        "POST",
        &format!("/sealed/big?uploadId={upload}"),
        complete.as_bytes(),
    )
    .await;
    assert_eq!(s, 200, "{done}");
    let (s, got) = s3(&c, &server.addr, "GET", "/sealed/big", b"").await;
    assert_eq!(s, 200);
    assert_eq!(
        got.into_bytes(),
        [first_part(), b", second".to_vec()].concat()
    );
}

/// `cairn flush` with the arguments and environment given: (success, stderr).
fn flush(data: &std::path::Path, envs: &[(&str, &str)]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["flush", "--data-dir", data.to_str().unwrap()])
        .env_remove("CAIRN_KMS_MASTER_KEY")
        .env_remove("CAIRN_KMS_MASTER_KEY_FILE")
        .envs(envs.iter().copied())
        .output()
        .expect("run cairn flush");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// After a rotation the old key file is still beside the data dir; `cairn flush` used to seal
/// new log files and digests under it (never readable again), or, with it deleted, write
/// them in the clear. It now takes the key as `serve` does and refuses one the data dir
/// does not remember, or none.
#[tokio::test]
async fn flush_takes_the_rotated_master_key_and_refuses_a_stale_one_or_none() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let c = reqwest::Client::new();
    let server = start(&data, &[], &[]);
    assert_eq!(s3(&c, &server.addr, "PUT", "/flushed", b"").await.0, 200);
    drop(server);
    let old = parent.path().join("data.kms-master-key");
    assert!(old.exists(), "generated beside the data dir");
    let new = parent.path().join("new.key");
    admin(&["generate-master-key", "--out", new.to_str().unwrap()]);
    admin(&[
        "rotate-master-key",
        "--data-dir",
        data.to_str().unwrap(),
        "--old",
        old.to_str().unwrap(),
        "--new",
        new.to_str().unwrap(),
    ]);

    let (ok, stderr) = flush(&data, &[]);
    assert!(
        !ok && stderr.contains("does not open this data dir's keys"),
        "{stderr}"
    );
    let (ok, stderr) = flush(
        &data,
        &[("CAIRN_KMS_MASTER_KEY_FILE", new.to_str().unwrap())],
    );
    assert!(ok, "{stderr}");
    std::fs::remove_file(&old).unwrap();
    let (ok, stderr) = flush(&data, &[]);
    assert!(!ok && stderr.contains("none was given"), "{stderr}");
    // The server, given the new key, opens what the data dir holds.
    let server = start(
        &data,
        &["--kms-master-key-file", new.to_str().unwrap()],
        &[],
    );
    assert_eq!(s3(&c, &server.addr, "HEAD", "/flushed", b"").await.0, 200);
}
