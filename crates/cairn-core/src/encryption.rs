//! Bucket default encryption (Put/Get/DeleteBucketEncryption), and how S3 seals a new
//! object. Since 2023-01-05 every S3 bucket encrypts new objects with SSE-S3 (`AES256`) unless
//! configured otherwise, so a bucket that was never configured, or whose configuration was
//! deleted, answers that default rule. Configurations name `AES256` or `aws:kms` (with an
//! optional key, resolved by KMS when an object is written).
//!
//! Every write that creates an object (PutObject, CopyObject, CreateMultipartUpload, and
//! CloudTrail delivering a file to a bucket) decides its sealing here, in one place:
//! [`sealing_for_write`] takes the request's encryption headers, or else the bucket's default
//! rule (a copy does not inherit its source's encryption, as on S3), and [`data_key_for`] asks
//! KMS for the object's data key as the writer (a caller via S3, or a service principal).

use cairn_store::Connection;
use serde::{Deserialize, Serialize};

use crate::CallContext;
use crate::bucket_key::Held;
use crate::buckets::owned;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::kms::internal::Actor;
use crate::kms::{EncryptionContext, MasterKey, Secret};
use crate::objects::ObjectMeta;
use crate::record::PreparedEvent;
use crate::sse::{KmsAccess, SseKms};

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

/// The encryption headers of a write: `x-amz-server-side-encryption`,
/// `…-aws-kms-key-id`, `…-context` (base64 JSON) and `…-bucket-key-enabled`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requested {
    /// `x-amz-server-side-encryption`.
    pub algorithm: Option<String>,
    /// `x-amz-server-side-encryption-aws-kms-key-id`.
    pub kms_key_id: Option<String>,
    /// `x-amz-server-side-encryption-context`, as sent.
    pub context: Option<String>,
    /// `x-amz-server-side-encryption-bucket-key-enabled`.
    pub bucket_key: Option<bool>,
}

impl Requested {
    /// Whether the request carries any encryption header.
    pub fn is_empty(&self) -> bool {
        self.algorithm.is_none()
            && self.kms_key_id.is_none()
            && self.context.is_none()
            && self.bucket_key.is_none()
    }
}

/// How S3 seals a new object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sealing {
    /// SSE-S3 (`AES256`).
    SseS3,
    /// SSE-KMS: a data key from KMS under `key_id` (the account's `alias/aws/s3` key when
    /// absent), bound to the caller's `context` plus the object ARN.
    Kms {
        /// The key as named (id, ARN, alias name or alias ARN).
        key_id: Option<String>,
        /// The caller's encryption context (without `aws:s3:arn`).
        context: EncryptionContext,
        /// Whether an S3 Bucket Key was asked for.
        bucket_key: bool,
    },
}

fn kms_header_without_kms() -> ApiError {
    ApiError::new(
        ErrorKind::S3InvalidArgument,
        "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
    )
}

/// Checks a write's encryption headers as S3 does and decides how the object is sealed: the
/// headers when sent, else `bucket`'s default rule (SSE-S3 when none is configured). A copy's
/// source encryption plays no part: S3 applies the request or the destination's default.
pub fn sealing_for_write(
    conn: &Connection,
    bucket: &str,
    requested: &Requested,
) -> ApiResult<Sealing> {
    let context = match requested.context.as_deref() {
        Some(v) => crate::sse::parse_context_header(v)?,
        None => EncryptionContext::new(),
    };
    match requested.algorithm.as_deref() {
        // Without its own Bucket Key header, a KMS write takes the bucket's setting ("If you
        // don't specify an S3 Bucket Key for your object, Amazon S3 applies the S3 Bucket Key
        // settings for the destination bucket", S3 User Guide).
        Some(AWS_KMS) => Ok(Sealing::Kms {
            key_id: requested.kms_key_id.clone(),
            context,
            bucket_key: match requested.bucket_key {
                Some(b) => b,
                None => kms_default_for_put(conn, bucket)?.is_some_and(|r| r.bucket_key_enabled),
            },
        }),
        Some(AWS_KMS_DSSE) => Err(ApiError::new(
            ErrorKind::S3NotImplemented,
            "A header you provided implies functionality that is not implemented.",
        )),
        Some(AES256) => {
            if requested.kms_key_id.is_some() || requested.context.is_some() {
                return Err(kms_header_without_kms());
            }
            Ok(Sealing::SseS3)
        }
        Some(_) => Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "The encryption method specified is not supported",
        )),
        None if requested.kms_key_id.is_some() || requested.context.is_some() => {
            Err(kms_header_without_kms())
        }
        None => Ok(match kms_default_for_put(conn, bucket)? {
            Some(rule) => Sealing::Kms {
                key_id: rule.kms_key_id,
                context,
                bucket_key: requested.bucket_key.unwrap_or(rule.bucket_key_enabled),
            },
            None => Sealing::SseS3,
        }),
    }
}

