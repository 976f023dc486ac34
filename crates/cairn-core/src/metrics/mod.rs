//! The CloudWatch metric datapoint store (spec monitoring.md §3.2), as a typed API for metric
//! filters, PutMetricData and alarms: [`put`] / [`put_stats`] store datapoints (available to
//! [`query`] at once), [`query`] returns per-period, per-unit statistics (SampleCount, Sum,
//! Minimum, Maximum, Average) with the exact values behind them for the extended statistics
//! ([`stats`]), and [`list`] the known metrics. CloudWatch never converts or mixes units: data
//! of each unit is its own datapoint, and a caller that needs one series picks one unit
//! ([`one_unit`]).

pub mod api;
pub mod paging;
pub mod stats;

use cairn_store::Connection;
use cairn_store::metrics::{self as store, MetricKey, Point};

pub use store::{MetricKey as Metric, MetricRow};

use crate::error::ApiResult;

/// A statistic set: what one stored datapoint summarises.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatSet {
    /// Number of samples.
    pub sample_count: f64,
    /// Their sum.
    pub sum: f64,
    /// Their minimum.
    pub min: f64,
    /// Their maximum.
    pub max: f64,
}

impl StatSet {
    /// `count` samples all equal to `value`.
    pub fn repeated(value: f64, count: f64) -> Self {
        Self {
            sample_count: count,
            sum: value * count,
            min: value,
            max: value,
        }
    }
}

/// Stores one value at `timestamp_ms` (standard resolution).
pub fn put(
    conn: &Connection,
    metric: &MetricKey<'_>,
    timestamp_ms: i64,
    value: f64,
    unit: &str,
) -> ApiResult<()> {
    put_stats(
        conn,
        metric,
        timestamp_ms,
        StatSet::repeated(value, 1.0),
        unit,
        60,
    )
}

/// Stores a statistic set at `timestamp_ms` with a storage resolution of 1 or 60 seconds.
pub fn put_stats(
    conn: &Connection,
    metric: &MetricKey<'_>,
    timestamp_ms: i64,
    stats: StatSet,
    unit: &str,
    resolution: i64,
) -> ApiResult<()> {
    put_point(conn, metric, (timestamp_ms, resolution), stats, unit, None)
}

/// Stores one point of `metric`, creating the metric, with the values it keeps, if any.
fn put_point(
    conn: &Connection,
    metric: &MetricKey<'_>,
    (timestamp_ms, resolution): (i64, i64),
    stats: StatSet,
    unit: &str,
    values: Option<Vec<(f64, f64)>>,
) -> ApiResult<()> {
    let id =
        store::metric_id(conn, metric, timestamp_ms, true)?.expect("a metric just inserted exists");
    store::put_point(
        conn,
        id,
        &Point {
            ts: timestamp_ms,
            sample_count: stats.sample_count,
            sum: stats.sum,
            min: stats.min,
            max: stats.max,
            unit: unit.to_owned(),
            resolution,
            values,
        },
    )?;
    Ok(())
}

/// Stores the samples `values` (value, count) of `metric` at `timestamp_ms` as one point:
/// their statistic set, keeping the values themselves for the percentiles (hostile15: one
/// row a value let one PutMetricData write 150,000 rows). Counts of zero are left out.
pub fn put_values(
    conn: &Connection,
    metric: &MetricKey<'_>,
    timestamp_ms: i64,
    values: &[(f64, f64)],
    unit: &str,
    resolution: i64,
) -> ApiResult<()> {
    let kept: Vec<(f64, f64)> = values.iter().copied().filter(|(_, n)| *n > 0.0).collect();
    let Some(&(first, _)) = kept.first() else {
        return Ok(());
    };
    let mut stats = StatSet {
        sample_count: 0.0,
        sum: 0.0,
        min: first,
        max: first,
    };
    for (v, n) in &kept {
        stats.sample_count += n;
        stats.sum += v * n;
        stats.min = stats.min.min(*v);
        stats.max = stats.max.max(*v);
    }
    // One value needs no list: its set says it.
    let values = (kept.len() > 1).then_some(kept);
    put_point(
        conn,
        metric,
        (timestamp_ms, resolution),
        stats,
        unit,
        values,
    )
}

/// What to aggregate.
#[derive(Clone, Debug)]
pub struct MetricQuery<'a> {
    /// The metric (its dimension set must equal the published one).
    pub metric: MetricKey<'a>,
    /// Inclusive start, ms.
    pub start_ms: i64,
    /// Exclusive end, ms.
    pub end_ms: i64,
    /// Period, seconds (≥ 1).
    pub period_secs: i64,
    /// Only datapoints with this unit.
    pub unit: Option<&'a str>,
    /// Whether to read the values a point keeps (percentiles, trimmed statistics); without
    /// them only the totals are read (hostile17: alarms decoded 150 values a point).
    pub values: bool,
}

