//! The s3s `S3` trait for [`CairnS3`]: which handler answers each operation s3s routes.
//! Operations not listed here are s3s's `NotImplemented`, after the gate of
//! [`super::unserved`] has authorized and recorded them.

use s3s::{S3Request, S3Result};

use super::CairnS3;

#[async_trait::async_trait]
impl s3s::S3 for CairnS3 {
    async fn create_bucket(
        &self,
        req: S3Request<s3s::dto::CreateBucketInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::CreateBucketOutput>> {
        self.create_bucket_op(req).await
    }
    async fn head_bucket(
        &self,
        req: S3Request<s3s::dto::HeadBucketInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::HeadBucketOutput>> {
        self.head_bucket_op(req).await
    }
    async fn list_buckets(
        &self,
        req: S3Request<s3s::dto::ListBucketsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::ListBucketsOutput>> {
        self.list_buckets_op(req).await
    }
    async fn delete_bucket(
        &self,
        req: S3Request<s3s::dto::DeleteBucketInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteBucketOutput>> {
        self.delete_bucket_op(req).await
    }
    async fn get_bucket_location(
        &self,
        req: S3Request<s3s::dto::GetBucketLocationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketLocationOutput>> {
        self.get_bucket_location_op(req).await
    }
    async fn put_bucket_policy(
        &self,
        req: S3Request<s3s::dto::PutBucketPolicyInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::PutBucketPolicyOutput>> {
        self.put_bucket_policy_op(req).await
    }
    async fn get_bucket_policy(
        &self,
        req: S3Request<s3s::dto::GetBucketPolicyInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketPolicyOutput>> {
        self.get_bucket_policy_op(req).await
    }
    async fn delete_bucket_policy(
        &self,
        req: S3Request<s3s::dto::DeleteBucketPolicyInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteBucketPolicyOutput>> {
        self.delete_bucket_policy_op(req).await
    }
    async fn get_bucket_acl(
        &self,
        req: S3Request<s3s::dto::GetBucketAclInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketAclOutput>> {
        self.get_bucket_acl_op(req).await
    }
    async fn get_bucket_cors(
        &self,
        req: S3Request<s3s::dto::GetBucketCorsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketCorsOutput>> {
        self.get_bucket_cors_op(req).await
    }
    async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<s3s::dto::GetBucketNotificationConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketNotificationConfigurationOutput>> {
        self.get_bucket_notification_configuration_op(req).await
    }
    async fn get_bucket_versioning(
        &self,
        req: S3Request<s3s::dto::GetBucketVersioningInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketVersioningOutput>> {
        self.get_bucket_versioning_op(req).await
    }
    async fn put_bucket_versioning(
        &self,
        req: S3Request<s3s::dto::PutBucketVersioningInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::PutBucketVersioningOutput>> {
        self.put_bucket_versioning_op(req).await
    }
    async fn put_public_access_block(
        &self,
        req: S3Request<s3s::dto::PutPublicAccessBlockInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::PutPublicAccessBlockOutput>> {
        self.put_public_access_block_op(req).await
    }
    async fn get_public_access_block(
        &self,
        req: S3Request<s3s::dto::GetPublicAccessBlockInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetPublicAccessBlockOutput>> {
        self.get_public_access_block_op(req).await
    }
    async fn delete_public_access_block(
        &self,
        req: S3Request<s3s::dto::DeletePublicAccessBlockInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeletePublicAccessBlockOutput>> {
        self.delete_public_access_block_op(req).await
    }
    async fn put_bucket_tagging(
        &self,
        req: S3Request<s3s::dto::PutBucketTaggingInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::PutBucketTaggingOutput>> {
        self.put_bucket_tagging_op(req).await
    }
    async fn get_bucket_tagging(
        &self,
        req: S3Request<s3s::dto::GetBucketTaggingInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketTaggingOutput>> {
        self.get_bucket_tagging_op(req).await
    }
    async fn delete_bucket_tagging(
        &self,
        req: S3Request<s3s::dto::DeleteBucketTaggingInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteBucketTaggingOutput>> {
        self.delete_bucket_tagging_op(req).await
    }
    async fn put_bucket_lifecycle_configuration(
        &self,
        req: S3Request<s3s::dto::PutBucketLifecycleConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::PutBucketLifecycleConfigurationOutput>> {
        self.put_bucket_lifecycle_op(req).await
    }
    async fn get_bucket_lifecycle_configuration(
        &self,
        req: S3Request<s3s::dto::GetBucketLifecycleConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketLifecycleConfigurationOutput>> {
        self.get_bucket_lifecycle_op(req).await
    }
    async fn delete_bucket_lifecycle(
        &self,
        req: S3Request<s3s::dto::DeleteBucketLifecycleInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteBucketLifecycleOutput>> {
        self.delete_bucket_lifecycle_op(req).await
    }
    async fn put_bucket_encryption(
        &self,
        req: S3Request<s3s::dto::PutBucketEncryptionInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::PutBucketEncryptionOutput>> {
        self.put_bucket_encryption_op(req).await
    }
    async fn get_bucket_encryption(
        &self,
        req: S3Request<s3s::dto::GetBucketEncryptionInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketEncryptionOutput>> {
        self.get_bucket_encryption_op(req).await
    }
    async fn delete_bucket_encryption(
        &self,
        req: S3Request<s3s::dto::DeleteBucketEncryptionInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteBucketEncryptionOutput>> {
        self.delete_bucket_encryption_op(req).await
    }
    async fn put_object(
        &self,
        req: S3Request<s3s::dto::PutObjectInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::PutObjectOutput>> {
        self.put_object_op(req).await
    }
    async fn get_object(
        &self,
        req: S3Request<s3s::dto::GetObjectInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetObjectOutput>> {
        self.get_object_op(req).await
    }
    async fn head_object(
        &self,
        req: S3Request<s3s::dto::HeadObjectInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::HeadObjectOutput>> {
        self.head_object_op(req).await
    }
    async fn delete_object(
        &self,
        req: S3Request<s3s::dto::DeleteObjectInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteObjectOutput>> {
        self.delete_object_op(req).await
    }
    async fn delete_objects(
        &self,
        req: S3Request<s3s::dto::DeleteObjectsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteObjectsOutput>> {
        self.delete_objects_op(req).await
    }
    async fn copy_object(
        &self,
        req: S3Request<s3s::dto::CopyObjectInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::CopyObjectOutput>> {
        self.copy_object_op(req).await
    }
    async fn list_objects(
        &self,
        req: S3Request<s3s::dto::ListObjectsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::ListObjectsOutput>> {
        self.list_objects_op(req).await
    }
    async fn list_objects_v2(
        &self,
        req: S3Request<s3s::dto::ListObjectsV2Input>,
    ) -> S3Result<s3s::S3Response<s3s::dto::ListObjectsV2Output>> {
        self.list_objects_v2_op(req).await
    }
    async fn create_multipart_upload(
        &self,
        req: S3Request<s3s::dto::CreateMultipartUploadInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::CreateMultipartUploadOutput>> {
        self.create_multipart_upload_op(req).await
    }
    async fn upload_part(
        &self,
        req: S3Request<s3s::dto::UploadPartInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::UploadPartOutput>> {
        self.upload_part_op(req).await
    }
    async fn upload_part_copy(
        &self,
        req: S3Request<s3s::dto::UploadPartCopyInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::UploadPartCopyOutput>> {
        self.upload_part_copy_op(req).await
    }
    async fn complete_multipart_upload(
        &self,
        req: S3Request<s3s::dto::CompleteMultipartUploadInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::CompleteMultipartUploadOutput>> {
        self.complete_multipart_upload_op(req).await
    }
    async fn abort_multipart_upload(
        &self,
        req: S3Request<s3s::dto::AbortMultipartUploadInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::AbortMultipartUploadOutput>> {
        self.abort_multipart_upload_op(req).await
    }
    async fn list_parts(
        &self,
        req: S3Request<s3s::dto::ListPartsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::ListPartsOutput>> {
        self.list_parts_op(req).await
    }
    async fn list_multipart_uploads(
        &self,
        req: S3Request<s3s::dto::ListMultipartUploadsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::ListMultipartUploadsOutput>> {
        self.list_multipart_uploads_op(req).await
    }
    async fn put_object_tagging(
        &self,
        req: S3Request<s3s::dto::PutObjectTaggingInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::PutObjectTaggingOutput>> {
        self.put_object_tagging_op(req).await
    }
    async fn get_object_tagging(
        &self,
        req: S3Request<s3s::dto::GetObjectTaggingInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetObjectTaggingOutput>> {
        self.get_object_tagging_op(req).await
    }
    async fn delete_object_tagging(
        &self,
        req: S3Request<s3s::dto::DeleteObjectTaggingInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteObjectTaggingOutput>> {
        self.delete_object_tagging_op(req).await
    }
    async fn list_object_versions(
        &self,
        req: S3Request<s3s::dto::ListObjectVersionsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::ListObjectVersionsOutput>> {
        self.list_object_versions_op(req).await
    }
    async fn get_bucket_replication(
        &self,
        req: S3Request<s3s::dto::GetBucketReplicationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketReplicationOutput>> {
        self.get_bucket_replication_op(req).await
    }
    async fn get_object_lock_configuration(
        &self,
        req: S3Request<s3s::dto::GetObjectLockConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetObjectLockConfigurationOutput>> {
        self.get_object_lock_configuration_op(req).await
    }
    async fn get_bucket_website(
        &self,
        req: S3Request<s3s::dto::GetBucketWebsiteInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketWebsiteOutput>> {
        self.get_bucket_website_op(req).await
    }
    async fn get_bucket_logging(
        &self,
        req: S3Request<s3s::dto::GetBucketLoggingInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketLoggingOutput>> {
        self.get_bucket_logging_op(req).await
    }
    async fn get_bucket_ownership_controls(
        &self,
        req: S3Request<s3s::dto::GetBucketOwnershipControlsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketOwnershipControlsOutput>> {
        self.get_bucket_ownership_controls_op(req).await
    }
    async fn put_bucket_ownership_controls(
        &self,
        req: S3Request<s3s::dto::PutBucketOwnershipControlsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::PutBucketOwnershipControlsOutput>> {
        self.put_bucket_ownership_controls_op(req).await
    }
    async fn delete_bucket_ownership_controls(
        &self,
        req: S3Request<s3s::dto::DeleteBucketOwnershipControlsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteBucketOwnershipControlsOutput>> {
        self.delete_bucket_ownership_controls_op(req).await
    }
    async fn get_bucket_accelerate_configuration(
        &self,
        req: S3Request<s3s::dto::GetBucketAccelerateConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketAccelerateConfigurationOutput>> {
        self.get_bucket_accelerate_configuration_op(req).await
    }
    async fn get_bucket_request_payment(
        &self,
        req: S3Request<s3s::dto::GetBucketRequestPaymentInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketRequestPaymentOutput>> {
        self.get_bucket_request_payment_op(req).await
    }
    async fn get_bucket_policy_status(
        &self,
        req: S3Request<s3s::dto::GetBucketPolicyStatusInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketPolicyStatusOutput>> {
        self.get_bucket_policy_status_op(req).await
    }
    async fn list_bucket_analytics_configurations(
        &self,
        req: S3Request<s3s::dto::ListBucketAnalyticsConfigurationsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::ListBucketAnalyticsConfigurationsOutput>> {
        self.list_bucket_analytics_configurations_op(req).await
    }
    async fn list_bucket_metrics_configurations(
        &self,
        req: S3Request<s3s::dto::ListBucketMetricsConfigurationsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::ListBucketMetricsConfigurationsOutput>> {
        self.list_bucket_metrics_configurations_op(req).await
    }
    async fn list_bucket_inventory_configurations(
        &self,
        req: S3Request<s3s::dto::ListBucketInventoryConfigurationsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::ListBucketInventoryConfigurationsOutput>> {
        self.list_bucket_inventory_configurations_op(req).await
    }
    async fn list_bucket_intelligent_tiering_configurations(
        &self,
        req: S3Request<s3s::dto::ListBucketIntelligentTieringConfigurationsInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::ListBucketIntelligentTieringConfigurationsOutput>> {
        self.list_bucket_intelligent_tiering_configurations_op(req)
            .await
    }
    async fn get_bucket_analytics_configuration(
        &self,
        req: S3Request<s3s::dto::GetBucketAnalyticsConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketAnalyticsConfigurationOutput>> {
        self.get_bucket_analytics_configuration_op(req).await
    }
    async fn delete_bucket_analytics_configuration(
        &self,
        req: S3Request<s3s::dto::DeleteBucketAnalyticsConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteBucketAnalyticsConfigurationOutput>> {
        self.delete_bucket_analytics_configuration_op(req).await
    }
    async fn get_bucket_metrics_configuration(
        &self,
        req: S3Request<s3s::dto::GetBucketMetricsConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketMetricsConfigurationOutput>> {
        self.get_bucket_metrics_configuration_op(req).await
    }
    async fn delete_bucket_metrics_configuration(
        &self,
        req: S3Request<s3s::dto::DeleteBucketMetricsConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteBucketMetricsConfigurationOutput>> {
        self.delete_bucket_metrics_configuration_op(req).await
    }
    async fn get_bucket_inventory_configuration(
        &self,
        req: S3Request<s3s::dto::GetBucketInventoryConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketInventoryConfigurationOutput>> {
        self.get_bucket_inventory_configuration_op(req).await
    }
    async fn delete_bucket_inventory_configuration(
        &self,
        req: S3Request<s3s::dto::DeleteBucketInventoryConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteBucketInventoryConfigurationOutput>> {
        self.delete_bucket_inventory_configuration_op(req).await
    }
    async fn get_bucket_intelligent_tiering_configuration(
        &self,
        req: S3Request<s3s::dto::GetBucketIntelligentTieringConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetBucketIntelligentTieringConfigurationOutput>> {
        self.get_bucket_intelligent_tiering_configuration_op(req)
            .await
    }
    async fn delete_bucket_intelligent_tiering_configuration(
        &self,
        req: S3Request<s3s::dto::DeleteBucketIntelligentTieringConfigurationInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::DeleteBucketIntelligentTieringConfigurationOutput>>
    {
        self.delete_bucket_intelligent_tiering_configuration_op(req)
            .await
    }
    async fn get_object_attributes(
        &self,
        req: S3Request<s3s::dto::GetObjectAttributesInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetObjectAttributesOutput>> {
        self.get_object_attributes_op(req).await
    }
    async fn get_object_acl(
        &self,
        req: S3Request<s3s::dto::GetObjectAclInput>,
    ) -> S3Result<s3s::S3Response<s3s::dto::GetObjectAclOutput>> {
        self.get_object_acl_op(req).await
    }
}
