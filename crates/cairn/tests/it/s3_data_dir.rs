//! Object bytes stay inside the data dir whatever the key (`..` segments, absolute paths,
//! odd bytes, the longest keys), checked on the filesystem itself; and files no record
//! references are removed at start-up.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::harness::*;
use crate::raw_http::RawConn;
use crate::s3_util::*;

/// A server whose data dir is `<parent>/data`, so the test owns the directory around it.
struct Nested {
    parent: tempfile::TempDir,
    child: Child,
    addr: SocketAddr,
}

impl Nested {
    fn start() -> Self {
        let parent = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(parent.path().join("data"))
            .env("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY)
            .env("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET)
            .env("CAIRN_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start cairn");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("server exited").expect("stdout");
            if let Some(rest) = line.strip_prefix("cairn listening on http://") {
                break rest.parse().expect("address");
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Self {
            parent,
            child,
            addr,
        }
    }

    fn data(&self) -> PathBuf {
        self.parent.path().join("data")
    }
}

impl Drop for Nested {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file and directory under `dir`.
fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        out.insert(path.clone());
        if path.is_dir() && !path.is_symlink() {
            walk(&path, out);
        }
    }
}

fn tmp_entries_with(marker: &str) -> Vec<PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(marker))
        .collect()
}

#[tokio::test]
async fn hostile_keys_create_nothing_outside_the_data_dir() {
    let server = Nested::start();
    let marker = format!("cairn-escape-{}", std::process::id());
    let mut conn = RawConn::connect(&server.addr).await;
    let put =
        |path: &str, body: &[u8]| s3_request(&server.addr, "PUT", path, vec![], body.to_vec());
    let resp = conn.call(&put("/hostile-bkt", b"")).await.unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());

    let long = format!("{}{marker}", "../".repeat(400));
    let long = &long[long.len() - 1024..];
    let keys: Vec<String> = vec![
        format!("../{marker}"),
        format!("../../{marker}"),
        format!("../../../{marker}"),
        format!("../../../../../../../../tmp/{marker}"),
        format!("/{marker}"),
        format!("/tmp/{marker}"),
        format!("a/../../../{marker}"),
        format!("..\\..\\{marker}"),
        format!("./{marker}"),
        "..".to_owned(),
        ".".to_owned(),
        "objects".to_owned(),
        "cairn.db".to_owned(),
        "../cairn.db".to_owned(),
        "root-credentials.json".to_owned(),
        format!("tab\tnew\nline\r\u{1}\u{7f}-{marker}"),
        format!("ünïcødé-🙂-{marker}"),
        format!("{marker}/"),
        long.to_owned(),
    ];
    for (i, key) in keys.iter().enumerate() {
        let body = format!("body {i}");
        // Signed over the canonical path (dots as they are), then sent once like that and
        // once with every dot percent-encoded.
        let plain = format!("/hostile-bkt/{}", encode_key(key).replace("%2E", "."));
        for sent in [plain.clone(), format!("/hostile-bkt/{}", encode_key(key))] {
            let mut req = put(&plain, body.as_bytes());
            req.path_and_query = sent.clone();
            let resp = conn.call(&req).await.unwrap();
            assert_eq!(resp.status, 200, "{key:?} sent as {sent}: {}", resp.text());
            let mut get = s3_request(&server.addr, "GET", &plain, vec![], vec![]);
            get.path_and_query = sent;
            let got = conn.call(&get).await.unwrap();
            assert_eq!(got.status, 200, "{key:?}");
            assert_eq!(got.body, body.as_bytes(), "{key:?}");
        }
    }
    // One byte over the limit is refused.
    let too_long = format!("k{}", "x".repeat(1024));
    let resp = conn
        .call(&put(&format!("/hostile-bkt/{too_long}"), b"x"))
        .await
        .unwrap();
    assert!((400..500).contains(&resp.status), "{}", resp.status);

    // On disk: everything the server wrote is under the data dir, object files are named by
    // opaque ids, and no path anywhere carries the marker.
    let mut all = BTreeSet::new();
    walk(server.parent.path(), &mut all);
    let data = server.data();
    // The KMS master key is kept beside the data dir, never in it (a copied data dir must
    // yield no plaintext): that one file is expected outside.
    let master_key = data.with_file_name(format!(
        "{}.kms-master-key",
        data.file_name().unwrap().to_string_lossy()
    ));
    for path in &all {
        assert!(
            path == &data || path.starts_with(&data) || path == &master_key,
            "created outside the data dir: {}",
            path.display()
        );
        assert!(
            !path.to_string_lossy().contains(&marker),
            "a key became a path: {}",
            path.display()
        );
    }
    let objects: Vec<String> = std::fs::read_dir(data.join("objects"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!objects.is_empty());
    for name in &objects {
        assert!(
            name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit()),
            "object file not named by an opaque id: {name:?}"
        );
    }
    assert_eq!(tmp_entries_with(&marker), Vec::<PathBuf>::new());
    assert!(!Path::new(&format!("/{marker}")).exists());
    // The database the hostile keys named is still the server's own.
    let resp = conn
        .call(&s3_request(&server.addr, "GET", "/", vec![], vec![]))
        .await
        .unwrap();
    assert!(resp.text().contains("<Name>hostile-bkt</Name>"));
}

