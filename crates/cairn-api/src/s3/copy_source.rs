//! What CopyObject and UploadPartCopy share about their source: the object
//! `x-amz-copy-source` names (which the call also needs `s3:GetObject` on, under the source
//! bucket's policy), the four `x-amz-copy-source-if-*` conditions (412 when one fails, never
//! 304), the source's file opened while its record is read, and its plaintext as a stream (an
//! SSE-KMS source's data key opened with `Decrypt` as the caller, via S3, recorded).

use cairn_buckets::local::ObjectFiles;
use cairn_core::authz::{Permission, ResourcePolicy};
use cairn_core::objects;
use cairn_core::{ApiError, ErrorKind};
use cairn_store::objects::ObjectRow;
use s3s::dto::{CopySource, ETagCondition, Timestamp};
use serde_json::json;

use super::CairnS3;
use super::event::Spec;
use super::preconditions::etag_matches;
use super::sse_ops::{BodyStream, decrypting};
use super::versions::{self, Version};

/// The object a copy reads.
pub(super) struct Source {
    pub bucket: String,
    pub key: String,
    /// The version `?versionId=` names (Cairn keeps only the current one).
    pub version: Version,
}

impl Source {
    /// The source `x-amz-copy-source` names; an access point or outpost ARN is AWS's
    /// `NotImplemented` here, a malformed `versionId` `InvalidArgument`.
    pub(super) fn of(copy_source: &CopySource) -> Result<Self, ApiError> {
        match copy_source {
            CopySource::Bucket {
                bucket,
                key,
                version_id,
            } => Ok(Self {
                bucket: bucket.to_string(),
                key: key.to_string(),
                version: versions::named(version_id.as_deref())?,
            }),
            _ => Err(ApiError::new(
                ErrorKind::S3NotImplemented,
                "A header you provided implies functionality that is not implemented.",
            )),
        }
    }

    /// `spec` of a copy from this source: `x-amz-copy-source` recorded, and `s3:GetObject` on
    /// the source needed too.
    pub(super) fn read_by<T>(&self, spec: Spec<T>) -> Spec<T> {
        let (bucket, key) = (&self.bucket, &self.key);
        // Recorded, and the copy's `s3:x-amz-copy-source` condition key (S3 guide, "Amazon S3
        // condition key examples").
        spec.param("x-amz-copy-source", json!(format!("{bucket}/{key}")))
            .condition("s3:x-amz-copy-source", format!("{bucket}/{key}"))
            .also_needs(
                Permission::new("s3:GetObject", format!("arn:aws:s3:::{bucket}/{key}"))
                    .under(ResourcePolicy::Bucket(bucket.clone())),
            )
    }
}

/// The copy-source conditions of CopyObject and UploadPartCopy.
#[derive(Clone, Default)]
pub(super) struct SourceConditions {
    pub if_match: Option<ETagCondition>,
    pub if_none_match: Option<ETagCondition>,
    pub if_modified_since: Option<Timestamp>,
    pub if_unmodified_since: Option<Timestamp>,
}

/// The [`SourceConditions`] of a CopyObject or UploadPartCopy input (the two name their
/// `x-amz-copy-source-if-*` fields alike).
macro_rules! source_conditions {
    ($input:expr) => {
        $crate::s3::copy_source::SourceConditions {
            if_match: $input.copy_source_if_match.clone(),
            if_none_match: $input.copy_source_if_none_match.clone(),
            if_modified_since: $input.copy_source_if_modified_since.clone(),
            if_unmodified_since: $input.copy_source_if_unmodified_since.clone(),
        }
    };
}
pub(super) use source_conditions;

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

/// The source object's record (after its bucket was checked): `NoSuchVersion` when the
/// copy source names a version Cairn never issued.
pub(super) fn source_record(
    conn: &cairn_store::Connection,
    (bucket, key, version): (&str, &str, Version),
) -> Result<objects::Object, ApiError> {
    if version == Version::Unknown {
        return Err(versions::no_such_version());
    }
    objects::get(conn, bucket, key)
}

/// Opens a stored object's file while its record is read (a later commit may replace the
/// object and delete the file; the opened file stays readable).
pub(super) fn open_object_file(
    files: &ObjectFiles,
    row: &ObjectRow,
) -> Result<std::fs::File, ApiError> {
    files.open_blocking(&row.file).map_err(|e| {
        tracing::error!(file = %row.file, error = %e, "object file missing");
        ApiError::new(ErrorKind::Internal, "object file missing")
    })
}

impl CairnS3 {
    /// The plaintext bytes `span` of `source`, read from its opened `file`: its data key
    /// opened as for a GetObject (`Decrypt` as the caller for SSE-KMS, recorded). `fault`
    /// reports a file that cannot be read.
    pub(super) async fn source_plaintext(
        &self,
        ctx: &cairn_core::CallContext,
        source: &objects::Object,
        file: std::fs::File,
        span: std::ops::Range<u64>,
        fault: fn(std::io::Error) -> ApiError,
    ) -> Result<BodyStream, ApiError> {
        let size = source.row.size as u64;
        let source_key = self
            .open_object_key_now(ctx, &source.meta, &source.row.bucket, &source.row.key)
            .await?;
        Ok(match source_key {
            Some(k) => Box::pin(decrypting(file, size, span, k).await.map_err(fault)?),
            None => Box::pin(ObjectFiles::read_opened(file, span).await.map_err(fault)?),
        })
    }
}
