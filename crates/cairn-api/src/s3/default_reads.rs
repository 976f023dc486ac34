//! Bucket settings Cairn keeps no configuration for, read as S3 reads a bucket that has
//! none: transfer acceleration unset (an empty `AccelerateConfiguration`), the owner paying
//! for requests, empty lists of analytics, metrics, inventory and Intelligent-Tiering
//! configurations, GetBucketPolicyStatus judged from the bucket policy (S3's
//! `NoSuchBucketPolicy` without one), and an object's ACL: its owner's full control, the only
//! grant a bucket with ACLs disabled has (S3 still answers ACL reads then). Inventory and security tools read these
//! (`get-bucket-policy-status`, scanners); `NotImplemented` stopped them. Each call is
//! authorized with its own IAM action under the bucket's policy, and recorded.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use super::CairnS3;
use super::bucket_ops::spec;

impl CairnS3 {
    /// Authorizes and records read `name` (query flag `subresource`) of the caller's bucket.
    async fn read_default<I>(
        &self,
        req: &S3Request<I>,
        bucket: String,
        (name, subresource): (&'static str, &'static str),
    ) -> S3Result<()> {
        let s = spec(req, name, true, &bucket, Some(subresource));
        self.bucket_call(req, bucket, s, |c, ctx, b| {
            cairn_core::buckets::owned(c, ctx, b).map(|_| ())
        })
        .await
    }

    pub(super) async fn get_bucket_accelerate_configuration_op(
        &self,
        req: S3Request<GetBucketAccelerateConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketAccelerateConfigurationOutput>> {
        let name = ("GetBucketAccelerateConfiguration", "accelerate");
        self.read_default(&req, req.input.bucket.clone(), name)
            .await?;
        Ok(S3Response::new(
            GetBucketAccelerateConfigurationOutput::default(),
        ))
    }

    pub(super) async fn get_bucket_request_payment_op(
        &self,
        req: S3Request<GetBucketRequestPaymentInput>,
    ) -> S3Result<S3Response<GetBucketRequestPaymentOutput>> {
        let name = ("GetBucketRequestPayment", "requestPayment");
        self.read_default(&req, req.input.bucket.clone(), name)
            .await?;
        Ok(S3Response::new(GetBucketRequestPaymentOutput {
            payer: Some(Payer::from_static(Payer::BUCKET_OWNER)),
        }))
    }

    pub(super) async fn get_bucket_policy_status_op(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(
            &req,
            "GetBucketPolicyStatus",
            true,
            &bucket,
            Some("policyStatus"),
        );
        let public = self
            .bucket_call(&req, bucket, s, |c, ctx, b| {
                let policy = cairn_core::buckets::get_policy(c, ctx, b)?;
                let doc = serde_json::from_str(&policy).unwrap_or_default();
                Ok(cairn_core::bucket_config::is_public_policy(&doc))
            })
            .await?;
        Ok(S3Response::new(GetBucketPolicyStatusOutput {
            policy_status: Some(PolicyStatus {
                is_public: Some(public),
            }),
        }))
    }

    pub(super) async fn list_bucket_analytics_configurations_op(
        &self,
        req: S3Request<ListBucketAnalyticsConfigurationsInput>,
    ) -> S3Result<S3Response<ListBucketAnalyticsConfigurationsOutput>> {
        let name = ("ListBucketAnalyticsConfigurations", "analytics");
        self.read_default(&req, req.input.bucket.clone(), name)
            .await?;
        Ok(S3Response::new(ListBucketAnalyticsConfigurationsOutput {
            is_truncated: Some(false),
            ..Default::default()
        }))
    }

    pub(super) async fn list_bucket_metrics_configurations_op(
        &self,
        req: S3Request<ListBucketMetricsConfigurationsInput>,
    ) -> S3Result<S3Response<ListBucketMetricsConfigurationsOutput>> {
        let name = ("ListBucketMetricsConfigurations", "metrics");
        self.read_default(&req, req.input.bucket.clone(), name)
            .await?;
        Ok(S3Response::new(ListBucketMetricsConfigurationsOutput {
            is_truncated: Some(false),
            ..Default::default()
        }))
    }

    pub(super) async fn list_bucket_inventory_configurations_op(
        &self,
        req: S3Request<ListBucketInventoryConfigurationsInput>,
    ) -> S3Result<S3Response<ListBucketInventoryConfigurationsOutput>> {
        let name = ("ListBucketInventoryConfigurations", "inventory");
        self.read_default(&req, req.input.bucket.clone(), name)
            .await?;
        Ok(S3Response::new(ListBucketInventoryConfigurationsOutput {
            is_truncated: Some(false),
            ..Default::default()
        }))
    }

    pub(super) async fn list_bucket_intelligent_tiering_configurations_op(
        &self,
        req: S3Request<ListBucketIntelligentTieringConfigurationsInput>,
    ) -> S3Result<S3Response<ListBucketIntelligentTieringConfigurationsOutput>> {
        let name = (
            "ListBucketIntelligentTieringConfigurations",
            "intelligent-tiering",
        );
        self.read_default(&req, req.input.bucket.clone(), name)
            .await?;
        Ok(S3Response::new(
            ListBucketIntelligentTieringConfigurationsOutput {
                is_truncated: Some(false),
                ..Default::default()
            },
        ))
    }

    pub(super) async fn get_object_acl_op(
        &self,
        req: S3Request<GetObjectAclInput>,
    ) -> S3Result<S3Response<GetObjectAclOutput>> {
        let info = self.call_info(&req).await?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let version_id = req.input.version_id.clone();
        let host = super::bucket_ops::host(&req);
        let s =
            super::event::Spec::new("GetObjectAcl", true, true, Some(&bucket), Some(&key), &host)
                .param("acl", serde_json::json!(""));
        let (evaluator, ctx) = (self.gate.evaluator(), info.ctx.clone());
        let owner = self
            .recorded(info, s, move |c| {
                super::object_tagging_ops::objects_exist(c, (&bucket, &key), version_id.as_deref())
                    .map_err(|e| {
                        super::object_ops::missing_key(evaluator.as_ref(), c, &ctx, &bucket, e)
                    })?;
                Ok(cairn_core::objects::require_bucket(c, &bucket)?.account)
            })
            .await?;
        Ok(S3Response::new(GetObjectAclOutput {
            grants: Some(vec![Grant {
                grantee: Some(Grantee {
                    display_name: Some(owner.clone()),
                    email_address: None,
                    id: Some(owner.clone()),
                    type_: Type::from_static(Type::CANONICAL_USER),
                    uri: None,
                }),
                permission: Some(Permission::from_static(Permission::FULL_CONTROL)),
            }]),
            owner: Some(Owner {
                display_name: Some(owner.clone()),
                id: Some(owner),
            }),
            ..Default::default()
        }))
    }
}
