//! Bucket-level operations (management events).

use std::time::{Duration, UNIX_EPOCH};

use cairn_core::bucket_tags::{self, Tagger};
use cairn_core::error::ApiResult;
use cairn_core::{CallContext, buckets, lifecycle};
use cairn_store::Connection;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::json;

use super::CairnS3;
use super::event::Spec;

/// Epoch seconds as an s3s timestamp, in whole seconds as S3 gives every time
/// (`…T23:11:50.000Z` in listings, the same instant as HeadObject's `Last-Modified`).
pub(crate) fn timestamp(epoch: f64) -> Timestamp {
    Timestamp::from(UNIX_EPOCH + Duration::from_secs(epoch.max(0.0).floor() as u64))
}

/// The request's `Host` header.
pub(crate) fn host<T>(req: &S3Request<T>) -> String {
    req.headers
        .get(http::header::HOST)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

fn owner(account: &str) -> Owner {
    Owner {
        display_name: Some(account.to_owned()),
        id: Some(account.to_owned()),
    }
}

/// A bucket call's event spec; `subresource` is the query flag AWS records as a parameter
/// (`location`, `policy`, `acl`…).
pub(super) fn spec<T, I>(
    req: &S3Request<I>,
    name: &'static str,
    read_only: bool,
    bucket: &str,
    subresource: Option<&str>,
) -> Spec<T> {
    let spec = Spec::new(name, read_only, false, Some(bucket), None, &host(req));
    match subresource {
        Some(s) => spec.param(s, json!("")),
        None => spec,
    }
}

impl CairnS3 {
    /// Runs a bucket operation for `req` and records it with `spec`.
    pub(super) async fn bucket_call<I, T, F>(
        &self,
        req: &S3Request<I>,
        bucket: String,
        spec: Spec<T>,
        op: F,
    ) -> S3Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &CallContext, &str) -> ApiResult<T> + Send + 'static,
    {
        let info = self.call_info(req).await?;
        let ctx = info.ctx.clone();
        self.recorded(info, spec, move |c| op(c, &ctx, &bucket))
            .await
    }

    pub(super) async fn create_bucket_op(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let bucket = req.input.bucket.clone();
        let location = req
            .input
            .create_bucket_configuration
            .as_ref()
            .and_then(|c| c.location_constraint.as_ref())
            .map(|l| l.as_str().to_owned());
        // S3 answers `/bucket` in us-east-1 and the bucket's absolute URL elsewhere.
        let absolute = location.as_deref().is_some_and(|l| !l.is_empty());
        // The configuration as sent (read before s3s, which skips its `Tags`).
        let config = req
            .extensions
            .get::<super::RequestMeta>()
            .and_then(|m| m.small_body.as_deref())
            .and_then(super::xml_record::to_record)
            .filter(|(root, _)| super::xml_record::is_named(root, "CreateBucketConfiguration"))
            .map(|(_, v)| v);
        let tags = config
            .as_ref()
            .map(super::xml_record::tags_of)
            .unwrap_or_default();
        let mut s = spec(&req, "CreateBucket", false, &bucket, None);
        match (config, &location) {
            (Some(c), _) => s = s.param("CreateBucketConfiguration", c),
            (None, Some(l)) => {
                s = s.param(
                    "CreateBucketConfiguration",
                    json!({"LocationConstraint": l, "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}),
                );
            }
            (None, None) => {}
        }
        // CreateBucket's own keys: where, and the object ownership asked for.
        if let Some(l) = location.as_deref().filter(|l| !l.is_empty()) {
            s = s.condition("s3:locationconstraint", l);
        }
        if let Some(o) = req.input.object_ownership.as_ref() {
            s = s.condition("s3:x-amz-object-ownership", o.as_str());
        }
        if !tags.is_empty() {
            // CreateBucket itself sees the tags it sets, and "You must have the s3:TagResource
            // permission to create a general purpose bucket with tags"
            // (CreateBucketConfiguration.Tags).
            s = s.conditions(&super::bucket_tagging_ops::request_tag_keys(&tags));
            s = s.also_needs(
                cairn_core::authz::Permission::new(
                    "s3:TagResource",
                    format!("arn:aws:s3:::{bucket}"),
                )
                .with_request_tags(&tags),
            );
        }
        // A new bucket is "bucket owner enforced" unless it asks otherwise, so it takes no ACL
        // but the owner's (Cairn keeps no ACLs, whatever the ownership asked for).
        let input = &req.input;
        let enforced = input
            .object_ownership
            .as_ref()
            .is_none_or(|o| o.as_str() == ObjectOwnership::BUCKET_OWNER_ENFORCED);
        let granted = super::integrity::any_grant!(input) || input.grant_write.is_some();
        let acl_ok = match input.acl.as_ref().map(|a| a.as_str()) {
            _ if !enforced => Ok(()),
            None | Some("private") if !granted => Ok(()),
            _ => Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::S3InvalidBucketAclWithObjectOwnership,
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            )),
        };
        // A bucket with Object Lock would promise retention Cairn does not keep: refused,
        // never made without it.
        let lock_ok = match input.object_lock_enabled_for_bucket {
            Some(true) => Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::S3NotImplemented,
                "Object Lock is not supported by this Cairn release.",
            )),
            _ => Ok(()),
        };
        // A name the settings file maps to an external store is that store's bucket: a local
        // one of the same name would shadow the trail's files for every S3 reader here.
        let external = self.external_names.contains(&bucket);
        self.bucket_call(&req, bucket.clone(), s, move |c, ctx, b| {
            acl_ok?;
            lock_ok?;
            let created = buckets::create(c, ctx, b, location.as_deref(), external)?;
            // A repeated CreateBucket in us-east-1 succeeds and changes nothing.
            if matches!(created, buckets::Created::New) && !tags.is_empty() {
                bucket_tags::put(c, ctx, b, &tags, Tagger::Requester)?;
            }
            Ok(())
        })
        .await?;
        let location = if absolute {
            super::post_object::location_url(&self.host, &host(&req), &bucket, None)
        } else {
            format!("/{bucket}")
        };
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(location),
        }))
    }

    pub(super) async fn head_bucket_op(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(&req, "HeadBucket", true, &bucket, None);
        let found = self.bucket_call(&req, bucket, s, buckets::owned).await?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(found.region),
            ..Default::default()
        }))
    }

    pub(super) async fn list_buckets_op(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let info = self.call_info(&req).await?;
        let account = info.ctx.account().to_string();
        let input = &req.input;
        let mut s = Spec::new("ListBuckets", true, false, None, None, &host(&req));
        for (name, value) in [
            ("prefix", input.prefix.clone()),
            ("bucket-region", input.bucket_region.clone()),
            ("max-buckets", input.max_buckets.map(|m| m.to_string())),
        ] {
            if let Some(v) = value {
                s = s.param(name, json!(v));
            }
        }
        // A continuation token is the last name listed, sealed for this account and filters.
        let scope = format!(
            "s3\nListBuckets\n{account}\n{}\n{}",
            input.prefix.as_deref().unwrap_or(""),
            input.bucket_region.as_deref().unwrap_or("")
        );
        let after = match &input.continuation_token {
            Some(t) => self.token_key.open(&scope, t).ok_or_else(|| {
                cairn_core::ApiError::new(
                    cairn_core::ErrorKind::S3InvalidArgument,
                    "The continuation token provided is incorrect",
                )
            }),
            None => Ok(String::new()),
        };
        let ask = buckets::ListBuckets {
            prefix: input.prefix.clone().unwrap_or_default(),
            region: input.bucket_region.clone(),
            after: String::new(),
            max: input.max_buckets,
        };
        let ctx = info.ctx.clone();
        let (list, truncated) = self
            .recorded(info, s, move |c| {
                let ask = buckets::ListBuckets {
                    after: after?,
                    ..ask
                };
                buckets::list_page(c, &ctx, &ask)
            })
            .await?;
        let continuation_token = truncated
            .then(|| list.last().map(|b| self.token_key.seal(&scope, &b.name)))
            .flatten();
        Ok(S3Response::new(ListBucketsOutput {
            continuation_token,
            prefix: req.input.prefix.clone(),
            buckets: Some(
                list.into_iter()
                    .map(|b| Bucket {
                        bucket_region: Some(b.region),
                        creation_date: Some(timestamp(b.created)),
                        name: Some(b.name),
                    })
                    .collect(),
            ),
            owner: Some(owner(&account)),
        }))
    }

    pub(super) async fn delete_bucket_op(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(&req, "DeleteBucket", false, &bucket, None);
        let parts = self.bucket_call(&req, bucket, s, buckets::delete).await?;
        self.files.remove(parts).await;
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    pub(super) async fn get_bucket_location_op(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(&req, "GetBucketLocation", true, &bucket, Some("location"));
        let b = self.bucket_call(&req, bucket, s, buckets::owned).await?;
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: (b.region != "us-east-1")
                .then(|| BucketLocationConstraint::from(b.region)),
        }))
    }

    pub(super) async fn put_bucket_policy_op(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let bucket = req.input.bucket.clone();
        let policy = req.input.policy.clone();
        let mut s = spec(&req, "PutBucketPolicy", false, &bucket, Some("policy"))
            .bytes_in(policy.len() as i64);
        if let Ok(doc) = serde_json::from_str::<serde_json::Value>(&policy) {
            s = s.param("bucketPolicy", doc);
        }
        self.bucket_call(&req, bucket, s, move |c, ctx, b| {
            buckets::put_policy(c, ctx, b, &policy)
        })
        .await?;
        let mut resp = S3Response::new(PutBucketPolicyOutput {});
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }

    pub(super) async fn get_bucket_policy_op(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(&req, "GetBucketPolicy", true, &bucket, Some("policy"))
            .response(|p: &String| (serde_json::Value::Null, p.len() as i64));
        let policy = self
            .bucket_call(&req, bucket, s, buckets::get_policy)
            .await?;
        Ok(S3Response::new(GetBucketPolicyOutput {
            policy: Some(policy),
        }))
    }

    pub(super) async fn delete_bucket_policy_op(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(&req, "DeleteBucketPolicy", false, &bucket, Some("policy"));
        self.bucket_call(&req, bucket, s, buckets::delete_policy)
            .await?;
        Ok(S3Response::new(DeleteBucketPolicyOutput {}))
    }

    pub(super) async fn get_bucket_acl_op(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> S3Result<S3Response<GetBucketAclOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(&req, "GetBucketAcl", true, &bucket, Some("acl"));
        let b = self.bucket_call(&req, bucket, s, buckets::owned).await?;
        Ok(S3Response::new(GetBucketAclOutput {
            grants: Some(vec![Grant {
                grantee: Some(Grantee {
                    display_name: Some(b.account.clone()),
                    email_address: None,
                    id: Some(b.account.clone()),
                    type_: Type::from_static(Type::CANONICAL_USER),
                    uri: None,
                }),
                permission: Some(Permission::from_static(Permission::FULL_CONTROL)),
            }]),
            owner: Some(owner(&b.account)),
        }))
    }

    pub(super) async fn put_bucket_lifecycle_op(
        &self,
        req: S3Request<PutBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
        let bucket = req.input.bucket.clone();
        let rules: Vec<lifecycle::Rule> = req
            .input
            .lifecycle_configuration
            .as_ref()
            .map(|c| {
                c.rules
                    .iter()
                    .map(super::lifecycle_wire::rule_from_wire)
                    .collect()
            })
            .unwrap_or_default();
        let mut s = spec(
            &req,
            "PutBucketLifecycle",
            false,
            &bucket,
            Some("lifecycle"),
        );
        // The configuration as sent, as S3's records show it (`LifecycleConfiguration.Rule`:
        // a detection of a short expiration on a trail's bucket reads it).
        if let Some((_, config)) = req
            .extensions
            .get::<super::RequestMeta>()
            .and_then(|m| m.small_body.as_deref())
            .and_then(super::xml_record::to_record)
            .filter(|(root, _)| super::xml_record::is_named(root, "LifecycleConfiguration"))
        {
            let numeric = [
                "Days",
                "DaysAfterInitiation",
                "NoncurrentDays",
                "NewerNoncurrentVersions",
                "ObjectSizeGreaterThan",
                "ObjectSizeLessThan",
            ];
            s = s.param(
                "LifecycleConfiguration",
                super::xml_record::numbers(config, &numeric),
            );
        }
        let minimum = req
            .input
            .transition_default_minimum_object_size
            .as_ref()
            .map(|m| m.as_str().to_owned());
        let kept = self
            .bucket_call(&req, bucket, s, move |c, ctx, b| {
                lifecycle::put(c, ctx, b, &rules, minimum.as_deref())
            })
            .await?;
        Ok(S3Response::new(PutBucketLifecycleConfigurationOutput {
            transition_default_minimum_object_size: Some(kept.into()),
        }))
    }

    pub(super) async fn get_bucket_lifecycle_op(
        &self,
        req: S3Request<GetBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(&req, "GetBucketLifecycle", true, &bucket, Some("lifecycle"));
        let stored = self.bucket_call(&req, bucket, s, lifecycle::get).await?;
        let minimum = stored.minimum_size().to_owned();
        Ok(S3Response::new(GetBucketLifecycleConfigurationOutput {
            transition_default_minimum_object_size: Some(minimum.into()),
            rules: Some(
                stored
                    .rules
                    .into_iter()
                    .map(super::lifecycle_wire::rule_to_wire)
                    .collect(),
            ),
        }))
    }

    pub(super) async fn delete_bucket_lifecycle_op(
        &self,
        req: S3Request<DeleteBucketLifecycleInput>,
    ) -> S3Result<S3Response<DeleteBucketLifecycleOutput>> {
        let bucket = req.input.bucket.clone();
        let s = spec(
            &req,
            "DeleteBucketLifecycle",
            false,
            &bucket,
            Some("lifecycle"),
        );
        self.bucket_call(&req, bucket, s, lifecycle::delete).await?;
        Ok(S3Response::new(DeleteBucketLifecycleOutput {}))
    }
}

/// An upload's `Initiator`: the account that owns the bucket.
pub(super) fn initiator(account: &str) -> s3s::dto::Initiator {
    s3s::dto::Initiator {
        display_name: Some(account.to_owned()),
        id: Some(account.to_owned()),
    }
}
