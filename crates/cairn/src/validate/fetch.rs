//! Fetching and checking digests and log files, many at a time. Digests are verified as
//! they arrive and the log files of each valid one are queued at once, so log fetches
//! start while other digests are still in flight. Log files are inflated and hashed as
//! their bytes stream in; each digest's signature is checked once. A log file the local
//! cache holds, unchanged since, is not fetched (`cache.rs`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cairn_logfile::verify::{
    DigestMetadata, DigestProblem, LogHasher, MAX_DIGEST_BYTES, verify_digest,
};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::cache::{HashCache, Stamp};
use super::s3::S3;
use super::traverse::Outcome;

/// What checking one log file gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogOutcome {
    /// The hex SHA-256 of its inflated bytes.
    Hash(String),
    /// `NoSuchKey`.
    Missing,
    /// Not a gzip stream.
    InvalidFormat,
    /// A valid first gzip member, with this hash, and more bytes after it (CloudTrail writes
    /// one member; the stock tool ignores the rest, which readers such as `zcat` show).
    Trailing(String),
}

/// A bucket and key.
pub type Object = (String, String);

/// Fetches and checks objects against the region's public keys.
pub struct Fetcher {
    /// The S3 client.
    pub s3: S3,
    /// Fingerprint → PKCS#1 DER.
    pub public_keys: HashMap<String, Vec<u8>>,
    /// The trail's home region (named in the unknown-key line).
    pub home_region: String,
    /// Most requests in flight.
    pub concurrency: usize,
    /// The local cache of hashed log files.
    pub cache: HashCache,
    /// Hashes the cache holds for objects the listing shows unchanged.
    pub known: HashMap<Object, String>,
    /// How many log files were taken from the cache.
    pub from_cache: AtomicUsize,
}

impl Fetcher {
    /// Fetches and verifies one digest.
    pub async fn digest(&self, bucket: &str, key: &str) -> anyhow::Result<Outcome> {
        let Some(mut resp) = self.s3.get(bucket, key).await? else {
            return Ok(Outcome::Missing);
        };
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let signature = header("x-amz-meta-signature");
        let algorithm = header("x-amz-meta-signature-algorithm");
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            if body.len() + chunk.len() > MAX_DIGEST_BYTES as usize {
                return Ok(Outcome::Invalid(DigestProblem::InvalidFormat.to_string()));
            }
            body.extend_from_slice(&chunk);
        }
        let meta = DigestMetadata {
            signature: signature.as_deref(),
            signature_algorithm: algorithm.as_deref(),
        };
        Ok(
            match verify_digest(bucket, key, &body, meta, &self.public_keys) {
                Ok(v) => Outcome::Valid(Arc::new(v)),
                Err(DigestProblem::UnknownKey(fp)) => Outcome::Invalid(format!(
                    "public key not found in region {} for fingerprint {fp}",
                    self.home_region
                )),
                Err(p) => Outcome::Invalid(p.to_string()),
            },
        )
    }

    /// Fetches one log file, inflating and hashing it as it streams in.
    pub async fn log(&self, bucket: &str, key: &str) -> anyhow::Result<LogOutcome> {
        if let Some(hash) = self.known.get(&(bucket.to_owned(), key.to_owned())) {
            self.from_cache.fetch_add(1, Ordering::Relaxed);
            return Ok(LogOutcome::Hash(hash.clone()));
        }
        let Some(resp) = self.s3.get(bucket, key).await? else {
            return Ok(LogOutcome::Missing);
        };
        let headers = resp.headers().clone();
        // Inflating and hashing are most of the client's work: a task of their own lets
        // every runtime thread take a share, not only the one polling the fetches.
        let (outcome, size) = tokio::spawn(hash_log(resp)).await??;
        if let (LogOutcome::Hash(hash), Some(stamp)) =
            (&outcome, Stamp::of_response(&headers, size))
        {
            self.cache.remember(bucket, key, stamp, hash);
        }
        Ok(outcome)
    }

    /// Fetches the digests `digests` and the log files `logs` into `into`, at most
    /// `concurrency` at a time, skipping what it holds already. With `follow`, the log
    /// files of each digest that verifies are fetched too, ahead of the remaining digests.
    pub async fn fetch_into(
        &self,
        into: &mut Fetched,
        digests: Vec<Object>,
        logs: Vec<Object>,
        follow: bool,
    ) -> anyhow::Result<()> {
        let mut queued: HashSet<Object> = HashSet::new();
        let mut queue: VecDeque<Job> = VecDeque::new();
        for d in digests {
            if !into.digests.contains_key(&d) && queued.insert(d.clone()) {
                queue.push_back(Job::Digest(d));
            }
        }
        for l in logs {
            if !into.logs.contains_key(&l) && queued.insert(l.clone()) {
                queue.push_back(Job::Log(l));
            }
        }
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < self.concurrency.max(1) {
                let Some(job) = queue.pop_front() else { break };
                running.push(self.run(job));
            }
            let Some(done) = running.next().await else {
                break;
            };
            match done? {
                Done::Digest(object, outcome) => {
                    if let (true, Outcome::Valid(v)) = (follow, &outcome) {
                        // Its log files go first, so hashing overlaps with digest fetches.
                        for f in v.digest.log_files.iter().rev() {
                            let l = (f.s3_bucket.clone(), f.s3_object.clone());
                            if !into.logs.contains_key(&l) && queued.insert(l.clone()) {
                                queue.push_front(Job::Log(l));
                            }
                        }
                    }
                    into.digests.insert(object, outcome);
                }
                Done::Log(object, outcome) => {
                    into.logs.insert(object, outcome);
                }
            }
        }
        Ok(())
    }

    async fn run(&self, job: Job) -> anyhow::Result<Done> {
        Ok(match job {
            Job::Digest(o) => {
                let outcome = self.digest(&o.0, &o.1).await?;
                Done::Digest(o, outcome)
            }
            Job::Log(o) => {
                let outcome = self.log(&o.0, &o.1).await?;
                Done::Log(o, outcome)
            }
        })
    }
}

/// Inflates and hashes a log file's body as it streams in; also gives the bytes read.
async fn hash_log(mut resp: reqwest::Response) -> anyhow::Result<(LogOutcome, u64)> {
    let mut hasher = LogHasher::new();
    let mut bad = false;
    let mut size = 0u64;
    while let Some(chunk) = resp.chunk().await? {
        size += chunk.len() as u64;
        if !bad && hasher.update(&chunk).is_err() {
            bad = true; // read the rest so the connection can be reused
        }
    }
    let outcome = if bad {
        LogOutcome::InvalidFormat
    } else if hasher.trailing() {
        LogOutcome::Trailing(hasher.finish())
    } else {
        LogOutcome::Hash(hasher.finish())
    };
    Ok((outcome, size))
}

enum Job {
    Digest(Object),
    Log(Object),
}

enum Done {
    Digest(Object, Outcome),
    Log(Object, LogOutcome),
}

/// Everything fetched.
#[derive(Default)]
pub struct Fetched {
    /// Digest outcomes.
    pub digests: HashMap<Object, Outcome>,
    /// Log outcomes.
    pub logs: HashMap<Object, LogOutcome>,
}
