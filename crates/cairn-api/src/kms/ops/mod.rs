//! The KMS operation table. Each operation decodes its request into a [`Call`], which states
//! the permissions it needs (resolving key identifiers through the store) and runs through
//! `cairn_core::kms`. Operations Cairn does not implement answer
//! `UnsupportedOperationException` (and are recorded like every call).

mod aliases;
mod crypto;
mod grants;
mod key_pairs;
mod keys;
mod last_usage;
mod settings;

use std::sync::Arc;

use cairn_core::CallContext;
use cairn_core::authz::Evaluator;
use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_core::kms::authz::{Actor, KeyAction, KeyPermission, key_permission};
use cairn_core::kms::ids::{self, Target};
use cairn_core::kms::{Key, MasterKey, Scope};
use cairn_store::Connection;
use serde_json::Value;

/// What an operation runs with.
pub struct Env {
    /// The call.
    pub ctx: CallContext,
    /// The master key wrapping backing keys.
    pub master: Arc<MasterKey>,
    /// The policy evaluator (lockout check, grants).
    pub evaluator: Arc<dyn Evaluator>,
}

impl Env {
    /// The caller as a KMS actor.
    pub fn actor(&self) -> Actor<'_> {
        Actor::Caller(&self.ctx)
    }

    /// The call's account and region.
    pub fn scope(&self) -> Scope {
        Scope::of(&self.ctx)
    }

    /// Resolves a key identifier (`aliases`: whether alias forms are accepted).
    pub fn target(&self, conn: &Connection, id: &str, aliases: bool) -> ApiResult<Target> {
        ids::resolve(conn, &self.scope(), id, aliases)
    }

    /// A plain permission on a key (no context, no grant).
    pub fn on_key(
        &self,
        conn: &Connection,
        key: &Key,
        action: &str,
        extra: Vec<(String, Vec<String>)>,
    ) -> ApiResult<KeyPermission> {
        key_permission(
            conn,
            &self.actor(),
            key,
            KeyAction {
                action,
                extra,
                ..Default::default()
            },
        )
    }
}

/// What a successful operation answers and records.
#[derive(Clone, Debug, Default)]
pub struct Reply {
    /// The JSON response.
    pub body: Value,
    /// `responseElements` of the record (null unless the operation changes something).
    pub response_elements: Value,
    /// `additionalEventData`.
    pub additional: Option<Value>,
    /// Key ARNs the record names (besides those authorized).
    pub resources: Vec<String>,
}

impl Reply {
    /// An empty answer recorded with `responseElements.keyId`, the key's ARN (the KMS
    /// developer guide: records of key changes "on or after December 2022 include the key
    /// ARN of the affected KMS key in the `responseElements.keyId` value").
    pub fn keyed(key_arn: &str) -> Self {
        Self {
            body: serde_json::json!({}),
            response_elements: serde_json::json!({"keyId": key_arn}),
            ..Default::default()
        }
    }

    /// A reply recorded with null `responseElements`.
    pub fn body(body: Value) -> Self {
        Self {
            body,
            ..Default::default()
        }
    }
}

/// One decoded request.
pub trait Call: Send + Sync + 'static {
    /// The permissions the call needs.
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>>;
    /// Runs the call (after authorization).
    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply>;
}

type Parse = fn(&Value) -> ApiResult<Box<dyn Call>>;

/// An operation.
#[derive(Clone, Copy)]
pub struct Op {
    /// Decodes a request; `None` for an operation Cairn does not carry out ([`Unsupported`]).
    pub parse: Option<Parse>,
    /// The operation's name.
    pub name: &'static str,
    /// Whether it only reads (runs on a reader; `readOnly` in its record).
    pub read_only: bool,
}