/// What a write's record says sealed it (`additionalEventData.SSEApplied`, S3 User Guide,
/// "Monitoring default encryption with CloudTrail"): `SSE_KMS` or `SSE_S3` when the request's
/// own `x-amz-server-side-encryption` header chose it (`by_header`), `Default_SSE_KMS` or
/// `Default_SSE_S3` when the bucket's default did (kms5).
pub fn sse_applied(by_header: bool, sealing: &Sealing) -> &'static str {
    match (by_header, matches!(sealing, Sealing::Kms { .. })) {
        (true, true) => "SSE_KMS",
        (true, false) => "SSE_S3",
        (false, true) => "Default_SSE_KMS",
        (false, false) => "Default_SSE_S3",
    }
}

/// How an SSE-S3 object's bytes are sealed at rest: frames under a data key of its own,
/// stored wrapped by Cairn's master key (the operator's key, outside the data dir) and bound
/// to the object's ARN. No KMS key and no KMS call are involved, as on S3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SseS3 {
    /// The wrapped data key, hex.
    pub data_key: String,
}

/// A new object's sealing, as recorded with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seal {
    /// SSE-KMS.
    Kms(SseKms),
    /// SSE-S3.
    S3(SseS3),
}

impl ObjectMeta {
    /// Records how the object's bytes are sealed.
    pub fn sealed(mut self, seal: Option<Seal>) -> Self {
        (self.sse_kms, self.sse_s3) = match seal {
            Some(Seal::Kms(k)) => (Some(k), None),
            Some(Seal::S3(s)) => (None, Some(s)),
            None => (None, None),
        };
        self
    }

    /// Whether the object's bytes are stored sealed.
    pub fn is_sealed(&self) -> bool {
        self.sse_kms.is_some() || self.sse_s3.is_some()
    }
}

fn sse_s3_aad(bucket: &str, key: &str) -> Vec<u8> {
    format!("cairn-sse-s3/v1\0arn:aws:s3:::{bucket}/{key}").into_bytes()
}

fn sealing_fault() -> ApiError {
    ApiError::new(ErrorKind::Internal, "object key material is unusable")
}

/// A new SSE-S3 data key for `bucket`/`key`, and its record.
pub fn new_sse_s3_key(master: &MasterKey, bucket: &str, key: &str) -> ApiResult<(Secret, SseS3)> {
    let dk = cairn_crypto::random_secret(32).map_err(|_| sealing_fault())?;
    let wrapped = master
        .wrap(dk.expose(), &sse_s3_aad(bucket, key))
        .map_err(|_| sealing_fault())?;
    Ok((
        dk,
        SseS3 {
            data_key: hex::encode(wrapped),
        },
    ))
}

