//! The CloudTrail control plane over AWS JSON 1.1: `POST /` with `X-Amz-Target`.
//!
//! [`handle`] authenticates, parses the target and body, runs the operation from [`ops`]
//! and records the call: write operations run inside one store write job together with
//! their event (both commit, or neither); read operations run on a reader and then append
//! their event; the response goes out only after the event is durable.

mod ops;
mod shapes;

use axum::body::Body;
use axum::response::Response;
use http::HeaderValue;
use serde_json::Value;

use std::sync::Arc;

use crate::auth::Flavor;
use crate::errors::{WireError, json_error};
use crate::recording::{self, CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate, set_request_id};
use crate::wire::camelize;

pub use ops::OPERATIONS;

const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

fn json_ok(body: &Value, request_id: &str) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    set_request_id(&mut resp, request_id);
    resp
}

fn internal(request_id: &str) -> Response {
    json_error(&WireError::internal(Flavor::Json), request_id)
}

/// Answers one CloudTrail JSON request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let now = chrono::Utc::now();
    let authed = match authenticate(state, &req, Flavor::Json, now) {
        Ok(a) => a,
        Err(e) => return json_error(&e, &rid),
    };
    if authed.service != "cloudtrail" {
        return json_error(
            &WireError::bad_request(
                "UnknownOperationException",
                format!(
                    "The service {} is not served by this endpoint.",
                    authed.service
                ),
            ),
            &rid,
        );
    }
    let op_name = req
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .unwrap_or("")
        .to_owned();
    let Some(op) = ops::find(&op_name) else {
        return json_error(
            &WireError::bad_request(
                "UnknownOperationException",
                format!("Unknown operation {op_name}"),
            ),
            &rid,
        );
    };
    let body: Value = if req.body.is_empty() {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice::<Value>(&req.body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return json_error(
                    &WireError::bad_request(
                        "SerializationException",
                        "Start of structure or map found where not expected, or the body is not valid JSON.",
                    ),
                    &rid,
                );
            }
        }
    };
    let info = CallInfo::new(authed, &req, now);
    run(state, op_name, op, body, info).await
}

fn outcome(
    op_name: &str,
    read_only: bool,
    body: &Value,
    result: &cairn_core::error::ApiResult<ops::OpOutput>,
) -> Outcome {
    let request_parameters = match body.as_object() {
        Some(m) if m.is_empty() => Value::Null,
        _ => camelize(body),
    };
    match result {
        Ok(out) => Outcome {
            event_source: "cloudtrail.amazonaws.com",
            event_name: op_name.to_owned(),
            read_only,
            management: true,
            request_parameters,
            response_elements: match (&out.output, read_only) {
                (_, true) => Value::Null,
                (Value::Object(m), false) if m.is_empty() => Value::Null,
                (v, false) => camelize(v),
            },
            error: None,
            resources: out.resources.clone(),
            additional_event_data: None,
        },
        Err(e) => {
            let wire = WireError::from(e);
            Outcome {
                event_source: "cloudtrail.amazonaws.com",
                event_name: op_name.to_owned(),
                read_only,
                management: true,
                request_parameters,
                response_elements: Value::Null,
                error: Some((wire.code.to_owned(), wire.message)),
                resources: Vec::new(),
                additional_event_data: None,
            }
        }
    }
}

/// Probes every configured external bucket (outside any store transaction).
async fn probe_external(state: &AppState) -> cairn_core::trails::ExternalBuckets {
    let mut out = cairn_core::trails::ExternalBuckets::new();
    for name in state.settings.external.names() {
        let reachable = match state.settings.external.reachable(&name).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(bucket = %name, error = %e, "external bucket unreachable");
                false
            }
        };
        out.insert(name, reachable);
    }
    out
}

/// AWS always has a current digest-signing key in a region: makes the region's first one
/// (outside any store transaction) before ListPublicKeys reads the keys. Digests make the
/// later ones.
async fn ensure_current_key(state: &AppState, ctx: &cairn_core::CallContext) {
    let (dir, store) = (state.settings.data_dir.clone(), state.store.clone());
    let (region, now) = (ctx.region.to_string(), ctx.now);
    let made = tokio::task::spawn_blocking(move || {
        cairn_delivery::KeyRing::new(&dir, store)
            .map_err(cairn_delivery::DeliveryError::from)
            .and_then(|ring| ring.current(&region, now))
    })
    .await;
    match made {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot make the region's signing key"),
        Err(e) => tracing::warn!(error = %e, "signing key task failed"),
    }
}

async fn run(
    state: &AppState,
    op_name: String,
    op: ops::Op,
    body: Value,
    info: CallInfo,
) -> Response {
    let rid = info.request_id.clone();
    let external = if matches!(op_name.as_str(), "CreateTrail" | "UpdateTrail") {
        probe_external(state).await
    } else {
        Default::default()
    };
    if op_name == "ListPublicKeys" {
        ensure_current_key(state, &info.ctx).await;
    }
    let env = ops::OpEnv {
        ctx: info.ctx.clone(),
        token_key: state.settings.token_key.clone(),
        retention_secs: state.settings.retention_secs,
        external,
    };
    let read_only = op.read_only;
    let body_for_op = body.clone();
    let executed = recording::execute(
        &state.store,
        info,
        read_only,
        move |conn| (op.run)(conn, &env, &body_for_op),
        move |result| outcome(&op_name, read_only, &body, result),
    )
    .await;
    match executed {
        Ok(Ok(out)) => json_ok(&out.output, &rid),
        Ok(Err(e)) if e.kind != cairn_core::ErrorKind::Internal => {
            json_error(&WireError::from(&e), &rid)
        }
        _ => internal(&rid),
    }
}
