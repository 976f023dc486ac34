//! Object bytes on disk: one file per object or part, named by an opaque id under
//! `<data-dir>/objects`. Keys never become paths, so no key can escape the data dir.
//! Writes go to a temp file, are fsynced, then renamed into place: a crash leaves either
//! the old object or the new one, never a torn file.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// A file that has been written and made durable.
#[derive(Clone, Debug)]
pub struct Written {
    /// The file id.
    pub file: String,
    /// Bytes written.
    pub size: i64,
    /// Hex MD5 of the bytes.
    pub md5_hex: String,
}

/// A file made durable from other files (no digest computed).
#[derive(Clone, Debug)]
pub struct Placed {
    /// The file id.
    pub file: String,
    /// Bytes written.
    pub size: i64,
}

/// Why a write failed.
#[derive(Debug)]
pub enum WriteError {
    /// The body stream failed (client went away, bad chunk signature…).
    Body(String),
    /// The disk failed.
    Io(std::io::Error),
}

/// The object file directory.
#[derive(Clone, Debug)]
pub struct ObjectFiles {
    dir: PathBuf,
}

impl ObjectFiles {
    /// Uses (and creates) `<data_dir>/objects`.
    pub fn new(data_dir: &Path) -> std::io::Result<Self> {
        let dir = data_dir.join("objects");
        std::fs::create_dir_all(&dir)?;
        // A new directory survives a power cut only once its parent is synced.
        std::fs::File::open(data_dir)?.sync_all()?;
        Ok(Self { dir })
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Streams `body` into a new durable file.
    pub async fn write<S, E>(&self, mut body: S) -> Result<Written, WriteError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let file = uuid::Uuid::new_v4().simple().to_string();
        let tmp = self.path(&format!("{TEMP_PREFIX}{file}"));
        let result = async {
            let mut out = tokio::fs::File::create(&tmp)
                .await
                .map_err(WriteError::Io)?;
            let mut md5 = Md5::new();
            let mut size = 0i64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| WriteError::Body(e.to_string()))?;
                md5.update(&chunk);
                size += chunk.len() as i64;
                out.write_all(&chunk).await.map_err(WriteError::Io)?;
            }
            out.sync_all().await.map_err(WriteError::Io)?;
            Ok((size, hex::encode(md5.finalize())))
        }
        .await;
        match result {
            Ok((size, md5_hex)) => {
                tokio::fs::rename(&tmp, self.path(&file))
                    .await
                    .map_err(WriteError::Io)?;
                self.sync_dir().await.map_err(WriteError::Io)?;
                Ok(Written {
                    file,
                    size,
                    md5_hex,
                })
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    async fn sync_dir(&self) -> std::io::Result<()> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
            .await
            .map_err(std::io::Error::other)?
    }

    /// Concatenates files into a new durable file (multipart completion; a copy is the
    /// one-file case). The bytes move file to file in the kernel (`copy_file_range` where the
    /// filesystem has it) or through a small fixed buffer: memory does not grow with the
    /// size of the files. Returns the new file and its size (no MD5: callers that need one
    /// already know it).
    pub async fn concat(&self, files: &[String]) -> std::io::Result<Placed> {
        let sources: Vec<PathBuf> = files.iter().map(|f| self.path(f)).collect();
        let file = uuid::Uuid::new_v4().simple().to_string();
        let tmp = self.path(&format!("{TEMP_PREFIX}{file}"));
        let target = self.path(&file);
        let dir = self.dir.clone();
        let placed = tokio::task::spawn_blocking(move || {
            let copied = (|| {
                let mut out = std::fs::File::create(&tmp)?;
                let mut size = 0u64;
                for source in &sources {
                    let mut input = std::fs::File::open(source)?;
                    size += std::io::copy(&mut input, &mut out)?;
                }
                out.sync_all()?;
                Ok::<_, std::io::Error>(size)
            })();
            let size = match copied {
                Ok(size) => size,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            };
            std::fs::rename(&tmp, &target)?;
            std::fs::File::open(&dir)?.sync_all()?;
            Ok(size)
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(Placed {
            file,
            size: placed as i64,
        })
    }

    /// Opens a file for reading, on the calling (blocking) thread: a reader that holds the
    /// handle keeps the bytes even if the file is deleted after a later commit.
    pub fn open_blocking(&self, file: &str) -> std::io::Result<std::fs::File> {
        std::fs::File::open(self.path(file))
    }

    /// Reads `range` of an opened file as a stream of chunks.
    pub async fn read_opened(
        file: std::fs::File,
        range: std::ops::Range<u64>,
    ) -> std::io::Result<impl Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static> {
        let mut f = tokio::fs::File::from_std(file);
        f.seek(SeekFrom::Start(range.start)).await?;
        let limited = f.take(range.end - range.start);
        Ok(tokio_util::io::ReaderStream::with_capacity(
            limited,
            256 * 1024,
        ))
    }

    /// Reads `range` of a file as a stream of chunks.
    pub async fn read(
        &self,
        file: &str,
        range: std::ops::Range<u64>,
    ) -> std::io::Result<impl Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static> {
        let f = tokio::fs::File::open(self.path(file))
            .await?
            .into_std()
            .await;
        Self::read_opened(f, range).await
    }

    /// Deletes files (after the commit that stopped referencing them).
    pub async fn remove(&self, files: impl IntoIterator<Item = String>) {
        for f in files {
            if let Err(e) = tokio::fs::remove_file(self.path(&f)).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(file = %f, error = %e, "cannot delete object file");
            }
        }
    }

    /// Cleans the directory at start, in one pass: deletes the temp files of writes a stop
    /// cut off (`tmp-…`: never complete, so no record can have referred to them), moves the
    /// complete files no record references into `<data-dir>/orphaned-objects` (a write that
    /// finished just before a crash and waited for its commit, or, many at once, the files of
    /// records a damaged store lost: kept for inspection rather than destroyed), deletes what
    /// that directory has held for a week, and counts the referenced files that are missing (a
    /// data dir copied while its server wrote, or files deleted by hand).
    pub fn quarantine_orphans(
        &self,
        referenced: &std::collections::HashSet<String>,
    ) -> std::io::Result<Orphans> {
        let quarantine = self.quarantine_dir();
        expire_quarantine(&quarantine, std::time::Duration::from_secs(QUARANTINE_SECS));
        let mut moved = 0;
        let mut cut_off = 0;
        let mut present = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if referenced.contains(&name) {
                present += 1;
                continue;
            }
            if name.starts_with(TEMP_PREFIX) {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => cut_off += 1,
                    Err(e) => tracing::warn!(
                        file = %entry.path().display(),
                        error = %e,
                        "the temp file of a write cut off by a stop could not be deleted"
                    ),
                }
                continue;
            }
            // Best effort: a quarantine that cannot take the file (not a directory, another
            // file system, no space) leaves it where it is, named, and never stops the start.
            let target = quarantine.join(&name);
            let kept = std::fs::create_dir_all(&quarantine)
                .and_then(|()| std::fs::rename(entry.path(), &target))
                // Kept a week from now, whatever the age of its bytes.
                .and_then(|()| {
                    std::fs::File::open(&target)?.set_modified(std::time::SystemTime::now())
                });
            match kept {
                Ok(()) => moved += 1,
                Err(e) => tracing::warn!(
                    file = %entry.path().display(),
                    quarantine = %quarantine.display(),
                    error = %e,
                    "an object file no record references could not be moved aside; left in place"
                ),
            }
        }
        Ok(Orphans {
            moved,
            cut_off,
            missing: referenced.len() - present,
        })
    }

    /// Where unreferenced files are kept: `<data-dir>/orphaned-objects`.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.dir.with_file_name(QUARANTINE)
    }

    /// The files no record references, by name: what `quarantine_orphans` would move.
    pub fn unreferenced(
        &self,
        referenced: &std::collections::HashSet<String>,
    ) -> std::io::Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if !referenced.contains(&name) {
                out.push(name);
            }
        }
        Ok(out)
    }
}

