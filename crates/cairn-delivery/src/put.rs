//! Writing one object into a trail's bucket, and recording it, as CloudTrail would.
//!
//! A local bucket must exist and its policy must let `cloudtrail.amazonaws.com` put the key
//! (`s3:PutObject` with `s3:x-amz-acl` `bucket-owner-full-control`, `aws:SourceArn` the
//! trail and `aws:SourceAccount` its account), or the write is refused with S3's code
//! (`NoSuchBucket`, `AccessDenied`) and nothing is recorded. The bytes are produced on a
//! blocking thread and streamed through a small channel into the object file, so a file of
//! any size passes through a few hundred KiB of memory. The object's record and the
//! caller's bookkeeping (ledger, digest chain, trail status) commit in one transaction.
//!
//! External buckets get a PUT through `object_store` (their policy is their store's
//! business); the compressed body is assembled in memory first, bounded by the file limits.

use std::collections::BTreeMap;
use std::io::Write;

use bytes::Bytes;
use cairn_buckets::ExternalBuckets;
use cairn_buckets::local::{ObjectFiles, WriteError};
use cairn_core::objects::ObjectMeta;
use cairn_core::policy::{AccessRequest, Caller, Decision, Policy};
use cairn_store::buckets::Bucket;
use cairn_store::objects::ObjectRow;
use cairn_store::{Connection, Store, StoreResult, buckets};
use tokio::sync::mpsc;

use crate::DeliveryError;

/// Chunks handed from the producer to the file writer.
const CHUNK: usize = 256 * 1024;
/// Chunks in flight between them.
const IN_FLIGHT: usize = 4;

/// Where an object goes and on whose behalf.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// The trail writing (its ARN is `aws:SourceArn`).
    pub trail_arn: String,
    /// The trail's account (`aws:SourceAccount`).
    pub account: String,
    /// `x-amz-meta-*` metadata.
    pub meta: BTreeMap<String, String>,
}

/// Whether `bucket`'s policy lets CloudTrail write `key` for the trail.
pub(crate) fn cloudtrail_may_put(bucket: &Bucket, target: &Target) -> bool {
    let Some(policy) = bucket.policy.as_deref().and_then(|p| Policy::parse(p).ok()) else {
        return false;
    };
    let context = [
        ("aws:SourceArn", target.trail_arn.as_str()),
        ("aws:SourceAccount", target.account.as_str()),
        ("s3:x-amz-acl", "bucket-owner-full-control"),
    ];
    policy.evaluate(&AccessRequest {
        caller: Caller::Service("cloudtrail.amazonaws.com"),
        action: "s3:PutObject",
        resource: &format!("arn:aws:s3:::{}/{}", target.bucket, target.key),
        context: &context,
    }) == Decision::Allow
}

/// Why a local bucket refuses the write, if it does.
fn refusal(conn: &Connection, target: &Target) -> StoreResult<Option<DeliveryError>> {
    Ok(match buckets::get(conn, &target.bucket)? {
        None => Some(DeliveryError::Refused {
            code: "NoSuchBucket",
            message: format!("bucket {} does not exist", target.bucket),
        }),
        Some(b) if !cloudtrail_may_put(&b, target) => Some(DeliveryError::Refused {
            code: "AccessDenied",
            message: format!(
                "the policy of bucket {} does not let cloudtrail.amazonaws.com put {} for {}",
                target.bucket, target.key, target.trail_arn
            ),
        }),
        Some(_) => None,
    })
}

/// A `Write` that hands fixed-size chunks to the async file writer.
struct ChunkSink {
    tx: mpsc::Sender<Result<Bytes, String>>,
    buf: Vec<u8>,
}

impl ChunkSink {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "file writer gone"))
    }
}

impl Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Produces an object's (gzip) bytes into a sink, on a blocking thread.
pub(crate) type Produce<R> =
    Box<dyn FnOnce(&mut dyn Write) -> Result<R, DeliveryError> + Send + 'static>;

/// What recording a local object returned: the file it replaced, and the producer's and the
/// commit's values.
type Recorded<R, T> = (Option<String>, R, T);

/// Writes objects for delivery.
#[derive(Clone)]
pub(crate) struct Putter {
    pub store: Store,
    pub files: ObjectFiles,
    pub external: ExternalBuckets,
}

