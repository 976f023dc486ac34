//! The single writer thread and its group commit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;

use crate::{StoreError, StoreResult};

/// The store's full-disk reports: one ERROR when it fills, a summary a minute, one line when
/// space is back.
static STORE_FULL: crate::full_disk::FullDiskLog =
    crate::full_disk::FullDiskLog::new("the event store (or its --max-store-mb limit)");

/// Largest number of jobs committed together.
const MAX_BATCH: usize = 512;

type Completion = Box<dyn FnOnce(StoreResult<()>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;

pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Job>,
    state: Arc<AtomicU8>,
    /// The last write transaction failed because the disk (or the size limit) was full, and
    /// none that wrote something has committed since.
    full: Arc<AtomicBool>,
    /// A commit found a store file gone or replaced ([`OpenedFile`]): nothing can be
    /// acknowledged any more.
    gone: Arc<AtomicBool>,
    /// The store's files as opened, also looked at by health checks.
    opened: Option<Arc<OpenedFile>>,
}

/// The writer thread runs.
const RUNNING: u8 = 0;
/// It ended because the store was closed (every handle dropped, as at shutdown).
const CLOSED: u8 = 1;
/// It ended any other way (a panic): the server can no longer record calls.
const FAILED: u8 = 2;

/// Marks the writer dead when its thread ends, however it ends. Ending because the store
/// was closed (every handle dropped, as at shutdown) is normal; ending any other way is not.
struct AliveGuard(Arc<AtomicU8>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        let end = if std::thread::panicking() {
            tracing::error!("the store writer stopped; the server can no longer record calls");
            FAILED
        } else {
            tracing::debug!("the store writer stopped: the store was closed");
            CLOSED
        };
        self.0.store(end, Ordering::Release);
    }
}

impl WriterHandle {
    pub(crate) fn spawn(conn: Connection) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let state = Arc::new(AtomicU8::new(RUNNING));
        let guard = AliveGuard(state.clone());
        let full = Arc::new(AtomicBool::new(false));
        let seen_full = full.clone();
        let gone = Arc::new(AtomicBool::new(false));
        let seen_gone = gone.clone();
        let opened = OpenedFile::of(&conn).map(Arc::new);
        let watched = opened.clone();
        // The thread logs where the code that opened the store logs.
        let dispatch = tracing::dispatcher::get_default(|d| d.clone());
        std::thread::Builder::new()
            .name("cairn-store-writer".into())
            .spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let _guard = guard;
                    run(conn, rx, &seen_full, &seen_gone, watched)
                })
            })
            .expect("spawn writer thread");
        Self {
            tx,
            state,
            full,
            gone,
            opened,
        }
    }

    /// Whether a commit found a store file gone or replaced under the server.
    pub(crate) fn files_gone(&self) -> bool {
        self.gone.load(Ordering::Acquire)
    }

    /// [`WriterHandle::files_gone`], or whether one is gone or replaced now (a `stat` of each,
    /// without waiting for a commit; a data dir moved back is fine again).
    pub(crate) fn files_gone_now(&self) -> bool {
        self.files_gone() || self.opened.as_ref().is_some_and(|o| o.gone().is_some())
    }

    pub(crate) fn alive(&self) -> bool {
        self.state.load(Ordering::Acquire) == RUNNING
    }

    /// Whether the last write failed for lack of space and nothing was written since.
    pub(crate) fn saw_full(&self) -> bool {
        self.full.load(Ordering::Acquire)
    }

    /// Queues `job`; `reply` receives its value once the batch holding it has committed.
    fn enqueue<T, F>(
        &self,
        job: F,
        reply: impl FnOnce(StoreResult<T>) + Send + 'static,
    ) -> StoreResult<()>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> T + Send + 'static,
    {
        let boxed: Job = Box::new(move |conn| {
            let value = job(conn);
            Box::new(move |outcome: StoreResult<()>| reply(outcome.map(|()| value)))
        });
        self.tx.send(boxed).map_err(|_| StoreError::WriterGone)
    }

    pub(crate) async fn submit<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> T + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.enqueue(job, move |r| {
            let _ = tx.send(r);
        })?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    pub(crate) fn submit_blocking<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> T + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        self.enqueue(job, move |r| {
            let _ = tx.send(r);
        })?;
        rx.recv().map_err(|_| StoreError::WriterGone)?
    }
}

/// The store file as the writer opened it (device and inode at its path), so a commit can
/// tell that the data dir was deleted or moved under the server (ops5: calls were answered
/// 200 and recorded into a deleted file, lost when the process stopped). Its `-wal` and
/// `-shm` files too, where commits land before a checkpoint (recheck32: with the WAL deleted,
/// calls were answered 200 and lost at the next crash): SQLite removes them only when the
/// last connection closes, and the writer's stays open, so each keeps the identity it had
/// when first seen.
/// A `-wal` or `-shm` file: its path, and its identity when first seen.
type Companion = (std::path::PathBuf, std::sync::Mutex<Option<(u64, u64)>>);