/// Every KMS 2014-11-01 operation name.
pub const OPERATIONS: [&str; 56] = [
    "CancelKeyDeletion",
    "ConnectCustomKeyStore",
    "CreateAlias",
    "CreateCustomKeyStore",
    "CreateGrant",
    "CreateKey",
    "Decapsulate",
    "Decrypt",
    "DeleteAlias",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DescribeKey",
    "DisableKey",
    "DisableKeyRotation",
    "DisconnectCustomKeyStore",
    "EnableKey",
    "EnableKeyRotation",
    "Encapsulate",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyLastUsage",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListAliases",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListKeys",
    "ListResourceTags",
    "ListRetirableGrants",
    "PutKeyPolicy",
    "ReEncrypt",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "ScheduleKeyDeletion",
    "Sign",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCustomKeyStore",
    "UpdateKeyDescription",
    "UpdatePrimaryRegion",
    "Verify",
    "VerifyMac",
];

/// Operations recorded with `readOnly: true` (spec §7.9) and run on a reader.
fn is_read_only(name: &str) -> bool {
    matches!(
        name,
        "Encrypt"
            | "Decrypt"
            | "ReEncrypt"
            | "GenerateDataKey"
            | "GenerateDataKeyWithoutPlaintext"
            | "GenerateDataKeyPair"
            | "GenerateDataKeyPairWithoutPlaintext"
            | "GenerateRandom"
            | "GenerateMac"
            | "VerifyMac"
            | "Sign"
            | "Verify"
            | "DeriveSharedSecret"
            | "Encapsulate"
            | "Decapsulate"
    ) || ["Describe", "List", "Get"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// An operation Cairn does not carry out (Sign, GetPublicKey, the custom key stores, …): it
/// is authorized like any other, as `kms:<Operation>` on the key its `KeyId` names (under
/// the key policy) or on `*`, and recorded; then refused.
pub struct Unsupported {
    action: String,
    key_id: Option<String>,
}

/// The operations of other key usages. On a symmetric encryption key, the only kind Cairn
/// makes, AWS's answer is known (the key's state, then `InvalidKeyUsageException`), so they
/// give it rather than `UnsupportedOperationException`, which they do not have.
const OTHER_USAGES: [&str; 7] = [
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
];

impl Unsupported {
    /// The call `name` with `body`.
    fn new(name: &str, body: &Value) -> Self {
        Self {
            action: format!("kms:{name}"),
            key_id: body.get("KeyId").and_then(Value::as_str).map(str::to_owned),
        }
    }

    /// [`Unsupported::new`], after the checks of the blob members of the operations of other
    /// key usages, which the model rules leave out (blobs are never recorded): base64
    /// (`SerializationException`), then present and of the model's length
    /// (`ValidationException`), before the key is looked at, as AWS checks input first
    /// (recheck28: an empty or oversized message got `InvalidKeyUsageException`).
    pub fn parse(name: &str, body: &Value) -> Result<Self, ApiError> {
        let blobs: &[(&str, usize)] = match name {
            "Sign" | "GenerateMac" => &[("Message", 4096)],
            "Verify" => &[("Message", 4096), ("Signature", 6144)],
            "VerifyMac" => &[("Message", 4096), ("Mac", 6144)],
            "DeriveSharedSecret" => &[("PublicKey", 8192)],
            _ => &[],
        };
        for (member, max) in blobs {
            let bytes = crate::kms::input::blob(body, member)?;
            if bytes.is_empty() || bytes.len() > *max {
                let bound = if bytes.is_empty() {
                    "greater than or equal to 1".to_owned()
                } else {
                    format!("less than or equal to {max}")
                };
                return Err(ApiError::new(
                    ErrorKind::Validation,
                    format!(
                        "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length {bound}",
                        crate::wire::lower_first(member)
                    ),
                ));
            }
        }
        Ok(Self::new(name, body))
    }
}

impl Call for Unsupported {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let Some(id) = &self.key_id else {
            let any = cairn_core::authz::Permission::any(self.action.clone());
            return Ok(vec![KeyPermission::policy_only(any)]);
        };
        let t = env.target(conn, id, true)?;
        let action = KeyAction {
            action: &self.action,
            alias: t.alias.as_deref(),
            ..Default::default()
        };
        Ok(vec![key_permission(conn, &env.actor(), &t.key, action)?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let operation = self.action.trim_start_matches("kms:");
        if let (true, Some(id)) = (OTHER_USAGES.contains(&operation), &self.key_id) {
            let t = env.target(conn, id, true)?;
            return Err(cairn_core::kms::wrong_key_usage(&t.key, operation));
        }
        Err(ApiError::new(
            ErrorKind::UnsupportedOperation,
            "Cairn does not support this operation: it serves symmetric encryption keys in AWS KMS's own key store only.",
        ))
    }
}

/// The operation named `name`, if KMS has one.
pub fn find(name: &str) -> Option<Op> {
    let name = *OPERATIONS.iter().find(|o| **o == name)?;
    Some(Op {
        parse: served(name),
        name,
        read_only: is_read_only(name),
    })
}

fn served(name: &str) -> Option<Parse> {
    Some(match name {
        "CreateKey" => keys::create_key,
        "DescribeKey" => keys::describe_key,
        "ListKeys" => keys::list_keys,
        "EnableKey" => keys::enable_key,
        "DisableKey" => keys::disable_key,
        "ScheduleKeyDeletion" => keys::schedule_key_deletion,
        "CancelKeyDeletion" => keys::cancel_key_deletion,
        "UpdateKeyDescription" => keys::update_key_description,
        "CreateAlias" => aliases::create_alias,
        "UpdateAlias" => aliases::update_alias,
        "DeleteAlias" => aliases::delete_alias,
        "ListAliases" => aliases::list_aliases,
        "GetKeyPolicy" => settings::get_key_policy,
        "PutKeyPolicy" => settings::put_key_policy,
        "ListKeyPolicies" => settings::list_key_policies,
        "TagResource" => settings::tag_resource,
        "UntagResource" => settings::untag_resource,
        "ListResourceTags" => settings::list_resource_tags,
        "EnableKeyRotation" => settings::enable_key_rotation,
        "DisableKeyRotation" => settings::disable_key_rotation,
        "GetKeyRotationStatus" => settings::get_key_rotation_status,
        "GetKeyLastUsage" => last_usage::get_key_last_usage,
        "RotateKeyOnDemand" => settings::rotate_key_on_demand,
        "ListKeyRotations" => settings::list_key_rotations,
        "Encrypt" => crypto::encrypt,
        "Decrypt" => crypto::decrypt,
        "ReEncrypt" => crypto::re_encrypt,
        "GenerateDataKey" => crypto::generate_data_key,
        "GenerateDataKeyWithoutPlaintext" => crypto::generate_data_key_without_plaintext,
        "GenerateDataKeyPair" => key_pairs::generate_data_key_pair,
        "GenerateDataKeyPairWithoutPlaintext" => {
            key_pairs::generate_data_key_pair_without_plaintext
        }
        "GenerateRandom" => crypto::generate_random,
        "CreateGrant" => grants::create_grant,
        "ListGrants" => grants::list_grants,
        "ListRetirableGrants" => grants::list_retirable_grants,
        "RetireGrant" => grants::retire_grant,
        "RevokeGrant" => grants::revoke_grant,
        _ => return None,
    })
}

/// `DryRunOperationException`: the request would have succeeded.
pub(crate) fn dry_run_error() -> ApiError {
    ApiError::new(
        ErrorKind::KmsDryRun,
        "The request would have succeeded, but the DryRun option is set.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_answered() {
        for name in OPERATIONS {
            assert!(find(name).is_some(), "{name}");
        }
        assert!(find("Nope").is_none());
        assert!(find("Decrypt").unwrap().read_only);
        assert!(!find("CreateKey").unwrap().read_only);
        assert!(find("ListAliases").unwrap().read_only);
    }
}
