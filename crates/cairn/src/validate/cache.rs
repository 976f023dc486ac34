//! The validator's local cache of log files it has already inflated and hashed, so a second
//! validation of the same bucket reads only the files that changed since.
//!
//! An entry binds a log file's SHA-256 (of its inflated bytes, as digests list it) to what
//! the GetObject that returned those bytes said of the object: its `ETag`, `Last-Modified`
//! (whole seconds) and byte count. A later run takes the hash without reading the file only
//! when the bucket listing of that run shows the same three values for the key. Whoever
//! rewrites an object through the S3 API (a bucket writer, the attacker validation is
//! for) gets a new `Last-Modified` from the server, and a new `ETag` (an MD5 of the bytes,
//! or an opaque value S3 draws anew for encrypted objects) unless the bytes are the same; so
//! a rewritten file is read and hashed again. Only plain valid gzip files are cached: one
//! with trailing data, or not gzip, is read every time.
//!
//! One file per S3 endpoint, bucket and log folder, under `--cache-dir` (default
//! `$XDG_CACHE_HOME/cairn`, else `~/.cache/cairn`), written whole to a temporary file and
//! renamed, mode 0600 in a 0700 folder. It keeps the keys the last listing showed; a file
//! that cannot be read as a cache is ignored (the run reads everything).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::extra::LogKey;

/// The largest cache file read (a larger one is ignored).
const MAX_CACHE_BYTES: u64 = 512 << 20;

/// What S3 said of one object's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The ETag, without its quotes.
    pub etag: String,
    /// `Last-Modified`, whole epoch seconds.
    pub modified: i64,
    /// The object's length in bytes.
    pub size: u64,
}

impl Stamp {
    /// The stamp a listing gave a key, when it gave all three values.
    pub fn listed(log: &LogKey) -> Option<Stamp> {
        Some(Stamp {
            etag: unquote(log.etag.as_deref()?),
            modified: log.delivered?.floor() as i64,
            size: log.size?,
        })
    }

    /// The stamp of a GetObject answer's headers, with the body's length as read.
    pub fn of_response(headers: &reqwest::header::HeaderMap, size: u64) -> Option<Stamp> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let modified = chrono::DateTime::parse_from_rfc2822(text("last-modified")?).ok()?;
        Some(Stamp {
            etag: unquote(text("etag")?),
            modified: modified.timestamp(),
            size,
        })
    }
}

fn unquote(etag: &str) -> String {
    etag.trim().trim_matches('"').to_owned()
}

/// One cached hash.
type Entry = (String, String, i64, u64, String); // key, etag, modified, size, hash

/// The cache of one S3 endpoint, bucket and log folder.
pub struct HashCache {
    path: Option<PathBuf>,
    bucket: String,
    dir: String,
    held: HashMap<String, (Stamp, String)>,
    fresh: Mutex<HashMap<String, (Stamp, String)>>,
}

impl HashCache {
    /// No cache: nothing is read or kept.
    pub fn none(bucket: &str) -> HashCache {
        HashCache {
            path: None,
            bucket: bucket.to_owned(),
            dir: String::new(),
            held: HashMap::new(),
            fresh: Mutex::new(HashMap::new()),
        }
    }

    /// Opens the cache kept under `root` for `endpoint`'s `bucket` and log folder `dir`.
    pub fn open(root: &Path, endpoint: &str, bucket: &str, dir: &str) -> HashCache {
        let name = hex::encode(Sha256::digest(format!("{endpoint}\n{bucket}\n{dir}")));
        let path = root
            .join("validate-logs")
            .join(format!("{}.json", &name[..32]));
        let held = read(&path).unwrap_or_else(|e| {
            eprintln!(
                "cairn validate-logs: the cache {} was not used: {e:#}",
                path.display()
            );
            HashMap::new()
        });
        HashCache {
            path: Some(path),
            bucket: bucket.to_owned(),
            dir: dir.to_owned(),
            held,
            fresh: Mutex::new(HashMap::new()),
        }
    }

    /// Whether it holds any entry (worth listing the folder before fetching for).
    pub fn holds_any(&self) -> bool {
        !self.held.is_empty()
    }

    /// The hashes it holds for the listed keys whose stamp is unchanged, by object.
    pub fn known(&self, listed: &[LogKey]) -> HashMap<(String, String), String> {
        listed
            .iter()
            .filter_map(|log| {
                let (stamp, hash) = self.held.get(&log.key)?;
                (Stamp::listed(log).as_ref() == Some(stamp))
                    .then(|| ((self.bucket.clone(), log.key.clone()), hash.clone()))
            })
            .collect()
    }

