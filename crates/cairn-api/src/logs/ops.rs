//! The operation table of CloudWatch Logs, and the group, stream and tag operations. Every
//! operation of the 2014-03-28 model is known: those Cairn does not serve answer
//! `UnsupportedOperationException` (and are recorded like any call).

use cairn_core::CallContext;
use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_core::logs::{self, GroupKey, groups, streams};
use cairn_core::token::TokenKey;
use cairn_model::event::EventResource;
use cairn_store::Connection;
use cairn_store::logs::filters::StoredQuery;
use serde_json::{Value, json};

use super::shapes;
use super::wire::{
    limit, map, open_keyset, opt_bool, opt_map, opt_str, opt_str_list, req_str, seal_keyset,
};
use cairn_core::token::Keyset;

/// What an operation needs besides its input.
pub struct OpEnv {
    /// The call.
    pub ctx: CallContext,
    /// Pagination token key.
    pub token_key: TokenKey,
    /// The policy evaluator (the key policy of a key a group is to be encrypted with).
    pub evaluator: std::sync::Arc<dyn cairn_core::authz::Evaluator>,
    /// A CloudFormation stack's call, which may add its `aws:cloudformation:*` tags.
    pub by_cloudformation: bool,
    /// A PutLogEvents sent with `x-amzn-logs-format: json/emf`.
    pub emf: bool,
}

/// An operation's wire output, the resources its event names, and a query to store after the
/// event (StartQuery).
#[derive(Clone, Debug)]
pub struct OpOutput {
    /// The JSON response body.
    pub output: Value,
    /// Resources, each with its LookupEvents name.
    pub resources: Vec<(EventResource, String)>,
    /// A Logs Insights query to store once the call's event is durable.
    pub pending_query: Option<StoredQuery>,
}

type OpFn = fn(&Connection, &OpEnv, &Value) -> ApiResult<OpOutput>;

/// One operation.
#[derive(Clone, Copy)]
pub struct Op {
    /// The handler.
    pub run: OpFn,
    /// Runs on a reader (it changes nothing in the store).
    pub runs_on_reader: bool,
    /// `readOnly` in its event.
    pub record_read_only: bool,
    /// A management event (else a data event).
    pub management: bool,
    /// Whether its event carries the response (`responseElements`).
    pub echo_response: bool,
}

/// Every operation of the CloudWatch Logs 2014-03-28 model.
pub const OPERATIONS: [&str; 113] = [
    "AssociateKmsKey",
    "AssociateSourceToS3TableIntegration",
    "CancelExportTask",
    "CancelImportTask",
    "CreateDelivery",
    "CreateExportTask",
    "CreateImportTask",
    "CreateLogAnomalyDetector",
    "CreateLogGroup",
    "CreateLogStream",
    "CreateLookupTable",
    "CreateScheduledQuery",
    "DeleteAccountPolicy",
    "DeleteDataProtectionPolicy",
    "DeleteDelivery",
    "DeleteDeliveryDestination",
    "DeleteDeliveryDestinationPolicy",
    "DeleteDeliverySource",
    "DeleteDestination",
    "DeleteIndexPolicy",
    "DeleteIntegration",
    "DeleteLogAnomalyDetector",
    "DeleteLogGroup",
    "DeleteLogStream",
    "DeleteLookupTable",
    "DeleteMetricFilter",
    "DeleteQueryDefinition",
    "DeleteResourcePolicy",
    "DeleteRetentionPolicy",
    "DeleteScheduledQuery",
    "DeleteSubscriptionFilter",
    "DeleteTransformer",
    "DescribeAccountPolicies",
    "DescribeConfigurationTemplates",
    "DescribeDeliveries",
    "DescribeDeliveryDestinations",
    "DescribeDeliverySources",
    "DescribeDestinations",
    "DescribeExportTasks",
    "DescribeFieldIndexes",
    "DescribeImportTaskBatches",
    "DescribeImportTasks",
    "DescribeIndexPolicies",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "DescribeLookupTables",
    "DescribeMetricFilters",
    "DescribeQueries",
    "DescribeQueryDefinitions",
    "DescribeResourcePolicies",
    "DescribeSubscriptionFilters",
    "DisassociateKmsKey",
    "DisassociateSourceFromS3TableIntegration",
    "FilterLogEvents",
    "GetDataProtectionPolicy",
    "GetDelivery",
    "GetDeliveryDestination",
    "GetDeliveryDestinationPolicy",
    "GetDeliverySource",
    "GetIntegration",
    "GetLogAnomalyDetector",
    "GetLogEvents",
    "GetLogFields",
    "GetLogGroupFields",
    "GetLogObject",
    "GetLogRecord",
    "GetLookupTable",
    "GetQueryResults",
    "GetScheduledQuery",
    "GetScheduledQueryHistory",
    "GetTransformer",
    "ListAggregateLogGroupSummaries",
    "ListAnomalies",
    "ListIntegrations",
    "ListLogAnomalyDetectors",
    "ListLogGroups",
    "ListLogGroupsForQuery",
    "ListScheduledQueries",
    "ListSourcesForS3TableIntegration",
    "ListTagsForResource",
    "ListTagsLogGroup",
    "PutAccountPolicy",
    "PutBearerTokenAuthentication",
    "PutDataProtectionPolicy",
    "PutDeliveryDestination",
    "PutDeliveryDestinationPolicy",
    "PutDeliverySource",
    "PutDestination",
    "PutDestinationPolicy",
    "PutIndexPolicy",
    "PutIntegration",
    "PutLogEvents",
    "PutLogGroupDeletionProtection",
    "PutMetricFilter",
    "PutQueryDefinition",
    "PutResourcePolicy",
    "PutRetentionPolicy",
    "PutSubscriptionFilter",
    "PutTransformer",
    "StartLiveTail",
    "StartQuery",
    "StopQuery",
    "TagLogGroup",
    "TagResource",
    "TestMetricFilter",
    "TestTransformer",
    "UntagLogGroup",
    "UntagResource",
    "UpdateAnomaly",
    "UpdateDeliveryConfiguration",
    "UpdateLogAnomalyDetector",
    "UpdateLookupTable",
    "UpdateScheduledQuery",
];