/// The statistics of one period's data in one unit.
#[derive(Clone, Debug, PartialEq)]
pub struct PeriodStats {
    /// Period start, ms (aligned to `start_ms`).
    pub start_ms: i64,
    /// Totals over the period.
    pub stats: StatSet,
    /// The unit of these datapoints.
    pub unit: String,
    /// The sample values with their multiplicity (single values and statistic sets whose
    /// values are all equal).
    pub values: Vec<(f64, f64)>,
    /// Whether `values` holds every sample: false once a statistic set with distinct values
    /// (Minimum ≠ Maximum, or Sum ≠ Minimum × SampleCount) is in the period.
    pub exact: bool,
}

/// Whether a statistic set stands for `sample_count` samples all equal to its minimum.
fn is_raw(p: &Point) -> bool {
    p.min == p.max && (p.sum - p.min * p.sample_count).abs() <= 1e-9 * p.sum.abs().max(1.0)
}

/// CloudWatch's order of units, the first of which it uses when one series is asked for a
/// metric published in several units (observed: the order of its unit error message).
pub const UNIT_PRECEDENCE: [&str; 27] = [
    "Megabits",
    "Terabits",
    "Gigabits",
    "Count",
    "Bytes",
    "Gigabytes",
    "Gigabytes/Second",
    "Kilobytes",
    "Kilobits/Second",
    "Terabytes",
    "Terabits/Second",
    "Bytes/Second",
    "Percent",
    "Megabytes",
    "Megabits/Second",
    "Milliseconds",
    "Microseconds",
    "Kilobytes/Second",
    "Gigabits/Second",
    "Megabytes/Second",
    "Bits",
    "Bits/Second",
    "Count/Second",
    "Seconds",
    "Kilobits",
    "Terabytes/Second",
    "None",
];

fn unit_rank(unit: &str) -> usize {
    UNIT_PRECEDENCE
        .iter()
        .position(|u| *u == unit)
        .unwrap_or(UNIT_PRECEDENCE.len())
}

/// Keeps the periods of one unit: the first, in [`UNIT_PRECEDENCE`], that has data. This is
/// what a single series (a GetMetricData result, an alarm) is made of when no unit was asked.
pub fn one_unit(periods: Vec<PeriodStats>) -> Vec<PeriodStats> {
    let Some(unit) = periods
        .iter()
        .map(|p| p.unit.as_str())
        .min_by_key(|u| unit_rank(u))
        .map(str::to_owned)
    else {
        return periods;
    };
    periods.into_iter().filter(|p| p.unit == unit).collect()
}

impl PeriodStats {
    /// Sum / SampleCount.
    pub fn average(&self) -> f64 {
        if self.stats.sample_count > 0.0 {
            self.stats.sum / self.stats.sample_count
        } else {
            0.0
        }
    }

    /// Sorts the values, once, for the extended statistics of a period that several
    /// statistics read (GetMetricData's queries, alarms sharing a range).
    pub fn sort_values(&mut self) {
        self.values.sort_by(|a, b| a.0.total_cmp(&b.0));
    }

    /// The nearest-rank percentile `p` (0–100) of the values, when CloudWatch has one.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        stats::Statistic::Percentile(p).value(self)
    }
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// The resolution (ms) at which CloudWatch still holds a point `age_ms` old, stored at
/// `resolution_s` seconds: high-resolution points as published for 3 hours, then at one
/// minute until 15 days, five minutes until 63 days and one hour until 455 days; `None` once
/// expired (the GetMetricStatistics reference).
pub fn held_resolution_ms(resolution_s: i64, age_ms: i64) -> Option<i64> {
    match age_ms {
        a if a < 3 * HOUR_MS => Some(resolution_s.max(1) * 1000),
        a if a < 15 * DAY_MS => Some(60_000),
        a if a < 63 * DAY_MS => Some(300_000),
        a if a < 455 * DAY_MS => Some(HOUR_MS),
        _ => None,
    }
}

