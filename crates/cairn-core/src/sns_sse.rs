//! SNS server-side encryption: a topic's `KmsMasterKeyId`. Publish asks KMS for a data key
//! under the topic's key as the publisher, through SNS (`kms:GenerateDataKey` with
//! `kms:ViaService` `sns.<region>.amazonaws.com` and the topic ARN as `aws:sns:topicArn` in
//! the encryption context, recorded with `invokedBy` `sns.amazonaws.com`), and every message
//! it queues is sealed at rest under that data key until it is delivered ([`TopicSeal`]; the
//! sender opens it with [`open`]). A key that does not exist, is disabled or pending deletion,
//! or that the publisher may not use fails the publish with SNS's `KMSNotFound`,
//! `KMSDisabled`, `KMSInvalidState` or `KMSAccessDenied`, and nothing is queued.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_store::Connection;
use serde::{Deserialize, Serialize};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::kms::internal::{self, Actor};
use crate::kms::{EncryptionContext, MasterKey, Scope, Secret};
use crate::record::PreparedEvent;
use crate::sse::KmsAccess;

/// The encryption context key SNS binds a topic's data keys to.
const TOPIC_CONTEXT: &str = "aws:sns:topicArn";

/// A publication's data key: its plaintext seals the queued messages, its wrapped form is
/// stored with each of them.
pub struct TopicSeal {
    wrapped: Vec<u8>,
    context: EncryptionContext,
    plaintext: Secret,
}

/// The stored form of a sealed queued message (`{"v":2,…}`).
#[derive(Serialize, Deserialize)]
struct Sealed {
    v: u32,
    /// The wrapped data key, base64.
    key: String,
    context: EncryptionContext,
    /// The plaintext payload's length.
    len: u64,
    /// The sealed payload, base64.
    sealed: String,
}

/// The topic's `KmsMasterKeyId`, if it has one.
pub fn topic_key(topic: &cairn_store::sns::Topic) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(&topic.attributes)
        .ok()?
        .get("KmsMasterKeyId")?
        .as_str()
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
}

/// The data key a Publish by `ctx` to `topic_arn` seals its messages with: `None` for a topic
/// without a key (or one that does not exist: the publish then fails as it would), with the
/// KMS event to record either way.
pub fn for_publish(
    conn: &Connection,
    kms: KmsAccess<'_>,
    ctx: &CallContext,
    topic_arn: &str,
) -> (ApiResult<Option<TopicSeal>>, Option<PreparedEvent>) {
    let actor = Actor::Via {
        ctx,
        service: "sns",
    };
    seal_for(conn, kms, &actor, topic_arn, ctx.now)
}

/// The data key a service's own publication to `topic_arn` (CloudTrail's notice of a
/// delivered file) seals its messages with, asked of KMS as the service principal: the
/// topic's key policy must let it `GenerateDataKey` (the CloudTrail User Guide: an encrypted
/// topic's key must allow `cloudtrail.amazonaws.com`), else the publication is refused.
pub fn for_service(
    conn: &Connection,
    kms: KmsAccess<'_>,
    call: &crate::kms::authz::ServiceCall,
    topic_arn: &str,
) -> (ApiResult<Option<TopicSeal>>, Option<PreparedEvent>) {
    seal_for(conn, kms, &Actor::Service(call), topic_arn, call.now)
}

/// SNS's AWS managed key, `alias/aws/sns` (the SNS Developer Guide's example
/// `KmsMasterKeyId`), which SNS creates in the topic's account and region the first time a
/// topic uses it, as KMS's other `alias/aws/<service>` keys are created on first use. Its
/// key policy lets the account's principals use it only through SNS.
fn managed_key_on_first_use(
    conn: &Connection,
    master: &MasterKey,
    topic_arn: &str,
    key_id: &str,
    now: f64,
) -> ApiResult<()> {
    const SNS_MANAGED: &str = "alias/aws/sns";
    let mut parts = topic_arn.split(':');
    let (Some(region), Some(account)) = (parts.nth(3), parts.next()) else {
        return Ok(());
    };
    let names_it = match crate::kms::ids::parse(key_id) {
        Ok(crate::kms::ids::KeyRef::AliasName(name)) => name == SNS_MANAGED,
        Ok(crate::kms::ids::KeyRef::AliasArn {
            region: r,
            account: a,
            name,
        }) => name == SNS_MANAGED && r == region && a == account,
        _ => false,
    };
    if !names_it {
        return Ok(());
    }
    let scope = Scope {
        account: account.to_owned(),
        region: region.to_owned(),
    };
    crate::kms::aliases::aws_managed_key_in(conn, master, &scope, now, "sns").map(|_| ())
}

/// SNS's refusal code for a publication whose key KMS refused (`KMSAccessDenied`, …).
pub fn refusal_code(e: &ApiError) -> &'static str {
    match e.kind {
        ErrorKind::SnsKmsNotFound => "KMSNotFound",
        ErrorKind::SnsKmsDisabled => "KMSDisabled",
        ErrorKind::SnsKmsInvalidState => "KMSInvalidState",
        _ => "KMSAccessDenied",
    }
}

