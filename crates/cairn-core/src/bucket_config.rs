//! Bucket versioning state and the bucket-level public access block.
//!
//! Versioning (Put/GetBucketVersioning): a bucket starts unversioned; `Enabled` or
//! `Suspended` may be put, and once either was put the bucket never returns to unversioned
//! (S3 has no "Disabled" status). Cairn keeps the status only: object versions are not kept,
//! so a PutObject still replaces the object. `MFADelete` may be put as `Disabled`; enabling
//! it needs the root user's MFA device (`x-amz-mfa`), which Cairn does not have, so it is
//! refused.
//!
//! Public access block (Put/Get/DeletePublicAccessBlock): the four settings are stored and
//! reported. `BlockPublicPolicy` is enforced: PutBucketPolicy refuses a policy S3 would call
//! public (see [`is_public_policy`]) with `AccessDenied`. Cairn has no ACL operations and no
//! anonymous access, so `BlockPublicAcls`, `IgnorePublicAcls` and `RestrictPublicBuckets`
//! have nothing to act on.

use cairn_store::Connection;
use cairn_store::buckets::{self, PublicAccessBlock, Versioning};
use serde_json::Value;

use crate::CallContext;
use crate::buckets::owned;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// `Enabled`.
pub const ENABLED: &str = "Enabled";
/// `Suspended`.
pub const SUSPENDED: &str = "Suspended";
/// `Disabled` (the only `MFADelete` value Cairn accepts).
pub const DISABLED: &str = "Disabled";

