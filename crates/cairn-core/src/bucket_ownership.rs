//! A bucket's object-ownership controls (Put/Get/DeleteBucketOwnershipControls). Cairn keeps
//! no object ACLs but the bucket owner's, which is S3's `BucketOwnerEnforced`: every bucket has
//! that setting, PutBucketOwnershipControls may ask for it again (Terraform and CDK do), and
//! the ACL-keeping settings (`ObjectWriter`, `BucketOwnerPreferred`) are `NotImplemented`
//! rather than stored and ignored. DeleteBucketOwnershipControls removes the setting as S3
//! does (GetBucketOwnershipControls is then `OwnershipControlsNotFoundError`); the bucket still
//! keeps no ACLs, which is what `BucketOwnerEnforced` promised.

use cairn_store::Connection;
use cairn_store::buckets;

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The one object ownership Cairn serves.
pub const BUCKET_OWNER_ENFORCED: &str = "BucketOwnerEnforced";

/// PutBucketOwnershipControls with the `ObjectOwnership` of each rule.
pub fn put(conn: &Connection, ctx: &CallContext, bucket: &str, rules: &[String]) -> ApiResult<()> {
    crate::buckets::owned(conn, ctx, bucket)?;
    match rules {
        [one] if one == BUCKET_OWNER_ENFORCED => {}
        [one] if one == "ObjectWriter" || one == "BucketOwnerPreferred" => {
            return Err(ApiError::new(
                ErrorKind::S3NotImplemented,
                format!(
                    "Cairn keeps no object ACLs, so it serves only the BucketOwnerEnforced object ownership, not {one}"
                ),
            ));
        }
        _ => {
            return Err(ApiError::new(
                ErrorKind::S3MalformedXml,
                "The XML you provided was not well-formed or did not validate against our published schema.",
            ));
        }
    }
    buckets::set_ownership_controls_deleted(conn, bucket, false)?;
    Ok(())
}

/// GetBucketOwnershipControls: the bucket's object ownership.
pub fn get(conn: &Connection, ctx: &CallContext, bucket: &str) -> ApiResult<&'static str> {
    crate::buckets::owned(conn, ctx, bucket)?;
    if buckets::ownership_controls_deleted(conn, bucket)? {
        return Err(ApiError::new(
            ErrorKind::S3OwnershipControlsNotFound,
            "The bucket ownership controls were not found",
        ));
    }
    Ok(BUCKET_OWNER_ENFORCED)
}

/// DeleteBucketOwnershipControls.
pub fn delete(conn: &Connection, ctx: &CallContext, bucket: &str) -> ApiResult<()> {
    crate::buckets::owned(conn, ctx, bucket)?;
    buckets::set_ownership_controls_deleted(conn, bucket, true)?;
    Ok(())
}
