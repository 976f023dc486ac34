//! UploadPartCopy (`PUT /bucket/key?partNumber=N&uploadId=U` with `x-amz-copy-source`): a
//! part of a multipart upload whose bytes are (a range of) an existing object. A data event
//! on the upload's object that also needs `s3:GetObject` on the source, as CopyObject does.
//!
//! The source is read as the caller (an SSE-KMS source's data key opened with `Decrypt` as
//! the caller, via S3, recorded), and the part is sealed under the upload's encryption as an
//! UploadPart would be (a key derived from the upload's data key and a salt of its own). The
//! bytes stream through a few frames of memory; a part is at most 5 GiB, as on S3.
//! `x-amz-copy-source-range` must be `bytes=first-last` within the source (AWS's
//! `InvalidArgument` otherwise); the four `x-amz-copy-source-if-*` conditions answer 412.

use cairn_core::authz::{Permission, ResourcePolicy};
use cairn_core::objects::{self, ObjectMeta};
use cairn_core::{ApiError, ErrorKind};
use cairn_store::objects::{ObjectRow, PartRow};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::json;

use super::CairnS3;
use super::bucket_ops::{host, timestamp};
use super::event::Spec;
use super::multipart_ops::MAX_PART_BYTES;
use super::object_ops::strong;
use super::preconditions::etag_matches;
use super::sse_ops::{BodyStream, SseFields, decrypting};

/// The copy-source conditions of CopyObject and UploadPartCopy.
#[derive(Clone, Default)]
pub(super) struct SourceConditions {
    pub if_match: Option<ETagCondition>,
    pub if_none_match: Option<ETagCondition>,
    pub if_modified_since: Option<Timestamp>,
    pub if_unmodified_since: Option<Timestamp>,
}

