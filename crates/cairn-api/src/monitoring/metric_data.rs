//! GetMetricData (MetricStat queries; metric math is refused): each query's series in
//! `ScanBy` order, paged by `MaxDatapoints` (default and most 100,800) across queries with a
//! signed `NextToken` bound to the rest of the request.

use cairn_core::CallContext;
use cairn_core::alarms::{invalid, missing};
use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_core::metrics::api::{self as metrics_api, StatsRequest};
use cairn_core::metrics::paging::{self, Position};
use cairn_core::token::TokenKey;
use cairn_store::Connection;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Done;
use super::input::{full_dimensions, opt_i64, opt_list, opt_str, req_i64, req_str, req_time};
use super::output::{Out, members};

/// The most datapoints one call returns (and the default `MaxDatapoints`).
const MAX_DATAPOINTS: i64 = 100_800;

/// What a token is bound to: the request without its paging members.
fn scope(body: &Value) -> String {
    let mut b = body.clone();
    if let Some(m) = b.as_object_mut() {
        m.remove("NextToken");
        m.remove("MaxDatapoints");
    }
    hex::encode(Sha256::digest(format!("GetMetricData\n{b}").as_bytes()))
}

fn bad_token() -> ApiError {
    ApiError::new(ErrorKind::CwInvalidNextToken, "The NextToken is invalid.")
}

/// One returned query: its id, label and series (ascending).
struct Series {
    id: String,
    label: String,
    points: Vec<(i64, f64)>,
}

fn return_data(q: &Value) -> bool {
    q.get("ReturnData").and_then(|b| match b {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s == "true"),
        _ => None,
    }) != Some(false)
}

/// Runs the queries, checking each as CloudWatch does; only those that return data.
fn run_queries(
    c: &Connection,
    ctx: &CallContext,
    queries: &[Value],
    start: i64,
    end: i64,
) -> ApiResult<Vec<Series>> {
    let mut ids: Vec<String> = Vec::new();
    let mut cache = metrics_api::SeriesCache::default();
    let mut out = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let member = format!("MetricDataQueries.member.{}", i + 1);
        let id = req_str(q, "Id")?;
        if id.len() > 255 {
            return Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::IamValidation,
                format!(
                    "1 validation error detected: Value at '{}.id' failed to satisfy constraint: Member must have length less than or equal to 255",
                    member.replace("MetricDataQueries", "metricDataQueries")
                ),
            ));
        }
        let id_ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !id_ok {
            // AWS's code and words for an Id off the model's pattern.
            return Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::IamValidation,
                format!(
                    "The value {id} for parameter {member}.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$."
                ),
            ));
        }
        if ids.contains(&id) {
            return Err(invalid(format!(
                "The value {id} for parameter {member}.Id is not unique."
            )));
        }
        ids.push(id.clone());
        // The query's own `Period` (used by expressions, which Cairn does not run) is still
        // a 32-bit integer of at least 1, as the model says (recheck31: any value passed).
        if let Some(p) = opt_i64(q, "Period")?
            && p < 1
        {
            return Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::IamValidation,
                format!(
                    "1 validation error detected: Value '{p}' at '{}.period' failed to satisfy constraint: Member must have value greater than or equal to 1",
                    member.replace("MetricDataQueries", "metricDataQueries")
                ),
            ));
        }
        if q.get("Expression").is_some_and(|e| !e.is_null()) {
            return Err(invalid(
                "Metric math expressions are not supported by Cairn; use MetricStat queries.",
            ));
        }
        let Some(stat) = q.get("MetricStat").filter(|s| !s.is_null()) else {
            return Err(ApiError::new(
                ErrorKind::CwMissingParameter,
                "Exactly one of MetricStat and Expression must be specified in each MetricDataQuery.",
            ));
        };
        let metric = stat.get("Metric").ok_or_else(|| missing("Metric"))?;
        let statistic = req_str(stat, "Stat")?;
        metrics_api::check_stat(&statistic, &format!("{member}.MetricStat.Stat"))?;
        let r = StatsRequest {
            namespace: req_str(metric, "Namespace")?,
            metric_name: req_str(metric, "MetricName")?,
            dimensions: full_dimensions(metric, "Dimensions")?,
            start_ms: start,
            end_ms: end,
            period: req_i64(stat, "Period")?,
            statistics: vec![statistic],
            unit: opt_str(stat, "Unit")?,
        };
        // Another account's metrics (`AccountId`) are shared only through cross-account
        // observability, which Cairn does not have: that query finds no data.
        let foreign = opt_str(q, "AccountId")?.is_some_and(|a| a != ctx.account().as_str());
        let points: Vec<(i64, f64)> = if foreign {
            Vec::new()
        } else {
            cache
                .series(c, ctx, &r)?
                .into_iter()
                .filter_map(|p| p.values.first().map(|(_, v)| (p.timestamp_ms, *v)))
                .collect()
        };
        if !return_data(q) {
            continue;
        }
        let label = opt_str(q, "Label")?.unwrap_or_else(|| r.metric_name.clone());
        out.push(Series { id, label, points });
    }
    Ok(out)
}