/// Complete files no record references leave `objects` at start-up, into
/// `orphaned-objects`: a crash leaves the few writes that waited for their commit, but many
/// such files mean the store lost committed rows (a damaged write-ahead log), and their bytes
/// are then the only copy left. `verify-store` counts them beforehand. The temp files of
/// writes still streaming when the server stopped are deleted: never complete, they are no
/// record's (ops2: three parallel `aws s3 cp` killed mid-way left 30 of them, which read as a
/// store that lost transactions and kept 134 MB for a week).
#[tokio::test]
async fn files_no_record_references_are_quarantined_at_start_up() {
    let mut server = Server::start();
    assert_eq!(server.s3("PUT", "/orphan-bkt", b"").await.0, 200);
    assert_eq!(
        server.s3("PUT", "/orphan-bkt/kept", b"kept bytes").await.0,
        200
    );
    let objects = server.data_dir().join("objects");
    let before: Vec<_> = std::fs::read_dir(&objects).unwrap().collect();
    assert_eq!(before.len(), 1);
    // What a crash can leave: a temp file mid-write, and a complete file whose record never
    // committed.
    for n in 0..30 {
        std::fs::write(
            objects.join(format!("tmp-0123456789abcdef0123456789abcd{n:02}")),
            b"half",
        )
        .unwrap();
    }
    std::fs::write(objects.join("0123456789abcdef0123456789abcdef"), b"orphan").unwrap();
    server.kill();
    let verified = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["verify-store", "--data-dir"])
        .arg(server.data_dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{text}");
    assert!(
        text.contains("\n1 object files no record references"),
        "{text}"
    );
    server.restart();
    let names = |dir: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let left = names(&objects);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(!left.contains(&"0123456789abcdef0123456789abcdef".to_owned()));
    let kept = names(&server.data_dir().join("orphaned-objects"));
    assert_eq!(kept, ["0123456789abcdef0123456789abcdef"]);
    let (status, body) = server.s3("GET", "/orphan-bkt/kept", b"").await;
    assert_eq!((status, body.as_str()), (200, "kept bytes"));
}

/// A copy of a data dir taken while its server wrote can name object files it lacks (an
/// overwrite replaced the file before the copy reached it): `cairn verify-store` lists each
/// such object and upload part and exits 1, rather than "Chain intact".
#[tokio::test]
async fn verify_store_lists_objects_whose_files_are_missing() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/miss-bkt", b"").await.0, 200);
    for key in ["gone", "kept"] {
        assert_eq!(
            server
                .s3("PUT", &format!("/miss-bkt/{key}"), b"bytes")
                .await
                .0,
            200
        );
    }
    let (status, created) = server.s3("POST", "/miss-bkt/big?uploads", b"").await;
    assert_eq!(status, 200);
    let id = crate::console::xml_member(&created, "UploadId");
    let part = format!("/miss-bkt/big?partNumber=1&uploadId={id}");
    assert_eq!(server.s3("PUT", &part, b"part bytes").await.0, 200);
    let verify = || {
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["verify-store", "--data-dir"])
            .arg(server.data_dir())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = verify();
    assert_eq!(code, Some(0), "{text}");
    let files = cairn_store::objects::files_read_only(&server.data_dir().join("cairn.db")).unwrap();
    for (_, key, file) in &files {
        if key != "kept" {
            std::fs::remove_file(server.data_dir().join("objects").join(file)).unwrap();
        }
    }
    let (code, text) = verify();
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("object miss-bkt/gone: its file"), "{text}");
    assert!(
        text.contains(&format!(
            "object miss-bkt/big (upload {id}, part 1): its file"
        )),
        "{text}"
    );
    assert!(!text.contains("miss-bkt/kept"), "{text}");
    assert!(
        text.contains("Chain intact") && text.contains("2 problems found"),
        "{text}"
    );
}

/// A quarantine that cannot take a file (here `orphaned-objects` is a regular file) never
/// stops the start: the unreferenced file is left where it is.
#[tokio::test]
async fn an_unusable_quarantine_leaves_orphans_in_place_and_the_server_starts() {
    let mut server = Server::start();
    let objects = server.data_dir().join("objects");
    std::fs::write(objects.join("0123456789abcdef0123456789abcdef"), b"orphan").unwrap();
    std::fs::write(
        server.data_dir().join("orphaned-objects"),
        b"not a directory",
    )
    .unwrap();
    server.kill9_and_restart();
    assert_eq!(server.s3("PUT", "/after-bkt", b"").await.0, 200);
    assert!(objects.join("0123456789abcdef0123456789abcdef").exists());
}
