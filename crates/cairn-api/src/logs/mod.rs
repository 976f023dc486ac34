//! CloudWatch Logs over AWS JSON 1.1 (`X-Amz-Target: Logs_20140328.<Op>`, signed as `logs`).
//!
//! [`handle`] authenticates, finds the operation in [`ops`], and runs it through the gate:
//! authorized per [`permissions`], executed in a store transaction and recorded as a CloudTrail
//! event with `eventSource` `logs.amazonaws.com`. Control calls and reads of log events
//! (GetLogEvents, FilterLogEvents, read-only) are management events; PutLogEvents is a data
//! event (`AWS::Logs::LogStream`, through advanced event selectors), so it never reaches a
//! trail by default. StartQuery runs its query on a reader and stores the answer once its
//! event is durable; its record carries the `queryId` it returned.

mod events;
mod filters;
mod ops;
mod permissions;
mod shapes;
mod wire;

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use cairn_core::error::ApiResult;
use cairn_model::event::EventResource;
use http::HeaderValue;
use serde_json::Value;

use crate::errors::{WireError, json_error};
use crate::protocol::Protocol;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate, set_request_id};

/// The `X-Amz-Target` prefixes CloudWatch Logs answers to.
pub const TARGET_PREFIXES: &[&str] = &["Logs_20140328."];

fn json_ok(body: &Value, request_id: &str) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    set_request_id(&mut resp, request_id);
    resp
}

/// Answers one CloudWatch Logs request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let now = state.now();
    let authed = match authenticate(state, &req, Protocol::Json, now).await {
        Ok(a) => a,
        Err(e) => return json_error(&e, &rid),
    };
    let target = req.header("x-amz-target").unwrap_or("");
    let Some((name, op)) = crate::json::operation(target, TARGET_PREFIXES)
        .and_then(|name| ops::find(name).map(|op| (name.to_owned(), op)))
    else {
        return json_error(&crate::json::unknown_operation(target), &rid);
    };
    let info = CallInfo::new(authed, &req, now);
    let body = match crate::json::object_body(&req.body, crate::json::NOT_AN_OBJECT) {
        Ok(b) => b,
        Err(e) => {
            let call = crate::json::Unreadable {
                event_source: "logs.amazonaws.com",
                name,
                read_only: op.record_read_only,
                management: op.management,
            };
            let e = crate::json::refuse_unreadable(&state.gate, info, call, e).await;
            return json_error(&e, &rid);
        }
    };
    // PutLogEvents sent as Embedded Metric Format makes metrics of its events.
    let emf = req
        .header("x-amzn-logs-format")
        .is_some_and(|f| f.eq_ignore_ascii_case("json/emf"));
    run(state, name, op, body, info, emf).await
}

/// Request parameters as the record shows them: the request, without the bulk of event
/// messages.
fn request_parameters(name: &str, body: &Value) -> Value {
    let mut b = crate::model_check::modeled_only("logs", name, body);
    if let Some(m) = b.as_object_mut() {
        match name {
            "PutLogEvents" => {
                m.remove("logEvents");
            }
            "TestMetricFilter" => {
                m.remove("logEventMessages");
            }
            _ => {}
        }
        if m.is_empty() {
            return Value::Null;
        }
    }
    b
}

fn outcome(
    name: &str,
    op: &ops::Op,
    body: &Value,
    named: Vec<(EventResource, String)>,
    result: &ApiResult<ops::OpOutput>,
) -> Outcome {
    let (response_elements, error, resources) = match result {
        Ok(out) => (
            match &out.output {
                Value::Object(m) if m.is_empty() => Value::Null,
                v if op.echo_response => v.clone(),
                _ if op.record_read_only => Value::Null,
                _ => Value::Null,
            },
            None,
            out.resources.clone(),
        ),
        Err(e) => {
            let wire = WireError::from(e);
            (
                Value::Null,
                Some((wire.code.to_owned(), wire.message)),
                named,
            )
        }
    };
    Outcome {
        event_source: "logs.amazonaws.com",
        event_name: name.to_owned(),
        read_only: op.record_read_only,
        management: op.management,
        request_parameters: request_parameters(name, body),
        response_elements,
        error,
        resources,
        additional_event_data: None,
    }
}

