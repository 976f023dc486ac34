//! CloudWatch's metric operations over typed inputs (spec monitoring.md §3.2): PutMetricData's
//! validation and storage, GetMetricStatistics and the MetricStat queries of GetMetricData
//! (per-period statistics, extended statistics included), with AWS's limits and messages.

use cairn_store::Connection;
use cairn_store::metrics::MetricKey;

use super::stats::{STANDARD, Statistic};
use super::{MetricQuery, PeriodStats, StatSet, one_unit, put_stats};
use crate::CallContext;
use crate::alarms::{invalid, missing};
use crate::error::{ApiError, ApiResult, ErrorKind};

/// Units CloudWatch accepts.
pub const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// One `MetricDatum`.
#[derive(Clone, Debug, Default)]
pub struct Datum {
    /// `MetricName`.
    pub metric_name: String,
    /// `Dimensions`.
    pub dimensions: Vec<(String, String)>,
    /// `Timestamp`, ms (default: now).
    pub timestamp_ms: Option<i64>,
    /// `Value`.
    pub value: Option<f64>,
    /// `StatisticValues`.
    pub stats: Option<StatSet>,
    /// `Values`.
    pub values: Vec<f64>,
    /// `Counts` (parallel to `values`; 1 each when empty).
    pub counts: Vec<f64>,
    /// `Unit`.
    pub unit: Option<String>,
    /// `StorageResolution` (1 or 60).
    pub storage_resolution: Option<i64>,
}

/// Checks a unit name.
pub fn check_unit(unit: &str) -> ApiResult<()> {
    if UNITS.contains(&unit) {
        Ok(())
    } else {
        Err(invalid(format!(
            "The parameter Unit must be one of {}.",
            UNITS.join(", ")
        )))
    }
}

/// Refuses an empty name or value, one over `max` characters, or one with control characters
/// (`InvalidParameterValue`, CloudWatch's text).
pub(crate) fn check_text(what: &str, v: &str, max: usize) -> ApiResult<()> {
    if v.is_empty() || v.chars().count() > max || v.chars().any(|c| c.is_control()) {
        return Err(invalid(format!(
            "The parameter {what} must be between 1 and {max} characters long and contain no control characters."
        )));
    }
    Ok(())
}

/// Checks a metric's dimensions.
pub fn check_dimensions(dims: &[(String, String)]) -> ApiResult<()> {
    if dims.len() > 30 {
        return Err(invalid(
            "The collection Dimensions must not have a size greater than 30.",
        ));
    }
    for (n, v) in dims {
        check_text("Dimensions.member.Name", n, 255)?;
        check_text("Dimensions.member.Value", v, 1024)?;
        // The model: "Dimension names must contain only ASCII characters, must include at
        // least one non-whitespace character, and cannot start with a colon (:)"; values
        // likewise but for the colon (alarms3).
        if !n.is_ascii() || n.trim().is_empty() || n.starts_with(':') {
            return Err(invalid(format!(
                "The parameter Dimensions.member.Name must contain only ASCII characters, include at least one non-whitespace character and not start with ':' (got '{n}')."
            )));
        }
        if !v.is_ascii() || v.trim().is_empty() {
            return Err(invalid(format!(
                "The parameter Dimensions.member.Value must contain only ASCII characters and include at least one non-whitespace character (got '{v}')."
            )));
        }
    }
    check_unique_dimension_names(dims)
}

/// Refuses a metric that names one dimension twice (`InvalidParameterValue`, AWS's text): a
/// metric's dimensions are a set by name, for PutMetricData, PutMetricAlarm and the
/// statistics queries alike.
pub fn check_unique_dimension_names(dims: &[(String, String)]) -> ApiResult<()> {
    let mut names: Vec<&str> = dims.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(invalid(
            "No metric may specify the same dimension name twice.",
        ));
    }
    Ok(())
}

