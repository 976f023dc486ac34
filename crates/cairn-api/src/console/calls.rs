//! The console's only way to act: the operations the API serves, as the signed-in user,
//! through the one gate (authorization, the operation, its recorded event). CloudTrail calls
//! run the CloudTrail operation table with the JSON an SDK would send; S3 calls run the same
//! core functions under the same permissions and event specs as the S3 handlers.

use std::sync::{Arc, Mutex};

use cairn_core::error::ApiResult;
use cairn_core::kms::Secret;
use cairn_core::record::PreparedEvent;
use cairn_core::sse::{KmsAccess, open_for_caller};
use cairn_core::{ApiError, ErrorKind, buckets, objects};
use serde_json::{Value, json};

use super::session::Signed;
use crate::s3::event::Spec;
use crate::server::AppState;

/// The console's `Host` as S3 records name it.
const S3_HOST: &str = "s3.amazonaws.com";

/// Calls the API as one signed-in user.
pub struct Caller<'a> {
    state: &'a AppState,
    signed: &'a Signed,
}

/// A listed object.
pub struct Listed {
    /// Objects (key, size, last modified).
    pub objects: Vec<(String, i64, f64)>,
    /// Common prefixes.
    pub prefixes: Vec<String>,
    /// The key to continue after, when more follow.
    pub next: Option<String>,
}

impl<'a> Caller<'a> {
    /// A caller acting for `signed`.
    pub fn new(state: &'a AppState, signed: &'a Signed) -> Self {
        Self { state, signed }
    }

    /// One CloudTrail operation with its JSON request; the JSON response or the API error.
    pub async fn cloudtrail(&self, op: &str, body: Value) -> ApiResult<Value> {
        crate::cloudtrail::invoke(self.state, op, body, self.signed.call_info()).await
    }

    /// One CloudTrail operation in `region` rather than the console's (a shadow trail's
    /// tags are read in its home region, as ListTags lists a region's own trails).
    pub async fn cloudtrail_in(&self, region: &str, op: &str, body: Value) -> ApiResult<Value> {
        let mut info = self.signed.call_info();
        if let Ok(r) = cairn_model::Region::parse(region) {
            info.ctx.region = r;
        }
        crate::cloudtrail::invoke(self.state, op, body, info).await
    }

    /// The console's region.
    pub fn region(&self) -> String {
        self.signed.region.to_string()
    }

    /// The signed-in user's account.
    pub fn account(&self) -> String {
        self.signed.principal.account().to_string()
    }

    /// One KMS operation with the JSON request an SDK would send.
    pub async fn kms(&self, op: &str, body: Value) -> ApiResult<Value> {
        crate::kms::invoke(self.state, op, body, self.signed.call_info()).await
    }

    /// One CloudWatch Logs operation with the JSON request an SDK would send.
    pub async fn logs(&self, op: &str, body: Value) -> ApiResult<Value> {
        crate::logs::invoke(self.state, op, body, self.signed.call_info()).await
    }

    /// One IAM action with API-shaped members (flattened to Query parameters as the CLI
    /// sends them); the XML result, if any.
    pub async fn iam(&self, action: &str, input: Value) -> ApiResult<Option<String>> {
        let params = crate::cloudformation::services::flatten(action, &input);
        crate::iam::call_internal(self.state, self.signed.call_info(), &params).await
    }

    /// One SNS action with API-shaped members (flattened to Query parameters); the XML
    /// result. A denial is SNS's `AuthorizationError`, as the SNS API answers it.
    pub async fn sns(&self, action: &str, input: Value) -> ApiResult<String> {
        let params = crate::cloudformation::services::flatten(action, &input);
        let host = self
            .state
            .settings
            .listen_addr
            .map(|a| a.to_string())
            .unwrap_or_else(|| "127.0.0.1".to_owned());
        crate::sns::call_internal(self.state, self.signed.call_info(), &params, host)
            .await
            .map_err(|e| as_service(e, ErrorKind::SnsAuthorizationError))
    }

