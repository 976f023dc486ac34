//! CloudWatch metrics and alarms (`monitoring`, 2010-08-01) in the protocol the request uses:
//! AWS JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`, what botocore 1.43, the
//! AWS CLI and the JavaScript SDK send), Smithy RPC v2 CBOR ([`cbor`], the model's first
//! protocol) or AWS Query (form `Action=<Op>`, XML answers). JSON and CBOR errors carry
//! `x-amzn-query-error` so query-compatible SDKs see the Query error code.
//!
//! Every operation runs through the gate: authorized as `cloudwatch:<Op>`, executed in a store
//! transaction and recorded with `eventSource` `monitoring.amazonaws.com` (the metric data
//! calls as data events). SetAlarmState's actions are published once its event is durable.

mod alarm_ops;
pub(crate) mod cbor;
mod input;
mod metric_data;
mod metric_ops;
mod output;

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use cairn_core::CallContext;
use cairn_core::authz::Permission;
use cairn_core::error::ApiResult;
use cairn_core::publish::Publication;
use cairn_core::sse::KmsAccess;
use cairn_core::token::TokenKey;
use cairn_store::Connection;
use http::HeaderValue;
use serde_json::Value;

use crate::errors::WireError;
use crate::protocol::Protocol;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate, set_request_id};
use output::Out;

/// The XML namespace of Query responses.
pub const XMLNS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

/// The `X-Amz-Target` prefixes CloudWatch answers to.
pub const TARGET_PREFIXES: &[&str] = &[
    "GraniteServiceVersion20100801.",
    "com.amazonaws.cloudwatch.v20100801.GraniteServiceVersion20100801.",
];

/// What an operation produced: its result members and the SNS publications to send.
pub struct Done {
    /// Result members (`None`: no result element).
    pub out: Option<Out>,
    /// Publications (alarm actions) to send once the call is durable.
    pub publications: Vec<Publication>,
}

impl Done {
    fn empty() -> Self {
        Self {
            out: None,
            publications: Vec::new(),
        }
    }

    fn with(out: Out) -> Self {
        Self {
            out: Some(out),
            publications: Vec::new(),
        }
    }
}

