//! `AWS::S3::Bucket` and `AWS::S3::BucketPolicy`.

use serde_json::{Value, json};

use super::util::{document, only, opt_bool, opt_int, opt_str, props, req_str};
use super::{Cx, Failure, Made, Provider};
use crate::cloudformation::services::{BoxFuture, Service};

const BUCKET: &str = "AWS::S3::Bucket";
const POLICY: &str = "AWS::S3::BucketPolicy";

/// `AWS::S3::Bucket`: `BucketName`, `BucketEncryption`, `LifecycleConfiguration`,
/// `VersioningConfiguration`, `PublicAccessBlockConfiguration`, `OwnershipControls` (Cairn
/// serves `BucketOwnerEnforced` only) and `Tags`, each set with the
/// S3 call that owns it. The bucket's tag set is the stack's tags, then the template's `Tags`
/// (which win on the same key), then CloudFormation's `aws:cloudformation:stack-name`,
/// `stack-id` and `logical-id`, as AWS tags the buckets it creates; one `PutBucketTagging`
/// sets it on create and again on an update that changes it (no interruption). A bucket that
/// exists already fails the create (`<name> already exists`) and is left as it is.
pub struct Bucket;

const BUCKET_PROPERTIES: &[&str] = &[
    "BucketName",
    "BucketEncryption",
    "LifecycleConfiguration",
    "VersioningConfiguration",
    "PublicAccessBlockConfiguration",
    "OwnershipControls",
    "Tags",
];

fn bucket_name(cx: &Cx<'_>, p: &Value) -> Result<String, Failure> {
    Ok(match opt_str(p, "BucketName", BUCKET)? {
        Some(n) => n,
        None => cx.generated_name(63, true),
    })
}

fn bucket_made(name: &str, region: &str) -> Made {
    Made::id(name)
        .with("Arn", format!("arn:aws:s3:::{name}"))
        .with("DomainName", format!("{name}.s3.amazonaws.com"))
        .with(
            "DualStackDomainName",
            format!("{name}.s3.dualstack.{region}.amazonaws.com"),
        )
        .with(
            "RegionalDomainName",
            format!("{name}.s3.{region}.amazonaws.com"),
        )
        .with(
            "WebsiteURL",
            format!("http://{name}.s3-website-{region}.amazonaws.com"),
        )
}

/// `LifecycleConfiguration.Rules` as PutBucketLifecycleConfiguration takes them.
fn lifecycle_rules(p: &Value) -> Result<Option<Value>, Failure> {
    let Some(config) = props(p).get("LifecycleConfiguration") else {
        return Ok(None);
    };
    let rules = config
        .get("Rules")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Failure::schema("#/LifecycleConfiguration: required key [Rules] not found")
        })?;
    let mut out = Vec::new();
    for rule in rules {
        only(
            rule,
            "AWS::S3::Bucket LifecycleConfiguration rules",
            &[
                "Id",
                "Prefix",
                "Status",
                "ExpirationInDays",
                "ExpirationDate",
                "AbortIncompleteMultipartUpload",
            ],
        )?;
        let mut r = json!({
            "Status": req_str(rule, "Status", BUCKET)?,
            "Filter": {"Prefix": opt_str(rule, "Prefix", BUCKET)?.unwrap_or_default()},
        });
        if let Some(id) = opt_str(rule, "Id", BUCKET)? {
            r["ID"] = json!(id);
        }
        if let Some(days) = opt_int(rule, "ExpirationInDays", BUCKET)? {
            r["Expiration"] = json!({"Days": days});
        }
        if let Some(date) = opt_str(rule, "ExpirationDate", BUCKET)? {
            // With ExpirationInDays too, both go through and the rule is refused as mixed.
            r["Expiration"]["Date"] = json!(date);
        }
        if let Some(abort) = props(rule).get("AbortIncompleteMultipartUpload") {
            only(
                abort,
                "AWS::S3::Bucket AbortIncompleteMultipartUpload",
                &["DaysAfterInitiation"],
            )?;
            let days = opt_int(abort, "DaysAfterInitiation", BUCKET)?.ok_or_else(|| {
                Failure::schema("#/LifecycleConfiguration/Rules/AbortIncompleteMultipartUpload: required key [DaysAfterInitiation] not found")
            })?;
            r["AbortIncompleteMultipartUpload"] = json!({"DaysAfterInitiation": days});
        }
        out.push(r);
    }
    Ok(Some(json!({"Rules": out})))
}

