//! AWS KMS over AWS JSON 1.1 (`X-Amz-Target: TrentService.<Op>`, signed as `kms`), regional.
//!
//! [`handle`] authenticates, decodes the request into an operation's [`ops::Call`], and runs it
//! through the one choke point ([`crate::recording::Gate::execute`]): the call's permissions
//! (each on the key's ARN under its key policy, with KMS's condition keys; grants may stand in,
//! see `cairn_core::kms::authz::resolve_grants`) are authorized, the operation runs in a store
//! transaction, and its KMS event is recorded — `readOnly` for the cryptographic and
//! Describe/List/Get operations, `requestParameters` without plaintext or ciphertext,
//! `responseElements` null except for the operations that change something.

mod input;
mod ops;
mod shapes;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::response::Response;
use cairn_core::ApiError;
use cairn_core::error::ApiResult;
use cairn_core::kms::authz::resolve_grants;
use cairn_model::event::EventResource;
use http::HeaderValue;
use serde_json::{Map, Value};

use crate::errors::WireError;
use crate::protocol::Protocol;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate, set_request_id};

pub use ops::OPERATIONS;

/// The `X-Amz-Target` prefix KMS answers to.
pub const TARGET_PREFIXES: &[&str] = &["TrentService."];

/// The error code a record of a KMS call names (for the records other services write of
/// their internal KMS calls, `cairn_core::kms::internal::InternalCall::error`): KMS's own,
/// but a refusal is `AccessDenied`, as in every record.
pub fn error_code(e: &ApiError) -> &'static str {
    WireError::from(e).code
}

fn json_ok(body: &Value, request_id: &str) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    set_request_id(&mut resp, request_id);
    resp
}

/// A KMS error: `{"__type":…,"message":…}`, without `message` when there is none (AWS answers
/// `InvalidCiphertextException` with no message).
fn kms_error(err: &WireError, request_id: &str) -> Response {
    let mut body = Map::new();
    body.insert("__type".into(), Value::String(err.code.to_owned()));
    if !err.message.is_empty() {
        body.insert("message".into(), Value::String(err.message.clone()));
    }
    let mut resp = json_ok(&Value::Object(body), request_id);
    *resp.status_mut() = err.status;
    resp
}

/// Answers one KMS JSON request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let now = state.now();
    let authed = match authenticate(state, &req, Protocol::Json, now).await {
        Ok(a) => a,
        Err(e) => return kms_error(&e, &rid),
    };
    let target = req.header("x-amz-target").unwrap_or("");
    let Some((name, op)) = crate::json::operation(target, TARGET_PREFIXES)
        .and_then(|name| ops::find(name).map(|op| (name.to_owned(), op)))
    else {
        return kms_error(&crate::json::unknown_operation(target), &rid);
    };
    let info = CallInfo::new(authed, &req, now);
    let body = match crate::json::object_body(&req.body, crate::json::NOT_AN_OBJECT) {
        Ok(b) => b,
        Err(e) => {
            let call = crate::json::Unreadable {
                event_source: "kms.amazonaws.com",
                name,
                read_only: op.read_only,
                management: true,
            };
            let e = crate::json::refuse_unreadable(&state.gate, info, call, e).await;
            return kms_error(&e, &rid);
        }
    };
    run(state, name, op, body, info).await
}

/// Members holding encryption contexts: their keys are data, not member names.
const CONTEXT_MEMBERS: [&str; 5] = [
    "EncryptionContext",
    "SourceEncryptionContext",
    "DestinationEncryptionContext",
    "EncryptionContextSubset",
    "EncryptionContextEquals",
];

/// Members never recorded: plaintext, ciphertext, grant tokens (capabilities), and every
/// member whose shape KMS's model marks sensitive (`PlaintextType`: Sign's, Verify's and the
/// MAC calls' `Message`; `KeyStorePasswordType`; the XKS proxy's credential), whether or not
/// Cairn carries the operation out.
const SECRET_MEMBERS: [&str; 8] = [
    "Plaintext",
    "CiphertextBlob",
    "GrantTokens",
    "GrantToken",
    "Recipient",
    "Message",
    "KeyStorePassword",
    "XksProxyAuthenticationCredential",
];

fn record_form(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::with_capacity(m.len());
            for (k, v) in m
                .iter()
                .filter(|(k, _)| !SECRET_MEMBERS.contains(&k.as_str()))
            {
                let value = if CONTEXT_MEMBERS.contains(&k.as_str()) {
                    v.clone()
                } else {
                    record_form(v)
                };
                crate::wire::insert_member(&mut out, k, value);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(record_form).collect()),
        other => other.clone(),
    }
}

/// `requestParameters`: the request in lower-camel form, encryption contexts verbatim,
/// without plaintext, ciphertext or grant tokens; null for an empty request.
pub fn request_parameters(body: &Value) -> Value {
    match record_form(body) {
        Value::Object(m) if m.is_empty() => Value::Null,
        v => v,
    }
}

