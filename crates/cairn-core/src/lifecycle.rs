//! Bucket lifecycle configuration: `Expiration` rules (days, prefix) and the sweep that
//! applies them. The sweep takes its clock as an argument, so tests can run it "later".

use cairn_store::Connection;
use cairn_store::buckets;
use cairn_store::objects;
use serde::{Deserialize, Serialize};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::objects::require_bucket;

/// One expiration rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// `ID`.
    pub id: Option<String>,
    /// Key prefix the rule applies to (empty = whole bucket).
    pub prefix: String,
    /// Objects older than this many days expire.
    pub days: Option<i64>,
    /// `Status` is `Enabled`.
    pub enabled: bool,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::S3InvalidArgument, message)
}

/// PutBucketLifecycleConfiguration.
pub fn put(conn: &Connection, _ctx: &CallContext, bucket: &str, rules: &[Rule]) -> ApiResult<()> {
    require_bucket(conn, bucket)?;
    if rules.is_empty() || rules.len() > 1000 {
        return Err(invalid(
            "A lifecycle configuration must have 1 to 1000 rules.",
        ));
    }
    for r in rules {
        if r.days.is_some_and(|d| d < 1) {
            return Err(invalid(
                "'Days' for Expiration action must be a positive integer",
            ));
        }
        if r.id.as_deref().is_some_and(|id| id.len() > 255) {
            return Err(invalid("ID length should not exceed allowed limit of 255"));
        }
    }
    let json = serde_json::to_string(rules).expect("rules serialise");
    buckets::set_lifecycle(conn, bucket, Some(&json))?;
    Ok(())
}

/// GetBucketLifecycleConfiguration.
pub fn get(conn: &Connection, _ctx: &CallContext, bucket: &str) -> ApiResult<Vec<Rule>> {
    require_bucket(conn, bucket)?;
    buckets::lifecycle(conn, bucket)?
        .and_then(|j| serde_json::from_str(&j).ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::S3NoSuchLifecycleConfiguration,
                "The lifecycle configuration does not exist",
            )
        })
}

/// DeleteBucketLifecycle.
pub fn delete(conn: &Connection, _ctx: &CallContext, bucket: &str) -> ApiResult<()> {
    require_bucket(conn, bucket)?;
    buckets::set_lifecycle(conn, bucket, None)?;
    Ok(())
}

/// Expires every object due at `now` (epoch seconds). Returns the data files to delete
/// once the transaction has committed.
pub fn expire_due(conn: &Connection, now: f64) -> cairn_store::StoreResult<Vec<String>> {
    let mut files = Vec::new();
    for (bucket, json) in buckets::with_lifecycle(conn)? {
        let rules: Vec<Rule> = serde_json::from_str(&json).unwrap_or_default();
        for rule in rules.iter().filter(|r| r.enabled) {
            let Some(days) = rule.days else { continue };
            let cutoff = now - days as f64 * 86_400.0;
            for row in objects::older_than(conn, &bucket, &rule.prefix, cutoff)? {
                if let Some(file) = objects::delete(conn, &bucket, &row.key)? {
                    files.push(file);
                }
            }
        }
    }
    Ok(files)
}