/// Whether CloudWatch stores `v`: finite, at most 2^360 in magnitude and, unless zero, at
/// least 2^-360 (PutMetricData's range; a metric filter's value outside it is dropped too).
pub fn storable(v: f64) -> bool {
    let limit = 2f64.powi(360);
    v.is_finite() && v.abs() <= limit && (v == 0.0 || v.abs() >= 1.0 / limit)
}

fn check_value(v: f64) -> ApiResult<()> {
    if !storable(v) {
        return Err(invalid(
            "The value of a metric must be a finite number between -2^360 and 2^360.",
        ));
    }
    Ok(())
}

/// A namespace may not start with `:` (the model's pattern `[^:].*`), wherever it is named.
pub fn check_namespace_start(namespace: &str) -> ApiResult<()> {
    if namespace.starts_with(':') {
        return Err(invalid("The parameter Namespace must not start with ':'."));
    }
    Ok(())
}

/// Checks a namespace data is written to (PutMetricData, Embedded Metric Format): 1–255
/// characters, ASCII without control characters, not starting with `:`, and not AWS's own
/// `AWS/`.
pub fn check_namespace(namespace: &str) -> ApiResult<()> {
    check_text("Namespace", namespace, 255)?;
    check_namespace_start(namespace)?;
    // "You can use ASCII characters for the namespace, except for control characters."
    if !namespace.is_ascii() {
        return Err(invalid(
            "The parameter Namespace must contain only ASCII characters.",
        ));
    }
    if namespace.starts_with("AWS/") {
        return Err(invalid(
            "The value AWS/ for parameter Namespace is invalid: namespaces starting with AWS/ are reserved for AWS services.",
        ));
    }
    Ok(())
}

/// Checks a metric name data is written to: 1–255 characters without control characters.
pub fn check_metric_name(name: &str) -> ApiResult<()> {
    check_text("MetricName", name, 255)
}

