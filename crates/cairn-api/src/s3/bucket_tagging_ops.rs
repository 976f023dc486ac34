//! Bucket tagging (management events) over [`cairn_core::bucket_tags`]:
//! Put/Get/DeleteBucketTagging. Put and Delete need `s3:PutBucketTagging`, Get needs
//! `s3:GetBucketTagging` (see [`super::event::action_of`]).
//!
//! [`internal`] builds Put/DeleteBucketTagging for CloudFormation's calls from JSON members,
//! with the same records as the signed requests; those calls may set CloudFormation's
//! `aws:cloudformation:*` tags, which a requester may not.

use cairn_core::CallContext;
use cairn_core::bucket_tags::{self, Tagger};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::{Value, json};

use super::CairnS3;
use super::bucket_config_ops::InternalOp;
use super::bucket_ops::spec;
use super::event::Spec;

/// The `Tagging` document CloudTrail records (one `Tag` as an object, several as a list).
pub(super) fn recorded_tagging(tags: &[(String, String)]) -> Value {
    let items: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    let tag = match items.as_slice() {
        [one] => one.clone(),
        _ => json!(items),
    };
    json!({"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "TagSet": {"Tag": tag}})
}

/// Put/DeleteBucketTagging as CloudFormation calls them, or `None` for another action.
pub(crate) fn internal(
    action: &str,
    input: &Value,
    ctx: CallContext,
    bucket: &str,
    host: &str,
) -> Option<(Spec<()>, InternalOp)> {
    let b = bucket.to_owned();
    let base = |name: &'static str| {
        Spec::new(name, false, false, Some(bucket), None, host).param("tagging", json!(""))
    };
    Some(match action {
        "PutBucketTagging" => {
            let tags: Vec<(String, String)> = input
                .get("Tagging")
                .and_then(|t| t.get("TagSet"))
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .map(|t| {
                            let text = |k: &str| {
                                t.get(k)
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned()
                            };
                            (text("Key"), text("Value"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let spec = base("PutBucketTagging")
                .param("Tagging", recorded_tagging(&tags))
                .conditions(&request_tag_keys(&tags));
            let op: InternalOp =
                Box::new(move |c| bucket_tags::put(c, &ctx, &b, &tags, Tagger::CloudFormation));
            (spec, op)
        }
        "DeleteBucketTagging" => (
            base("DeleteBucketTagging"),
            Box::new(move |c| bucket_tags::delete(c, &ctx, &b)),
        ),
        _ => return None,
    })
}

/// The tags a call sets as `aws:RequestTag/<key>` and `aws:TagKeys`.
pub(super) fn request_tag_keys(tags: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<(String, Vec<String>)> = tags
        .iter()
        .map(|(k, v)| (format!("aws:RequestTag/{k}"), vec![v.clone()]))
        .collect();
    if !tags.is_empty() {
        keys.push((
            "aws:TagKeys".to_owned(),
            tags.iter().map(|(k, _)| k.clone()).collect(),
        ));
    }
    keys
}

impl CairnS3 {
    pub(super) async fn put_bucket_tagging_op(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        let bucket = req.input.bucket.clone();
        let tags = super::object_tagging_ops::tag_pairs(&req.input.tagging.tag_set);
        let s = spec(&req, "PutBucketTagging", false, &bucket, Some("tagging"))
            .param("Tagging", recorded_tagging(&tags))
            .conditions(&request_tag_keys(&tags));
        self.bucket_call(&req, bucket, s, move |c, ctx, b| {
            bucket_tags::put(c, ctx, b, &tags, Tagger::Requester)
        })
        .await?;
        Ok(S3Response::new(PutBucketTaggingOutput::default()))
    }

    pub(super) async fn get_bucket_tagging_op(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(&req, "GetBucketTagging", true, &bucket, Some("tagging"));
        let tags = self.bucket_call(&req, bucket, s, bucket_tags::get).await?;
        Ok(S3Response::new(GetBucketTaggingOutput {
            tag_set: tags
                .into_iter()
                .map(|(k, v)| Tag {
                    key: Some(k),
                    value: Some(v),
                })
                .collect(),
        }))
    }

    pub(super) async fn delete_bucket_tagging_op(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(&req, "DeleteBucketTagging", false, &bucket, Some("tagging"));
        self.bucket_call(&req, bucket, s, bucket_tags::delete)
            .await?;
        let mut resp = S3Response::new(DeleteBucketTaggingOutput::default());
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }
}
