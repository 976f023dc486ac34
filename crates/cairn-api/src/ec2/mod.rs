//! EC2, as far as an account without instances needs it: DescribeRegions, which tools call
//! before anything regional (ScoutSuite lists the regions this way, and audited nothing of
//! CloudTrail, CloudWatch, KMS or SNS without it). EC2's dialect of the Query protocol:
//! results are the response element's children, with `requestId`; errors are
//! `<Response><Errors>…`, and an authorization failure is `UnauthorizedOperation`, recorded as
//! `Client.UnauthorizedOperation` as CloudTrail records EC2's errors. Every other action is
//! the unserved service's `InvalidAction`.

use std::sync::Arc;

use axum::response::Response;
use cairn_core::authz::Permission;
use cairn_core::error::ApiResult;
use cairn_core::{ApiError, CallContext, ErrorKind};
use cairn_store::Connection;
use serde_json::{Value, json};

use crate::errors::WireError;
use crate::iam::xml::el;
use crate::protocol::Protocol;
use crate::query::Params;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate};

/// The EC2 XML namespace of the API version botocore speaks.
pub const XMLNS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

/// The regions enabled in every account (launched before 20 March 2019); the others are
/// opt-in regions on AWS, which Cairn serves as if the account had opted in. Source: the AWS
/// Account Management guide, "Enable or disable AWS Regions in your account".
const ENABLED_BY_DEFAULT: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "sa-east-1",
];

/// EC2's wire form of an error.
fn wire(e: &ApiError) -> WireError {
    let mut w = WireError::from(e);
    if e.kind == ErrorKind::AccessDenied {
        w.code = "UnauthorizedOperation";
        w.message = format!(
            "You are not authorized to perform this operation. {}",
            e.message
        );
    }
    w
}

/// The regions DescribeRegions names: all, or those `RegionName.N` lists (each must exist),
/// narrowed by the `region-name`, `endpoint` and `opt-in-status` filters.
fn regions(params: &Params) -> ApiResult<Vec<(&'static str, &'static str)>> {
    let listed: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k.starts_with("RegionName."))
        .map(|(_, v)| v.as_str())
        .collect();
    for name in &listed {
        if !cairn_model::KNOWN_REGIONS.contains(name) {
            return Err(ApiError::new(
                ErrorKind::CwInvalidParameterValue,
                format!("Invalid region: {name}"),
            ));
        }
    }
    let mut filters: Vec<(String, Vec<String>)> = Vec::new();
    for n in 1.. {
        let Some(name) = params.get(&format!("Filter.{n}.Name")) else {
            break;
        };
        if !["region-name", "endpoint", "opt-in-status"].contains(&name) {
            return Err(ApiError::new(
                ErrorKind::CwInvalidParameterValue,
                format!("The filter '{name}' is invalid"),
            ));
        }
        let values = (1..)
            .map_while(|v| params.get(&format!("Filter.{n}.Value.{v}")))
            .map(str::to_owned)
            .collect();
        filters.push((name.to_owned(), values));
    }
    let mut out = Vec::new();
    for region in cairn_model::KNOWN_REGIONS {
        let status = if ENABLED_BY_DEFAULT.contains(region) {
            "opt-in-not-required"
        } else {
            "opted-in"
        };
        let keep = (listed.is_empty() || listed.contains(region))
            && filters.iter().all(|(name, values)| {
                let value = match name.as_str() {
                    "region-name" => (*region).to_owned(),
                    "endpoint" => format!("ec2.{region}.amazonaws.com"),
                    "opt-in-status" => status.to_owned(),
                    _ => return false,
                };
                values
                    .iter()
                    .any(|v| cairn_core::wildcard::matches(v, &value))
            });
        if keep {
            out.push((*region, status));
        }
    }
    Ok(out)
}

/// `{"items": […]}`, or `{}` for none: how EC2's records write a list.
fn item_set(items: Vec<Value>) -> Value {
    if items.is_empty() {
        json!({})
    } else {
        json!({ "items": items })
    }
}

/// The recorded request: what DescribeRegions was asked (`regionSet`, `filterSet` with each
/// filter's name and `valueSet`, `allRegions`), as CloudTrail records EC2's calls.
fn request_parameters(params: &Params) -> Value {
    let names: Vec<Value> = params
        .iter()
        .filter(|(k, _)| k.starts_with("RegionName."))
        .map(|(_, v)| json!({ "regionName": v }))
        .collect();
    let mut out = json!({ "regionSet": item_set(names) });
    if let Some(all) = params.get("AllRegions") {
        out["allRegions"] = json!(all == "true");
    }
    let filters: Vec<Value> = (1..)
        .map_while(|n| {
            let name = params.get(&format!("Filter.{n}.Name"))?;
            let values = (1..)
                .map_while(|v| params.get(&format!("Filter.{n}.Value.{v}")))
                .map(|v| json!({ "value": v }))
                .collect();
            Some(json!({ "name": name, "valueSet": item_set(values) }))
        })
        .collect();
    if !filters.is_empty() {
        out["filterSet"] = item_set(filters);
    }
    out
}

/// Answers one EC2 request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let params = Params::parse(&req.raw_query, &req.body);
    if params.action() != "DescribeRegions" {
        return crate::unserved::service(state, &req, "ec2", Protocol::Query).await;
    }
    let now = state.now();
    let authed = match authenticate(state, &req, Protocol::Query, now).await {
        Ok(a) => a,
        Err(e) => return crate::query::ec2_error(&e, &rid),
    };
    let info = CallInfo::new(authed, &req, now);
    let recorded = request_parameters(&params);
    let chosen = regions(&params);
    let describe = move |r: &ApiResult<String>| Outcome {
        event_source: "ec2.amazonaws.com",
        event_name: "DescribeRegions".to_owned(),
        read_only: true,
        management: true,
        request_parameters: crate::recording::parameters_unless_denied(r, &recorded),
        response_elements: Value::Null,
        error: r.as_ref().err().map(|e| {
            let w = wire(e);
            (format!("Client.{}", w.code), w.message)
        }),
        resources: Vec::new(),
        additional_event_data: None,
    };
    let permissions = |_: &Connection, _: &CallContext| -> ApiResult<Vec<Permission>> {
        Ok(vec![Permission::any("ec2:DescribeRegions")])
    };
    // `DryRun`: authorized, then answered `DryRunOperation` without being carried out.
    let dry_run = params.get("DryRun") == Some("true");
    let run = move |_: &Connection| -> ApiResult<String> {
        if dry_run {
            return Err(ApiError::new(
                ErrorKind::Ec2DryRunOperation,
                "Request would have succeeded, but DryRun flag is set.",
            ));
        }
        let items: String = chosen?
            .into_iter()
            .map(|(name, status)| {
                format!(
                    "<item>{}{}{}</item>",
                    el("regionName", name),
                    el("regionEndpoint", &format!("ec2.{name}.amazonaws.com")),
                    el("optInStatus", status)
                )
            })
            .collect();
        Ok(format!("<regionInfo>{items}</regionInfo>"))
    };
    match state
        .gate
        .execute(info, true, permissions, run, describe)
        .await
    {
        Ok(xml) => crate::query::ec2_ok("DescribeRegions", XMLNS, &xml, &rid),
        Err(e) => crate::query::ec2_error(&wire(&e), &rid),
    }
}