    /// Runs an S3 call described by `spec` through the gate. A denial is S3's `AccessDenied`,
    /// as the S3 API answers it.
    async fn s3<T, Op>(&self, spec: Spec<T>, op: Op) -> ApiResult<T>
    where
        T: Send + 'static,
        Op: FnOnce(&cairn_store::Connection, &cairn_core::CallContext) -> ApiResult<T>
            + Send
            + 'static,
    {
        let info = self.signed.call_info();
        let ctx = info.ctx.clone();
        let rid = info.request_id.clone();
        let account = ctx.account().to_string();
        let read_only = spec.read_only;
        let permissions = spec.permissions(None);
        self.state
            .gate
            .execute(
                info,
                read_only,
                move |_, _| Ok(permissions),
                move |c| op(c, &ctx),
                move |r| spec.outcome(r, &rid, &account, None),
            )
            .await
            .map_err(|e| as_service(e, ErrorKind::S3AccessDenied))
    }

    /// S3 HeadBucket: `Ok` when the bucket exists and belongs to the caller's account.
    pub async fn head_bucket(&self, bucket: &str) -> ApiResult<()> {
        let spec = Spec::new("HeadBucket", true, false, Some(bucket), None, S3_HOST);
        let b = bucket.to_owned();
        self.s3(spec, move |c, ctx| buckets::owned(c, ctx, &b).map(|_| ()))
            .await
    }

    /// S3 DeleteBucket (an empty bucket only).
    pub async fn delete_bucket(&self, bucket: &str) -> ApiResult<()> {
        let spec = Spec::new("DeleteBucket", false, false, Some(bucket), None, S3_HOST);
        let b = bucket.to_owned();
        // A bucket the wizard just created has no uploads whose part files would need removing.
        self.s3(spec, move |c, ctx| buckets::delete(c, ctx, &b).map(|_| ()))
            .await
    }