fn read_only_name(name: &str) -> bool {
    ["Get", "Describe", "List", "Test", "Filter"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Finds an operation by its `X-Amz-Target` suffix.
pub fn find(name: &str) -> Option<Op> {
    let run = match served(name) {
        Some(f) => f,
        None if OPERATIONS.contains(&name) => unsupported as OpFn,
        None => return None,
    };
    // Only writes of log events are data events: AWS's event history lists GetLogEvents and
    // FilterLogEvents as read-only management events, so who read which logs is audited by
    // default.
    let data = name == "PutLogEvents";
    let record_read_only = read_only_name(name) || name == "StartQuery";
    Some(Op {
        run,
        runs_on_reader: read_only_name(name) || name == "StartQuery",
        record_read_only,
        management: !data,
        echo_response: matches!(name, "StartQuery" | "StopQuery"),
    })
}

fn served(name: &str) -> Option<OpFn> {
    use super::{events as ev, filters as fl};
    Some(match name {
        "CreateLogGroup" => create_log_group,
        "DeleteLogGroup" => delete_log_group,
        "DescribeLogGroups" => describe_log_groups,
        "PutRetentionPolicy" => put_retention_policy,
        "DeleteRetentionPolicy" => delete_retention_policy,
        "PutLogGroupDeletionProtection" => put_deletion_protection,
        "DescribeResourcePolicies" => describe_resource_policies,
        "AssociateKmsKey" => associate_kms_key,
        "DisassociateKmsKey" => disassociate_kms_key,
        "CreateLogStream" => create_log_stream,
        "DeleteLogStream" => delete_log_stream,
        "DescribeLogStreams" => describe_log_streams,
        "TagResource" | "TagLogGroup" => tag,
        "UntagResource" | "UntagLogGroup" => untag,
        "ListTagsForResource" | "ListTagsLogGroup" => list_tags,
        "PutLogEvents" => ev::put_log_events,
        "GetLogEvents" => ev::get_log_events,
        "FilterLogEvents" => ev::filter_log_events,
        "PutMetricFilter" => fl::put_metric_filter,
        "DeleteMetricFilter" => fl::delete_metric_filter,
        "DescribeMetricFilters" => fl::describe_metric_filters,
        "TestMetricFilter" => fl::test_metric_filter,
        "StartQuery" => fl::start_query,
        "GetQueryResults" => fl::get_query_results,
        "StopQuery" => fl::stop_query,
        "DescribeQueries" => fl::describe_queries,
        _ => return None,
    })
}

/// DescribeResourcePolicies: none, as PutResourcePolicy is not carried out (an empty list
/// is the true answer; security scanners read it to find public log groups).
fn describe_resource_policies(_: &Connection, _: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let _ = limit(body, "limit", 50, 50)?;
    out(json!({"resourcePolicies": []}))
}

fn unsupported(_: &Connection, _: &OpEnv, _: &Value) -> ApiResult<OpOutput> {
    Err(ApiError::new(
        ErrorKind::UnsupportedOperation,
        "This operation is not supported by this Cairn release.",
    ))
}

/// An output with no resources.
pub fn out(output: Value) -> ApiResult<OpOutput> {
    Ok(OpOutput {
        output,
        resources: Vec::new(),
        pending_query: None,
    })
}

/// A log group as a record's resource.
pub fn group_resource(key: &GroupKey) -> Vec<(EventResource, String)> {
    vec![(
        EventResource {
            arn: key.arn(),
            account_id: Some(key.account.clone()),
            resource_type: "AWS::Logs::LogGroup".into(),
            arn_prefix: None,
        },
        key.name.clone(),
    )]
}

/// An output naming the log group it acted on.
pub fn out_group(output: Value, key: &GroupKey) -> ApiResult<OpOutput> {
    Ok(OpOutput {
        output,
        resources: group_resource(key),
        pending_query: None,
    })
}

/// The group a request names by `logGroupName` or `logGroupIdentifier` (exactly one).
pub fn group_of(env: &OpEnv, body: &Value) -> ApiResult<GroupKey> {
    match (
        opt_str(body, "logGroupName")?,
        opt_str(body, "logGroupIdentifier")?,
    ) {
        (Some(n), None) => {
            logs::check_group_name(&n, "logGroupName")?;
            Ok(GroupKey::of(&env.ctx, &n))
        }
        (None, Some(id)) => Ok(GroupKey::of(
            &env.ctx,
            &logs::identifier_name(&env.ctx, &id, "logGroupIdentifier")?,
        )),
        (Some(_), Some(_)) => Err(logs::invalid(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
        )),
        (None, None) => Err(logs::invalid(
            "Either logGroupName or logGroupIdentifier must be specified.",
        )),
    }
}

fn create_log_group(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let (system_tags, tags): (Vec<_>, Vec<_>) = opt_map(body, "tags")?
        .unwrap_or_default()
        .into_iter()
        .partition(|(k, _)| env.by_cloudformation && k.starts_with("aws:cloudformation:"));
    let input = groups::CreateGroup {
        name: req_str(body, "logGroupName")?,
        kms_key_id: opt_str(body, "kmsKeyId")?,
        tags,
        class: opt_str(body, "logGroupClass")?,
        deletion_protection: opt_bool(body, "deletionProtectionEnabled")?.unwrap_or(false),
        system_tags,
    };
    groups::create(conn, &env.ctx, env.evaluator.as_ref(), &input)?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &input.name))
}