async fn run(
    state: &AppState,
    name: String,
    op: ops::Op,
    body: Value,
    info: CallInfo,
    emf: bool,
) -> Response {
    let rid = info.request_id.clone();
    match execute(state, name, op, body, info, emf).await {
        Ok(output) => json_ok(&output, &rid),
        Err(e) if e.kind != cairn_core::ErrorKind::Internal => {
            json_error(&WireError::json(&e), &rid)
        }
        Err(_) => json_error(&WireError::internal(Protocol::Json), &rid),
    }
}

/// Runs one CloudWatch Logs operation for a caller that is not an HTTP request (a
/// CloudFormation stack): the same table, permissions, gate and record a signed call reaches,
/// with `body` the JSON request an SDK would send. Returns the JSON response body, or the
/// error the API answers.
pub(crate) async fn invoke(
    state: &AppState,
    name: &str,
    body: Value,
    info: CallInfo,
) -> ApiResult<Value> {
    let op = ops::find(name).ok_or_else(|| {
        cairn_core::ApiError::new(
            cairn_core::ErrorKind::UnsupportedOperation,
            format!("Unknown operation {name}."),
        )
    })?;
    execute(state, name.to_owned(), op, body, info, false).await
}

async fn execute(
    state: &AppState,
    name: String,
    op: ops::Op,
    body: Value,
    info: CallInfo,
    emf: bool,
) -> ApiResult<Value> {
    let body = crate::model_check::own_members("logs", &name, body);
    let env = ops::OpEnv {
        ctx: info.ctx.clone(),
        token_key: state.settings.token_key.clone(),
        evaluator: state.gate.evaluator_for(&info),
        by_cloudformation: info.invoked_by.as_deref()
            == Some(crate::cloudformation::services::CLOUDFORMATION),
        emf,
    };
    // A failed call's record names the stream or group it names, as a successful one's
    // does: a refused DeleteLogGroup is found under its group in event history.
    let named = if op.management {
        // TagResource and UntagResource name the group by `resourceArn`.
        let by_arn = || {
            let arn = body
                .get("resourceArn")
                .and_then(Value::as_str)
                .filter(|a| a.starts_with("arn:"))?;
            let name = cairn_core::logs::identifier_name(&env.ctx, arn, "resourceArn").ok()?;
            Some(cairn_core::logs::GroupKey::of(&env.ctx, &name))
        };
        ops::group_of(&env, &body)
            .ok()
            .or_else(by_arn)
            .map(|key| ops::group_resource(&key))
            .unwrap_or_default()
    } else {
        events::named_resources(&env, &body)
    };
    let refusal = crate::model_check::refusal(&info, || {
        let input = crate::model_check::Input::Json {
            body: &body,
            typed: true,
        };
        crate::model_check::check("logs", &name, input)
            .map_err(|p| p.into_error(cairn_core::ErrorKind::InvalidParameter))
    });
    let body = Arc::new(body);
    let (for_op, for_perms) = (body.clone(), body.clone());
    let name_for_perms = name.clone();
    let executed = state
        .gate
        .execute(
            info,
            op.runs_on_reader,
            crate::model_check::permissions_unless(refusal.is_some(), move |conn, ctx| {
                permissions::of(conn, ctx, &name_for_perms, &for_perms)
            }),
            crate::model_check::op_unless(refusal, move |conn| (op.run)(conn, &env, &for_op)),
            move |result| outcome(&name, &op, &body, named, result),
        )
        .await?;
    if let Some(query) = executed.pending_query {
        let saved = state
            .store
            .write(move |c| cairn_core::logs::insights::save(c, &query))
            .await;
        if !matches!(saved, Ok(Ok(()))) {
            return Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::Internal,
                "cannot store the query",
            ));
        }
    }
    Ok(executed.output)
}