    /// S3 CreateBucket in the console's region. `Ok(true)` when the bucket is new; `Ok(false)`
    /// when the caller already owned it (us-east-1 answers that with success, so the console
    /// must not treat the bucket as its own).
    pub async fn create_bucket(&self, bucket: &str) -> ApiResult<bool> {
        let region = self.signed.region.to_string();
        let location = (region != "us-east-1").then_some(region);
        let mut spec = Spec::new("CreateBucket", false, false, Some(bucket), None, S3_HOST);
        if let Some(l) = &location {
            spec = spec.param(
                "CreateBucketConfiguration",
                json!({"LocationConstraint": l, "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}),
            );
        }
        let b = bucket.to_owned();
        let external = self.state.settings.external.contains(bucket);
        self.s3(spec, move |c, ctx| {
            buckets::create(c, ctx, &b, location.as_deref(), external)
                .map(|created| matches!(created, buckets::Created::New))
        })
        .await
    }

    /// S3 PutBucketPolicy.
    pub async fn put_bucket_policy(&self, bucket: &str, policy: &str) -> ApiResult<()> {
        let mut spec = Spec::new("PutBucketPolicy", false, false, Some(bucket), None, S3_HOST)
            .param("policy", json!(""))
            .bytes_in(policy.len() as i64);
        if let Ok(doc) = serde_json::from_str::<Value>(policy) {
            spec = spec.param("bucketPolicy", doc);
        }
        let (b, p) = (bucket.to_owned(), policy.to_owned());
        self.s3(spec, move |c, ctx| buckets::put_policy(c, ctx, &b, &p))
            .await
    }

    /// S3 ListObjectsV2 of one folder level (delimiter `/`), at most `max` entries after
    /// `after`.
    pub async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        after: &str,
        max: usize,
    ) -> ApiResult<Listed> {
        let spec = Spec::new("ListObjects", true, true, Some(bucket), None, S3_HOST)
            .param("list-type", json!("2"))
            .param("prefix", json!(prefix))
            .param("delimiter", json!("/"))
            .condition("s3:prefix", prefix)
            .condition("s3:delimiter", "/");
        let (b, p, a) = (bucket.to_owned(), prefix.to_owned(), after.to_owned());
        let listing = self
            .s3(spec, move |c, ctx| {
                buckets::owned(c, ctx, &b)?;
                objects::list(c, &b, &p, Some("/"), &a, max)
            })
            .await?;
        Ok(Listed {
            objects: listing
                .objects
                .into_iter()
                .map(|o| (o.key, o.size, o.last_modified))
                .collect(),
            prefixes: listing.common_prefixes,
            next: listing.truncated.then_some(listing.last).flatten(),
        })
    }

    /// S3 GetObject of a whole object of at most `max` bytes: its bytes and its user
    /// metadata (`x-amz-meta-*`, names without the prefix).
    pub async fn get_object_stream(
        &self,
        bucket: &str,
        key: &str,
        max: i64,
    ) -> ApiResult<(ObjectStream, std::collections::BTreeMap<String, String>)> {
        let spec = Spec::new("GetObject", true, true, Some(bucket), Some(key), S3_HOST)
            .response(|o: &(objects::Object, Option<Secret>)| (Value::Null, o.0.row.size));
        let (b, k) = (bucket.to_owned(), key.to_owned());
        let files = cairn_buckets::local::ObjectFiles::new(&self.state.settings.data_dir)
            .map_err(|e| ApiError::new(ErrorKind::Internal, format!("object files: {e}")))?;
        // An SSE-KMS object's data key is opened as the reader, as S3 does; KMS's Decrypt
        // event is recorded whether it opens or not.
        let master = self.state.settings.kms_master.clone();
        let evaluator = self.state.gate.evaluator();
        let slot: Arc<Mutex<Option<PreparedEvent>>> = Arc::default();
        let slot_op = slot.clone();
        let got = self
            .s3(spec, move |c, ctx| {
                objects::require_bucket(c, &b)?;
                let o = objects::get(c, &b, &k)?;
                if o.row.size > max {
                    return Err(ApiError::new(
                        ErrorKind::S3InvalidArgument,
                        format!("The object is larger than the console downloads ({max} bytes)."),
                    ));
                }
                let data_key = match &o.meta.sse_kms {
                    Some(sse) => {
                        let access = KmsAccess {
                            master: &master,
                            evaluator: evaluator.as_ref(),
                        };
                        let (opened, event) = open_for_caller(c, access, ctx, sse);
                        *slot_op.lock().expect("event slot") = event;
                        Some(opened?)
                    }
                    None => o
                        .meta
                        .sse_s3
                        .as_ref()
                        .map(|s| cairn_core::encryption::open_sse_s3_key(&master, s, &b, &k))
                        .transpose()?,
                };
                Ok((o, data_key))
            })
            .await;
        let event = slot.lock().expect("event slot").take();
        if let Some(event) = event {
            self.state
                .store
                .write(move |c| cairn_core::record::append(c, &event))
                .await
                .map_err(ApiError::from)?
                .map_err(ApiError::from)?;
        }
        let (obj, data_key) = got?;
        let missing =
            |_| ApiError::new(ErrorKind::S3NoSuchKey, "The specified key does not exist.");
        let size = obj.row.size as u64;
        let stream: ObjectStream = match data_key {
            Some(key) => {
                let file = files.open_blocking(&obj.row.file).map_err(missing)?;
                let stream = crate::s3::sse_ops::decrypting(file, size, 0..size, key)
                    .await
                    .map_err(missing)?;
                Box::pin(futures::TryStreamExt::map_err(stream, |e| {
                    std::io::Error::other(e.to_string())
                }))
            }
            None => {
                let stream = files.read(&obj.row.file, 0..size).await.map_err(missing)?;
                Box::pin(futures::TryStreamExt::map_err(stream, |e| {
                    std::io::Error::other(e.to_string())
                }))
            }
        };
        Ok((stream, obj.meta.user))
    }

    /// GetObject as the signed-in user, read whole (at most `max` bytes): a digest or log
    /// file the integrity check verifies.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        max: i64,
    ) -> ApiResult<(Vec<u8>, std::collections::BTreeMap<String, String>)> {
        let (stream, meta) = self.get_object_stream(bucket, key, max).await?;
        let chunks: Vec<bytes::Bytes> =
            futures::TryStreamExt::try_collect(stream)
                .await
                .map_err(|e| {
                    ApiError::new(ErrorKind::Internal, format!("reading an object file: {e}"))
                })?;
        Ok((chunks.concat(), meta))
    }
}

