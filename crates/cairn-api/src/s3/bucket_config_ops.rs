//! Bucket versioning state and public access block (management events) over
//! [`cairn_core::bucket_config`]: Put/GetBucketVersioning and Put/Get/DeletePublicAccessBlock,
//! which CloudTrail records as `PutBucketPublicAccessBlock`, `GetBucketPublicAccessBlock` and
//! `DeleteBucketPublicAccessBlock`.
//!
//! [`internal`] builds the same operations (and bucket default encryption, ownership
//! controls and tagging) for
//! CloudFormation's calls from JSON members, with the same records as the signed requests.

use cairn_core::CallContext;
use cairn_core::bucket_config;
use cairn_core::encryption::{self, Rule};
use cairn_core::error::ApiResult;
use cairn_store::Connection;
use cairn_store::buckets::PublicAccessBlock;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::{Value, json};

use super::CairnS3;
use super::bucket_ops::spec;
use super::event::Spec;

/// S3's XML namespace, as its records show it on configuration documents.
pub(super) const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// The `VersioningConfiguration` CloudTrail records.
fn recorded_versioning(status: Option<&str>, mfa_delete: Option<&str>) -> Value {
    let mut v = json!({"xmlns": XMLNS});
    if let Some(s) = status {
        v["Status"] = json!(s);
    }
    if let Some(m) = mfa_delete {
        v["MfaDelete"] = json!(m);
    }
    v
}

/// The `PublicAccessBlockConfiguration` CloudTrail records.
fn recorded_block(b: &PublicAccessBlock) -> Value {
    json!({
        "xmlns": XMLNS,
        "BlockPublicAcls": b.block_public_acls,
        "IgnorePublicAcls": b.ignore_public_acls,
        "BlockPublicPolicy": b.block_public_policy,
        "RestrictPublicBuckets": b.restrict_public_buckets,
    })
}

fn block_from_dto(c: &PublicAccessBlockConfiguration) -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: c.block_public_acls.unwrap_or(false),
        ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
        block_public_policy: c.block_public_policy.unwrap_or(false),
        restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
    }
}

/// A boolean member given as JSON `true`/`false` or as the strings (template parameters).
fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The operation an internal call runs inside the gate.
pub(crate) type InternalOp = Box<dyn FnOnce(&Connection) -> ApiResult<()> + Send>;