fn malformed() -> ApiError {
    ApiError::new(
        ErrorKind::S3MalformedXml,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// PutBucketVersioning. `status` and `mfa_delete` are the configuration's members;
/// `mfa_header` says whether the request carried `x-amz-mfa`.
pub fn put_versioning(
    conn: &Connection,
    ctx: &CallContext,
    bucket: &str,
    status: Option<&str>,
    mfa_delete: Option<&str>,
    mfa_header: bool,
) -> ApiResult<()> {
    owned(conn, ctx, bucket)?;
    if let Some(s) = status
        && s != ENABLED
        && s != SUSPENDED
    {
        return Err(malformed());
    }
    match mfa_delete {
        None | Some(DISABLED) => {}
        Some(ENABLED) if !mfa_header => {
            return Err(ApiError::new(
                ErrorKind::S3AccessDenied,
                "Mfa Authentication must be used for this request",
            ));
        }
        Some(ENABLED) => {
            return Err(ApiError::new(
                ErrorKind::S3NotImplemented,
                "Cairn has no MFA devices to verify x-amz-mfa against, so it cannot enable MFA delete",
            ));
        }
        Some(_) => return Err(malformed()),
    }
    let mut v = buckets::versioning(conn, bucket)?;
    if let Some(s) = status {
        v.status = Some(s.to_owned());
    }
    if let Some(m) = mfa_delete {
        v.mfa_delete = Some(m.to_owned());
    }
    buckets::set_versioning(conn, bucket, &v)?;
    Ok(())
}

/// GetBucketVersioning: the stored state (no status while never versioned).
pub fn get_versioning(conn: &Connection, ctx: &CallContext, bucket: &str) -> ApiResult<Versioning> {
    owned(conn, ctx, bucket)?;
    Ok(buckets::versioning(conn, bucket)?)
}

/// PutPublicAccessBlock (bucket level).
pub fn put_public_access_block(
    conn: &Connection,
    ctx: &CallContext,
    bucket: &str,
    block: PublicAccessBlock,
) -> ApiResult<()> {
    owned(conn, ctx, bucket)?;
    buckets::set_public_access_block(conn, bucket, Some(block))?;
    Ok(())
}

/// GetPublicAccessBlock: `NoSuchPublicAccessBlockConfiguration` when none is set.
pub fn get_public_access_block(
    conn: &Connection,
    ctx: &CallContext,
    bucket: &str,
) -> ApiResult<PublicAccessBlock> {
    owned(conn, ctx, bucket)?;
    buckets::public_access_block(conn, bucket)?.ok_or_else(|| {
        ApiError::new(
            ErrorKind::S3NoSuchPublicAccessBlockConfiguration,
            "The public access block configuration was not found",
        )
    })
}

/// DeletePublicAccessBlock (succeeds when none is set, as S3 does).
pub fn delete_public_access_block(
    conn: &Connection,
    ctx: &CallContext,
    bucket: &str,
) -> ApiResult<()> {
    owned(conn, ctx, bucket)?;
    buckets::set_public_access_block(conn, bucket, None)?;
    Ok(())
}

/// Refuses a public policy on a bucket whose public access block sets `BlockPublicPolicy`
/// (called by PutBucketPolicy once the document parsed).
pub fn check_policy_allowed(
    conn: &Connection,
    ctx: &CallContext,
    bucket: &str,
    document: &Value,
) -> ApiResult<()> {
    let blocked =
        buckets::public_access_block(conn, bucket)?.is_some_and(|b| b.block_public_policy);
    if blocked && is_public_policy(document) {
        return Err(ApiError::new(
            ErrorKind::S3AccessDenied,
            format!(
                "User: {} is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::{bucket}\" because public policies are blocked by the BlockPublicPolicy block public access setting.",
                ctx.principal.arn()
            ),
        ));
    }
    Ok(())
}

/// Condition keys whose fixed value makes a grant non-public (S3's "meaning of public":
/// the `PublicAccessBlockConfiguration` reference lists them).
const FIXING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",
];

fn values(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_fixed(s: &str) -> bool {
    !s.contains(['*', '?', '$'])
}

/// Whether a principal element reaches everyone (`*`, `{"AWS": "*"}` or a wildcard ARN).
fn principal_is_public(p: &Value) -> bool {
    match p {
        Value::String(s) => !is_fixed(s),
        Value::Object(m) => m.values().any(|v| values(v).iter().any(|s| !is_fixed(s))),
        _ => false,
    }
}

/// Whether a condition block pins the grant to fixed values S3 accepts as non-public:
/// `aws:SourceIp` limited to CIDRs (not the whole address space), or a fixed value of one of
/// [`FIXING_KEYS`] (`aws:userid` outside the `AROLEID:*` pattern) under an operator that
/// requires a match (`StringEquals`, `ArnEquals`, `StringLike`/`ArnLike` without wildcards,
/// `IpAddress`; not the negated or `…IfExists` forms).
fn condition_restricts(cond: &Value) -> bool {
    let Some(ops) = cond.as_object() else {
        return false;
    };
    ops.iter().any(|(op, block)| {
        let op = op.strip_prefix("ForAnyValue:").unwrap_or(op);
        let op = op.strip_prefix("ForAllValues:").unwrap_or(op);
        if op.ends_with("IfExists") || op.contains("Not") {
            return false;
        }
        let Some(block) = block.as_object() else {
            return false;
        };
        block.iter().any(|(key, v)| {
            let key = key.to_ascii_lowercase();
            let vals = values(v);
            if vals.is_empty() {
                return false;
            }
            if op == "IpAddress" {
                return key == "aws:sourceip"
                    && vals.iter().all(|c| *c != "0.0.0.0/0" && *c != "::/0");
            }
            let matching = matches!(
                op,
                "StringEquals" | "StringEqualsIgnoreCase" | "ArnEquals" | "StringLike" | "ArnLike"
            );
            matching
                && FIXING_KEYS.contains(&key.as_str())
                && vals
                    .iter()
                    .all(|s| is_fixed(s) && !(key == "aws:userid" && s.starts_with("AROA")))
        })
    })
}

/// Whether S3 would call a bucket policy public: some `Allow` statement grants to everyone
/// (a `*` principal, a wildcard ARN, or any `NotPrincipal`) without a condition that pins
/// it to fixed values (see [`condition_restricts`]).
pub fn is_public_policy(doc: &Value) -> bool {
    let statements = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return false,
    };
    statements.into_iter().any(|st| {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            return false;
        }
        let everyone = st.get("NotPrincipal").is_some()
            || st.get("Principal").is_some_and(principal_is_public);
        everyone && !st.get("Condition").is_some_and(condition_restricts)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn public(st: Value) -> bool {
        is_public_policy(&json!({"Version": "2012-10-17", "Statement": [st]}))
    }

    #[test]
    fn a_wildcard_principal_without_a_pinning_condition_is_public() {
        let base = json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        assert!(public(base.clone()));
        let mut aws_star = base.clone();
        aws_star["Principal"] = json!({"AWS": "*"});
        assert!(public(aws_star));
        let mut list = base.clone();
        list["Principal"] = json!({"AWS": ["arn:aws:iam::111122223333:root", "*"]});
        assert!(public(list));
        let mut wildcard_arn = base.clone();
        wildcard_arn["Principal"] = json!({"AWS": "arn:aws:iam::*:root"});
        assert!(public(wildcard_arn));
        let mut not_principal = base.clone();
        not_principal.as_object_mut().unwrap().remove("Principal");
        not_principal["NotPrincipal"] = json!({"AWS": "arn:aws:iam::111122223333:root"});
        assert!(public(not_principal));
        for cond in [
            json!({"StringNotEquals": {"aws:SourceAccount": "111122223333"}}),
            json!({"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}),
            json!({"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}}),
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            json!({"StringLike": {"aws:userid": "AROAEXAMPLE:*"}}),
        ] {
            let mut st = base.clone();
            st["Condition"] = cond.clone();
            assert!(public(st), "{cond}");
        }
    }

    #[test]
    fn fixed_principals_denies_and_pinned_grants_are_not_public() {
        assert!(!public(
            json!({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"})
        ));
        assert!(!public(
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": "arn:aws:s3:::b"})
        ));
        assert!(!public(
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"})
        ));
        for cond in [
            json!({"StringEquals": {"aws:SourceAccount": "111122223333"}}),
            json!({"ArnEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}}),
            json!({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.7/32"]}}),
            json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
        ] {
            let st = json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": cond});
            assert!(!public(st), "{cond}");
        }
    }
}
