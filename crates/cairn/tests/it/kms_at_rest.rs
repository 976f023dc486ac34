//! Key material is never on disk in the clear: after keys are created, rotated and used, no
//! file of the data dir holds a backing key, a data key or an Encrypt plaintext; a copy of the
//! data dir is useless without the master key (the server refuses to start with another key
//! or with none).

use serde_json::json;

use crate::harness::Server;
use crate::kms_util::{b64, files_under, kms, refused, unb64, write_master_key};

#[tokio::test]
async fn no_file_in_the_data_dir_holds_key_material_or_plaintext() {
    let keys = tempfile::tempdir().unwrap();
    let master_path = keys.path().join("master.key");
    write_master_key(&master_path);
    let master_arg = master_path.to_str().unwrap().to_owned();
    let mut server = Server::start_with(&["--kms-master-key-file", &master_arg]);
    let c = reqwest::Client::new();

    let mut secrets: Vec<Vec<u8>> = Vec::new();
    let mut key_ids = Vec::new();
    for _ in 0..2 {
        let (s, v) = kms(&c, &server.addr, "CreateKey", json!({})).await;
        assert_eq!(s, 200, "{v}");
        key_ids.push(v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned());
    }
    let (s, _) = kms(
        &c,
        &server.addr,
        "RotateKeyOnDemand",
        json!({"KeyId": key_ids[0]}),
    )
    .await;
    assert_eq!(s, 200);
    for id in &key_ids {
        let plaintext: [u8; 48] = rand::random();
        secrets.push(plaintext.to_vec());
        let (s, v) = kms(
            &c,
            &server.addr,
            "Encrypt",
            json!({"KeyId": id, "Plaintext": b64(&plaintext), "EncryptionContext": {"a": "b"}}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let (s, d) = kms(
            &c,
            &server.addr,
            "Decrypt",
            json!({"CiphertextBlob": v["CiphertextBlob"], "EncryptionContext": {"a": "b"}}),
        )
        .await;
        assert_eq!((s, unb64(&d["Plaintext"])), (200, plaintext.to_vec()));
        for _ in 0..3 {
            let (s, dk) = kms(
                &c,
                &server.addr,
                "GenerateDataKey",
                json!({"KeyId": id, "KeySpec": "AES_256"}),
            )
            .await;
            assert_eq!(s, 200, "{dk}");
            secrets.push(unb64(&dk["Plaintext"]));
        }
    }

    // Snapshot every file (database, WAL, object dirs) as the crash left it, then learn the
    // backing keys by unwrapping the stored material with the master key.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let data_dir = server.data_dir();
    let files = files_under(&data_dir);
    assert!(files.iter().any(|(p, _)| p.ends_with("cairn.db")));
    let master = cairn_core::kms::MasterKey::load(&master_path).unwrap();
    let store = cairn_store::Store::open(&data_dir.join("cairn.db")).unwrap();
    let wrapped = store.read_blocking(cairn_store::kms::all_wrapped).unwrap();
    assert_eq!(wrapped.len(), 3, "two keys, one rotated");
    for w in &wrapped {
        let backing = master
            .unwrap(
                &w.wrapped,
                &cairn_core::kms::backing_key_aad(&w.arn, w.generation),
            )
            .unwrap();
        secrets.push(backing.expose().to_vec());
    }
    for secret in &secrets {
        let encoded = b64(secret);
        for (path, bytes) in &files {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_slice()),
                "{} holds key material or plaintext in the clear",
                path.display()
            );
            assert!(
                !bytes
                    .windows(encoded.len())
                    .any(|w| w == encoded.as_bytes()),
                "{} holds base64 key material or plaintext",
                path.display()
            );
        }
    }
    drop(store);

    // A copy of the data dir without its master key opens nothing.
    let copy_parent = tempfile::tempdir().unwrap();
    let copy = copy_parent.path().join("copied-data");
    std::fs::create_dir(&copy).unwrap();
    for (path, bytes) in &files {
        let rel = path.strip_prefix(&data_dir).unwrap();
        std::fs::create_dir_all(copy.join(rel).parent().unwrap()).unwrap();
        std::fs::write(copy.join(rel), bytes).unwrap();
    }
    // Refused with other root credentials: nothing of the start is written first (upgrade2:
    // the root key row, the credential source and console sessions changed before).
    let root_before = {
        let s = cairn_store::Store::open(&copy.join("cairn.db")).unwrap();
        s.read_blocking(cairn_store::iam::report::root_key).unwrap()
    };
    let stderr = refused(
        &copy,
        &[],
        &[
            ("CAIRN_ROOT_ACCESS_KEY_ID", "AKIAOTHERROOTKEY0001"),
            ("CAIRN_ROOT_SECRET_ACCESS_KEY", "another-root-secret"),
        ],
    );
    assert!(
        stderr.contains("holds KMS keys but no KMS master key was given"),
        "{stderr}"
    );
    let root_after = {
        let s = cairn_store::Store::open(&copy.join("cairn.db")).unwrap();
        s.read_blocking(cairn_store::iam::report::root_key).unwrap()
    };
    assert_eq!(root_after, root_before, "a refused start changes nothing");
    assert!(
        !copy_parent
            .path()
            .join("copied-data.kms-master-key")
            .exists(),
        "no new key is generated for a data dir that already has keys"
    );
    let other = keys.path().join("other.key");
    write_master_key(&other);
    let stderr = refused(
        &copy,
        &["--kms-master-key-file", other.to_str().unwrap()],
        &[],
    );
    assert!(
        stderr.contains("does not open this data dir's KMS keys"),
        "{stderr}"
    );
}
