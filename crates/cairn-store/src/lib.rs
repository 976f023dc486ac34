//! Cairn's embedded store: one SQLite database in WAL mode.
//!
//! Writes go through a single writer thread ([`writer`]) that group-commits: it takes every
//! job waiting in its queue, runs each inside its own savepoint, commits them all with one
//! `COMMIT` (one fsync, `synchronous=FULL`), and only then tells each caller its outcome.
//! A caller therefore never learns of a success that is not on disk, and a request's state
//! change and its CloudTrail event always commit together. Reads use a pool of read-only
//! connections and never wait for the writer.
//!
//! The typed queries live in one module per table family: [`events`], [`trails`],
//! [`buckets`], [`objects`], [`iam`], [`kms`], [`meta`], [`logs`] (CloudWatch Logs),
//! [`metrics`] (CloudWatch datapoints), [`console`] (web console sessions),
//! [`cloudformation`] (stacks) and [`insights`] (CloudTrail Insights series and state).
//! [`full_disk`] reports a full disk once, not once per refused call.

pub mod alarms;
pub mod buckets;
pub mod cloudformation;
pub mod cloudformation_secrets;
pub mod console;
pub mod delivery;
pub mod encryption;
pub mod events;
pub mod full_disk;
pub mod iam;
pub mod insights;
pub mod kms;
pub mod logs;
pub mod meta;
pub mod metrics;
pub mod objects;
mod schema;
mod schema_v32;
pub mod sns;
pub mod sns_queue;
pub mod trail_logs;
pub mod trails;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use rusqlite::Connection;
pub use schema::LATEST as SCHEMA_VERSION;
pub use writer::with_savepoint;

/// Store failures. They are server faults, never client mistakes.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(String),
    /// The writer thread is gone (shutting down).
    #[error("store writer is not running")]
    WriterGone,
    /// A persisted value could not be decoded.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The disk (or the store's configured size limit) is full; nothing was written.
    #[error("the store is full: {0}")]
    Full(String),
    /// This binary must not open the store as it is (a schema newer than it knows, an older
    /// one an admin command would have to upgrade, events an older binary appended outside
    /// the event chain). The message says what happened and what to do.
    #[error("{0}")]
    Incompatible(String),
    /// The store file is no longer where it was opened (its data dir deleted or moved):
    /// nothing is committed into a file no one will read again.
    #[error("the store file is gone: {0}")]
    Gone(String),
}

impl StoreError {
    /// Whether the failure is a full disk or store (the server answers 503 and recovers when
    /// space comes back) rather than a fault.
    pub fn is_full(&self) -> bool {
        matches!(self, StoreError::Full(_))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        // A filesystem that went read-only, or failing writes, refuse every call as a full
        // disk does (503, `/health` not ok) rather than as a fault (ops7: 500 each, `/health` ok).
        if matches!(
            e.sqlite_error_code(),
            Some(
                rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::ReadOnly
                    | rusqlite::ErrorCode::SystemIoFailure
            )
        ) {
            StoreError::Full(e.to_string())
        } else {
            StoreError::Sqlite(e.to_string())
        }
    }
}

/// How to open the store.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreOptions {
    /// Largest the database may grow, in bytes (`None`: until the disk is full). Reaching it
    /// behaves exactly like a full disk.
    pub max_bytes: Option<u64>,
}

/// Result alias.
pub type StoreResult<T> = Result<T, StoreError>;

/// Free space under which the store starts with a small WAL (as after a full disk).
const LOW_SPACE_BYTES: u64 = 256 << 20;

/// Whether `free` bytes are little room for the store (see [`LOW_SPACE_BYTES`]).
fn low_space(free: u64) -> bool {
    free < LOW_SPACE_BYTES
}

/// The bytes an unprivileged writer may still use on the filesystem holding `path`.
fn free_bytes(path: &Path) -> Option<u64> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// A migrated in-memory database, for tests of the layers above.
pub fn in_memory() -> StoreResult<Connection> {
    let conn = Connection::open_in_memory()?;
    schema::configure(&conn)?;
    schema::migrate(&conn)?;
    Ok(conn)
}

/// Reader connections kept open between reads. A connection dropped here is opened again
/// (and reads the schema and prepares its statements again) by the next read that finds
/// none, so fewer kept than reads in flight (64 concurrent DescribeTrails, say) means a new
/// connection for many reads. A reader that is idle holds only its page cache.
const IDLE_READERS: usize = 64;

/// How often a full store probes for space again, and how long a probe may take.
const PROBE_SPACING: std::time::Duration = std::time::Duration::from_secs(2);

/// Bytes a space probe writes: a record at CloudTrail's 256 KB bound.
const PROBE_BYTES: usize = 256 * 1024;