impl SourceConditions {
    /// Checks the source as S3 does for a copy: every failed condition is 412
    /// `PreconditionFailed` (a copy never answers 304). An `if-match` that holds overrides a
    /// failing `if-unmodified-since`, and an `if-none-match` that holds overrides a failing
    /// `if-modified-since`.
    pub(super) fn check(&self, row: &ObjectRow) -> Result<(), ApiError> {
        let modified =
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(row.last_modified as u64);
        let at = |t: &Timestamp| std::time::SystemTime::from(time::OffsetDateTime::from(t.clone()));
        let failed = match (&self.if_match, &self.if_unmodified_since) {
            (Some(c), _) => !etag_matches(c, &row.etag),
            (None, Some(t)) => modified > at(t),
            (None, None) => false,
        } || match (&self.if_none_match, &self.if_modified_since) {
            (Some(c), _) => etag_matches(c, &row.etag),
            (None, Some(t)) => modified <= at(t),
            (None, None) => false,
        };
        if failed {
            return Err(ApiError::new(
                ErrorKind::S3PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
        Ok(())
    }
}

/// Parses `x-amz-copy-source-range` (`bytes=first-last`, both zero-based offsets, inclusive)
/// into `first..=last`; any other form is AWS's `InvalidArgument`.
pub(super) fn parse_copy_range(value: &str) -> Result<(u64, u64), ApiError> {
    let bad = || {
        ApiError::new(
            ErrorKind::S3InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        )
    };
    let digits = |s: &str| -> Result<u64, ApiError> {
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (first, last) = value
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(bad)?;
    Ok((digits(first)?, digits(last)?))
}

/// The bytes of a source of `size` bytes a part copies: the whole source, or the range
/// (which must lie within it: AWS's `InvalidArgument` otherwise). At most 5 GiB.
pub(super) fn copy_span(
    range: Option<(u64, u64)>,
    size: u64,
) -> Result<std::ops::Range<u64>, ApiError> {
    let span = match range {
        None => 0..size,
        Some((first, last)) if first <= last && last < size => first..last + 1,
        Some(_) => {
            return Err(ApiError::new(
                ErrorKind::S3InvalidArgument,
                format!("Range specified is not valid for source object of size: {size}"),
            ));
        }
    };
    if span.end - span.start > MAX_PART_BYTES as u64 {
        return Err(ApiError::new(
            ErrorKind::S3InvalidRequest,
            format!(
                "The specified copy source is larger than the maximum allowable size for a copy source: {MAX_PART_BYTES}"
            ),
        ));
    }
    Ok(span)
}

/// What the admission check found: the upload, the source and its opened file, the span.
struct Admitted {
    upload: cairn_store::objects::UploadRow,
    source: objects::Object,
    file: std::fs::File,
    span: std::ops::Range<u64>,
}

impl CairnS3 {
    pub(super) async fn upload_part_copy_op(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let info = self.call_info(&req).await?;
        let host = host(&req);
        let input = req.input;
        let (bucket, key, upload_id) = (
            input.bucket.clone(),
            input.key.clone(),
            input.upload_id.clone(),
        );
        let part_number = i64::from(input.part_number);
        let base = || {
            Spec::new(
                "UploadPartCopy",
                false,
                true,
                Some(&bucket),
                Some(&key),
                &host,
            )
            .param("partNumber", json!(part_number.to_string()))
            .param("uploadId", json!(upload_id))
        };
        let (src_bucket, src_key) = match &input.copy_source {
            CopySource::Bucket { bucket, key, .. } => (bucket.to_string(), key.to_string()),
            _ => {
                let e = ApiError::new(
                    ErrorKind::S3NotImplemented,
                    "A header you provided implies functionality that is not implemented.",
                );
                let spec: Spec<()> = Spec::new(
                    "UploadPartCopy",
                    false,
                    true,
                    Some(&bucket),
                    Some(&key),
                    &host,
                );
                return Err(self.record_failure(info, spec, e).await);
            }
        };
        let spec = |n: i64| {
            base()
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
        let range = input.copy_source_range.as_deref().map(parse_copy_range);
        let conditions = SourceConditions {
            if_match: input.copy_source_if_match.clone(),
            if_none_match: input.copy_source_if_none_match.clone(),
            if_modified_since: input.copy_source_if_modified_since.clone(),
            if_unmodified_since: input.copy_source_if_unmodified_since.clone(),
        };
        let (b, k, id) = (bucket.clone(), key.clone(), upload_id.clone());
        let (sb, sk) = (src_bucket.clone(), src_key.clone());
        let files = self.files.clone();
        let admitted = self
            .admit(
                &info,
                || spec(0),
                move |c| {
                    objects::require_bucket(c, &b)?;
                    let upload = objects::upload(c, &b, &k, &id)?;
                    objects::check_part_number(part_number)?;
                    let range = range.transpose()?;
                    objects::require_bucket(c, &sb)?;
                    let source = objects::get(c, &sb, &sk)?;
                    conditions.check(&source.row)?;
                    let span = copy_span(range, source.row.size as u64)?;
                    // Opened while the record is read (a later commit may delete the file).
                    let file = files.open_blocking(&source.row.file).map_err(|e| {
                        tracing::error!(file = %source.row.file, error = %e, "object file missing");
                        ApiError::new(ErrorKind::Internal, "object file missing")
                    })?;
                    Ok(Admitted {
                        upload,
                        source,
                        file,
                        span,
                    })
                },
            )
            .await?;
        let upload_meta = ObjectMeta::decode(&admitted.upload.meta);
        let placed = match self
            .place_part_copy(&info.ctx, &upload_meta, (&bucket, &key), admitted)
            .await
        {
            Ok(p) => p,
            Err(e) => return Err(self.record_failure(info, spec(0), e).await),
        };
        let part = PartRow {
            part_number,
            file: placed.file.clone(),
            size: placed.size,
            etag: placed.etag.clone(),
            last_modified: 0.0,
        };
        let ctx = info.ctx.clone();
        let now = ctx.now;
        let committed = self
            .recorded(info, spec(placed.stored), move |c| {
                objects::require_bucket(c, &bucket)?;
                objects::put_part(c, &ctx, &bucket, &key, &upload_id, part)
            })
            .await;
        self.settle(placed.file, committed).await?;
        let sse = SseFields::of(&upload_meta);
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(strong(&placed.etag)),
                last_modified: Some(timestamp(now)),
                ..Default::default()
            }),
            server_side_encryption: sse.algorithm,
            ssekms_key_id: sse.key_id,
            bucket_key_enabled: sse.bucket_key,
            ..Default::default()
        }))
    }