    /// Keeps the hash of a file read in this run (only files of its bucket and folder).
    pub fn remember(&self, bucket: &str, key: &str, stamp: Stamp, hash: &str) {
        if self.path.is_some() && bucket == self.bucket && key.starts_with(&self.dir) {
            let mut fresh = self.fresh.lock().unwrap_or_else(|e| e.into_inner());
            fresh.insert(key.to_owned(), (stamp, hash.to_owned()));
        }
    }

    /// Writes the entries of the keys `listed` shows, with the stamp it shows.
    pub fn save(&self, listed: &[LogKey]) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let fresh = self.fresh.lock().unwrap_or_else(|e| e.into_inner());
        let entries: Vec<Entry> = listed
            .iter()
            .filter_map(|log| {
                let stamp = Stamp::listed(log)?;
                let (s, hash) = fresh.get(&log.key).or_else(|| self.held.get(&log.key))?;
                (*s == stamp).then(|| {
                    let Stamp {
                        etag,
                        modified,
                        size,
                    } = stamp;
                    (log.key.clone(), etag, modified, size, hash.clone())
                })
            })
            .collect();
        write(path, &entries)
    }
}

fn read(path: &Path) -> anyhow::Result<HashMap<String, (Stamp, String)>> {
    let found = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(e.into()),
    };
    // Only a regular file (a FIFO would block the open for good: cache34) that no one else
    // could have written: ours, in a folder of ours, neither writable by others.
    if !found.is_file() {
        anyhow::bail!("not a regular file");
    }
    private(&found, "the file")?;
    private(
        &std::fs::symlink_metadata(path.parent().expect("a cache file has a folder"))?,
        "its folder",
    )?;
    let file = std::fs::File::open(path)?;
    let opened = file.metadata()?;
    if !same_file(&found, &opened) {
        anyhow::bail!("replaced while opened");
    }
    if opened.len() > MAX_CACHE_BYTES {
        anyhow::bail!("larger than {MAX_CACHE_BYTES} bytes");
    }
    let entries: Vec<Entry> = serde_json::from_reader(std::io::BufReader::new(file))?;
    Ok(entries
        .into_iter()
        .map(|(key, etag, modified, size, hash)| {
            let stamp = Stamp {
                etag,
                modified,
                size,
            };
            (key, (stamp, hash))
        })
        .collect())
}

