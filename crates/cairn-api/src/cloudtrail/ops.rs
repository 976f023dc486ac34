//! The operation table: each CloudTrail operation decodes its wire input, calls
//! `cairn-core`, and renders its wire output.

use base64::Engine;
use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_core::lookup::{LookupInput, lookup};
use cairn_core::token::TokenKey;
use cairn_core::{CallContext, selectors, tags, trails};
use cairn_model::event::EventResource;
use cairn_model::trail::Trail;
use cairn_store::Connection;
use serde_json::{Value, json};

use super::shapes;
use crate::wire::{
    as_object, epoch, opt_bool, opt_i64, opt_list, opt_str, opt_str_list, opt_time, req_str,
};

/// What an operation needs besides its input.
pub struct OpEnv {
    /// The call.
    pub ctx: CallContext,
    /// Pagination token key.
    pub token_key: TokenKey,
    /// Event history retention, seconds.
    pub retention_secs: i64,
    /// Reachability of external buckets (probed only for calls that check buckets).
    pub external: trails::ExternalBuckets,
    /// KMS's master key (trails with a `KmsKeyId`).
    pub kms_master: std::sync::Arc<cairn_core::kms::MasterKey>,
    /// The policy evaluator (KMS key policies).
    pub evaluator: std::sync::Arc<dyn cairn_core::authz::Evaluator>,
}

impl OpEnv {
    fn kms(&self) -> cairn_core::sse::KmsAccess<'_> {
        cairn_core::sse::KmsAccess {
            master: &self.kms_master,
            evaluator: self.evaluator.as_ref(),
        }
    }
}

/// An operation's wire output and the resources its event names.
#[derive(Clone, Debug)]
pub struct OpOutput {
    /// The JSON response body.
    pub output: Value,
    /// Resources, each with its LookupEvents name.
    pub resources: Vec<(EventResource, String)>,
}

type OpFn = fn(&Connection, &OpEnv, &Value) -> ApiResult<OpOutput>;

/// One operation.
#[derive(Clone, Copy)]
pub struct Op {
    /// The handler.
    pub run: OpFn,
    /// Whether the call only reads (runs on a reader; `readOnly` in its event).
    pub read_only: bool,
}

/// Every CloudTrail 2013-11-01 operation name.
pub const OPERATIONS: [&str; 60] = [
    "CreateTrail",
    "UpdateTrail",
    "DeleteTrail",
    "GetTrail",
    "DescribeTrails",
    "ListTrails",
    "GetTrailStatus",
    "StartLogging",
    "StopLogging",
    "PutEventSelectors",
    "GetEventSelectors",
    "PutInsightSelectors",
    "GetInsightSelectors",
    "PutEventConfiguration",
    "GetEventConfiguration",
    "AddTags",
    "RemoveTags",
    "ListTags",
    "LookupEvents",
    "ListPublicKeys",
    "ListInsightsMetricData",
    "ListInsightsData",
    "CreateEventDataStore",
    "GetEventDataStore",
    "UpdateEventDataStore",
    "DeleteEventDataStore",
    "RestoreEventDataStore",
    "ListEventDataStores",
    "StartEventDataStoreIngestion",
    "StopEventDataStoreIngestion",
    "StartQuery",
    "DescribeQuery",
    "GetQueryResults",
    "CancelQuery",
    "ListQueries",
    "GenerateQuery",
    "SearchSampleQueries",
    "CreateChannel",
    "GetChannel",
    "UpdateChannel",
    "DeleteChannel",
    "ListChannels",
    "StartImport",
    "StopImport",
    "GetImport",
    "ListImports",
    "ListImportFailures",
    "CreateDashboard",
    "GetDashboard",
    "UpdateDashboard",
    "DeleteDashboard",
    "ListDashboards",
    "StartDashboardRefresh",
    "PutResourcePolicy",
    "GetResourcePolicy",
    "DeleteResourcePolicy",
    "RegisterOrganizationDelegatedAdmin",
    "DeregisterOrganizationDelegatedAdmin",
    "EnableFederation",
    "DisableFederation",
];

