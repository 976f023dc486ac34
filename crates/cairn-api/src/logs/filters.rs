//! Metric filters (Put/Delete/DescribeMetricFilters, TestMetricFilter) and Logs Insights
//! (StartQuery, GetQueryResults, StopQuery, DescribeQueries) on the wire.

use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_core::logs::metric_filters::{self, Describe, PutFilter, Transformation};
use cairn_core::logs::{self, GroupKey, insights};
use cairn_store::Connection;
use serde_json::{Value, json};

use super::ops::{OpEnv, OpOutput, out, out_group};
use super::shapes;
use super::wire::{
    limit, map, open_keyset, open_offset, opt_list, opt_map, opt_str, opt_str_list, req_i64,
    req_str, seal, seal_keyset,
};
use cairn_core::token::Keyset;

fn decode_transformations(body: &Value) -> ApiResult<Vec<Transformation>> {
    let items = opt_list(body, "metricTransformations")?
        .ok_or_else(|| super::wire::missing("metricTransformations"))?;
    items
        .iter()
        .map(|t| {
            if !t.is_object() {
                return Err(ApiError::new(
                    ErrorKind::Serialization,
                    "Cannot deserialize member metricTransformations: expected a list of structures.",
                ));
            }
            let default_value = match t.get("defaultValue") {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => n.as_f64(),
                Some(_) => {
                    return Err(ApiError::new(
                        ErrorKind::Serialization,
                        "Cannot deserialize member defaultValue: expected a number.",
                    ));
                }
            };
            Ok(Transformation {
                metric_name: req_str(t, "metricName")?,
                metric_namespace: req_str(t, "metricNamespace")?,
                metric_value: req_str(t, "metricValue")?,
                default_value,
                dimensions: opt_map(t, "dimensions")?.unwrap_or_default(),
                unit: opt_str(t, "unit")?,
            })
        })
        .collect()
}

/// PutMetricFilter.
pub fn put_metric_filter(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    refuse_system_field_members(body)?;
    let input = PutFilter {
        group: req_str(body, "logGroupName")?,
        name: req_str(body, "filterName")?,
        pattern: req_str(body, "filterPattern")?,
        transformations: decode_transformations(body)?,
    };
    metric_filters::put(conn, &env.ctx, &input)?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &input.group))
}

/// The members of PutMetricFilter Cairn does not carry out, refused rather than dropped (a
/// filter stored without its selection criteria would count events it should not):
/// `applyOnTransformedLogs` needs a log transformer, which no group here has (the model: "valid
/// only for log groups that have an active log transformer"); `fieldSelectionCriteria` and
/// `emitSystemFieldDimensions` (the system fields of centralized logs) are not supported.
/// `false` and empty values are what the call means without them and are accepted.
fn refuse_system_field_members(body: &Value) -> ApiResult<()> {
    if body["applyOnTransformedLogs"].as_bool() == Some(true) {
        return Err(logs::invalid(
            "applyOnTransformedLogs is valid only for log groups that have an active log transformer, and log transformers are not supported by this Cairn release.",
        ));
    }
    let fields = opt_str_list(body, "emitSystemFieldDimensions")?.unwrap_or_default();
    if let Some(bad) = fields
        .iter()
        .find(|f| !matches!(f.as_str(), "@aws.account" | "@aws.region"))
    {
        return Err(logs::invalid(format!(
            "Invalid emitSystemFieldDimensions value {bad}: valid values are @aws.account and @aws.region."
        )));
    }
    let criteria = opt_str(body, "fieldSelectionCriteria")?.unwrap_or_default();
    if !fields.is_empty() || !criteria.is_empty() {
        return Err(ApiError::new(
            ErrorKind::UnsupportedOperation,
            "Metric filters on system fields (fieldSelectionCriteria, emitSystemFieldDimensions) are not supported by this Cairn release.",
        ));
    }
    Ok(())
}

/// DeleteMetricFilter.
pub fn delete_metric_filter(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let group = req_str(body, "logGroupName")?;
    metric_filters::delete(conn, &env.ctx, &group, &req_str(body, "filterName")?)?;
    out_group(json!({}), &GroupKey::of(&env.ctx, &group))
}

/// DescribeMetricFilters.
pub fn describe_metric_filters(
    conn: &Connection,
    env: &OpEnv,
    body: &Value,
) -> ApiResult<OpOutput> {
    let input = Describe {
        group: opt_str(body, "logGroupName")?,
        prefix: opt_str(body, "filterNamePrefix")?,
        metric_name: opt_str(body, "metricName")?,
        metric_namespace: opt_str(body, "metricNamespace")?,
        limit: limit(body, "limit", 50, 50)?,
        after: open_keyset(&env.token_key, "DescribeMetricFilters", body, 2)?
            .map(|k| (k.0[0].clone(), k.0[1].clone())),
    };
    let (views, more) = metric_filters::describe(conn, &env.ctx, &input)?;
    let items: Vec<Value> = views.iter().map(shapes::metric_filter).collect();
    let mut output = json!({"metricFilters": items});
    if let (true, Some(last)) = (more, views.last()) {
        let next = Keyset::of(&[&last.stored.group_name, &last.stored.name]);
        output["nextToken"] =
            seal_keyset(&env.token_key, "DescribeMetricFilters", body, &next).into();
    }
    out(output)
}

