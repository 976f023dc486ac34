//! The data-dir lock: one process owns a data dir at a time.
//!
//! `cairn serve` holds an exclusive advisory lock on `<data-dir>/LOCK` for its lifetime;
//! commands that write what the server writes (`cairn flush`: the digest chain, the delivery
//! ledger) or that change what the server holds in memory (`cairn kms rotate-master-key`:
//! the master key every new backing key and object key is wrapped under) take the same lock
//! and are refused while the server runs. The lock is the
//! kernel's (`flock`), so it goes with the process however it ends, even on SIGKILL; the file
//! itself stays and only carries the holder's PID for the error message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The lock file's name inside a data dir.
pub const LOCK_FILE: &str = "LOCK";

/// Who wants the data dir (worded into the refusal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// `cairn serve`.
    Server,
    /// An admin command that must not run beside a server (`cairn flush`,
    /// `cairn kms rotate-master-key`), named as typed.
    Admin(&'static str),
}

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it.
    Held(String),
    /// The data dir does not exist (admin commands never create one).
    Missing(String),
    /// The path is not a directory.
    NotADirectory(String),
    /// The data dir's `cairn.db` is not a store Cairn may open (another program's SQLite
    /// file, a newer schema): no lock file is made beside it.
    NotCairns(String),
    /// The lock file could not be opened or locked.
    Io {
        /// The lock file.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Held(message) => f.write_str(message),
            Self::Missing(dir) => write!(f, "data dir {dir} does not exist"),
            Self::NotADirectory(dir) => write!(f, "data dir {dir} is not a directory"),
            Self::NotCairns(message) => f.write_str(message),
            Self::Io { dir, source } => {
                write!(
                    f,
                    "cannot open or lock the data dir's lock file {dir}: {source}"
                )
            }
        }
    }
}

impl std::error::Error for LockError {}

/// What to do instead of running `command` beside a server.
fn advice(command: &str) -> &'static str {
    match command {
        "flush" => {
            "stop the server first, or rely on its delivery loop \
             (it delivers every --delivery-interval seconds)"
        }
        "kms rotate-master-key" => {
            "stop the server first (a running server keeps wrapping new keys under the old \
             master key), rotate, then start it with the new key"
        }
        _ => "stop the server first",
    }
}

/// Takes the exclusive lock on `data_dir` (which must exist) for `who`, without waiting.
pub fn lock(data_dir: &Path, who: Holder) -> Result<DataDirLock, LockError> {
    let dir = data_dir.display().to_string();
    if !data_dir.exists() {
        return Err(LockError::Missing(dir));
    }
    if !data_dir.is_dir() {
        return Err(LockError::NotADirectory(dir));
    }
    let db = data_dir.join("cairn.db");
    if let Err(e) = cairn_store::check_existing(&db) {
        return Err(LockError::NotCairns(format!(
            "opening the store {}: {e}",
            db.display()
        )));
    }
    let path = data_dir.join(LOCK_FILE);
    let io = |source| LockError::Io {
        dir: path.display().to_string(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(io)?;
            file.rewind().map_err(io)?;
            writeln!(file, "{}", std::process::id()).map_err(io)?;
            Ok(DataDirLock { _file: file, path })
        }
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let pid = text
                .trim()
                .parse::<u32>()
                .map(|p| format!("pid {p}"))
                .unwrap_or_else(|_| "pid unknown".to_owned());
            Err(LockError::Held(match who {
                Holder::Server => format!(
                    "data dir {dir} is in use by another cairn process ({pid}, lock {}); \
                     stop it or give this server another --data-dir",
                    path.display()
                ),
                Holder::Admin(command) => format!(
                    "data dir {dir} is in use by a running cairn server ({pid}); `cairn {command}` \
                     would race it: {}",
                    advice(command)
                ),
            }))
        }
        Err(TryLockError::Error(e)) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_the_refusal_names_dir_and_pid() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path(), Holder::Server).unwrap();
        let pid = std::process::id().to_string();
        assert_eq!(std::fs::read_to_string(held.path()).unwrap().trim(), pid);
        let again = lock(dir.path(), Holder::Server).unwrap_err().to_string();
        assert!(again.contains(&dir.path().display().to_string()), "{again}");
        assert!(again.contains(&format!("pid {pid}")), "{again}");
        let flush = lock(dir.path(), Holder::Admin("flush"))
            .unwrap_err()
            .to_string();
        assert!(flush.contains("stop the server first") && flush.contains("delivery loop"));
        drop(held);
        let _retaken = lock(dir.path(), Holder::Admin("flush")).unwrap();
    }

    #[test]
    fn a_missing_data_dir_is_refused_and_not_created() {
        let parent = tempfile::tempdir().unwrap();
        let missing = parent.path().join("typo");
        assert!(matches!(
            lock(&missing, Holder::Admin("flush")),
            Err(LockError::Missing(_))
        ));
        assert!(!missing.exists());
    }
}
