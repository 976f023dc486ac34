//! The evaluation pass: each alarm is evaluated once per period end (every minute, or every
//! 10/20/30 s for high-resolution periods) over its evaluation range, and every state change
//! writes its history and its actions. Runs in one writer transaction; the publications it
//! returns are sent once that transaction has committed.

use cairn_store::Connection;
use cairn_store::alarms::{self as store, HistoryItem};
use cairn_store::metrics::MetricKey;
use serde_json::json;

use super::eval::{self, Decision};
use super::reason::{self, state_update_data};
use super::{Alarm, AlarmState, StateValue};
use crate::error::ApiResult;
use crate::metrics::stats::Statistic;
use crate::metrics::{self, MetricQuery, PeriodStats};
use crate::publish::Publication;
use crate::sse::KmsAccess;

/// How often an alarm with `period` (seconds) is evaluated, ms.
pub fn step_ms(period: i64) -> i64 {
    period.clamp(1, 60) * 1000
}

/// The value of an alarm's statistic (or extended statistic) over one period's data.
pub fn statistic_value(
    statistic: Option<&str>,
    extended: Option<&str>,
    p: &PeriodStats,
) -> Option<f64> {
    let parsed = match (statistic, extended) {
        (Some(s), _) => Statistic::parse(s).filter(Statistic::is_standard),
        (None, Some(e)) => Statistic::parse_extended(e),
        (None, None) => None,
    };
    parsed.and_then(|s| s.value(p))
}

/// Per slot of an evaluation range (oldest first): its start (ms), its value, its sample count.
pub type Range = (Vec<i64>, Vec<Option<f64>>, Vec<f64>);

/// The datapoints of an alarm's range ending at `end_ms`. An alarm without a `Unit` on a
/// metric published in several units reads one of them, as GetMetricData does
/// ([`metrics::one_unit`]); AWS calls that case undefined, and never adds units together.
pub fn datapoints(conn: &Connection, alarm: &Alarm, end_ms: i64) -> ApiResult<Range> {
    datapoints_in(conn, alarm, end_ms, &mut PassReads::default())
}

/// Most stored points the server's evaluation pass reads (one writer transaction): once a
/// pass has read this many, the alarms still due wait for the next tick, so alarms over heavy
/// metrics cannot hold the writer for seconds each minute. `cairn alarms run` evaluates every
/// alarm whatever it reads.
pub const MAX_POINTS_PER_PASS: usize = 2_000_000;

/// What one evaluation pass has read: each metric range once (alarms on the same metric,
/// period and range share it), and how many stored points that took.
#[derive(Default)]
pub struct PassReads {
    found: std::collections::HashMap<String, Vec<PeriodStats>>,
    read: usize,
}

/// What an alarm reads for its range ending at `end_ms`: alarms with the same key share a read.
fn range_key(alarm: &Alarm, end_ms: i64) -> String {
    let c = &alarm.config;
    let r = eval::range_len(c.rule().n) as i64;
    let start = end_ms - c.period.max(1) * 1000 * r;
    serde_json::to_string(&(
        &alarm.account,
        &alarm.region,
        &c.namespace,
        &c.metric_name,
        &c.dimensions,
        start,
        end_ms,
        c.period,
        &c.unit,
        c.extended_statistic.is_some(),
    ))
    .unwrap_or_default()
}

fn datapoints_in(
    conn: &Connection,
    alarm: &Alarm,
    end_ms: i64,
    reads: &mut PassReads,
) -> ApiResult<Range> {
    let c = &alarm.config;
    let period = c.period.max(1) * 1000;
    let r = eval::range_len(c.rule().n);
    let start = end_ms - period * r as i64;
    let key = range_key(alarm, end_ms);
    if !reads.found.contains_key(&key) {
        let (stats, read) = metrics::query_counted(
            conn,
            &MetricQuery {
                metric: MetricKey {
                    account: &alarm.account,
                    region: &alarm.region,
                    namespace: &c.namespace,
                    name: &c.metric_name,
                    dimensions: &c.dimensions,
                },
                start_ms: start,
                end_ms,
                period_secs: c.period.max(1),
                unit: c.unit.as_deref(),
                // Only percentiles and trimmed statistics need the values a point keeps.
                values: c.extended_statistic.is_some(),
            },
            None,
        )?;
        reads.read += read;
        let mut stats = metrics::one_unit(stats);
        stats.iter_mut().for_each(PeriodStats::sort_values);
        reads.found.insert(key.clone(), stats);
    }
    let stats = &reads.found[&key];
    let starts: Vec<i64> = (0..r).map(|i| start + i as i64 * period).collect();
    let mut values = vec![None; r];
    let mut counts = vec![0.0; r];
    for p in stats {
        let i = usize::try_from((p.start_ms - start) / period).unwrap_or(usize::MAX);
        if i < r {
            values[i] = statistic_value(c.statistic.as_deref(), c.extended_statistic.as_deref(), p);
            counts[i] = p.stats.sample_count;
        }
    }
    Ok((starts, values, counts))
}