/// An object's bytes as they are read from its file (decrypted when sealed): a download
/// streams them, never holding the object in memory (console9: eight concurrent 60 MB
/// downloads took the server from 148 MB to 918 MB).
pub type ObjectStream = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static>,
>;

/// `e`, a denial becoming `denied`, the kind a service's own API answers a denial with.
fn as_service(e: ApiError, denied: ErrorKind) -> ApiError {
    if e.kind == ErrorKind::AccessDenied {
        ApiError::new(denied, e.message)
    } else {
        e
    }
}

/// The bucket policy CloudTrail needs to deliver `trail_arn`'s logs under `prefix`, as the
/// AWS console writes it for a new bucket (scoped to the trail with `aws:SourceArn`).
pub fn cloudtrail_bucket_policy(
    bucket: &str,
    prefix: &str,
    account: &str,
    trail_arn: &str,
) -> String {
    let folder = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": format!("arn:aws:s3:::{bucket}"),
                "Condition": {"StringEquals": {"AWS:SourceArn": trail_arn}}
            },
            {
                "Sid": "AWSCloudTrailWrite20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": format!("arn:aws:s3:::{bucket}/{folder}AWSLogs/{account}/*"),
                "Condition": {"StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "AWS:SourceArn": trail_arn
                }}
            }
        ]
    })
    .to_string()
}

/// The key policy the AWS console gives a new key for `trail_arn`'s log files: the account
/// administers the key, CloudTrail may generate data keys for this trail and describe the key,
/// and principals in the account may decrypt log files of the account's trails.
pub fn cloudtrail_key_policy(account: &str, trail_arn: &str) -> String {
    let trails = format!("arn:aws:cloudtrail:*:{account}:trail/*");
    json!({
        "Version": "2012-10-17",
        "Id": "Key policy created by CloudTrail",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "Allow CloudTrail to encrypt logs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"AWS:SourceArn": trail_arn},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails}
                }
            },
            {
                "Sid": "Allow CloudTrail to describe key",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*"
            },
            {
                "Sid": "Allow principals in the account to decrypt log files",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:CallerAccount": account},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails}
                }
            }
        ]
    })
    .to_string()
}

/// The policy the AWS console gives a new topic for `trail_arn`'s notifications: SNS's default
/// statement for the owner, and CloudTrail's ("Amazon SNS topic policy for CloudTrail",
/// CloudTrail User Guide) limited to the trail by `aws:SourceArn`.
pub fn cloudtrail_topic_policy(topic_arn: &str, account: &str, trail_arn: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                           "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                           "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
            },
            {
                "Sid": "AWSCloudTrailSNSPolicy20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"AWS:SourceArn": trail_arn}}
            }
        ]
    })
    .to_string()
}

/// The trust policy of a role CloudTrail assumes to deliver to CloudWatch Logs.
pub fn cloudtrail_logs_trust_policy() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// The role policy the console writes: create the trail's streams (`<account>_CloudTrail_*`,
/// one per region of a multi-region trail) in `group` and put log events in them.
pub fn cloudtrail_logs_role_policy(region: &str, account: &str, group: &str) -> String {
    let streams = format!(
        "arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{account}_CloudTrail_*"
    );
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailCreateLogStream2014110",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream"],
                "Resource": [streams]
            },
            {
                "Sid": "AWSCloudTrailPutLogEvents20141101",
                "Effect": "Allow",
                "Action": ["logs:PutLogEvents"],
                "Resource": [streams]
            }
        ]
    })
    .to_string()
}
