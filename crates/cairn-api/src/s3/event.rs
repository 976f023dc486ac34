//! The CloudTrail record of an S3 call: management events for bucket calls, data events
//! (`AWS::S3::Object` + `AWS::S3::Bucket` resources, bytes transferred) for object calls.

use cairn_core::authz::{Permission, ResourcePolicy};
use cairn_core::error::ApiResult;
use cairn_model::event::EventResource;
use serde_json::{Map, Value, json};

use crate::errors::WireError;
use crate::recording::{Access, Outcome, Signing};

/// What to record about one S3 call whose result is a `T`.
pub struct Spec<T> {
    /// `eventName`.
    pub name: &'static str,
    /// `readOnly`.
    pub read_only: bool,
    /// Object-level (data event) or bucket-level (management event).
    pub data: bool,
    /// Bucket.
    pub bucket: Option<String>,
    /// Key.
    pub key: Option<String>,
    /// `Host` header.
    pub host: String,
    /// Extra request parameters beyond bucketName/Host/key.
    pub extra: Map<String, Value>,
    /// Bytes received.
    pub bytes_in: i64,
    /// `responseElements` and bytes sent, from a successful result.
    pub response: fn(&T) -> (Value, i64),
    /// Condition keys of the request (`s3:x-amz-acl`, `s3:prefix`, …).
    pub conditions: Vec<(String, Vec<String>)>,
    /// Permissions beyond the operation's own (CopyObject reads its source).
    pub also: Vec<Permission>,
    /// `responseElements` known before the call runs (the encryption a write applies),
    /// added to a successful call's.
    pub elements: Map<String, Value>,
    /// The prefix a listing covers: its objects are an `AWS::S3::Object` `ARNPrefix`.
    pub listed_prefix: Option<String>,
    /// Resources after the object and bucket (the KMS key a write is sealed under).
    pub more_resources: Vec<(EventResource, String)>,
    /// `additionalEventData.SSEApplied` of a write S3 encrypted: `SSE_KMS`/`SSE_S3` by the
    /// request's headers, `Default_SSE_KMS`/`Default_SSE_S3` by the bucket's default.
    pub sse_applied: Option<&'static str>,
}

/// The IAM action an S3 API call needs (Service Authorization Reference: the action is not
/// always the API name).
pub fn action_of(event_name: &str) -> &'static str {
    match event_name {
        "CreateBucket" => "s3:CreateBucket",
        "HeadBucket" | "ListObjects" | "ListObjectsV2" => "s3:ListBucket",
        "ListObjectVersions" => "s3:ListBucketVersions",
        "ListBuckets" => "s3:ListAllMyBuckets",
        "DeleteBucket" => "s3:DeleteBucket",
        "GetBucketLocation" => "s3:GetBucketLocation",
        "PutBucketPolicy" => "s3:PutBucketPolicy",
        "GetBucketPolicy" => "s3:GetBucketPolicy",
        "DeleteBucketPolicy" => "s3:DeleteBucketPolicy",
        "GetBucketAcl" => "s3:GetBucketAcl",
        "GetBucketVersioning" => "s3:GetBucketVersioning",
        "GetBucketNotification" => "s3:GetBucketNotification",
        "GetBucketCors" => "s3:GetBucketCORS",
        "GetBucketReplication" => "s3:GetReplicationConfiguration",
        "GetObjectLockConfiguration" => "s3:GetBucketObjectLockConfiguration",
        "GetBucketWebsite" => "s3:GetBucketWebsite",
        "GetBucketLogging" => "s3:GetBucketLogging",
        "GetBucketOwnershipControls" => "s3:GetBucketOwnershipControls",
        "PutBucketOwnershipControls" | "DeleteBucketOwnershipControls" => {
            "s3:PutBucketOwnershipControls"
        }
        "GetBucketAccelerateConfiguration" => "s3:GetAccelerateConfiguration",
        "GetBucketRequestPayment" => "s3:GetBucketRequestPayment",
        "GetBucketPolicyStatus" => "s3:GetBucketPolicyStatus",
        "ListBucketAnalyticsConfigurations" | "GetBucketAnalyticsConfiguration" => {
            "s3:GetAnalyticsConfiguration"
        }
        "DeleteBucketAnalyticsConfiguration" => "s3:PutAnalyticsConfiguration",
        "ListBucketMetricsConfigurations" | "GetBucketMetricsConfiguration" => {
            "s3:GetMetricsConfiguration"
        }
        "DeleteBucketMetricsConfiguration" => "s3:PutMetricsConfiguration",
        "ListBucketInventoryConfigurations" | "GetBucketInventoryConfiguration" => {
            "s3:GetInventoryConfiguration"
        }
        "DeleteBucketInventoryConfiguration" => "s3:PutInventoryConfiguration",
        "ListBucketIntelligentTieringConfigurations"
        | "GetBucketIntelligentTieringConfiguration" => "s3:GetIntelligentTieringConfiguration",
        "DeleteBucketIntelligentTieringConfiguration" => "s3:PutIntelligentTieringConfiguration",
        "PutBucketVersioning" => "s3:PutBucketVersioning",
        "PutBucketPublicAccessBlock" | "DeleteBucketPublicAccessBlock" => {
            "s3:PutBucketPublicAccessBlock"
        }
        "GetBucketPublicAccessBlock" => "s3:GetBucketPublicAccessBlock",
        "PutBucketLifecycle" | "DeleteBucketLifecycle" => "s3:PutLifecycleConfiguration",
        "GetBucketLifecycle" => "s3:GetLifecycleConfiguration",
        "PutBucketEncryption" | "DeleteBucketEncryption" => "s3:PutEncryptionConfiguration",
        "GetBucketEncryption" => "s3:GetEncryptionConfiguration",
        "PutBucketTagging" | "DeleteBucketTagging" => "s3:PutBucketTagging",
        "GetBucketTagging" => "s3:GetBucketTagging",
        "GetObject" | "HeadObject" => "s3:GetObject",
        "GetObjectTagging" => "s3:GetObjectTagging",
        "GetObjectAcl" => "s3:GetObjectAcl",
        "GetObjectAttributes" => "s3:GetObjectAttributes",
        "PutObjectTagging" => "s3:PutObjectTagging",
        "DeleteObjectTagging" => "s3:DeleteObjectTagging",
        "DeleteObject" | "DeleteObjects" => "s3:DeleteObject",
        "AbortMultipartUpload" => "s3:AbortMultipartUpload",
        "ListParts" => "s3:ListMultipartUploadParts",
        "ListMultipartUploads" => "s3:ListBucketMultipartUploads",
        // PutObject, CopyObject (its destination), CreateMultipartUpload, UploadPart,
        // CompleteMultipartUpload.
        _ => "s3:PutObject",
    }
}