/// `BucketEncryption.ServerSideEncryptionConfiguration` as PutBucketEncryption takes it
/// (`ServerSideEncryptionByDefault` becomes `ApplyServerSideEncryptionByDefault`).
fn encryption_config(p: &Value) -> Result<Option<Value>, Failure> {
    let Some(enc) = props(p).get("BucketEncryption") else {
        return Ok(None);
    };
    only(
        enc,
        "AWS::S3::Bucket BucketEncryption",
        &["ServerSideEncryptionConfiguration"],
    )?;
    let rules = enc
        .get("ServerSideEncryptionConfiguration")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Failure::schema(
                "#/BucketEncryption: required key [ServerSideEncryptionConfiguration] not found",
            )
        })?;
    let mut out = Vec::new();
    for rule in rules {
        only(
            rule,
            "AWS::S3::Bucket ServerSideEncryptionRule",
            &["ServerSideEncryptionByDefault", "BucketKeyEnabled"],
        )?;
        let mut r = json!({});
        if let Some(d) = props(rule).get("ServerSideEncryptionByDefault") {
            only(
                d,
                "AWS::S3::Bucket ServerSideEncryptionByDefault",
                &["SSEAlgorithm", "KMSMasterKeyID"],
            )?;
            let mut default = json!({"SSEAlgorithm": req_str(d, "SSEAlgorithm", BUCKET)?});
            if let Some(k) = opt_str(d, "KMSMasterKeyID", BUCKET)? {
                default["KMSMasterKeyID"] = json!(k);
            }
            r["ApplyServerSideEncryptionByDefault"] = default;
        }
        if let Some(b) = opt_bool(rule, "BucketKeyEnabled", BUCKET)? {
            r["BucketKeyEnabled"] = json!(b);
        }
        out.push(r);
    }
    Ok(Some(json!({"Rules": out})))
}

/// `VersioningConfiguration.Status`.
fn versioning_status(p: &Value) -> Result<Option<String>, Failure> {
    let Some(v) = props(p).get("VersioningConfiguration") else {
        return Ok(None);
    };
    only(v, "AWS::S3::Bucket VersioningConfiguration", &["Status"])?;
    req_str(v, "Status", BUCKET).map(Some)
}

/// `PublicAccessBlockConfiguration`'s four settings (an absent one is `false`).
fn public_access_block(p: &Value) -> Result<Option<Value>, Failure> {
    const SETTINGS: [&str; 4] = [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ];
    let Some(pab) = props(p).get("PublicAccessBlockConfiguration") else {
        return Ok(None);
    };
    only(
        pab,
        "AWS::S3::Bucket PublicAccessBlockConfiguration",
        &SETTINGS,
    )?;
    let mut out = serde_json::Map::new();
    for k in SETTINGS {
        out.insert(
            k.to_owned(),
            json!(opt_bool(pab, k, BUCKET)?.unwrap_or(false)),
        );
    }
    Ok(Some(Value::Object(out)))
}

/// `OwnershipControls` as PutBucketOwnershipControls takes it: each rule's
/// `ObjectOwnership` (the call refuses what Cairn does not serve).
fn ownership_controls(p: &Value) -> Result<Option<Value>, Failure> {
    let Some(oc) = props(p).get("OwnershipControls") else {
        return Ok(None);
    };
    only(oc, "AWS::S3::Bucket OwnershipControls", &["Rules"])?;
    let rules = oc
        .get("Rules")
        .and_then(Value::as_array)
        .ok_or_else(|| Failure::schema("#/OwnershipControls: required key [Rules] not found"))?;
    let mut out = Vec::new();
    for rule in rules {
        only(
            rule,
            "AWS::S3::Bucket OwnershipControls rules",
            &["ObjectOwnership"],
        )?;
        out.push(json!({"ObjectOwnership": opt_str(rule, "ObjectOwnership", BUCKET)?}));
    }
    Ok(Some(json!({"Rules": out})))
}

