//! CloudFormation over the AWS Query protocol (`Version=2010-05-15`, namespace
//! `http://cloudformation.amazonaws.com/doc/2010-05-15/`), signed as `cloudformation`.
//!
//! Every operation passes the gate (`cloudformation:<Action>` on the stack's ARN, plus
//! `iam:PassRole` for a `RoleARN`) and is recorded with `eventSource`
//! `cloudformation.amazonaws.com`. Operations that start work write the stack's
//! `_IN_PROGRESS` status in their call's transaction; the engine ([`engine`]) then runs the
//! operation in the background, making resources through [`services::Internal`]. The answer
//! waits for the operation for a short while ([`LINGER`]), so the CLI's waiters find most
//! stacks already complete on their first poll.

mod input;
pub mod policy_url;
pub mod services;
pub mod template_url;
mod xml;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::response::Response;
use cairn_core::authz::Permission;
use cairn_core::cloudformation::{
    Engine, Fault, Hold, Registry, changesets, queries, recovery, stacks,
};
use cairn_core::error::ApiResult;
use cairn_core::token::TokenKey;
use cairn_core::{ApiError, CallContext};
use cairn_store::Connection;
use serde_json::{Value, json};

use crate::errors::WireError;
use crate::iam::input::{Input, request_parameters};
use crate::iam::xml::{el, members, opt};
use crate::protocol::Protocol;
use crate::query::Params;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate};

/// The CloudFormation XML namespace.
pub const XMLNS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

/// How long an operation that starts work waits for it before answering.
pub const LINGER: Duration = Duration::from_secs(10);

/// The operations served.
pub const ACTIONS: &[&str] = &[
    "CreateStack",
    "UpdateStack",
    "DeleteStack",
    "ContinueUpdateRollback",
    "CancelUpdateStack",
    "RollbackStack",
    "DescribeStacks",
    "ListStacks",
    "DescribeStackEvents",
    "DescribeStackResource",
    "DescribeStackResources",
    "ListStackResources",
    "GetTemplate",
    "GetTemplateSummary",
    "ValidateTemplate",
    "ListExports",
    "ListImports",
    "CreateChangeSet",
    "DescribeChangeSet",
    "ExecuteChangeSet",
    "DeleteChangeSet",
    "ListChangeSets",
    "SetStackPolicy",
    "GetStackPolicy",
    "UpdateTerminationProtection",
];

fn registry() -> Arc<Registry> {
    static REGISTRY: OnceLock<Arc<Registry>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| Arc::new(Registry::standard()))
        .clone()
}

