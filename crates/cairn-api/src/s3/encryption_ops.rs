//! Bucket default encryption (management events): Put/Get/DeleteBucketEncryption over
//! [`cairn_core::encryption`]. A never-configured bucket answers the SSE-S3 default rule.

use cairn_core::encryption::{self, Rule};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::json;

use super::CairnS3;
use super::bucket_ops::spec;

fn to_rule(r: &ServerSideEncryptionRule) -> Rule {
    let default = r.apply_server_side_encryption_by_default.as_ref();
    Rule {
        algorithm: default
            .map(|d| d.sse_algorithm.as_str().to_owned())
            .unwrap_or_default(),
        kms_key_id: default.and_then(|d| d.kms_master_key_id.clone()),
        bucket_key_enabled: r.bucket_key_enabled.unwrap_or(false),
    }
}

fn to_dto(r: Rule) -> ServerSideEncryptionConfiguration {
    ServerSideEncryptionConfiguration {
        rules: vec![ServerSideEncryptionRule {
            apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                kms_master_key_id: r.kms_key_id,
                sse_algorithm: ServerSideEncryption::from(r.algorithm),
            }),
            bucket_key_enabled: Some(r.bucket_key_enabled),
        }],
    }
}

/// The configuration as CloudTrail records it in `requestParameters`.
pub(super) fn recorded_config(rules: &[Rule]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| {
            let mut default = json!({"SSEAlgorithm": r.algorithm});
            if let Some(k) = &r.kms_key_id {
                default["KMSMasterKeyID"] = json!(k);
            }
            json!({"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": r.bucket_key_enabled})
        })
        .collect();
    let rule = match rules.as_slice() {
        [one] => one.clone(),
        _ => json!(rules),
    };
    json!({"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "Rule": rule})
}

impl CairnS3 {
    pub(super) async fn put_bucket_encryption_op(
        &self,
        req: S3Request<PutBucketEncryptionInput>,
    ) -> S3Result<S3Response<PutBucketEncryptionOutput>> {
        let bucket = req.input.bucket.clone();
        let rules: Vec<Rule> = req
            .input
            .server_side_encryption_configuration
            .rules
            .iter()
            .map(to_rule)
            .collect();
        let s = spec(
            &req,
            "PutBucketEncryption",
            false,
            &bucket,
            Some("encryption"),
        )
        .param("ServerSideEncryptionConfiguration", recorded_config(&rules));
        self.bucket_call(&req, bucket, s, move |c, ctx, b| {
            encryption::put(c, ctx, b, &rules)
        })
        .await?;
        Ok(S3Response::new(PutBucketEncryptionOutput::default()))
    }

    pub(super) async fn get_bucket_encryption_op(
        &self,
        req: S3Request<GetBucketEncryptionInput>,
    ) -> S3Result<S3Response<GetBucketEncryptionOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(
            &req,
            "GetBucketEncryption",
            true,
            &bucket,
            Some("encryption"),
        );
        let rule = self.bucket_call(&req, bucket, s, encryption::get).await?;
        Ok(S3Response::new(GetBucketEncryptionOutput {
            server_side_encryption_configuration: Some(to_dto(rule)),
        }))
    }

    pub(super) async fn delete_bucket_encryption_op(
        &self,
        req: S3Request<DeleteBucketEncryptionInput>,
    ) -> S3Result<S3Response<DeleteBucketEncryptionOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(
            &req,
            "DeleteBucketEncryption",
            false,
            &bucket,
            Some("encryption"),
        );
        self.bucket_call(&req, bucket, s, encryption::delete)
            .await?;
        let mut resp = S3Response::new(DeleteBucketEncryptionOutput::default());
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }
}