/// The tag set a bucket gets: the stack tags `stack`, the template's `Tags`, CloudFormation's
/// own.
fn bucket_tags(
    cx: &Cx<'_>,
    stack: &[(String, String)],
    p: &Value,
) -> Result<Vec<(String, String)>, Failure> {
    super::util::tags_with_system(cx, stack, p, BUCKET)
}

/// Checks the bucket's configuration properties before any call is made.
fn validate_settings(p: &Value) -> Result<(), Failure> {
    lifecycle_rules(p)?;
    encryption_config(p)?;
    versioning_status(p)?;
    public_access_block(p)?;
    ownership_controls(p)?;
    // Only CloudFormation's own tags may use the `aws:` prefix (S3 refuses it from a
    // requester with this message).
    if super::util::tags(p, BUCKET, &[])?
        .iter()
        .any(|(k, _)| super::util::is_system_tag(k))
    {
        return Err(Failure::new(
            "System tags cannot be added/updated by requester",
        ));
    }
    Ok(())
}

/// One bucket setting after a create or update: put with its API call when it `changed` and
/// the template gives it, deleted when the template dropped it (`had` it before).
async fn sync_setting(
    cx: &Cx<'_>,
    bucket: &str,
    (changed, had): (bool, bool),
    value: Option<Value>,
    (put, member, delete): (&'static str, &str, &'static str),
) -> Result<(), Failure> {
    if !changed {
        return Ok(());
    }
    match value {
        Some(v) => {
            let mut body = json!({"Bucket": bucket});
            body[member] = v;
            cx.call(Service::S3, put, body).await?;
        }
        None if had => {
            cx.call(Service::S3, delete, json!({"Bucket": bucket}))
                .await?;
        }
        None => {}
    }
    Ok(())
}

async fn apply_bucket_settings(
    cx: &Cx<'_>,
    name: &str,
    old: Option<&Value>,
    new: &Value,
) -> Result<(), Failure> {
    let changed = |k: &str| old.map(|o| props(o).get(k)) != Some(props(new).get(k));
    let had = |k: &str| old.is_some_and(|o| props(o).contains_key(k));
    sync_setting(
        cx,
        name,
        (changed("BucketEncryption"), had("BucketEncryption")),
        encryption_config(new)?,
        (
            "PutBucketEncryption",
            "ServerSideEncryptionConfiguration",
            "DeleteBucketEncryption",
        ),
    )
    .await?;
    sync_setting(
        cx,
        name,
        (
            changed("LifecycleConfiguration"),
            had("LifecycleConfiguration"),
        ),
        lifecycle_rules(new)?,
        (
            "PutBucketLifecycleConfiguration",
            "LifecycleConfiguration",
            "DeleteBucketLifecycle",
        ),
    )
    .await?;
    if changed("VersioningConfiguration") {
        // Without the property the bucket's status is `Suspended` (the property's default);
        // a bucket that was never versioned is left as it is.
        let was_enabled = old
            .map(versioning_status)
            .transpose()?
            .flatten()
            .is_some_and(|s| s == "Enabled");
        let status = match versioning_status(new)? {
            Some(s) => Some(s),
            None if was_enabled => Some("Suspended".to_owned()),
            None => None,
        };
        if let Some(status) = status {
            cx.call(
                Service::S3,
                "PutBucketVersioning",
                json!({"Bucket": name, "VersioningConfiguration": {"Status": status}}),
            )
            .await?;
        }
    }
    sync_setting(
        cx,
        name,
        (
            changed("PublicAccessBlockConfiguration"),
            had("PublicAccessBlockConfiguration"),
        ),
        public_access_block(new)?,
        (
            "PutPublicAccessBlock",
            "PublicAccessBlockConfiguration",
            "DeletePublicAccessBlock",
        ),
    )
    .await?;
    sync_setting(
        cx,
        name,
        (changed("OwnershipControls"), had("OwnershipControls")),
        ownership_controls(new)?,
        (
            "PutBucketOwnershipControls",
            "OwnershipControls",
            "DeleteBucketOwnershipControls",
        ),
    )
    .await?;
    let before = old
        .map(|o| bucket_tags(cx, cx.old_stack_tags, o))
        .transpose()?;
    let after = bucket_tags(cx, cx.stack_tags, new)?;
    if before.as_ref() != Some(&after) {
        cx.call(
            Service::S3,
            "PutBucketTagging",
            json!({"Bucket": name, "Tagging": {"TagSet": super::util::tag_list(&after)}}),
        )
        .await?;
    }
    Ok(())
}

