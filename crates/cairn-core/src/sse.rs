//! SSE-KMS for object bytes (spec iam-kms.md §8.3, §9.2): the per-object record of how an
//! object is sealed ([`SseKms`]), and the KMS calls other services make for it through
//! [`crate::kms::internal`]:
//!
//! - CloudTrail validating a trail's `KmsKeyId` ([`check_trail_key`]: resolve and DescribeKey
//!   as `cloudtrail.amazonaws.com`, then a probe `GenerateDataKey` with CloudTrail's context),
//!   and asking for one data key per delivered file ([`cloudtrail_data_key`]);
//! - S3 opening an object's data key for a reader ([`open_for_caller`]: `Decrypt` as the
//!   caller via `s3.amazonaws.com`, with the context stored with the object).
//!
//! Each returns the KMS event AWS records for the call (CloudTrail's own calls with the
//! service identity; S3's with the caller's identity and `invokedBy s3.amazonaws.com`), for
//! the caller to append in its transaction. The object bytes are sealed and opened with
//! `cairn_crypto::frames` under the data key.

use std::collections::BTreeMap;

pub use cairn_crypto::frames;

use cairn_model::trail::Trail;
use cairn_model::{AccountId, Region};
use cairn_store::Connection;
use serde::{Deserialize, Serialize};

use crate::CallContext;
use crate::authz::Evaluator;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::kms::internal::{self, Actor, DataKey, InternalCall, ServiceCall};
use crate::kms::{EncryptionContext, MasterKey, Scope, Secret, ids};
use crate::record::PreparedEvent;

/// The service principal CloudTrail acts as.
pub const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

/// How an object's bytes are sealed: frames under a data key that KMS wrapped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SseKms {
    /// The KMS key's ARN (`x-amz-server-side-encryption-aws-kms-key-id` in responses).
    pub key_arn: String,
    /// The wrapped data key (KMS ciphertext blob), hex.
    pub data_key: String,
    /// The encryption context the data key is bound to.
    pub context: BTreeMap<String, String>,
    /// Whether an S3 Bucket Key was asked for.
    #[serde(default)]
    pub bucket_key: bool,
    /// With an S3 Bucket Key: the object's salt (hex). `data_key` is then the wrapped
    /// *bucket* key, `context` holds the bucket ARN, and the object's data key is derived
    /// from the bucket key and this salt ([`frames::bucket_object_key`]). Absent for objects
    /// sealed under a data key of their own (and for those written before Bucket Keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_key_salt: Option<String>,
}

impl SseKms {
    /// The object's data key from what KMS opened for it: the data key itself, or (Bucket
    /// Key) the key derived from the bucket key and the object's salt.
    pub fn object_key(&self, opened: Secret) -> ApiResult<Secret> {
        let Some(salt) = &self.bucket_key_salt else {
            return Ok(opened);
        };
        let salt = hex::decode(salt)
            .ok()
            .filter(|s| s.len() == frames::PIECE_SALT_LEN)
            .ok_or_else(|| ApiError::new(ErrorKind::Internal, "object key material is unusable"))?;
        Ok(frames::bucket_object_key(opened.expose(), &salt))
    }
}

/// What the KMS calls need: the master key and the policy evaluator.
#[derive(Clone, Copy)]
pub struct KmsAccess<'a> {
    /// The operator's master key.
    pub master: &'a MasterKey,
    /// The policy evaluator.
    pub evaluator: &'a dyn Evaluator,
}

/// The KMS API error code of a failure, for the KMS event of an internal call (the same
/// names the edge's KMS mapping answers).
pub fn kms_code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::AccessDenied => "AccessDenied",
        ErrorKind::KmsNotFound => "NotFoundException",
        ErrorKind::KmsDisabled => "DisabledException",
        ErrorKind::KmsInvalidState => "KMSInvalidStateException",
        ErrorKind::KmsInvalidCiphertext => "InvalidCiphertextException",
        ErrorKind::KmsIncorrectKey => "IncorrectKeyException",
        ErrorKind::KmsInvalidArn => "InvalidArnException",
        ErrorKind::Validation => "ValidationException",
        _ => "KMSInternalException",
    }
}

