//! IAM over the AWS Query protocol (`Version=2010-05-08`, namespace
//! `https://iam.amazonaws.com/doc/2010-05-08/`), on the same listener, signed as service
//! `iam` with whatever region the client's scope names.
//!
//! The layer is thin: each operation parses its parameters ([`input`]) into the typed inputs
//! of `cairn_core::iam`, and writes the typed output as XML ([`xml`]). Every call passes the
//! gate (authorization as `iam:<Action>` on the entity's ARN, the operation and its event in
//! one transaction). IAM is a global service: its events carry `awsRegion` `us-east-1`
//! whatever region signed the request. A successful change drops the credential cache at once,
//! so a deactivated key stops authenticating on the next request.

mod absent;
mod account;
mod attached;
mod condition_keys;
mod details;
mod groups;
pub mod input;
mod keys;
mod policies;
mod record_errors;
mod renames;
mod roles;
mod simulate;
mod users;
pub mod xml;

pub mod admin;

use std::sync::Arc;

use axum::response::Response;
use cairn_core::CallContext;
use cairn_core::authz::Permission;
use cairn_core::error::ApiResult;
use cairn_model::{Principal, Region};
use cairn_store::Connection;
use serde_json::Value;

use crate::errors::WireError;
use crate::protocol::Protocol;
use crate::query::Params;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate};
use input::Input;

/// The IAM XML namespace.
pub const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// What an operation answers: the XML inside `<{Action}Result>` (none for operations without
/// output) and the `responseElements` of its event.
pub(crate) struct Reply {
    pub xml: Option<String>,
    pub response_elements: Value,
}

impl Reply {
    /// No output.
    pub fn empty() -> Self {
        Self {
            xml: None,
            response_elements: Value::Null,
        }
    }

    /// A result element, no response elements (reads).
    pub fn xml(xml: String) -> Self {
        Self {
            xml: Some(xml),
            response_elements: Value::Null,
        }
    }

    /// A result element and the event's response elements (creates).
    pub fn with(xml: String, response_elements: Value) -> Self {
        Self {
            xml: Some(xml),
            response_elements,
        }
    }
}