/// Whether a percentile alarm with `EvaluateLowSampleCountPercentile` `ignore` keeps its state
/// for a period of `samples` data points: fewer than 10/(1-percentile) of them, but some ("this
/// setting is used when there are fewer than 10/(1-percentile) data points during the
/// evaluation period", 1,000 for p99; a period with none is missing data, which
/// `TreatMissingData` rules).
pub fn too_few_samples(c: &super::AlarmConfig, samples: f64) -> bool {
    if c.evaluate_low_sample_count_percentile.as_deref() != Some("ignore") || samples <= 0.0 {
        return false;
    }
    let Some(p) = c
        .extended_statistic
        .as_deref()
        .and_then(|e| e.strip_prefix('p'))
        .and_then(|p| p.parse::<f64>().ok())
        .filter(|p| *p > 0.0 && *p < 100.0)
    else {
        return false;
    };
    samples < 10.0 / (1.0 - p / 100.0) - 1e-9
}

/// Evaluates one alarm at period end `end_ms` (queried at `now_ms`); changes its state when
/// the decision differs, returning what to publish.
pub fn evaluate(
    conn: &Connection,
    alarm: &mut Alarm,
    end_ms: i64,
    now_ms: i64,
    kms: Option<KmsAccess<'_>>,
) -> ApiResult<(Decision, Vec<Publication>)> {
    evaluate_in(conn, alarm, end_ms, now_ms, &mut PassReads::default(), kms)
}

fn evaluate_in(
    conn: &Connection,
    alarm: &mut Alarm,
    end_ms: i64,
    now_ms: i64,
    reads: &mut PassReads,
    kms: Option<KmsAccess<'_>>,
) -> ApiResult<(Decision, Vec<Publication>)> {
    let (starts, values, counts) = datapoints_in(conn, alarm, end_ms, reads)?;
    let d = eval::decide(&alarm.config.rule(), &values, alarm.state.value);
    alarm.last_evaluated_ms = end_ms;
    if too_few_samples(&alarm.config, counts.last().copied().unwrap_or(0.0)) {
        return Ok((d, Vec::new()));
    }
    // The evaluation window is the newest `EvaluationPeriods` periods of the range.
    let periods = usize::try_from(alarm.config.evaluation_periods.max(1)).unwrap_or(1);
    let window_full = values.iter().rev().take(periods).all(Option::is_some);
    if d.state == alarm.state.value || alarm.warming_up(end_ms, window_full) {
        return Ok((d, Vec::new()));
    }
    let reason = reason::cut(
        reason::state_reason(&alarm.config, &d, &starts),
        reason::MAX_REASON,
    );
    let data = reason::fit_reason_data(reason::state_reason_data(
        &alarm.config,
        &d,
        &starts,
        &counts,
        now_ms,
    ));
    let sent = transition(conn, alarm, d.state, reason, Some(data), now_ms, kms)?;
    Ok((d, sent))
}

/// Evaluates every alarm whose period has ended since its last evaluation, as of `now_ms`,
/// and stores them. Returns the publications of their actions.
pub fn evaluate_due(
    conn: &Connection,
    now_ms: i64,
    kms: Option<KmsAccess<'_>>,
) -> ApiResult<Vec<Publication>> {
    evaluate_pass(conn, now_ms, false, kms)
}

/// Evaluates alarms at the end of their period containing `now_ms`: those not evaluated
/// there yet, or every alarm when `force` (an operator stepping a controllable clock).
/// Every due alarm is evaluated, whatever the pass reads (`cairn alarms run`).
pub fn evaluate_pass(
    conn: &Connection,
    now_ms: i64,
    force: bool,
    kms: Option<KmsAccess<'_>>,
) -> ApiResult<Vec<Publication>> {
    evaluate_pass_within(conn, now_ms, force, usize::MAX, kms)
}