/// CloudTrail acting for a trail: `aws:SourceArn` the trail, `aws:SourceAccount` its account.
pub fn cloudtrail_call(
    trail_arn: &str,
    account: &str,
    region: &str,
    now: f64,
) -> ApiResult<ServiceCall> {
    service_call(CLOUDTRAIL, trail_arn, account, region, now)
}

/// A call `service` (its principal, e.g. `cloudwatch.amazonaws.com`) makes to KMS for the
/// resource `source_arn` of `account`, in `region`, at `now`.
pub fn service_call(
    service: &str,
    source_arn: &str,
    account: &str,
    region: &str,
    now: f64,
) -> ApiResult<ServiceCall> {
    let internal = |e: String| ApiError::new(ErrorKind::Internal, e);
    Ok(ServiceCall {
        service: service.to_owned(),
        account: AccountId::parse(account).map_err(internal)?,
        region: Region::parse(region).map_err(internal)?,
        now,
        source_arn: Some(source_arn.to_owned()),
        source_account: Some(account.to_owned()),
    })
}

/// CloudTrail's encryption context for an object it writes.
pub fn cloudtrail_context(trail_arn: &str, bucket: &str, key: &str) -> EncryptionContext {
    BTreeMap::from([
        ("aws:cloudtrail:arn".to_owned(), trail_arn.to_owned()),
        (
            "aws:s3:arn".to_owned(),
            format!("arn:aws:s3:::{bucket}/{key}"),
        ),
    ])
}

/// The KMS event of a call a service made to KMS (for `actor`), as CloudTrail records it.
pub(crate) fn kms_event(
    actor: &Actor<'_>,
    name: &str,
    key_id: &str,
    arn: Option<&str>,
    ctx: Option<&EncryptionContext>,
    material: Option<&str>,
    error: Option<&ApiError>,
) -> PreparedEvent {
    let code = error.map(|e| kms_code(e.kind));
    internal::internal_event(
        actor,
        &InternalCall {
            event_name: name,
            key_id: Some(key_id),
            key_arn: arn,
            context: ctx,
            key_spec: (name == "GenerateDataKey").then_some("AES_256"),
            key_material_id: material,
            error: code.zip(error.map(|e| e.message.as_str())),
        },
    )
}

/// The region CloudTrail asks KMS in for a trail writing to `bucket`: the bucket's (AWS
/// resolves a trail's key where its bucket is, and refuses a key of another region with
/// `KmsKeyNotFoundException`), else `home` for a bucket Cairn does not hold.
pub fn trail_key_region(conn: &Connection, bucket: &str, home: &str) -> ApiResult<String> {
    Ok(cairn_store::buckets::get(conn, bucket)?.map_or_else(|| home.to_owned(), |b| b.region))
}

/// The refusal of a trail key that is not in the trail bucket's region.
fn key_not_found(given: &str) -> ApiError {
    ApiError::new(
        ErrorKind::TrailKmsKeyNotFound,
        format!("KMS key not found: {given}"),
    )
}

/// Refuses a stored trail key (an ARN) that is not in the region of the trail's bucket, as
/// after an UpdateTrail moving the trail to a bucket of another region.
pub fn check_trail_key_region(conn: &Connection, trail: &Trail, key_arn: &str) -> ApiResult<()> {
    let region = trail_key_region(conn, &trail.s3_bucket_name, &trail.home_region)?;
    match key_arn.split(':').nth(3) {
        Some(r) if r != region => Err(key_not_found(key_arn)),
        _ => Ok(()),
    }
}