impl Putter {
    /// Writes `target` with the bytes `produce` makes, then runs `commit` in the same write
    /// job that records the object (local buckets) or right after the PUT (external ones).
    /// Returns what `produce` and `commit` returned.
    pub(crate) async fn put<R, T, C>(
        &self,
        target: &Target,
        produce: Produce<R>,
        now: f64,
        commit: C,
    ) -> Result<(R, T), DeliveryError>
    where
        R: Send + 'static,
        T: Send + 'static,
        C: FnOnce(&Connection, &R) -> StoreResult<T> + Send + 'static,
    {
        if self.external.contains(&target.bucket) {
            return self.put_external(target, produce, commit).await;
        }
        let t = target.clone();
        if let Some(refused) = self.store.read(move |c| refusal(c, &t)).await? {
            return Err(refused);
        }
        let (tx, mut rx) = mpsc::channel::<Result<Bytes, String>>(IN_FLIGHT);
        let producer = tokio::task::spawn_blocking(move || {
            let mut sink = ChunkSink {
                tx: tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            let out = produce(&mut sink).and_then(|r| sink.flush().map(|()| r).map_err(Into::into));
            if let Err(e) = &out {
                let _ = tx.blocking_send(Err(e.to_string()));
            }
            out
        });
        let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let written = self.files.write(Box::pin(stream)).await;
        let produced = producer
            .await
            .map_err(|e| DeliveryError::Io(std::io::Error::other(e.to_string())))?;
        let (produced, written) = match (produced, written) {
            (Ok(p), Ok(w)) => (p, w),
            (Err(e), Ok(w)) => {
                self.files.remove([w.file]).await;
                return Err(e);
            }
            // The disk failed first (the producer then only saw the channel close).
            (Err(_), Err(WriteError::Io(e))) => return Err(DeliveryError::Io(e)),
            (Err(e), Err(WriteError::Body(_))) => return Err(e),
            (Ok(_), Err(WriteError::Io(e))) => return Err(DeliveryError::Io(e)),
            (Ok(_), Err(WriteError::Body(m))) => {
                return Err(DeliveryError::Io(std::io::Error::other(m)));
            }
        };
        let object_meta = ObjectMeta {
            content_type: Some("application/json".to_owned()),
            content_encoding: Some("gzip".to_owned()),
            user: target.meta.clone(),
            ..Default::default()
        };
        let row = ObjectRow {
            bucket: target.bucket.clone(),
            key: target.key.clone(),
            file: written.file.clone(),
            size: written.size,
            etag: written.md5_hex.clone(),
            last_modified: now,
            meta: object_meta.encode(),
        };
        let t = target.clone();
        let outcome = self
            .store
            .write(
                move |c| -> StoreResult<Result<Recorded<R, T>, DeliveryError>> {
                    cairn_store::with_savepoint(c, |c| {
                        if let Some(refused) = refusal(c, &t)? {
                            return Ok(Err(refused));
                        }
                        let replaced = cairn_store::objects::put(c, &row)?;
                        let done = commit(c, &produced)?;
                        Ok(Ok((replaced, produced, done)))
                    })
                },
            )
            .await?;
        match outcome {
            Ok(Ok((replaced, produced, done))) => {
                self.files.remove(replaced).await;
                Ok((produced, done))
            }
            Ok(Err(refused)) => {
                self.files.remove([written.file]).await;
                Err(refused)
            }
            Err(e) => {
                self.files.remove([written.file]).await;
                Err(e.into())
            }
        }
    }

    async fn put_external<R, T, C>(
        &self,
        target: &Target,
        produce: Produce<R>,
        commit: C,
    ) -> Result<(R, T), DeliveryError>
    where
        R: Send + 'static,
        T: Send + 'static,
        C: FnOnce(&Connection, &R) -> StoreResult<T> + Send + 'static,
    {
        let (body, produced) = tokio::task::spawn_blocking(move || {
            let mut body = Vec::new();
            produce(&mut body).map(|r| (body, r))
        })
        .await
        .map_err(|e| DeliveryError::Io(std::io::Error::other(e.to_string())))??;
        self.external
            .put(&target.bucket, &target.key, Bytes::from(body), &target.meta)
            .await?;
        let done = self
            .store
            .write(move |c| commit(c, &produced).map(|t| (produced, t)))
            .await??;
        Ok(done)
    }
}