/// TestMetricFilter.
pub fn test_metric_filter(_: &Connection, _: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let pattern = req_str(body, "filterPattern")?;
    let messages = opt_str_list(body, "logEventMessages")?
        .ok_or_else(|| super::wire::missing("logEventMessages"))?;
    let matches: Vec<Value> = metric_filters::test(&pattern, &messages)?
        .into_iter()
        .map(|(n, message, extracted)| {
            json!({"eventNumber": n, "eventMessage": message, "extractedValues": map(&extracted)})
        })
        .collect();
    out(json!({"matches": matches}))
}

/// StartQuery: runs the query now; its answer is stored once the call's event is durable.
pub fn start_query(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    if let Some(lang) = opt_str(body, "queryLanguage")?
        && lang != "CWLI"
    {
        return Err(logs::invalid(format!(
            "Query language {lang} is not supported by this Cairn release; use CWLI."
        )));
    }
    let sources = [
        opt_str(body, "logGroupName")?.map(|n| vec![n]),
        opt_str_list(body, "logGroupNames")?,
        opt_str_list(body, "logGroupIdentifiers")?,
    ];
    let given: Vec<Vec<String>> = sources.into_iter().flatten().collect();
    if given.len() > 1 {
        return Err(logs::invalid(
            "Only one of logGroupName, logGroupNames or logGroupIdentifiers may be specified.",
        ));
    }
    let input = insights::StartQuery {
        groups: given.into_iter().next().unwrap_or_default(),
        start_secs: req_i64(body, "startTime")?,
        end_secs: req_i64(body, "endTime")?,
        query: req_str(body, "queryString")?,
        limit: super::wire::opt_i64(body, "limit")?,
    };
    for g in &input.groups {
        if let Ok(name) = logs::identifier_name(&env.ctx, g, "logGroupIdentifiers") {
            let key = logs::GroupKey::of(&env.ctx, &name);
            logs::kms_use::check_group_key(conn, env.evaluator.as_ref(), &env.ctx, &key)?;
        }
    }
    let query = insights::run(conn, &env.ctx, &input)?;
    let output = json!({"queryId": query.query_id});
    Ok(OpOutput {
        output,
        resources: Vec::new(),
        pending_query: Some(query),
    })
}

/// GetQueryResults.
pub fn get_query_results(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let id = req_str(body, "queryId")?;
    // Pages of `maxItems` rows (all of them without it); the token is bound to the query
    // alone, so a later page may ask for another size.
    let max = limit(body, "maxItems", 10_000, 10_000)? as usize;
    let scope = json!({"queryId": id});
    let mut given = scope.clone();
    if let Some(t) = body.get("nextToken") {
        given["nextToken"] = t.clone();
    }
    let offset = open_offset(&env.token_key, "GetQueryResults", &given)?.max(0) as usize;
    let (q, answer) = insights::results(conn, &env.ctx, &id)?;
    let results: Vec<Value> = answer
        .rows
        .iter()
        .skip(offset)
        .take(max)
        .map(|row| {
            Value::Array(
                row.iter()
                    .map(|(f, v)| json!({"field": f, "value": v}))
                    .collect(),
            )
        })
        .collect();
    let shown = offset + results.len();
    let next = (shown < answer.rows.len()).then(|| {
        seal(
            &env.token_key,
            "GetQueryResults",
            &scope,
            &shown.to_string(),
        )
    });
    let mut output = json!({
        "queryLanguage": "CWLI",
        "results": results,
        "statistics": {
            "recordsMatched": answer.records_matched,
            "recordsScanned": answer.records_scanned,
            "estimatedRecordsSkipped": 0.0,
            "bytesScanned": answer.bytes_scanned,
            "estimatedBytesSkipped": 0.0,
            "logGroupsScanned": answer.log_groups_scanned,
        },
        "status": q.status,
    });
    if let Some(token) = next {
        output["nextToken"] = json!(token);
    }
    out(output)
}

/// StopQuery.
pub fn stop_query(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let id = req_str(body, "queryId")?;
    out(json!({"success": insights::stop(conn, &env.ctx, &id)?}))
}

/// DescribeQueries.
pub fn describe_queries(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let group = opt_str(body, "logGroupName")?;
    let status = opt_str(body, "status")?;
    let max = limit(body, "maxResults", 1000, 1000)?;
    let offset = open_offset(&env.token_key, "DescribeQueries", body)?;
    // Every query Cairn runs is Logs Insights QL (`CWLI`): a filter on another language
    // (SQL, PPL) lists none (logs4: the filter was ignored).
    if opt_str(body, "queryLanguage")?.is_some_and(|l| l != "CWLI") {
        return out(json!({"queries": []}));
    }
    let (page, more) = insights::describe(
        conn,
        &env.ctx,
        group.as_deref(),
        status.as_deref(),
        max,
        offset,
    )?;
    let queries: Vec<Value> = page
        .iter()
        .map(|q| {
            let bytes = serde_json::from_str::<insights::Answer>(&q.result)
                .map(|a| a.bytes_scanned)
                .unwrap_or(0.0);
            shapes::query_info(q, bytes)
        })
        .collect();
    let mut output = json!({"queries": queries});
    if more {
        output["nextToken"] = seal(
            &env.token_key,
            "DescribeQueries",
            body,
            &(offset + max).to_string(),
        )
        .into();
    }
    out(output)
}
