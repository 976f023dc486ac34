//! Bucket configurations Cairn does not keep, read as S3 reads a bucket without them: the
//! replication, Object Lock and website configurations are S3's 404 "not found" errors,
//! server access logging is an empty `BucketLoggingStatus` (object ownership is
//! [`super::ownership_ops`]). Security scanners (Prowler,
//! ScoutSuite) read these to judge a bucket; `NotImplemented` made them report false
//! findings. Each call is authorized with its own IAM action and recorded.

use cairn_core::{ApiError, ErrorKind};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use super::CairnS3;
use super::bucket_ops::spec;

/// S3's answer for a configuration a bucket does not have: its error, or `None` for a read
/// that answers an empty or default document.
type Missing = Option<(ErrorKind, &'static str)>;

impl CairnS3 {
    /// Reads configuration `name` (query flag `subresource`) of the bucket `req` names: the
    /// bucket must exist and be the caller's, then `missing` answers.
    async fn read_unkept<I>(
        &self,
        req: &S3Request<I>,
        bucket: String,
        (name, subresource): (&'static str, &'static str),
        missing: Missing,
    ) -> S3Result<()> {
        let s = spec(req, name, true, &bucket, Some(subresource));
        self.bucket_call(req, bucket, s, move |c, ctx, b| {
            cairn_core::buckets::owned(c, ctx, b)?;
            match missing {
                Some((kind, message)) => Err(ApiError::new(kind, message)),
                None => Ok(()),
            }
        })
        .await
    }

    pub(super) async fn get_bucket_replication_op(
        &self,
        req: S3Request<GetBucketReplicationInput>,
    ) -> S3Result<S3Response<GetBucketReplicationOutput>> {
        let missing = (
            ErrorKind::S3ReplicationConfigurationNotFound,
            "The replication configuration was not found",
        );
        let name = ("GetBucketReplication", "replication");
        self.read_unkept(&req, req.input.bucket.clone(), name, Some(missing))
            .await?;
        Ok(S3Response::new(GetBucketReplicationOutput::default()))
    }

    pub(super) async fn get_object_lock_configuration_op(
        &self,
        req: S3Request<GetObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
        let missing = (
            ErrorKind::S3ObjectLockConfigurationNotFound,
            "Object Lock configuration does not exist for this bucket",
        );
        let name = ("GetObjectLockConfiguration", "object-lock");
        self.read_unkept(&req, req.input.bucket.clone(), name, Some(missing))
            .await?;
        Ok(S3Response::new(GetObjectLockConfigurationOutput::default()))
    }

    pub(super) async fn get_bucket_website_op(
        &self,
        req: S3Request<GetBucketWebsiteInput>,
    ) -> S3Result<S3Response<GetBucketWebsiteOutput>> {
        let missing = (
            ErrorKind::S3NoSuchWebsiteConfiguration,
            "The specified bucket does not have a website configuration",
        );
        let name = ("GetBucketWebsite", "website");
        self.read_unkept(&req, req.input.bucket.clone(), name, Some(missing))
            .await?;
        Ok(S3Response::new(GetBucketWebsiteOutput::default()))
    }

    pub(super) async fn get_bucket_logging_op(
        &self,
        req: S3Request<GetBucketLoggingInput>,
    ) -> S3Result<S3Response<GetBucketLoggingOutput>> {
        let name = ("GetBucketLogging", "logging");
        self.read_unkept(&req, req.input.bucket.clone(), name, None)
            .await?;
        Ok(S3Response::new(GetBucketLoggingOutput::default()))
    }
}
