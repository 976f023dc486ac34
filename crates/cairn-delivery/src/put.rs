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
//!
//! Sealing: a trail with a KMS key has each file sealed under a data key CloudTrail asks for
//! with its own encryption context. Without one, CloudTrail's PUT carries no encryption
//! headers, so S3 applies the bucket's default rule exactly as for any PutObject
//! (`cairn_core::encryption::sealing_for_write`, the same decision PutObject makes): an
//! `aws:kms` default seals the file (log or digest) under a data key S3 asks for as
//! `cloudtrail.amazonaws.com`, which the key policy must allow, as on AWS.

use std::collections::BTreeMap;
use std::io::Write;

use bytes::Bytes;
use cairn_buckets::ExternalBuckets;
use cairn_buckets::local::{ObjectFiles, WriteError};
use cairn_core::objects::ObjectMeta;
use cairn_store::buckets::Bucket;
use cairn_store::objects::ObjectRow;
use cairn_store::{Connection, Store, StoreResult, buckets};
use std::sync::Arc;

use cairn_core::authz::Evaluator;
use cairn_core::encryption::Seal;
use cairn_core::kms::MasterKey;
use cairn_core::kms::internal::Actor;
use cairn_core::sse::{self, KmsAccess, SseKms, frames::FrameSealer};
use md5::Digest;
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
    /// The trail's home region (KMS is asked in the bucket's region, this one only for a
    /// bucket Cairn does not hold).
    pub region: String,
    /// The trail's KMS key ARN: the object is sealed under a data key of it (SSE-KMS).
    pub kms_key_arn: Option<String>,
}

