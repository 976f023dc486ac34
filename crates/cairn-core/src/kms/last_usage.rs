//! GetKeyLastUsage: the key's last successful cryptographic operation (kms7: the operation
//! was refused as unsupported), noted when its event is recorded ([`keys_used`]), so no
//! number of other events naming the key can hide it (recheck32b: read back from event
//! history, 10,000 refused DescribeKey calls did). Tracking starts at the key's creation, or
//! when the store began tracking (its upgrade to schema 32), whichever is later.

use cairn_model::event::EventRecord;
use cairn_store::Connection;
use cairn_store::kms::KeyRow;

use crate::error::ApiResult;

/// The operations GetKeyLastUsage reports (the `Operation` values of `KeyLastUsageData`).
pub const CRYPTOGRAPHIC: [&str; 12] = [
    "Decrypt",
    "DeriveSharedSecret",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "ReEncrypt",
    "Sign",
    "Verify",
    "VerifyMac",
];

/// The last successful cryptographic operation with a key.
pub type LastUsage = cairn_store::kms::usage::KeyUsage;

/// The keys a record's successful cryptographic operation used, and its request id: what
/// GetKeyLastUsage reports, noted when the event is recorded.
pub fn keys_used(record: &EventRecord) -> Option<(Vec<String>, String)> {
    if record.event_source != "kms.amazonaws.com"
        || record.error_code.is_some()
        || !CRYPTOGRAPHIC.contains(&record.event_name.as_str())
    {
        return None;
    }
    let keys: Vec<String> = record
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::KMS::Key")
        .map(|r| r.arn.clone())
        .collect();
    (!keys.is_empty()).then(|| (keys, record.request_id.clone()))
}

/// When tracking started for `key`: its creation, or when this store began tracking if later.
pub fn tracking_start(conn: &Connection, key: &KeyRow) -> ApiResult<i64> {
    let since = cairn_store::kms::usage::tracked_since(conn)?.unwrap_or(0);
    Ok((key.created as i64).max(since))
}

/// The key's last successful cryptographic operation since tracking started, if any.
pub fn last_usage(conn: &Connection, key: &KeyRow) -> ApiResult<Option<LastUsage>> {
    Ok(cairn_store::kms::usage::last(conn, &key.arn)?)
}