/// Opens an SSE-S3 object's data key (a data dir read with another master key does not open).
pub fn open_sse_s3_key(
    master: &MasterKey,
    sse: &SseS3,
    bucket: &str,
    key: &str,
) -> ApiResult<Secret> {
    let wrapped = hex::decode(&sse.data_key).map_err(|_| sealing_fault())?;
    master
        .unwrap(&wrapped, &sse_s3_aad(bucket, key))
        .map_err(|_| {
            tracing::error!(
                bucket,
                key,
                "an SSE-S3 data key does not open under this master key"
            );
            sealing_fault()
        })
}

/// Rewraps the SSE-S3 data key of every object and multipart upload from `old` to `new`
/// (master-key rotation, in the caller's transaction); returns how many. Only the wrapped
/// key changes: the object's bytes and the rest of its metadata stay as they are.
pub fn rewrap_sse_s3_keys(conn: &Connection, old: &MasterKey, new: &MasterKey) -> ApiResult<usize> {
    const PAGE: usize = 1000;
    let rewrap = |row: &mut cairn_store::objects::MetaRow| -> ApiResult<bool> {
        let mut meta: serde_json::Value =
            serde_json::from_str(&row.meta).map_err(|_| sealing_fault())?;
        let Some(wrapped) = meta
            .get("sse_s3")
            .and_then(|s| s.get("data_key"))
            .and_then(|k| k.as_str())
        else {
            return Ok(false);
        };
        let aad = sse_s3_aad(&row.bucket, &row.key);
        let plain = hex::decode(wrapped)
            .ok()
            .and_then(|w| old.unwrap(&w, &aad).ok())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::Validation,
                    format!(
                        "the SSE-S3 data key of s3://{}/{} does not open under the old master key",
                        row.bucket, row.key
                    ),
                )
            })?;
        let rewrapped = new
            .wrap(plain.expose(), &aad)
            .map_err(|_| sealing_fault())?;
        meta["sse_s3"]["data_key"] = serde_json::Value::String(hex::encode(rewrapped));
        row.meta = meta.to_string();
        Ok(true)
    };
    let mut count = 0;
    for mut row in cairn_store::objects::upload_metas_containing(conn, "\"sse_s3\"")? {
        if rewrap(&mut row)? {
            cairn_store::objects::set_meta(conn, &row)?;
            count += 1;
        }
    }
    let mut after: Option<(String, String)> = None;
    loop {
        let page = cairn_store::objects::object_metas_containing(
            conn,
            "\"sse_s3\"",
            after.as_ref().map(|(b, k)| (b.as_str(), k.as_str())),
            PAGE,
        )?;
        for mut row in page.iter().cloned() {
            if rewrap(&mut row)? {
                cairn_store::objects::set_meta(conn, &row)?;
                count += 1;
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE => {
                after = Some((last.bucket.clone(), last.key.clone()))
            }
            _ => return Ok(count),
        }
    }
}

/// The data key of a new object sealed as `sealing` says, and the KMS event to append in the
/// same transaction. SSE-KMS asks KMS as `writer` (a caller through S3: `Actor::Via`; a
/// service principal writing to a bucket: `Actor::Service`); failures are S3's
/// `KMS.`-prefixed errors. SSE-S3 makes a data key wrapped by the master key (no event).
pub fn data_key_for(
    conn: &Connection,
    kms: KmsAccess<'_>,
    writer: Actor<'_>,
    sealing: &Sealing,
    bucket: &str,
    key: &str,
) -> (ApiResult<Option<(Secret, Seal)>>, Option<PreparedEvent>) {
    let Sealing::Kms { bucket_key, .. } = sealing else {
        let made = new_sse_s3_key(kms.master, bucket, key).map(|(k, s)| Some((k, Seal::S3(s))));
        return (made, None);
    };
    if *bucket_key {
        // No bucket key at hand: a new one, used for this object only.
        let (held, event) = bucket_key_for(conn, kms, writer, sealing, bucket);
        return (held.and_then(|h| h.seal_object()).map(Some), event);
    }
    let (made, event) = kms_key_for(conn, kms, writer, sealing, bucket, Some(key));
    (
        made.map(|(plaintext, sse)| Some((plaintext, Seal::Kms(sse)))),
        event,
    )
}