fn delete_log_group(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let name = req_str(body, "logGroupName")?;
    groups::delete(conn, &env.ctx, &name)?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &name))
}

fn describe_log_groups(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let pattern = opt_str(body, "logGroupNamePattern")?;
    let input = groups::Describe {
        prefix: opt_str(body, "logGroupNamePrefix")?,
        pattern: pattern.clone(),
        identifiers: opt_str_list(body, "logGroupIdentifiers")?,
        class: opt_str(body, "logGroupClass")?,
        limit: limit(body, "limit", 50, 50)?,
        after: open_keyset(&env.token_key, "DescribeLogGroups", body, 1)?.map(|k| k.0[0].clone()),
    };
    if let Some(p) = &input.prefix {
        logs::check_group_name(p, "logGroupNamePrefix")?;
    }
    let (page, more) = groups::describe(conn, &env.ctx, &input)?;
    let items: Vec<Value> = page
        .iter()
        .map(|g| shapes::log_group(g, pattern.is_some()))
        .collect();
    let mut output = json!({"logGroups": items});
    if let (true, Some(last)) = (more, page.last()) {
        let next = Keyset::of(&[&last.name]);
        output["nextToken"] = seal_keyset(&env.token_key, "DescribeLogGroups", body, &next).into();
    }
    out(output)
}

fn put_retention_policy(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let name = req_str(body, "logGroupName")?;
    let days = super::wire::req_i64(body, "retentionInDays")?;
    groups::set_retention(conn, &env.ctx, &name, Some(days))?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &name))
}

fn delete_retention_policy(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let name = req_str(body, "logGroupName")?;
    groups::set_retention(conn, &env.ctx, &name, None)?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &name))
}

fn put_deletion_protection(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let id = req_str(body, "logGroupIdentifier")?;
    let enabled = opt_bool(body, "deletionProtectionEnabled")?
        .ok_or_else(|| super::wire::missing("deletionProtectionEnabled"))?;
    let name = logs::identifier_name(&env.ctx, &id, "logGroupIdentifier")?;
    groups::set_deletion_protection(conn, &env.ctx, &name, enabled)?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &name))
}

