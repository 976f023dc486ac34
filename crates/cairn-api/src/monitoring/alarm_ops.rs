//! The alarm operations: PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric,
//! DeleteAlarms, SetAlarmState, Enable/DisableAlarmActions, DescribeAlarmHistory and the
//! tagging calls.

use cairn_core::CallContext;
use cairn_core::alarms::api::{self, Describe, ForMetric};
use cairn_core::alarms::{Alarm, AlarmConfig, Comparison, StateValue, TreatMissing, invalid};
use cairn_core::error::ApiResult;
use cairn_core::sse::KmsAccess;
use cairn_store::Connection;
use cairn_store::alarms::HistoryFilter;
use serde_json::Value;

use super::Done;
use super::input::{
    bad_next_token, full_dimensions, open_page, opt_bool, opt_f64, opt_i64, opt_list, opt_str,
    opt_time, req_str, seal_page, str_list, tags,
};
use super::output::{Out, members};
use cairn_core::token::{Keyset, TokenKey};

fn enum_value<T>(v: &Value, member: &str, parse: fn(&str) -> Option<T>) -> ApiResult<Option<T>> {
    match opt_str(v, member)? {
        None => Ok(None),
        Some(s) => parse(&s).map(Some).ok_or_else(|| {
            invalid(format!(
                "The value {s} for parameter {member} is not valid."
            ))
        }),
    }
}

/// PutMetricAlarm.
pub fn put_metric_alarm(c: &Connection, ctx: &CallContext, v: &Value) -> ApiResult<Done> {
    let name = req_str(v, "AlarmName")?;
    if !opt_list(v, "Metrics")?.is_empty() {
        return Err(invalid(
            "Metric math alarms (Metrics) are not supported by Cairn; use MetricName and Namespace.",
        ));
    }
    // ThresholdMetricId names an anomaly-detection band among `Metrics`, which Cairn does
    // not take: refused, never stored and dropped.
    if v.get("ThresholdMetricId").is_some_and(|x| !x.is_null()) {
        return Err(invalid(
            "ThresholdMetricId is for anomaly detection alarms, which are not supported by Cairn; use Threshold.",
        ));
    }
    if v.get("EvaluationCriteria").is_some_and(|x| !x.is_null()) {
        return Err(invalid("EvaluationCriteria is not supported by Cairn."));
    }
    // "cannot be specified for alarms configured with MetricName or Metrics" (the model;
    // alarms7: it was taken and dropped).
    if v.get("EvaluationInterval").is_some_and(|x| !x.is_null()) {
        return Err(cairn_core::ApiError::new(
            cairn_core::ErrorKind::CwInvalidParameterCombination,
            "EvaluationInterval can only be specified with EvaluationCriteria, which Cairn does not support.",
        ));
    }
    // Newer SDKs' members: a sliding window is how every alarm is evaluated; a wall-clock
    // window and tag propagation into notifications are refused, never silently ignored.
    if v.pointer("/EvaluationWindow/WallClockWindow")
        .is_some_and(|x| !x.is_null())
    {
        return Err(invalid(
            "EvaluationWindow.WallClockWindow is not supported by Cairn; alarms are evaluated over a SlidingWindow.",
        ));
    }
    if v.pointer("/ActionConfiguration/AlarmTagsPropagation/Enabled")
        .is_some_and(|e| e == &Value::Bool(true) || e == "true")
    {
        return Err(invalid(
            "ActionConfiguration.AlarmTagsPropagation is not supported by Cairn.",
        ));
    }
    let warm_up = match v.get("WarmUpConfiguration").filter(|w| !w.is_null()) {
        None => None,
        Some(w) => Some(cairn_core::alarms::WarmUp {
            minutes: opt_i64(w, "WarmUpPeriodDurationInMinutes")?.ok_or_else(|| {
                cairn_core::alarms::missing("WarmUpConfiguration.WarmUpPeriodDurationInMinutes")
            })?,
            only_after: opt_bool(w, "OnlyStartEvaluatingAfterWarmUpPeriodEnds")?,
        }),
    };
    let comparison = enum_value(v, "ComparisonOperator", Comparison::parse)?
        .ok_or_else(|| cairn_core::alarms::missing("ComparisonOperator"))?;
    let config = AlarmConfig {
        name,
        description: opt_str(v, "AlarmDescription")?,
        actions_enabled: opt_bool(v, "ActionsEnabled")?.unwrap_or(true),
        ok_actions: str_list(v, "OKActions")?,
        alarm_actions: str_list(v, "AlarmActions")?,
        insufficient_data_actions: str_list(v, "InsufficientDataActions")?,
        metric_name: opt_str(v, "MetricName")?
            .ok_or_else(|| cairn_core::alarms::missing("MetricName"))?,
        namespace: opt_str(v, "Namespace")?
            .ok_or_else(|| cairn_core::alarms::missing("Namespace"))?,
        statistic: opt_str(v, "Statistic")?,
        extended_statistic: opt_str(v, "ExtendedStatistic")?,
        dimensions: full_dimensions(v, "Dimensions")?,
        period: opt_i64(v, "Period")?.ok_or_else(|| cairn_core::alarms::missing("Period"))?,
        unit: opt_str(v, "Unit")?,
        evaluation_periods: opt_i64(v, "EvaluationPeriods")?
            .ok_or_else(|| cairn_core::alarms::missing("EvaluationPeriods"))?,
        datapoints_to_alarm: opt_i64(v, "DatapointsToAlarm")?,
        threshold: opt_f64(v, "Threshold")?
            .ok_or_else(|| cairn_core::alarms::missing("Threshold"))?,
        comparison,
        treat_missing_data: enum_value(v, "TreatMissingData", TreatMissing::parse)?,
        evaluate_low_sample_count_percentile: opt_str(v, "EvaluateLowSampleCountPercentile")?,
        warm_up,
        sliding_window: v
            .pointer("/EvaluationWindow/SlidingWindow")
            .is_some_and(|x| !x.is_null()),
    };
    if let Some(u) = &config.unit {
        cairn_core::metrics::api::check_unit(u)?;
    }
    api::put(c, ctx, config, tags(v, "Tags")?)?;
    Ok(Done::empty())
}