struct OpenedFile {
    path: std::path::PathBuf,
    id: (u64, u64),
    companions: [Companion; 2],
}

impl OpenedFile {
    fn of(conn: &Connection) -> Option<Self> {
        let path = std::path::PathBuf::from(conn.path().filter(|p| !p.is_empty())?);
        let id = file_id(&path)?;
        let companion = |suffix: &str| {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let p = std::path::PathBuf::from(p);
            let id = file_id(&p);
            (p, std::sync::Mutex::new(id))
        };
        let companions = [companion("-wal"), companion("-shm")];
        Some(Self {
            path,
            id,
            companions,
        })
    }

    /// The size of the `-wal` file now.
    fn wal_len(&self) -> Option<u64> {
        std::fs::metadata(&self.companions[0].0)
            .ok()
            .map(|m| m.len())
    }

    /// Whether the file at the path is still the one opened, and its WAL and shared-memory
    /// files the ones first seen. Returns the path of one that is not.
    fn gone(&self) -> Option<&std::path::Path> {
        if file_id(&self.path) != Some(self.id) {
            return Some(&self.path);
        }
        for (path, seen) in &self.companions {
            let now = file_id(path);
            let mut seen = seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match *seen {
                None => *seen = now,
                Some(id) if now != Some(id) => return Some(path),
                Some(_) => {}
            }
        }
        None
    }
}

fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn run(
    conn: Connection,
    rx: mpsc::Receiver<Job>,
    full: &AtomicBool,
    gone: &AtomicBool,
    opened: Option<Arc<OpenedFile>>,
) {
    let mut next: Option<Job> = None;
    loop {
        let first = match next.take() {
            Some(job) => job,
            None => match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, batch, full, opened.as_deref(), gone);
        match rx.recv_timeout(IDLE) {
            Ok(job) => next = Some(job),
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            // Idle (nothing came for a moment), on a disk that has been full, with a WAL past
            // SQLite's default 1000 pages: it is copied into the database and truncated now,
            // while no call waits, so the WAL does not grow toward the 32 MiB automatic
            // checkpoint, eating space an operator freed (ops6). Otherwise, and under load,
            // the automatic one applies (checkpointing at every pause slowed reads).
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if crate::full_disk::DISK_WAS_FULL.load(Ordering::Acquire)
                    && opened
                        .as_deref()
                        .and_then(OpenedFile::wal_len)
                        .is_some_and(|n| n > IDLE_CHECKPOINT_BYTES)
                {
                    // Never waiting on a reader: one in the WAL makes it a no-op, tried again
                    // at the next idle moment.
                    let _ = conn.busy_timeout(std::time::Duration::ZERO);
                    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
                    let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
                }
            }
        }
    }
}

/// How long the writer waits for work before it counts as idle.
const IDLE: std::time::Duration = std::time::Duration::from_millis(100);

/// The WAL size past which an idle writer checkpoints and truncates it (SQLite's default
/// automatic checkpoint, 1000 pages of 4 KiB).
const IDLE_CHECKPOINT_BYTES: u64 = 1000 * 4096;

