//! AWS KMS semantics (spec iam-kms.md §7): symmetric keys and their state machine, aliases,
//! key policies with the lockout safety check, tags, rotation, grants, and the cryptographic
//! operations, as plain functions over a store connection.
//!
//! Key material never reaches the store in the clear: each key generation's 32-byte backing
//! key is wrapped under the operator's [`MasterKey`] (`cairn-crypto`), and ciphertexts are
//! Cairn's own versioned blob bound to the key, generation and encryption context.
//!
//! Authorization is the caller's business for API calls (the edge's one choke point asks the
//! policy evaluator about the [`authz::KeyPermission`]s each operation needs, with grants
//! taken into account by [`authz::resolve_grants`]). Other Cairn services use [`internal`]:
//! it authorizes as the caller (with `kms:ViaService`) or as a service principal, runs the
//! operation, and builds the KMS event to record.
//!
//! | module | operations |
//! |---|---|
//! | [`keys`] | CreateKey, DescribeKey, ListKeys, Enable/DisableKey, Schedule/CancelKeyDeletion, UpdateKeyDescription, the deletion and rotation sweep |
//! | [`aliases`] | Create/Update/Delete/ListAliases, AWS managed keys (`alias/aws/<service>`) |
//! | [`policy`] | Get/PutKeyPolicy, ListKeyPolicies, validation and the lockout check |
//! | [`tags`] | TagResource, UntagResource, ListResourceTags |
//! | [`rotation`] | Enable/DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations |
//! | [`crypto`] | Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext), GenerateRandom |
//! | [`grants`] | CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant |
//! | [`admin`] | operator commands: reset a key policy, rotate the master key, check it |

pub mod admin;
pub mod aliases;
pub mod authz;
pub mod crypto;
pub mod grants;
pub mod ids;
pub mod internal;
pub mod keys;
pub mod last_usage;
mod paging;
pub mod policy;
pub mod rotation;
pub mod tags;

use std::collections::BTreeMap;

pub use cairn_crypto::{MasterKey, Secret, backing_key_aad, key_material_id};
pub use cairn_store::kms::KeyRow as Key;

pub use aliases::aws_managed_key;
pub use paging::{Page, page_limit};

use crate::context::CallContext;
use crate::error::{ApiError, ErrorKind};

/// An encryption context: string pairs, ordered by key (the canonical order).
pub type EncryptionContext = BTreeMap<String, String>;

/// The only key spec Cairn makes.
pub const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";
/// The only key usage Cairn makes.
pub const ENCRYPT_DECRYPT: &str = "ENCRYPT_DECRYPT";
/// The only origin Cairn supports.
pub const AWS_KMS: &str = "AWS_KMS";
/// State names.
pub const ENABLED: &str = "Enabled";
/// State names.
pub const DISABLED: &str = "Disabled";
/// State names.
pub const PENDING_DELETION: &str = "PendingDeletion";
/// `KeyManager` of customer keys.
pub const CUSTOMER: &str = "CUSTOMER";
/// `KeyManager` of AWS managed keys.
pub const AWS_MANAGED: &str = "AWS";

/// The account and region a call works in (keys are regional).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
}

impl Scope {
    /// The scope of a caller's request.
    pub fn of(ctx: &CallContext) -> Self {
        Self {
            account: ctx.account().to_string(),
            region: ctx.region.to_string(),
        }
    }
}

/// `KeyMetadata` of CreateKey and DescribeKey.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyMetadata {
    /// Owner.
    pub account: String,
    /// Key id.
    pub key_id: String,
    /// Key ARN.
    pub arn: String,
    /// Creation time.
    pub created: f64,
    /// `KeyState == Enabled`.
    pub enabled: bool,
    /// Description.
    pub description: String,
    /// Key usage.
    pub key_usage: String,
    /// State.
    pub state: String,
    /// When a pending deletion happens.
    pub deletion_date: Option<f64>,
    /// Pending window, days.
    pub pending_window: Option<i64>,
    /// Origin.
    pub origin: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: String,
    /// Key spec (also `CustomerMasterKeySpec`).
    pub key_spec: String,
    /// `["SYMMETRIC_DEFAULT"]`.
    pub encryption_algorithms: Vec<String>,
    /// Multi-Region key.
    pub multi_region: bool,
    /// The region of the key (the primary of a multi-Region key).
    pub region: String,
    /// `CurrentKeyMaterialId`.
    pub current_key_material_id: String,
}