/// A `MetricAlarm` structure.
pub fn alarm_out(a: &Alarm) -> Out {
    let c = &a.config;
    members(vec![
        ("AlarmName", Some(Out::S(c.name.clone()))),
        ("AlarmArn", Some(Out::S(a.arn()))),
        ("AlarmDescription", Out::opt_s(&c.description)),
        (
            "AlarmConfigurationUpdatedTimestamp",
            Some(Out::T(a.config_updated_ms)),
        ),
        ("ActionsEnabled", Some(Out::B(c.actions_enabled))),
        ("OKActions", Some(Out::strings(&c.ok_actions))),
        ("AlarmActions", Some(Out::strings(&c.alarm_actions))),
        (
            "InsufficientDataActions",
            Some(Out::strings(&c.insufficient_data_actions)),
        ),
        ("StateValue", Some(Out::S(a.state.value.as_str().into()))),
        ("StateReason", Some(Out::S(a.state.reason.clone()))),
        ("StateReasonData", Out::opt_s(&a.state.reason_data)),
        ("StateUpdatedTimestamp", Some(Out::T(a.state.updated_ms))),
        ("MetricName", Some(Out::S(c.metric_name.clone()))),
        ("Namespace", Some(Out::S(c.namespace.clone()))),
        ("Statistic", Out::opt_s(&c.statistic)),
        ("ExtendedStatistic", Out::opt_s(&c.extended_statistic)),
        ("Dimensions", Some(dims_out(&c.dimensions))),
        ("Period", Some(Out::I(c.period))),
        ("Unit", Out::opt_s(&c.unit)),
        ("EvaluationPeriods", Some(Out::I(c.evaluation_periods))),
        ("DatapointsToAlarm", c.datapoints_to_alarm.map(Out::I)),
        ("Threshold", Some(Out::F(c.threshold))),
        (
            "ComparisonOperator",
            Some(Out::S(c.comparison.as_str().into())),
        ),
        (
            "TreatMissingData",
            c.treat_missing_data.map(|t| Out::S(t.as_str().into())),
        ),
        (
            "EvaluateLowSampleCountPercentile",
            Out::opt_s(&c.evaluate_low_sample_count_percentile),
        ),
        (
            "StateTransitionedTimestamp",
            Some(Out::T(a.state.transitioned_ms)),
        ),
        (
            "EvaluationWindow",
            c.sliding_window
                .then(|| Out::M(vec![("SlidingWindow", Out::M(Vec::new()))])),
        ),
        (
            "WarmUpConfiguration",
            c.warm_up.as_ref().map(|w| {
                let mut m = vec![("WarmUpPeriodDurationInMinutes", Out::I(w.minutes))];
                if let Some(b) = w.only_after {
                    m.push(("OnlyStartEvaluatingAfterWarmUpPeriodEnds", Out::B(b)));
                }
                Out::M(m)
            }),
        ),
    ])
}