/// How an operation runs: on the caller's context, or also with the server's token key
/// (operations that hand out signed `NextToken`s).
#[derive(Clone, Copy)]
enum Run {
    Plain(fn(&Connection, &CallContext, &Value) -> ApiResult<Done>),
    Paged(fn(&Connection, &CallContext, &TokenKey, &Value) -> ApiResult<Done>),
    /// Operations that may run an alarm's actions, which ask KMS for an encrypted topic's
    /// data key as CloudWatch.
    Acting(fn(&Connection, &CallContext, KmsAccess<'_>, &Value) -> ApiResult<Done>),
}

#[derive(Clone, Copy)]
struct Op {
    run: Run,
    read_only: bool,
    data_event: bool,
}

/// A call of a served operation whose body could not be read is recorded with its refusal
/// ([`crate::json::refuse_unreadable`]); another name is refused unrecorded, as before.
async fn refuse_unreadable(
    state: &AppState,
    req: &Arc<Received>,
    authed: crate::auth::Authenticated,
    now: chrono::DateTime<chrono::Utc>,
    name: &str,
    refusal: WireError,
) -> WireError {
    let Some(op) = find(name) else {
        return refusal;
    };
    let call = crate::json::Unreadable {
        event_source: "monitoring.amazonaws.com",
        name: name.to_owned(),
        read_only: op.read_only,
        management: !op.data_event,
    };
    let info = CallInfo::new(authed, req, now);
    crate::json::refuse_unreadable(&state.gate, info, call, refusal).await
}

/// CloudWatch's request size limits, in bytes as sent (the PutMetricData reference: "Each
/// PutMetricData request is limited to 1 MB in size for HTTP POST requests"; GetMetricData's
/// 614,400 is the figure its refusals name). A gzip'd body is measured as sent, the only size
/// a client can know before sending; AWS does not say which it counts.
const SIZE_LIMITS: &[(&str, usize)] = &[("PutMetricData", 1_048_576), ("GetMetricData", 614_400)];

/// 413 `RequestEntityTooLarge` for a request over its operation's limit, as AWS answers it.
fn oversized(name: &str, req: &Received) -> Option<WireError> {
    let (_, limit) = SIZE_LIMITS.iter().find(|(n, _)| *n == name)?;
    // The body as sent, however it came (a chunked gzip'd body declares no length: alarms7).
    let sent = req.sent_len;
    (sent > *limit).then(|| WireError {
        code: "RequestEntityTooLarge",
        status: http::StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("Request size {sent} exceeded {limit} bytes"),
    })
}

fn find(name: &str) -> Option<Op> {
    use Run::{Acting, Paged, Plain};
    let (run, read_only, data_event): (Run, bool, bool) = match name {
        "PutMetricData" => (Plain(metric_ops::put_metric_data), false, true),
        "GetMetricStatistics" => (Plain(metric_ops::get_metric_statistics), true, true),
        "GetMetricData" => (Paged(metric_data::get_metric_data), true, true),
        "ListMetrics" => (Paged(metric_ops::list_metrics), true, true),
        "PutMetricAlarm" => (Plain(alarm_ops::put_metric_alarm), false, false),
        "DescribeAlarms" => (Paged(alarm_ops::describe_alarms), true, false),
        "DescribeAlarmsForMetric" => (Plain(alarm_ops::describe_alarms_for_metric), true, false),
        "DeleteAlarms" => (Plain(alarm_ops::delete_alarms), false, false),
        "SetAlarmState" => (Acting(alarm_ops::set_alarm_state), false, false),
        "EnableAlarmActions" => (Plain(alarm_ops::enable_alarm_actions), false, false),
        "DisableAlarmActions" => (Plain(alarm_ops::disable_alarm_actions), false, false),
        "DescribeAlarmHistory" => (Paged(alarm_ops::describe_alarm_history), true, false),
        "ListTagsForResource" => (Plain(alarm_ops::list_tags_for_resource), true, false),
        "TagResource" => (Plain(alarm_ops::tag_resource), false, false),
        "UntagResource" => (Plain(alarm_ops::untag_resource), false, false),
        _ => return None,
    };
    Some(Op {
        run,
        read_only,
        data_event,
    })
}

/// The JSON shape name of a Query error code (for `__type`).
fn shape_of(code: &str) -> &str {
    match code {
        "InvalidParameterValue" => "InvalidParameterValueException",
        "MissingParameter" => "MissingRequiredParameterException",
        "InvalidParameterCombination" => "InvalidParameterCombinationException",
        "LimitExceeded" => "LimitExceededFault",
        "InvalidFormat" => "InvalidFormatFault",
        "InternalFailure" => "InternalServiceFault",
        other => other,
    }
}

fn json_error(e: &WireError, rid: &str) -> Response {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.cloudwatch#{}", shape_of(e.code)),
        "message": e.message,
    });
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = e.status;
    let fault = if e.status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    if let Ok(v) = HeaderValue::from_str(&format!("{};{fault}", e.code)) {
        resp.headers_mut().insert("x-amzn-query-error", v);
    }
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    set_request_id(&mut resp, rid);
    resp
}

/// The wire protocol of a request, which its answer uses too.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wire {
    Json,
    Cbor,
    Query,
}

impl Wire {
    /// The shared protocol whose error vocabulary this one uses.
    fn protocol(self) -> Protocol {
        match self {
            Wire::Query => Protocol::Query,
            Wire::Json | Wire::Cbor => Protocol::Json,
        }
    }
}

/// An error in RPC v2 CBOR (also for errors the listener answers before CloudWatch reads
/// the request).
pub(crate) fn cbor_error(e: &WireError, rid: &str) -> Response {
    let mut resp = json_error(e, rid);
    *resp.body_mut() = Body::from(cbor::error(shape_of(e.code), &e.message));
    cbor_headers(&mut resp);
    resp
}