/// The tags an object write or PutObjectTagging asks for, as `s3:RequestObjectTag/<key>` and
/// `s3:RequestObjectTagKeys`.
pub fn request_object_tag_keys(tags: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<(String, Vec<String>)> = tags
        .iter()
        .map(|(k, v)| (format!("s3:RequestObjectTag/{k}"), vec![v.clone()]))
        .collect();
    keys.push((
        "s3:RequestObjectTagKeys".to_owned(),
        tags.iter().map(|(k, _)| k.clone()).collect(),
    ));
    keys
}

impl<T> Spec<T> {
    /// A spec with no extra parameters and no response elements.
    pub fn new(
        name: &'static str,
        read_only: bool,
        data: bool,
        bucket: Option<&str>,
        key: Option<&str>,
        host: &str,
    ) -> Self {
        Self {
            name,
            read_only,
            data,
            bucket: bucket.map(str::to_owned),
            key: key.map(str::to_owned),
            host: host.to_owned(),
            extra: Map::new(),
            bytes_in: 0,
            response: |_| (Value::Null, 0),
            conditions: Vec::new(),
            also: Vec::new(),
            elements: Map::new(),
            listed_prefix: None,
            more_resources: Vec::new(),
            sse_applied: None,
        }
    }

    /// The same spec for a call that answers a `U` instead (no response elements from it).
    pub fn retyped<U>(self) -> Spec<U> {
        Spec {
            name: self.name,
            read_only: self.read_only,
            data: self.data,
            bucket: self.bucket,
            key: self.key,
            host: self.host,
            extra: self.extra,
            bytes_in: self.bytes_in,
            response: |_| (Value::Null, 0),
            conditions: self.conditions,
            also: self.also,
            elements: self.elements,
            listed_prefix: self.listed_prefix,
            more_resources: self.more_resources,
            sse_applied: self.sse_applied,
        }
    }

    /// Adds a response element a successful call records.
    pub fn element(mut self, name: &str, value: Value) -> Self {
        self.elements.insert(name.to_owned(), value);
        self
    }

    /// Names the objects a listing of `prefix` covers (`ARNPrefix`).
    pub fn lists(mut self, prefix: &str) -> Self {
        self.listed_prefix = Some(prefix.to_owned());
        self
    }

