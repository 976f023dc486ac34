//! Object deletes (data events): DeleteObject and DeleteObjects. A delete may name a
//! condition (`If-Match`, or an entry's `ETag`) and a version (`versionId`; Cairn keeps only
//! the current, `null`, version, see [`super::versions`]); both are checked in the
//! transaction that deletes, and a version Cairn never issued deletes nothing.

use cairn_core::ApiError;
use cairn_core::ErrorKind;
use cairn_core::authz::{Permission, ResourcePolicy, authorize_all};
use cairn_core::objects;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::json;

use super::CairnS3;
use super::bucket_ops::host;
use super::event::Spec;
use super::preconditions::WriteConditions;
use super::versions::{self, Version};

impl CairnS3 {
    pub(super) async fn delete_object_op(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let info = self.call_info(&req).await?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let if_match = req.input.if_match.clone();
        let version_id = req.input.version_id.clone();
        let echoed = version_id.clone();
        let spec = Spec::new(
            "DeleteObject",
            false,
            true,
            Some(&bucket),
            Some(&key),
            &host(&req),
        )
        .version(version_id.as_deref());

        let removed = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &bucket)?;
                // A version Cairn never issued does not exist: deleting it deletes nothing.
                if versions::named(version_id.as_deref())? == Version::Unknown {
                    return Ok(None);
                }
                // A conditional delete is checked in the transaction that deletes.
                if if_match.is_some() {
                    let current = objects::current(c, &bucket, &key)?;
                    WriteConditions::new(if_match, None)?.check(current.as_ref(), &key)?;
                }
                objects::delete(c, &bucket, &key)
            })
            .await?;
        self.files.remove(removed).await;
        Ok(S3Response::new(DeleteObjectOutput {
            version_id: echoed,
            ..Default::default()
        }))
    }

    pub(super) async fn delete_objects_op(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let info = self.call_info(&req).await?;
        let bucket = req.input.bucket.clone();
        let keys: Vec<Entry> = req
            .input
            .delete
            .objects
            .iter()
            .map(|o| (o.key.clone(), o.e_tag.clone(), o.version_id.clone()))
            .collect();
        let quiet = req.input.delete.quiet.unwrap_or(false);
        let spec = Spec::new(
            "DeleteObjects",
            false,
            true,
            Some(&bucket),
            None,
            &host(&req),
        )
        .param("delete", json!(""))
        // AWS's record names the objects a batch delete may touch as the bucket's
        // `AWS::S3::Object` `ARNPrefix` (real DeleteObjects records: DataDog/stratus-red-team's
        // S3 ransomware techniques), beside the bucket.
        .lists("");
        // "The Content-MD5 request header is required for all Multi-Object Delete requests"
        // (an `x-amz-checksum-*` header does as well): checked once s3s has matched the body
        // with its signed hash.
        if !super::integrity::declares_digest(&req.headers) {
            let e = ApiError::new(
                ErrorKind::S3InvalidRequest,
                "Missing required header for this request: Content-MD5",
            );
            return Err(self.record_failure(info, spec, e).await);
        }
        // A key or version with a character XML 1.0 forbids came in raw (its reference,
        // `&#1;`, is refused by the parser): the body is no more well-formed than that.
        let forbidden = keys.iter().any(|(k, _, v)| {
            crate::errors::xml_forbids(k) || v.as_deref().is_some_and(crate::errors::xml_forbids)
        });
        if keys.len() > 1000 || forbidden {
            let e = ApiError::new(
                ErrorKind::S3MalformedXml,
                "The XML you provided was not well-formed or did not validate against our published schema.",
            );
            return Err(self.record_failure(info, spec, e).await);
        }
        let ctx = info.ctx.clone();
        let evaluator = self.gate.evaluator();
        let outcome = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &bucket)?;
                let mut deleted = Vec::new();
                let mut errors = Vec::new();
                let mut files = Vec::new();
                for (key, etag, version_id) in keys {
                    // Each key is authorized on its own, as on AWS: a denied key is an
                    // error entry, the others still go. An entry's `ETag` is its condition.
                    let permission =
                        Permission::new("s3:DeleteObject", format!("arn:aws:s3:::{bucket}/{key}"))
                            .under(ResourcePolicy::Bucket(bucket.clone()));
                    let conditional = |c: &cairn_store::Connection| match etag {
                        None => Ok(()),
                        Some(e) => {
                            let current = objects::current(c, &bucket, &key)?;
                            WriteConditions::new(Some(ETagCondition::ETag(e)), None)?
                                .check(current.as_ref(), &key)
                        }
                    };
                    // A version Cairn never issued is deleted already: nothing changes.
                    let delete =
                        |c: &cairn_store::Connection| match versions::named(version_id.as_deref())?
                        {
                            Version::Unknown => Ok(None),
                            Version::Current => {
                                conditional(c)?;
                                objects::delete(c, &bucket, &key)
                            }
                        };
                    match authorize_all(evaluator.as_ref(), c, &ctx, &[permission])
                        .and_then(|_| delete(c))
                    {
                        Ok(file) => {
                            files.extend(file);
                            deleted.push((key, version_id));
                        }
                        Err(e) => errors.push((key, version_id, e)),
                    }
                }
                Ok((deleted, errors, files))
            })
            .await?;
        let (deleted, errors, files) = outcome;
        self.files.remove(files).await;
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: (!quiet).then(|| {
                deleted
                    .into_iter()
                    .map(|(k, v)| DeletedObject {
                        key: Some(k),
                        version_id: v,
                        ..Default::default()
                    })
                    .collect()
            }),
            errors: (!errors.is_empty()).then(|| {
                errors
                    .into_iter()
                    .map(|(k, v, e)| {
                        let (code, _) = crate::errors::code_and_status(e.kind);
                        Error {
                            code: Some(code.to_owned()),
                            key: Some(k),
                            message: Some(e.message),
                            version_id: v,
                        }
                    })
                    .collect()
            }),
            ..Default::default()
        }))
    }
}

/// One DeleteObjects entry: its key, the `ETag` it must have and the version it names.
type Entry = (String, Option<ETag>, Option<String>);
