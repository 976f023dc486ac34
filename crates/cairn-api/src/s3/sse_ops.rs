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
pub(super) async fn decrypting(
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
