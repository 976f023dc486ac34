//! The CloudTrail control plane over AWS JSON 1.1: `POST /` with `X-Amz-Target`.
//!
//! [`handle`] authenticates, parses the target and body, runs the operation from [`ops`]
//! and records the call: write operations run inside one store write job together with
//! their event (both commit, or neither); read operations run on a reader and then append
//! their event; the response goes out only after the event is durable.

mod ops;
mod permissions;
mod shapes;

use axum::body::Body;
use axum::response::Response;
use http::HeaderValue;
use serde_json::Value;

use std::sync::Arc;

use crate::errors::{WireError, json_error, json_error_keyed};
use crate::protocol::Protocol;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate, set_request_id};
use crate::wire::camelize;

pub use ops::OPERATIONS;

/// The `X-Amz-Target` prefixes CloudTrail answers to: botocore's long form and the short
/// form the Smithy-based SDKs (JavaScript v3, Rust, Go v2, Java v2) send.
pub const TARGET_PREFIXES: &[&str] = &[
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.",
    "CloudTrail_20131101.",
];

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
    json_error(&WireError::internal(Protocol::Json), request_id)
}

/// Answers one CloudTrail JSON request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let now = state.now();
    let authed = match authenticate(state, &req, Protocol::Json, now).await {
        Ok(a) => a,
        Err(e) => return json_error(&e, &rid),
    };
    let target = req.header("x-amz-target").unwrap_or("");
    let Some((op_name, op)) = crate::json::operation(target, TARGET_PREFIXES)
        .and_then(|name| ops::find(name).map(|op| (name.to_owned(), op)))
    else {
        return json_error(&crate::json::unknown_operation(target), &rid);
    };
    let info = CallInfo::new(authed, &req, now);
    let body = match crate::json::object_body(&req.body, crate::json::NOT_AN_OBJECT) {
        Ok(b) => b,
        Err(e) => {
            let call = crate::json::Unreadable {
                event_source: "cloudtrail.amazonaws.com",
                name: op_name,
                read_only: op.read_only,
                management: true,
            };
            let e = crate::json::refuse_unreadable(&state.gate, info, call, e).await;
            return json_error(&e, &rid);
        }
    };
    run(state, op_name, op, body, info).await
}

/// The trails a call names, as its permissions resolved them (home-region ARNs).
type NamedTrail = Arc<std::sync::Mutex<Vec<String>>>;

/// A failed call's resources: the trail it names, when that is a well-formed trail ARN, so
/// that a refused StopLogging or DeleteTrail is found under its trail in event history like
/// the calls that succeeded.
fn named_trail_resource(named: &NamedTrail) -> Vec<(cairn_model::event::EventResource, String)> {
    let arns = named.lock().map(|n| n.clone()).unwrap_or_default();
    arns.into_iter()
        .filter_map(|arn| {
            let parsed = cairn_model::trail::TrailArn::parse(&arn)?;
            cairn_model::trail::TrailName::parse(&parsed.name).ok()?;
            Some((
                cairn_model::event::EventResource {
                    arn: arn.clone(),
                    account_id: Some(parsed.account),
                    resource_type: "AWS::CloudTrail::Trail".into(),
                    arn_prefix: None,
                },
                arn,
            ))
        })
        .collect()
}

fn outcome(
    op_name: &str,
    read_only: bool,
    body: &Value,
    result: &cairn_core::error::ApiResult<ops::OpOutput>,
    named: &NamedTrail,
) -> Outcome {
    let modeled = crate::model_check::modeled_only("cloudtrail", op_name, body);
    let request_parameters = match modeled.as_object() {
        Some(m) if m.is_empty() => Value::Null,
        _ => camelize(&modeled),
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
                resources: named_trail_resource(named),
                additional_event_data: None,
            }
        }
    }
}

