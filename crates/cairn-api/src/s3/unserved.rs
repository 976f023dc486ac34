//! S3 operations Cairn does not carry out (PutBucketAcl, PutBucketCors,
//! PutBucketReplication, PutBucketLogging, …) still pass the gate: the caller is
//! authorized for the operation's own IAM action under the bucket's policy, and the call is
//! recorded, denied (`AccessDenied`) or answered `NotImplemented`. Without this an attempt
//! to make a bucket public would leave no trace, and the CIS monitoring filters built on
//! these event names (S3 bucket policy changes, unauthorized calls) could never count it.
//!
//! s3s calls [`CairnAccess::check`] before every operation, with its name and path; the
//! operations [`SERVED`] lists go on to their handlers, which authorize and record
//! themselves. A request naming a subresource s3s does not know (an operation newer than
//! it, such as RenameObject's `?renameObject`) is told by S3's model (`s3_routes` in
//! `model_rules.json`), not by the served operation s3s would route it to.

use s3s::access::{S3Access, S3AccessContext};
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Result};

use cairn_core::authz::{Permission, ResourcePolicy};
use cairn_core::{ApiError, ErrorKind};

use super::CairnS3;
use super::event::Spec;
use crate::recording::Access;

/// The s3s operations Cairn's `S3` implementation answers itself.
const SERVED: &[&str] = &[
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetBucketAccelerateConfiguration",
    "GetBucketRequestPayment",
    "GetBucketPolicyStatus",
    "ListBucketAnalyticsConfigurations",
    "ListBucketMetricsConfigurations",
    "ListBucketInventoryConfigurations",
    "ListBucketIntelligentTieringConfigurations",
    "GetBucketAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration",
    "GetBucketMetricsConfiguration",
    "DeleteBucketMetricsConfiguration",
    "GetBucketInventoryConfiguration",
    "DeleteBucketInventoryConfiguration",
    "GetBucketIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration",
    "GetObjectLockConfiguration",
    "GetBucketWebsite",
    "GetBucketReplication",
    "GetBucketOwnershipControls",
    "PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls",
    "GetBucketLogging",
    "AbortMultipartUpload",
    "CompleteMultipartUpload",
    "CopyObject",
    "CreateBucket",
    "CreateMultipartUpload",
    "DeleteBucket",
    "DeleteBucketEncryption",
    "DeleteBucketLifecycle",
    "DeleteBucketPolicy",
    "DeleteBucketTagging",
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjects",
    "DeletePublicAccessBlock",
    "GetBucketAcl",
    "GetBucketCors",
    "GetBucketEncryption",
    "GetBucketLifecycleConfiguration",
    "GetBucketLocation",
    "GetBucketNotificationConfiguration",
    "GetBucketPolicy",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetObject",
    "GetObjectTagging",
    "GetPublicAccessBlock",
    "HeadBucket",
    "HeadObject",
    "ListBuckets",
    "ListMultipartUploads",
    "ListObjectVersions",
    "ListObjects",
    "ListObjectsV2",
    "ListParts",
    "PostObject",
    "PutBucketEncryption",
    "PutBucketLifecycleConfiguration",
    "PutBucketPolicy",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutObject",
    "PutObjectTagging",
    "PutPublicAccessBlock",
    "UploadPart",
    "UploadPartCopy",
];

/// The IAM action of an operation whose action is not `s3:<operation>` (Service
/// Authorization Reference, "Actions defined by Amazon S3", and each S3 API reference
/// page's permissions).
const ACTIONS: &[(&str, &str)] = &[
    ("PutBucketCors", "s3:PutBucketCORS"),
    ("DeleteBucketCors", "s3:PutBucketCORS"),
    ("PutBucketReplication", "s3:PutReplicationConfiguration"),
    ("DeleteBucketReplication", "s3:PutReplicationConfiguration"),
    (
        "PutBucketNotificationConfiguration",
        "s3:PutBucketNotification",
    ),
    (
        "PutObjectLockConfiguration",
        "s3:PutBucketObjectLockConfiguration",
    ),
    (
        "PutBucketAccelerateConfiguration",
        "s3:PutAccelerateConfiguration",
    ),
    (
        "PutBucketAnalyticsConfiguration",
        "s3:PutAnalyticsConfiguration",
    ),
    (
        "PutBucketMetricsConfiguration",
        "s3:PutMetricsConfiguration",
    ),
    (
        "PutBucketInventoryConfiguration",
        "s3:PutInventoryConfiguration",
    ),
    (
        "PutBucketIntelligentTieringConfiguration",
        "s3:PutIntelligentTieringConfiguration",
    ),
    ("SelectObjectContent", "s3:GetObject"),
    (
        "ListDirectoryBuckets",
        "s3express:ListAllMyDirectoryBuckets",
    ),
    ("CreateSession", "s3express:CreateSession"),
    (
        "WriteGetObjectResponse",
        "s3-object-lambda:WriteGetObjectResponse",
    ),
];