/// A new S3 Bucket Key for `bucket` from KMS, as `writer` (S3's `GenerateDataKey` with the
/// bucket ARN in the context), for a write sealed as `sealing` says (SSE-KMS with a Bucket
/// Key), and the KMS event to append either way. The caller keeps it
/// ([`crate::bucket_key::BucketKeys`]) and seals objects with [`Held::seal_object`].
pub fn bucket_key_for(
    conn: &Connection,
    kms: KmsAccess<'_>,
    writer: Actor<'_>,
    sealing: &Sealing,
    bucket: &str,
) -> (ApiResult<Held>, Option<PreparedEvent>) {
    let (made, event) = kms_key_for(conn, kms, writer, sealing, bucket, None);
    (made.map(|(plaintext, sse)| Held { sse, plaintext }), event)
}

/// A key from KMS for an SSE-KMS `sealing`, as `writer`: an object's own data key
/// (`Some(key)`), or (`None`) an S3 Bucket Key for `bucket`; its plaintext and how it is
/// stored, and the KMS event to append either way.
fn kms_key_for(
    conn: &Connection,
    kms: KmsAccess<'_>,
    writer: Actor<'_>,
    sealing: &Sealing,
    bucket: &str,
    key: Option<&str>,
) -> (ApiResult<(Secret, SseKms)>, Option<PreparedEvent>) {
    let Sealing::Kms {
        key_id, context, ..
    } = sealing
    else {
        return (
            Err(ApiError::new(ErrorKind::Internal, "not an SSE-KMS sealing")),
            None,
        );
    };
    let (made, event) = crate::sse::data_key_for_writer(
        conn,
        kms,
        writer,
        key_id.as_deref(),
        context.clone(),
        bucket,
        key,
    );
    let made = made.map(|(dk, context)| {
        let sse = SseKms {
            key_arn: dk.key_arn,
            data_key: hex::encode(&dk.ciphertext),
            context,
            bucket_key: key.is_none(),
            bucket_key_salt: None,
        };
        (dk.plaintext, sse)
    });
    (made, event)
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

    fn headers(algorithm: Option<&str>, key: Option<&str>) -> Requested {
        Requested {
            algorithm: algorithm.map(str::to_owned),
            kms_key_id: key.map(str::to_owned),
            ..Default::default()
        }
    }

    #[test]
    fn headers_decide_the_sealing_before_the_bucket_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = cairn_store::Store::open(&dir.path().join("cairn.db")).unwrap();
        let sealing = |r: Requested| {
            store
                .read_blocking(move |c| Ok(sealing_for_write(c, "b", &r)))
                .unwrap()
        };
        assert_eq!(sealing(Requested::default()).unwrap(), Sealing::SseS3);
        assert_eq!(
            sealing(headers(Some(AES256), None)).unwrap(),
            Sealing::SseS3
        );
        assert_eq!(
            sealing(headers(Some(AWS_KMS), Some("alias/k"))).unwrap(),
            Sealing::Kms {
                key_id: Some("alias/k".into()),
                context: EncryptionContext::new(),
                bucket_key: false
            }
        );
        let kind = |r| sealing(r).unwrap_err().kind;
        assert_eq!(
            kind(headers(Some("DES"), None)),
            ErrorKind::S3InvalidArgument
        );
        assert_eq!(
            kind(headers(Some(AES256), Some("k"))),
            ErrorKind::S3InvalidArgument
        );
        assert_eq!(kind(headers(None, Some("k"))), ErrorKind::S3InvalidArgument);
        assert_eq!(
            kind(headers(Some(AWS_KMS_DSSE), None)),
            ErrorKind::S3NotImplemented
        );
        let bad_context = Requested {
            algorithm: Some(AWS_KMS.into()),
            context: Some("not base64 json".into()),
            ..Default::default()
        };
        assert_eq!(kind(bad_context), ErrorKind::S3InvalidArgument);
    }

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