fn is_read_only(name: &str) -> bool {
    ["Get", "Describe", "List", "Lookup", "Search"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Finds an operation by its `X-Amz-Target` suffix.
pub fn find(name: &str) -> Option<Op> {
    let run = match served(name) {
        Some(run) => run,
        None if OPERATIONS.contains(&name) => unsupported as OpFn,
        None => return None,
    };
    Some(Op {
        run,
        read_only: is_read_only(name),
    })
}

pub(crate) fn served(name: &str) -> Option<OpFn> {
    Some(match name {
        "CreateTrail" => create_trail,
        "UpdateTrail" => update_trail,
        "DeleteTrail" => delete_trail,
        "GetTrail" => get_trail,
        "DescribeTrails" => describe_trails,
        "ListTrails" => list_trails,
        "GetTrailStatus" => get_trail_status,
        "StartLogging" => start_logging,
        "StopLogging" => stop_logging,
        "PutEventSelectors" => put_event_selectors,
        "GetEventSelectors" => get_event_selectors,
        "PutInsightSelectors" => put_insight_selectors,
        "GetInsightSelectors" => get_insight_selectors,
        "AddTags" => add_tags,
        "RemoveTags" => remove_tags,
        "ListTags" => list_tags,
        "LookupEvents" => lookup_events,
        "ListPublicKeys" => list_public_keys,
        "ListInsightsMetricData" => list_insights_metric_data,
        _ => return None,
    })
}

fn unsupported(_: &Connection, _: &OpEnv, _: &Value) -> ApiResult<OpOutput> {
    Err(ApiError::new(
        ErrorKind::UnsupportedOperation,
        "This operation is not supported by this Cairn release.",
    ))
}

fn trail_resource(t: &Trail) -> Vec<(EventResource, String)> {
    vec![(
        EventResource {
            arn: t.arn(),
            account_id: Some(t.account.clone()),
            resource_type: "AWS::CloudTrail::Trail".into(),
            arn_prefix: None,
        },
        t.arn(),
    )]
}

fn out(output: Value, resources: Vec<(EventResource, String)>) -> ApiResult<OpOutput> {
    Ok(OpOutput { output, resources })
}

fn create_trail(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let name = req_str(body, "Name")?;
    req_str(body, "S3BucketName")?;
    let args = shapes::decode_trail_args(body)?;
    let tags = shapes::decode_tags(body, "TagsList")?;
    let t = trails::create(
        conn,
        &env.ctx,
        &name,
        &args,
        &tags,
        &env.external,
        env.kms(),
    )?;
    out(shapes::trail_write_output(&t), trail_resource(&t))
}

fn update_trail(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let name = req_str(body, "Name")?;
    let args = shapes::decode_trail_args(body)?;
    let t = trails::update(conn, &env.ctx, &name, &args, &env.external, env.kms())?;
    out(shapes::trail_write_output(&t), trail_resource(&t))
}

fn delete_trail(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let t = trails::delete(conn, &env.ctx, &req_str(body, "Name")?)?;
    out(json!({}), trail_resource(&t))
}

fn get_trail(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let t = trails::get(conn, &env.ctx, &req_str(body, "Name")?)?;
    out(json!({"Trail": shapes::trail(&t)}), trail_resource(&t))
}

fn describe_trails(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let names = opt_str_list(body, "trailNameList")?.unwrap_or_default();
    let shadows = opt_bool(body, "includeShadowTrails")?.unwrap_or(true);
    let list = trails::describe(conn, &env.ctx, &names, shadows)?;
    out(
        json!({"trailList": list.iter().map(shapes::trail).collect::<Vec<_>>()}),
        Vec::new(),
    )
}

const LIST_TRAILS_PAGE: usize = 50;

fn list_trails(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let scope = format!("list-trails\n{}\n{}", env.ctx.account(), env.ctx.region);
    let offset = match opt_str(body, "NextToken")? {
        None => 0,
        Some(token) => env
            .token_key
            .open(&scope, &token)
            .and_then(|p| p.parse::<usize>().ok())
            .ok_or_else(|| ApiError::new(ErrorKind::InvalidToken, "Invalid NextToken."))?,
    };
    let all = trails::list(conn, &env.ctx)?;
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(LIST_TRAILS_PAGE)
        .map(|t| json!({"TrailARN": t.arn(), "Name": t.name, "HomeRegion": t.home_region}))
        .collect();
    let mut output = json!({"Trails": page});
    if offset + LIST_TRAILS_PAGE < all.len() {
        output["NextToken"] = json!(
            env.token_key
                .seal(&scope, &(offset + LIST_TRAILS_PAGE).to_string())
        );
    }
    out(output, Vec::new())
}

fn get_trail_status(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let t = trails::status(conn, &env.ctx, &req_str(body, "Name")?)?;
    out(shapes::trail_status(&t), trail_resource(&t))
}

fn start_logging(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let t = trails::start_logging(conn, &env.ctx, &req_str(body, "Name")?)?;
    out(json!({}), trail_resource(&t))
}

fn stop_logging(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let t = trails::stop_logging(conn, &env.ctx, &req_str(body, "Name")?)?;
    out(json!({}), trail_resource(&t))
}

fn selectors_output(t: &Trail) -> Value {
    let (member, list) = shapes::selectors(t);
    json!({"TrailARN": t.arn(), member: list})
}

fn put_event_selectors(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let name = req_str(body, "TrailName")?;
    let basic = match opt_list(body, "EventSelectors")? {
        Some(items) => Some(shapes::decode_basic_selectors(items)?),
        None => None,
    };
    let advanced = match opt_list(body, "AdvancedEventSelectors")? {
        Some(items) => Some(shapes::decode_advanced_selectors(items)?),
        None => None,
    };
    let t = selectors::put_event_selectors(
        conn,
        &env.ctx,
        &name,
        basic.as_deref(),
        advanced.as_deref(),
    )?;
    out(selectors_output(&t), trail_resource(&t))
}

/// GetEventSelectors. An unknown trail is named by its full ARN even when the request gave a
/// short name (observed on AWS; GetTrail alone names it as given); a shadow trail is named
/// by its ARN only.
fn get_event_selectors(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let t = trails::resolve_here(conn, &env.ctx, &req_str(body, "TrailName")?)?;
    out(selectors_output(&t), trail_resource(&t))
}

/// The trail Put/GetInsightSelectors name. `TrailName` cannot be given with
/// `EventDataStore` (or Put's `InsightsDestination`, which belongs to it):
/// InvalidParameterCombinationException, as both operations declare. Insights on event data
/// stores alone are not served.
fn trail_name_only(body: &Value) -> ApiResult<String> {
    let trail = opt_str(body, "TrailName")?;
    let store = opt_str(body, "EventDataStore")?.is_some();
    let destination = opt_str(body, "InsightsDestination")?.is_some();
    match trail {
        Some(_) if store || destination => Err(ApiError::new(
            ErrorKind::InvalidParameterCombination,
            "You cannot specify both TrailName and EventDataStore (or InsightsDestination). Specify one or the other.",
        )),
        Some(name) => Ok(name),
        None if store || destination => Err(ApiError::new(
            ErrorKind::UnsupportedOperation,
            "Insights on event data stores are not supported by this Cairn release.",
        )),
        None => Err(ApiError::new(
            ErrorKind::InvalidParameterCombination,
            "You must specify a TrailName.",
        )),
    }
}

fn put_insight_selectors(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let name = trail_name_only(body)?;
    let items = opt_list(body, "InsightSelectors")?.ok_or_else(|| {
        ApiError::new(ErrorKind::Validation, "1 validation error detected: Value null at 'insightSelectors' failed to satisfy constraint: Member must not be null")
    })?;
    let inputs = shapes::decode_insight_selectors(items)?;
    let t = selectors::put_insight_selectors(
        conn,
        &env.ctx,
        &name,
        &inputs,
        (&env.external, env.kms()),
    )?;
    out(
        json!({"TrailARN": t.arn(), "InsightSelectors": shapes::insight_selectors(&t)}),
        trail_resource(&t),
    )
}

fn get_insight_selectors(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let name = trail_name_only(body)?;
    let t = selectors::get_insight_selectors(conn, &env.ctx, &name)?;
    out(
        json!({"TrailARN": t.arn(), "InsightSelectors": shapes::insight_selectors(&t)}),
        trail_resource(&t),
    )
}

fn add_tags(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let id = req_str(body, "ResourceId")?;
    let list = shapes::decode_tags(body, "TagsList")?;
    let t = tags::add(conn, &env.ctx, &id, &list)?;
    out(json!({}), trail_resource(&t))
}

fn remove_tags(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let id = req_str(body, "ResourceId")?;
    let list = shapes::decode_tags(body, "TagsList")?;
    let t = tags::remove(conn, &env.ctx, &id, &list)?;
    out(json!({}), trail_resource(&t))
}

fn list_tags(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let ids = opt_str_list(body, "ResourceIdList")?.ok_or_else(|| {
        ApiError::new(ErrorKind::Validation, "1 validation error detected: Value null at 'resourceIdList' failed to satisfy constraint: Member must not be null")
    })?;
    // Every tag of the trails asked for fits one page, so no token was ever given: any
    // `NextToken` is not one of ours (as ListPublicKeys).
    if opt_str(body, "NextToken")?.is_some() {
        return Err(ApiError::new(ErrorKind::InvalidToken, "Invalid NextToken."));
    }
    let found = tags::list(conn, &env.ctx, &ids)?;
    let list: Vec<Value> = found
        .iter()
        .map(|(id, t)| json!({"ResourceId": id, "TagsList": shapes::tags(&t.tags)}))
        .collect();
    // Each trail listed is a resource of the event, once however often it was asked for.
    let mut resources: Vec<(EventResource, String)> = Vec::new();
    for (_, t) in &found {
        if !resources.iter().any(|(_, name)| *name == t.arn()) {
            resources.extend(trail_resource(t));
        }
    }
    out(json!({"ResourceTagList": list}), resources)
}

fn lookup_events(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let mut attributes = Vec::new();
    for item in opt_list(body, "LookupAttributes")?.into_iter().flatten() {
        let item = as_object(item, "LookupAttributes")?;
        attributes.push((
            req_str(item, "AttributeKey")?,
            req_str(item, "AttributeValue")?,
        ));
    }
    let input = LookupInput {
        attributes,
        start: opt_time(body, "StartTime")?,
        end: opt_time(body, "EndTime")?,
        event_category: opt_str(body, "EventCategory")?,
        max_results: opt_i64(body, "MaxResults")?,
        next_token: opt_str(body, "NextToken")?,
    };
    let page = lookup(conn, &env.ctx, &env.token_key, env.retention_secs, &input)?;
    let events: Vec<Value> = page
        .events
        .iter()
        .map(|e| {
            let mut item = json!({
                "EventId": e.event_id,
                "EventName": e.event_name,
                "ReadOnly": e.read_only,
                "EventTime": epoch(e.event_time as f64),
                "EventSource": e.event_source,
                "Resources": e.resources.iter().map(|(t, n)| json!({"ResourceType": t, "ResourceName": n})).collect::<Vec<_>>(),
                "CloudTrailEvent": e.record,
            });
            // Optional members: an event without a key or user name (Insights events, some
            // service events) leaves them out rather than answering "".
            if !e.access_key_id.is_empty() {
                item["AccessKeyId"] = json!(e.access_key_id);
            }
            if !e.username.is_empty() {
                item["Username"] = json!(e.username);
            }
            item
        })
        .collect();
    let mut output = json!({"Events": events});
    if let Some(token) = page.next_token {
        output["NextToken"] = json!(token);
    }
    out(output, Vec::new())
}

fn list_public_keys(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let end = opt_time(body, "EndTime")?.unwrap_or(env.ctx.now);
    let start = opt_time(body, "StartTime")?.unwrap_or(end);
    if start > end {
        return Err(ApiError::new(
            ErrorKind::InvalidTimeRange,
            "Start time must be earlier than end time.",
        ));
    }
    if opt_str(body, "NextToken")?.is_some() {
        return Err(ApiError::new(ErrorKind::InvalidToken, "Invalid NextToken."));
    }
    let keys = cairn_store::delivery::keys_overlapping(conn, env.ctx.region.as_str(), start, end)?;
    let list: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "Value": base64::engine::general_purpose::STANDARD.encode(&k.public_der),
                "ValidityStartTime": epoch(k.valid_from),
                "ValidityEndTime": epoch(k.valid_to),
                "Fingerprint": k.fingerprint,
            })
        })
        .collect();
    out(json!({"PublicKeyList": list}), Vec::new())
}