fn dims_out(d: &[(String, String)]) -> Out {
    Out::L(
        d.iter()
            .map(|(n, v)| {
                Out::M(vec![
                    ("Name", Out::S(n.clone())),
                    ("Value", Out::S(v.clone())),
                ])
            })
            .collect(),
    )
}

fn page_size(v: &Value) -> ApiResult<usize> {
    match opt_i64(v, "MaxRecords")? {
        None => Ok(50),
        Some(n) if (1..=100).contains(&n) => Ok(n as usize),
        Some(n) => Err(invalid(format!(
            "The value {n} for parameter MaxRecords is not valid: it must be between 1 and 100."
        ))),
    }
}

/// DescribeAlarms: alarms in name order, paged by a signed `NextToken` that carries the
/// last name returned and is bound to the other members.
pub fn describe_alarms(
    c: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    v: &Value,
) -> ApiResult<Done> {
    // The alarms a composite alarm's rule names, or the composite alarms that name one:
    // Cairn has no composite alarms, so there are none. AWS allows no other filter beside
    // them (MaxRecords and NextToken only).
    let related = ["ChildrenOfAlarmName", "ParentsOfAlarmName"];
    if let Some(asked) = related
        .iter()
        .find(|m| v.get(**m).is_some_and(|x| !x.is_null()))
    {
        let others = v.as_object().is_some_and(|m| {
            m.iter().any(|(k, x)| {
                !x.is_null() && k != asked && !matches!(k.as_str(), "MaxRecords" | "NextToken")
            })
        });
        if others {
            return Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::CwInvalidParameterCombination,
                format!(
                    "With {asked}, no other parameter may be given but MaxRecords and NextToken."
                ),
            ));
        }
        page_size(v)?;
        return Ok(Done::with(members(vec![
            ("CompositeAlarms", Some(Out::L(vec![]))),
            ("MetricAlarms", Some(Out::L(vec![]))),
        ])));
    }
    let names = str_list(v, "AlarmNames")?;
    if names.len() > 100 {
        return Err(invalid(
            "The collection AlarmNames must not have a size greater than 100.",
        ));
    }
    let f = Describe {
        names,
        prefix: opt_str(v, "AlarmNamePrefix")?,
        state: enum_value(v, "StateValue", StateValue::parse)?,
        action_prefix: opt_str(v, "ActionPrefix")?,
        after: None,
        limit: 0,
    };
    let types = alarm_types(v)?;
    let metric_alarms = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
    let size = page_size(v)?;
    let after = open_page(key, "DescribeAlarms", v, 1)?;
    let f = api::Describe {
        after: after.as_ref().and_then(|k| k.0.first().cloned()),
        limit: size + 1,
        ..f
    };
    let all = if metric_alarms {
        api::describe(c, ctx, &f)?
    } else {
        Vec::new()
    };
    let rest: Vec<&Alarm> = all.iter().collect();
    let page: Vec<Out> = rest.iter().take(size).map(|a| alarm_out(a)).collect();
    let next = (rest.len() > size).then(|| {
        let last = Keyset::of(&[&rest[size - 1].config.name]);
        Out::S(seal_page(key, "DescribeAlarms", v, &last))
    });
    Ok(Done::with(members(vec![
        ("CompositeAlarms", Some(Out::L(vec![]))),
        ("MetricAlarms", Some(Out::L(page))),
        ("NextToken", next),
    ])))
}