fn cbor_headers(resp: &mut Response) {
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/cbor"),
    );
    resp.headers_mut()
        .insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
}

fn error(wire: Wire, e: &WireError, rid: &str) -> Response {
    match wire {
        Wire::Query => crate::query::error(XMLNS, e, rid),
        Wire::Cbor => cbor_error(e, rid),
        Wire::Json => json_error(e, rid),
    }
}

fn ok(wire: Wire, action: &str, out: Option<&Out>, rid: &str) -> Response {
    if wire == Wire::Query {
        let xml = out.map(Out::xml);
        return crate::query::ok(XMLNS, action, xml.as_deref(), rid);
    }
    if wire == Wire::Cbor {
        let mut resp = Response::new(Body::from(cbor::response(out)));
        cbor_headers(&mut resp);
        set_request_id(&mut resp, rid);
        return resp;
    }
    let body = out.map_or_else(|| "{}".to_owned(), |o| o.json().to_string());
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    set_request_id(&mut resp, rid);
    resp
}

/// Answers one CloudWatch request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let now = state.now();
    let target = req.header("x-amz-target").map(str::to_owned);
    let rpc = req.raw_path.starts_with("/service/");
    let wire = match (&target, rpc) {
        (_, true) => Wire::Cbor,
        (Some(_), false) => Wire::Json,
        (None, false) => Wire::Query,
    };
    let authed = match authenticate(state, &req, wire.protocol(), now).await {
        Ok(a) => a,
        Err(e) => return error(wire, &e, &rid),
    };
    let (name, body) = match &target {
        _ if rpc => {
            let Some(name) = cbor::operation(&req.raw_path) else {
                let e = WireError::bad_request(
                    "UnknownOperationException",
                    format!(
                        "{} names no CloudWatch operation.",
                        req.raw_path.chars().take(256).collect::<String>()
                    ),
                );
                return cbor_error(&e, &rid);
            };
            match cbor::request(&req.body) {
                Ok(body) => (name.to_owned(), body),
                Err(why) => {
                    let e = WireError::bad_request(
                        "SerializationException",
                        format!("The request body is not valid CBOR input: {why}."),
                    );
                    let e = refuse_unreadable(state, &req, authed, now, name, e).await;
                    return cbor_error(&e, &rid);
                }
            }
        }
        Some(t) => {
            let Some(name) = crate::json::operation(t, TARGET_PREFIXES) else {
                return json_error(&crate::json::unknown_operation(t), &rid);
            };
            let body = match crate::json::object_body(
                &req.body,
                "The request body is not a valid JSON object.",
            ) {
                Ok(b) => b,
                Err(e) => {
                    let e = refuse_unreadable(state, &req, authed, now, name, e).await;
                    return json_error(&e, &rid);
                }
            };
            (name.to_owned(), body)
        }
        None => {
            // Only names that fit the operation's input shape are read (hostile6).
            let params =
                crate::query::Params::parse(&req.raw_query, &req.body).own_members("cloudwatch");
            (params.action().to_owned(), input::from_query(&params))
        }
    };
    if let Some(e) = oversized(&name, &req) {
        let e = refuse_unreadable(state, &req, authed, now, &name, e).await;
        return error(wire, &e, &rid);
    }
    let Some(op) = find(&name) else {
        if crate::unserved::is_operation("cloudwatch", &name) {
            let info = CallInfo::new(authed, &req, now);
            let service = crate::unserved::Service {
                event_source: "monitoring.amazonaws.com",
                prefix: "cloudwatch",
                wire: |e| WireError::from(e),
                resource: crate::unserved::any_resource,
            };
            let params = crate::wire::camelize(&body);
            let e = crate::unserved::refuse(&state.gate, info, service, &name, params).await;
            return error(wire, &WireError::from(&e), &rid);
        }
        let e = WireError::bad_request(
            "InvalidAction",
            format!(
                "The action {} is not valid for this web service.",
                name.chars().take(128).collect::<String>()
            ),
        );
        return error(wire, &e, &rid);
    };
    // Query parameters are folded into JSON as strings: no JSON types to check.
    let typed = wire != Wire::Query;
    let info = CallInfo::new(authed, &req, now);
    match execute(state, &name, op, body, info, typed).await {
        Ok(done) => ok(wire, &name, done.out.as_ref(), &rid),
        Err(e) if e.kind == cairn_core::ErrorKind::Internal => {
            error(wire, &WireError::internal(wire.protocol()), &rid)
        }
        Err(e) => error(wire, &WireError::from(&e), &rid),
    }
}

