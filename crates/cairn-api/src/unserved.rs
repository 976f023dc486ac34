//! The operations of a served AWS service that Cairn does not carry out (CloudWatch's
//! PutDashboard, IAM's CreateLoginProfile, …) still pass the gate: the caller is authorized
//! for the operation's action (`<prefix>:<Operation>` on `*`), and the call is recorded,
//! denied or answered `InvalidAction`. An attempt is never invisible, and a caller without
//! permission learns no more than that it was denied. A name that is no operation of the
//! service's AWS model is answered `InvalidAction` by each service without a record, as AWS
//! does. The names are those of botocore's models (`model_rules.json`, "operations").
//! S3 has its own form of this in `s3::unserved` (its actions and resources differ). A
//! service Cairn does not serve at all is answered in its own protocol ([`service`]).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use cairn_core::authz::Permission;
use cairn_core::{ApiError, ErrorKind};
use serde_json::Value;

use crate::errors::WireError;
use crate::recording::{CallInfo, Gate, Outcome};

fn operations() -> &'static HashMap<String, HashSet<String>> {
    static OPERATIONS: OnceLock<HashMap<String, HashSet<String>>> = OnceLock::new();
    OPERATIONS.get_or_init(|| {
        let data: Value =
            serde_json::from_str(crate::model_check::MODEL_RULES).expect("model_rules.json parses");
        data["operations"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(service, names)| {
                let names = names
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect();
                (service.clone(), names)
            })
            .collect()
    })
}

/// Whether `name` is an operation of `service` (botocore's service name: `cloudwatch`,
/// `iam`, `sns`, …) in AWS's model.
pub fn is_operation(service: &str, name: &str) -> bool {
    operations()
        .get(service)
        .is_some_and(|names| names.contains(name))
}

/// Where a refused operation's event comes from.
pub struct Service {
    /// `eventSource`.
    pub event_source: &'static str,
    /// The IAM action prefix (`cloudwatch`, `iam`, …).
    pub prefix: &'static str,
    /// The service's error words, as its served operations record them.
    pub wire: fn(&ApiError) -> WireError,
    /// The resource operation `name` is authorized on, from the recorded request parameters
    /// ([`any_resource`]: `*`).
    pub resource: ResourceOf,
}

/// How a refused operation's resource is found: (store, call, operation, parameters).
pub type ResourceOf = fn(
    &cairn_store::Connection,
    &cairn_core::CallContext,
    &str,
    &Value,
) -> cairn_core::error::ApiResult<String>;

/// No resource-level permission: the action is authorized on `*`.
pub fn any_resource(
    _: &cairn_store::Connection,
    _: &cairn_core::CallContext,
    _: &str,
    _: &Value,
) -> cairn_core::error::ApiResult<String> {
    Ok("*".to_owned())
}

/// Authorizes and records a call of operation `name`, which Cairn does not carry out, with
/// `request_parameters` (lower camel case, or null); returns the error to answer
/// (`AccessDenied` from the gate, else `InvalidAction`).
pub async fn refuse(
    gate: &Gate,
    info: CallInfo,
    service: Service,
    name: &str,
    request_parameters: Value,
) -> ApiError {
    let action = format!("{}:{name}", service.prefix);
    // GetFederationToken makes credentials: AWS records it `readOnly: false`.
    let read_only = ["Get", "List", "Describe"]
        .iter()
        .any(|p| name.starts_with(p))
        && name != "GetFederationToken";
    let message = format!("Cairn does not carry out the action {name}.");
    let event_name = name.to_owned();
    let resource_of = service.resource;
    let (given, op) = (request_parameters.clone(), name.to_owned());
    let answered = gate
        .execute(
            info,
            read_only,
            move |conn, ctx| {
                let resource = resource_of(conn, ctx, &op, &given)?;
                Ok(vec![Permission::new(action, resource)])
            },
            move |_| Err::<(), _>(ApiError::new(ErrorKind::InvalidAction, message)),
            move |r: &cairn_core::error::ApiResult<()>| Outcome {
                event_source: service.event_source,
                event_name,
                read_only,
                management: true,
                request_parameters: crate::recording::parameters_unless_denied(
                    r,
                    &request_parameters,
                ),
                response_elements: Value::Null,
                error: r.as_ref().err().map(|e| {
                    let w = (service.wire)(e);
                    (w.code.to_owned(), w.message)
                }),
                resources: Vec::new(),
                additional_event_data: None,
            },
        )
        .await;
    match answered {
        Ok(()) => ApiError::new(ErrorKind::InvalidAction, "The action is not carried out."),
        Err(e) => e,
    }
}

/// Answers a request for a service Cairn does not serve, in that service's protocol, after
/// checking its signature (so a bad signature still gets the authentication error).
pub(crate) async fn service(
    state: &crate::server::AppState,
    req: &crate::server::Received,
    service: &str,
    protocol: crate::protocol::Protocol,
) -> axum::response::Response {
    let rid = &req.request_id;
    if let Err(e) = crate::server::authenticate(state, req, protocol, state.now()).await {
        return crate::errors::render(protocol, service, &e, rid);
    }
    let err = match protocol {
        crate::protocol::Protocol::Query => {
            let params = crate::query::Params::parse(&req.raw_query, &req.body);
            WireError::bad_request(
                "InvalidAction",
                format!(
                    "Cairn does not serve the {service} service (action {}).",
                    params.action()
                ),
            )
        }
        // As S3 answers an operation it does not implement.
        crate::protocol::Protocol::S3 => WireError {
            code: "NotImplemented",
            status: http::StatusCode::NOT_IMPLEMENTED,
            message: format!("Cairn does not serve the {service} service."),
        },
        _ => WireError::bad_request(
            "UnknownOperationException",
            format!(
                "Cairn does not serve the {service} service (target {}).",
                req.header("x-amz-target").unwrap_or("none")
            ),
        ),
    };
    crate::errors::render(protocol, service, &err, rid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_name_every_operation() {
        assert!(is_operation("cloudwatch", "PutDashboard"));
        assert!(is_operation("iam", "CreateLoginProfile"));
        assert!(is_operation("sns", "CreatePlatformApplication"));
        assert!(!is_operation("cloudwatch", "NoSuchThing"));
        assert!(!is_operation("nowhere", "PutDashboard"));
    }
}