/// The metadata of a key.
pub fn metadata(key: &Key) -> KeyMetadata {
    KeyMetadata {
        account: key.account.clone(),
        key_id: key.key_id.clone(),
        arn: key.arn.clone(),
        created: key.created,
        enabled: key.state == ENABLED,
        description: key.description.clone(),
        key_usage: key.key_usage.clone(),
        state: key.state.clone(),
        deletion_date: key.deletion_date,
        pending_window: key.pending_window,
        origin: key.origin.clone(),
        key_manager: key.key_manager.clone(),
        key_spec: key.key_spec.clone(),
        encryption_algorithms: vec![SYMMETRIC_DEFAULT.to_owned()],
        multi_region: key.multi_region,
        region: key.region.clone(),
        current_key_material_id: cairn_crypto::key_material_id(&key.arn, key.current_generation),
    }
}

pub(crate) fn err(kind: ErrorKind, message: impl Into<String>) -> ApiError {
    ApiError::new(kind, message)
}

/// `ValidationException` with the AWS model-constraint wording.
pub(crate) fn constraint(member: &str, value: &str, rule: &str) -> ApiError {
    let shown: String = value.chars().take(256).collect();
    err(
        ErrorKind::Validation,
        format!(
            "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: {rule}"
        ),
    )
}

/// Checks a string member's length (in characters) against the model.
pub(crate) fn check_len(member: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min {
        return Err(constraint(
            member,
            value,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(constraint(
            member,
            value,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Customer managed keys per account and region, and grants per key (KMS Developer Guide,
/// "Resource quotas").
pub const MAX_CUSTOMER_KEYS: i64 = 100_000;
pub const MAX_GRANTS_PER_KEY: i64 = 50_000;

/// KMS's `LimitExceededException` for a resource quota.
pub(crate) fn quota_exceeded() -> ApiError {
    err(
        ErrorKind::KmsLimitExceeded,
        "The request was rejected because a quota was exceeded. For more information, see Quotas in the Key Management Service Developer Guide.",
    )
}

/// A failure of the key-material layer: a server fault (bad master key, broken randomness).
pub(crate) fn material_fault(e: cairn_crypto::CryptoError) -> ApiError {
    tracing::error!(error = %e, "KMS key material failure");
    err(ErrorKind::Internal, "An internal error occurred.")
}

/// The error of using a key that is not enabled for a cryptographic operation.
pub(crate) fn not_usable(key: &Key) -> Option<ApiError> {
    match key.state.as_str() {
        ENABLED => None,
        DISABLED => Some(err(
            ErrorKind::KmsDisabled,
            format!("{} is disabled.", key.arn),
        )),
        PENDING_DELETION => Some(pending(key)),
        other => Some(err(
            ErrorKind::KmsInvalidState,
            format!("{} is {other}.", key.arn),
        )),
    }
}

/// AWS's answer to an operation of another key usage (Sign, Verify, GenerateMac, VerifyMac,
/// DeriveSharedSecret) on a symmetric encryption key, the only kind Cairn makes: the key's
/// state first (`DisabledException`, `KMSInvalidStateException`), then
/// `InvalidKeyUsageException` in AWS's words (outside tester kms4).
pub fn wrong_key_usage(key: &Key, operation: &str) -> ApiError {
    not_usable(key).unwrap_or_else(|| {
        err(
            ErrorKind::KmsInvalidKeyUsage,
            format!(
                "{} key usage is ENCRYPT_DECRYPT which is not valid for {operation}.",
                key.arn
            ),
        )
    })
}

/// `KMSInvalidStateException` for a key pending deletion.
pub(crate) fn pending(key: &Key) -> ApiError {
    err(
        ErrorKind::KmsInvalidState,
        format!("{} is pending deletion.", key.arn),
    )
}

/// Refuses an operation on a key pending deletion (most administrative operations).
pub(crate) fn not_pending(key: &Key) -> Result<(), ApiError> {
    if key.state == PENDING_DELETION {
        return Err(pending(key));
    }
    Ok(())
}

/// A new key id: a lowercase UUID v4 (or `mrk-` + 32 hex digits for multi-Region keys).
pub(crate) fn new_key_id(multi_region: bool) -> Result<String, ApiError> {
    let mut b = cairn_crypto::random_array::<16>().map_err(material_fault)?;
    if multi_region {
        return Ok(format!("mrk-{}", hex::encode(b)));
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

#[cfg(test)]
mod tests;