/// GetMetricData.
pub fn get_metric_data(
    c: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    v: &Value,
) -> ApiResult<Done> {
    let start = req_time(v, "StartTime")?;
    let end = req_time(v, "EndTime")?;
    let queries = opt_list(v, "MetricDataQueries")?;
    if queries.is_empty() {
        return Err(missing("MetricDataQueries"));
    }
    if queries.len() > 500 {
        return Err(invalid(
            "The collection MetricDataQueries must not have a size greater than 500.",
        ));
    }
    let ascending = match opt_str(v, "ScanBy")?.as_deref() {
        None | Some("TimestampDescending") => false,
        Some("TimestampAscending") => true,
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} for parameter ScanBy is not valid."
            )));
        }
    };
    let max = match opt_i64(v, "MaxDatapoints")? {
        None => MAX_DATAPOINTS,
        Some(n) if n >= 1 => n.min(MAX_DATAPOINTS),
        Some(n) => {
            return Err(invalid(format!(
                "The value {n} for parameter MaxDatapoints is invalid: it must be greater than or equal to 1."
            )));
        }
    };
    // `LabelOptions.Timezone`: "+ or - followed by four digits" (the model); labels are shown
    // as given, so the zone changes nothing, but a malformed one is refused (alarms3).
    if let Some(zone) = v.pointer("/LabelOptions/Timezone").and_then(Value::as_str) {
        let digits = zone.get(1..).unwrap_or("");
        if !(zone.starts_with(['+', '-'])
            && digits.len() == 4
            && digits.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(format!(
                "The value {zone} for parameter LabelOptions.Timezone is not valid: it must be + or - followed by four digits."
            )));
        }
    }
    let scope = scope(v);
    let after = match opt_str(v, "NextToken")? {
        None => None,
        Some(t) => Some(
            key.open(&scope, &t)
                .and_then(|p| Position::decode(&p))
                .ok_or_else(bad_token)?,
        ),
    };
    let series = run_queries(c, ctx, queries, start, end)?;
    let points: Vec<Vec<(i64, f64)>> = series.iter().map(|s| s.points.clone()).collect();
    let page = paging::page(
        &points,
        ascending,
        after,
        usize::try_from(max).unwrap_or(usize::MAX),
    );
    let results = series
        .into_iter()
        .zip(page.series.iter().zip(&page.partial))
        .map(|(s, (points, partial))| {
            Out::M(vec![
                ("Id", Out::S(s.id)),
                ("Label", Out::S(s.label)),
                (
                    "Timestamps",
                    Out::L(points.iter().map(|(t, _)| Out::T(*t)).collect()),
                ),
                (
                    "Values",
                    Out::L(points.iter().map(|(_, v)| Out::F(*v)).collect()),
                ),
                (
                    "StatusCode",
                    Out::S(if *partial { "PartialData" } else { "Complete" }.into()),
                ),
            ])
        })
        .collect();
    let next = page.next.map(|p| Out::S(key.seal(&scope, &p.encode())));
    Ok(Done::with(members(vec![
        ("MetricDataResults", Some(Out::L(results))),
        ("NextToken", next),
        ("Messages", Some(Out::L(vec![]))),
    ])))
}