/// The directory unreferenced object files are moved to, beside `objects`.
pub const QUARANTINE: &str = "orphaned-objects";

/// How long a quarantined file is kept: a week.
const QUARANTINE_SECS: u64 = 7 * 24 * 3600;

/// The name prefix of a file being written, renamed away once complete and fsynced.
pub const TEMP_PREFIX: &str = "tmp-";

/// What the start-up clean of the object directory did ([`ObjectFiles::quarantine_orphans`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Orphans {
    /// Complete files no record references, moved to the quarantine.
    pub moved: usize,
    /// Temp files of writes a stop cut off, deleted.
    pub cut_off: usize,
    /// Referenced files that are not there.
    pub missing: usize,
}

/// Deletes the quarantined files kept longer than `keep`. Best effort: what cannot be read or
/// deleted (a directory someone made there, a quarantine that is not a directory) is left,
/// with a warning naming it.
fn expire_quarantine(dir: &Path, keep: std::time::Duration) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot read the orphaned-objects directory");
            return;
        }
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .is_some_and(|m| {
                m.modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > keep)
            });
        if old && let Err(e) = std::fs::remove_file(entry.path()) {
            tracing::warn!(file = %entry.path().display(), error = %e, "cannot delete an expired orphaned object file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn scratch() -> (Dir, ObjectFiles) {
        let dir = std::env::temp_dir().join(format!("cairn-local-{}", uuid::Uuid::new_v4()));
        let files = ObjectFiles::new(&dir).unwrap();
        (Dir(dir), files)
    }

    fn names(files: &ObjectFiles) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(&files.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        out.sort();
        out
    }

    async fn write(files: &ObjectFiles, data: &[u8]) -> Written {
        files
            .write(futures::stream::iter([Ok::<_, std::io::Error>(
                Bytes::copy_from_slice(data),
            )]))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn concat_joins_files_in_order_into_a_new_durable_file() {
        let (_d, files) = scratch();
        let a = write(&files, b"first part, ").await;
        let b = write(&files, &vec![b'x'; 300_000]).await;
        let placed = files
            .concat(&[a.file.clone(), b.file.clone()])
            .await
            .unwrap();
        let mut expected = b"first part, ".to_vec();
        expected.extend(vec![b'x'; 300_000]);
        assert_eq!(placed.size, expected.len() as i64);
        assert_eq!(std::fs::read(files.path(&placed.file)).unwrap(), expected);
        // The sources are untouched and no temp file is left.
        assert_eq!(names(&files).len(), 3);
        assert!(names(&files).iter().all(|n| !n.starts_with("tmp-")));
    }

    #[tokio::test]
    async fn a_failed_concat_leaves_nothing_behind() {
        let (_d, files) = scratch();
        let a = write(&files, b"present").await;
        let e = files
            .concat(&[a.file.clone(), "missing".to_owned()])
            .await
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(names(&files), vec![a.file]);
    }

    #[tokio::test]
    async fn a_failed_body_leaves_no_file() {
        let (_d, files) = scratch();
        let body = futures::stream::iter([
            Ok(Bytes::from_static(b"some bytes")),
            Err(std::io::Error::other("client went away")),
        ]);
        match files.write(body).await {
            Err(WriteError::Body(m)) => assert!(m.contains("client went away")),
            other => panic!("expected a body error, got {other:?}"),
        }
        assert!(names(&files).is_empty());
    }
}
