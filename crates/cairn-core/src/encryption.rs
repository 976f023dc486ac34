//! Bucket default encryption (Put/Get/DeleteBucketEncryption). Since 2023-01-05 every S3
//! bucket encrypts new objects with SSE-S3 (`AES256`) unless configured otherwise, so a
//! bucket that was never configured, or whose configuration was deleted, answers that
//! default rule. Configurations name `AES256` or `aws:kms` (with an optional key, validated
//! by the KMS service once Cairn has one).

use cairn_store::Connection;
use serde::{Deserialize, Serialize};

use crate::CallContext;
use crate::buckets::owned;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// `AES256` (SSE-S3).
pub const AES256: &str = "AES256";
/// `aws:kms` (SSE-KMS).
pub const AWS_KMS: &str = "aws:kms";
/// `aws:kms:dsse` (dual-layer SSE-KMS), which Cairn does not implement.
pub const AWS_KMS_DSSE: &str = "aws:kms:dsse";

/// One default-encryption rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// `SSEAlgorithm`.
    pub algorithm: String,
    /// `KMSMasterKeyID` (only with `aws:kms`).
    pub kms_key_id: Option<String>,
    /// `BucketKeyEnabled`.
    pub bucket_key_enabled: bool,
}

impl Rule {
    /// The rule a bucket has when none was configured.
    pub fn default_sse_s3() -> Self {
        Self {
            algorithm: AES256.to_owned(),
            kms_key_id: None,
            bucket_key_enabled: false,
        }
    }
}

fn malformed() -> ApiError {
    ApiError::new(
        ErrorKind::S3MalformedXml,
        "The XML you provided was not well-formed or did not validate against our published schema.",
    )
}

/// Checks a configuration as S3 does: exactly one rule, a known algorithm, a key only with
/// KMS.
pub fn validate(rules: &[Rule]) -> ApiResult<()> {
    let [rule] = rules else {
        return Err(malformed());
    };
    match rule.algorithm.as_str() {
        AES256 if rule.kms_key_id.is_some() => Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
        )),
        AES256 | AWS_KMS => Ok(()),
        AWS_KMS_DSSE => Err(ApiError::new(
            ErrorKind::S3NotImplemented,
            "A header you provided implies functionality that is not implemented.",
        )),
        _ => Err(malformed()),
    }
}

/// PutBucketEncryption.
pub fn put(conn: &Connection, ctx: &CallContext, bucket: &str, rules: &[Rule]) -> ApiResult<()> {
    owned(conn, ctx, bucket)?;
    validate(rules)?;
    let json = serde_json::to_string(&rules[0]).expect("rule serialises");
    cairn_store::encryption::set(conn, bucket, &json)?;
    Ok(())
}

/// GetBucketEncryption: the configured rule, or the SSE-S3 default.
pub fn get(conn: &Connection, ctx: &CallContext, bucket: &str) -> ApiResult<Rule> {
    owned(conn, ctx, bucket)?;
    Ok(cairn_store::encryption::get(conn, bucket)?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_else(Rule::default_sse_s3))
}

/// The SSE-KMS default a PutObject without encryption headers takes from its bucket: the
/// configured `aws:kms` rule, if any (an SSE-S3 rule or none leaves the object as written).
/// Authorization is the PutObject's own: this is part of that call, not a read of the
/// configuration.
pub fn kms_default_for_put(conn: &Connection, bucket: &str) -> ApiResult<Option<Rule>> {
    Ok(cairn_store::encryption::get(conn, bucket)?
        .and_then(|j| serde_json::from_str::<Rule>(&j).ok())
        .filter(|r| r.algorithm == AWS_KMS))
}

/// DeleteBucketEncryption: back to the SSE-S3 default.
pub fn delete(conn: &Connection, ctx: &CallContext, bucket: &str) -> ApiResult<()> {
    owned(conn, ctx, bucket)?;
    cairn_store::encryption::clear(conn, bucket)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(algorithm: &str, key: Option<&str>) -> Rule {
        Rule {
            algorithm: algorithm.into(),
            kms_key_id: key.map(str::to_owned),
            bucket_key_enabled: false,
        }
    }

    #[test]
    fn only_one_sse_s3_or_kms_rule_is_accepted() {
        assert!(validate(&[rule(AES256, None)]).is_ok());
        assert!(validate(&[rule(AWS_KMS, None)]).is_ok());
        assert!(validate(&[rule(AWS_KMS, Some("alias/logs"))]).is_ok());
        let kind = |r: &[Rule]| validate(r).unwrap_err().kind;
        assert_eq!(kind(&[]), ErrorKind::S3MalformedXml);
        assert_eq!(
            kind(&[rule(AES256, None), rule(AES256, None)]),
            ErrorKind::S3MalformedXml
        );
        assert_eq!(kind(&[rule("DES", None)]), ErrorKind::S3MalformedXml);
        assert_eq!(
            kind(&[rule(AES256, Some("k"))]),
            ErrorKind::S3InvalidArgument
        );
        assert_eq!(
            kind(&[rule(AWS_KMS_DSSE, None)]),
            ErrorKind::S3NotImplemented
        );
    }
}
