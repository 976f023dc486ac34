//! Reading SSE-KMS objects: the response fields that describe their encryption, the KMS
//! `Decrypt` S3 makes as the reader (its event appended before the answer), and the stream
//! that opens the stored frames a range needs (`cairn_core::sse::frames`).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use cairn_core::objects::ObjectMeta;
use cairn_core::record::PreparedEvent;
use cairn_core::sse::frames::{FrameOpener, FrameSpan, SEALED_FRAME_LEN};
use cairn_core::sse::{KmsAccess, SseKms, open_for_caller};
use cairn_core::{ApiError, CallContext};
use futures::StreamExt;
use s3s::dto::ServerSideEncryption;
use s3s::{S3Error, S3Result};

use super::CairnS3;

/// `x-amz-server-side-encryption`, `…-aws-kms-key-id` and `…-bucket-key-enabled` of an object.
pub(super) struct SseFields {
    pub algorithm: Option<ServerSideEncryption>,
    pub key_id: Option<String>,
    pub bucket_key: Option<bool>,
}

impl SseFields {
    pub(super) fn of(meta: &ObjectMeta) -> Self {
        match &meta.sse_kms {
            Some(s) => Self {
                algorithm: Some(ServerSideEncryption::from_static(
                    ServerSideEncryption::AWS_KMS,
                )),
                key_id: Some(s.key_arn.clone()),
                bucket_key: s.bucket_key.then_some(true),
            },
            None => Self {
                algorithm: super::object_ops::sse_s3(),
                key_id: None,
                bucket_key: None,
            },
        }
    }
}

/// Where a read's KMS event waits between the operation and the answer.
pub(super) type EventSlot = Arc<Mutex<Option<PreparedEvent>>>;

impl CairnS3 {
    /// Opens an object's data key as `ctx` (inside the read's store call), leaving the KMS
    /// event in `slot`.
    pub(super) fn open_data_key(
        &self,
        conn: &cairn_store::Connection,
        ctx: &CallContext,
        sse: &SseKms,
        slot: &EventSlot,
    ) -> Result<cairn_core::kms::Secret, ApiError> {
        let evaluator = self.gate.evaluator();
        let access = KmsAccess {
            master: &self.kms_master,
            evaluator: evaluator.as_ref(),
        };
        let (opened, event) = open_for_caller(conn, access, ctx, sse);
        *slot.lock().expect("event slot") = Some(event);
        opened
    }

    /// Appends the KMS event a read left in `slot`, durably, before the answer.
    pub(super) async fn append_slot(&self, slot: &EventSlot) -> S3Result<()> {
        let Some(event) = slot.lock().expect("event slot").take() else {
            return Ok(());
        };
        self.store
            .write(move |c| cairn_core::record::append(c, &event))
            .await
            .map_err(|e| S3Error::internal_error(ApiError::from(e)))?
            .map_err(|e| S3Error::internal_error(ApiError::from(e)))?;
        Ok(())
    }
}