/// Whether `bucket`'s policy lets CloudTrail write `key` for the trail.
pub(crate) fn cloudtrail_may_put(bucket: &Bucket, target: &Target) -> bool {
    let Some(policy) = bucket.policy.as_deref() else {
        return false;
    };
    let mut keys = vec![
        ("aws:SourceArn", target.trail_arn.as_str()),
        ("aws:SourceAccount", target.account.as_str()),
        ("s3:x-amz-acl", "bucket-owner-full-control"),
    ];
    keys.extend(cairn_core::policy::sse_kms_keys(
        target.kms_key_arn.as_deref(),
    ));
    cairn_core::policy::service_allowed(
        policy,
        "cloudtrail.amazonaws.com",
        "s3:PutObject",
        &format!("arn:aws:s3:::{}/{}", target.bucket, target.key),
        &keys,
    )
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

/// A `Write` that hashes (MD5) what passes through it to `inner`.
struct Md5Tee<W: Write> {
    inner: W,
    md5: md5::Md5,
}

impl<W: Write> Write for Md5Tee<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(data)?;
        self.md5.update(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
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
    /// KMS's master key; without it files of trails with a key are refused.
    pub kms_master: Option<Arc<MasterKey>>,
    /// The policy evaluator (key policies).
    pub evaluator: Arc<dyn Evaluator>,
}

/// The KMS failure of a data-key request as `LatestDeliveryError` reports it (CloudTrail's
/// own request, or S3's answer to its PUT into a bucket whose default rule is `aws:kms`).
fn kms_refusal(e: &cairn_core::ApiError) -> DeliveryError {
    use cairn_core::ErrorKind as K;
    let code = match e.kind {
        K::KmsDisabled | K::S3KmsDisabled => "KMS.DisabledException",
        K::KmsInvalidState | K::S3KmsInvalidState => "KMS.KMSInvalidStateException",
        K::KmsNotFound | K::S3KmsNotFound => "KMS.NotFoundException",
        K::AccessDenied => "KMS.AccessDeniedException",
        K::S3AccessDenied => "AccessDenied",
        _ => "KMS.KMSInternalException",
    };
    DeliveryError::Refused {
        code,
        message: e.message.clone(),
    }
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
            if target.kms_key_arn.is_some() {
                // Never written in the clear: Cairn does not seal objects in external stores.
                return Err(DeliveryError::Refused {
                    code: "KMS.UnsupportedOperationException",
                    message: format!(
                        "Cairn cannot encrypt log files with a KMS key in the external bucket {}",
                        target.bucket
                    ),
                });
            }
            return self.put_external(target, produce, commit).await;
        }
        let t = target.clone();
        if let Some(refused) = self.store.read(move |c| refusal(c, &t)).await? {
            return Err(refused);
        }
        let sealing = match &target.kms_key_arn {
            Some(key_arn) => {
                let (k, sse) = self.data_key(target, key_arn, now).await?;
                Some((k, Seal::Kms(sse)))
            }
            None => self.bucket_default_key(target, now).await?,
        };
        let (data_key, seal) = match sealing {
            Some((k, s)) => (Some(k), Some(s)),
            None => (None, None),
        };
        let (tx, mut rx) = mpsc::channel::<Result<Bytes, String>>(IN_FLIGHT);
        let producer = tokio::task::spawn_blocking(move || {
            let mut sink = ChunkSink {
                tx: tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            let out = match data_key {
                // Sealed frame by frame on the way to the file: no plaintext byte is written.
                Some(k) => FrameSealer::new(&mut sink, k.expose())
                    .map_err(|e| DeliveryError::Io(std::io::Error::other(e.to_string())))
                    .and_then(|sealer| {
                        let mut hashed = Md5Tee {
                            inner: sealer,
                            md5: md5::Md5::new(),
                        };
                        let r = produce(&mut hashed)?;
                        let (_, plain) = hashed.inner.finish()?;
                        Ok((r, Some((plain, hex::encode(hashed.md5.finalize())))))
                    }),
                None => produce(&mut sink).map(|r| (r, None)),
            }
            .and_then(|r| sink.flush().map(|()| r).map_err(Into::into));
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
        let ((produced, plain_len), written) = match (produced, written) {
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
        }
        .sealed(seal);
        // SSE-S3 objects keep the MD5 of their data as ETag; SSE-KMS ones do not (as on S3).
        let etag = match &plain_len {
            Some((_, md5)) if object_meta.sse_kms.is_none() => md5.clone(),
            _ => written.md5_hex.clone(),
        };
        let row = ObjectRow {
            bucket: target.bucket.clone(),
            key: target.key.clone(),
            file: written.file.clone(),
            size: plain_len.map_or(written.size, |(n, _)| n as i64),
            etag,
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

    /// A data key for `target` from the trail's KMS key, asked as CloudTrail with its
    /// encryption context; the KMS call is recorded either way. A key that cannot be used
    /// refuses the write with the KMS error (`KMS.DisabledException`, …).
    async fn data_key(
        &self,
        target: &Target,
        key_arn: &str,
        now: f64,
    ) -> Result<(cairn_core::kms::Secret, SseKms), DeliveryError> {
        let Some(master) = self.kms_master.clone() else {
            return Err(DeliveryError::Refused {
                code: "KMS.KMSInternalException",
                message: "no KMS master key was given to this process".to_owned(),
            });
        };
        let evaluator = self.evaluator.clone();
        let (t, key_arn) = (target.clone(), key_arn.to_owned());
        let made = self
            .store
            .write(move |c| {
                let access = KmsAccess {
                    master: &master,
                    evaluator: evaluator.as_ref(),
                };
                let region = match sse::trail_key_region(c, &t.bucket, &t.region) {
                    Ok(r) => r,
                    Err(e) => return Ok(Err(e)),
                };
                let (made, event) = sse::cloudtrail_data_key(
                    c,
                    access,
                    &t.trail_arn,
                    &t.account,
                    &region,
                    &key_arn,
                    &t.bucket,
                    &t.key,
                    now,
                );
                if let Some(event) = event {
                    cairn_core::record::append(c, &event)?;
                }
                Ok::<_, cairn_store::StoreError>(made)
            })
            .await??;
        let (dk, context) = made.map_err(|e| kms_refusal(&e))?;
        let sse = SseKms {
            key_arn: dk.key_arn.clone(),
            data_key: hex::encode(&dk.ciphertext),
            context,
            bucket_key: false,
            bucket_key_salt: None,
        };
        Ok((dk.plaintext, sse))
    }

    /// The data key S3 seals `target` with when the trail has no key: the bucket's default
    /// rule, decided as for any PutObject without encryption headers, with the data key asked
    /// of KMS as `cloudtrail.amazonaws.com` (the writer) and its KMS event recorded either way.
    /// `None` when the default is SSE-S3.
    async fn bucket_default_key(
        &self,
        target: &Target,
        now: f64,
    ) -> Result<Option<(cairn_core::kms::Secret, Seal)>, DeliveryError> {
        let master = self.kms_master.clone();
        let evaluator = self.evaluator.clone();
        let t = target.clone();
        let made = self
            .store
            .write(move |c| {
                let sealing = match cairn_core::encryption::sealing_for_write(
                    c,
                    &t.bucket,
                    &cairn_core::encryption::Requested::default(),
                ) {
                    Ok(s) => s,
                    Err(e) => return Ok(Err(e)),
                };
                let sse_s3 = sealing == cairn_core::encryption::Sealing::SseS3;
                let Some(master) = master else {
                    // Without the master key SSE-S3 files are stored as written; SSE-KMS ones
                    // are refused (never written in the clear).
                    return Ok(if sse_s3 {
                        Ok(None)
                    } else {
                        Err(cairn_core::ApiError::new(
                            cairn_core::ErrorKind::Internal,
                            "no KMS master key was given to this process",
                        ))
                    });
                };
                let call = match sse::trail_key_region(c, &t.bucket, &t.region)
                    .and_then(|r| sse::cloudtrail_call(&t.trail_arn, &t.account, &r, now))
                {
                    Ok(call) => call,
                    Err(e) => return Ok(Err(e)),
                };
                let access = KmsAccess {
                    master: &master,
                    evaluator: evaluator.as_ref(),
                };
                let (made, event) = cairn_core::encryption::data_key_for(
                    c,
                    access,
                    Actor::Service(&call),
                    &sealing,
                    &t.bucket,
                    &t.key,
                );
                if let Some(event) = event {
                    cairn_core::record::append(c, &event)?;
                }
                Ok::<_, cairn_store::StoreError>(made)
            })
            .await??;
        made.map_err(|e| kms_refusal(&e))
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
        if crash_after_external_put() {
            std::process::abort();
        }
        let done = self
            .store
            .write(move |c| commit(c, &produced).map(|t| (produced, t)))
            .await??;
        Ok(done)
    }
}

/// Test hook for the crash window exactly-once delivery must survive: with
/// `CAIRN_FAULT_ABORT_AFTER_EXTERNAL_PUT` set, the process ends right after an external bucket
/// accepted a file and before the ledger records it (compat/test_external_bucket.py).
fn crash_after_external_put() -> bool {
    static SET: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SET.get_or_init(|| std::env::var_os("CAIRN_FAULT_ABORT_AFTER_EXTERNAL_PUT").is_some())
}