/// Where CloudWatch rounds a `StartTime` `age_ms` in the past down to: a period under a
/// minute's own division of the minute; else the minute until 15 days ago, five minutes
/// until 63 days, then the hour.
pub fn round_start_ms(start_ms: i64, age_ms: i64, period_secs: i64) -> i64 {
    let unit = match age_ms {
        // A high-resolution period rounds to its own division of the minute (the API
        // reference: with a Period of 5, 10, 20 or 30, a start is rounded down to an even
        // 5-, 10-, 20- or 30-second division); such data is held three hours only.
        _ if period_secs < 60 => period_secs.max(1) * 1000,
        a if a < 15 * DAY_MS => 60_000,
        a if a < 63 * DAY_MS => 300_000,
        _ => HOUR_MS,
    };
    start_ms.div_euclid(unit) * unit
}

/// Per-period statistics over `[start, end)`, one per period and unit with data, ascending by
/// period start, then by unit name.
pub fn query(conn: &Connection, q: &MetricQuery<'_>) -> ApiResult<Vec<PeriodStats>> {
    query_at(conn, q, None)
}

/// [`query`] as CloudWatch answers it at `now_ms`: a point counts only while it is held
/// ([`held_resolution_ms`]) at a resolution the period is a multiple of, so a period too fine
/// for old data finds none there and expired data is gone even before the sweep deletes it.
pub fn query_at(
    conn: &Connection,
    q: &MetricQuery<'_>,
    now_ms: Option<i64>,
) -> ApiResult<Vec<PeriodStats>> {
    Ok(query_counted(conn, q, now_ms)?.0)
}

/// [`query_at`], and how many stored values it read.
pub fn query_counted(
    conn: &Connection,
    q: &MetricQuery<'_>,
    now_ms: Option<i64>,
) -> ApiResult<(Vec<PeriodStats>, usize)> {
    let Some(id) = store::metric_id(conn, &q.metric, 0, false)? else {
        return Ok((Vec::new(), 0));
    };
    let period = q.period_secs.max(1) * 1000;
    let mut out: std::collections::BTreeMap<(i64, String), PeriodStats> = Default::default();
    let points = if q.values {
        store::points(conn, id, q.start_ms, q.end_ms)?
    } else {
        store::point_totals(conn, id, q.start_ms, q.end_ms)?
    };
    // What was read: each value a point keeps (hostile17: a pass's budget counted points of
    // up to 150 values each as one).
    let read = points
        .iter()
        .map(|p| p.values.as_ref().map_or(1, |v| v.len().max(1)))
        .sum();
    for mut p in points {
        if q.unit.is_some_and(|u| u != p.unit) {
            continue;
        }
        if let Some(now) = now_ms {
            match held_resolution_ms(p.resolution, now.saturating_sub(p.ts)) {
                Some(held) if period % held == 0 => {}
                _ => continue,
            }
        }
        let start = q.start_ms + (p.ts - q.start_ms).div_euclid(period) * period;
        let (raw, values) = match p.values.take() {
            Some(kept) => (true, kept),
            None if is_raw(&p) => (true, vec![(p.min, p.sample_count)]),
            None => (false, Vec::new()),
        };
        match out.get_mut(&(start, p.unit.clone())) {
            Some(last) => {
                last.stats.sample_count += p.sample_count;
                last.stats.sum += p.sum;
                last.stats.min = last.stats.min.min(p.min);
                last.stats.max = last.stats.max.max(p.max);
                last.values.extend(values);
                last.exact &= raw;
            }
            None => {
                out.insert(
                    (start, p.unit.clone()),
                    PeriodStats {
                        start_ms: start,
                        stats: StatSet {
                            sample_count: p.sample_count,
                            sum: p.sum,
                            min: p.min,
                            max: p.max,
                        },
                        unit: p.unit.clone(),
                        values,
                        exact: raw,
                    },
                );
            }
        }
    }
    Ok((out.into_values().collect(), read))
}

/// Metrics of an account and region with data since `since_ms`, optionally of one namespace
/// and name, keeping those whose dimensions include every `(name, value?)` of `dimensions`.
pub fn list(
    conn: &Connection,
    account: &str,
    region: &str,
    namespace: Option<&str>,
    name: Option<&str>,
    dimensions: &[(String, Option<String>)],
    since_ms: i64,
) -> ApiResult<Vec<MetricRow>> {
    let mut rows = store::list(conn, account, region, namespace, name, since_ms)?;
    rows.retain(|m| {
        dimensions.iter().all(|(n, v)| {
            m.dimensions
                .iter()
                .any(|(mn, mv)| mn == n && v.as_ref().is_none_or(|v| v == mv))
        })
    });
    Ok(rows)
}

/// Deletes datapoints older than `cutoff_ms` (CloudWatch keeps 15 months at most).
pub fn expire(conn: &Connection, cutoff_ms: i64) -> ApiResult<usize> {
    Ok(store::expire_points(conn, cutoff_ms, 50_000)?)
}

#[cfg(test)]
mod tests;