fn commit_batch(
    conn: &Connection,
    batch: Vec<Job>,
    full: &AtomicBool,
    opened: Option<&OpenedFile>,
    gone: &AtomicBool,
) {
    let changes_before = conn.total_changes();
    if full.load(Ordering::Acquire) {
        // Full when last tried: the WAL is copied into the database and truncated first,
        // now that space may have come back, so the space it held is the disk's again
        // (ops6: with under 32 MiB freed, the WAL grew back into it before its next automatic
        // checkpoint, which then had no room to run, and the store stayed full for good).
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        // Dropping the unrun jobs drops their reply channels: each caller gets WriterGone.
        tracing::error!(error = %e, jobs = batch.len(), "cannot begin write transaction");
        return;
    }
    let mut completions: Vec<Completion> = Vec::with_capacity(batch.len());
    let mut poisoned = None;
    for job in batch {
        if poisoned.is_some() {
            // The transaction can no longer be trusted; the remaining jobs are not run.
            continue;
        }
        if let Err(e) = exec(conn, "SAVEPOINT job") {
            tracing::error!(error = %e, "cannot open a job savepoint; the job is dropped");
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| job(conn))) {
            Ok(done) if conn.is_autocommit() => {
                // SQLite rolled the whole transaction back on its own, which it does when the
                // disk is full (or on an I/O error): every job of the batch is undone.
                completions.push(done);
                poisoned = Some(StoreError::Full(
                    "the write transaction was rolled back by SQLite (disk full or I/O error)"
                        .into(),
                ));
            }
            Ok(done) => {
                let _ = exec(conn, "RELEASE job");
                completions.push(done);
            }
            Err(_) => {
                tracing::error!("store job panicked; rolling its writes back");
                // If its writes cannot be undone, a state change could commit without its
                // event: the whole transaction is abandoned instead.
                if let Err(e) = conn.execute_batch("ROLLBACK TO job; RELEASE job") {
                    poisoned = Some(StoreError::from(e));
                }
            }
        }
    }
    if poisoned.is_none()
        && let Some(path) = opened.and_then(OpenedFile::gone)
    {
        static TOLD: AtomicBool = AtomicBool::new(false);
        if !TOLD.swap(true, Ordering::Relaxed) {
            tracing::error!(
                path = %path.display(),
                "a store file is gone or replaced (its data dir was deleted or moved, or a file removed from it): calls are refused with 503; restart the server on a data dir"
            );
        }
        // Nothing is acknowledged from now on, even if the file comes back.
        gone.store(true, Ordering::Release);
        poisoned = Some(StoreError::Gone(path.display().to_string()));
    }
    let outcome = match poisoned {
        Some(e) => {
            if !e.is_full() && !matches!(e, StoreError::Gone(_)) {
                tracing::error!(error = %e, "the batch is abandoned");
            }
            Err(e)
        }
        None => exec(conn, "COMMIT").map_err(StoreError::from),
    };
    match &outcome {
        // A write landed: the store is not full (any more).
        Ok(()) if conn.total_changes() > changes_before && full.swap(false, Ordering::AcqRel) => {
            STORE_FULL.recovered();
            // And its WAL is given back at once, not left to grow toward the automatic
            // checkpoint on a disk that has just had room again.
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        Err(e) if e.is_full() => full.store(true, Ordering::Release),
        _ => {}
    }
    if let Err(e) = &outcome {
        let _ = conn.execute_batch("ROLLBACK");
        if e.is_full() {
            STORE_FULL.refused(e);
            // Give the WAL's space back so the disk can recover, and from now on keep the WAL
            // at SQLite's default 1000 pages (4 MiB) instead of 32 MiB: a disk that filled has
            // little margin, and a large WAL grows back into the space freed for it.
            let _ = conn.execute_batch(
                "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint = 1000;",
            );
        }
    }
    for done in completions {
        done(outcome.clone());
    }
}

/// Runs `body` inside a savepoint and rolls its writes back if it returns `Err`.
pub fn with_savepoint<T, E>(
    conn: &Connection,
    body: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    exec(conn, "SAVEPOINT op").map_err(StoreError::from)?;
    let out = body(conn);
    if out.is_err() {
        // A full store can make SQLite roll the whole transaction back, savepoint and all:
        // the body's error is then the one to report, not "no such savepoint" (ops8).
        if conn.is_autocommit() {
            return out;
        }
        exec(conn, "ROLLBACK TO op").map_err(StoreError::from)?;
    }
    exec(conn, "RELEASE op").map_err(StoreError::from)?;
    out
}

/// Runs a transaction-control statement from the statement cache (no re-parsing per call).
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    /// Closing the store (every handle dropped, as at shutdown) ends the writer as a normal
    /// close, logged at DEBUG, not as the failure logged at ERROR. (The state, not captured log
    /// text, is asserted: tracing's callsite cache is shared with the tests running beside.)
    #[test]
    fn closing_the_store_ends_the_writer_as_a_normal_close() {
        let dir = tempfile::tempdir().unwrap();
        let conn = rusqlite::Connection::open(dir.path().join("w.db")).unwrap();
        let handle = super::WriterHandle::spawn(conn);
        handle.submit_blocking(|_| ()).unwrap();
        let state = handle.state.clone();
        drop(handle);
        // The thread ends once it sees the channel closed.
        while state.load(Ordering::Acquire) == super::RUNNING {
            std::thread::yield_now();
        }
        assert_eq!(state.load(Ordering::Acquire), super::CLOSED);
    }

    /// ops8: a body whose error came with SQLite's rollback of the whole transaction keeps
    /// its own error ("no such savepoint" replaced it, logged as a store failure).
    #[test]
    fn a_body_rolled_back_by_sqlite_keeps_its_error() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x); BEGIN;").unwrap();
        let out: Result<(), crate::StoreError> = super::with_savepoint(&conn, |c| {
            c.execute_batch("ROLLBACK")?;
            Err(crate::StoreError::Corrupt("the body's own".into()))
        });
        assert!(out.unwrap_err().to_string().contains("the body's own"));
    }
}