/// The request headers that set an ACL.
const ACL_HEADERS: &[&str] = &[
    "x-amz-acl",
    "x-amz-grant-full-control",
    "x-amz-grant-read",
    "x-amz-grant-read-acp",
    "x-amz-grant-write",
    "x-amz-grant-write-acp",
];

/// CloudTrail's `eventName` where it is not the API's name.
fn event_name(op: &'static str) -> &'static str {
    match op {
        "PutBucketNotificationConfiguration" => "PutBucketNotification",
        other => other,
    }
}

/// The IAM action `op` needs.
pub fn action(op: &str) -> String {
    ACTIONS
        .iter()
        .find(|(o, _)| *o == op)
        .map_or_else(|| format!("s3:{op}"), |(_, a)| (*a).to_owned())
}

/// Whether `op` only reads.
fn reads(op: &str) -> bool {
    ["Get", "List", "Head"].iter().any(|p| op.starts_with(p)) || op == "SelectObjectContent"
}

/// The access check s3s runs before every operation.
pub struct CairnAccess {
    pub(super) s3: CairnS3,
}

/// The operation's name as a `'static` string. s3s hands its own static names out only by
/// reference, so each distinct name is kept once: a bounded set (s3s's routing table names
/// fewer than a hundred operations), never anything a client wrote.
/// `op` as a `'static` name if Cairn serves it.
pub(super) fn served_name(op: &str) -> Option<&'static str> {
    SERVED.iter().find(|n| **n == op).copied()
}

fn interned(name: &str) -> &'static str {
    static NAMES: std::sync::OnceLock<std::sync::Mutex<std::collections::BTreeSet<&'static str>>> =
        std::sync::OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(n) = names.get(name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(n);
    n
}

/// S3's operations from its AWS model: name, method, path kind (`root`, `bucket`,
/// `object`) and the request URI's subresource markers (`model_rules.json`, "s3_routes",
/// from the newest botocore at generation, so the newest SDKs' operations, such as object
/// annotations' `?annotation`, are told apart).
type Route = (String, String, String, Vec<String>);

fn routes() -> &'static [Route] {
    static ROUTES: std::sync::OnceLock<Vec<Route>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| {
        let data: serde_json::Value =
            serde_json::from_str(crate::model_check::MODEL_RULES).expect("model_rules.json parses");
        serde_json::from_value(data["s3_routes"].clone()).unwrap_or_default()
    })
}

/// The operations of S3's model a request names by its method, path kind and query: those
/// whose subresource markers it carries, the most specific first (none when no operation
/// with markers matches, as for a plain GetObject).
pub(super) fn model_operations(method: &str, kind: &str, query: &str) -> Vec<&'static str> {
    let keys: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, _)| k.into_owned())
        .collect();
    let matching = routes().iter().filter(|(_, m, k, markers)| {
        m == method && k == kind && !markers.is_empty() && markers.iter().all(|x| keys.contains(x))
    });
    let most = matching.clone().map(|r| r.3.len()).max().unwrap_or(0);
    let mut names: Vec<&'static str> = matching
        .filter(|r| r.3.len() == most)
        .map(|r| r.0.as_str())
        .collect();
    // Two operations with the same marker, told apart by a query member only one takes:
    // GetObjectAnnotation names its annotation (`annotationName`), ListObjectAnnotations
    // does not.
    if names.contains(&"GetObjectAnnotation") && names.contains(&"ListObjectAnnotations") {
        let one = keys.iter().any(|k| k == "annotationName");
        names.retain(|n| {
            *n != if one {
                "ListObjectAnnotations"
            } else {
                "GetObjectAnnotation"
            }
        });
    }
    names
}