/// The algorithm members KMS's record always carries, filled with `SYMMETRIC_DEFAULT` when
/// the request left them out: the KMS developer guide says so of Decrypt ("always includes
/// the encryptionAlgorithm in the requestParameters even if the encryption algorithm wasn't
/// specified in the request"), and its Encrypt and ReEncrypt entries show them likewise.
fn recorded_algorithms(name: &str) -> &'static [&'static str] {
    match name {
        "Encrypt" | "Decrypt" => &["encryptionAlgorithm"],
        "ReEncrypt" => &[
            "sourceEncryptionAlgorithm",
            "destinationEncryptionAlgorithm",
        ],
        _ => &[],
    }
}

/// The members KMS's CreateKey and PutKeyPolicy records carry with their defaults when the
/// request left them out (the KMS developer guide's CreateKey and PutKeyPolicy entries:
/// `keySpec` and `customerMasterKeySpec` alike, `keyUsage`, `origin`, an empty
/// `description`, `bypassPolicyLockoutSafetyCheck` false).
fn recorded_defaults(name: &str, body: &Value) -> Vec<(&'static str, Value)> {
    let given = |member: &str| body.get(member).filter(|v| !v.is_null()).cloned();
    match name {
        "CreateKey" => {
            let spec = given("KeySpec")
                .or_else(|| given("CustomerMasterKeySpec"))
                .unwrap_or_else(|| Value::from("SYMMETRIC_DEFAULT"));
            vec![
                ("keySpec", spec.clone()),
                ("customerMasterKeySpec", spec),
                ("keyUsage", Value::from("ENCRYPT_DECRYPT")),
                ("origin", Value::from("AWS_KMS")),
                ("description", Value::from("")),
                ("bypassPolicyLockoutSafetyCheck", Value::from(false)),
            ]
        }
        "PutKeyPolicy" => vec![("bypassPolicyLockoutSafetyCheck", Value::from(false))],
        _ => Vec::new(),
    }
}

