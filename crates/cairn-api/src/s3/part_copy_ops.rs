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

use cairn_core::objects::{self, ObjectMeta};
use cairn_core::{ApiError, ErrorKind};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use super::CairnS3;
use super::bucket_ops::{host, timestamp};
use super::copy_source::{Source, open_object_file, source_conditions};
use super::event::Spec;
use super::multipart_ops::{MAX_PART_BYTES, part_etag, part_target};
use super::object_ops::strong;
use super::sse_ops::SseFields;

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

/// What the admission check found besides the upload: the source and its opened file, the
/// span.
struct Admitted {
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
        let part = part_target!(input);
        let src = match Source::of(&input.copy_source) {
            Ok(s) => s,
            Err(e) => {
                let (bucket, key) = (Some(part.bucket.as_str()), Some(part.key.as_str()));
                let spec: Spec<()> = Spec::new("UploadPartCopy", false, true, bucket, key, &host);
                return Err(self.record_failure(info, spec, e).await);
            }
        };
        // A part copy sends no body: nothing is transferred in. Judged with its upload's
        // encryption keys (`upload_keys`).
        let keys = self
            .upload_keys(&part.bucket, &part.key, &part.upload_id)
            .await;
        let spec = || {
            super::upload_keys::with_keys(src.read_by(part.spec("UploadPartCopy", &host)), &keys)
        };
        let range = input.copy_source_range.as_deref().map(parse_copy_range);
        let conditions = source_conditions!(input);
        let (sb, sk, sv) = (src.bucket.clone(), src.key.clone(), src.version);
        let files = self.files.clone();
        let sse_c = super::sse_c::check_read(
            super::sse_c::sse_c_asked!(input) || super::sse_c::copy_source_sse_c_asked!(input),
        );
        let (upload, admitted) = self
            .admit_part(&info, &spec, &part, move |c| {
                sse_c?;
                let range = range.transpose()?;
                objects::require_bucket(c, &sb)?;
                let source = super::copy_source::source_record(c, (&sb, &sk, sv))?;
                conditions.check(&source.row)?;
                let span = copy_span(range, source.row.size as u64)?;
                let file = open_object_file(&files, &source.row)?;
                Ok(Admitted { source, file, span })
            })
            .await?;
        let upload_meta = ObjectMeta::decode(&upload.meta);
        let placed = match self
            .place_part_copy(&info.ctx, &upload_meta, (&part.bucket, &part.key), admitted)
            .await
        {
            Ok(p) => p,
            Err(e) => return Err(self.record_failure(info, spec(), e).await),
        };
        let now = info.ctx.now;
        let stored = super::multipart_ops::StoredPart {
            file: placed.file,
            size: placed.size,
            etag: placed.etag.clone(),
            checksum: placed.checksum.clone(),
        };
        self.commit_part(info, spec(), &part, stored).await?;
        let sse = SseFields::of(&upload_meta);
        let sum = |a: &str| {
            placed
                .checksum
                .as_ref()
                .filter(|(algorithm, _)| algorithm == a)
                .map(|(_, v)| v.clone())
        };
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                checksum_crc32: sum("CRC32"),
                checksum_crc32c: sum("CRC32C"),
                checksum_crc64nvme: sum("CRC64NVME"),
                checksum_sha1: sum("SHA1"),
                checksum_sha256: sum("SHA256"),
                e_tag: Some(strong(&placed.etag)),
                last_modified: Some(timestamp(now)),
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
        let Admitted { source, file, span } = admitted;
        let want = span.end - span.start;
        let plain = self
            .source_plaintext(ctx, &source, file, span, part_fault)
            .await?;
        // The part gets a checksum of the upload's algorithm, computed from its bytes.
        let mut declared = super::integrity::Declared::default();
        if let Some(algorithm) = &upload_meta.checksum_algorithm {
            declared.request(algorithm);
        }
        let (file, plain_len, etag, computed) = match self
            .open_object_key_now(ctx, upload_meta, bucket, key)
            .await?
        {
            Some(dk) => {
                let up = self.seal_part_stream(plain, &declared, &dk).await?;
                let etag = part_etag(upload_meta, &up.written.md5_hex, &up.plain_md5);
                let f = up.written;
                (f.file, up.plain_len, etag, up.computed)
            }
            None => {
                let (written, computed) = self
                    .receive(Some(StreamingBlob::wrap(plain)), &declared)
                    .await?;
                let len = written.size as u64;
                (written.file, len, written.md5_hex, computed)
            }
        };
        if plain_len != want {
            self.files.remove([file]).await;
            return Err(part_fault(std::io::Error::other(
                "the copy source is short",
            )));
        }
        let kept = declared.verify("", computed, None)?;
        Ok(PlacedPart {
            file,
            size: want as i64,
            etag,
            checksum: kept.into_iter().next(),
        })
    }
}

/// A part copy's new file.
struct PlacedPart {
    file: String,
    /// Plaintext bytes.
    size: i64,
    etag: String,
    /// Its checksum in the upload's algorithm, if the upload has one.
    checksum: Option<(String, String)>,
}

fn part_fault(e: std::io::Error) -> ApiError {
    ApiError::from_file_io(&e)
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