/// The resource an IAM action is authorized on.
pub(crate) enum Target {
    /// No resource-level permissions (`*`).
    Any,
    /// An existing user, group or role by name (`None`: the calling user).
    Entity(&'static str, Option<String>),
    /// A new entity: kind, path, name.
    New(&'static str, Option<String>, String),
    /// An ARN as given.
    Arn(String),
    /// The entities of a kind under a path prefix, as AWS authorizes a listing
    /// (`arn:aws:iam::<account>:user/` for ListUsers, the prefix after the kind).
    Listing(&'static str, Option<String>),
    /// The user owning an access key (`*` when there is none).
    KeyOwner(String),
    /// A user or group as it is and as a rename makes it (both are authorized).
    Renamed {
        kind: &'static str,
        name: String,
        new_name: Option<String>,
        new_path: Option<String>,
    },
}

type Run = Box<dyn FnOnce(&Connection, &CallContext) -> ApiResult<Reply> + Send>;

/// One operation, ready to pass the gate.
pub(crate) struct Call {
    pub read_only: bool,
    pub target: Target,
    pub run: Run,
}

impl Call {
    /// A read-only operation.
    pub fn read(
        target: Target,
        run: impl FnOnce(&Connection, &CallContext) -> ApiResult<Reply> + Send + 'static,
    ) -> Self {
        Self {
            read_only: true,
            target,
            run: Box::new(run),
        }
    }

    /// A mutating operation.
    pub fn write(
        target: Target,
        run: impl FnOnce(&Connection, &CallContext) -> ApiResult<Reply> + Send + 'static,
    ) -> Self {
        Self {
            read_only: false,
            target,
            run: Box::new(run),
        }
    }
}

/// The ARNs a target names: one, or two for a rename.
fn resources(conn: &Connection, ctx: &CallContext, target: &Target) -> ApiResult<Vec<String>> {
    let Target::Renamed {
        kind,
        name,
        new_name,
        new_path,
    } = target
    else {
        return Ok(vec![resource(conn, ctx, target)?]);
    };
    let old = resource(conn, ctx, &Target::Entity(kind, Some(name.clone())))?;
    let account = ctx.account().as_str();
    let stored_path = match *kind {
        "user" => cairn_store::iam::users::get_user(conn, account, name)?.map(|u| u.path),
        _ => cairn_store::iam::groups::get_group(conn, account, name)?.map(|g| g.path),
    };
    let path = new_path
        .clone()
        .or(stored_path)
        .unwrap_or_else(|| "/".to_owned());
    let new = cairn_core::iam::arn(account, kind, &path, new_name.as_deref().unwrap_or(name));
    Ok(if new == old {
        vec![old]
    } else {
        vec![old, new]
    })
}

/// The ARN a target names (existing entities with their stored path).
fn resource(conn: &Connection, ctx: &CallContext, target: &Target) -> ApiResult<String> {
    use cairn_store::iam::{groups, roles, users};
    let account = ctx.account().as_str();
    Ok(match target {
        Target::Any => "*".to_owned(),
        Target::Arn(a) => a.clone(),
        Target::Listing(kind, prefix) => {
            format!(
                "arn:aws:iam::{account}:{kind}{}",
                prefix.as_deref().unwrap_or("/")
            )
        }
        Target::KeyOwner(key) => cairn_store::iam::keys::get_access_key_meta(conn, key)?
            .and_then(|k| users::get_user_by_id(conn, &k.user_id).transpose())
            .transpose()?
            .filter(|u| u.account == account)
            .map_or_else(|| "*".to_owned(), |u| cairn_core::iam::user_arn(&u)),
        Target::New(kind, path, name) => {
            cairn_core::iam::arn(account, kind, path.as_deref().unwrap_or("/"), name)
        }
        Target::Entity(kind, None) => match &ctx.principal {
            Principal::IamUser { .. } if *kind == "user" => ctx.principal.arn(),
            _ => "*".to_owned(),
        },
        Target::Renamed { kind, name, .. } => {
            return resource(conn, ctx, &Target::Entity(kind, Some(name.clone())));
        }
        Target::Entity(kind, Some(name)) => {
            let path = match *kind {
                "user" => users::get_user(conn, account, name)?.map(|u| (u.path, u.name)),
                "group" => groups::get_group(conn, account, name)?.map(|g| (g.path, g.name)),
                _ => roles::get_role(conn, account, name)?.map(|r| (r.path, r.name)),
            };
            let (path, name) = path.unwrap_or_else(|| ("/".to_owned(), name.clone()));
            cairn_core::iam::arn(account, kind, &path, &name)
        }
    })
}

fn find_call(action: &str, p: &Input) -> Option<Call> {
    users::call(action, p)
        .or_else(|| keys::call(action, p))
        .or_else(|| groups::call(action, p))
        .or_else(|| roles::call(action, p))
        .or_else(|| policies::call(action, p))
        .or_else(|| attached::call(action, p))
        .or_else(|| details::call(action, p))
        .or_else(|| simulate::call(action, p))
        .or_else(|| account::call(action, p))
        .or_else(|| absent::call(action, p))
        .or_else(|| renames::call(action, p))
}

/// Answers one IAM request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let params = Params::parse(&req.raw_query, &req.body);
    let now = state.now();
    let authed = match authenticate(state, &req, Protocol::Query, now).await {
        Ok(a) => a,
        Err(e) => return crate::query::error(XMLNS, &e, &rid),
    };
    // GetSessionToken credentials without MFA may call no IAM operation (STS API reference,
    // GetSessionToken); AWS answers as for a token IAM does not accept.
    if cairn_core::sts::session_token_restriction(&authed.principal, "iam:*").is_some() {
        let e = crate::auth::AuthFailure::UnknownKey.to_wire(Protocol::Query);
        return crate::query::error(XMLNS, &e, &rid);
    }
    let action = params.action().to_owned();
    let input = Input::new(&params);
    if find_call(&action, &input).is_none() {
        if crate::unserved::is_operation("iam", &action) {
            let info = CallInfo::new(authed, &req, now);
            let service = crate::unserved::Service {
                event_source: "iam.amazonaws.com",
                prefix: "iam",
                wire: |e| WireError::from(e),
                resource: unserved_resource,
            };
            let recorded = crate::query_record::request_parameters("iam", &params);
            let e = crate::unserved::refuse(&state.gate, info, service, &action, recorded).await;
            return crate::query::error(XMLNS, &WireError::from(&e), &rid);
        }
        let e = WireError::bad_request(
            "InvalidAction",
            format!("Could not find operation {action} for version 2010-05-08"),
        );
        return crate::query::error(XMLNS, &e, &rid);
    }
    let info = CallInfo::new(authed, &req, now);
    match call_internal(state, info, &params).await {
        Ok(xml) => crate::query::ok(XMLNS, &action, xml.as_deref(), &rid),
        Err(e) => crate::query::error(XMLNS, &WireError::from(&e), &rid),
    }
}

/// The record of one IAM call: the same for a signed request, a stack's call and `cairn iam`.
fn outcome(
    event_name: String,
    read_only: bool,
    request_parameters: &Value,
    r: &ApiResult<Reply>,
) -> Outcome {
    Outcome {
        event_source: "iam.amazonaws.com",
        event_name,
        read_only,
        management: true,
        request_parameters: crate::recording::parameters_unless_denied(r, request_parameters),
        response_elements: r
            .as_ref()
            .map(|reply| reply.response_elements.clone())
            .unwrap_or(Value::Null),
        error: r.as_ref().err().map(|e| {
            let w = WireError::from(e);
            (record_errors::recorded_code(w.code).to_owned(), w.message)
        }),
        resources: Vec::new(),
        additional_event_data: None,
    }
}

/// Runs one IAM operation for a caller inside the server (a CloudFormation stack): the same
/// operation table, permissions, gate and record a signed request reaches. Returns the XML
/// inside `<{Action}Result>` (none for operations without output).
pub(crate) async fn call_internal(
    state: &AppState,
    mut info: CallInfo,
    params: &Params,
) -> ApiResult<Option<String>> {
    let params = &params.own_members("iam");
    let action = params.action().to_owned();
    let input = Input::new(params);
    let Some(call) = find_call(&action, &input) else {
        return Err(input::unknown_action(&action, "2010-05-08"));
    };
    info.ctx.region = Region::parse("us-east-1").expect("us-east-1 exists");
    let ctx = info.ctx.clone();
    let request_parameters = input::request_parameters("iam", params);
    let read_only = call.read_only;
    let iam_action = format!("iam:{action}");
    let keyed_input = Input::new(params);
    let target = call.target;
    let run = call.run;
    let event_name = action.clone();
    let permissions = move |conn: &Connection, ctx: &CallContext| -> ApiResult<Vec<Permission>> {
        if let Some(message) =
            cairn_core::sts::session_token_restriction(&ctx.principal, &iam_action)
        {
            return Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::AccessDenied,
                message,
            ));
        }
        let arns = resources(conn, ctx, &target)?;
        // Creating with `Tags` tags too: the entity's Tag action with the same request tags
        // (iamapi3: a Deny on iam:TagUser for a tag was bypassed by CreateUser with it).
        let tagging = condition_keys::tag_on_create(&iam_action)
            .filter(|_| !keyed_input.structs("Tags").is_empty());
        arns.iter()
            .map(|arn| (iam_action.as_str(), arn))
            .chain(
                tagging
                    .into_iter()
                    .flat_map(|t| arns.iter().map(move |a| (t, a))),
            )
            .map(|(action, arn)| {
                let p = Permission::new(action, arn);
                condition_keys::with_request_keys(conn, p, &keyed_input, arn)
            })
            .collect()
    };
    let describe =
        move |r: &ApiResult<Reply>| outcome(event_name, read_only, &request_parameters, r);
    let refusal = crate::model_check::refusal(&info, || {
        crate::model_check::check("iam", &action, crate::model_check::Input::Query(params))
            .map_err(|p| p.into_error(cairn_core::ErrorKind::IamValidation))
    });
    let outcome = state
        .gate
        .execute(
            info,
            read_only,
            crate::model_check::permissions_unless(refusal.is_some(), permissions),
            crate::model_check::op_unless(refusal, move |c| run(c, &ctx)),
            describe,
        )
        .await;
    let reply = outcome?;
    if !read_only {
        state.credentials.invalidate();
    }
    Ok(reply.xml)
}