    /// Adds the KMS key a write is sealed under to the resources.
    pub fn kms_key(mut self, key_arn: &str) -> Self {
        // The key's account is the fifth field of its ARN.
        let account = key_arn.split(':').nth(4).map(str::to_owned);
        self.more_resources.push((
            EventResource {
                arn: key_arn.to_owned(),
                account_id: account,
                resource_type: "AWS::KMS::Key".into(),
                arn_prefix: None,
            },
            key_arn.to_owned(),
        ));
        self
    }

    /// Adds a condition key the policies may test.
    pub fn condition(mut self, key: &str, value: impl Into<String>) -> Self {
        self.conditions.push((key.to_owned(), vec![value.into()]));
        self
    }

    /// Adds a conditional write's keys, `s3:if-match` and `s3:if-none-match`, as the request
    /// sent them (the S3 user guide's "Enforce conditional writes" policies test them; they
    /// were never set, so such an Allow denied every write and such a Deny never applied).
    pub fn if_keys(mut self, headers: &http::HeaderMap) -> Self {
        for (header, key) in [
            ("if-match", "s3:if-match"),
            ("if-none-match", "s3:if-none-match"),
        ] {
            if let Some(v) = headers.get(header).and_then(|v| v.to_str().ok()) {
                self.conditions.push((key.to_owned(), vec![v.to_owned()]));
            }
        }
        self
    }

