//! The single writer thread and its group commit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;

use crate::{StoreError, StoreResult};

/// Largest number of jobs committed together.
const MAX_BATCH: usize = 512;

type Completion = Box<dyn FnOnce(StoreResult<()>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;

pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Job>,
    alive: Arc<AtomicBool>,
}

/// Marks the writer dead when its thread ends, however it ends. Ending because the store
/// was closed (every handle dropped, as at shutdown) is normal; ending any other way is not.
struct AliveGuard(Arc<AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            tracing::error!("the store writer stopped; the server can no longer record calls");
        } else {
            tracing::debug!("the store writer stopped: the store was closed");
        }
        self.0.store(false, Ordering::Release);
    }
}

impl WriterHandle {
    pub(crate) fn spawn(conn: Connection) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let alive = Arc::new(AtomicBool::new(true));
        let guard = AliveGuard(alive.clone());
        // The thread logs where the code that opened the store logs.
        let dispatch = tracing::dispatcher::get_default(|d| d.clone());
        std::thread::Builder::new()
            .name("cairn-store-writer".into())
            .spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let _guard = guard;
                    run(conn, rx)
                })
            })
            .expect("spawn writer thread");
        Self { tx, alive }
    }

    pub(crate) fn alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
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

fn run(conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, batch);
    }
}

fn commit_batch(conn: &Connection, batch: Vec<Job>) {
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
    let outcome = match poisoned {
        Some(e) => {
            tracing::error!(error = %e, "the batch is abandoned");
            Err(e)
        }
        None => exec(conn, "COMMIT").map_err(StoreError::from),
    };
    if let Err(e) = &outcome {
        let _ = conn.execute_batch("ROLLBACK");
        if e.is_full() {
            tracing::error!(error = %e, "the disk (or the store's size limit) is full: calls are refused with 503 until space is freed");
            // Give the WAL's space back so the disk can recover.
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
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
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Log lines written by the subscriber under test.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Closing the store (every handle dropped, as at shutdown) ends the writer quietly.
    #[test]
    fn closing_the_store_logs_no_error() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let dir = tempfile::tempdir().unwrap();
        tracing::subscriber::with_default(subscriber, || {
            let conn = rusqlite::Connection::open(dir.path().join("w.db")).unwrap();
            let handle = super::WriterHandle::spawn(conn);
            handle.submit_blocking(|_| ()).unwrap();
            let alive = handle.alive.clone();
            drop(handle);
            // The thread ends once it sees the channel closed.
            while alive.load(std::sync::atomic::Ordering::Acquire) {
                std::thread::yield_now();
            }
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("the store was closed"), "{text}");
        assert!(!text.contains("ERROR"), "{text}");
    }
}
