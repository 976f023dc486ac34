//! Sealed object bytes in S3: the response fields that describe an object's encryption; the
//! data keys of new objects (SSE-KMS from KMS as the caller, SSE-S3 wrapped by the master key)
//! and of stored ones (S3's `Decrypt` as the reader, its event appended before the answer);
//! bodies sealed on their way to disk, multipart parts sealed under keys derived from their
//! upload's data key, and the streams that open stored frames (`cairn_core::sse::frames`).
//! With an S3 Bucket Key the KMS calls are made per bucket key, not per object: the keys
//! writers and readers hold are in [`cairn_core::bucket_key::BucketKeys`].

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use cairn_core::bucket_key::{Held, WriteSlot, holder};
use cairn_core::encryption::{Requested, Seal, Sealing};
use cairn_core::kms::internal::Actor;
use cairn_core::objects::ObjectMeta;
use cairn_core::record::PreparedEvent;
use cairn_core::sse::frames::{FrameOpener, FrameSpan, SEALED_FRAME_LEN};
use cairn_core::sse::frames::{PIECE_SALT_LEN, piece_key};
use cairn_core::sse::{KmsAccess, SseKms, open_wrapped_for_caller};
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
        if let Some(k) = self.held_bucket_key(ctx, sse) {
            return sse.object_key(k);
        }
        let (opened, event) = open_wrapped_for_caller(conn, access, ctx, sse);
        *slot.lock().expect("event slot") = event;
        self.opened_key(ctx, sse, opened?)
    }

    /// The S3 Bucket Key of a bucket-key object that the caller opened lately.
    fn held_bucket_key(&self, ctx: &CallContext, sse: &SseKms) -> Option<cairn_core::kms::Secret> {
        sse.bucket_key_salt.as_ref()?;
        let (holder, now) = holder(&Actor::Caller(ctx));
        self.bucket_keys.for_read(&sse.data_key, &holder, now)
    }

    /// The object's data key from what `Decrypt` opened for the caller (a bucket key is kept
    /// for the caller's next reads).
    fn opened_key(
        &self,
        ctx: &CallContext,
        sse: &SseKms,
        opened: cairn_core::kms::Secret,
    ) -> Result<cairn_core::kms::Secret, ApiError> {
        if sse.bucket_key_salt.is_some() {
            let (holder, now) = holder(&Actor::Caller(ctx));
            self.bucket_keys
                .keep_read(&sse.data_key, &holder, opened.clone(), now);
        }
        sse.object_key(opened)
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
    decrypting_at(file, 0, size, range, data_key).await
}