/// DescribeAlarmsForMetric.
pub fn describe_alarms_for_metric(c: &Connection, ctx: &CallContext, v: &Value) -> ApiResult<Done> {
    let f = ForMetric {
        namespace: req_str(v, "Namespace")?,
        metric_name: req_str(v, "MetricName")?,
        dimensions: full_dimensions(v, "Dimensions")?,
        statistic: opt_str(v, "Statistic")?,
        extended_statistic: opt_str(v, "ExtendedStatistic")?,
        period: opt_i64(v, "Period")?,
        unit: opt_str(v, "Unit")?,
    };
    let found = api::for_metric(c, ctx, &f)?;
    Ok(Done::with(Out::M(vec![(
        "MetricAlarms",
        Out::L(found.iter().map(alarm_out).collect()),
    )])))
}

fn required_names(v: &Value) -> ApiResult<Vec<String>> {
    let names = str_list(v, "AlarmNames")?;
    if v.get("AlarmNames").is_none_or(Value::is_null) {
        return Err(cairn_core::alarms::missing("AlarmNames"));
    }
    Ok(names)
}

/// DeleteAlarms.
pub fn delete_alarms(c: &Connection, ctx: &CallContext, v: &Value) -> ApiResult<Done> {
    api::delete(c, ctx, &required_names(v)?)?;
    Ok(Done::empty())
}

/// SetAlarmState.
pub fn set_alarm_state(
    c: &Connection,
    ctx: &CallContext,
    kms: KmsAccess<'_>,
    v: &Value,
) -> ApiResult<Done> {
    let name = req_str(v, "AlarmName")?;
    let value = enum_value(v, "StateValue", StateValue::parse)?
        .ok_or_else(|| cairn_core::alarms::missing("StateValue"))?;
    let reason = req_str(v, "StateReason")?;
    let data = opt_str(v, "StateReasonData")?;
    let sent = api::set_state(c, ctx, &name, value, &reason, data.as_deref(), Some(kms))?;
    Ok(Done {
        out: None,
        publications: sent,
    })
}

/// EnableAlarmActions.
pub fn enable_alarm_actions(c: &Connection, ctx: &CallContext, v: &Value) -> ApiResult<Done> {
    api::set_actions_enabled(c, ctx, &required_names(v)?, true)?;
    Ok(Done::empty())
}

/// DisableAlarmActions.
pub fn disable_alarm_actions(c: &Connection, ctx: &CallContext, v: &Value) -> ApiResult<Done> {
    api::set_actions_enabled(c, ctx, &required_names(v)?, false)?;
    Ok(Done::empty())
}