/// Pages a store with a size limit must have left below it to count as not full: one call's
/// event and index rows.
pub const FULL_HEADROOM_PAGES: i64 = 4;

/// Handle to the store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// `max_page_count` when the store has a size limit.
    max_pages: Option<i64>,
    writer: writer::WriterHandle,
    readers: Mutex<Vec<Connection>>,
    /// When the last space probe of a full store began ([`Store::full`]).
    last_probe: Mutex<Option<std::time::Instant>>,
}

/// Makes the database file (created empty if missing) and any `-wal`/`-shm` beside it
/// readable by the owner only (0600). SQLite gives the files it creates later the database
/// file's mode, so the store's records (and the few values kept unsealed, such as NoEcho
/// stack parameters) are never readable by other users, whatever the umask.
fn owner_only(path: &Path) -> StoreResult<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| StoreError::Sqlite(format!("creating {}: {e}", path.display())))?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = Path::new(&name);
        if let Ok(meta) = std::fs::metadata(file)
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| StoreError::Sqlite(format!("chmod {}: {e}", file.display())))?;
        }
    }
    Ok(())
}

/// The schema version of the database at `path` (its SQLite `user_version`), read on a
/// read-only connection that changes nothing.
pub fn schema_version_of(path: &Path) -> StoreResult<i64> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Refuses, without changing a byte of it, an existing file at `path` that a store must not
/// open: another program's SQLite file, a newer schema, events outside the chain. Opening
/// read-write would first switch the file to WAL and touch its header.
pub fn check_existing(path: &Path) -> StoreResult<()> {
    if !path.is_file() {
        return Ok(());
    }
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    schema::check_before_upgrade(&conn)
}