/// Probes the external bucket a CreateTrail/UpdateTrail names, if it is one, with a short
/// deadline and outside any store transaction (a slow or dead store cannot stall the control
/// plane): missing, refusing Cairn's credentials, or not answering, each with its own error.
async fn probe_external(state: &AppState, body: &Value) -> cairn_core::trails::ExternalBuckets {
    use cairn_core::trails::ExternalProbe;
    let mut out: cairn_core::trails::ExternalBuckets = state
        .settings
        .external
        .names()
        .into_iter()
        .map(|n| (n, ExternalProbe::Unprobed))
        .collect();
    let Some(name) = body.get("S3BucketName").and_then(Value::as_str) else {
        return out;
    };
    if !state.settings.external.contains(name) {
        return out;
    }
    let probe = state.settings.external.reachable(name);
    let found = match tokio::time::timeout(std::time::Duration::from_secs(3), probe).await {
        Ok(Ok(true)) => ExternalProbe::Reachable,
        Ok(Ok(false)) => ExternalProbe::Missing,
        Ok(Err(e)) => {
            tracing::warn!(bucket = %name, error = %e, "external bucket unreachable");
            if e.refused_credentials() {
                ExternalProbe::Refused(e.to_string())
            } else {
                ExternalProbe::Unreachable(e.to_string())
            }
        }
        Err(_) => {
            tracing::warn!(bucket = %name, "external bucket did not answer within 3 s");
            ExternalProbe::Unreachable("no answer within 3 s".into())
        }
    };
    out.insert(name.to_owned(), found);
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
    match execute(state, op_name, op, body, info).await {
        Ok(output) => json_ok(&output, &rid),
        // An operation's errors are CloudTrail's modeled exceptions, whose text is the
        // `Message` member (the Go, JavaScript and Rust SDKs read that member alone).
        Err(e) if e.kind != cairn_core::ErrorKind::Internal => {
            json_error_keyed(&WireError::json(&e), &rid, "Message")
        }
        Err(_) => internal(&rid),
    }
}

/// Runs one CloudTrail operation for a caller that is not an HTTP request (the web console, a
/// CloudFormation stack): the same table, permissions, gate and record an SDK call reaches,
/// with `body` the JSON request an SDK would send. Returns the JSON response body, or the
/// error the API answers.
pub(crate) async fn invoke(
    state: &AppState,
    op_name: &str,
    body: Value,
    info: CallInfo,
) -> cairn_core::error::ApiResult<Value> {
    let op = ops::find(op_name).ok_or_else(|| {
        cairn_core::ApiError::new(
            cairn_core::ErrorKind::UnsupportedOperation,
            format!("Unknown operation {op_name}."),
        )
    })?;
    execute(state, op_name.to_owned(), op, body, info).await
}

async fn execute(
    state: &AppState,
    op_name: String,
    op: ops::Op,
    body: Value,
    info: CallInfo,
) -> cairn_core::error::ApiResult<Value> {
    let body = crate::model_check::own_members("cloudtrail", &op_name, body);
    let external = if matches!(
        op_name.as_str(),
        "CreateTrail" | "UpdateTrail" | "PutInsightSelectors"
    ) {
        probe_external(state, &body).await
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
        kms_master: state.settings.kms_master.clone(),
        evaluator: state.gate.evaluator_for(&info),
    };
    let read_only = op.read_only;
    let refusal = crate::model_check::refusal(&info, || {
        let input = crate::model_check::Input::Json {
            body: &body,
            typed: true,
        };
        // A served operation answers bad values with its own modeled exceptions; one this
        // release does not serve is held to every constraint of the model before anything
        // reads its members (lake3: an 8 MB QueryStatement was lexed before authorization).
        let checked = if ops::served(&op_name).is_some() {
            crate::model_check::check_presence("cloudtrail", &op_name, input)
        } else {
            crate::model_check::check("cloudtrail", &op_name, input)
        };
        checked.map_err(|p| p.into_error(cairn_core::ErrorKind::Validation))
    });
    let body = Arc::new(body);
    let (body_for_op, body_for_perms) = (body.clone(), body.clone());
    let name_for_perms = op_name.clone();
    let named = NamedTrail::default();
    let named_by_perms = named.clone();
    state
        .gate
        .execute(
            info,
            read_only,
            crate::model_check::permissions_unless(refusal.is_some(), move |conn, ctx| {
                let needed = permissions::of(conn, ctx, &name_for_perms, &body_for_perms)?;
                if let Ok(mut slot) = named_by_perms.lock() {
                    *slot = permissions::named_trails(&name_for_perms, &body_for_perms, &needed);
                }
                Ok(needed)
            }),
            crate::model_check::op_unless(refusal, move |conn| (op.run)(conn, &env, &body_for_op)),
            move |result| outcome(&op_name, read_only, &body, result, &named),
        )
        .await
        .map(|out| out.output)
}
