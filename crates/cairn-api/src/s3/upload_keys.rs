//! What a multipart upload's later calls (UploadPart, UploadPartCopy,
//! CompleteMultipartUpload) are authorized with besides their own keys: the encryption the
//! upload was created with, as the condition keys CreateMultipartUpload carried
//! (`s3:x-amz-server-side-encryption`, `s3:x-amz-server-side-encryption-aws-kms-key-id`). Those
//! calls send no encryption header of their own, so without this the S3 guide's "deny
//! unencrypted uploads" policy (`Null` on the key) would refuse every part of an encrypted
//! upload that CreateMultipartUpload was allowed to start.

use cairn_core::objects::{self, ObjectMeta};
use cairn_store::objects::UploadRow;
use s3s::S3Result;

use super::CairnS3;
use super::event::Spec;
use super::multipart_ops::PartTarget;
use super::sse_ops::SseFields;
use crate::recording::CallInfo;

/// The condition keys an upload's encryption gives its later calls.
pub(super) type UploadKeys = Vec<(&'static str, String)>;

/// `spec` with `keys` as condition keys.
pub(super) fn with_keys<T>(spec: Spec<T>, keys: &UploadKeys) -> Spec<T> {
    keys.iter()
        .fold(spec, |s, (k, v)| s.condition(k, v.clone()))
}

/// The keys of `meta`'s encryption.
fn keys_of(meta: &ObjectMeta) -> UploadKeys {
    let sse = SseFields::of(meta);
    let mut keys = Vec::new();
    if let Some(a) = sse.algorithm {
        keys.push(("s3:x-amz-server-side-encryption", a.as_str().to_owned()));
    }
    if let Some(k) = sse.key_id {
        keys.push(("s3:x-amz-server-side-encryption-aws-kms-key-id", k));
    }
    keys
}

impl CairnS3 {
    /// The keys of upload `upload_id` of `bucket`/`key`; none when there is no such upload
    /// (the call's own check then refuses it, recorded, as before). A call's spec carries
    /// them from its first authorization to its commit, which authorizes again.
    pub(super) async fn upload_keys(&self, bucket: &str, key: &str, upload_id: &str) -> UploadKeys {
        let (b, k, id) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        self.store
            .read(move |c| Ok(objects::upload(c, &b, &k, &id).ok()))
            .await
            .ok()
            .flatten()
            .map(|u| keys_of(&ObjectMeta::decode(&u.meta)))
            .unwrap_or_default()
    }

    /// The checks a part (UploadPart, UploadPartCopy) passes before its bytes are written: the
    /// call's permissions, then on a reader that the bucket exists, the upload is `part`'s
    /// key's, and the part number is 1–10000, and then `check`. Returns the upload and what
    /// `check` found; a failure is recorded with `spec`.
    pub(super) async fn admit_part<T, R, S, C>(
        &self,
        info: &CallInfo,
        spec: S,
        part: &PartTarget,
        check: C,
    ) -> S3Result<(UploadRow, R)>
    where
        T: Send + 'static,
        R: Send + 'static,
        S: Fn() -> Spec<T>,
        C: FnOnce(&cairn_store::Connection) -> cairn_core::error::ApiResult<R> + Send + 'static,
    {
        let p = part.clone();
        self.admit(info, spec, move |c| {
            objects::require_bucket(c, &p.bucket)?;
            let upload = objects::upload(c, &p.bucket, &p.key, &p.upload_id)?;
            objects::check_part_number(p.number)?;
            Ok((upload, check(c)?))
        })
        .await
    }
}