/// CreateTrail/UpdateTrail's check of `KmsKeyId` (`given` as the request gave it, already
/// past the syntax check), spec §9.2 steps 2–4, as `cloudtrail.amazonaws.com` for `trail`,
/// in the region of the trail's bucket. Appends the probe's `GenerateDataKey` event and
/// returns the key ARN to store. The probe asks with the context the trail's deliveries will
/// use: CloudTrail's for its own key (`bucket_key` false), S3's for a bucket default that
/// seals with an S3 Bucket Key (`bucket_key` true: only `aws:s3:arn`, the bucket's ARN), so
/// a key policy that allows one and not the other is refused here rather than making a
/// trail that never delivers (kms5).
pub fn check_trail_key(
    conn: &Connection,
    kms: KmsAccess<'_>,
    trail: &Trail,
    given: &str,
    now: f64,
    bucket_key: bool,
) -> ApiResult<String> {
    let arn = trail.arn();
    let region = trail_key_region(conn, &trail.s3_bucket_name, &trail.home_region)?;
    let call = cloudtrail_call(&arn, &trail.account, &region, now)?;
    let actor = Actor::Service(&call);
    let scope = Scope {
        account: trail.account.clone(),
        region,
    };
    let target = ids::resolve(conn, &scope, given, true).map_err(|e| match e.kind {
        ErrorKind::KmsNotFound | ErrorKind::KmsInvalidArn => key_not_found(given),
        _ => e,
    })?;
    let key_arn = target.key.arn.clone();
    let bucket = &trail.s3_bucket_name;
    let insufficient = || {
        ApiError::new(
            ErrorKind::InsufficientEncryptionPolicy,
            format!("Insufficient permissions to access S3 bucket {bucket} or KMS key {key_arn}."),
        )
    };
    let unusable = |e: ApiError| match e.kind {
        ErrorKind::AccessDenied => insufficient(),
        ErrorKind::KmsDisabled | ErrorKind::KmsInvalidState => {
            ApiError::new(ErrorKind::TrailKms, e.message)
        }
        _ => e,
    };
    // CloudTrail describes its own key; a bucket default's key is S3's to use, and delivery
    // asks it for data keys only, so only that is checked (recheck28: DescribeKey was required
    // of a key policy that allowed exactly what delivery needs).
    let (key_state, meta_arn) = if bucket_key {
        (target.key.state.clone(), target.key.arn.clone())
    } else {
        let meta = internal::describe_key(conn, kms.evaluator, &actor, given).map_err(unusable)?;
        (meta.state, meta.arn)
    };
    let state = match key_state.as_str() {
        crate::kms::ENABLED => None,
        crate::kms::PENDING_DELETION => Some("pending deletion"),
        crate::kms::DISABLED => Some("disabled"),
        other => Some(other),
    };
    if let Some(state) = state {
        return Err(ApiError::new(
            ErrorKind::TrailKms,
            format!("{} is {state}.", meta_arn),
        ));
    }
    let prefix = match trail.s3_key_prefix.as_deref() {
        Some(p) if !p.is_empty() => format!("{p}/"),
        _ => String::new(),
    };
    let context = if bucket_key {
        EncryptionContext::from([("aws:s3:arn".to_owned(), format!("arn:aws:s3:::{bucket}"))])
    } else {
        cloudtrail_context(&arn, bucket, &format!("{prefix}AWSLogs/{}/", trail.account))
    };
    let dk =
        internal::generate_data_key(conn, kms.master, kms.evaluator, &actor, given, &context, 32)
            .map_err(unusable)?;
    let ev = kms_event(
        &actor,
        "GenerateDataKey",
        given,
        Some(&dk.key_arn),
        Some(&context),
        Some(&dk.key_material_id),
        None,
    );
    crate::record::append(conn, &ev)?;
    Ok(key_arn)
}