/// Refuses what another user owns or could write (cache34: a cache planted by another
/// local user in a shared folder passed tampered files).
#[cfg(unix)]
fn private(meta: &std::fs::Metadata, what: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        anyhow::bail!("{what} belongs to another user (uid {})", meta.uid());
    }
    if meta.mode() & 0o022 != 0 {
        anyhow::bail!(
            "{what} is writable by others (mode {:o})",
            meta.mode() & 0o777
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn private(_meta: &std::fs::Metadata, _what: &str) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(_a: &std::fs::Metadata, _b: &std::fs::Metadata) -> bool {
    true
}

fn write(path: &Path, entries: &[Entry]) -> anyhow::Result<()> {
    let dir = path.parent().expect("a cache file has a folder");
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    // tempfile's files are 0600 on Unix.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(std::io::BufWriter::new(tmp.as_file_mut()), entries)?;
    tmp.as_file_mut().flush()?;
    tmp.persist(path)?;
    Ok(())
}

/// The cache folder: `given`, else `$XDG_CACHE_HOME/cairn`, else `$HOME/.cache/cairn`.
pub fn root(given: Option<&Path>) -> Option<PathBuf> {
    let var = |n: &str| {
        std::env::var_os(n)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    root_from(given, var("XDG_CACHE_HOME"), var("HOME"))
}

/// [`root`] from the values given. A relative XDG_CACHE_HOME is ignored, as the XDG Base
/// Directory specification says (cache34: it was taken relative to the working folder).
fn root_from(given: Option<&Path>, xdg: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    given
        .map(Path::to_path_buf)
        .or_else(|| xdg.filter(|d| d.is_absolute()).map(|d| d.join("cairn")))
        .or_else(|| home.map(|h| h.join(".cache").join("cairn")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(key: &str, etag: &str, at: f64, size: u64) -> LogKey {
        LogKey {
            key: key.into(),
            minute: 0,
            delivered: Some(at),
            etag: Some(format!("\"{etag}\"")),
            size: Some(size),
        }
    }

    #[test]
    fn a_hash_is_taken_only_while_the_listing_shows_the_same_object() {
        let root = tempfile::tempdir().unwrap();
        let dir = "AWSLogs/1/CloudTrail/us-east-1/";
        let a = format!("{dir}2026/12/05/a.json.gz");
        let b = format!("{dir}2026/12/05/b.json.gz");
        let c = HashCache::open(root.path(), "http://e", "bkt", dir);
        assert!(!c.holds_any());
        let stamp = |etag: &str, modified, size| Stamp {
            etag: etag.into(),
            modified,
            size,
        };
        c.remember("bkt", &a, stamp("e1", 100, 10), "h1");
        c.remember("bkt", &b, stamp("e2", 100, 20), "h2");
        c.remember("other", &a, stamp("e1", 100, 10), "hx"); // another bucket: not kept
        let listed = vec![log(&a, "e1", 100.5, 10), log(&b, "e2", 100.0, 20)];
        c.save(&listed).unwrap();

        let again = HashCache::open(root.path(), "http://e", "bkt", dir);
        let known = again.known(&listed);
        assert_eq!(known[&("bkt".to_owned(), a.clone())], "h1");
        assert_eq!(known.len(), 2);
        // Rewritten: a new Last-Modified, a new ETag or a new size each drop the entry.
        for changed in [
            log(&a, "e1", 101.0, 10),
            log(&a, "e9", 100.0, 10),
            log(&a, "e1", 100.0, 11),
        ] {
            assert!(again.known(&[changed]).is_empty());
        }
        // Another endpoint, bucket or folder has a cache of its own.
        assert!(!HashCache::open(root.path(), "http://f", "bkt", dir).holds_any());
        // A file that is not a cache is ignored.
        let path = again.path.clone().unwrap();
        std::fs::write(&path, "not json").unwrap();
        assert!(!HashCache::open(root.path(), "http://e", "bkt", dir).holds_any());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            again.save(&listed).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_others_could_write_or_a_fifo_is_not_read() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let c = HashCache::open(root.path(), "http://e", "bkt", "d/");
        let key = "d/a.json.gz";
        let stamp = Stamp {
            etag: "e".into(),
            modified: 1,
            size: 1,
        };
        c.remember("bkt", key, stamp, "h");
        let listed = [LogKey {
            key: key.into(),
            minute: 0,
            delivered: Some(1.0),
            etag: Some("e".into()),
            size: Some(1),
        }];
        c.save(&listed).unwrap();
        let path = c.path.clone().unwrap();
        let reopen = || HashCache::open(root.path(), "http://e", "bkt", "d/").holds_any();
        assert!(reopen());
        // cache34 F1: writable by others (the file, or its folder): not trusted.
        let set =
            |p: &Path, mode| std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
        set(&path, 0o666).unwrap();
        assert!(!reopen());
        set(&path, 0o600).unwrap();
        set(path.parent().unwrap(), 0o777).unwrap();
        assert!(!reopen());
        set(path.parent().unwrap(), 0o700).unwrap();
        assert!(reopen());
        // cache34 F2: a FIFO in its place is passed over, not opened (which would block).
        std::fs::remove_file(&path).unwrap();
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(!reopen());
        }
    }

    #[test]
    fn a_relative_xdg_cache_home_is_ignored() {
        // cache34 F4 (the XDG Base Directory specification); `given` always wins.
        let (given, home) = (Path::new("/given"), Some(PathBuf::from("/home/u")));
        let xdg = |d: &str| Some(PathBuf::from(d));
        assert_eq!(
            root_from(Some(given), xdg("/x"), home.clone()).as_deref(),
            Some(given)
        );
        assert_eq!(root_from(None, xdg("/x"), home.clone()), xdg("/x/cairn"));
        assert_eq!(
            root_from(None, xdg("rel/x"), home.clone()),
            xdg("/home/u/.cache/cairn")
        );
        assert_eq!(root_from(None, None, None), None);
    }

    #[test]
    fn response_stamps_read_http_dates_and_quoted_etags() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("etag", "\"abc\"".parse().unwrap());
        h.insert(
            "last-modified",
            "Sat, 05 Dec 2026 18:30:00 GMT".parse().unwrap(),
        );
        let s = Stamp::of_response(&h, 7).unwrap();
        assert_eq!(
            (s.etag.as_str(), s.modified, s.size),
            ("abc", 1_796_495_400, 7)
        );
        h.remove("etag");
        assert!(Stamp::of_response(&h, 7).is_none());
    }
}