fn fault() -> Option<Arc<Fault>> {
    static FAULT: OnceLock<Option<Arc<Fault>>> = OnceLock::new();
    FAULT
        .get_or_init(|| {
            let after = std::env::var("CAIRN_FAULT_CFN_ABORT_AFTER")
                .ok()
                .and_then(|v| v.parse().ok());
            // The engine waits after each resource operation while this file exists.
            let hold = std::env::var_os("CAIRN_FAULT_CFN_HOLD_WHILE").map(|path| {
                let path = std::path::PathBuf::from(path);
                Box::new(move || {
                    let path = path.clone();
                    Box::pin(async move {
                        while path.exists() {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }) as cairn_core::cloudformation::BoxFuture<'static, ()>
                }) as Hold
            });
            // Resource operations stop as on a full store while this file exists.
            let unavailable =
                std::env::var_os("CAIRN_FAULT_CFN_UNAVAILABLE_WHILE").map(std::path::PathBuf::from);
            (after.is_some() || hold.is_some() || unavailable.is_some()).then(|| {
                let fault = Fault::new(after, hold);
                Arc::new(match unavailable {
                    Some(path) => fault.unavailable_while(Box::new(move || path.exists())),
                    None => fault,
                })
            })
        })
        .clone()
}

/// The engine over this server's services.
pub fn engine(state: &AppState) -> Engine {
    Engine {
        store: state.store.clone(),
        services: Arc::new(services::Internal {
            state: state.clone(),
        }),
        registry: registry(),
        fault: fault(),
    }
}

/// Resumes every stack operation a previous run left in progress (call before serving).
/// Returns how many were resumed.
pub async fn start(state: &AppState) -> ApiResult<usize> {
    let pending = state
        .store
        .read(cairn_store::cloudformation::stacks_in_progress)
        .await?;
    let mut n = 0;
    for row in pending {
        if row.status == "REVIEW_IN_PROGRESS" {
            continue;
        }
        let engine = engine(state);
        tracing::warn!(stack = %row.name, status = %row.status, "resuming an interrupted stack operation");
        tokio::spawn(async move { engine.run(&row.stack_id, true).await });
        n += 1;
    }
    Ok(n)
}

/// What an operation answers, and the stack whose operation it started.
struct Reply {
    xml: Option<String>,
    elements: Value,
    run: Option<String>,
}

impl Reply {
    fn xml(xml: String) -> Self {
        Self {
            xml: Some(xml),
            elements: Value::Null,
            run: None,
        }
    }
    fn none() -> Self {
        Self {
            xml: None,
            elements: Value::Null,
            run: None,
        }
    }
}

/// The ARN a stack name is authorized as: the live stack's id, or `stack/<name>/*`.
fn stack_arn(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<String> {
    if name.starts_with("arn:") {
        return Ok(name.to_owned());
    }
    let live = cairn_store::cloudformation::live_stack(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
        name,
    )?;
    Ok(live.map(|r| r.stack_id).unwrap_or_else(|| {
        format!(
            "arn:aws:cloudformation:{}:{}:stack/{name}/*",
            ctx.region,
            ctx.account()
        )
    }))
}

/// The operations that take a template (`TemplateBody` or `TemplateURL`).
const TAKES_TEMPLATE: &[&str] = &[
    "CreateStack",
    "UpdateStack",
    "CreateChangeSet",
    "ValidateTemplate",
    "GetTemplateSummary",
];

fn run(
    action: &str,
    p: &Input,
    from_url: Option<&str>,
    c: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
) -> ApiResult<Reply> {
    let reg = registry();
    let next = p.opt("NextToken");
    let next = next.as_deref();
    let paged = |list: String, next: Option<String>| {
        Reply::xml(format!("{list}{}", opt("NextToken", next.as_deref())))
    };
    let name = p.opt("StackName").unwrap_or_default();
    let started = |s: cairn_core::cloudformation::model::Stack| Reply {
        xml: Some(el("StackId", &s.stack_id)),
        elements: json!({"stackId": s.stack_id}),
        run: Some(s.stack_id),
    };
    // A retried request (its `ClientRequestToken` again) answers as the first did and starts
    // nothing.
    let accepted = |a: stacks::Accepted| Reply {
        run: a.new_work.then(|| a.stack.stack_id.clone()),
        ..started(a.stack)
    };
    Ok(match action {
        "CreateStack" => accepted(stacks::create_stack(
            c,
            ctx,
            &reg,
            &input::stack_input(p, from_url)?,
        )?),
        "UpdateStack" => accepted(stacks::update_stack(
            c,
            ctx,
            &reg,
            &input::stack_input(p, from_url)?,
        )?),
        "DeleteStack" => {
            let s = stacks::delete_stack(
                c,
                ctx,
                &name,
                stacks::DeleteInput {
                    retain: p.list("RetainResources"),
                    role_arn: p.opt("RoleARN"),
                    token: p.opt("ClientRequestToken"),
                    force: p.opt("DeletionMode").as_deref() == Some("FORCE_DELETE_STACK"),
                },
            )?;
            Reply {
                xml: None,
                elements: Value::Null,
                run: s.map(|s| s.stack_id),
            }
        }
        "ContinueUpdateRollback" => {
            let s = recovery::continue_update_rollback(
                c,
                ctx,
                &name,
                p.opt("RoleARN"),
                &p.list("ResourcesToSkip"),
                p.opt("ClientRequestToken"),
            )?;
            Reply {
                xml: Some(String::new()),
                elements: Value::Null,
                run: Some(s.stack_id),
            }
        }
        "RollbackStack" => started(recovery::rollback_stack(
            c,
            ctx,
            &name,
            p.opt("RoleARN"),
            p.opt("ClientRequestToken"),
        )?),
        "CancelUpdateStack" => {
            recovery::cancel_update_stack(c, ctx, &name)?;
            Reply::none()
        }
        "DescribeStacks" => {
            let (list, more) =
                queries::describe_stacks(c, ctx, key, p.opt("StackName").as_deref(), next)?;
            paged(members("Stacks", &list, xml::stack), more)
        }
        "ListStacks" => {
            let (list, more) =
                queries::list_stacks(c, ctx, key, &p.list("StackStatusFilter"), next)?;
            paged(members("StackSummaries", &list, xml::stack_summary), more)
        }
        "DescribeStackEvents" => {
            let (events, more) = queries::stack_events(c, ctx, key, &name, next)?;
            paged(members("StackEvents", &events, xml::event), more)
        }
        "DescribeStackResource" => {
            let logical = p.opt("LogicalResourceId").unwrap_or_default();
            let (s, rows) = queries::stack_resources(c, ctx, Some(&name), None)?;
            let r = rows
                .iter()
                .find(|r| r.logical_id == logical)
                .ok_or_else(|| {
                    stacks_invalid(format!(
                        "Resource {logical} does not exist for stack {name}"
                    ))
                })?;
            Reply::xml(format!(
                "<StackResourceDetail>{}</StackResourceDetail>",
                xml::resource_detail(&s, r)
            ))
        }
        "DescribeStackResources" => {
            let (s, rows) = queries::stack_resources(
                c,
                ctx,
                p.opt("StackName").as_deref(),
                p.opt("PhysicalResourceId").as_deref(),
            )?;
            let logical = p.opt("LogicalResourceId");
            let rows: Vec<_> = rows
                .into_iter()
                .filter(|r| logical.as_ref().is_none_or(|l| *l == r.logical_id))
                .collect();
            Reply::xml(members("StackResources", &rows, |r| xml::resource(&s, r)))
        }
        "ListStackResources" => {
            let (rows, more) = queries::list_stack_resources(c, ctx, key, &name, next)?;
            paged(
                members("StackResourceSummaries", &rows, xml::resource_summary),
                more,
            )
        }
        "GetTemplate" => {
            let body = match p.opt("ChangeSetName") {
                Some(cs) => changesets::find_change_set(c, ctx, &cs, Some(&name))?.template_body,
                None => {
                    cairn_core::cloudformation::records::find_stack(
                        c,
                        ctx.account().as_str(),
                        ctx.region.as_str(),
                        &name,
                    )?
                    .0
                    .template_body
                }
            };
            Reply::xml(format!(
                "<TemplateBody>{}</TemplateBody><StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>",
                xml::exact(&body)
            ))
        }
        "GetTemplateSummary" => {
            // One of StackName, TemplateBody and TemplateURL (the API reference).
            let given = [
                p.opt("StackName").is_some(),
                p.opt("TemplateBody").is_some(),
                p.opt("TemplateURL").is_some(),
            ];
            if given.iter().filter(|g| **g).count() > 1 {
                return Err(stacks_invalid(
                    "You must specify only one of StackName, StackSetName, TemplateBody, or TemplateURL.",
                ));
            }
            let body = match (p.opt("TemplateBody"), p.opt("StackName")) {
                (Some(b), _) => cairn_core::cloudformation::prepare::body_of(Some(&b), None)?,
                (None, Some(s)) => {
                    cairn_core::cloudformation::records::find_stack(
                        c,
                        ctx.account().as_str(),
                        ctx.region.as_str(),
                        &s,
                    )?
                    .0
                    .template_body
                }
                (None, None) => cairn_core::cloudformation::prepare::body_of(None, from_url)?,
            };
            Reply::xml(xml::template_summary(&queries::summarize(&reg, &body)?))
        }
        "ValidateTemplate" => {
            // With both, ValidateTemplate uses TemplateBody (the API reference).
            let body = match p.opt("TemplateBody") {
                Some(b) => cairn_core::cloudformation::prepare::body_of(Some(&b), None)?,
                None => cairn_core::cloudformation::prepare::body_of(None, from_url)?,
            };
            Reply::xml(xml::validation(&queries::summarize(&reg, &body)?))
        }
        "ListExports" => {
            let (list, more) = queries::list_exports(c, ctx, key, next)?;
            let list = members("Exports", &list, |(n, v, s)| {
                format!(
                    "{}{}{}",
                    el("ExportingStackId", s),
                    el("Name", n),
                    el("Value", v)
                )
            });
            paged(list, more)
        }
        "ListImports" => {
            let names = queries::list_imports(c, ctx, &p.opt("ExportName").unwrap_or_default())?;
            Reply::xml(members("Imports", &names, |n| crate::iam::xml::escape(n)))
        }
        "CreateChangeSet" => {
            // Importing existing resources is an import, which Cairn does not carry out: a
            // change set that would claim `Add` for them is refused as `IMPORT` is (cfn7).
            if p.boolean("ImportExistingResources", "importExistingResources")? == Some(true) {
                return Err(cairn_core::cloudformation::prepare::invalid(
                    "Resource import is not supported by this Cairn release.",
                ));
            }
            let cs = changesets::create_change_set(
                c,
                ctx,
                &reg,
                &input::stack_input(p, from_url)?,
                &p.opt("ChangeSetName").unwrap_or_default(),
                &p.opt("ChangeSetType")
                    .unwrap_or_else(|| "UPDATE".to_owned()),
                p.opt("Description"),
            )?;
            Reply {
                xml: Some(format!(
                    "{}{}",
                    el("Id", &cs.change_set_id),
                    el("StackId", &cs.stack_id)
                )),
                elements: json!({"id": cs.change_set_id, "stackId": cs.stack_id}),
                run: None,
            }
        }
        "DescribeChangeSet" => {
            // Every change fits one page, so no token was ever given for one.
            if let Some(t) = p.opt("NextToken") {
                return Err(cairn_core::cloudformation::prepare::invalid(format!(
                    "{t} is not a valid NextToken"
                )));
            }
            let cs = changesets::find_change_set(
                c,
                ctx,
                &p.opt("ChangeSetName").unwrap_or_default(),
                p.opt("StackName").as_deref(),
            )?;
            Reply::xml(xml::change_set(&cs))
        }
        "ExecuteChangeSet" => {
            let s = changesets::execute_change_set(
                c,
                ctx,
                &p.opt("ChangeSetName").unwrap_or_default(),
                p.opt("StackName").as_deref(),
                p.boolean("DisableRollback", "disableRollback")?,
                p.opt("ClientRequestToken"),
            )?;
            Reply {
                xml: Some(String::new()),
                elements: Value::Null,
                run: s.new_work.then_some(s.stack.stack_id),
            }
        }
        "DeleteChangeSet" => {
            changesets::delete_change_set(
                c,
                ctx,
                &p.opt("ChangeSetName").unwrap_or_default(),
                p.opt("StackName").as_deref(),
            )?;
            Reply::xml(String::new())
        }
        "ListChangeSets" => {
            let (list, more) = changesets::list_change_sets(c, ctx, key, &name, next)?;
            paged(members("Summaries", &list, xml::change_set_summary), more)
        }
        "SetStackPolicy" => {
            let policy = p.opt("StackPolicyBody").ok_or_else(|| {
                stacks_invalid("Either StackPolicyBody or StackPolicyURL must be specified.")
            })?;
            stacks::set_stack_policy(c, ctx, &name, &policy)?;
            Reply::none()
        }
        "GetStackPolicy" => {
            let s = cairn_core::cloudformation::records::find_live(
                c,
                ctx.account().as_str(),
                ctx.region.as_str(),
                &name,
            )?;
            Reply::xml(opt("StackPolicyBody", s.stack_policy.as_deref()))
        }
        "UpdateTerminationProtection" => {
            let on = p
                .boolean("EnableTerminationProtection", "enableTerminationProtection")?
                .unwrap_or(false);
            let id = stacks::set_termination_protection(c, ctx, &name, on)?;
            Reply::xml(el("StackId", &id))
        }
        other => {
            return Err(stacks_invalid(format!(
                "Could not find operation {other} for version 2010-05-15"
            )));
        }
    })
}

fn stacks_invalid(message: impl Into<String>) -> ApiError {
    cairn_core::cloudformation::prepare::invalid(message)
}

fn is_read_only(action: &str) -> bool {
    ["Describe", "List", "Get", "Validate"]
        .iter()
        .any(|p| action.starts_with(p))
}

/// `requestParameters`, with the values of the `NoEcho` parameters of the template the call
/// uses masked (`template`: one read from `TemplateURL`, or the stack's own for
/// `UsePreviousTemplate`; else the `TemplateBody` sent). When that template is unknown or
/// cannot be parsed (an unreadable URL, a malformed body, a stack that does not exist), every
/// value is masked: which are `NoEcho` cannot be told, and a secret must never reach a record.
fn recorded_parameters(params: &Params, template: Option<&str>) -> Value {
    let mut rp = request_parameters("cloudformation", params);
    let known = template
        .or(params.get("TemplateBody"))
        .and_then(|body| cairn_template::Template::parse(body).ok())
        .map(|t| {
            t.parameters
                .iter()
                .filter(|p| p.no_echo)
                .map(|p| p.name.clone())
                .collect::<Vec<_>>()
        });
    let unknown = known.is_none();
    let hidden = known.unwrap_or_default();
    if let Some(list) = rp.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in list {
            let key = p
                .get("parameterKey")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if (unknown || hidden.contains(&key)) && p.get("parameterValue").is_some() {
                p["parameterValue"] = json!("****");
            }
        }
    }
    rp
}

/// What a CloudFormation call must be allowed: `cloudformation:<Action>` on the stack (its
/// live id, or `stack/<name>/*`), with CloudFormation's condition keys (the service role, the
/// `ResourceTypes` the call declares, and the tags it sets), and `iam:PassRole` for a role.
fn permissions_of(
    input: &Input,
    action: &str,
    conn: &Connection,
    ctx: &CallContext,
) -> ApiResult<Vec<Permission>> {
    // A change set named by ARN acts on its own stack, whatever `StackName` says: that stack
    // is the one authorized (cfn4: an ARN alone was authorized on `*`, so a Deny on the
    // stack did not apply).
    let change_set_stack = match input.opt("ChangeSetName") {
        Some(cs) if cs.starts_with("arn:") => {
            cairn_store::cloudformation::get_change_set(conn, &cs)?.map(|row| row.stack_id)
        }
        _ => None,
    };
    let resource = match (change_set_stack, input.opt("StackName")) {
        (Some(stack_id), _) => stack_id,
        (None, Some(name)) => stack_arn(conn, ctx, &name)?,
        // Listings are authorized on the region's stacks, the resource CloudFormation's
        // denials name.
        (None, None) if action == "ListStacks" => {
            format!(
                "arn:aws:cloudformation:{}:{}:stack/*/*",
                ctx.region,
                ctx.account()
            )
        }
        // By a resource's physical id: on the stack that holds it (cfn12: a Deny on that
        // stack did not apply, and an Allow on it alone did not either).
        (None, None) if action == "DescribeStackResources" => input
            .opt("PhysicalResourceId")
            .and_then(|pid| queries::stack_resources(conn, ctx, None, Some(&pid)).ok())
            .map_or_else(|| "*".to_owned(), |(stack, _)| stack.stack_id),
        (None, None) => "*".to_owned(),
    };
    let mut own = Permission::new(format!("cloudformation:{action}"), resource);
    if let Some(role) = input.opt("RoleARN") {
        own = own.with("cloudformation:RoleArn", role);
    }
    let types = input.list("ResourceTypes");
    if !types.is_empty() {
        own = own.with_values("cloudformation:ResourceTypes", types);
    }
    if let Ok(Some(tags)) = input::tags(input) {
        own = own.with_request_tags(&tags);
    }
    let mut needed = vec![own];
    if let Some(role) = input.opt("RoleARN") {
        needed.push(
            Permission::new("iam:PassRole", role)
                .with("iam:PassedToService", "cloudformation.amazonaws.com"),
        );
    }
    Ok(needed)
}

/// Answers one CloudFormation request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let params = Params::parse(&req.raw_query, &req.body).own_members("cloudformation");
    let now = state.now();
    let authed = match authenticate(state, &req, Protocol::Query, now).await {
        Ok(a) => a,
        Err(e) => return crate::query::error(XMLNS, &e, &rid),
    };
    let action = params.action().to_owned();
    if !ACTIONS.contains(&action.as_str()) {
        if crate::unserved::is_operation("cloudformation", &action) {
            let info = CallInfo::new(authed, &req, now);
            let service = crate::unserved::Service {
                event_source: "cloudformation.amazonaws.com",
                prefix: "cloudformation",
                wire: |e| WireError::from(e),
                resource: crate::unserved::any_resource,
            };
            let params = recorded_parameters(&params, None);
            let e = crate::unserved::refuse(&state.gate, info, service, &action, params).await;
            return crate::query::error(XMLNS, &WireError::from(&e), &rid);
        }
        let e = WireError::bad_request(
            "InvalidAction",
            format!("Could not find operation {action} for version 2010-05-15"),
        );
        return crate::query::error(XMLNS, &e, &rid);
    }
    let info = CallInfo::new(authed, &req, now);
    // A `TemplateURL` is read first, as the caller (its own GetObject, authorized and
    // recorded); a failed read fails the call once the gate has authorized it.
    // Whether the gate would authorize the call: CloudFormation reads a template or a policy
    // by URL only for a call it authorizes (a denied call reads nothing, and the gate then
    // denies and records it).
    let authorized = || async {
        let (i, a, ctx) = (Input::new(&params), action.clone(), info.ctx.clone());
        let needed = state
            .store
            .read(move |c| Ok(permissions_of(&i, &a, c, &ctx)))
            .await;
        match needed {
            Ok(Ok(p)) => state.gate.check(&info.ctx, p).await.is_ok(),
            _ => false,
        }
    };
    let fetched: Option<ApiResult<String>> = match params.get("TemplateURL") {
        Some(_) if params.get("TemplateBody").is_some() => Some(Ok(String::new())),
        // GetTemplateSummary of a stack reads the stack's template (and refuses a URL beside).
        Some(_) if action == "GetTemplateSummary" && params.get("StackName").is_some() => {
            Some(Ok(String::new()))
        }
        Some(url) if TAKES_TEMPLATE.contains(&action.as_str()) => {
            if authorized().await {
                Some(template_url::fetch(&state.s3_objects, &info, url).await)
            } else {
                None
            }
        }
        _ => None,
    };
    // Stack policies named by URL are read into their body members for the operation; the
    // record keeps the request as sent.
    let named_policy = policy_url::members(&action)
        .iter()
        .any(|(url, _)| params.get(url).is_some());
    let (run_params, policy_refused) = if named_policy && authorized().await {
        match policy_url::read(&state.s3_objects, &info, &action, &params).await {
            Ok(p) => (p, None),
            Err(e) => (params.clone(), Some(e)),
        }
    } else {
        (params.clone(), None)
    };
    let ctx = info.ctx.clone();
    let input = Input::new(&run_params);
    let read_only = is_read_only(&action);
    let key = state.settings.token_key.clone();
    let (act, event_name) = (action.clone(), action.clone());
    let (perm_input, perm_action) = (input.clone(), action.clone());
    let previous = match (params.get("UsePreviousTemplate"), params.get("StackName")) {
        (Some("true"), Some(name)) => {
            let (name, ctx) = (name.to_owned(), info.ctx.clone());
            state
                .store
                .read(move |c| {
                    Ok(cairn_core::cloudformation::records::find_stack(
                        c,
                        ctx.account().as_str(),
                        ctx.region.as_str(),
                        &name,
                    )
                    .ok()
                    .map(|(s, ..)| s.template_body))
                })
                .await
                .ok()
                .flatten()
        }
        _ => None,
    };
    let template = fetched
        .as_ref()
        .and_then(|f| f.as_ref().ok())
        .or(previous.as_ref());
    let request_parameters = recorded_parameters(&params, template.map(String::as_str));
    let permissions = move |conn: &Connection, ctx: &CallContext| {
        permissions_of(&perm_input, &perm_action, conn, ctx)
    };
    let describe = move |r: &ApiResult<Reply>| Outcome {
        event_source: "cloudformation.amazonaws.com",
        event_name,
        read_only,
        management: true,
        request_parameters,
        response_elements: r
            .as_ref()
            .map(|x| x.elements.clone())
            .unwrap_or(Value::Null),
        error: r.as_ref().err().map(|e| {
            let w = WireError::from(e);
            (w.code.to_owned(), w.message)
        }),
        resources: Vec::new(),
        additional_event_data: None,
    };
    let refusal = crate::model_check::refusal(&info, || {
        let input = crate::model_check::Input::Query(&params);
        crate::model_check::check("cloudformation", &action, input)
            .map_err(|p| p.into_error(cairn_core::ErrorKind::IamValidation))
    });
    let outcome = state
        .gate
        .execute(
            info,
            read_only,
            crate::model_check::permissions_unless(refusal.is_some(), permissions),
            crate::model_check::op_unless(refusal, move |c| {
                if let Some(e) = policy_refused {
                    return Err(e);
                }
                let from_url = fetched.transpose()?;
                run(&act, &input, from_url.as_deref(), c, &ctx, &key)
            }),
            describe,
        )
        .await;
    match outcome {
        Ok(reply) => {
            if let Some(stack_id) = reply.run {
                let engine = engine(state);
                let task = tokio::spawn(async move { engine.run(&stack_id, false).await });
                // The task goes on in the background when it takes longer.
                let _ = tokio::time::timeout(LINGER, task).await;
            }
            crate::query::ok(XMLNS, &action, reply.xml.as_deref(), &rid)
        }
        Err(e) if e.kind == cairn_core::ErrorKind::Internal => {
            crate::query::error(XMLNS, &WireError::internal(Protocol::Query), &rid)
        }
        Err(e) => crate::query::error(XMLNS, &WireError::from(&e), &rid),
    }
}
