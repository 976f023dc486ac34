//! Opening an existing data dir for an admin command: a path that holds no Cairn store is
//! refused (a typo must not create an empty store next to the real one), and so is a store
//! of another schema version than this binary's: admin commands never upgrade a data dir
//! (only `cairn serve` does, once, with its start-up checks), and never touch one a newer
//! Cairn upgraded.

use std::path::Path;

use anyhow::{Context, bail};
use cairn_store::Store;

/// The store of the data dir at `data_dir`, which must already exist.
pub fn open_existing(data_dir: &Path) -> anyhow::Result<Store> {
    require_data_dir(data_dir)?;
    let db = data_dir.join("cairn.db");
    Store::open_current(&db).with_context(|| format!("opening the store {}", db.display()))
}

/// Refuses a data dir this user may not read (a server's, run as another user), saying so:
/// without this check it would look like a dir without a store.
pub fn readable(data_dir: &Path) -> anyhow::Result<()> {
    let denied = |e: &std::io::Error| e.kind() == std::io::ErrorKind::PermissionDenied;
    let probe = std::fs::read_dir(data_dir)
        .map(|_| ())
        .and_then(|()| std::fs::metadata(data_dir.join("cairn.db")).map(|_| ()));
    match probe {
        Err(e) if denied(&e) => bail!(
            "{}: permission denied: this user may not read the data dir (it belongs to another user?); run the command as the user that runs `cairn serve` on it",
            data_dir.display()
        ),
        _ => Ok(()),
    }
}

/// Refuses a path that is not a Cairn data dir (missing, not a directory, or without
/// `cairn.db`), before anything is written into it.
pub fn require_data_dir(data_dir: &Path) -> anyhow::Result<()> {
    let db = data_dir.join("cairn.db");
    if !data_dir.exists() {
        bail!(
            "{} is not a Cairn data dir (it does not exist); start `cairn serve --data-dir {}` first, or check the path",
            data_dir.display(),
            data_dir.display()
        );
    }
    if !data_dir.is_dir() {
        bail!(
            "{} is not a Cairn data dir (it is not a directory); check the path",
            data_dir.display()
        );
    }
    readable(data_dir)?;
    if !db.is_file() {
        bail!(
            "{} is not a Cairn data dir (it has no cairn.db); start `cairn serve --data-dir {}` first, or check the path",
            data_dir.display(),
            data_dir.display()
        );
    }
    Ok(())
}
