//! The alarm operations over typed inputs: PutMetricAlarm's validation and create-or-replace,
//! DescribeAlarms(ForMetric), DeleteAlarms, SetAlarmState, Enable/DisableAlarmActions,
//! DescribeAlarmHistory and alarm tags.

use cairn_store::Connection;
use cairn_store::alarms::{self as store, HistoryFilter, HistoryItem};
use serde_json::json;

use super::run::{history, transition};
use super::{Alarm, AlarmConfig, AlarmState, StateValue, alarm_arn, invalid};
use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::publish::Publication;

const STATISTICS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// Whether `s` is an extended statistic CloudWatch evaluates (`p99`, `tm90`, `TM(10%:90%)`,
/// `IQM`, `PR(:300)`, …; see [`crate::metrics::stats`]).
pub fn valid_extended(s: &str) -> bool {
    crate::metrics::stats::Statistic::parse_extended(s).is_some()
}

/// Validates PutMetricAlarm's input as CloudWatch does.
pub fn validate(c: &AlarmConfig) -> ApiResult<()> {
    crate::metrics::api::check_text("AlarmName", &c.name, 255)?;
    crate::metrics::api::check_text("MetricName", &c.metric_name, 255)?;
    crate::metrics::api::check_text("Namespace", &c.namespace, 255)?;
    crate::metrics::api::check_namespace_start(&c.namespace)?;
    if c.description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1024)
    {
        return Err(invalid(
            "The parameter AlarmDescription must be shorter than 1024 characters.",
        ));
    }
    for (what, list) in [
        ("OKActions", &c.ok_actions),
        ("AlarmActions", &c.alarm_actions),
        ("InsufficientDataActions", &c.insufficient_data_actions),
    ] {
        if list.len() > 5 {
            return Err(invalid(format!(
                "The collection {what} must not have a size greater than 5."
            )));
        }
        if let Some(bad) = list.iter().find(|a| !a.starts_with("arn:")) {
            return Err(invalid(format!("Invalid arn syntax: {bad}")));
        }
        for action in list {
            check_action_kind(action, &c.dimensions)?;
        }
    }
    match (&c.statistic, &c.extended_statistic) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                ErrorKind::CwInvalidParameterCombination,
                "Exactly one element of the Statistic and ExtendedStatistic parameters must be specified.",
            ));
        }
        (None, None) => {
            return Err(ApiError::new(
                ErrorKind::CwMissingParameter,
                "Exactly one element of the Statistic and ExtendedStatistic parameters must be specified.",
            ));
        }
        (Some(s), None) if !STATISTICS.contains(&s.as_str()) => {
            return Err(invalid(format!(
                "The parameter Statistic must be one of SampleCount, Average, Sum, Minimum, Maximum (got {s})."
            )));
        }
        (None, Some(e)) if !valid_extended(e) => {
            return Err(invalid(format!(
                "The value {e} for parameter ExtendedStatistic is not supported."
            )));
        }
        _ => {}
    }
    crate::metrics::api::check_dimensions(&c.dimensions)?;
    if !(matches!(c.period, 10 | 20 | 30) || (c.period >= 60 && c.period % 60 == 0)) {
        return Err(invalid(
            "The parameter Period must be 10, 20, 30, or a multiple of 60.",
        ));
    }
    if c.evaluation_periods < 1 {
        return Err(invalid(
            "The parameter EvaluationPeriods must be greater than or equal to 1.",
        ));
    }
    if let Some(m) = c.datapoints_to_alarm
        && m > c.evaluation_periods
        && m >= 1
    {
        // CloudWatch's own answer (alarms7), a ValidationError.
        return Err(ApiError::new(
            ErrorKind::IamValidation,
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
        ));
    }
    if let Some(m) = c.datapoints_to_alarm
        && !(1..=c.evaluation_periods).contains(&m)
    {
        return Err(invalid(
            "DatapointsToAlarm must be greater than or equal to 1 and less than or equal to EvaluationPeriods.",
        ));
    }
    let window = c.period.saturating_mul(c.evaluation_periods);
    if c.period < 3600 && window > 86_400 {
        return Err(ApiError::new(
            ErrorKind::IamValidation,
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).",
        ));
    }
    if window > 604_800 {
        return Err(ApiError::new(
            ErrorKind::IamValidation,
            "Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= 604800) for alarms using period >= 3600",
        ));
    }
    if !c.threshold.is_finite() {
        return Err(invalid("The parameter Threshold must be a finite number."));
    }
    if let Some(w) = &c.warm_up
        && !(1..=2880).contains(&w.minutes)
    {
        return Err(invalid(
            "The parameter WarmUpConfiguration.WarmUpPeriodDurationInMinutes must be between 1 and 2880.",
        ));
    }
    if let Some(e) = &c.evaluate_low_sample_count_percentile
        && !matches!(e.as_str(), "evaluate" | "ignore")
    {
        return Err(invalid(
            "The parameter EvaluateLowSampleCountPercentile must be one of evaluate, ignore.",
        ));
    }
    Ok(())
}