/// PutMetricData.
pub fn put_metric_data(
    conn: &Connection,
    ctx: &CallContext,
    namespace: &str,
    data: &[Datum],
) -> ApiResult<()> {
    check_namespace(namespace)?;
    if data.is_empty() {
        return Err(missing("MetricData"));
    }
    if data.len() > 1000 {
        return Err(invalid(
            "The collection MetricData must not have a size greater than 1000.",
        ));
    }
    let now = (ctx.now * 1000.0) as i64;
    let mut accepted = Vec::with_capacity(data.len());
    for (i, d) in data.iter().enumerate() {
        check_text("MetricName", &d.metric_name, 255)?;
        check_dimensions(&d.dimensions)?;
        if let Some(u) = &d.unit {
            check_unit(u)?;
        }
        let resolution = d.storage_resolution.unwrap_or(60);
        if resolution != 1 && resolution != 60 {
            return Err(invalid(format!(
                "The value {resolution} for parameter MetricData.member.{}.StorageResolution is invalid.",
                i + 1
            )));
        }
        let ts = d.timestamp_ms.unwrap_or(now);
        // CloudWatch's words for a time too old; a time too far ahead gets the like.
        if ts < now - 14 * 86_400_000 {
            return Err(invalid(format!(
                "The parameter MetricData.member.{}.Timestamp must specify a time within the past two weeks.",
                i + 1
            )));
        }
        if ts > now + 2 * 3_600_000 {
            return Err(invalid(format!(
                "The parameter MetricData.member.{}.Timestamp must specify a time no more than two hours in the future.",
                i + 1
            )));
        }
        let forms = usize::from(d.value.is_some())
            + usize::from(d.stats.is_some())
            + usize::from(!d.values.is_empty());
        if forms > 1 {
            return Err(ApiError::new(
                ErrorKind::CwInvalidParameterCombination,
                format!(
                    "The parameters MetricData.member.{0}.Value, MetricData.member.{0}.StatisticValues and MetricData.member.{0}.Values are mutually exclusive and you have specified more than one.",
                    i + 1
                ),
            ));
        }
        let mut sets: Vec<StatSet> = Vec::new();
        // `Values`/`Counts`: one point that keeps them (see `put_values`).
        let mut values: Vec<(f64, f64)> = Vec::new();
        if let Some(v) = d.value {
            check_value(v)?;
            sets.push(StatSet::repeated(v, 1.0));
        } else if let Some(s) = d.stats {
            for v in [s.sum, s.min, s.max, s.sample_count] {
                check_value(v)?;
            }
            if s.sample_count <= 0.0 || s.min > s.max {
                return Err(invalid(format!(
                    "The parameter MetricData.member.{}.StatisticValues is invalid: SampleCount must be positive and Minimum no greater than Maximum.",
                    i + 1
                )));
            }
            sets.push(s);
        } else if !d.values.is_empty() {
            if d.values.len() > 150 {
                return Err(invalid(format!(
                    "The collection MetricData.member.{}.Values must not have a size greater than 150.",
                    i + 1
                )));
            }
            if !d.counts.is_empty() && d.counts.len() != d.values.len() {
                return Err(invalid(format!(
                    "The parameters MetricData.member.{0}.Values and MetricData.member.{0}.Counts must be of the same size.",
                    i + 1
                )));
            }
            for (j, v) in d.values.iter().enumerate() {
                check_value(*v)?;
                let n = d.counts.get(j).copied().unwrap_or(1.0);
                if n < 0.0 || check_value(n).is_err() {
                    return Err(invalid(format!(
                        "The value {n} for parameter MetricData.member.{}.Counts.member.{} is invalid: a count must be a non-negative number no greater than 2^360.",
                        i + 1,
                        j + 1
                    )));
                }
                if n == 0.0 {
                    continue;
                }
                values.push((*v, n));
            }
        } else {
            return Err(ApiError::new(
                ErrorKind::CwInvalidParameterCombination,
                format!(
                    "One of the parameters MetricData.member.{0}.Value, MetricData.member.{0}.StatisticValues or MetricData.member.{0}.Values must be specified.",
                    i + 1
                ),
            ));
        }
        accepted.push((d, ts, sets, values, resolution));
    }
    // Every datum is checked before any is stored, so a refused call stores nothing.
    for (d, ts, sets, values, resolution) in accepted {
        let key = MetricKey {
            account: ctx.account().as_str(),
            region: ctx.region.as_str(),
            namespace,
            name: &d.metric_name,
            dimensions: &d.dimensions,
        };
        let unit = d.unit.as_deref().unwrap_or("None");
        for s in sets {
            put_stats(conn, &key, ts, s, unit, resolution)?;
        }
        if !values.is_empty() {
            super::put_values(conn, &key, ts, &values, unit, resolution)?;
        }
    }
    Ok(())
}

/// A statistics request (GetMetricStatistics, or one MetricStat of GetMetricData).
#[derive(Clone, Debug)]
pub struct StatsRequest {
    /// `Namespace`.
    pub namespace: String,
    /// `MetricName`.
    pub metric_name: String,
    /// `Dimensions`.
    pub dimensions: Vec<(String, String)>,
    /// `StartTime`, ms (inclusive).
    pub start_ms: i64,
    /// `EndTime`, ms (exclusive).
    pub end_ms: i64,
    /// `Period`, seconds.
    pub period: i64,
    /// Statistics (`Sum`, …, `p99`).
    pub statistics: Vec<String>,
    /// `Unit` filter.
    pub unit: Option<String>,
}

/// One period's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Datapoint {
    /// Period start, ms.
    pub timestamp_ms: i64,
    /// (statistic, value) in the order requested; a percentile without data is absent.
    pub values: Vec<(String, f64)>,
    /// The period's unit.
    pub unit: String,
}

/// Checks a period (≥ 1; 1, 5, 10, 20, 30 or a multiple of 60).
pub fn check_period(period: i64) -> ApiResult<()> {
    if period < 1 {
        return Err(invalid(
            "The parameter Period must be greater than or equal to 1.",
        ));
    }
    if !(matches!(period, 1 | 5 | 10 | 20 | 30) || period % 60 == 0) {
        return Err(invalid("The parameter Period must be a multiple of 60."));
    }
    Ok(())
}