    /// Adds an object write's own condition keys besides encryption (PutObject, CopyObject,
    /// CreateMultipartUpload): its canned ACL, storage class and the tags it asks for
    /// (`x-amz-tagging`, as `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys`). A
    /// write that sets tags also needs `s3:PutObjectTagging` on the object, with the same
    /// tag keys (the S3 API reference's PutObject permissions: "To successfully set the
    /// tag-set with your PutObject request, you must have the s3:PutObjectTagging").
    pub fn write_keys(
        mut self,
        acl: Option<&str>,
        storage_class: Option<&str>,
        tagging: Option<&str>,
    ) -> Self {
        let mut keys: Vec<(String, Vec<String>)> = Vec::new();
        if let Some(a) = acl {
            keys.push(("s3:x-amz-acl".to_owned(), vec![a.to_owned()]));
        }
        if let Some(c) = storage_class {
            keys.push(("s3:x-amz-storage-class".to_owned(), vec![c.to_owned()]));
        }
        if let Some(t) = tagging.filter(|t| !t.is_empty()) {
            let pairs: Vec<(String, String)> = form_urlencoded::parse(t.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let tag_keys = request_object_tag_keys(&pairs);
            if let (Some(b), Some(k)) = (&self.bucket, &self.key) {
                let mut tagging =
                    Permission::new("s3:PutObjectTagging", format!("arn:aws:s3:::{b}/{k}"))
                        .under(ResourcePolicy::Bucket(b.clone()));
                tagging.context.extend(tag_keys.iter().cloned());
                self.also.push(tagging);
            }
            keys.extend(tag_keys);
        }
        self.conditions(&keys)
    }

    /// Adds condition keys, each with its values.
    pub fn conditions(mut self, keys: &[(String, Vec<String>)]) -> Self {
        self.conditions.extend(keys.iter().cloned());
        self
    }

    /// Adds a listing's `s3:delimiter` condition key, when it has a delimiter.
    pub fn delimiter_key(self, delimiter: Option<&str>) -> Self {
        match delimiter {
            Some(d) => self.condition("s3:delimiter", d),
            None => self,
        }
    }

    /// Adds a permission the call needs besides its own.
    pub fn also_needs(mut self, p: Permission) -> Self {
        self.also.push(p);
        self
    }

    /// Where the gate runs the call. Reads of one object by key are point lookups that read
    /// at most 256 KiB whole (larger objects stream afterwards), so they run on the
    /// request's own worker; other reads (listings may scan) go to the blocking pool.
    pub fn access(&self) -> Access {
        match (self.read_only, self.name) {
            (false, _) => Access::Write,
            (true, "GetObject" | "HeadObject" | "GetObjectAttributes") => Access::ShortRead,
            (true, _) => Access::Read,
        }
    }

    /// What the call must be allowed to do: its action on the object (or bucket) under the
    /// bucket's policy, then anything it also needs. `signing` (how the request was signed)
    /// gives S3's `s3:authType` and `s3:signatureversion` keys.
    pub fn permissions(&self, signing: Option<&Signing>) -> Vec<Permission> {
        if self.name == "DeleteObjects" {
            // Authorized key by key inside the operation.
            return Vec::new();
        }
        // Naming a version needs the version action (S3's `versionId`, even `null`).
        let action = match (self.name, self.extra.contains_key("versionId")) {
            ("GetObject" | "HeadObject", true) => "s3:GetObjectVersion",
            ("GetObjectTagging", true) => "s3:GetObjectVersionTagging",
            ("GetObjectAttributes", true) => "s3:GetObjectVersionAttributes",
            ("PutObjectTagging", true) => "s3:PutObjectVersionTagging",
            ("DeleteObjectTagging", true) => "s3:DeleteObjectVersionTagging",
            ("DeleteObject", true) => "s3:DeleteObjectVersion",
            (name, _) => action_of(name),
        };
        let own = match (&self.bucket, &self.key) {
            (Some(b), Some(k)) => Permission::new(action, format!("arn:aws:s3:::{b}/{k}"))
                .under(ResourcePolicy::Bucket(b.clone())),
            (Some(b), _) => Permission::new(action, format!("arn:aws:s3:::{b}"))
                .under(ResourcePolicy::Bucket(b.clone())),
            (None, _) => Permission::any(action),
        };
        let mut own = own;
        own.context.extend(self.conditions.iter().cloned());
        // Whether the call makes the object (a conditional write may guard it) or only a part
        // of an upload, which takes no conditional headers (the S3 user guide exempts
        // CreateMultipartUpload, UploadPart and UploadPartCopy with it).
        let creation = match self.name {
            "PutObject" | "CopyObject" | "CompleteMultipartUpload" => Some("true"),
            "CreateMultipartUpload" | "UploadPart" | "UploadPartCopy" => Some("false"),
            _ => None,
        };
        if let Some(c) = creation {
            own.context
                .push(("s3:ObjectCreationOperation".to_owned(), vec![c.to_owned()]));
        }
        let signed: Vec<_> = signing.into_iter().flat_map(signing_keys).collect();
        own.context.extend(signed.iter().cloned());
        let mut all = vec![own];
        // How the request was signed holds for every S3 permission it needs: a copy's read
        // of its source too (recheck31: a presigned or old CopyObject read an object a Deny
        // on `s3:signatureAge` or `s3:authType` kept from GetObject).
        all.extend(self.also.iter().cloned().map(|mut p| {
            if p.action.starts_with("s3:") {
                p.context.extend(signed.iter().cloned());
            }
            p
        }));
        all
    }

    /// The `versionId` a call names, if any: recorded, and authorized as the version action.
    pub fn version(self, version_id: Option<&str>) -> Self {
        match version_id {
            Some(v) => self
                .param("versionId", Value::String(v.to_owned()))
                .condition("s3:VersionId", v),
            None => self,
        }
    }

    /// Adds the `partNumber` a read asked for, as sent.
    pub fn part_number(self, part: Option<i32>) -> Self {
        match part {
            Some(n) => self.param("partNumber", Value::String(n.to_string())),
            None => self,
        }
    }

    /// Adds a request parameter.
    pub fn param(mut self, name: &str, value: Value) -> Self {
        self.extra.insert(name.to_owned(), value);
        self
    }

    /// Adds the `response-*` overrides a GetObject or HeadObject sent, as its records show
    /// them.
    pub fn response_overrides(self, o: &super::response_overrides::ResponseOverrides) -> Self {
        let given = [
            ("response-cache-control", &o.cache_control),
            ("response-content-disposition", &o.content_disposition),
            ("response-content-encoding", &o.content_encoding),
            ("response-content-language", &o.content_language),
            ("response-content-type", &o.content_type),
        ];
        let spec = given
            .into_iter()
            .fold(self, |spec, (name, value)| match value {
                Some(v) => spec.param(name, Value::String(v.clone())),
                None => spec,
            });
        let mut expires = Vec::new();
        match &o.expires {
            Some(t)
                if t.format(s3s::dto::TimestampFormat::HttpDate, &mut expires)
                    .is_ok() =>
            {
                spec.param(
                    "response-expires",
                    Value::String(String::from_utf8_lossy(&expires).into_owned()),
                )
            }
            _ => spec,
        }
    }

    /// Sets `additionalEventData.SSEApplied` (see [`cairn_core::encryption::sse_applied`]).
    pub fn sse_applied(mut self, applied: impl Into<Option<&'static str>>) -> Self {
        self.sse_applied = applied.into();
        self
    }

    /// Sets the bytes received.
    pub fn bytes_in(mut self, n: i64) -> Self {
        self.bytes_in = n;
        self
    }

    /// Sets how to derive response elements and bytes sent.
    pub fn response(mut self, f: fn(&T) -> (Value, i64)) -> Self {
        self.response = f;
        self
    }

    /// The record outcome for `result`.
    pub fn outcome(
        self,
        result: &ApiResult<T>,
        request_id: &str,
        account: &str,
        signing: Option<Signing>,
    ) -> Outcome {
        let signing = signing.unwrap_or(Signing {
            version: "SigV4",
            method: "AuthHeader",
            presigned: Vec::new(),
            recorded_headers: Vec::new(),
            signed_at_ms: None,
        });
        let mut params = Map::new();
        if let Some(b) = &self.bucket {
            params.insert("bucketName".into(), json!(b));
        }
        params.insert("Host".into(), json!(self.host));
        if let Some(k) = &self.key {
            params.insert("key".into(), json!(k));
        }
        for (name, value) in signing.presigned.iter().chain(&signing.recorded_headers) {
            params.insert(name.clone(), json!(value));
        }
        params.extend(self.extra);
        let (response_elements, bytes_out, error) = match result {
            Ok(v) => {
                let (mut elements, out) = (self.response)(v);
                if !self.elements.is_empty() {
                    let mut all = match elements {
                        Value::Object(m) => m,
                        _ => Map::new(),
                    };
                    all.extend(self.elements);
                    elements = Value::Object(all);
                }
                (elements, out, None)
            }
            Err(e) => {
                let w = WireError::from(e);
                (Value::Null, 0, Some((w.code.to_owned(), w.message)))
            }
        };
        let succeeded = error.is_none();
        let mut resources = Vec::new();
        if let (Some(b), Some(p)) = (&self.bucket, &self.listed_prefix) {
            resources.push((
                EventResource {
                    arn: String::new(),
                    account_id: None,
                    resource_type: "AWS::S3::Object".into(),
                    arn_prefix: Some(format!("arn:aws:s3:::{b}/{p}")),
                },
                format!("{b}/{p}"),
            ));
        }
        if let (Some(b), Some(k)) = (&self.bucket, &self.key) {
            resources.push((
                EventResource {
                    arn: format!("arn:aws:s3:::{b}/{k}"),
                    account_id: None,
                    resource_type: "AWS::S3::Object".into(),
                    arn_prefix: None,
                },
                format!("{b}/{k}"),
            ));
        }
        if let Some(b) = &self.bucket {
            resources.push((
                EventResource {
                    arn: format!("arn:aws:s3:::{b}"),
                    account_id: Some(account.to_owned()),
                    resource_type: "AWS::S3::Bucket".into(),
                    arn_prefix: None,
                },
                b.clone(),
            ));
        }
        resources.extend(self.more_resources);
        Outcome {
            event_source: "s3.amazonaws.com",
            event_name: self.name.to_owned(),
            read_only: self.read_only,
            management: !self.data,
            request_parameters: Value::Object(params),
            response_elements,
            error,
            resources,
            additional_event_data: Some({
                let mut data = json!({
                    "SignatureVersion": signing.version,
                    "AuthenticationMethod": signing.method,
                    "x-amz-id-2": crate::request_ids::host_id(request_id),
                    "bytesTransferredIn": self.bytes_in,
                    "bytesTransferredOut": bytes_out,
                });
                // Only a write that succeeded encrypted anything.
                if let (Some(applied), true) = (self.sse_applied, succeeded) {
                    data["SSEApplied"] = applied.into();
                }
                data
            }),
        }
    }
}

/// S3's condition keys for how a request was signed: `s3:authType` (`REST-HEADER`,
/// `REST-QUERY-STRING`) and `s3:signatureversion` (`AWS` for SigV2, `AWS4-HMAC-SHA256` for
/// SigV4), as the S3 user guide's "Amazon S3 condition key examples" list them, and, for
/// SigV4, `s3:signatureAge`: milliseconds since the request was signed, which the "deny
/// presigned URLs older than N" guardrail reads (it was never set, so such a Deny never
/// applied: s3seven).
fn signing_keys(signing: &Signing) -> Vec<(String, Vec<String>)> {
    let auth_type = match signing.method {
        "QueryString" => "REST-QUERY-STRING",
        "HtmlForm" => "POST",
        _ => "REST-HEADER",
    };
    let version = match signing.version {
        "SigV2" => "AWS",
        _ => "AWS4-HMAC-SHA256",
    };
    let mut keys = vec![
        ("s3:authType".to_owned(), vec![auth_type.to_owned()]),
        ("s3:signatureversion".to_owned(), vec![version.to_owned()]),
    ];
    if let Some(at) = signing.signed_at_ms {
        let age = (chrono::Utc::now().timestamp_millis() - at).max(0);
        keys.push(("s3:signatureAge".to_owned(), vec![age.to_string()]));
    }
    keys
}
