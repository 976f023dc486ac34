//! The analytics, metrics, inventory and Intelligent-Tiering configurations of a bucket,
//! named by id. Cairn keeps none (their lists are empty, [`super::default_reads`]), so a Get
//! or Delete of one is S3's answer for an id a bucket does not have: 404
//! `NoSuchConfiguration`, after the bucket is found to be the caller's. Each call is
//! authorized with its own IAM action and recorded (a Delete as a write).

use cairn_core::{ApiError, ErrorKind};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::json;

use super::CairnS3;
use super::bucket_ops::spec;

/// S3's message for an id a bucket has no configuration under.
const NO_SUCH: &str = "The specified configuration does not exist.";

impl CairnS3 {
    /// Authorizes and records `name` (query flag `subresource`, and the `id` asked for; `read`
    /// for a Get) on the caller's bucket, then refuses it: no configuration has the id.
    async fn by_id<I, O: Default>(
        &self,
        req: &S3Request<I>,
        (bucket, id): (String, &str),
        (name, subresource, read): (&'static str, &'static str, bool),
    ) -> S3Result<S3Response<O>> {
        let s = spec(req, name, read, &bucket, Some(subresource)).param("id", json!(id));
        self.bucket_call(req, bucket, s, |c, ctx, b| {
            cairn_core::buckets::owned(c, ctx, b)?;
            Err::<(), _>(ApiError::new(ErrorKind::S3NoSuchConfiguration, NO_SUCH))
        })
        .await?;
        // Not reached: the call above always refuses.
        Ok(S3Response::new(O::default()))
    }

    pub(super) async fn get_bucket_analytics_configuration_op(
        &self,
        req: S3Request<GetBucketAnalyticsConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketAnalyticsConfigurationOutput>> {
        let name = ("GetBucketAnalyticsConfiguration", "analytics", true);
        self.by_id(&req, (req.input.bucket.clone(), &req.input.id), name)
            .await
    }

    pub(super) async fn delete_bucket_analytics_configuration_op(
        &self,
        req: S3Request<DeleteBucketAnalyticsConfigurationInput>,
    ) -> S3Result<S3Response<DeleteBucketAnalyticsConfigurationOutput>> {
        let name = ("DeleteBucketAnalyticsConfiguration", "analytics", false);
        self.by_id(&req, (req.input.bucket.clone(), &req.input.id), name)
            .await
    }

    pub(super) async fn get_bucket_metrics_configuration_op(
        &self,
        req: S3Request<GetBucketMetricsConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketMetricsConfigurationOutput>> {
        let name = ("GetBucketMetricsConfiguration", "metrics", true);
        self.by_id(&req, (req.input.bucket.clone(), &req.input.id), name)
            .await
    }

    pub(super) async fn delete_bucket_metrics_configuration_op(
        &self,
        req: S3Request<DeleteBucketMetricsConfigurationInput>,
    ) -> S3Result<S3Response<DeleteBucketMetricsConfigurationOutput>> {
        let name = ("DeleteBucketMetricsConfiguration", "metrics", false);
        self.by_id(&req, (req.input.bucket.clone(), &req.input.id), name)
            .await
    }

    pub(super) async fn get_bucket_inventory_configuration_op(
        &self,
        req: S3Request<GetBucketInventoryConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketInventoryConfigurationOutput>> {
        let name = ("GetBucketInventoryConfiguration", "inventory", true);
        self.by_id(&req, (req.input.bucket.clone(), &req.input.id), name)
            .await
    }

    pub(super) async fn delete_bucket_inventory_configuration_op(
        &self,
        req: S3Request<DeleteBucketInventoryConfigurationInput>,
    ) -> S3Result<S3Response<DeleteBucketInventoryConfigurationOutput>> {
        let name = ("DeleteBucketInventoryConfiguration", "inventory", false);
        self.by_id(&req, (req.input.bucket.clone(), &req.input.id), name)
            .await
    }

    pub(super) async fn get_bucket_intelligent_tiering_configuration_op(
        &self,
        req: S3Request<GetBucketIntelligentTieringConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketIntelligentTieringConfigurationOutput>> {
        let name = (
            "GetBucketIntelligentTieringConfiguration",
            "intelligent-tiering",
            true,
        );
        self.by_id(&req, (req.input.bucket.clone(), &req.input.id), name)
            .await
    }

    pub(super) async fn delete_bucket_intelligent_tiering_configuration_op(
        &self,
        req: S3Request<DeleteBucketIntelligentTieringConfigurationInput>,
    ) -> S3Result<S3Response<DeleteBucketIntelligentTieringConfigurationOutput>> {
        let name = (
            "DeleteBucketIntelligentTieringConfiguration",
            "intelligent-tiering",
            false,
        );
        self.by_id(&req, (req.input.bucket.clone(), &req.input.id), name)
            .await
    }
}
