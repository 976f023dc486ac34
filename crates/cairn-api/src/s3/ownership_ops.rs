//! Put/Get/DeleteBucketOwnershipControls over [`cairn_core::bucket_ownership`]: every bucket
//! is `BucketOwnerEnforced` (Cairn keeps no object ACLs) until its controls are deleted. Each
//! call is authorized with `s3:PutBucketOwnershipControls` or `s3:GetBucketOwnershipControls`
//! and recorded under its own name.

use cairn_core::bucket_ownership;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::json;

use super::CairnS3;
use super::bucket_ops::spec;

/// The `OwnershipControls` CloudTrail records for rules of these `ObjectOwnership` values.
pub(super) fn recorded_controls(rules: &[String]) -> serde_json::Value {
    let recorded: Vec<_> = rules
        .iter()
        .map(|o| json!({"ObjectOwnership": o}))
        .collect();
    let rule = match recorded.as_slice() {
        [one] => one.clone(),
        many => json!(many),
    };
    json!({"xmlns": super::bucket_config_ops::XMLNS, "Rule": rule})
}

impl CairnS3 {
    pub(super) async fn put_bucket_ownership_controls_op(
        &self,
        req: S3Request<PutBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<PutBucketOwnershipControlsOutput>> {
        let bucket = req.input.bucket.clone();
        let rules: Vec<String> = req
            .input
            .ownership_controls
            .rules
            .iter()
            .map(|r| r.object_ownership.as_str().to_owned())
            .collect();
        let s = spec(
            &req,
            "PutBucketOwnershipControls",
            false,
            &bucket,
            Some("ownershipControls"),
        )
        .param("OwnershipControls", recorded_controls(&rules));
        self.bucket_call(&req, bucket, s, move |c, ctx, b| {
            bucket_ownership::put(c, ctx, b, &rules)
        })
        .await?;
        Ok(S3Response::new(PutBucketOwnershipControlsOutput::default()))
    }

    pub(super) async fn get_bucket_ownership_controls_op(
        &self,
        req: S3Request<GetBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(
            &req,
            "GetBucketOwnershipControls",
            true,
            &bucket,
            Some("ownershipControls"),
        );
        let ownership = self
            .bucket_call(&req, bucket, s, bucket_ownership::get)
            .await?;
        Ok(S3Response::new(GetBucketOwnershipControlsOutput {
            ownership_controls: Some(OwnershipControls {
                rules: vec![OwnershipControlsRule {
                    object_ownership: ObjectOwnership::from_static(ownership),
                }],
            }),
        }))
    }

    pub(super) async fn delete_bucket_ownership_controls_op(
        &self,
        req: S3Request<DeleteBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<DeleteBucketOwnershipControlsOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(
            &req,
            "DeleteBucketOwnershipControls",
            false,
            &bucket,
            Some("ownershipControls"),
        );
        self.bucket_call(&req, bucket, s, bucket_ownership::delete)
            .await?;
        let mut resp = S3Response::new(DeleteBucketOwnershipControlsOutput::default());
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }
}
