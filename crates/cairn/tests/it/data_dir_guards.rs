//! What `cairn` refuses to touch: another program's SQLite file named `cairn.db`, and a data
//! dir this user may not read (reported as such, not as a missing store).

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use serde_json::json;

use crate::harness::Server;

fn cairn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
}

/// A data dir another user owns (0700) is reported as unreadable, not as "no cairn.db".
/// Needs root (to run the commands as `nobody` with setpriv); says so and skips otherwise.
#[tokio::test]
async fn a_data_dir_of_another_user_is_reported_as_unreadable() {
    let uid = Command::new("id").arg("-u").output().unwrap();
    let has_setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" || !has_setpriv {
        eprintln!("skipped: needs root and setpriv to run as another user");
        return;
    }
    let server = Server::start();
    let (status, _) = server.ct("ListTrails", json!({})).await;
    assert_eq!(status, 200);
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_cairn"));
    // `nobody` must be able to run the binary itself: a copy outside the build tree.
    let bin_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = bin_dir.path().join("cairn");
    std::fs::copy(exe, &bin).unwrap();
    for args in [
        vec!["verify-store", "--data-dir"],
        vec!["events", "--data-dir"],
        vec!["env", "--data-dir"],
    ] {
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(&args)
            .arg(server.data_dir())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("permission denied"), "{args:?}: {err}");
    }
}

/// Another program's SQLite file named `cairn.db` is refused without a byte of it, or of its
/// directory, changing (no WAL switch, no lock file, no chmod).
#[test]
fn a_foreign_sqlite_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = dir.path().join("cairn.db");
    {
        let conn = cairn_store::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["env"],
        &["flush"],
        &["bench", "populate", "--events", "10"],
    ] {
        let out = cairn()
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("CAIRN_ROOT_ACCESS_KEY_ID")
            .env_remove("CAIRN_ROOT_SECRET_ACCESS_KEY")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("another program's SQLite file"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file changed");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["cairn.db"]);
    let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
}

/// A data dir deleted under the running server (ops5): calls were answered 200 and recorded
/// into the deleted store file, lost when the process stopped. They are refused with 503
/// now, nothing acknowledged.
#[tokio::test]
async fn calls_are_refused_once_the_data_dir_is_deleted() {
    let server = Server::start();
    let (s, out) = server.ct("ListTrails", json!({})).await;
    assert_eq!(s, 200, "{out}");
    std::fs::remove_dir_all(server.data_dir()).unwrap();
    let (s, out) = server.ct("ListTrails", json!({})).await;
    assert_eq!(s, 503, "{out}");
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "after", "S3BucketName": "nowhere"}),
        )
        .await;
    assert_eq!(s, 503, "{out}");
}

#[tokio::test]
async fn calls_are_refused_once_the_wal_or_shared_memory_file_is_deleted() {
    // recheck32: with `cairn.db-wal` deleted, calls were answered 200 into the unlinked WAL
    // and lost at the next crash.
    for file in ["cairn.db-wal", "cairn.db-shm"] {
        let server = Server::start();
        let (s, out) = server.ct("ListTrails", json!({})).await;
        assert_eq!(s, 200, "{out}");
        std::fs::remove_file(server.data_dir().join(file)).unwrap();
        // An idle server's health check sees it before any call does (recheck32b).
        let health = reqwest::get(server.url("/health")).await.unwrap();
        assert_eq!(health.status(), 503, "{file}");
        let (s, out) = server
            .ct(
                "CreateTrail",
                json!({"Name": "after", "S3BucketName": "nowhere"}),
            )
            .await;
        assert_eq!(s, 503, "{file}: {out}");
        let health = reqwest::get(server.url("/health")).await.unwrap();
        assert_eq!(health.status(), 503, "{file}");
        assert!(
            health
                .text()
                .await
                .unwrap()
                .contains("a store file is gone")
        );
    }
}