/// The bucket-configuration calls CloudFormation makes, from API-shaped JSON members: the
/// record to write and the operation to run, or `None` for another action.
pub(crate) fn internal(
    action: &str,
    input: &Value,
    ctx: CallContext,
    bucket: &str,
    host: &str,
) -> Option<(Spec<()>, InternalOp)> {
    let b = bucket.to_owned();
    let base = |name: &'static str, sub: &str| {
        Spec::new(name, false, false, Some(bucket), None, host).param(sub, json!(""))
    };
    Some(match action {
        "PutBucketVersioning" => {
            let config = input.get("VersioningConfiguration").unwrap_or(&Value::Null);
            let status = text(config, "Status");
            let mfa = text(config, "MFADelete");
            let spec = base("PutBucketVersioning", "versioning").param(
                "VersioningConfiguration",
                recorded_versioning(status.as_deref(), mfa.as_deref()),
            );
            let op: InternalOp = Box::new(move |c| {
                bucket_config::put_versioning(c, &ctx, &b, status.as_deref(), mfa.as_deref(), false)
            });
            (spec, op)
        }
        "PutPublicAccessBlock" => {
            let c = input
                .get("PublicAccessBlockConfiguration")
                .unwrap_or(&Value::Null);
            let block = PublicAccessBlock {
                block_public_acls: flag(c.get("BlockPublicAcls")),
                ignore_public_acls: flag(c.get("IgnorePublicAcls")),
                block_public_policy: flag(c.get("BlockPublicPolicy")),
                restrict_public_buckets: flag(c.get("RestrictPublicBuckets")),
            };
            let spec = base("PutBucketPublicAccessBlock", "publicAccessBlock")
                .param("PublicAccessBlockConfiguration", recorded_block(&block));
            let op: InternalOp =
                Box::new(move |c| bucket_config::put_public_access_block(c, &ctx, &b, block));
            (spec, op)
        }
        "PutBucketOwnershipControls" => {
            let rules: Vec<String> = input
                .get("OwnershipControls")
                .and_then(|c| c.get("Rules"))
                .and_then(Value::as_array)
                .map(|rules| {
                    rules
                        .iter()
                        .map(|r| text(r, "ObjectOwnership").unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default();
            let spec = base("PutBucketOwnershipControls", "ownershipControls").param(
                "OwnershipControls",
                super::ownership_ops::recorded_controls(&rules),
            );
            let op: InternalOp =
                Box::new(move |c| cairn_core::bucket_ownership::put(c, &ctx, &b, &rules));
            (spec, op)
        }
        "DeleteBucketOwnershipControls" => (
            base("DeleteBucketOwnershipControls", "ownershipControls"),
            Box::new(move |c| cairn_core::bucket_ownership::delete(c, &ctx, &b)),
        ),
        "DeletePublicAccessBlock" => (
            base("DeleteBucketPublicAccessBlock", "publicAccessBlock"),
            Box::new(move |c| bucket_config::delete_public_access_block(c, &ctx, &b)),
        ),
        "PutBucketEncryption" => {
            let rules: Vec<Rule> = input
                .get("ServerSideEncryptionConfiguration")
                .and_then(|c| c.get("Rules"))
                .and_then(Value::as_array)
                .map(|rules| {
                    rules
                        .iter()
                        .map(|r| {
                            let default = r
                                .get("ApplyServerSideEncryptionByDefault")
                                .unwrap_or(&Value::Null);
                            Rule {
                                algorithm: text(default, "SSEAlgorithm").unwrap_or_default(),
                                kms_key_id: text(default, "KMSMasterKeyID"),
                                bucket_key_enabled: flag(r.get("BucketKeyEnabled")),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let spec = base("PutBucketEncryption", "encryption").param(
                "ServerSideEncryptionConfiguration",
                super::encryption_ops::recorded_config(&rules),
            );
            let op: InternalOp = Box::new(move |c| encryption::put(c, &ctx, &b, &rules));
            (spec, op)
        }
        "DeleteBucketEncryption" => (
            base("DeleteBucketEncryption", "encryption"),
            Box::new(move |c| encryption::delete(c, &ctx, &b)),
        ),
        _ => return super::bucket_tagging_ops::internal(action, input, ctx, bucket, host),
    })
}

impl CairnS3 {
    pub(super) async fn put_bucket_versioning_op(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let bucket = req.input.bucket.clone();
        let config = &req.input.versioning_configuration;
        let status = config.status.as_ref().map(|s| s.as_str().to_owned());
        let mfa = config.mfa_delete.as_ref().map(|m| m.as_str().to_owned());
        let mfa_header = req.input.mfa.is_some();
        let s = spec(
            &req,
            "PutBucketVersioning",
            false,
            &bucket,
            Some("versioning"),
        )
        .param(
            "VersioningConfiguration",
            recorded_versioning(status.as_deref(), mfa.as_deref()),
        );
        self.bucket_call(&req, bucket, s, move |c, ctx, b| {
            bucket_config::put_versioning(c, ctx, b, status.as_deref(), mfa.as_deref(), mfa_header)
        })
        .await?;
        Ok(S3Response::new(PutBucketVersioningOutput::default()))
    }

    pub(super) async fn get_bucket_versioning_op(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(
            &req,
            "GetBucketVersioning",
            true,
            &bucket,
            Some("versioning"),
        );
        let v = self
            .bucket_call(&req, bucket, s, bucket_config::get_versioning)
            .await?;
        Ok(S3Response::new(GetBucketVersioningOutput {
            mfa_delete: v.mfa_delete.map(MFADeleteStatus::from),
            status: v.status.map(BucketVersioningStatus::from),
        }))
    }

    /// GetBucketNotificationConfiguration (and the legacy GetBucketNotification, the same
    /// request): Cairn keeps no event notifications (PutBucketNotificationConfiguration is
    /// not served), so a bucket's configuration is S3's empty one.
    pub(super) async fn get_bucket_notification_configuration_op(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(
            &req,
            "GetBucketNotification",
            true,
            &bucket,
            Some("notification"),
        );
        self.bucket_call(&req, bucket, s, |c, ctx, b| {
            cairn_core::buckets::owned(c, ctx, b).map(|_| ())
        })
        .await?;
        Ok(S3Response::new(
            GetBucketNotificationConfigurationOutput::default(),
        ))
    }

    /// GetBucketCors: Cairn keeps no CORS configuration (PutBucketCors is not served), so
    /// every bucket is S3's bucket without one: `NoSuchCORSConfiguration`.
    pub(super) async fn get_bucket_cors_op(
        &self,
        req: S3Request<GetBucketCorsInput>,
    ) -> S3Result<S3Response<GetBucketCorsOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(&req, "GetBucketCors", true, &bucket, Some("cors"));
        self.bucket_call(&req, bucket, s, |c, ctx, b| {
            cairn_core::buckets::owned(c, ctx, b)?;
            Err::<(), _>(cairn_core::ApiError::new(
                cairn_core::ErrorKind::S3NoSuchCorsConfiguration,
                "The CORS configuration does not exist",
            ))
        })
        .await?;
        Ok(S3Response::new(GetBucketCorsOutput::default()))
    }

    pub(super) async fn put_public_access_block_op(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        let bucket = req.input.bucket.clone();
        let block = block_from_dto(&req.input.public_access_block_configuration);
        let s = spec(
            &req,
            "PutBucketPublicAccessBlock",
            false,
            &bucket,
            Some("publicAccessBlock"),
        )
        .param("PublicAccessBlockConfiguration", recorded_block(&block));
        self.bucket_call(&req, bucket, s, move |c, ctx, b| {
            bucket_config::put_public_access_block(c, ctx, b, block)
        })
        .await?;
        Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
    }

    pub(super) async fn get_public_access_block_op(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(
            &req,
            "GetBucketPublicAccessBlock",
            true,
            &bucket,
            Some("publicAccessBlock"),
        );
        let b = self
            .bucket_call(&req, bucket, s, bucket_config::get_public_access_block)
            .await?;
        Ok(S3Response::new(GetPublicAccessBlockOutput {
            public_access_block_configuration: Some(PublicAccessBlockConfiguration {
                block_public_acls: Some(b.block_public_acls),
                ignore_public_acls: Some(b.ignore_public_acls),
                block_public_policy: Some(b.block_public_policy),
                restrict_public_buckets: Some(b.restrict_public_buckets),
            }),
        }))
    }

    pub(super) async fn delete_public_access_block_op(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(
            &req,
            "DeleteBucketPublicAccessBlock",
            false,
            &bucket,
            Some("publicAccessBlock"),
        );
        self.bucket_call(&req, bucket, s, bucket_config::delete_public_access_block)
            .await?;
        let mut resp = S3Response::new(DeletePublicAccessBlockOutput::default());
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }
}
