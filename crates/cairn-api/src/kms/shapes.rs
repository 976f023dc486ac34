//! KMS response shapes (epoch-second timestamps, base64 blobs) and the record forms of
//! responses (lower-camel, Java-style dates, as KMS writes `responseElements`).

use crate::wire::lower_first;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_core::kms::KeyMetadata;
use cairn_store::kms::{Alias, Grant, Material, Tag};
use serde_json::{Map, Value, json};

use crate::wire::epoch;

/// A blob as JSON (base64).
pub fn b64(bytes: &[u8]) -> Value {
    Value::String(STANDARD.encode(bytes))
}

/// A date as KMS records write it in `responseElements`: `Nov 22, 2026, 11:39:09 AM`.
pub fn java_date(epoch_seconds: f64) -> Value {
    chrono::DateTime::from_timestamp(epoch_seconds.floor() as i64, 0)
        .map(|t| Value::String(t.format("%b %-d, %Y, %-I:%M:%S %p").to_string()))
        .unwrap_or(Value::Null)
}

/// `KeyMetadata`.
pub fn key_metadata(m: &KeyMetadata) -> Value {
    let mut o = Map::new();
    o.insert("AWSAccountId".into(), json!(m.account));
    o.insert("KeyId".into(), json!(m.key_id));
    o.insert("Arn".into(), json!(m.arn));
    o.insert("CreationDate".into(), epoch(m.created));
    o.insert("Enabled".into(), json!(m.enabled));
    o.insert("Description".into(), json!(m.description));
    o.insert("KeyUsage".into(), json!(m.key_usage));
    o.insert("KeyState".into(), json!(m.state));
    if let Some(d) = m.deletion_date {
        o.insert("DeletionDate".into(), epoch(d));
    }
    o.insert("Origin".into(), json!(m.origin));
    o.insert("KeyManager".into(), json!(m.key_manager));
    o.insert("CustomerMasterKeySpec".into(), json!(m.key_spec));
    o.insert("KeySpec".into(), json!(m.key_spec));
    o.insert(
        "EncryptionAlgorithms".into(),
        json!(m.encryption_algorithms),
    );
    o.insert("MultiRegion".into(), json!(m.multi_region));
    if m.multi_region {
        o.insert(
            "MultiRegionConfiguration".into(),
            json!({"MultiRegionKeyType": "PRIMARY",
                   "PrimaryKey": {"Arn": m.arn, "Region": m.region},
                   "ReplicaKeys": []}),
        );
    }
    // `PendingDeletionWindowInDays` is "present only when the KeyState of the KMS key is
    // PendingReplicaDeletion" (the KMS model), a multi-Region replica's state Cairn never
    // has; a key pending deletion shows its `DeletionDate` (kms3).
    o.insert(
        "CurrentKeyMaterialId".into(),
        json!(m.current_key_material_id),
    );
    Value::Object(o)
}

/// `keyMetadata` as CreateKey's record shows it.
pub fn key_metadata_record(m: &KeyMetadata) -> Value {
    let mut v = key_metadata(m);
    if let Value::Object(o) = &mut v {
        o.insert("CreationDate".into(), java_date(m.created));
        if let Some(d) = m.deletion_date {
            o.insert("DeletionDate".into(), java_date(d));
        }
    }
    lower_keys(&v)
}

/// Lower-cases the first letter of every member name, recursively (`AWSAccountId` →
/// `aWSAccountId`, as KMS records do).
pub fn lower_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (lower_first(k), lower_keys(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(lower_keys).collect()),
        other => other.clone(),
    }
}

/// An `AliasListEntry`.
pub fn alias_entry(a: &Alias, alias_arn: &str) -> Value {
    if a.target_key_id.is_empty() {
        // A predefined alias with no key yet: AWS lists only its name and ARN.
        return json!({"AliasName": a.name, "AliasArn": alias_arn});
    }
    json!({
        "AliasName": a.name,
        "AliasArn": alias_arn,
        "TargetKeyId": a.target_key_id,
        "CreationDate": epoch(a.created),
        "LastUpdatedDate": epoch(a.updated),
    })
}

/// A `GrantListEntry`.
pub fn grant_entry(g: &Grant, key_arn: &str) -> Value {
    let mut o = Map::new();
    o.insert("KeyId".into(), json!(key_arn));
    o.insert("GrantId".into(), json!(g.grant_id));
    if let Some(n) = &g.name {
        o.insert("Name".into(), json!(n));
    }
    o.insert("CreationDate".into(), epoch(g.created));
    o.insert("GranteePrincipal".into(), json!(g.grantee));
    if let Some(r) = &g.retiring {
        o.insert("RetiringPrincipal".into(), json!(r));
    }
    o.insert("IssuingAccount".into(), json!(g.issuing_account));
    o.insert("Operations".into(), json!(g.operations));
    if let Some(c) = &g.constraints {
        let mut cm = Map::new();
        if let Some(s) = &c.subset {
            cm.insert("EncryptionContextSubset".into(), json!(s));
        }
        if let Some(e) = &c.equals {
            cm.insert("EncryptionContextEquals".into(), json!(e));
        }
        o.insert("Constraints".into(), Value::Object(cm));
    }
    Value::Object(o)
}

/// A `Tag`.
pub fn tag(t: &Tag) -> Value {
    json!({"TagKey": t.key, "TagValue": t.value})
}

/// A `RotationsListEntry`.
pub fn rotation(key_arn: &str, m: &Material) -> Value {
    json!({
        "KeyId": key_arn,
        "KeyMaterialId": cairn_core::kms::key_material_id(key_arn, m.generation),
        "RotationDate": epoch(m.created),
        "RotationType": m.rotation_type.as_deref().unwrap_or("AUTOMATIC"),
    })
}

/// Adds `Truncated` and `NextMarker` to a list response.
pub fn paged(mut body: Map<String, Value>, next_marker: Option<String>) -> Value {
    body.insert("Truncated".into(), json!(next_marker.is_some()));
    if let Some(m) = next_marker {
        body.insert("NextMarker".into(), json!(m));
    }
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_dates_have_a_comma_after_the_year() {
        assert_eq!(
            java_date(1_795_347_549.0),
            json!("Nov 22, 2026, 11:39:09 AM")
        );
    }

    #[test]
    fn record_keys_lower_only_the_first_letter() {
        assert_eq!(
            lower_keys(&json!({"AWSAccountId": 1, "KeyId": {"Arn": 2}})),
            json!({"aWSAccountId": 1, "keyId": {"arn": 2}})
        );
    }
}