/// The resource an operation Cairn does not carry out is authorized on: the user, role, group or
/// instance profile it names, as IAM's resource-level permissions have it (the user guide's
/// self-service MFA policy grants `iam:ListMFADevices` on `user/${aws:username}`); a user's own
/// credential listings that name no user act on the calling user, as IAM documents ("IAM
/// determines the user name implicitly based on the access key"); `*` otherwise.
fn unserved_resource(
    conn: &cairn_store::Connection,
    ctx: &cairn_core::CallContext,
    op: &str,
    params: &serde_json::Value,
) -> cairn_core::error::ApiResult<String> {
    use cairn_core::iam::arn;
    use cairn_store::iam::{groups, roles, users};
    /// Calls Cairn does not carry out on a user's own credentials, whose `UserName` is
    /// optional (the model's).
    const OWN_BY_DEFAULT: [&str; 11] = [
        "ChangePassword",
        "CreateLoginProfile",
        "DeleteLoginProfile",
        "DeactivateMFADevice",
        "GetMFADevice",
        "DeleteServiceSpecificCredential",
        "ResetServiceSpecificCredential",
        "UpdateServiceSpecificCredential",
        "DeleteSigningCertificate",
        "UpdateSigningCertificate",
        "UploadSigningCertificate",
    ];
    let account = ctx.account().as_str();
    let named = |member: &str| params.get(member).and_then(serde_json::Value::as_str);
    Ok(if let Some(name) = named("userName") {
        match users::get_user(conn, account, name)? {
            Some(u) => cairn_core::iam::user_arn(&u),
            None => arn(account, "user", "/", name),
        }
    } else if let Some(name) = named("roleName") {
        match roles::get_role(conn, account, name)? {
            Some(r) => cairn_core::iam::role_arn(&r),
            None => arn(account, "role", "/", name),
        }
    } else if let Some(name) = named("groupName") {
        match groups::get_group(conn, account, name)? {
            Some(g) => cairn_core::iam::group_arn(&g),
            None => arn(account, "group", "/", name),
        }
    } else if let Some(name) = named("instanceProfileName") {
        arn(
            account,
            "instance-profile",
            named("path").unwrap_or("/"),
            name,
        )
    } else if let Some(service) = named("aWSServiceName") {
        // The service-linked role's ARN, whose name the service chooses.
        arn(
            account,
            "role",
            &format!("/aws-service-role/{service}/"),
            "*",
        )
    } else if let (Some(url), "CreateOpenIDConnectProvider") = (named("url"), op) {
        let host = url.strip_prefix("https://").unwrap_or(url);
        format!("arn:aws:iam::{account}:oidc-provider/{host}")
    } else if let Some(name) = named("virtualMFADeviceName") {
        arn(account, "mfa", named("path").unwrap_or("/"), name)
    } else if let (Some(name), "CreateSAMLProvider") = (named("name"), op) {
        format!("arn:aws:iam::{account}:saml-provider/{name}")
    } else if OWN_BY_DEFAULT.contains(&op)
        && matches!(ctx.principal, cairn_model::Principal::IamUser { .. })
    {
        ctx.principal.arn()
    } else {
        "*".to_owned()
    })
}