/// Refuses actions in another partition or region, as CloudWatch does (`ValidationError`
/// "Invalid region eu-west-1 specified. Only us-east-1 is supported.").
pub fn check_action_regions(c: &AlarmConfig, region: &str) -> ApiResult<()> {
    let actions = c
        .ok_actions
        .iter()
        .chain(&c.alarm_actions)
        .chain(&c.insufficient_data_actions);
    for arn in actions {
        let parts: Vec<&str> = arn.splitn(5, ':').collect();
        if let Some(partition) = parts.get(1)
            && *partition != "aws"
        {
            return Err(ApiError::new(
                ErrorKind::IamValidation,
                format!("Invalid partition {partition} specified. Only aws is supported."),
            ));
        }
        if let Some(r) = parts.get(3)
            && !r.is_empty()
            && *r != region
        {
            return Err(ApiError::new(
                ErrorKind::IamValidation,
                format!("Invalid region {r} specified. Only {region} is supported."),
            ));
        }
    }
    Ok(())
}

fn ms(ctx: &CallContext) -> i64 {
    (ctx.now * 1000.0).floor() as i64
}

fn load(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<Option<Alarm>> {
    store::get(conn, ctx.account().as_str(), ctx.region.as_str(), name)?
        .map(|b| Alarm::decode(&b))
        .transpose()
}

/// Whether the caller's account and region have an alarm named `name` (a PutMetricAlarm
/// naming it updates it, and ignores its `Tags`).
pub fn exists(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<bool> {
    Ok(store::get(conn, ctx.account().as_str(), ctx.region.as_str(), name)?.is_some())
}

fn save(conn: &Connection, a: &Alarm) -> ApiResult<()> {
    store::put(conn, &a.account, &a.region, &a.config.name, &a.encode())?;
    Ok(())
}

/// PutMetricAlarm: creates the alarm in INSUFFICIENT_DATA, or replaces an existing alarm's
/// configuration keeping its state (and its tags: `tags` apply only on creation).
pub fn put(
    conn: &Connection,
    ctx: &CallContext,
    config: AlarmConfig,
    tags: Vec<(String, String)>,
) -> ApiResult<()> {
    validate(&config)?;
    check_action_regions(&config, ctx.region.as_str())?;
    check_tags(&tags)?;
    let now = ms(ctx);
    let (alarm, created) = match load(conn, ctx, &config.name)? {
        Some(mut a) => {
            a.config = config;
            a.config_updated_ms = now;
            (a, false)
        }
        None => {
            let mut tags = tags;
            tags.sort();
            tags.dedup_by(|a, b| a.0 == b.0);
            (
                Alarm {
                    v: 1,
                    account: ctx.account().to_string(),
                    region: ctx.region.to_string(),
                    config,
                    state: AlarmState {
                        value: StateValue::InsufficientData,
                        reason: "Unchecked: Initial alarm creation".into(),
                        reason_data: None,
                        updated_ms: now,
                        transitioned_ms: now,
                    },
                    config_updated_ms: now,
                    last_evaluated_ms: 0,
                    tags,
                },
                true,
            )
        }
    };
    let (kind, key, summary) = if created {
        (
            "Create",
            "createdAlarm",
            format!("Alarm \"{}\" created", alarm.config.name),
        )
    } else {
        (
            "Update",
            "updatedAlarm",
            format!("Alarm \"{}\" updated", alarm.config.name),
        )
    };
    let data = json!({"version": "1.0", "type": kind, key: config_json(&alarm)}).to_string();
    history(conn, &alarm, now, "ConfigurationUpdate", summary, data)?;
    save(conn, &alarm)
}

fn config_json(a: &Alarm) -> serde_json::Value {
    let c = &a.config;
    json!({
        "alarmName": c.name, "alarmArn": a.arn(), "alarmDescription": c.description,
        "actionsEnabled": c.actions_enabled, "okactions": c.ok_actions,
        "alarmActions": c.alarm_actions, "insufficientDataActions": c.insufficient_data_actions,
        "metricName": c.metric_name, "namespace": c.namespace, "statistic": c.statistic,
        "extendedStatistic": c.extended_statistic,
        "dimensions": c.dimensions.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
        "period": c.period, "unit": c.unit, "evaluationPeriods": c.evaluation_periods,
        "datapointsToAlarm": c.datapoints_to_alarm, "threshold": c.threshold,
        "comparisonOperator": c.comparison.as_str(),
        "treatMissingData": c.treat_missing_data.map(|t| t.as_str()),
    })
}

/// DescribeAlarms filters.
#[derive(Clone, Debug, Default)]
pub struct Describe {
    /// `AlarmNames` (exact).
    pub names: Vec<String>,
    /// `AlarmNamePrefix`.
    pub prefix: Option<String>,
    /// `StateValue`.
    pub state: Option<StateValue>,
    /// `ActionPrefix`.
    pub action_prefix: Option<String>,
    /// Only alarms named after this (the page's start).
    pub after: Option<String>,
    /// At most this many (a page and one more, to know whether another follows).
    pub limit: usize,
}

/// DescribeAlarms: matching alarms by name, from `after`, at most `limit`.
pub fn describe(conn: &Connection, ctx: &CallContext, f: &Describe) -> ApiResult<Vec<Alarm>> {
    if !f.names.is_empty() && f.prefix.is_some() {
        return Err(ApiError::new(
            ErrorKind::CwInvalidParameterCombination,
            "AlarmNames and AlarmNamePrefix cannot be specified together.",
        ));
    }
    const CHUNK: usize = 500;
    let mut out = Vec::new();
    let mut after = f.after.clone();
    while out.len() < f.limit {
        let rows = store::list_after(
            conn,
            ctx.account().as_str(),
            ctx.region.as_str(),
            f.prefix.as_deref().unwrap_or(""),
            after.as_deref(),
            CHUNK,
        )?;
        let last = rows.len() < CHUNK;
        after = rows.last().map(|r| r.name.clone());
        collect_matching(rows, f, &mut out)?;
        if last {
            break;
        }
    }
    out.truncate(f.limit);
    Ok(out)
}

/// Adds the rows matching `f`'s names, state and action prefix to `out`.
fn collect_matching(
    rows: Vec<cairn_store::alarms::AlarmRow>,
    f: &Describe,
    out: &mut Vec<Alarm>,
) -> ApiResult<()> {
    for r in rows {
        if !f.names.is_empty() && !f.names.contains(&r.name) {
            continue;
        }
        let a = Alarm::decode(&r.body)?;
        if f.state.is_some_and(|s| s != a.state.value) {
            continue;
        }
        if let Some(p) = &f.action_prefix {
            let c = &a.config;
            let any = c
                .ok_actions
                .iter()
                .chain(&c.alarm_actions)
                .chain(&c.insufficient_data_actions)
                .any(|x| x.starts_with(p.as_str()));
            if !any {
                continue;
            }
        }
        out.push(a);
    }
    Ok(())
}

/// DescribeAlarmsForMetric's filters besides the metric.
#[derive(Clone, Debug, Default)]
pub struct ForMetric {
    /// `Namespace`.
    pub namespace: String,
    /// `MetricName`.
    pub metric_name: String,
    /// `Dimensions`: the exact set, none when not given. A metric is its name with its
    /// dimensions ("If the metric has any associated dimensions, you must specify them").
    pub dimensions: Vec<(String, String)>,
    /// `Statistic`.
    pub statistic: Option<String>,
    /// `ExtendedStatistic`.
    pub extended_statistic: Option<String>,
    /// `Period`.
    pub period: Option<i64>,
    /// `Unit`.
    pub unit: Option<String>,
}

/// DescribeAlarmsForMetric.
pub fn for_metric(conn: &Connection, ctx: &CallContext, f: &ForMetric) -> ApiResult<Vec<Alarm>> {
    let sorted = |d: &[(String, String)]| {
        let mut d = d.to_vec();
        d.sort();
        d
    };
    let every = Describe {
        limit: usize::MAX,
        ..Describe::default()
    };
    let all = describe(conn, ctx, &every)?;
    Ok(all
        .into_iter()
        .filter(|a| {
            let c = &a.config;
            c.namespace == f.namespace
                && c.metric_name == f.metric_name
                && sorted(&f.dimensions) == sorted(&c.dimensions)
                && f.statistic
                    .as_ref()
                    .is_none_or(|s| c.statistic.as_ref() == Some(s))
                && f.extended_statistic
                    .as_ref()
                    .is_none_or(|s| c.extended_statistic.as_ref() == Some(s))
                && f.period.is_none_or(|p| p == c.period)
                && f.unit.as_ref().is_none_or(|u| c.unit.as_ref() == Some(u))
        })
        .collect())
}

/// DeleteAlarms: deletes those that exist (history stays). Unknown names are an error only
/// when none of the names exists.
pub fn delete(conn: &Connection, ctx: &CallContext, names: &[String]) -> ApiResult<()> {
    if names.len() > 100 {
        return Err(invalid(
            "The collection AlarmNames must not have a size greater than 100.",
        ));
    }
    let mut deleted = 0;
    for n in names {
        if store::delete(conn, ctx.account().as_str(), ctx.region.as_str(), n)? {
            deleted += 1;
        }
    }
    if deleted == 0
        && let Some(first) = names.first()
    {
        return Err(ApiError::new(
            ErrorKind::CwResourceNotFound,
            format!("1 or more alarms do not exist: {first}"),
        ));
    }
    Ok(())
}

/// SetAlarmState: a state change as if evaluated (history and actions when it differs).
pub fn set_state(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    value: StateValue,
    reason: &str,
    reason_data: Option<&str>,
    kms: Option<crate::sse::KmsAccess<'_>>,
) -> ApiResult<Vec<Publication>> {
    if reason.chars().count() > 1023 {
        return Err(invalid(
            "The parameter StateReason must be shorter than 1024 characters.",
        ));
    }
    if let Some(d) = reason_data
        && (d.chars().count() > 4000 || serde_json::from_str::<serde_json::Value>(d).is_err())
    {
        return Err(ApiError::new(
            ErrorKind::CwInvalidFormat,
            "Invalid JSON in the parameter StateReasonData.",
        ));
    }
    let mut a = load(conn, ctx, name)?.ok_or_else(|| {
        ApiError::new(
            ErrorKind::CwResourceNotFound,
            format!("Alarm {name} does not exist."),
        )
    })?;
    if a.state.value == value {
        a.state.reason = reason.to_owned();
        a.state.reason_data = reason_data.map(str::to_owned);
        a.state.updated_ms = ms(ctx);
        save(conn, &a)?;
        return Ok(Vec::new());
    }
    let sent = transition(
        conn,
        &mut a,
        value,
        reason.to_owned(),
        reason_data.map(str::to_owned),
        ms(ctx),
        kms,
    )?;
    save(conn, &a)?;
    Ok(sent)
}

/// Enable/DisableAlarmActions (unknown names are ignored).
pub fn set_actions_enabled(
    conn: &Connection,
    ctx: &CallContext,
    names: &[String],
    enabled: bool,
) -> ApiResult<()> {
    if names.len() > 100 {
        return Err(invalid(
            "The collection AlarmNames must not have a size greater than 100.",
        ));
    }
    for n in names {
        if let Some(mut a) = load(conn, ctx, n)? {
            a.config.actions_enabled = enabled;
            save(conn, &a)?;
        }
    }
    Ok(())
}

/// DescribeAlarmHistory: items of the caller's account and region.
pub fn alarm_history(
    conn: &Connection,
    ctx: &CallContext,
    f: &HistoryFilter<'_>,
) -> ApiResult<Vec<HistoryItem>> {
    if let Some(t) = f.item_type
        && !matches!(t, "ConfigurationUpdate" | "StateUpdate" | "Action")
    {
        return Err(invalid(format!(
            "The value {t} for parameter HistoryItemType is not valid."
        )));
    }
    Ok(store::history(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
        f,
    )?)
}

fn check_tags(tags: &[(String, String)]) -> ApiResult<()> {
    if tags.len() > 50 {
        return Err(invalid(
            "The collection Tags must not have a size greater than 50.",
        ));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(invalid(
                "Tag keys must be 1 to 128 characters and values at most 256 characters.",
            ));
        }
        if k.starts_with("aws:") {
            return Err(invalid("Tag keys may not start with 'aws:'."));
        }
    }
    Ok(())
}

fn by_arn(conn: &Connection, ctx: &CallContext, arn: &str) -> ApiResult<Alarm> {
    let prefix = alarm_arn(ctx.region.as_str(), ctx.account().as_str(), "");
    let found = match arn.strip_prefix(&prefix) {
        Some(name) => load(conn, ctx, name)?,
        None => None,
    };
    // The tagging operations model `ResourceNotFoundException`, not the alarm operations'
    // `ResourceNotFound`.
    found.ok_or_else(|| {
        ApiError::new(
            ErrorKind::CwResourceNotFoundException,
            format!("Resource {arn} does not exist."),
        )
    })
}

/// ListTagsForResource.
pub fn list_tags(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
) -> ApiResult<Vec<(String, String)>> {
    Ok(by_arn(conn, ctx, arn)?.tags)
}

/// TagResource (adds or overwrites).
pub fn tag(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    tags: &[(String, String)],
) -> ApiResult<()> {
    check_tags(tags)?;
    let mut a = by_arn(conn, ctx, arn)?;
    for (k, v) in tags {
        a.tags.retain(|t| &t.0 != k);
        a.tags.push((k.clone(), v.clone()));
    }
    a.tags.sort();
    check_tags(&a.tags)?;
    save(conn, &a)
}

/// UntagResource.
pub fn untag(conn: &Connection, ctx: &CallContext, arn: &str, keys: &[String]) -> ApiResult<()> {
    let mut a = by_arn(conn, ctx, arn)?;
    a.tags.retain(|t| !keys.contains(&t.0));
    save(conn, &a)
}

/// An alarm action is of a kind PutMetricAlarm lists (alarms7): an SNS topic, an Auto
/// Scaling policy, a Lambda function, a Systems Manager OpsItem or Incident Manager response
/// plan, or an EC2 action, which only an alarm on an EC2 instance (an `InstanceId`
/// dimension) may take, in CloudWatch's words.
fn check_action_kind(action: &str, dimensions: &[(String, String)]) -> ApiResult<()> {
    let service = action.split(':').nth(2).unwrap_or_default();
    let ec2 = (service == "automate" && action.split(':').nth(4) == Some("ec2"))
        || (service == "swf" && action.contains(":action/actions/AWS_EC2."));
    if ec2 {
        if dimensions.iter().any(|(n, _)| n == "InstanceId") {
            return Ok(());
        }
        return Err(ApiError::new(
            ErrorKind::IamValidation,
            "Invalid use of EC2 action. An EC2 action can only be used if the alarm is monitoring an EC2 instance.",
        ));
    }
    if matches!(
        service,
        "sns" | "autoscaling" | "lambda" | "ssm" | "ssm-incidents"
    ) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorKind::IamValidation,
        format!(
            "Invalid alarm action {action}: an action is an SNS topic, an Auto Scaling policy, an EC2 action, a Lambda function, a Systems Manager OpsItem or an Incident Manager response plan."
        ),
    ))
}
