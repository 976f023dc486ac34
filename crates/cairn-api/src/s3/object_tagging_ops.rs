//! Object tagging (data events) over [`cairn_core::object_tags`]: Put/Get/DeleteObjectTagging.
//! Each needs its own action on the object (`s3:PutObjectTagging`, …; the `Version` action
//! when a `versionId` is named), PutObjectTagging with the new tags as
//! `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys`, and all three see the object's
//! current tags as `s3:ExistingObjectTag/<key>`. A missing key is `NoSuchKey` only for a caller
//! who may list the bucket, as for GetObject.

use cairn_core::object_tags;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::json;

use super::CairnS3;
use super::bucket_ops::host;
use super::bucket_tagging_ops::recorded_tagging;
use super::event::{Spec, request_object_tag_keys};
use super::object_ops::{current_version, missing_key};

fn spec<T, I>(
    req: &S3Request<I>,
    name: &'static str,
    read_only: bool,
    key: (&str, &str),
) -> Spec<T> {
    Spec::new(name, read_only, true, Some(key.0), Some(key.1), &host(req))
        .param("tagging", json!(""))
}

/// A wire tag set as (key, value) pairs (an absent key or value is empty).
pub(super) fn tag_pairs<'a>(set: impl IntoIterator<Item = &'a Tag>) -> Vec<(String, String)> {
    set.into_iter()
        .map(|t| {
            (
                t.key.clone().unwrap_or_default(),
                t.value.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn tag_set(tags: Vec<(String, String)>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag {
            key: Some(k),
            value: Some(v),
        })
        .collect()
}

impl CairnS3 {
    pub(super) async fn put_object_tagging_op(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let info = self.call_info(&req).await?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let version_id = req.input.version_id.clone();
        let tags = tag_pairs(&req.input.tagging.tag_set);
        let s = spec(&req, "PutObjectTagging", false, (&bucket, &key))
            .version(version_id.as_deref())
            .param("Tagging", recorded_tagging(&tags))
            .conditions(&request_object_tag_keys(&tags));
        let (evaluator, ctx) = (self.gate.evaluator(), info.ctx.clone());
        self.recorded(info, s, move |c| {
            objects_exist(c, (&bucket, &key), version_id.as_deref())
                .map_err(|e| missing_key(evaluator.as_ref(), c, &ctx, &bucket, e))?;
            object_tags::put(c, &bucket, &key, &tags)
        })
        .await?;
        Ok(S3Response::new(PutObjectTaggingOutput {
            version_id: req.input.version_id,
        }))
    }

    pub(super) async fn get_object_tagging_op(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let info = self.call_info(&req).await?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let version_id = req.input.version_id.clone();
        let s =
            spec(&req, "GetObjectTagging", true, (&bucket, &key)).version(version_id.as_deref());
        let (evaluator, ctx) = (self.gate.evaluator(), info.ctx.clone());
        let tags = self
            .recorded(info, s, move |c| {
                objects_exist(c, (&bucket, &key), version_id.as_deref())
                    .map_err(|e| missing_key(evaluator.as_ref(), c, &ctx, &bucket, e))?;
                object_tags::get(c, &bucket, &key)
            })
            .await?;
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set: tag_set(tags),
            version_id: req.input.version_id,
        }))
    }

    pub(super) async fn delete_object_tagging_op(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let info = self.call_info(&req).await?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let version_id = req.input.version_id.clone();
        let s = spec(&req, "DeleteObjectTagging", false, (&bucket, &key))
            .version(version_id.as_deref());
        let (evaluator, ctx) = (self.gate.evaluator(), info.ctx.clone());
        self.recorded(info, s, move |c| {
            objects_exist(c, (&bucket, &key), version_id.as_deref())
                .map_err(|e| missing_key(evaluator.as_ref(), c, &ctx, &bucket, e))?;
            object_tags::delete(c, &bucket, &key)
        })
        .await?;
        let mut resp = S3Response::new(DeleteObjectTaggingOutput {
            version_id: req.input.version_id,
        });
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }
}

/// The bucket and the object (the version named) exist: `NoSuchBucket`, `NoSuchKey` or
/// `NoSuchVersion` otherwise.
pub(super) fn objects_exist(
    conn: &cairn_store::Connection,
    (bucket, key): (&str, &str),
    version_id: Option<&str>,
) -> cairn_core::error::ApiResult<()> {
    cairn_core::objects::require_bucket(conn, bucket)?;
    current_version(conn, (bucket, key), version_id).map(|_| ())
}

/// Whether the caller may read the object's tags (`s3:GetObjectTagging`), asked silently: a
/// GetObject answers `x-amz-tagging-count` only then (the model's `TagCount`: "when you have
/// the relevant permission to read object tags").
pub(super) fn may_read_tags(
    evaluator: &dyn cairn_core::authz::Evaluator,
    conn: &cairn_store::Connection,
    ctx: &cairn_core::CallContext,
    (bucket, key): (&str, &str),
) -> bool {
    let read = cairn_core::authz::Permission::new(
        "s3:GetObjectTagging",
        format!("arn:aws:s3:::{bucket}/{key}"),
    )
    .under(cairn_core::authz::ResourcePolicy::Bucket(bucket.to_owned()));
    evaluator.authorize(conn, ctx, &read).is_ok()
}

/// Leaves out of `obj` the tags the caller may not read, so a GetObject or HeadObject
/// answers `x-amz-tagging-count` only to one who may.
pub(super) fn hide_unreadable_tags(
    evaluator: &dyn cairn_core::authz::Evaluator,
    conn: &cairn_store::Connection,
    ctx: &cairn_core::CallContext,
    obj: &mut cairn_core::objects::Object,
) {
    if !obj.meta.tags.is_empty()
        && !may_read_tags(evaluator, conn, ctx, (&obj.row.bucket, &obj.row.key))
    {
        obj.meta.tags.clear();
    }
}
