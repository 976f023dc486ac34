//! STS over the AWS Query protocol (`Version=2011-06-15`, namespace
//! `https://sts.amazonaws.com/doc/2011-06-15/`): GetCallerIdentity, AssumeRole,
//! GetSessionToken, GetAccessKeyInfo. Events carry `eventSource` `sts.amazonaws.com` and the
//! credential-scope region; they never carry secret keys or session tokens. The federated
//! actions, which SDKs send unsigned, are refused in `federated` (Cairn has no identity
//! providers) and recorded with the caller their token names.

mod federated;

use std::sync::Arc;

use axum::response::Response;
use cairn_core::authz::{Permission, ResourcePolicy};
use cairn_core::error::ApiResult;
use cairn_core::sts::{self, AssumeRoleInput, Credentials};
use cairn_core::{ApiError, CallContext, ErrorKind};
use cairn_model::event::EventResource;
use cairn_store::Connection;
use serde_json::{Value, json};

use crate::errors::WireError;
use crate::iam::input::{Input, request_parameters};
use crate::iam::xml::{el, opt};
use crate::protocol::Protocol;
use crate::query::Params;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate};

/// The STS XML namespace.
pub const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// `Expiration`: ISO 8601 in whole seconds, as the STS API reference shows it.
fn expiration(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The Java-style date CloudTrail writes for `credentials.expiration`, with a comma after
/// the year as real STS records have it (`Nov 30, 2024, 8:43:17 PM`; IAM's has none).
fn java_date(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%b %-d, %Y, %-I:%M:%S %p")
        .to_string()
}

fn credentials_xml(c: &Credentials) -> String {
    format!(
        "<Credentials>{}{}{}{}</Credentials>",
        el("AccessKeyId", &c.access_key_id),
        el("SecretAccessKey", &c.secret_access_key),
        el("SessionToken", &c.session_token),
        el("Expiration", &expiration(c.expiration))
    )
}

/// `responseElements.credentials`: never the secret key. The session token is there, as in
/// AWS's records (the IAM user guide's examples and every AssumeRole, GetSessionToken and
/// GetFederationToken record in the shared datasets): without the secret it signs nothing.
fn credentials_element(c: &Credentials) -> Value {
    json!({
        "accessKeyId": c.access_key_id,
        "expiration": java_date(c.expiration),
        "sessionToken": c.session_token,
    })
}

struct Reply {
    xml: String,
    elements: Value,
    resources: Vec<(EventResource, String)>,
    /// Request parameters the record shows beyond the request's own (AssumeRole's
    /// `incomingTransitiveTags`, the tags a chained session inherits).
    extra_parameters: Vec<(&'static str, Value)>,
}

/// Whether an AssumeRole carries `ProvidedContexts` (context assertions signed by a trusted
/// provider such as IAM Identity Center).
fn has_provided_contexts(p: &Input) -> bool {
    !p.structs("ProvidedContexts").is_empty()
}

fn assume_role_input(p: &Input) -> ApiResult<AssumeRoleInput> {
    // Cairn has no context provider, so no assertion can be verified: refused, rather than
    // credentials issued as if the context had been checked.
    if has_provided_contexts(p) {
        return Err(ApiError::new(
            ErrorKind::CwInvalidParameterValue,
            "Cairn cannot verify ProvidedContexts: it has no trusted context provider.",
        ));
    }
    Ok(AssumeRoleInput {
        role_arn: p.req("RoleArn", "roleArn")?,
        session_name: p.req("RoleSessionName", "roleSessionName")?,
        duration: p.int("DurationSeconds", "durationSeconds")?,
        policy: p.opt("Policy"),
        policy_arns: p
            .structs("PolicyArns")
            .into_iter()
            .filter_map(|s| s.opt("arn"))
            .collect(),
        tags: p.tags()?,
        transitive_tag_keys: p.list("TransitiveTagKeys"),
        external_id: p.opt("ExternalId"),
        serial_number: p.opt("SerialNumber"),
        token_code: p.opt("TokenCode"),
        source_identity: p.opt("SourceIdentity"),
    })
}

fn run(action: &str, p: &Input, c: &Connection, ctx: &CallContext) -> ApiResult<Reply> {
    match action {
        "GetCallerIdentity" => {
            let id = sts::get_caller_identity(ctx);
            Ok(Reply {
                xml: format!(
                    "{}{}{}",
                    el("UserId", &id.user_id),
                    el("Account", &id.account),
                    el("Arn", &id.arn)
                ),
                elements: Value::Null,
                resources: Vec::new(),
                extra_parameters: Vec::new(),
            })
        }
        "GetAccessKeyInfo" => {
            let account = sts::get_access_key_info(c, ctx, &p.req("AccessKeyId", "accessKeyId")?)?;
            Ok(Reply {
                xml: el("Account", &account),
                elements: Value::Null,
                resources: Vec::new(),
                extra_parameters: Vec::new(),
            })
        }
        "GetSessionToken" => {
            let creds = sts::get_session_token(
                c,
                ctx,
                p.int("DurationSeconds", "durationSeconds")?,
                p.opt("SerialNumber").as_deref(),
                p.opt("TokenCode").as_deref(),
            )?;
            Ok(Reply {
                xml: credentials_xml(&creds),
                elements: json!({"credentials": credentials_element(&creds)}),
                resources: Vec::new(),
                extra_parameters: Vec::new(),
            })
        }
        "AssumeRole" => {
            let out = sts::assume_role(c, ctx, &assume_role_input(p)?)?;
            let mut elements = json!({
                "credentials": credentials_element(&out.credentials),
                "assumedRoleUser": {"assumedRoleId": out.assumed_role_id, "arn": out.arn},
            });
            if let Some(n) = out.packed_policy_size {
                elements["packedPolicySize"] = json!(n);
            }
            if let Some(s) = &out.source_identity {
                elements["sourceIdentity"] = json!(s);
            }
            // CloudTrail's AssumeRole record lists the tags inherited from the calling session
            // as `requestParameters.incomingTransitiveTags` (`{"<key>": "<value>"}`).
            let incoming = if out.incoming_transitive_tags.is_empty() {
                Vec::new()
            } else {
                let tags: serde_json::Map<String, Value> = out
                    .incoming_transitive_tags
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                vec![("incomingTransitiveTags", Value::Object(tags))]
            };
            let resource = EventResource {
                arn: out.role_arn.clone(),
                account_id: Some(ctx.account().to_string()),
                resource_type: "AWS::IAM::Role".to_owned(),
                arn_prefix: None,
            };
            Ok(Reply {
                xml: format!(
                    "{}<AssumedRoleUser>{}{}</AssumedRoleUser>{}{}",
                    credentials_xml(&out.credentials),
                    el("AssumedRoleId", &out.assumed_role_id),
                    el("Arn", &out.arn),
                    opt(
                        "PackedPolicySize",
                        out.packed_policy_size.map(|n| n.to_string()).as_deref()
                    ),
                    opt("SourceIdentity", out.source_identity.as_deref())
                ),
                elements,
                resources: vec![(resource, out.role_arn)],
                extra_parameters: incoming,
            })
        }
        other => Err(ApiError::new(
            ErrorKind::IamValidation,
            format!("Could not find operation {other} for version 2011-06-15"),
        )),
    }
}

/// The permissions a call needs. AssumeRole: `sts:AssumeRole` on the role, under its trust
/// policy, and `sts:TagSession` when it passes tags and `sts:SetSourceIdentity` when it sets a
/// source identity, each on the role too, so a refusal names the action refused.
/// GetSessionToken needs none: "No permissions are required for users to perform this
/// operation" (STS API reference); policies cannot control authentication.
/// The resource an STS operation Cairn does not carry out is authorized on: the federated
/// user GetFederationToken would make (`federated-user/<Name>`, as the Service Authorization
/// Reference names it), else `*`.
fn unserved_resource(
    _: &Connection,
    ctx: &CallContext,
    op: &str,
    params: &Value,
) -> ApiResult<String> {
    Ok(match (op, params.get("name").and_then(Value::as_str)) {
        ("GetFederationToken", Some(name)) => {
            format!("arn:aws:sts::{}:federated-user/{name}", ctx.account())
        }
        _ => "*".to_owned(),
    })
}

/// What an STS call must be allowed to do. `inherited` is the source identity of the role
/// session that calls AssumeRole (role chaining): it passes to the new session, so the trust
/// policy sees it as `sts:SourceIdentity`, as if sent.
fn permission(action: &str, p: &Input, inherited: Option<String>) -> Vec<Permission> {
    let iam_action = format!("sts:{action}");
    match (action, p.opt("RoleArn")) {
        ("AssumeRole", Some(role)) => {
            let mut perm = Permission::new(iam_action, role.clone())
                .under(ResourcePolicy::RoleTrust(role.clone()));
            if let Some(name) = p.opt("RoleSessionName") {
                perm = perm.with("sts:RoleSessionName", name);
            }
            if let Some(e) = p.opt("ExternalId") {
                perm = perm.with("sts:ExternalId", e);
            }
            let sent = p.opt("SourceIdentity");
            if let Some(s) = sent.as_ref().or(inherited.as_ref()) {
                perm = perm.with("sts:SourceIdentity", s.clone());
            }
            // A malformed tag list is the operation's own error; here it only adds no keys.
            let tags = p.tags().unwrap_or_default();
            for (k, v) in &tags {
                perm = perm.with(&format!("aws:RequestTag/{k}"), v.clone());
            }
            if !tags.is_empty() {
                perm =
                    perm.with_values("aws:TagKeys", tags.iter().map(|(k, _)| k.clone()).collect());
            }
            let transitive = p.list("TransitiveTagKeys");
            if !transitive.is_empty() {
                perm = perm.with_values("sts:TransitiveTagKeys", transitive);
            }
            let mut needed = vec![perm.clone()];
            if !tags.is_empty() {
                needed.push(Permission {
                    action: "sts:TagSession".to_owned(),
                    ..perm.clone()
                });
            }
            // An inherited one needs `sts:SetSourceIdentity` too: the core checks that, after
            // the inherited tags' `sts:TagSession`.
            if sent.is_some() {
                needed.push(Permission {
                    action: "sts:SetSourceIdentity".to_owned(),
                    ..perm.clone()
                });
            }
            // Context from a trusted provider needs `sts:SetContext` (IAM Identity Center's
            // trusted identity propagation); Cairn then refuses it, as it cannot verify it.
            if has_provided_contexts(p) {
                needed.push(Permission {
                    action: "sts:SetContext".to_owned(),
                    ..perm
                });
            }
            needed
        }
        ("GetSessionToken", _) => Vec::new(),
        _ => vec![Permission::any(iam_action)],
    }
}

const ACTIONS: &[&str] = &[
    "GetCallerIdentity",
    "GetAccessKeyInfo",
    "GetSessionToken",
    "AssumeRole",
];

/// Answers one STS request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let params = Params::parse(&req.raw_query, &req.body);
    let now = state.now();
    if let Some(refused) = federated::refusal(&params, &state.settings.account) {
        return federated_refused(state, &req, &params, refused, now).await;
    }
    let authed = match authenticate(state, &req, Protocol::Query, now).await {
        Ok(a) => a,
        Err(e) => return crate::query::error(XMLNS, &e, &rid),
    };
    let action = params.action().to_owned();
    if !ACTIONS.contains(&action.as_str()) {
        if crate::unserved::is_operation("sts", &action) {
            let info = CallInfo::new(authed, &req, now);
            let service = crate::unserved::Service {
                event_source: "sts.amazonaws.com",
                prefix: "sts",
                wire: |e| WireError::from(e),
                resource: unserved_resource,
            };
            let recorded = crate::query_record::request_parameters("sts", &params);
            let e = crate::unserved::refuse(&state.gate, info, service, &action, recorded).await;
            return crate::query::error(XMLNS, &WireError::from(&e), &rid);
        }
        let e = WireError::bad_request(
            "InvalidAction",
            format!("Could not find operation {action} for version 2011-06-15"),
        );
        return crate::query::error(XMLNS, &e, &rid);
    }
    let info = CallInfo::new(authed, &req, now);
    // GetCallerIdentity answers in JSON to a client that asks (sdk6: token verifiers parse
    // the JSON form of a presigned GetCallerIdentity).
    let json = action == "GetCallerIdentity" && crate::query::wants_json(&req);
    let ctx = info.ctx.clone();
    match call_internal(state, info, &params).await {
        Ok(_) if json => {
            let id = sts::get_caller_identity(&ctx);
            let result = json!({"UserId": id.user_id, "Account": id.account, "Arn": id.arn});
            crate::query::json_answer(&action, Ok(result), &rid)
        }
        Ok(xml) => crate::query::ok(XMLNS, &action, Some(&xml), &rid),
        Err(e) if json => crate::query::json_answer(&action, Err(&WireError::from(&e)), &rid),
        Err(e) => crate::query::error(XMLNS, &WireError::from(&e), &rid),
    }
}

/// Records and answers a refused federated call (see [`federated`]).
async fn federated_refused(
    state: &AppState,
    req: &Received,
    params: &Params,
    refused: federated::Refusal,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let rid = req.request_id.clone();
    let Some(caller) = refused.caller else {
        return crate::query::error(XMLNS, &refused.error, &rid);
    };
    // Unsigned: recorded only when the role it names exists, so no one can fill the store
    // with calls naming made-up roles (hostile13).
    let account = state.settings.account.as_str().to_owned();
    let arn = params.get("RoleArn").unwrap_or_default().to_owned();
    let exists = state
        .store
        .read(move |c| Ok(cairn_core::iam::role_arn_exists(c, &account, &arn)))
        .await;
    match exists {
        // Throttled as STS throttles: answered without a record (hostile14).
        Ok(true) if !crate::unsigned_rate::allow(&req.source_ip, now) => {
            let e = WireError::bad_request("Throttling", "Rate exceeded");
            return crate::query::error(XMLNS, &e, &rid);
        }
        Ok(true) => {}
        Ok(false) => return crate::query::error(XMLNS, &refused.error, &rid),
        Err(_) => return crate::query::error(XMLNS, &WireError::internal(Protocol::Query), &rid),
    }
    let user_agent = req.header("user-agent").unwrap_or("").to_owned();
    let info = CallInfo {
        ctx: CallContext {
            principal: caller,
            // An unsigned call names no region: STS's global endpoint is us-east-1's.
            region: cairn_model::Region::parse("us-east-1").expect("us-east-1 exists"),
            now: now.timestamp_millis() as f64 / 1000.0,
            origin: cairn_core::context::Origin {
                source_ip: req.source_ip.clone(),
                user_agent: user_agent.clone(),
                secure_transport: req.secure_transport,
                sigv2: false,
                console: false,
            },
        },
        request_id: rid.clone(),
        source_ip: req.source_ip.clone(),
        user_agent,
        console: None,
        invoked_by: None,
        signing: None,
        owner_conditions: Vec::new(),
        started: std::time::Instant::now(),
    };
    let (code, message) = (refused.error.code.to_owned(), refused.error.message.clone());
    let event_name = params.action().to_owned();
    let describe = move |_: &ApiResult<()>| Outcome {
        event_source: "sts.amazonaws.com",
        event_name,
        read_only: true,
        management: true,
        request_parameters: refused.request_parameters,
        response_elements: Value::Null,
        error: Some((code, message)),
        resources: Vec::new(),
        additional_event_data: None,
    };
    let message = refused.error.message.clone();
    let kind = if refused.error.code == "ValidationError" {
        ErrorKind::IamValidation
    } else {
        ErrorKind::InvalidIdentityToken
    };
    let op = move |_: &Connection| -> ApiResult<()> { Err(ApiError::new(kind, message)) };
    // The operation always fails: the answer is the gate's error (the refusal itself, or
    // `ServiceUnavailable` when it could not be recorded).
    let answered = state
        .gate
        .execute(info, true, |_, _| Ok(Vec::new()), op, describe)
        .await;
    let e = answered
        .err()
        .map_or(refused.error, |e| WireError::from(&e));
    crate::query::error(XMLNS, &e, &rid)
}

/// Runs one STS operation for a caller inside the server (CloudFormation assuming a stack's
/// service role): the same permissions, gate and record a signed request reaches. Returns the
/// XML inside `<{Action}Result>`.
pub(crate) async fn call_internal(
    state: &AppState,
    info: CallInfo,
    params: &Params,
) -> ApiResult<String> {
    let params = &params.own_members("sts");
    let action = params.action().to_owned();
    if !ACTIONS.contains(&action.as_str()) {
        return Err(ApiError::new(
            ErrorKind::IamValidation,
            format!("Could not find operation {action} for version 2011-06-15"),
        ));
    }
    let ctx = info.ctx.clone();
    let input = Input::new(params);
    let restricted_action = format!("sts:{action}");
    let (action_for_perms, input_for_perms) = (action.clone(), input.clone());
    // Nothing secret is ever sent in an STS request, so every member is recorded.
    let rp = request_parameters("sts", params);
    let (act, event_name) = (action.clone(), action.clone());
    let permissions = move |conn: &Connection, ctx: &CallContext| -> ApiResult<Vec<Permission>> {
        if let Some(message) = sts::session_token_restriction(&ctx.principal, &restricted_action) {
            return Err(ApiError::new(ErrorKind::AccessDenied, message));
        }
        let inherited = match action_for_perms.as_str() {
            "AssumeRole" => sts::caller_source_identity(conn, ctx)?,
            _ => None,
        };
        Ok(permission(&action_for_perms, &input_for_perms, inherited))
    };
    let describe = move |r: &ApiResult<Reply>| Outcome {
        event_source: "sts.amazonaws.com",
        event_name,
        read_only: true,
        management: true,
        request_parameters: {
            let mut parameters = crate::recording::parameters_unless_denied(r, &rp);
            if let (Ok(reply), Value::Object(map)) = (r, &mut parameters) {
                for (k, v) in &reply.extra_parameters {
                    map.insert((*k).to_owned(), v.clone());
                }
            }
            parameters
        },
        response_elements: r
            .as_ref()
            .map(|x| x.elements.clone())
            .unwrap_or(Value::Null),
        error: r.as_ref().err().map(|e| {
            let w = WireError::from(e);
            (w.code.to_owned(), w.message)
        }),
        resources: r.as_ref().map(|x| x.resources.clone()).unwrap_or_default(),
        additional_event_data: None,
    };
    // AssumeRole and GetSessionToken store a session; the others only read.
    let read_only = matches!(action.as_str(), "GetCallerIdentity" | "GetAccessKeyInfo");
    let refusal = crate::model_check::refusal(&info, || {
        crate::model_check::check("sts", &action, crate::model_check::Input::Query(params))
            .map_err(|p| p.into_error(ErrorKind::IamValidation))
    });
    let outcome = state
        .gate
        .execute(
            info,
            read_only,
            crate::model_check::permissions_unless(refusal.is_some(), permissions),
            crate::model_check::op_unless(refusal, move |c| run(&act, &input, c, &ctx)),
            describe,
        )
        .await;
    outcome.map(|reply| reply.xml)
}