fn list_insights_metric_data(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    use cairn_core::insights::metric_data::{MetricDataInput, list};
    let input = MetricDataInput {
        event_source: req_str(body, "EventSource")?,
        event_name: req_str(body, "EventName")?,
        insight_type: req_str(body, "InsightType")?,
        error_code: opt_str(body, "ErrorCode")?,
        start: opt_time(body, "StartTime")?,
        end: opt_time(body, "EndTime")?,
        period: opt_i64(body, "Period")?,
        data_type: opt_str(body, "DataType")?,
        max_results: opt_i64(body, "MaxResults")?,
        next_token: opt_str(body, "NextToken")?,
        trail: opt_str(body, "TrailName")?,
    };
    let page = list(conn, &env.ctx, &env.token_key, &input)?;
    let mut output = json!({
        "EventSource": input.event_source,
        "EventName": input.event_name,
        "InsightType": page.insight_type.as_str(),
        "Timestamps": page.timestamps.iter().map(|t| epoch(*t as f64)).collect::<Vec<_>>(),
        "Values": page.values,
    });
    // "Only returned if InsightType parameter was set to ApiErrorRateInsight."
    if let Some(code) = input.error_code
        && page.insight_type == cairn_model::trail::InsightType::ApiErrorRateInsight
    {
        output["ErrorCode"] = json!(code);
    }
    if let Some(arn) = page.trail_arn {
        output["TrailARN"] = json!(arn);
    }
    if let Some(token) = page.next_token {
        output["NextToken"] = json!(token);
    }
    out(output, Vec::new())
}