/// A stream of the plaintext bytes `range` of a sealed object of `size` bytes, opened with
/// `data_key`. Frames are read and opened on a task; a frame that does not open ends the
/// stream with an error (the client sees a truncated body, never wrong bytes).
pub(crate) async fn decrypting(
    file: std::fs::File,
    size: u64,
    range: std::ops::Range<u64>,
    data_key: cairn_core::kms::Secret,
) -> std::io::Result<impl futures::Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static> {
    let span = FrameSpan::of(range, size);
    let mut opener = FrameOpener::new(data_key.expose(), size, span.first)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    drop(data_key);
    let mut inner =
        Box::pin(cairn_buckets::local::ObjectFiles::read_opened(file, span.stored.clone()).await?);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::spawn(async move {
        let (mut skip, mut remaining) = (span.skip as usize, span.len as usize);
        let mut buf: Vec<u8> = Vec::with_capacity(SEALED_FRAME_LEN);
        let mut ended = false;
        while remaining > 0 {
            while buf.len() < SEALED_FRAME_LEN && !ended {
                match inner.next().await {
                    Some(Ok(b)) => buf.extend_from_slice(&b),
                    Some(Err(e)) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                    None => ended = true,
                }
            }
            if buf.is_empty() {
                let _ = tx
                    .send(Err(std::io::Error::other("sealed object is truncated")))
                    .await;
                return;
            }
            let take = buf.len().min(SEALED_FRAME_LEN);
            let frame: Vec<u8> = buf.drain(..take).collect();
            let plain = match opener.open(frame) {
                Ok(p) => p,
                Err(_) => {
                    tracing::error!("an SSE-KMS object frame does not open");
                    let _ = tx
                        .send(Err(std::io::Error::other("sealed object does not open")))
                        .await;
                    return;
                }
            };
            let start = skip.min(plain.len());
            let end = (start + remaining).min(plain.len());
            skip = 0;
            remaining -= end - start;
            if tx
                .send(Ok(Bytes::copy_from_slice(&plain[start..end])))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    Ok(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

/// An upload sealed on its way to disk.
pub(super) struct SealedUpload {
    /// The file (of sealed frames).
    pub written: cairn_buckets::local::Written,
    /// Checksums of the plaintext.
    pub computed: s3s::dto::Checksum,
    /// Hex MD5 of the plaintext (what `Content-MD5` is checked against).
    pub plain_md5: String,
    /// Plaintext length.
    pub plain_len: u64,
}

struct Sealing {
    sealer: Option<cairn_core::sse::frames::FrameSealer<Vec<u8>>>,
    md5: md5::Md5,
    hasher: s3s::checksum::ChecksumHasher,
    plain_len: u64,
}

impl CairnS3 {
    /// Streams an upload's body into a new durable file sealed under `data_key` (SSE-KMS),
    /// hashing and checksumming the plaintext on the way.
    pub(super) async fn receive_sealed(
        &self,
        body: Option<s3s::dto::StreamingBlob>,
        declared: &super::integrity::Declared,
        data_key: &cairn_core::kms::Secret,
    ) -> Result<SealedUpload, ApiError> {
        use md5::Digest;
        use std::io::Write;
        let sealer = cairn_core::sse::frames::FrameSealer::new(Vec::new(), data_key.expose())
            .map_err(|_| ApiError::new(cairn_core::ErrorKind::Internal, "bad data key"))?;
        let state = Arc::new(Mutex::new(Sealing {
            sealer: Some(sealer),
            md5: md5::Md5::new(),
            hasher: declared.hasher(),
            plain_len: 0,
        }));
        let (feed, last) = (state.clone(), state.clone());
        let body: std::pin::Pin<
            Box<dyn futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync>,
        > = match body {
            Some(b) => Box::pin(b.map(|c| c.map_err(|e| std::io::Error::other(e.to_string())))),
            None => Box::pin(futures::stream::empty()),
        };
        let sealed = body
            .map(move |chunk| {
                let bytes = chunk?;
                let mut s = feed.lock().expect("sealing state");
                s.md5.update(&bytes);
                s.hasher.update(&bytes);
                s.plain_len += bytes.len() as u64;
                let sealer = s.sealer.as_mut().expect("sealer until the end");
                sealer.write_all(&bytes)?;
                Ok(Bytes::from(std::mem::take(sealer.inner_mut())))
            })
            .chain(futures::stream::once(async move {
                let sealer = last.lock().expect("sealing state").sealer.take();
                match sealer {
                    Some(s) => s.finish().map(|(rest, _)| Bytes::from(rest)),
                    None => Ok(Bytes::new()),
                }
            }));
        let written = match self.files.write(Box::pin(sealed)).await {
            Ok(w) => w,
            Err(cairn_buckets::local::WriteError::Body(m)) => {
                return Err(super::integrity::body_fault(&m));
            }
            Err(cairn_buckets::local::WriteError::Io(e)) => {
                tracing::error!(error = %e, "cannot write an object file");
                return Err(ApiError::new(
                    cairn_core::ErrorKind::Internal,
                    "object file write failed",
                ));
            }
        };
        let s = Arc::try_unwrap(state)
            .ok()
            .map(|m| m.into_inner().expect("sealing state"))
            .ok_or_else(|| {
                ApiError::new(cairn_core::ErrorKind::Internal, "sealing state shared")
            })?;
        Ok(SealedUpload {
            written,
            computed: s.hasher.finalize(),
            plain_md5: hex::encode(s.md5.finalize()),
            plain_len: s.plain_len,
        })
    }

    /// Asks KMS for an upload's data key as the caller, recording the KMS call.
    pub(super) async fn upload_data_key(
        &self,
        ctx: &CallContext,
        key_id: Option<String>,
        context: cairn_core::kms::EncryptionContext,
        bucket: &str,
        key: &str,
        bucket_key: bool,
    ) -> Result<(cairn_core::kms::Secret, SseKms), ApiError> {
        let (this, ctx) = (self.clone(), ctx.clone());
        let (b, k) = (bucket.to_owned(), key.to_owned());
        let made = self
            .store
            .write(move |c| {
                let evaluator = this.gate.evaluator();
                let access = KmsAccess {
                    master: &this.kms_master,
                    evaluator: evaluator.as_ref(),
                };
                let (made, event) = cairn_core::sse::data_key_for_caller(
                    c,
                    access,
                    &ctx,
                    key_id.as_deref(),
                    context,
                    &b,
                    &k,
                );
                if let Some(e) = event {
                    cairn_core::record::append(c, &e)?;
                }
                Ok::<_, cairn_store::StoreError>(made)
            })
            .await
            .map_err(ApiError::from)?
            .map_err(ApiError::from)?;
        let (dk, context) = made?;
        Ok((
            dk.plaintext,
            SseKms {
                key_arn: dk.key_arn,
                data_key: hex::encode(&dk.ciphertext),
                context,
                bucket_key,
            },
        ))
    }
}
