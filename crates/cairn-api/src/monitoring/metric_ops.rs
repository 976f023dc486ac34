//! The metric operations: PutMetricData, GetMetricStatistics and ListMetrics (GetMetricData is
//! in `metric_data`).

use cairn_core::CallContext;
use cairn_core::alarms::{invalid, missing};
use cairn_core::error::ApiResult;
use cairn_core::metrics::StatSet;
use cairn_core::metrics::api::{self as metrics_api, Datum, StatsRequest};
use cairn_store::Connection;
use serde_json::Value;

use super::Done;
use super::input::{
    dimensions, full_dimensions, open_page, opt_f64, opt_i64, opt_list, opt_str, opt_time, req_i64,
    req_str, req_time, seal_page, str_list,
};
use super::output::{Out, members};
use cairn_core::token::{Keyset, TokenKey};

fn numbers(v: &Value, member: &str) -> ApiResult<Vec<f64>> {
    opt_list(v, member)?
        .iter()
        .map(|x| match x {
            Value::Number(n) => n.as_f64().ok_or_else(|| {
                invalid(format!("The parameter {member} must be a list of numbers."))
            }),
            Value::String(s) => s
                .parse()
                .map_err(|_| invalid(format!("The parameter {member} must be a list of numbers."))),
            _ => Err(invalid(format!(
                "The parameter {member} must be a list of numbers."
            ))),
        })
        .collect()
}

/// PutMetricData.
pub fn put_metric_data(c: &Connection, ctx: &CallContext, v: &Value) -> ApiResult<Done> {
    let namespace = req_str(v, "Namespace")?;
    let mut data = Vec::new();
    // Metrics given under an entity (`EntityMetricData`) are stored as any other: Cairn keeps
    // no entity associations (the model: with `StrictEntityValidation` off, an entity that
    // does not validate still lets its metric data in).
    let mut given: Vec<&Value> = opt_list(v, "MetricData")?.iter().collect();
    for entity in opt_list(v, "EntityMetricData")? {
        given.extend(opt_list(entity, "MetricData")?);
    }
    for d in given {
        let stats = match d.get("StatisticValues") {
            None | Some(Value::Null) => None,
            Some(s) => Some(StatSet {
                sample_count: opt_f64(s, "SampleCount")?.ok_or_else(|| missing("SampleCount"))?,
                sum: opt_f64(s, "Sum")?.ok_or_else(|| missing("Sum"))?,
                min: opt_f64(s, "Minimum")?.ok_or_else(|| missing("Minimum"))?,
                max: opt_f64(s, "Maximum")?.ok_or_else(|| missing("Maximum"))?,
            }),
        };
        data.push(Datum {
            metric_name: req_str(d, "MetricName")?,
            dimensions: full_dimensions(d, "Dimensions")?,
            timestamp_ms: opt_time(d, "Timestamp")?,
            value: opt_f64(d, "Value")?,
            stats,
            values: numbers(d, "Values")?,
            counts: numbers(d, "Counts")?,
            unit: opt_str(d, "Unit")?,
            storage_resolution: opt_i64(d, "StorageResolution")?,
        });
    }
    metrics_api::put_metric_data(c, ctx, &namespace, &data)?;
    Ok(Done::empty())
}

fn stat_key(s: &str) -> &'static str {
    match s {
        "SampleCount" => "SampleCount",
        "Average" => "Average",
        "Sum" => "Sum",
        "Minimum" => "Minimum",
        "Maximum" => "Maximum",
        _ => "",
    }
}