/// [`request_parameters`] of operation `name`, with the members its record always names.
fn recorded_parameters(name: &str, body: &Value) -> Value {
    let mut params = request_parameters(&crate::model_check::modeled_only("kms", name, body));
    let mut members: Vec<(&str, Value)> = recorded_algorithms(name)
        .iter()
        .map(|m| (*m, Value::from("SYMMETRIC_DEFAULT")))
        .collect();
    members.extend(recorded_defaults(name, body));
    if members.is_empty() {
        return params;
    }
    if params.is_null() {
        params = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(m) = &mut params {
        for (member, default) in members {
            if m.get(member).is_none_or(Value::is_null) {
                m.insert(member.to_owned(), default);
            }
        }
    }
    params
}

fn outcome(
    name: &str,
    read_only: bool,
    body: &Value,
    account: &str,
    touched: &[String],
    result: &ApiResult<ops::Reply>,
) -> Outcome {
    let mut arns: Vec<String> = touched.to_vec();
    if let Ok(r) = result {
        arns.extend(r.resources.iter().cloned());
    }
    let mut seen = std::collections::HashSet::new();
    arns.retain(|a| seen.insert(a.clone()));
    let resources = arns
        .into_iter()
        .map(|arn| {
            (
                EventResource {
                    arn: arn.clone(),
                    account_id: Some(account.to_owned()),
                    resource_type: "AWS::KMS::Key".to_owned(),
                    arn_prefix: None,
                },
                arn,
            )
        })
        .collect();
    let (response_elements, error, additional) = match result {
        Ok(r) => (
            if read_only {
                Value::Null
            } else {
                r.response_elements.clone()
            },
            None,
            r.additional.clone(),
        ),
        // CloudTrail records a refusal as `AccessDenied`, whatever the service answers
        // (KMS answers `AccessDeniedException`), as for every other service.
        Err(e) => {
            let w = WireError::from(e);
            (Value::Null, Some((w.code.to_owned(), w.message)), None)
        }
    };
    Outcome {
        event_source: "kms.amazonaws.com",
        event_name: name.to_owned(),
        read_only,
        management: true,
        request_parameters: recorded_parameters(name, body),
        response_elements,
        error,
        resources,
        additional_event_data: additional,
    }
}

async fn run(state: &AppState, name: String, op: ops::Op, body: Value, info: CallInfo) -> Response {
    let rid = info.request_id.clone();
    match execute(state, name, op, body, info).await {
        Ok(reply) => json_ok(&reply.body, &rid),
        Err(e) if e.kind != cairn_core::ErrorKind::Internal => {
            kms_error(&WireError::json(&e), &rid)
        }
        Err(_) => kms_error(&WireError::internal(Protocol::Json), &rid),
    }
}

/// Runs one KMS operation for a caller that is not an HTTP request (a CloudFormation stack):
/// the same parsing, permissions, gate and record a signed call reaches, with `body` the JSON
/// request an SDK would send. Returns the JSON response body, or the error the API answers.
pub(crate) async fn invoke(
    state: &AppState,
    name: &str,
    body: Value,
    info: CallInfo,
) -> ApiResult<Value> {
    let op = ops::find(name).ok_or_else(|| {
        ApiError::new(
            cairn_core::ErrorKind::UnsupportedOperation,
            format!("Unknown operation {name}."),
        )
    })?;
    execute(state, name.to_owned(), op, body, info)
        .await
        .map(|r| r.body)
}

async fn execute(
    state: &AppState,
    name: String,
    op: ops::Op,
    body: Value,
    info: CallInfo,
) -> ApiResult<ops::Reply> {
    let body = crate::model_check::own_members("kms", &name, body);
    let refusal = crate::model_check::refusal(&info, || {
        let input = crate::model_check::Input::Json {
            body: &body,
            typed: true,
        };
        crate::model_check::check("kms", &name, input)
            .map_err(|p| p.into_error(cairn_core::ErrorKind::Validation))
    });
    // A refused request fails where a request KMS cannot parse does: before authorization,
    // recorded.
    let parsed: Result<Arc<dyn ops::Call>, ApiError> = match refusal {
        Some(e) => Err(e),
        None => match op.parse {
            Some(parse) => parse(&body).map(Arc::from),
            None => {
                ops::Unsupported::parse(op.name, &body).map(|u| Arc::new(u) as Arc<dyn ops::Call>)
            }
        },
    };
    let env = Arc::new(ops::Env {
        ctx: info.ctx.clone(),
        master: state.settings.kms_master.clone(),
        evaluator: state.gate.evaluator_for(&info),
    });
    let account = info.ctx.account().to_string();
    let touched = Arc::new(Mutex::new(Vec::<String>::new()));
    let (parsed_p, env_p, touched_p) = (parsed.clone(), env.clone(), touched.clone());
    let read_only = op.read_only;
    // DescribeKey of a predefined alias may create its AWS managed key: on the writer.
    let on_reader = read_only
        && !(op.name == "DescribeKey"
            && body
                .get("KeyId")
                .and_then(Value::as_str)
                .is_some_and(cairn_core::kms::aliases::names_predefined));
    state
        .gate
        .execute(
            info,
            on_reader,
            move |conn, ctx| {
                let call = parsed_p?;
                let needed = call.permissions(conn, &env_p)?;
                if let Ok(mut t) = touched_p.lock() {
                    t.extend(
                        needed
                            .iter()
                            .map(|k| &k.permission.resource)
                            // The keys, and the alias an alias change names (the KMS
                            // guide's CreateAlias, UpdateAlias and DeleteAlias records list
                            // it among `resources`, typed as a key) (kms3).
                            .filter(|r| r.contains(":key/") || r.contains(":alias/"))
                            .cloned(),
                    );
                }
                resolve_grants(conn, env_p.evaluator.as_ref(), ctx, needed)
            },
            move |conn| parsed?.run(conn, &env),
            move |result| {
                let t = touched.lock().map(|t| t.clone()).unwrap_or_default();
                outcome(&name, read_only, &body, &account, &t, result)
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn records_keep_contexts_verbatim_and_drop_secrets() {
        let body = json!({"KeyId": "alias/x", "Plaintext": "c2VjcmV0",
            "EncryptionContext": {"Department": "IT"}, "GrantTokens": ["t"],
            "Tags": [{"TagKey": "K", "TagValue": "V"}]});
        assert_eq!(
            request_parameters(&body),
            json!({"keyId": "alias/x", "encryptionContext": {"Department": "IT"},
                   "tags": [{"tagKey": "K", "tagValue": "V"}]})
        );
        assert_eq!(request_parameters(&json!({})), Value::Null);
    }

    #[test]
    fn members_the_model_marks_sensitive_are_never_recorded() {
        let store = json!({"CustomKeyStoreName": "cks", "KeyStorePassword": "pw",
            "XksProxyAuthenticationCredential": {"AccessKeyId": "A", "RawSecretAccessKey": "S"}});
        assert_eq!(
            request_parameters(&store),
            json!({"customKeyStoreName": "cks"})
        );
        let sign = json!({"KeyId": "k", "Message": "bXNn", "MessageType": "RAW"});
        assert_eq!(
            request_parameters(&sign),
            json!({"keyId": "k", "messageType": "RAW"})
        );
    }

    #[test]
    fn decrypt_encrypt_and_reencrypt_records_always_name_their_algorithms() {
        let body = json!({"CiphertextBlob": "AAAA"});
        assert_eq!(
            recorded_parameters("Decrypt", &body),
            json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"})
        );
        let body =
            json!({"KeyId": "k", "Plaintext": "AA", "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"});
        assert_eq!(
            recorded_parameters("Encrypt", &body),
            json!({"keyId": "k", "encryptionAlgorithm": "SYMMETRIC_DEFAULT"})
        );
        assert_eq!(
            recorded_parameters("ReEncrypt", &json!({"DestinationKeyId": "d"})),
            json!({"destinationKeyId": "d", "sourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                   "destinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
        );
        assert_eq!(
            recorded_parameters("GenerateDataKey", &json!({"KeyId": "k"})),
            json!({"keyId": "k"})
        );
    }
}