/// One data key for a file CloudTrail delivers, bound to CloudTrail's context for it, and
/// the KMS event of the call (success or failure) to append.
#[allow(clippy::too_many_arguments)]
pub fn cloudtrail_data_key(
    conn: &Connection,
    kms: KmsAccess<'_>,
    trail_arn: &str,
    account: &str,
    region: &str,
    key_arn: &str,
    bucket: &str,
    object_key: &str,
    now: f64,
) -> (
    ApiResult<(DataKey, EncryptionContext)>,
    Option<PreparedEvent>,
) {
    let call = match cloudtrail_call(trail_arn, account, region, now) {
        Ok(c) => c,
        Err(e) => return (Err(e), None),
    };
    let actor = Actor::Service(&call);
    let context = cloudtrail_context(trail_arn, bucket, object_key);
    let made = internal::generate_data_key(
        conn,
        kms.master,
        kms.evaluator,
        &actor,
        key_arn,
        &context,
        32,
    );
    let ev = match &made {
        Ok(dk) => kms_event(
            &actor,
            "GenerateDataKey",
            key_arn,
            Some(&dk.key_arn),
            Some(&context),
            Some(&dk.key_material_id),
            None,
        ),
        Err(e) => kms_event(
            &actor,
            "GenerateDataKey",
            key_arn,
            Some(key_arn),
            Some(&context),
            None,
            Some(e),
        ),
    };
    (made.map(|dk| (dk, context)), Some(ev))
}

/// Opens an object's data key for the caller reading it (S3 calls `Decrypt` as the caller,
/// via `s3.amazonaws.com`, with the stored context). Errors are S3's: `AccessDenied` with
/// KMS's message, `KMS.DisabledException`, `KMS.KMSInvalidStateException`,
/// `KMS.NotFoundException`. Returns the KMS event to append, unless S3 refused the request
/// itself before asking KMS ([`asked_kms`]).
pub fn open_for_caller(
    conn: &Connection,
    kms: KmsAccess<'_>,
    ctx: &CallContext,
    sse: &SseKms,
) -> (ApiResult<Secret>, Option<PreparedEvent>) {
    let (opened, ev) = open_wrapped_for_caller(conn, kms, ctx, sse);
    (opened.and_then(|k| sse.object_key(k)), ev)
}

/// [`open_for_caller`] without the derivation: what KMS's `Decrypt` returned (the object's
/// data key, or its S3 Bucket Key, which a reader may keep for a while).
pub fn open_wrapped_for_caller(
    conn: &Connection,
    kms: KmsAccess<'_>,
    ctx: &CallContext,
    sse: &SseKms,
) -> (ApiResult<Secret>, Option<PreparedEvent>) {
    let actor = Actor::Via { ctx, service: "s3" };
    let blob = hex::decode(&sse.data_key).unwrap_or_default();
    let opened = internal::decrypt(
        conn,
        kms.master,
        kms.evaluator,
        &actor,
        &blob,
        &sse.context,
        None,
    );
    let ev = match &opened {
        Ok(d) => kms_event(
            &actor,
            "Decrypt",
            &sse.key_arn,
            Some(&d.key_arn),
            Some(&sse.context),
            Some(&d.key_material_id),
            None,
        ),
        Err(e) => kms_event(
            &actor,
            "Decrypt",
            &sse.key_arn,
            Some(&sse.key_arn),
            Some(&sse.context),
            None,
            Some(e),
        ),
    };
    let asked = opened.as_ref().err().is_none_or(asked_kms);
    (
        opened.map(|d| d.plaintext).map_err(s3_error),
        asked.then_some(ev),
    )
}

/// Whether a call's failure came from KMS, so KMS records it. S3 refuses a SigV2-signed
/// request under an SSE-KMS key itself (`InvalidArgument`) before it asks KMS: no KMS call
/// was made, and none is recorded (kms5: it was recorded as a KMS `Decrypt` that failed with
/// `KMSInternalException`, attributed to the caller).
fn asked_kms(e: &ApiError) -> bool {
    e.kind != ErrorKind::S3InvalidArgument
}