/// Runs one CloudWatch operation for a caller that is not an HTTP request (a CloudFormation
/// stack): the same table, permissions, gate and record a signed call reaches, with `body` the
/// JSON request an SDK would send. Returns the JSON response body, or the error the API
/// answers.
pub(crate) async fn invoke(
    state: &AppState,
    name: &str,
    body: Value,
    info: CallInfo,
) -> ApiResult<Value> {
    let op = find(name).ok_or_else(|| {
        cairn_core::ApiError::new(
            cairn_core::ErrorKind::UnsupportedOperation,
            format!("Unknown operation {name}."),
        )
    })?;
    let done = execute(state, name, op, body, info, true).await?;
    Ok(done
        .out
        .map_or_else(|| Value::Object(Default::default()), |o| o.json()))
}

/// Runs an operation through the gate; sends its SNS publications once its event is durable.
async fn execute(
    state: &AppState,
    name: &str,
    op: Op,
    body: Value,
    info: CallInfo,
    typed: bool,
) -> ApiResult<Done> {
    let body = crate::model_check::own_members("cloudwatch", name, body);
    let refusal = crate::model_check::refusal(&info, || {
        let input = crate::model_check::Input::Json { body: &body, typed };
        crate::model_check::check("cloudwatch", name, input)
            .map_err(crate::model_check::Problem::into_cloudwatch_error)
    });
    let op_ctx = info.ctx.clone();
    let token_key = state.settings.token_key.clone();
    let (kms_master, evaluator) = (state.settings.kms_master.clone(), state.gate.evaluator());
    let body = Arc::new(body);
    let (for_op, for_perms, for_record) = (body.clone(), body.clone(), body);
    let (perm_name, record_name) = (name.to_owned(), name.to_owned());
    let done = state
        .gate
        .execute(
            info,
            op.read_only,
            crate::model_check::permissions_unless(refusal.is_some(), move |conn, ctx| {
                permissions(conn, ctx, &perm_name, &for_perms)
            }),
            crate::model_check::op_unless(refusal, move |conn| match op.run {
                Run::Plain(run) => run(conn, &op_ctx, &for_op),
                Run::Paged(run) => run(conn, &op_ctx, &token_key, &for_op),
                Run::Acting(run) => {
                    let kms = KmsAccess {
                        master: &kms_master,
                        evaluator: evaluator.as_ref(),
                    };
                    run(conn, &op_ctx, kms, &for_op)
                }
            }),
            move |r: &ApiResult<Done>| {
                // Query parameters fold into strings: recorded with the model's types.
                let recorded = if typed {
                    (*for_record).clone()
                } else {
                    input::typed_from_query(&record_name, &for_record)
                };
                Outcome {
                    event_source: "monitoring.amazonaws.com",
                    event_name: record_name,
                    read_only: op.read_only,
                    management: !op.data_event,
                    request_parameters: crate::wire::camelize(&recorded),
                    response_elements: Value::Null,
                    error: r.as_ref().err().map(|e| {
                        let w = WireError::from(e);
                        (w.code.to_owned(), w.message)
                    }),
                    resources: Vec::new(),
                    additional_event_data: None,
                }
            },
        )
        .await?;
    for p in &done.publications {
        cairn_delivery::publish(&state.notifier, p);
    }
    Ok(done)
}

