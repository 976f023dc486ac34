//! CopyObject (a data event on the destination that also needs `s3:GetObject` on the
//! source). The bytes move file to file ([`cairn_buckets::local::ObjectFiles::concat`]), so
//! a copy costs no memory in proportion to the object.

use cairn_core::authz::{Permission, ResourcePolicy};
use cairn_core::objects::{self, ObjectMeta};
use cairn_core::{ApiError, ErrorKind};
use cairn_store::objects::ObjectRow;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::json;

use super::CairnS3;
use super::bucket_ops::{host, timestamp};
use super::event::Spec;
use super::object_ops::{sse_s3, strong};
use super::preconditions::etag_matches;

/// AWS's largest copy source for CopyObject (larger objects are copied with UploadPartCopy).
const MAX_COPY_SOURCE_BYTES: i64 = 5 * 1024 * 1024 * 1024;

impl CairnS3 {
    pub(super) async fn copy_object_op(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let info = self.call_info(&req).await?;
        let host = host(&req);
        let input = req.input;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let (src_bucket, src_key) = match &input.copy_source {
            CopySource::Bucket { bucket, key, .. } => (bucket.to_string(), key.to_string()),
            _ => {
                let spec: Spec<()> =
                    Spec::new("CopyObject", false, true, Some(&bucket), Some(&key), &host);
                let e = ApiError::new(
                    ErrorKind::S3NotImplemented,
                    "A header you provided implies functionality that is not implemented.",
                );
                return Err(self.record_failure(info, spec, e).await);
            }
        };
        let spec = |n: i64| {
            Spec::new("CopyObject", false, true, Some(&bucket), Some(&key), &host)
                .param(
                    "x-amz-copy-source",
                    json!(format!("{src_bucket}/{src_key}")),
                )
                .also_needs(
                    Permission::new(
                        "s3:GetObject",
                        format!("arn:aws:s3:::{src_bucket}/{src_key}"),
                    )
                    .under(ResourcePolicy::Bucket(src_bucket.clone())),
                )
                .bytes_in(n)
        };
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let same = src_bucket == bucket && src_key == key;
        let (sb, sk, db) = (src_bucket.clone(), src_key.clone(), bucket.clone());
        let if_match = input.copy_source_if_match.clone();
        let source = self
            .admit(
                &info,
                || spec(0),
                move |c| {
                    objects::require_bucket(c, &sb)?;
                    objects::require_bucket(c, &db)?;
                    let source = objects::get(c, &sb, &sk)?;
                    if let Some(cond) = &if_match
                        && !etag_matches(cond, &source.row.etag)
                    {
                        return Err(ApiError::new(
                            ErrorKind::S3PreconditionFailed,
                            "At least one of the pre-conditions you specified did not hold",
                        ));
                    }
                    if same && !replace {
                        return Err(ApiError::new(
                            ErrorKind::S3InvalidRequest,
                            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
                        ));
                    }
                    if source.row.size > MAX_COPY_SOURCE_BYTES {
                        return Err(ApiError::new(
                            ErrorKind::S3InvalidRequest,
                            format!(
                                "The specified copy source is larger than the maximum allowable size for a copy source: {MAX_COPY_SOURCE_BYTES}"
                            ),
                        ));
                    }
                    Ok(source)
                },
            )
            .await?;
        let placed = match self
            .files
            .concat(std::slice::from_ref(&source.row.file))
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot copy an object file");
                let e = ApiError::new(ErrorKind::Internal, "object file copy failed");
                return Err(self.record_failure(info, spec(0), e).await);
            }
        };
        let meta = if replace {
            ObjectMeta {
                content_type: input.content_type.map(|c| c.to_string()),
                cache_control: input.cache_control,
                content_disposition: input.content_disposition,
                content_encoding: input.content_encoding,
                content_language: input.content_language,
                user: input.metadata.unwrap_or_default().into_iter().collect(),
                checksums: source.meta.checksums.clone(),
                parts_count: None,
                sse_kms: source.meta.sse_kms.clone(),
            }
        } else {
            source.meta.clone()
        };
        let row = ObjectRow {
            bucket: bucket.clone(),
            key: key.clone(),
            file: placed.file.clone(),
            // A sealed source is copied sealed (same data key and context): its record keeps
            // the plaintext size.
            size: if source.meta.sse_kms.is_some() {
                source.row.size
            } else {
                placed.size
            },
            etag: source.row.etag.clone(),
            last_modified: 0.0,
            meta: meta.encode(),
        };
        let ctx = info.ctx.clone();
        let now = ctx.now;
        let committed = self
            .recorded(info, spec(placed.size), move |c| {
                objects::require_bucket(c, &row.bucket)?;
                objects::put(c, &ctx, row)
            })
            .await;
        self.settle(placed.file, committed).await?;
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(strong(&source.row.etag)),
                last_modified: Some(timestamp(now)),
                ..Default::default()
            }),
            server_side_encryption: sse_s3(),
            ..Default::default()
        }))
    }
}
