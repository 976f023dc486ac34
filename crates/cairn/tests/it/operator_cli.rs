//! The operator's command line around a data dir: admin commands that must not run beside a
//! server refuse to, flags and their TOML and environment twins are checked at parse time,
//! data dirs that do not exist are not created, a data dir keeps its account, and start-up
//! failures name the path and the operation.

use std::process::{Command, Output};

use serde_json::json;

use crate::kms_util::{kms, start, write_master_key};

fn cairn() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.env_remove("CAIRN_KMS_MASTER_KEY")
        .env_remove("CAIRN_KMS_MASTER_KEY_FILE")
        .env_remove("CAIRN_ACCOUNT_ID")
        .env_remove("CAIRN_DATA_DIR")
        .env("CAIRN_LOG", "warn");
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `cairn kms rotate-master-key` beside a running server rewrapped the keys while the server
/// kept wrapping new ones under the old key: both became unreadable. It is refused, and the
/// server's keys still open afterwards.
#[tokio::test]
async fn rotate_master_key_is_refused_while_a_server_runs() {
    let keys = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let old = keys.path().join("old.key");
    let new = keys.path().join("new.key");
    write_master_key(&old);
    write_master_key(&new);
    let server = start(
        &data,
        &["--kms-master-key-file", old.to_str().unwrap()],
        &[],
    );
    let c = reqwest::Client::new();
    let (s, created) = kms(&c, &server.addr, "CreateKey", json!({})).await;
    assert_eq!(s, 200, "{created}");

    let out = cairn()
        .args(["kms", "rotate-master-key", "--data-dir"])
        .arg(&data)
        .arg("--old")
        .arg(&old)
        .arg("--new")
        .arg(&new)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("in use by a running cairn server")
            && err.contains("kms rotate-master-key")
            && err.contains("stop the server first"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // Nothing was rewrapped: a key made now still encrypts and decrypts under the old key.
    let (s, made) = kms(&c, &server.addr, "CreateKey", json!({})).await;
    assert_eq!(s, 200, "{made}");
    let key_id = made["KeyMetadata"]["KeyId"].as_str().unwrap();
    let (s, enc) = kms(
        &c,
        &server.addr,
        "Encrypt",
        json!({"KeyId": key_id, "Plaintext": "aGVsbG8="}),
    )
    .await;
    assert_eq!(s, 200, "{enc}");
    let (s, dec) = kms(
        &c,
        &server.addr,
        "Decrypt",
        json!({"CiphertextBlob": enc["CiphertextBlob"]}),
    )
    .await;
    assert_eq!((s, dec["Plaintext"].as_str()), (200, Some("aGVsbG8=")));
}