/// [`decrypting`] of frames stored after `header` bytes (a sealed part's salt).
async fn decrypting_at(
    file: std::fs::File,
    header: u64,
    size: u64,
    range: std::ops::Range<u64>,
    data_key: cairn_core::kms::Secret,
) -> std::io::Result<impl futures::Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static> {
    let span = FrameSpan::of(range, size);
    let mut opener = FrameOpener::new(data_key.expose(), size, span.first)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    drop(data_key);
    let stored = span.stored.start + header..span.stored.end + header;
    let mut inner = Box::pin(cairn_buckets::local::ObjectFiles::read_opened(file, stored).await?);
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

/// A request or plaintext body on its way to a file.
pub(super) type BodyStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = std::io::Result<Bytes>> + Send + Sync>>;

/// A request body as a [`BodyStream`].
pub(super) fn body_stream(body: Option<s3s::dto::StreamingBlob>) -> BodyStream {
    match body {
        Some(b) => Box::pin(b.map(|c| c.map_err(|e| std::io::Error::other(e.to_string())))),
        None => Box::pin(futures::stream::empty()),
    }
}

/// The encryption headers of a request, as `cairn_core::encryption` reads them.
pub(super) fn requested(
    algorithm: Option<&ServerSideEncryption>,
    key_id: Option<&String>,
    context: Option<&String>,
    bucket_key: Option<bool>,
) -> Requested {
    Requested {
        algorithm: algorithm.map(|a| a.as_str().to_owned()),
        kms_key_id: key_id.cloned(),
        context: context.cloned(),
        bucket_key,
    }
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

struct SealState {
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
        self.seal_stream(body_stream(body), declared, data_key, None)
            .await
    }

    /// Seals `body` into a new durable file under `data_key` (after `header`, if any),
    /// hashing and checksumming the plaintext on the way.
    pub(super) async fn seal_stream(
        &self,
        body: BodyStream,
        declared: &super::integrity::Declared,
        data_key: &cairn_core::kms::Secret,
        header: Option<Bytes>,
    ) -> Result<SealedUpload, ApiError> {
        use md5::Digest;
        use std::io::Write;
        let sealer = cairn_core::sse::frames::FrameSealer::new(Vec::new(), data_key.expose())
            .map_err(|_| ApiError::new(cairn_core::ErrorKind::Internal, "bad data key"))?;
        let state = Arc::new(Mutex::new(SealState {
            sealer: Some(sealer),
            md5: md5::Md5::new(),
            hasher: declared.hasher(),
            plain_len: 0,
        }));
        let (feed, last) = (state.clone(), state.clone());
        let head = futures::stream::iter(header.map(Ok));
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
        let written = match self.files.write(Box::pin(head.chain(sealed))).await {
            Ok(w) => w,
            Err(cairn_buckets::local::WriteError::Body(m)) => {
                return Err(super::integrity::body_fault(&m));
            }
            Err(cairn_buckets::local::WriteError::Io(e)) => {
                return Err(ApiError::from_file_io(&e));
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

    /// How a new object in `bucket` is sealed: `requested`'s headers, or the bucket's
    /// default rule (`cairn_core::encryption::sealing_for_write`).
    pub(super) async fn sealing(
        &self,
        bucket: &str,
        requested: Requested,
    ) -> Result<Sealing, ApiError> {
        let b = bucket.to_owned();
        self.store
            .read(move |c| Ok(cairn_core::encryption::sealing_for_write(c, &b, &requested)))
            .await
            .map_err(ApiError::from)?
    }

    /// A new object's data key: from KMS as the caller (via S3, the KMS call recorded) for
    /// SSE-KMS, or wrapped by the master key for SSE-S3.
    pub(super) async fn upload_data_key(
        &self,
        ctx: &CallContext,
        sealing: &Sealing,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(cairn_core::kms::Secret, Seal)>, ApiError> {
        if *sealing == Sealing::SseS3 {
            return cairn_core::encryption::new_sse_s3_key(&self.kms_master, bucket, key)
                .map(|(k, s)| Some((k, Seal::S3(s))));
        }
        let writer = Actor::Via { ctx, service: "s3" };
        let (holder, now) = holder(&writer);
        if let Some(slot) = WriteSlot::of(sealing, bucket, &holder) {
            return self
                .bucket_key_for_write(ctx, sealing, bucket, slot, now)
                .await
                .and_then(|held| held.seal_object())
                .map(Some);
        }
        let (sealing, b, k) = (sealing.clone(), bucket.to_owned(), key.to_owned());
        self.ask_kms_as_writer(ctx, move |c, access, writer| {
            cairn_core::encryption::data_key_for(c, access, writer, &sealing, &b, &k)
        })
        .await
    }

    /// Runs `ask` on the writer with KMS as S3 reaches it for the caller `ctx` (the writer is
    /// `Actor::Via` S3), appending the KMS event it returns in the same transaction.
    async fn ask_kms_as_writer<R, F>(&self, ctx: &CallContext, ask: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: for<'a> FnOnce(
                &'a cairn_store::Connection,
                KmsAccess<'a>,
                Actor<'a>,
            ) -> (Result<R, ApiError>, Option<PreparedEvent>)
            + Send
            + 'static,
    {
        let (this, ctx) = (self.clone(), ctx.clone());
        self.store
            .write(move |c| {
                let evaluator = this.gate.evaluator();
                let access = KmsAccess {
                    master: &this.kms_master,
                    evaluator: evaluator.as_ref(),
                };
                let writer = Actor::Via {
                    ctx: &ctx,
                    service: "s3",
                };
                let (made, event) = ask(c, access, writer);
                if let Some(e) = event {
                    cairn_core::record::append(c, &e)?;
                }
                Ok::<_, cairn_store::StoreError>(made)
            })
            .await
            .map_err(ApiError::from)?
            .map_err(ApiError::from)?
    }

    /// Opens the data key of a sealed object (or upload) `bucket`/`key` described by `meta`,
    /// inside a read's store call: SSE-KMS through KMS as the caller (its event left in
    /// `slot`), SSE-S3 with the master key. `None` for bytes stored as written.
    pub(super) fn open_object_key(
        &self,
        conn: &cairn_store::Connection,
        ctx: &CallContext,
        meta: &ObjectMeta,
        (bucket, key): (&str, &str),
        slot: &EventSlot,
    ) -> Result<Option<cairn_core::kms::Secret>, ApiError> {
        if let Some(sse) = &meta.sse_kms {
            return self.open_data_key(conn, ctx, sse, slot).map(Some);
        }
        meta.sse_s3
            .as_ref()
            .map(|s| cairn_core::encryption::open_sse_s3_key(&self.kms_master, s, bucket, key))
            .transpose()
    }

    /// [`CairnS3::open_object_key`] on its own: S3's `Decrypt` event (SSE-KMS) is appended
    /// durably before returning.
    pub(super) async fn open_object_key_now(
        &self,
        ctx: &CallContext,
        meta: &ObjectMeta,
        bucket: &str,
        key: &str,
    ) -> Result<Option<cairn_core::kms::Secret>, ApiError> {
        if let Some(sse) = &meta.sse_kms {
            return self.open_data_key_now(ctx, sse).await.map(Some);
        }
        meta.sse_s3
            .as_ref()
            .map(|s| cairn_core::encryption::open_sse_s3_key(&self.kms_master, s, bucket, key))
            .transpose()
    }

    /// Opens a sealed object's (or upload's) data key as the caller, appending S3's `Decrypt`
    /// event durably before returning.
    pub(super) async fn open_data_key_now(
        &self,
        ctx: &CallContext,
        sse: &SseKms,
    ) -> Result<cairn_core::kms::Secret, ApiError> {
        if let Some(k) = self.held_bucket_key(ctx, sse) {
            return sse.object_key(k);
        }
        let (this, c2, s2) = (self.clone(), ctx.clone(), sse.clone());
        let opened = self
            .store
            .write(move |c| {
                let evaluator = this.gate.evaluator();
                let access = KmsAccess {
                    master: &this.kms_master,
                    evaluator: evaluator.as_ref(),
                };
                let (opened, event) = open_wrapped_for_caller(c, access, &c2, &s2);
                if let Some(event) = &event {
                    cairn_core::record::append(c, event)?;
                }
                Ok::<_, cairn_store::StoreError>(opened)
            })
            .await
            .map_err(ApiError::from)?
            .map_err(ApiError::from)??;
        self.opened_key(ctx, sse, opened)
    }

    /// The S3 Bucket Key a write in `slot` seals its object under: the one the writer holds,
    /// or a new one from KMS as the caller (S3's `GenerateDataKey` with the bucket ARN,
    /// recorded), then held for [`cairn_core::bucket_key::BUCKET_KEY_SECS`].
    async fn bucket_key_for_write(
        &self,
        ctx: &CallContext,
        sealing: &Sealing,
        bucket: &str,
        slot: WriteSlot,
        now: f64,
    ) -> Result<Held, ApiError> {
        if let Some(held) = self.bucket_keys.for_write(&slot, now) {
            return Ok(held);
        }
        let (sealing, b) = (sealing.clone(), bucket.to_owned());
        let held = self
            .ask_kms_as_writer(ctx, move |c, access, writer| {
                cairn_core::encryption::bucket_key_for(c, access, writer, &sealing, &b)
            })
            .await?;
        self.bucket_keys.keep_write(slot, held.clone(), now);
        Ok(held)
    }

    /// Streams a multipart upload's part into a new durable file sealed under a key of its
    /// own (derived from the upload's data key and a random salt stored at the head of the
    /// file), hashing the plaintext on the way.
    pub(super) async fn receive_sealed_part(
        &self,
        body: Option<s3s::dto::StreamingBlob>,
        declared: &super::integrity::Declared,
        data_key: &cairn_core::kms::Secret,
    ) -> Result<SealedUpload, ApiError> {
        self.seal_part_stream(body_stream(body), declared, data_key)
            .await
    }

    /// [`CairnS3::receive_sealed_part`] of any plaintext stream (UploadPartCopy's source
    /// range).
    pub(super) async fn seal_part_stream(
        &self,
        body: BodyStream,
        declared: &super::integrity::Declared,
        data_key: &cairn_core::kms::Secret,
    ) -> Result<SealedUpload, ApiError> {
        // Unique, not secret: the system's CSPRNG via `rand`.
        let salt: [u8; PIECE_SALT_LEN] = rand::random();
        let key = piece_key(data_key.expose(), &salt);
        self.seal_stream(body, declared, &key, Some(Bytes::copy_from_slice(&salt)))
            .await
    }

    /// The bytes of parts stored as written (an upload begun before sealing existed), in
    /// order, as one stream, for sealing the whole object at completion.
    pub(super) fn stored_parts(&self, parts: Vec<(String, u64)>) -> BodyStream {
        let files = self.files.clone();
        concat_parts(parts, move |file, size| {
            let files = files.clone();
            async move {
                let f = files.open_blocking(&file)?;
                cairn_buckets::local::ObjectFiles::read_opened(f, 0..size).await
            }
        })
    }

    /// The plaintext of a sealed upload's parts, in order, as one stream (each part opened
    /// under its own key), for sealing the whole object at completion.
    pub(super) fn plain_parts(
        &self,
        parts: Vec<(String, u64)>,
        data_key: &cairn_core::kms::Secret,
    ) -> BodyStream {
        let files = self.files.clone();
        let data_key = data_key.clone();
        concat_parts(parts, move |file, size| {
            let (files, data_key) = (files.clone(), data_key.clone());
            async move {
                let mut f = files.open_blocking(&file)?;
                let mut salt = [0u8; PIECE_SALT_LEN];
                std::io::Read::read_exact(&mut f, &mut salt)?;
                let key = piece_key(data_key.expose(), &salt);
                decrypting_at(f, PIECE_SALT_LEN as u64, size, 0..size, key).await
            }
        })
    }
}

/// The streams `open` gives for each `(file, size)` of `parts`, one after another, as one
/// stream; the first error ends it.
fn concat_parts<F, Fut, S>(parts: Vec<(String, u64)>, open: F) -> BodyStream
where
    F: Fn(String, u64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::io::Result<S>> + Send,
    S: futures::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::spawn(async move {
        for (file, size) in parts {
            let mut stream = match open(file, size).await {
                Ok(s) => Box::pin(s),
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            while let Some(chunk) = stream.next().await {
                let failed = chunk.is_err();
                if tx.send(chunk).await.is_err() || failed {
                    return;
                }
            }
        }
    });
    Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

/// `spec` with the encryption headers a write sent, recorded as S3 records them.
pub(super) fn sse_params<T>(spec: super::event::Spec<T>, r: &Requested) -> super::event::Spec<T> {
    use serde_json::Value;
    let sent = [
        ("x-amz-server-side-encryption", r.algorithm.clone()),
        (
            "x-amz-server-side-encryption-aws-kms-key-id",
            r.kms_key_id.clone(),
        ),
        ("x-amz-server-side-encryption-context", r.context.clone()),
        (
            "x-amz-server-side-encryption-bucket-key-enabled",
            r.bucket_key.map(|b| b.to_string()),
        ),
    ];
    // The two headers are also condition keys of the write (S3 user guide, "Amazon S3
    // condition key examples": `s3:x-amz-server-side-encryption`,
    // `s3:x-amz-server-side-encryption-aws-kms-key-id`), as sent.
    let spec = match &r.algorithm {
        Some(a) => spec.condition("s3:x-amz-server-side-encryption", a.clone()),
        None => spec,
    };
    let spec = match &r.kms_key_id {
        Some(k) => spec.condition("s3:x-amz-server-side-encryption-aws-kms-key-id", k.clone()),
        None => spec,
    };
    sent.into_iter().fold(spec, |s, (name, value)| match value {
        Some(v) => s.param(name, Value::String(v)),
        None => s,
    })
}

/// `spec` with the encryption a successful write applied: the `x-amz-server-side-encryption…`
/// response headers as response elements, and an SSE-KMS object's key among the resources.
pub(super) fn sse_applied<T>(
    spec: super::event::Spec<T>,
    meta: &ObjectMeta,
) -> super::event::Spec<T> {
    use serde_json::Value;
    let fields = SseFields::of(meta);
    let mut spec = match fields.algorithm {
        Some(a) => spec.element(
            "x-amz-server-side-encryption",
            Value::String(a.as_str().to_owned()),
        ),
        None => spec,
    };
    if let Some(key) = &fields.key_id {
        spec = spec
            .element(
                "x-amz-server-side-encryption-aws-kms-key-id",
                Value::String(key.clone()),
            )
            .kms_key(key);
    }
    if fields.bucket_key == Some(true) {
        spec = spec.element(
            "x-amz-server-side-encryption-bucket-key-enabled",
            Value::String("true".into()),
        );
    }
    spec
}