impl Store {
    /// Opens (creating if needed) the database at `path` and starts the writer thread.
    pub fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with(path, StoreOptions::default())
    }

    /// [`Store::open`] with options.
    pub fn open_with(path: &Path, options: StoreOptions) -> StoreResult<Self> {
        check_existing(path)?;
        owner_only(path)?;
        let conn = Connection::open(path)?;
        schema::configure(&conn)?;
        schema::check_before_upgrade(&conn)?;
        schema::migrate(&conn)?;
        Self::start(path, conn, options)
    }

    /// Opens the existing database at `path` as it is, without upgrading it: a store of
    /// another schema version than this binary's is refused (an older one with the advice to
    /// start `cairn serve` on it once), as is one with events outside the event chain. Admin
    /// commands open stores this way, so only the server ever migrates a data dir.
    pub fn open_current(path: &Path) -> StoreResult<Self> {
        // Checked first on a read-only connection: a refused command leaves the files as
        // they were (closing a writable connection would fold the WAL into the database).
        {
            let probe = Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            schema::check_current(&probe)?;
            schema::check_before_upgrade(&probe)?;
        }
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        schema::configure(&conn)?;
        schema::check_current(&conn)?;
        schema::check_before_upgrade(&conn)?;
        Self::start(path, conn, StoreOptions::default())
    }

    fn start(path: &Path, conn: Connection, options: StoreOptions) -> StoreResult<Self> {
        let mut max_pages = None;
        if let Some(max) = options.max_bytes {
            let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let page = page.max(512) as u64;
            let pages = (max / page).max(1);
            let used: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            // Within 16 pages (64 KiB) of it counts too: a write that needs more pages than
            // are left fails, so a store that filled up may stop a few pages short.
            if used as u64 + 16 >= pages {
                // ops2: a limit below the store's size refuses every call from the start, with
                // nothing in the log to say why.
                tracing::warn!(
                    store_mb = used as u64 * page / (1 << 20),
                    limit_mb = max / (1 << 20),
                    "--max-store-mb is not above the store's current size (or leaves it under 64 KiB): calls that record an event will be refused (503) until it is raised"
                );
            }
            conn.execute_batch(&format!("PRAGMA max_page_count = {pages}"))?;
            max_pages = Some(pages as i64);
        }
        // ops7: on a disk with little room the small-WAL mode a full disk turns on must hold
        // from the start, or a restart after freeing space (the README's recovery) let the
        // WAL grow back toward its 32 MiB checkpoint into the space freed.
        if let Some(free) = free_bytes(path).filter(|f| low_space(*f)) {
            full_disk::DISK_WAS_FULL.store(true, std::sync::atomic::Ordering::Release);
            conn.execute_batch("PRAGMA wal_autocheckpoint = 1000;")?;
            tracing::warn!(
                free_mb = free >> 20,
                "little room left on the data dir's disk: the store keeps its WAL small"
            );
        }
        let writer = writer::WriterHandle::spawn(conn);
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                max_pages,
                writer,
                readers: Mutex::new(Vec::new()),
                last_probe: Mutex::new(None),
            }),
        })
    }

    /// Runs `job` on the writer thread inside the next group commit and returns its value
    /// once that commit is durable. The job must do its own error handling: its writes are
    /// committed whatever it returns (use [`with_savepoint`] to undo a failed mutation).
    pub async fn write<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> T + Send + 'static,
    {
        self.inner.writer.submit(job).await
    }

    /// Like [`Store::write`] but blocking, for admin commands and tests outside a runtime.
    pub fn write_blocking<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> T + Send + 'static,
    {
        self.inner.writer.submit_blocking(job)
    }

    /// Runs `query` on a pooled read-only connection, inside one read transaction: every
    /// query it makes sees the same committed state, and the connection takes its WAL read
    /// lock once rather than once per statement.
    pub fn read_blocking<T>(
        &self,
        query: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let conn = {
            let mut pool = self.inner.readers.lock().expect("reader pool lock");
            pool.pop()
        };
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.inner.path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                schema::configure_reader(&c)?;
                c
            }
        };
        conn.prepare_cached("BEGIN")?.execute([])?;
        let out = query(&conn);
        // A read-only transaction: ending it cannot lose anything. If it cannot be ended,
        // the connection is dropped rather than pooled with a transaction open.
        if conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
            .is_err()
        {
            return out;
        }
        let mut pool = self.inner.readers.lock().expect("reader pool lock");
        if pool.len() < IDLE_READERS {
            pool.push(conn);
        }
        out
    }

    /// Whether the writer thread is running (it stops only on an unrecoverable fault).
    pub fn writer_alive(&self) -> bool {
        self.inner.writer.alive()
    }

    /// Whether a commit found the store file, or its WAL or shared-memory file, gone or
    /// replaced under the server: every write is refused from then on.
    pub fn files_gone(&self) -> bool {
        self.inner.writer.files_gone()
    }

    /// [`Store::files_gone`], or whether a store file is gone or replaced now (its `stat`), so
    /// an idle server's health check sees a removed file before any call does (recheck32b).
    pub fn files_gone_now(&self) -> bool {
        self.inner.writer.files_gone_now()
    }

    /// Whether writes are refused for lack of space: the last write transaction failed on a
    /// full disk or size limit, and a probe write still fails, or the store is within
    /// [`FULL_HEADROOM_PAGES`] of its size limit (`--max-store-mb`), where any call that needs
    /// a new page is refused.
    pub async fn full(&self) -> bool {
        if self.inner.writer.saw_full() {
            // A small write (a page of WAL) probes for space: once some came back it commits
            // and clears the mark, so a health check recovers without waiting for a call. At
            // most one probe every two seconds, bounded in time: checks in between (or a
            // flood of them) answer "full" without writing.
            if !self.probe_due(PROBE_SPACING) {
                return true;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis().to_string())
                .unwrap_or_default();
            // As large as the largest record a call writes: a probe that fits where calls do
            // not would say "ok" while they are refused. The room it takes is given back by
            // the second write.
            let probed = tokio::time::timeout(PROBE_SPACING, async {
                self.write(|c| meta::put(c, "space_probe", &"0".repeat(PROBE_BYTES)))
                    .await??;
                self.write(move |c| meta::put(c, "space_probe", &now)).await
            })
            .await;
            if !matches!(probed, Ok(Ok(Ok(())))) || self.inner.writer.saw_full() {
                return true;
            }
        }
        let Some(max) = self.inner.max_pages else {
            return false;
        };
        self.read(move |c| {
            let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let free: i64 = c.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
            Ok(pages - free + FULL_HEADROOM_PAGES >= max)
        })
        .await
        .unwrap_or(false)
    }

    /// Whether a space probe may run now (none began within `spacing`); marks it begun.
    fn probe_due(&self, spacing: std::time::Duration) -> bool {
        let mut last = self
            .inner
            .last_probe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < spacing) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Runs `query` on a read-only connection from async code.
    pub async fn read<T, F>(&self, query: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read_blocking(query))
            .await
            .map_err(|e| StoreError::Sqlite(format!("reader task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    /// hostile16: a WAL grown while long reads held it kept its size for good; the writer
    /// cuts it back to 64 MiB once a checkpoint restarts it.
    #[test]
    fn the_wal_is_cut_back_after_a_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("cairn.db")).unwrap();
        let limit: i64 = store
            .write_blocking(|c| c.query_row("PRAGMA journal_size_limit", [], |r| r.get(0)))
            .unwrap()
            .unwrap();
        assert_eq!(limit, 64 << 20);
    }

    /// A store marked full (a write transaction SQLite rolled back, as it does when the disk
    /// fills) is found to have space again by the next check's probe write, with no call
    /// needed: a load balancer's health check brings the server back by itself.
    #[test]
    fn the_full_mark_clears_when_a_probe_write_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("cairn.db")).unwrap();
        let _ = store.write_blocking(|c| c.execute_batch("ROLLBACK"));
        assert!(store.inner.writer.saw_full());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(!rt.block_on(store.full()));
        assert!(!store.inner.writer.saw_full());
    }

    /// A disk with room for a small write but not for a call's record stays "full": the
    /// probe writes as much as the largest record (an outside tester saw "ok" while every
    /// call was refused with 503).
    #[test]
    fn a_probe_needs_room_for_a_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("cairn.db")).unwrap();
        let limit = |extra_pages: i64| {
            store
                .write_blocking(move |c| {
                    let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                    c.query_row(
                        &format!("PRAGMA max_page_count = {}", pages + extra_pages),
                        [],
                        |_| Ok(()),
                    )
                })
                .unwrap()
                .unwrap();
        };
        // Room for about 40 KB: a small write fits, a 256 KB record does not.
        limit(10);
        store
            .write_blocking(|c| crate::meta::put(c, "small", "fits"))
            .unwrap()
            .unwrap();
        let _ = store.write_blocking(|c| c.execute_batch("ROLLBACK"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(rt.block_on(store.full()));
        // Space came back.
        limit(1_000);
        *store.inner.last_probe.lock().unwrap() = None;
        assert!(!rt.block_on(store.full()));
    }

    /// ops7: a read-only filesystem or failing writes are refused as a full disk is.
    #[test]
    fn read_only_and_io_failures_count_as_full() {
        let sqlite = |code| {
            crate::StoreError::from(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        assert!(sqlite(rusqlite::ffi::SQLITE_READONLY).is_full());
        assert!(sqlite(rusqlite::ffi::SQLITE_IOERR).is_full());
        assert!(sqlite(rusqlite::ffi::SQLITE_FULL).is_full());
        assert!(!sqlite(rusqlite::ffi::SQLITE_CONSTRAINT).is_full());
    }

    /// ops7: the data dir's free space is read (a restart on a nearly full disk starts
    /// with the small WAL); 256 MiB or less is little room.
    #[test]
    fn free_space_is_read_and_judged() {
        let dir = tempfile::tempdir().unwrap();
        let free = crate::free_bytes(&dir.path().join("cairn.db")).expect("statvfs");
        assert!(free > 0);
        assert!(crate::low_space(20 << 20) && !crate::low_space(1 << 30));
        assert_eq!(crate::free_bytes(std::path::Path::new("cairn.db")), None);
    }

    /// ops6: the WAL grew toward its 32 MiB automatic checkpoint on a quiet server, eating
    /// the space an operator freed on a full disk. Once the disk has been full, an idle
    /// writer checkpoints and truncates a WAL past 4 MiB.
    #[test]
    fn an_idle_writer_keeps_the_wal_small() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cairn.db");
        let store = crate::Store::open(&path).unwrap();
        // A disk that has been full (this process-wide mark is what the writer looks at).
        crate::full_disk::DISK_WAS_FULL.store(true, std::sync::atomic::Ordering::Release);
        let blob = "x".repeat(512 * 1024);
        for i in 0..16 {
            let blob = blob.clone();
            store
                .write_blocking(move |c| crate::meta::put(c, &format!("big-{i}"), &blob))
                .unwrap()
                .unwrap();
        }
        let wal = dir.path().join("cairn.db-wal");
        // 8 MiB went through the WAL; once the writer is idle, it is truncated.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::fs::metadata(&wal).map_or(0, |m| m.len()) > 4 * 1024 * 1024 {
            assert!(std::time::Instant::now() < deadline, "the WAL stayed large");
            std::thread::yield_now();
        }
        let got = store
            .read_blocking(|c| crate::meta::get(c, "big-15"))
            .unwrap()
            .unwrap();
        assert_eq!(got.len(), 512 * 1024);
    }

    /// Every query of one read sees the same committed state, even when a write commits
    /// between two of them.
    #[test]
    fn a_read_sees_one_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("cairn.db")).unwrap();
        store
            .write_blocking(|c| c.execute_batch("CREATE TABLE t (x INTEGER)"))
            .unwrap()
            .unwrap();
        let count = |c: &rusqlite::Connection| -> rusqlite::Result<i64> {
            c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        };
        let writer = store.clone();
        let (before, after) = store
            .read_blocking(move |c| {
                let before = count(c)?;
                writer
                    .write_blocking(|w| w.execute("INSERT INTO t VALUES (1)", []))
                    .unwrap()
                    .unwrap();
                Ok((before, count(c)?))
            })
            .unwrap();
        assert_eq!((before, after), (0, 0));
        // The next read sees the commit.
        assert_eq!(store.read_blocking(|c| Ok(count(c)?)).unwrap(), 1);
    }
}