    /// Writes the part's file: the source's plaintext span (its data key opened as for a
    /// GetObject) sealed under the upload's encryption, as UploadPart seals a body.
    async fn place_part_copy(
        &self,
        ctx: &cairn_core::CallContext,
        upload_meta: &ObjectMeta,
        (bucket, key): (&str, &str),
        admitted: Admitted,
    ) -> Result<PlacedPart, ApiError> {
        let Admitted {
            source, file, span, ..
        } = admitted;
        let size = source.row.size as u64;
        let want = span.end - span.start;
        let source_key = self
            .open_object_key_now(ctx, &source.meta, &source.row.bucket, &source.row.key)
            .await?;
        let plain: BodyStream = match source_key {
            Some(k) => Box::pin(decrypting(file, size, span, k).await.map_err(part_fault)?),
            None => Box::pin(
                cairn_buckets::local::ObjectFiles::read_opened(file, span)
                    .await
                    .map_err(part_fault)?,
            ),
        };
        let declared = super::integrity::Declared::default();
        match self
            .open_object_key_now(ctx, upload_meta, bucket, key)
            .await?
        {
            Some(dk) => {
                let up = self.seal_part_stream(plain, &declared, &dk).await?;
                if up.plain_len != want {
                    self.files.remove([up.written.file]).await;
                    return Err(part_fault(std::io::Error::other(
                        "the copy source is short",
                    )));
                }
                // SSE-S3 parts keep the MD5 of their data as ETag; SSE-KMS ones do not.
                let etag = if upload_meta.sse_kms.is_some() {
                    up.written.md5_hex.clone()
                } else {
                    up.plain_md5
                };
                Ok(PlacedPart {
                    file: up.written.file,
                    stored: up.written.size,
                    size: want as i64,
                    etag,
                })
            }
            None => {
                let (written, _) = self
                    .receive(Some(StreamingBlob::wrap(plain)), &declared)
                    .await?;
                if written.size as u64 != want {
                    self.files.remove([written.file]).await;
                    return Err(part_fault(std::io::Error::other(
                        "the copy source is short",
                    )));
                }
                Ok(PlacedPart {
                    file: written.file,
                    stored: written.size,
                    size: written.size,
                    etag: written.md5_hex,
                })
            }
        }
    }
}

/// A part copy's new file.
struct PlacedPart {
    file: String,
    /// Bytes stored (with a sealed part's salt and frame tags).
    stored: i64,
    /// Plaintext bytes.
    size: i64,
    etag: String,
}

fn part_fault(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "cannot copy a part from an object file");
    ApiError::new(ErrorKind::Internal, "part copy failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_ranges_parse_only_in_aws_form() {
        assert_eq!(parse_copy_range("bytes=0-9").unwrap(), (0, 9));
        assert_eq!(parse_copy_range("bytes=5-5").unwrap(), (5, 5));
        for bad in [
            "0-9",
            "bytes=",
            "bytes=0",
            "bytes=-5",
            "bytes=5-",
            "bytes=a-b",
            "bytes=0-2,3-5",
            "bytes=+1-2",
            "bytes= 1-2",
            "bytes=99999999999999999999-1",
        ] {
            let e = parse_copy_range(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::S3InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn copy_spans_lie_within_the_source() {
        assert_eq!(copy_span(None, 10).unwrap(), 0..10);
        assert_eq!(copy_span(Some((2, 4)), 10).unwrap(), 2..5);
        assert_eq!(copy_span(Some((9, 9)), 10).unwrap(), 9..10);
        for r in [(0, 10), (5, 4), (10, 10)] {
            let e = copy_span(Some(r), 10).unwrap_err();
            assert_eq!(e.kind, ErrorKind::S3InvalidArgument);
            assert!(e.message.ends_with("of size: 10"), "{}", e.message);
        }
        let big = 6 * 1024 * 1024 * 1024;
        let e = copy_span(None, big).unwrap_err();
        assert_eq!(e.kind, ErrorKind::S3InvalidRequest);
    }

    proptest::proptest! {
        #[test]
        fn copy_range_parsing_never_panics(s in ".{0,40}") {
            let _ = parse_copy_range(&s);
            let _ = parse_copy_range(&format!("bytes={s}"));
        }
    }
}