impl Provider for Bucket {
    fn resource_type(&self) -> &'static str {
        BUCKET
    }
    fn takes_stack_tags(&self) -> bool {
        true
    }

    fn attributes(&self) -> &'static [&'static str] {
        &[
            "Arn",
            "DomainName",
            "DualStackDomainName",
            "RegionalDomainName",
            "WebsiteURL",
        ]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &["BucketName"]
    }

    fn name_property(&self) -> Option<&'static str> {
        Some("BucketName")
    }

    fn intended_id(&self, cx: &Cx<'_>, p: &Value) -> Option<String> {
        bucket_name(cx, p).ok()
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(p, BUCKET, BUCKET_PROPERTIES)?;
            validate_settings(p)?;
            let name = bucket_name(cx, p)?;
            let mut input = json!({"Bucket": name});
            if cx.region() != "us-east-1" {
                input["CreateBucketConfiguration"] = json!({"LocationConstraint": cx.region()});
            }
            // A bucket that exists already is not the stack's to configure or delete.
            cx.call(Service::S3, "CreateBucket", input)
                .await
                .map_err(|f| match f.code.as_deref() {
                    Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists") => Failure {
                        reason: format!("{name} already exists"),
                        ..f
                    },
                    _ => f,
                })?;
            apply_bucket_settings(cx, &name, None, p)
                .await
                .map_err(|f| f.made(&name))?;
            Ok(bucket_made(&name, cx.region()))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        old: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(new, BUCKET, BUCKET_PROPERTIES)?;
            validate_settings(new)?;
            apply_bucket_settings(cx, &current.physical_id, Some(old), new).await?;
            Ok(current.clone())
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        _: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            cx.call(
                Service::S3,
                "DeleteBucket",
                json!({"Bucket": current.physical_id}),
            )
            .await
            .map(|_| ())
        })
    }
}

/// `AWS::S3::BucketPolicy`: `Bucket` and `PolicyDocument`. A create refuses a bucket that
/// already has a policy, as CloudFormation's handler does, so deleting the stack never removes
/// a policy it did not put.
pub struct BucketPolicy;

impl Provider for BucketPolicy {
    fn required(&self) -> &'static [&'static str] {
        &["Bucket", "PolicyDocument"]
    }

    fn resource_type(&self) -> &'static str {
        POLICY
    }

    fn attributes(&self) -> &'static [&'static str] {
        &[]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &["Bucket"]
    }

    fn intended_id(&self, _: &Cx<'_>, p: &Value) -> Option<String> {
        opt_str(p, "Bucket", POLICY).ok().flatten()
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(p, POLICY, &["Bucket", "PolicyDocument"])?;
            let bucket = req_str(p, "Bucket", POLICY)?;
            let policy = document(p, "PolicyDocument", POLICY)?
                .ok_or_else(|| Failure::schema("#: required key [PolicyDocument] not found"))?;
            // A bucket has one policy: one the stack did not put is not its to replace or
            // delete (CloudFormation's `AlreadyExists`).
            if cx
                .find(Service::S3, "GetBucketPolicy", json!({"Bucket": bucket}))
                .await?
                .is_some()
            {
                return Err(Failure::exists(format!(
                    "The bucket policy already exists on bucket {bucket}."
                )));
            }
            cx.call(
                Service::S3,
                "PutBucketPolicy",
                json!({"Bucket": bucket, "Policy": policy}),
            )
            .await?;
            Ok(Made::id(bucket))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        _: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(new, POLICY, &["Bucket", "PolicyDocument"])?;
            let policy = document(new, "PolicyDocument", POLICY)?.unwrap_or_default();
            cx.call(
                Service::S3,
                "PutBucketPolicy",
                json!({"Bucket": current.physical_id, "Policy": policy}),
            )
            .await?;
            Ok(current.clone())
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        _: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            cx.call(
                Service::S3,
                "DeleteBucketPolicy",
                json!({"Bucket": current.physical_id}),
            )
            .await
            .map(|_| ())
        })
    }
}
