//! KMS for other Cairn services: S3 (SSE-KMS, on a caller's behalf) and CloudTrail (log file
//! encryption, as its own service principal) call these functions inside their own store
//! transaction. Each performs the same authorization as the KMS API (key policy, grants,
//! condition keys, with `kms:ViaService` for [`Actor::Via`]) and returns AWS's errors; the
//! caller then records the KMS event [`internal_event`] builds (AWS records these calls as KMS
//! events: `eventSource kms.amazonaws.com`, `readOnly true`, the key as `AWS::KMS::Key`
//! resource, no plaintext and no ciphertext in the record).
//!
//! ```text
//! // S3 PutObject with aws:kms, inside the PutObject write job:
//! let actor = Actor::Via { ctx: &call_ctx, service: "s3" };
//! let dk = kms::internal::generate_data_key(conn, master, evaluator, &actor, key_id, &ctx, 32);
//! kms::record::append(conn, &kms::internal::internal_event(&actor, &InternalCall { … }));
//! ```

use cairn_model::event::{EVENT_VERSION, EventRecord, EventResource, format_event_time};
use serde_json::{Value, json};

use super::authz::{self, KeyAction, key_permission};
pub use super::authz::{Actor, ServiceCall};
use super::crypto;
use super::{EncryptionContext, Key, KeyMetadata, MasterKey, Scope, Secret, ids};
use crate::authz::Evaluator;
use crate::error::ApiResult;
use crate::record::{PreparedEvent, new_uuid};
use cairn_store::Connection;

/// A data key made for another service.
#[derive(Debug)]
pub struct DataKey {
    /// The key's ARN.
    pub key_arn: String,
    /// The data key in plaintext (use it, then drop it).
    pub plaintext: Secret,
    /// The data key sealed under the KMS key (store this).
    pub ciphertext: Vec<u8>,
    /// `KeyMaterialId` of the generation used.
    pub key_material_id: String,
}

/// A data key opened for another service.
#[derive(Debug)]
pub struct Decrypted {
    /// The key's ARN.
    pub key_arn: String,
    /// The plaintext.
    pub plaintext: Secret,
    /// `KeyMaterialId` of the generation used.
    pub key_material_id: String,
}

/// GenerateDataKey of `size` bytes (32 for `AES_256`) under `key_id` (any of the four forms),
/// bound to `context`, authorized for `actor`.
pub fn generate_data_key(
    conn: &Connection,
    master: &MasterKey,
    evaluator: &dyn Evaluator,
    actor: &Actor<'_>,
    key_id: &str,
    context: &EncryptionContext,
    size: usize,
) -> ApiResult<DataKey> {
    let scope = actor.scope();
    let target = ids::resolve(conn, &scope, key_id, true)?;
    crypto::check_context(context)?;
    let needed = key_permission(
        conn,
        actor,
        &target.key,
        KeyAction {
            action: "kms:GenerateDataKey",
            alias: target.alias.as_deref(),
            context: Some(context),
            algorithm: true,
            grant_operation: Some("GenerateDataKey"),
            ..Default::default()
        },
    )?;
    authz::authorize(conn, evaluator, actor, vec![needed])?;
    let (plaintext, sealed) = crypto::generate_data_key(conn, master, &target.key, size, context)?;
    Ok(DataKey {
        key_arn: sealed.key_arn,
        plaintext,
        ciphertext: sealed.blob,
        key_material_id: sealed.key_material_id,
    })
}

/// The ARN of the key `key_id` names for `actor` (any of the four forms), if it exists: what a
/// refused call's record names as its resource.
pub fn key_arn(conn: &Connection, actor: &Actor<'_>, key_id: &str) -> Option<String> {
    ids::resolve(conn, &actor.scope(), key_id, true)
        .ok()
        .map(|t| t.key.arn)
}

/// Decrypt of a ciphertext KMS produced, with the context it was bound to, authorized for
/// `actor`. `key_id`, when given, must name the key the ciphertext names.
pub fn decrypt(
    conn: &Connection,
    master: &MasterKey,
    evaluator: &dyn Evaluator,
    actor: &Actor<'_>,
    ciphertext: &[u8],
    context: &EncryptionContext,
    key_id: Option<&str>,
) -> ApiResult<Decrypted> {
    let scope = actor.scope();
    let named = key_id
        .map(|k| ids::resolve(conn, &scope, k, true))
        .transpose()?;
    let key = crypto::blob_key(conn, &scope, ciphertext)?;
    crypto::check_named_key(named.as_ref().map(|t| &t.key), &key)?;
    let needed = key_permission(
        conn,
        actor,
        &key,
        KeyAction {
            action: "kms:Decrypt",
            alias: named.as_ref().and_then(|t| t.alias.as_deref()),
            context: Some(context),
            algorithm: true,
            grant_operation: Some("Decrypt"),
            ..Default::default()
        },
    )?;
    authz::authorize(conn, evaluator, actor, vec![needed])?;
    let opened = crypto::decrypt(conn, master, &key, ciphertext, context)?;
    Ok(Decrypted {
        key_arn: opened.key_arn,
        plaintext: opened.plaintext,
        key_material_id: opened.key_material_id,
    })
}