#[async_trait::async_trait]
impl S3Access for CairnAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        if cx.credentials().is_none() {
            // As s3s's own default: every operation Cairn serves is signed.
            return Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "Signature is required",
            ));
        }
        let kind = match cx.s3_path() {
            S3Path::Root => "root",
            S3Path::Bucket { .. } => "bucket",
            S3Path::Object { .. } => "object",
        };
        let query = cx.uri().query().unwrap_or("");
        let mut named = model_operations(cx.method().as_str(), kind, query);
        if kind == "bucket" && named.is_empty() {
            // An object operation's subresource on a bucket path (`PUT /bucket?retention`,
            // the key left out) is that operation, never the bucket call of its method
            // (CreateBucket), which s3s would route it to.
            named = model_operations(cx.method().as_str(), "object", query);
            // The calls on a multipart upload have no marker of their own in the model: the
            // upload id says which they are.
            if named.is_empty()
                && form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "uploadId")
            {
                let op = match *cx.method() {
                    http::Method::PUT => Some("UploadPart"),
                    http::Method::DELETE => Some("AbortMultipartUpload"),
                    http::Method::POST => Some("CompleteMultipartUpload"),
                    http::Method::GET => Some("ListParts"),
                    _ => None,
                };
                named = op.into_iter().collect();
            }
        }
        // s3s routes a subresource it does not know (`?renameObject`, `?abac`,
        // `?metadataConfiguration`) to the plain operation of its method and path (PutObject,
        // CreateBucket, DeleteBucket): that request is the model's operation, never served.
        let served = match named.first() {
            Some(model_op) if !named.contains(&cx.s3_op().name()) => Err(*model_op),
            _ if SERVED.contains(&cx.s3_op().name()) => {
                let Some(op) = super::unhandled::noted(cx.s3_op().name()) else {
                    // A browser form: refused before its signature is checked, or its
                    // handler authorizes and records it.
                    return Ok(());
                };
                Ok(op)
            }
            _ => Err(interned(cx.s3_op().name())),
        };
        let region = super::signed_region(cx.headers(), cx.uri().query().unwrap_or(""))
            .and_then(|r| s3s::region::Region::new(r.into()).ok());
        let meta = cx.extensions_mut().get::<super::RequestMeta>().cloned();
        let mut extensions = http::Extensions::new();
        if let Some(m) = &meta {
            // A slot of its own: the note must not hold the slot it is kept in.
            extensions.insert(super::RequestMeta {
                pending: Default::default(),
                ..m.clone()
            });
        }
        let req = S3Request {
            input: (),
            method: cx.method().clone(),
            uri: cx.uri().clone(),
            headers: cx.headers().clone(),
            extensions,
            credentials: cx.credentials().cloned(),
            region,
            service: Some("s3".into()),
            trailing_headers: None,
        };
        let (bucket, key) = match cx.s3_path() {
            S3Path::Root => (None, None),
            S3Path::Bucket { bucket } => (Some(bucket.to_string()), None),
            S3Path::Object { bucket, key } => (Some(bucket.to_string()), Some(key.to_string())),
        };
        // A whole configuration body read before s3s is checked against its declared
        // digests here, since s3s does not check them.
        let digests = meta
            .as_ref()
            .and_then(|m| m.small_body.as_deref())
            .map(|body| super::integrity::check_whole_body(cx.headers(), body));
        match served {
            // A served call: its handler authorizes and records it; should s3s refuse the
            // request before the handler runs (its body, a header or query value), the note
            // settles it (`super::unhandled`).
            Ok(op) => {
                if let Some(m) = meta {
                    m.pending.put(super::unhandled::Pending::new(
                        self.s3.clone(),
                        req,
                        (bucket, key),
                        op,
                    ));
                }
                // Refused after the note is left, so the refusal is recorded.
                match digests {
                    Some(Err(e)) => Err(super::s3_error(&e)),
                    _ => Ok(()),
                }
            }
            Err(op) => Err(self.s3.unserved(req, (bucket, key), op).await),
        }
    }
}