/// A KMS failure as S3 answers it.
pub fn s3_error(e: ApiError) -> ApiError {
    let kind = match e.kind {
        ErrorKind::KmsDisabled => ErrorKind::S3KmsDisabled,
        ErrorKind::KmsInvalidState => ErrorKind::S3KmsInvalidState,
        ErrorKind::KmsNotFound => ErrorKind::S3KmsNotFound,
        ErrorKind::AccessDenied => ErrorKind::S3AccessDenied,
        ErrorKind::KmsInvalidCiphertext => ErrorKind::Internal,
        other => other,
    };
    ApiError::new(kind, e.message)
}

/// A data key S3 seals with, for a write with `aws:kms` (S3 calls `GenerateDataKey` as the
/// writer: a caller via `s3.amazonaws.com`, or a service principal such as CloudTrail writing
/// to a bucket whose default rule is `aws:kms`): under `key_id`, or the account's
/// `alias/aws/s3` key (created on first use) without one, bound to the writer's context plus
/// `aws:s3:arn`. That ARN is the object's (`bucket`/`key`) for an object's own data key, or
/// the **bucket**'s (`key` `None`) for an S3 Bucket Key, as S3 asks KMS for it (and as
/// CloudTrail then records the call): the bucket key's plaintext is kept by S3 for a while and
/// each object's data key derived from it; the wrapped key is stored with every object.
/// Run on the writer. Returns the KMS event to append either way (none when the managed key
/// cannot be made). Callers decide the sealing with
/// [`crate::encryption::sealing_for_write`] and call this through
/// [`crate::encryption::data_key_for`] or [`crate::encryption::bucket_key_for`].
pub fn data_key_for_writer(
    conn: &Connection,
    kms: KmsAccess<'_>,
    actor: Actor<'_>,
    key_id: Option<&str>,
    mut context: EncryptionContext,
    bucket: &str,
    key: Option<&str>,
) -> (
    ApiResult<(DataKey, EncryptionContext)>,
    Option<PreparedEvent>,
) {
    let s3_arn = match key {
        Some(key) => format!("arn:aws:s3:::{bucket}/{key}"),
        None => format!("arn:aws:s3:::{bucket}"),
    };
    let key_id = match key_id {
        Some(k) => k.to_owned(),
        None => {
            let service_ctx;
            let ctx = match actor {
                Actor::Caller(c) | Actor::Via { ctx: c, .. } => c,
                Actor::Service(s) => {
                    service_ctx = s.context();
                    &service_ctx
                }
            };
            match crate::kms::aws_managed_key(conn, kms.master, ctx, "s3") {
                Ok(k) => k.arn,
                Err(e) => return (Err(s3_error(e)), None),
            }
        }
    };
    context.insert("aws:s3:arn".to_owned(), s3_arn);
    let made = internal::generate_data_key(
        conn,
        kms.master,
        kms.evaluator,
        &actor,
        &key_id,
        &context,
        32,
    );
    let ev = match &made {
        Ok(dk) => kms_event(
            &actor,
            "GenerateDataKey",
            &key_id,
            Some(&dk.key_arn),
            Some(&context),
            Some(&dk.key_material_id),
            None,
        ),
        Err(e) => kms_event(
            &actor,
            "GenerateDataKey",
            &key_id,
            // The key's ARN when the key exists, so a refusal is found by the key (kms5).
            internal::key_arn(conn, &actor, &key_id).as_deref(),
            Some(&context),
            None,
            Some(e),
        ),
    };
    let asked = made.as_ref().err().is_none_or(asked_kms);
    (
        made.map(|dk| (dk, context)).map_err(s3_error),
        asked.then_some(ev),
    )
}

/// Parses `x-amz-server-side-encryption-context` (base64 of a JSON object of strings).
pub fn parse_context_header(value: &str) -> ApiResult<EncryptionContext> {
    use base64::Engine;
    let bad = || {
        ApiError::new(
            ErrorKind::S3InvalidArgument,
            "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map",
        )
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| bad())?;
    serde_json::from_slice::<EncryptionContext>(&bytes).map_err(|_| bad())
}