/// DescribeKey for `actor` (CloudTrail validating a trail's `KmsKeyId`).
pub fn describe_key(
    conn: &Connection,
    evaluator: &dyn Evaluator,
    actor: &Actor<'_>,
    key_id: &str,
) -> ApiResult<KeyMetadata> {
    let target = ids::resolve(conn, &actor.scope(), key_id, true)?;
    let needed = key_permission(
        conn,
        actor,
        &target.key,
        KeyAction {
            action: "kms:DescribeKey",
            alias: target.alias.as_deref(),
            grant_operation: Some("DescribeKey"),
            ..Default::default()
        },
    )?;
    authz::authorize(conn, evaluator, actor, vec![needed])?;
    Ok(super::metadata(&target.key))
}

/// What an internal call did, for its KMS event.
#[derive(Clone, Debug, Default)]
pub struct InternalCall<'a> {
    /// `GenerateDataKey`, `Decrypt` or `DescribeKey`.
    pub event_name: &'a str,
    /// The key identifier as the calling service gave it.
    pub key_id: Option<&'a str>,
    /// The key's ARN, once resolved.
    pub key_arn: Option<&'a str>,
    /// The encryption context.
    pub context: Option<&'a EncryptionContext>,
    /// `keySpec` (`AES_256` for data keys).
    pub key_spec: Option<&'a str>,
    /// `KeyMaterialId` used.
    pub key_material_id: Option<&'a str>,
    /// (AWS error code, message) when the call failed; the code comes from the edge's
    /// mapping (`cairn_api::kms::error_code`).
    pub error: Option<(&'a str, &'a str)>,
}

/// The KMS event of an internal call: the caller's identity with `invokedBy` for
/// [`Actor::Via`], `{"type":"AWSService","invokedBy":<service>}` for [`Actor::Service`].
pub fn internal_event(actor: &Actor<'_>, call: &InternalCall<'_>) -> PreparedEvent {
    let scope = actor.scope();
    let (identity, origin, username) = match actor {
        Actor::Caller(ctx) => (
            ctx.principal.user_identity(),
            ctx.origin.source_ip.clone(),
            ctx.principal.lookup_username().to_owned(),
        ),
        Actor::Via { ctx, service } => {
            let mut id = ctx.principal.user_identity();
            let by = format!("{service}.amazonaws.com");
            id["invokedBy"] = json!(by);
            (id, by, ctx.principal.lookup_username().to_owned())
        }
        Actor::Service(s) => (
            json!({"type": "AWSService", "invokedBy": s.service}),
            s.service.clone(),
            s.service.clone(),
        ),
    };
    let mut request = serde_json::Map::new();
    if let Some(k) = call.key_id {
        request.insert("keyId".into(), json!(k));
    }
    if let Some(c) = call.context {
        request.insert("encryptionContext".into(), json!(c));
    }
    if let Some(s) = call.key_spec {
        request.insert("keySpec".into(), json!(s));
    }
    // Only Encrypt and Decrypt records always name the algorithm (the KMS developer guide's
    // entries; its GenerateDataKey entries, the S3-invoked one included, carry none).
    if matches!(call.event_name, "Encrypt" | "Decrypt") {
        request.insert("encryptionAlgorithm".into(), json!("SYMMETRIC_DEFAULT"));
    }
    build(Draft {
        scope: &scope,
        now: actor.now(),
        identity,
        source_ip: origin.clone(),
        user_agent: origin,
        username,
        event_name: call.event_name,
        request_parameters: Value::Object(request),
        response_elements: Value::Null,
        additional: call.key_material_id.map(|m| json!({"keyMaterialId": m})),
        key_arn: call.key_arn,
        read_only: true,
        event_type: "AwsApiCall",
        error: call.error,
    })
}