fn seal_for(
    conn: &Connection,
    kms: KmsAccess<'_>,
    actor: &Actor<'_>,
    topic_arn: &str,
    now: f64,
) -> (ApiResult<Option<TopicSeal>>, Option<PreparedEvent>) {
    let topic = match cairn_store::sns::get_topic(conn, topic_arn) {
        Ok(t) => t,
        Err(e) => return (Err(e.into()), None),
    };
    let Some(key_id) = topic.as_ref().and_then(topic_key) else {
        return (Ok(None), None);
    };
    if let Err(e) = managed_key_on_first_use(conn, kms.master, topic_arn, &key_id, now) {
        return (Err(e), None);
    }
    let context = EncryptionContext::from([(TOPIC_CONTEXT.to_owned(), topic_arn.to_owned())]);
    let made = internal::generate_data_key(
        conn,
        kms.master,
        kms.evaluator,
        actor,
        &key_id,
        &context,
        32,
    );
    // A refusal names the key too when it exists (kms5).
    let arn = match &made {
        Ok(d) => Some(d.key_arn.clone()),
        Err(_) => internal::key_arn(conn, actor, &key_id),
    };
    let event = crate::sse::kms_event(
        actor,
        "GenerateDataKey",
        &key_id,
        arn.as_deref(),
        Some(&context),
        made.as_ref().ok().map(|d| d.key_material_id.as_str()),
        made.as_ref().err(),
    );
    let seal = made
        .map(|dk| {
            Some(TopicSeal {
                wrapped: dk.ciphertext,
                context,
                plaintext: dk.plaintext,
            })
        })
        .map_err(|e| sns_error(&key_id, e));
    (seal, Some(event))
}

/// KMS's refusal as SNS answers it.
fn sns_error(key_id: &str, e: ApiError) -> ApiError {
    let (kind, code) = match e.kind {
        ErrorKind::KmsNotFound => (ErrorKind::SnsKmsNotFound, "NotFoundException"),
        ErrorKind::KmsDisabled => (ErrorKind::SnsKmsDisabled, "DisabledException"),
        ErrorKind::KmsInvalidState => (ErrorKind::SnsKmsInvalidState, "KMSInvalidStateException"),
        ErrorKind::AccessDenied => (ErrorKind::SnsKmsAccessDenied, "AccessDeniedException"),
        _ => return e,
    };
    ApiError::new(
        kind,
        format!(
            "{} (Service: AWSKMS; Status Code: 400; Error Code: {code}; Key: {key_id})",
            e.message
        ),
    )
}

impl TopicSeal {
    /// `payload` sealed for the queue.
    pub fn seal(&self, payload: &str) -> ApiResult<String> {
        let sealed = cairn_crypto::frames::seal_all(self.plaintext.expose(), payload.as_bytes())
            .map_err(|e| ApiError::new(ErrorKind::Internal, e.to_string()))?;
        let stored = Sealed {
            v: 2,
            key: STANDARD.encode(&self.wrapped),
            context: self.context.clone(),
            len: payload.len() as u64,
            sealed: STANDARD.encode(sealed),
        };
        Ok(serde_json::to_string(&stored).expect("a sealed payload serializes"))
    }
}

/// Whether a queued payload is sealed.
pub fn is_sealed(payload: &str) -> bool {
    payload.starts_with("{\"v\":2,")
}

/// A sealed queued payload opened by SNS for delivery (its data key unwrapped under the
/// topic's KMS key, which must still be enabled). An unsealed payload is returned as it is.
pub fn open(conn: &Connection, master: &MasterKey, payload: &str) -> ApiResult<String> {
    if !is_sealed(payload) {
        return Ok(payload.to_owned());
    }
    let bad = || ApiError::new(ErrorKind::Internal, "a sealed SNS message is damaged");
    let stored: Sealed = serde_json::from_str(payload).map_err(|_| bad())?;
    let topic = stored.context.get(TOPIC_CONTEXT).ok_or_else(bad)?;
    let mut parts = topic.split(':');
    let (region, account) = (parts.nth(3).ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
    let scope = Scope {
        account: account.to_owned(),
        region: region.to_owned(),
    };
    let wrapped = STANDARD.decode(&stored.key).map_err(|_| bad())?;
    let key = crate::kms::crypto::blob_key(conn, &scope, &wrapped)?;
    let opened = crate::kms::crypto::decrypt(conn, master, &key, &wrapped, &stored.context)?;
    let sealed = STANDARD.decode(&stored.sealed).map_err(|_| bad())?;
    let plain = cairn_crypto::frames::open_all(opened.plaintext.expose(), &sealed, stored.len)
        .map_err(|_| bad())?;
    String::from_utf8(plain).map_err(|_| bad())
}