impl CairnS3 {
    /// Authorizes and records an operation Cairn does not carry out; the error it answers.
    pub(super) async fn unserved(
        &self,
        req: S3Request<()>,
        (bucket, key): (Option<String>, Option<String>),
        op: &'static str,
    ) -> S3Error {
        let call = Unhandled {
            name: event_name(op),
            read_only: reads(op),
            data: super::unhandled::data_event(op, key.is_some()),
            action: action(op),
            refused: None,
        };
        self.gatekeep(req, (bucket, key), call)
            .await
            .unwrap_or_else(|| S3Error::new(S3ErrorCode::NotImplemented))
    }

    /// Authorizes and records a call no handler ran for: an unserved operation (answered
    /// `NotImplemented` once authorized) or a served one s3s refused first, whose record
    /// carries the error s3s answered (`call.refused`). The error to answer: the failed
    /// authorization's (or the record's), else the unserved operation's; `None` for a
    /// refused call authorized and recorded, whose own error stands.
    pub(super) async fn gatekeep(
        &self,
        req: S3Request<()>,
        (bucket, key): (Option<String>, Option<String>),
        call: Unhandled,
    ) -> Option<S3Error> {
        let info = match self.call_info(&req).await {
            Ok(i) => i,
            Err(e) => return Some(e),
        };
        let host = super::object_ops::host_of(&req.headers);
        let mut spec: Spec<()> = Spec::new(
            call.name,
            call.read_only,
            call.data,
            bucket.as_deref(),
            key.as_deref(),
            &host,
        );
        // The subresource the call names (`?acl`, `?cors`, …), as S3's records show it.
        for (name, value) in form_urlencoded::parse(req.uri.query().unwrap_or("").as_bytes()) {
            // Never a signature: SigV4's `X-Amz-*` and SigV2's presigned parameters.
            if !super::presign::is_signing_param(&name) {
                spec = spec.param(&name, serde_json::Value::String(value.into_owned()));
            }
        }
        // The configuration document the call sends (an ACL's grants), when it was read.
        let small_body = req
            .extensions
            .get::<super::RequestMeta>()
            .and_then(|m| m.small_body.clone())
            .filter(|_| call.refused.is_none());
        if let Some(body) = small_body {
            spec = spec.bytes_in(i64::try_from(body.len()).unwrap_or(i64::MAX));
            if let Some((root, value)) = super::xml_record::to_record(&body) {
                spec = spec.param(&root, value);
            }
        }
        // The canned ACL and grants a call sets, as S3's records carry them (`["public-read"]`),
        // so "made public" is told from "made private".
        for name in ACL_HEADERS {
            if let Some(v) = req.headers.get(*name).and_then(|v| v.to_str().ok()) {
                spec = spec.param(name, serde_json::json!([v]));
            }
        }
        let action = call.action;
        let permission = match (&bucket, &key) {
            (Some(b), Some(k)) => Permission::new(action, format!("arn:aws:s3:::{b}/{k}"))
                .under(ResourcePolicy::Bucket(b.clone())),
            (Some(b), None) => Permission::new(action, format!("arn:aws:s3:::{b}"))
                .under(ResourcePolicy::Bucket(b.clone())),
            (None, _) => Permission::any(action),
        };
        let access = if call.read_only {
            Access::Read
        } else {
            Access::Write
        };
        let rid = info.request_id.clone();
        let account = info.ctx.account().to_string();
        let signing = info.signing.clone();
        let op = call.name;
        let refused = call.refused.is_some();
        let refusal = call.refused;
        let answered = self
            .gate
            .execute(
                info,
                access,
                move |_, _| Ok(vec![permission]),
                move |c| match refused {
                    // The client's own mistake stands; nothing is carried out.
                    true => Err::<(), _>(ApiError::new(ErrorKind::S3InvalidRequest, REFUSED)),
                    false => {
                        if let Some(b) = &bucket {
                            cairn_core::objects::require_bucket(c, b)?;
                        }
                        Err(not_carried_out(op))
                    }
                },
                move |r| {
                    let mut outcome = spec.outcome(r, &rid, &account, signing);
                    if let (Some(error), Err(e)) = (refusal, r)
                        && e.message == REFUSED
                    {
                        outcome.error = Some(error);
                    }
                    outcome
                },
            )
            .await;
        match answered {
            Err(e) if e.message == REFUSED => None,
            Err(e) => Some(super::s3_error(&e)),
            Ok(()) => None,
        }
    }
}