/// What a call needs: `cloudwatch:<Op>` on the alarms it names, else on `*`.
fn permissions(
    conn: &cairn_store::Connection,
    ctx: &CallContext,
    op: &str,
    body: &Value,
) -> cairn_core::error::ApiResult<Vec<Permission>> {
    let needed = op_permissions(ctx, op, body);
    // A new alarm with tags is also tagged: `cloudwatch:TagResource` on it, with its request
    // tags (PutMetricAlarm's `Tags`: "you must have the cloudwatch:TagResource permission";
    // an update ignores them, so needs nothing more) (alarms3).
    if op == "PutMetricAlarm"
        && body
            .get("Tags")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty())
        && let Some(name) = body.get("AlarmName").and_then(Value::as_str)
        && !cairn_core::alarms::api::exists(conn, ctx, name)?
    {
        let tagging = op_permissions(ctx, "TagResource", &tagging_body(ctx, name, body));
        return Ok(needed.into_iter().chain(tagging).collect());
    }
    Ok(needed)
}

/// The TagResource request that tags a new alarm as PutMetricAlarm's `Tags` ask.
fn tagging_body(ctx: &CallContext, name: &str, body: &Value) -> Value {
    serde_json::json!({
        "ResourceARN": cairn_core::alarms::alarm_arn(ctx.region.as_str(), ctx.account().as_str(), name),
        "Tags": body.get("Tags").cloned().unwrap_or(Value::Null),
    })
}

fn op_permissions(ctx: &CallContext, op: &str, body: &Value) -> Vec<Permission> {
    let action = format!("cloudwatch:{op}");
    let arn = |name: &str| {
        cairn_core::alarms::alarm_arn(ctx.region.as_str(), ctx.account().as_str(), name)
    };
    let text = |m: &str| body.get(m).and_then(Value::as_str).map(str::to_owned);
    let strings = |m: &str| crate::wire::strings_of(body, m);
    // The tags a call sets (`aws:RequestTag/<key>`, `aws:TagKeys`).
    let tags: Vec<(String, String)> = body
        .get("Tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    Some((
                        t.get("Key")?.as_str()?.to_owned(),
                        t.get("Value")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    match op {
        "PutMetricAlarm" => {
            let p = match text("AlarmName") {
                Some(n) => Permission::new(action, arn(&n)),
                None => Permission::any(action),
            }
            .with_request_tags(&tags);
            // The actions an alarm would take (`cloudwatch:AlarmActions`).
            let actions: Vec<String> = ["AlarmActions", "OKActions", "InsufficientDataActions"]
                .iter()
                .flat_map(|m| strings(m))
                .collect();
            vec![if actions.is_empty() {
                p
            } else {
                p.with_values("cloudwatch:AlarmActions", actions)
            }]
        }
        "SetAlarmState" | "DescribeAlarmHistory" => match text("AlarmName") {
            Some(n) => vec![Permission::new(action, arn(&n))],
            None => vec![Permission::any(action)],
        },
        "DeleteAlarms" | "EnableAlarmActions" | "DisableAlarmActions" => {
            let names: Vec<String> = body
                .get("AlarmNames")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(arn).collect())
                .unwrap_or_default();
            if names.is_empty() {
                vec![Permission::any(action)]
            } else {
                names
                    .into_iter()
                    .map(|r| Permission::new(action.clone(), r))
                    .collect()
            }
        }
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            let p = match text("ResourceARN") {
                Some(r) => Permission::new(action, r),
                None => Permission::any(action),
            };
            let keys = strings("TagKeys");
            vec![match op {
                "TagResource" => p.with_request_tags(&tags),
                "UntagResource" if !keys.is_empty() => p.with_values("aws:TagKeys", keys),
                _ => p,
            }]
        }
        "PutMetricData" => match text("Namespace") {
            Some(ns) => vec![Permission::any(action).with("cloudwatch:namespace", ns)],
            None => vec![Permission::any(action)],
        },
        _ => vec![Permission::any(action)],
    }
}