/// DescribeAlarmHistory: newest (or oldest) first, paged by a signed `NextToken` that carries
/// the last item's time and id and is bound to the other members, so items added between
/// pages are neither repeated nor skipped.
pub fn describe_alarm_history(
    c: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    v: &Value,
) -> ApiResult<Done> {
    let name = opt_str(v, "AlarmName")?;
    let item_type = opt_str(v, "HistoryItemType")?;
    let ascending = match opt_str(v, "ScanBy")?.as_deref() {
        None | Some("TimestampDescending") => false,
        Some("TimestampAscending") => true,
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} for parameter ScanBy is not valid."
            )));
        }
    };
    let types = alarm_types(v)?;
    let size = page_size(v)?;
    let after = match open_page(key, "DescribeAlarmHistory", v, 2)? {
        None => None,
        Some(k) => match (k.0[0].parse(), k.0[1].parse()) {
            (Ok(ts), Ok(id)) => Some((ts, id)),
            _ => return Err(bad_next_token()),
        },
    };
    let items = if types.is_empty() || types.iter().any(|t| t == "MetricAlarm") {
        api::alarm_history(
            c,
            ctx,
            &HistoryFilter {
                alarm_name: name.as_deref(),
                item_type: item_type.as_deref(),
                start_ms: opt_time(v, "StartDate")?.unwrap_or(0),
                end_ms: opt_time(v, "EndDate")?.unwrap_or(i64::MAX),
                ascending,
                after,
                limit: size as i64 + 1,
            },
        )?
    } else {
        Vec::new()
    };
    let next = (items.len() > size).then(|| {
        let last = &items[size - 1];
        let last = Keyset::of(&[last.ts.to_string(), last.id.to_string()]);
        Out::S(seal_page(key, "DescribeAlarmHistory", v, &last))
    });
    let list = items
        .iter()
        .take(size)
        .map(|h| {
            Out::M(vec![
                ("AlarmName", Out::S(h.alarm_name.clone())),
                ("AlarmType", Out::S("MetricAlarm".into())),
                ("Timestamp", Out::T(h.ts)),
                ("HistoryItemType", Out::S(h.item_type.clone())),
                ("HistorySummary", Out::S(h.summary.clone())),
                ("HistoryData", Out::S(h.data.clone())),
            ])
        })
        .collect();
    Ok(Done::with(members(vec![
        ("AlarmHistoryItems", Some(Out::L(list))),
        ("NextToken", next),
    ])))
}

/// ListTagsForResource.
pub fn list_tags_for_resource(c: &Connection, ctx: &CallContext, v: &Value) -> ApiResult<Done> {
    let found = api::list_tags(c, ctx, &req_str(v, "ResourceARN")?)?;
    Ok(Done::with(Out::M(vec![(
        "Tags",
        Out::L(
            found
                .into_iter()
                .map(|(k, v)| Out::M(vec![("Key", Out::S(k)), ("Value", Out::S(v))]))
                .collect(),
        ),
    )])))
}

/// TagResource.
pub fn tag_resource(c: &Connection, ctx: &CallContext, v: &Value) -> ApiResult<Done> {
    api::tag(c, ctx, &req_str(v, "ResourceARN")?, &tags(v, "Tags")?)?;
    Ok(Done::empty())
}

/// UntagResource.
pub fn untag_resource(c: &Connection, ctx: &CallContext, v: &Value) -> ApiResult<Done> {
    api::untag(
        c,
        ctx,
        &req_str(v, "ResourceARN")?,
        &str_list(v, "TagKeys")?,
    )?;
    Ok(Done::empty())
}

/// `AlarmTypes`, each one of the model's enum (alarms3: an unknown type answered 200 with
/// empty lists), refused as the model check refuses a top-level enum.
fn alarm_types(v: &Value) -> ApiResult<Vec<String>> {
    const TYPES: [&str; 2] = ["CompositeAlarm", "MetricAlarm"];
    let types = str_list(v, "AlarmTypes")?;
    for (i, t) in types.iter().enumerate() {
        if !TYPES.contains(&t.as_str()) {
            return Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::IamValidation,
                format!(
                    "1 validation error detected: Value '{t}' at 'alarmTypes.{}.member' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                    i + 1,
                    TYPES.join(", ")
                ),
            ));
        }
    }
    Ok(types)
}