/// The log group an Associate/DisassociateKmsKey call names: `logGroupName` or a log group
/// ARN in `resourceIdentifier`, exactly one. The account's Logs Insights query results
/// (`…:query-result:*`) are a target Cairn does not carry out.
fn kms_target(env: &OpEnv, body: &Value) -> ApiResult<String> {
    match (
        opt_str(body, "logGroupName")?,
        opt_str(body, "resourceIdentifier")?,
    ) {
        (Some(name), None) => Ok(name),
        (None, Some(id)) if id.contains(":query-result:") => Err(ApiError::new(
            ErrorKind::UnsupportedOperation,
            "Encrypting Logs Insights query results with a KMS key is not supported by this Cairn release.",
        )),
        // The model: a log group's ARN (or the query results'); a bare name is not one.
        (None, Some(id)) if !id.starts_with("arn:") => Err(logs::invalid(format!(
            "The specified resource identifier is not a valid ARN: {id}"
        ))),
        // Its pattern allows `*` (`…:query-result:*`): a group ARN's `:*` is taken.
        (None, Some(id)) => logs::identifier_name(
            &env.ctx,
            id.strip_suffix(":*").unwrap_or(&id),
            "resourceIdentifier",
        ),
        (Some(_), Some(_)) => Err(logs::invalid(
            "LogGroup name and resource identifier are mutually exclusive parameters.",
        )),
        (None, None) => Err(logs::invalid(
            "Either logGroupName or resourceIdentifier must be specified.",
        )),
    }
}

fn associate_kms_key(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let key = req_str(body, "kmsKeyId")?;
    let name = kms_target(env, body)?;
    // The group, then the key as given, then whether CloudWatch Logs may use it.
    groups::set_kms_key(conn, &env.ctx, env.evaluator.as_ref(), &name, Some(&key))?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &name))
}

fn disassociate_kms_key(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let name = kms_target(env, body)?;
    groups::set_kms_key(conn, &env.ctx, env.evaluator.as_ref(), &name, None)?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &name))
}

fn create_log_stream(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let group = req_str(body, "logGroupName")?;
    logs::check_group_name(&group, "logGroupName")?;
    let key = GroupKey::of(&env.ctx, &group);
    streams::create(conn, &env.ctx, &key, &req_str(body, "logStreamName")?)?;
    out_group(json!({}), &key)
}

fn delete_log_stream(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let group = req_str(body, "logGroupName")?;
    logs::check_group_name(&group, "logGroupName")?;
    let key = GroupKey::of(&env.ctx, &group);
    streams::delete(conn, &key, &req_str(body, "logStreamName")?)?;
    out_group(json!({}), &key)
}

fn describe_log_streams(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let key = group_of(env, body)?;
    let input = streams::Describe {
        prefix: opt_str(body, "logStreamNamePrefix")?,
        order_by: opt_str(body, "orderBy")?,
        descending: opt_bool(body, "descending")?.unwrap_or(false),
        limit: limit(body, "limit", 50, 50)?,
        after: match open_keyset(&env.token_key, "DescribeLogStreams", body, 2)? {
            None => None,
            Some(k) => Some((
                k.0[0]
                    .parse()
                    .map_err(|_| logs::invalid("The specified nextToken is invalid."))?,
                k.0[1].clone(),
            )),
        },
    };
    let (page, more) = streams::describe(conn, &key, &input)?;
    let items: Vec<Value> = page.iter().map(|s| shapes::log_stream(&key, s)).collect();
    let mut output = json!({"logStreams": items});
    if let (true, Some(last)) = (more, page.last()) {
        let (time, name) = streams::Describe::position_after(last);
        let next = Keyset::of(&[time.to_string(), name]);
        output["nextToken"] = seal_keyset(&env.token_key, "DescribeLogStreams", body, &next).into();
    }
    out(output)
}

/// The group a tagging call names: `resourceArn` (TagResource family) or `logGroupName`.
fn tagged_group(
    conn: &Connection,
    env: &OpEnv,
    body: &Value,
) -> ApiResult<(cairn_store::logs::LogGroup, bool)> {
    match opt_str(body, "resourceArn")? {
        Some(arn) => Ok((groups::for_tagging(conn, &env.ctx, &arn, true)?, false)),
        None => {
            let name = req_str(body, "logGroupName")?;
            Ok((groups::for_tagging(conn, &env.ctx, &name, false)?, true))
        }
    }
}

fn tag(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let tags = opt_map(body, "tags")?.ok_or_else(|| super::wire::missing("tags"))?;
    if tags.is_empty() || tags.len() > groups::MAX_TAGS {
        return Err(logs::constraint(
            "",
            "tags",
            "Member must have length less than or equal to 50 and greater than or equal to 1",
        ));
    }
    let (group, legacy) = tagged_group(conn, env, body)?;
    groups::tag(conn, &group, &tags, legacy)?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &group.name))
}

fn untag(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let member = if body.get("resourceArn").is_some() {
        "tagKeys"
    } else {
        "tags"
    };
    let keys = opt_str_list(body, member)?.ok_or_else(|| super::wire::missing(member))?;
    let (group, _) = tagged_group(conn, env, body)?;
    groups::untag(conn, &group, &keys)?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &group.name))
}

fn list_tags(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let (group, _) = tagged_group(conn, env, body)?;
    let tags = groups::tags(conn, &group)?;
    out_group(
        json!({"tags": map(&tags)}),
        &GroupKey::of(&env.ctx, &group.name),
    )
}
