//! CompleteMultipartUpload's answer, and the same call sent again after it succeeded: S3
//! answers a repeated completion of an upload with the object it made (an SDK retries a
//! completion whose answer was lost), where `NoSuchUpload` would report a failed upload
//! whose object was written. The repeat is authorized and recorded like the first call.

use std::sync::Arc;

use cairn_core::objects::{self, ObjectMeta};
use s3s::dto::{ChecksumType, CompleteMultipartUploadOutput, ETag};
use s3s::{S3Response, S3Result};

use super::CairnS3;
use super::event::Spec;
use super::sse_ops::SseFields;
use crate::recording::CallInfo;

impl CairnS3 {
    /// Whether `upload_id` is gone and completed into the object now at its key.
    pub(super) async fn completed_before(&self, bucket: &str, key: &str, upload_id: &str) -> bool {
        let (b, k, id) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        self.store
            .read(move |c| Ok(objects::completed_by(c, &b, &k, &id)))
            .await
            .is_ok_and(|found| matches!(found, Ok(Some(_))))
    }

    /// Answers a completion sent again with the object the upload made (checked once more
    /// inside the recorded call: `NoSuchUpload` if it changed meanwhile).
    pub(super) async fn complete_again<T>(
        &self,
        info: CallInfo,
        spec: Spec<T>,
        (bucket, key, upload_id): (&str, &str, &str),
        host: &str,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let (b, k, id) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        let row = self
            .recorded(info, spec.retyped(), move |c| {
                // Replaced meanwhile: the call fails as any completion of a missing upload.
                objects::completed_by(c, &b, &k, &id)?.ok_or_else(|| objects::no_such_upload(&id))
            })
            .await?;
        let meta = ObjectMeta::decode(&row.meta);
        Ok(S3Response::new(self.completion(
            &meta,
            (bucket, key, row.etag.clone()),
            host,
            None,
        )))
    }

    /// CompleteMultipartUpload's answer for the object `meta` describes.
    pub(super) fn completion(
        &self,
        meta: &ObjectMeta,
        (bucket, key, etag): (&str, &str, String),
        host: &str,
        expiration: Option<String>,
    ) -> CompleteMultipartUploadOutput {
        let sse = SseFields::of(meta);
        let sum = |a: &str| meta.checksums.get(a).cloned();
        CompleteMultipartUploadOutput {
            checksum_crc32: sum("CRC32"),
            checksum_crc32c: sum("CRC32C"),
            checksum_crc64nvme: sum("CRC64NVME"),
            checksum_sha1: sum("SHA1"),
            checksum_sha256: sum("SHA256"),
            checksum_type: meta
                .checksum_type
                .clone()
                .filter(|_| !meta.checksums.is_empty())
                .map(ChecksumType::from),
            bucket: Some(bucket.to_owned()),
            key: Some(key.to_owned()),
            e_tag: Some(ETag::Strong(etag)),
            location: Some(super::post_object::location_url(
                &self.host,
                host,
                bucket,
                Some(key),
            )),
            expiration,
            server_side_encryption: sse.algorithm,
            ssekms_key_id: sse.key_id,
            bucket_key_enabled: sse.bucket_key,
            ..Default::default()
        }
    }
}

/// Completions of one upload run one at a time (in this process, the only one a data dir
/// has): a second completion sent while the first runs waits for it, then finds the upload
/// completed and answers its object, instead of failing `NoSuchUpload` half way.
#[derive(Default)]
pub(super) struct Completions {
    running: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The turn of one completion; the upload's entry goes when its last holder is done.
pub(super) struct Turn<'a> {
    completions: &'a Completions,
    upload_id: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Completions {
    /// Waits for the completions of `upload_id` already running.
    pub(super) async fn turn(&self, upload_id: &str) -> Turn<'_> {
        let lock = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(upload_id.to_owned())
            .or_default()
            .clone();
        Turn {
            completions: self,
            upload_id: upload_id.to_owned(),
            guard: Some(lock.lock_owned().await),
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.guard.take();
        let mut running = self
            .completions
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Only the map holds it now: no completion of this upload waits.
        if running
            .get(&self.upload_id)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            running.remove(&self.upload_id);
        }
    }
}