/// GetMetricStatistics.
pub fn get_metric_statistics(c: &Connection, ctx: &CallContext, v: &Value) -> ApiResult<Done> {
    let statistics = str_list(v, "Statistics")?;
    let extended = str_list(v, "ExtendedStatistics")?;
    let r = StatsRequest {
        namespace: req_str(v, "Namespace")?,
        metric_name: req_str(v, "MetricName")?,
        dimensions: full_dimensions(v, "Dimensions")?,
        start_ms: req_time(v, "StartTime")?,
        end_ms: req_time(v, "EndTime")?,
        period: req_i64(v, "Period")?,
        statistics: statistics.iter().chain(&extended).cloned().collect(),
        unit: opt_str(v, "Unit")?,
    };
    metrics_api::check_statistics(&statistics, &extended)?;
    let points = metrics_api::statistics(c, ctx, &r)?;
    let datapoints = points
        .into_iter()
        .map(|p| {
            let mut m: Vec<(&'static str, Out)> = vec![("Timestamp", Out::T(p.timestamp_ms))];
            for (s, val) in &p.values {
                let k = stat_key(s);
                if !k.is_empty() {
                    m.push((k, Out::F(*val)));
                }
            }
            m.push(("Unit", Out::S(p.unit.clone())));
            let ext: Vec<(String, f64)> = p
                .values
                .iter()
                .filter(|(s, _)| stat_key(s).is_empty())
                .cloned()
                .collect();
            if !ext.is_empty() {
                m.push(("ExtendedStatistics", extended_map(&ext)));
            }
            Out::M(m)
        })
        .collect();
    Ok(Done::with(members(vec![
        ("Label", Some(Out::S(r.metric_name.clone()))),
        ("Datapoints", Some(Out::L(datapoints))),
    ])))
}

/// A `DatapointValueMap` (percentile → value). JSON renders it as an object; Query as
/// `<entry><key/><value/></entry>`.
fn extended_map(values: &[(String, f64)]) -> Out {
    Out::Map(values.to_vec())
}

const PAGE: usize = 500;

/// ListMetrics: metrics by namespace, name and dimensions, paged by a signed `NextToken`
/// that carries the last metric returned and is bound to the other members.
pub fn list_metrics(
    c: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    v: &Value,
) -> ApiResult<Done> {
    let wanted = dimensions(v, "Dimensions", true)?;
    if wanted.len() > 10 {
        return Err(invalid(
            "The collection Dimensions must not have a size greater than 10.",
        ));
    }
    let now = (ctx.now * 1000.0) as i64;
    let since = match opt_str(v, "RecentlyActive")?.as_deref() {
        None => now - 14 * 86_400_000,
        Some("PT3H") => now - 3 * 3_600_000,
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} for parameter RecentlyActive is not valid."
            )));
        }
    };
    let after = open_page(key, "ListMetrics", v, 3)?;
    // Another account's metrics are listed only through cross-account observability, which
    // Cairn does not have.
    if opt_str(v, "OwningAccount")?.is_some_and(|a| a != ctx.account().as_str()) {
        return Ok(Done::with(members(vec![(
            "Metrics",
            Some(Out::L(Vec::new())),
        )])));
    }
    let rows = cairn_core::metrics::list(
        c,
        ctx.account().as_str(),
        ctx.region.as_str(),
        opt_str(v, "Namespace")?.as_deref(),
        opt_str(v, "MetricName")?.as_deref(),
        &wanted,
        since,
    )?;
    // The store's order: namespace, name, then the dimensions' canonical JSON.
    let sort_key = |m: &cairn_store::metrics::MetricRow| {
        [
            m.namespace.clone(),
            m.name.clone(),
            cairn_store::metrics::canonical_dimensions(&m.dimensions),
        ]
    };
    let rest: Vec<&cairn_store::metrics::MetricRow> = rows
        .iter()
        .filter(|m| after.as_ref().is_none_or(|k| k.before(&sort_key(m))))
        .collect();
    let page: Vec<Out> = rest
        .iter()
        .take(PAGE)
        .map(|m| {
            Out::M(vec![
                ("Namespace", Out::S(m.namespace.clone())),
                ("MetricName", Out::S(m.name.clone())),
                (
                    "Dimensions",
                    Out::L(
                        m.dimensions
                            .iter()
                            .map(|(n, v)| {
                                Out::M(vec![
                                    ("Name", Out::S(n.clone())),
                                    ("Value", Out::S(v.clone())),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    let next = (rest.len() > PAGE).then(|| {
        let last = Keyset::of(&sort_key(rest[PAGE - 1]));
        Out::S(seal_page(key, "ListMetrics", v, &last))
    });
    Ok(Done::with(members(vec![
        ("Metrics", Some(Out::L(page))),
        ("NextToken", next),
    ])))
}