/// An event KMS records for work it does itself (`DeleteKey` when a deletion window passes,
/// `RotateKey` for automatic rotation): `invokedBy "AWS Internal"`, `AwsServiceEvent`.
pub(crate) fn service_event(
    key: &Key,
    event_name: &str,
    now: f64,
    response_elements: Value,
    additional: Option<Value>,
) -> PreparedEvent {
    let scope = Scope {
        account: key.account.clone(),
        region: key.region.clone(),
    };
    build(Draft {
        scope: &scope,
        now,
        identity: json!({"accountId": key.account, "invokedBy": "AWS Internal"}),
        source_ip: "AWS Internal".into(),
        user_agent: "AWS Internal".into(),
        username: String::new(),
        event_name,
        request_parameters: Value::Null,
        response_elements,
        additional,
        key_arn: Some(&key.arn),
        read_only: false,
        event_type: "AwsServiceEvent",
        error: None,
    })
}

/// The fields of a KMS event that vary.
pub(crate) struct Draft<'a> {
    pub(crate) scope: &'a Scope,
    pub(crate) now: f64,
    pub(crate) identity: Value,
    pub(crate) source_ip: String,
    pub(crate) user_agent: String,
    pub(crate) username: String,
    pub(crate) event_name: &'a str,
    pub(crate) request_parameters: Value,
    pub(crate) response_elements: Value,
    pub(crate) additional: Option<Value>,
    pub(crate) key_arn: Option<&'a str>,
    pub(crate) read_only: bool,
    pub(crate) event_type: &'a str,
    pub(crate) error: Option<(&'a str, &'a str)>,
}

/// Builds and serialises a KMS event record.
pub(crate) fn build(d: Draft<'_>) -> PreparedEvent {
    let resources: Vec<EventResource> = d
        .key_arn
        .map(|arn| EventResource {
            arn: arn.to_owned(),
            account_id: Some(d.scope.account.clone()),
            resource_type: "AWS::KMS::Key".to_owned(),
            arn_prefix: None,
        })
        .into_iter()
        .collect();
    let lookup = resources
        .iter()
        .map(|r| (r.resource_type.clone(), r.arn.clone()))
        .collect();
    let secs = d.now.floor() as i64;
    let record = EventRecord {
        event_version: EVENT_VERSION.to_owned(),
        user_identity: d.identity,
        event_time: format_event_time(secs),
        event_source: "kms.amazonaws.com".to_owned(),
        event_name: d.event_name.to_owned(),
        aws_region: d.scope.region.clone(),
        source_ip_address: d.source_ip,
        user_agent: d.user_agent,
        error_code: d.error.map(|(c, _)| c.to_owned()),
        error_message: d
            .error
            .map(|(_, m)| m)
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
        request_parameters: d.request_parameters,
        response_elements: d.response_elements,
        additional_event_data: d.additional,
        request_id: new_uuid(),
        event_id: new_uuid(),
        read_only: d.read_only,
        resources,
        event_type: d.event_type.to_owned(),
        management_event: true,
        recipient_account_id: d.scope.account.clone(),
        event_category: "Management".to_owned(),
    };
    if record.user_identity["type"] != "AWSService" {
        return PreparedEvent::new(&record, secs, &d.username, lookup);
    }
    // A service's call on the caller's behalf carries `sharedEventID` after
    // `recipientAccountId`, as AWS's AWSService KMS records do (the KMS developer guide's
    // examples in the shared datasets).
    let canonical = with_shared_event_id(&record.to_canonical_json(), &new_uuid());
    PreparedEvent::with_canonical(&record, canonical, secs, &d.username, lookup)
}

/// The canonical record with `sharedEventID` right after `recipientAccountId`.
fn with_shared_event_id(canonical: &str, id: &str) -> String {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(canonical) else {
        return canonical.to_owned();
    };
    let mut out = serde_json::Map::new();
    for (k, v) in fields {
        let after = k == "recipientAccountId";
        out.insert(k, v);
        if after {
            out.insert("sharedEventID".to_owned(), Value::String(id.to_owned()));
        }
    }
    Value::Object(out).to_string()
}

#[cfg(test)]
mod shared_id_tests {
    use super::with_shared_event_id;

    #[test]
    fn the_shared_id_follows_the_recipient_account() {
        let text = r#"{"eventID":"e","recipientAccountId":"1","eventCategory":"Management"}"#;
        assert_eq!(
            with_shared_event_id(text, "s"),
            r#"{"eventID":"e","recipientAccountId":"1","sharedEventID":"s","eventCategory":"Management"}"#
        );
    }
}