/// The periods with data of a request, one per period and unit, after AWS's checks.
fn periods(conn: &Connection, ctx: &CallContext, r: &StatsRequest) -> ApiResult<Vec<PeriodStats>> {
    Ok(periods_counted(conn, ctx, r)?.0)
}

/// [`periods`], and how many stored points they were made of.
fn periods_counted(
    conn: &Connection,
    ctx: &CallContext,
    r: &StatsRequest,
) -> ApiResult<(Vec<PeriodStats>, usize)> {
    check_unique_dimension_names(&r.dimensions)?;
    check_period(r.period)?;
    if r.start_ms >= r.end_ms {
        return Err(invalid(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    if let Some(u) = &r.unit {
        check_unit(u)?;
    }
    let now_ms = (ctx.now * 1000.0) as i64;
    let start = super::round_start_ms(r.start_ms, now_ms.saturating_sub(r.start_ms), r.period);
    super::query_counted(
        conn,
        &MetricQuery {
            metric: MetricKey {
                account: ctx.account().as_str(),
                region: ctx.region.as_str(),
                namespace: &r.namespace,
                name: &r.metric_name,
                dimensions: &r.dimensions,
            },
            start_ms: start,
            end_ms: r.end_ms,
            period_secs: r.period,
            unit: r.unit.as_deref(),
            values: true,
        },
        Some(now_ms),
    )
}

fn datapoints(r: &StatsRequest, periods: &[PeriodStats]) -> Vec<Datapoint> {
    let parsed: Vec<(String, Option<Statistic>)> = r
        .statistics
        .iter()
        .map(|s| (s.clone(), Statistic::parse(s)))
        .collect();
    periods
        .iter()
        .map(|p| Datapoint {
            timestamp_ms: p.start_ms,
            values: parsed
                .iter()
                .filter_map(|(name, s)| s.and_then(|s| s.value(p)).map(|v| (name.clone(), v)))
                .collect(),
            unit: p.unit.clone(),
        })
        .collect()
}

/// GetMetricStatistics: per-period statistics, ascending by time; only periods with data, and
/// one datapoint per unit the period's data was published in (CloudWatch does not convert
/// units). A statistic without a value (an extended statistic over summarised or negative
/// data) is left out of its datapoint.
pub fn statistics(
    conn: &Connection,
    ctx: &CallContext,
    r: &StatsRequest,
) -> ApiResult<Vec<Datapoint>> {
    // GetMetricStatistics alone answers at most 1,440 datapoints (GetMetricData pages).
    // Counted over the range as asked, not as rounded down to the minute: a day at 60 s
    // from 10:00:30 is 1,440 periods, as AWS counts it (recheck29).
    let period_ms = i128::from(r.period.max(1)) * 1000;
    let requested = (i128::from(r.end_ms) - i128::from(r.start_ms) + period_ms - 1) / period_ms;
    if requested > 1440 {
        return Err(ApiError::new(
            ErrorKind::CwInvalidParameterCombination,
            format!(
                "You have requested up to {requested} datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
            ),
        ));
    }
    Ok(datapoints(r, &periods(conn, ctx, r)?))
}

/// One MetricStat series of GetMetricData: like [`statistics`], but when no unit is asked and
/// the metric was published in several, only the data of one unit ([`super::one_unit`]).
pub fn series(conn: &Connection, ctx: &CallContext, r: &StatsRequest) -> ApiResult<Vec<Datapoint>> {
    let mut found = periods(conn, ctx, r)?;
    if r.unit.is_none() {
        found = one_unit(found);
    }
    Ok(datapoints(r, &found))
}

/// The most stored points one GetMetricData call reads across its queries. A query that
/// differs from an earlier one only in its statistic reads nothing more ([`SeriesCache`]);
/// past the bound the call is refused, so one request cannot keep the server computing for
/// minutes (reading a point costs about a third of a microsecond).
pub const MAX_POINTS_READ: usize = 10_000_000;

/// The series one GetMetricData call has read, by metric, period and unit, and how many
/// stored points that took.
pub struct SeriesCache {
    found: std::collections::HashMap<String, Vec<PeriodStats>>,
    read: usize,
    budget: usize,
}

impl Default for SeriesCache {
    fn default() -> Self {
        Self::with_budget(MAX_POINTS_READ)
    }
}

impl SeriesCache {
    /// A cache that reads at most about `budget` stored points (the last read may pass it).
    pub fn with_budget(budget: usize) -> Self {
        Self {
            found: Default::default(),
            read: 0,
            budget,
        }
    }

    /// [`series`], reading each metric, period and unit once per call; refused with
    /// `InvalidParameterCombination` once the call has read its budget of points.
    pub fn series(
        &mut self,
        conn: &Connection,
        ctx: &CallContext,
        r: &StatsRequest,
    ) -> ApiResult<Vec<Datapoint>> {
        let key = format!(
            "{}\n{}\n{:?}\n{}\n{:?}\n{}\n{}",
            r.namespace, r.metric_name, r.dimensions, r.period, r.unit, r.start_ms, r.end_ms
        );
        if !self.found.contains_key(&key) {
            if self.read >= self.budget {
                return Err(ApiError::new(
                    ErrorKind::CwInvalidParameterCombination,
                    format!(
                        "The request reads more than {} stored datapoints; ask for fewer metrics or a shorter time range.",
                        self.budget
                    ),
                ));
            }
            let (mut found, read) = periods_counted(conn, ctx, r)?;
            self.read += read;
            if r.unit.is_none() {
                found = one_unit(found);
            }
            found.iter_mut().for_each(PeriodStats::sort_values);
            self.found.insert(key.clone(), found);
        }
        Ok(datapoints(r, &self.found[&key]))
    }
}

/// Checks GetMetricStatistics' `Statistics` xor `ExtendedStatistics`.
pub fn check_statistics(statistics: &[String], extended: &[String]) -> ApiResult<()> {
    match (statistics.is_empty(), extended.is_empty()) {
        (true, true) => {
            return Err(missing("Statistics"));
        }
        (false, false) => {
            return Err(ApiError::new(
                ErrorKind::CwInvalidParameterCombination,
                "The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.",
            ));
        }
        _ => {}
    }
    if statistics.len() > 5 {
        return Err(invalid(
            "The collection Statistics must not have a size greater than 5.",
        ));
    }
    if extended.len() > 10 {
        return Err(invalid(
            "The collection ExtendedStatistics must not have a size greater than 10.",
        ));
    }
    for (i, s) in statistics.iter().enumerate() {
        if !STANDARD.contains(&s.as_str()) {
            return Err(invalid(format!(
                "The parameter Statistics.member.{} must be a value in the set [ Maximum, Sum, SampleCount, Average, Minimum ].",
                i + 1
            )));
        }
    }
    for (i, e) in extended.iter().enumerate() {
        if Statistic::parse_extended(e).is_none() {
            return Err(invalid(format!(
                "The value {e} for parameter ExtendedStatistics.member.{} is not supported.",
                i + 1
            )));
        }
    }
    Ok(())
}

/// Checks one `Stat` (standard or extended) of a GetMetricData query, naming `member`.
pub fn check_stat(stat: &str, member: &str) -> ApiResult<()> {
    if Statistic::parse(stat).is_none() {
        return Err(invalid(format!(
            "The value {stat} for parameter {member} is not a valid statistic: use SampleCount, Average, Sum, Minimum, Maximum or an extended statistic (pNN, tmNN, wmNN, tcNN, tsNN, TM(a:b), WM(a%:b%), TC(a:b), TS(a:b), PR(a:b), IQM)."
        )));
    }
    Ok(())
}