/// What an authorized call Cairn does not carry out answers. Setting an ACL is refused as
/// S3 refuses it on a bucket whose Object Ownership is "bucket owner enforced", the default
/// for new buckets and the only setting Cairn's buckets have: `400
/// AccessControlListNotSupported`, whatever the ACL (S3 User Guide, "Troubleshooting Object
/// Ownership": "Requests to set ACLs or update ACLs fail"). An object's retention or legal
/// hold is refused as S3 refuses it in a bucket without Object Lock, which every bucket of
/// Cairn's is. Any other is `NotImplemented`.
fn not_carried_out(op: &str) -> ApiError {
    match op {
        "PutBucketAcl" | "PutObjectAcl" => ApiError::new(
            ErrorKind::S3AccessControlListNotSupported,
            "The bucket does not allow ACLs",
        ),
        "GetObjectRetention" | "PutObjectRetention" | "GetObjectLegalHold"
        | "PutObjectLegalHold" => ApiError::new(
            ErrorKind::S3InvalidRequest,
            "Bucket is missing Object Lock Configuration",
        ),
        _ => ApiError::new(
            ErrorKind::S3NotImplemented,
            format!("{op} is not implemented by Cairn"),
        ),
    }
}

/// The placeholder error a refused call's operation returns: its record carries the error
/// s3s answered instead.
const REFUSED: &str = "refused before its handler";

/// A call no handler ran for, as [`CairnS3::gatekeep`] authorizes and records it.
pub(super) struct Unhandled {
    /// `eventName`.
    pub name: &'static str,
    /// `readOnly`.
    pub read_only: bool,
    /// A data event.
    pub data: bool,
    /// The IAM action authorized.
    pub action: String,
    /// The (code, message) s3s answered, for a served operation it refused.
    pub refused: Option<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_follow_the_service_authorization_reference() {
        assert_eq!(action("PutBucketAcl"), "s3:PutBucketAcl");
        assert_eq!(action("DeleteBucketCors"), "s3:PutBucketCORS");
        assert_eq!(
            action("DeleteBucketReplication"),
            "s3:PutReplicationConfiguration"
        );
        assert_eq!(action("PutObjectTagging"), "s3:PutObjectTagging");
        assert!(reads("GetBucketCors") && !reads("PutBucketCors"));
        assert_eq!(
            event_name("PutBucketNotificationConfiguration"),
            "PutBucketNotification"
        );
    }

    #[test]
    fn the_model_names_subresources_s3s_does_not_know() {
        assert_eq!(
            model_operations("PUT", "object", "renameObject"),
            ["RenameObject"]
        );
        assert_eq!(
            model_operations("DELETE", "bucket", "metadataConfiguration"),
            ["DeleteBucketMetadataConfiguration"]
        );
        assert_eq!(
            model_operations("PUT", "object", "encryption"),
            ["UpdateObjectEncryption"]
        );
        // The newest SDKs' annotations: one marker, told apart by `annotationName`.
        assert_eq!(
            model_operations("GET", "object", "annotation&annotationName=team"),
            ["GetObjectAnnotation"]
        );
        assert_eq!(
            model_operations("GET", "object", "annotation"),
            ["ListObjectAnnotations"]
        );
        // Both of S3's lifecycle operations answer `?lifecycle`; a plain PutObject has none.
        let lifecycle = model_operations("PUT", "bucket", "lifecycle");
        assert!(lifecycle.contains(&"PutBucketLifecycleConfiguration"));
        assert!(model_operations("PUT", "object", "x-id=PutObject").is_empty());
        assert_eq!(
            model_operations("POST", "object", "select&select-type=2"),
            ["SelectObjectContent"]
        );
    }

    #[test]
    fn setting_an_acl_is_refused_as_acls_disabled() {
        for op in ["PutBucketAcl", "PutObjectAcl"] {
            assert_eq!(
                not_carried_out(op).kind,
                ErrorKind::S3AccessControlListNotSupported
            );
        }
        assert_eq!(
            not_carried_out("PutBucketCors").kind,
            ErrorKind::S3NotImplemented
        );
        assert_eq!(
            not_carried_out("GetObjectLegalHold").message,
            "Bucket is missing Object Lock Configuration"
        );
    }

    #[test]
    fn served_operations_are_not_listed_twice() {
        let mut names = SERVED.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SERVED.len());
        assert!(ACTIONS.iter().all(|(op, _)| !SERVED.contains(op)));
    }
}