/// [`evaluate_pass`] as the server's loop runs it: once the pass has read `budget` stored
/// points, alarms that would read more wait for the next tick (alarms sharing a range already
/// read still run). The most overdue alarms go first, so none waits for ever.
pub fn evaluate_pass_within(
    conn: &Connection,
    now_ms: i64,
    force: bool,
    budget: usize,
    kms: Option<KmsAccess<'_>>,
) -> ApiResult<Vec<Publication>> {
    let mut out = Vec::new();
    let mut reads = PassReads::default();
    // Only the alarms due by now, at most MAX_ALARMS_PER_PASS of them (the rest wait for
    // the next tick, the most overdue first), unless forced.
    let rows = if force {
        store::all(conn)?
    } else {
        store::due(conn, now_ms, MAX_ALARMS_PER_PASS)?
    };
    let mut due: Vec<(Alarm, i64)> = Vec::with_capacity(rows.len());
    for alarm in rows.iter().filter_map(|row| Alarm::decode(&row.body).ok()) {
        let step = step_ms(alarm.config.period);
        let end = now_ms.div_euclid(step) * step;
        if force || end > alarm.last_evaluated_ms {
            due.push((alarm, end));
        } else {
            // Evaluated for this step already: due at the next.
            put_evaluated(conn, &alarm, end + step)?;
        }
    }
    due.sort_by_key(|(alarm, _)| alarm.last_evaluated_ms);
    for (mut alarm, end) in due {
        if reads.read >= budget && !reads.found.contains_key(&range_key(&alarm, end)) {
            // Still due: a later tick evaluates it.
            continue;
        }
        let (_, sent) = evaluate_in(conn, &mut alarm, end, now_ms, &mut reads, kms)?;
        out.extend(sent);
        put_evaluated(conn, &alarm, end + step_ms(alarm.config.period))?;
    }
    Ok(out)
}

/// Most alarms one pass of the loop evaluates.
const MAX_ALARMS_PER_PASS: usize = 1000;

/// Stores an alarm the loop evaluated, due again at `due_ms`.
fn put_evaluated(conn: &Connection, alarm: &Alarm, due_ms: i64) -> ApiResult<()> {
    store::put_due(
        conn,
        &alarm.account,
        &alarm.region,
        &alarm.config.name,
        &alarm.encode(),
        due_ms,
    )?;
    Ok(())
}

/// Moves an alarm to `value` (a state change: history, then actions when enabled), in the
/// caller's transaction. The caller stores the alarm. Returns what to publish. `kms` is how
/// CloudWatch asks for the data key of a topic with a KMS key (`None` only without a master
/// key, when no KMS key can exist).
pub fn transition(
    conn: &Connection,
    alarm: &mut Alarm,
    value: StateValue,
    reason: String,
    reason_data: Option<String>,
    now_ms: i64,
    kms: Option<KmsAccess<'_>>,
) -> ApiResult<Vec<Publication>> {
    let old = alarm.state.clone();
    alarm.state = AlarmState {
        value,
        reason,
        reason_data,
        updated_ms: now_ms,
        transitioned_ms: if value == old.value {
            old.transitioned_ms
        } else {
            now_ms
        },
    };
    history(
        conn,
        alarm,
        now_ms,
        "StateUpdate",
        format!(
            "Alarm updated from {} to {}",
            old.value.as_str(),
            value.as_str()
        ),
        state_update_data(&old, &alarm.state),
    )?;
    if !alarm.config.actions_enabled || value == old.value {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for arn in alarm.config.actions_for(value).to_vec() {
        let result = super::actions::execute(conn, kms, alarm, &arn, old.value, now_ms)?;
        let (summary, data) = match &result {
            Ok(p) => (
                format!("Successfully executed action {arn}"),
                json!({"actionState": "Succeeded", "stateUpdateTimestamp": now_ms,
                       "notificationResource": arn, "publishedMessage": p.message}),
            ),
            Err(why) => (
                format!("Failed to execute action {arn}. Received error: \"{why}\""),
                json!({"actionState": "Failed", "stateUpdateTimestamp": now_ms,
                       "notificationResource": arn, "error": why}),
            ),
        };
        let summary: String = summary.chars().take(255).collect();
        history(conn, alarm, now_ms, "Action", summary, data.to_string())?;
        if let Ok(p) = result {
            out.push(p);
        }
    }
    Ok(out)
}

/// Appends one history item of `alarm`.
pub fn history(
    conn: &Connection,
    alarm: &Alarm,
    ts: i64,
    item_type: &str,
    summary: String,
    data: String,
) -> ApiResult<()> {
    store::add_history(
        conn,
        &alarm.account,
        &alarm.region,
        &HistoryItem {
            id: 0,
            alarm_name: alarm.config.name.clone(),
            ts,
            item_type: item_type.to_owned(),
            summary: reason::cut(summary, reason::MAX_HISTORY_SUMMARY),
            data: reason::fit_history_data(data),
        },
    )?;
    Ok(())
}
