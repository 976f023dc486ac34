//! The texts CloudWatch writes about alarms, reproduced as observed (spec monitoring.md §3.5,
//! §3.6): `StateReason`, the `StateReasonData` JSON, history summaries and data, and the
//! alarm message and subject published to SNS.

use chrono::{TimeZone, Utc};
use serde_json::{Map, Value, json};

use super::eval::{Decision, Evaluated};
use super::{Alarm, AlarmConfig, StateValue};

/// A number as Java's `Double.toString` prints it (`1.0`, `65.0`, `1.0E-4`, `1.0E7`).
pub fn java_double(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v:?}");
        return if s.contains('.') || s.contains('e') {
            s
        } else {
            format!("{s}.0")
        };
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exp}")
}

fn at(ms: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// `dd/MM/yy HH:mm:ss` (UTC), the stamp state reasons give datapoints.
pub fn reason_stamp(ms: i64) -> String {
    at(ms).format("%d/%m/%y %H:%M:%S").to_string()
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`, the stamp of StateReasonData and alarm messages.
pub fn data_stamp(ms: i64) -> String {
    at(ms).format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `StateReason` for a decision, given each slot's start time (oldest first).
pub fn state_reason(config: &AlarmConfig, d: &Decision, slot_starts: &[i64]) -> String {
    let rule = config.rule();
    if d.state == StateValue::InsufficientData {
        let unknown = d.missing.max(1);
        return format!(
            "Insufficient Data: {} {} unknown.",
            plural(unknown, "datapoint", "datapoints"),
            if unknown == 1 { "was" } else { "were" }
        );
    }
    let reals: Vec<(f64, i64, bool)> = d
        .evaluated
        .iter()
        .rev()
        .filter_map(|e| match e {
            Evaluated::Real {
                slot,
                value,
                breaching,
            } => Some((
                *value,
                slot_starts.get(*slot).copied().unwrap_or(0),
                *breaching,
            )),
            Evaluated::Filled { .. } => None,
        })
        .collect();
    let filled = d.evaluated.len() - reals.len();
    let treated = d
        .evaluated
        .iter()
        .find_map(|e| match e {
            Evaluated::Filled { breaching: true } => Some("Breaching"),
            Evaluated::Filled { breaching: false } => Some("NonBreaching"),
            _ => None,
        })
        .unwrap_or("NonBreaching");
    if reals.is_empty() {
        return format!(
            "Threshold Crossed: no datapoints were received for {} and {} {} treated as [{treated}].",
            plural(filled, "period", "periods"),
            plural(filled, "missing datapoint", "missing datapoints"),
            if filled == 1 { "was" } else { "were" }
        );
    }
    let to_alarm = d.state == StateValue::Alarm;
    let shown: Vec<&(f64, i64, bool)> = reals.iter().filter(|r| r.2 == to_alarm).collect();
    let entries: Vec<String> = shown
        .iter()
        .map(|(v, t, _)| format!("{} ({})", java_double(*v), reason_stamp(*t)))
        .collect();
    let negation = if to_alarm { "" } else { "not " };
    let comparison = format!(
        "{negation}{} the threshold ({})",
        config.comparison.phrase(),
        java_double(config.threshold)
    );
    let filled_note = if filled > 0 {
        format!(
            " and {} {} treated as [{treated}]",
            plural(filled, "missing datapoint", "missing datapoints"),
            if filled == 1 { "was" } else { "were" }
        )
    } else {
        String::new()
    };
    if rule.n == 1 && config.datapoints_to_alarm.is_none() && shown.len() == 1 {
        let list = &entries[0];
        return format!("Threshold Crossed: 1 datapoint [{list}] was {comparison}{filled_note}.");
    }
    let needed = if to_alarm {
        rule.m
    } else {
        rule.n - rule.m + 1
    };
    let transition = if to_alarm {
        "OK -> ALARM"
    } else {
        "ALARM -> OK"
    };
    let sentence = |list: &str| {
        format!(
            "Threshold Crossed: {} out of the last {} datapoints [{list}] {} {comparison}{filled_note} (minimum {} for {transition} transition).",
            shown.len(),
            d.evaluated.len(),
            if shown.len() == 1 { "was" } else { "were" },
            plural(needed, "datapoint", "datapoints"),
        )
    };
    // Within the model's 1,023 characters, the newest datapoints that fit are listed whole
    // and the sentence keeps its end (alarms3: a cut at the limit ended mid-timestamp).
    let frame = sentence("").chars().count();
    let mut kept = 0;
    let mut length = frame;
    for e in &entries {
        let more = e.chars().count() + if kept == 0 { 0 } else { 2 };
        if length + more > MAX_REASON {
            break;
        }
        length += more;
        kept += 1;
    }
    sentence(&entries[..kept].join(", "))
}

/// The `StateReasonData` JSON of an evaluation at `query_ms` over `slot_starts`.
pub fn state_reason_data(
    config: &AlarmConfig,
    d: &Decision,
    slot_starts: &[i64],
    sample_counts: &[f64],
    query_ms: i64,
) -> String {
    let mut o = Map::new();
    o.insert("version".into(), json!("1.0"));
    o.insert("queryDate".into(), json!(data_stamp(query_ms)));
    let reals: Vec<(usize, f64)> = d
        .evaluated
        .iter()
        .filter_map(|e| match e {
            Evaluated::Real { slot, value, .. } => Some((*slot, *value)),
            Evaluated::Filled { .. } => None,
        })
        .collect();
    let start = reals
        .first()
        .and_then(|(s, _)| slot_starts.get(*s))
        .or(slot_starts.first())
        .copied()
        .unwrap_or(query_ms);
    o.insert("startDate".into(), json!(data_stamp(start)));
    match (&config.statistic, &config.extended_statistic) {
        (Some(s), _) => o.insert("statistic".into(), json!(s)),
        (None, Some(p)) => o.insert("statistic".into(), json!(p)),
        _ => None,
    };
    o.insert("period".into(), json!(config.period));
    if let Some(u) = &config.unit {
        o.insert("unit".into(), json!(u));
    }
    o.insert(
        "recentDatapoints".into(),
        Value::Array(reals.iter().map(|(_, v)| json!(v)).collect()),
    );
    o.insert("threshold".into(), json!(config.threshold));
    o.insert(
        "evaluatedDatapoints".into(),
        Value::Array(
            reals
                .iter()
                .rev()
                .map(|(s, v)| {
                    json!({
                        "timestamp": data_stamp(slot_starts.get(*s).copied().unwrap_or(0)),
                        "sampleCount": sample_counts.get(*s).copied().unwrap_or(0.0),
                        "value": v,
                    })
                })
                .collect(),
        ),
    );
    Value::Object(o).to_string()
}

/// The long region name alarm messages and subjects use (`EU (Ireland)`).
pub fn region_long_name(region: &str) -> String {
    let known = [
        ("us-east-1", "US East (N. Virginia)"),
        ("us-east-2", "US East (Ohio)"),
        ("us-west-1", "US West (N. California)"),
        ("us-west-2", "US West (Oregon)"),
        ("ca-central-1", "Canada (Central)"),
        ("eu-west-1", "EU (Ireland)"),
        ("eu-west-2", "EU (London)"),
        ("eu-west-3", "EU (Paris)"),
        ("eu-central-1", "EU (Frankfurt)"),
        ("eu-north-1", "EU (Stockholm)"),
        ("eu-south-1", "EU (Milan)"),
        ("ap-northeast-1", "Asia Pacific (Tokyo)"),
        ("ap-northeast-2", "Asia Pacific (Seoul)"),
        ("ap-northeast-3", "Asia Pacific (Osaka)"),
        ("ap-southeast-1", "Asia Pacific (Singapore)"),
        ("ap-southeast-2", "Asia Pacific (Sydney)"),
        ("ap-south-1", "Asia Pacific (Mumbai)"),
        ("ap-east-1", "Asia Pacific (Hong Kong)"),
        ("sa-east-1", "South America (Sao Paulo)"),
        ("me-south-1", "Middle East (Bahrain)"),
        ("af-south-1", "Africa (Cape Town)"),
        // The regions opened since: botocore's `endpoints.json` descriptions (AWS keeps the
        // older "EU (…)" spelling above in alarm texts).
        ("ap-east-2", "Asia Pacific (Taipei)"),
        ("ap-south-2", "Asia Pacific (Hyderabad)"),
        ("ap-southeast-3", "Asia Pacific (Jakarta)"),
        ("ap-southeast-4", "Asia Pacific (Melbourne)"),
        ("ap-southeast-5", "Asia Pacific (Malaysia)"),
        ("ap-southeast-6", "Asia Pacific (New Zealand)"),
        ("ap-southeast-7", "Asia Pacific (Thailand)"),
        ("ca-west-1", "Canada West (Calgary)"),
        ("eu-central-2", "Europe (Zurich)"),
        ("eu-south-2", "Europe (Spain)"),
        ("il-central-1", "Israel (Tel Aviv)"),
        ("me-central-1", "Middle East (UAE)"),
        ("mx-central-1", "Mexico (Central)"),
    ];
    known
        .iter()
        .find(|(code, _)| *code == region)
        .map_or_else(|| region.to_owned(), |(_, long)| (*long).to_owned())
}

/// The SNS subject of a state change: `ALARM: "<name>" in <Region long name>`.
pub fn subject(alarm: &Alarm) -> String {
    let s = format!(
        "{}: \"{}\" in {}",
        alarm.state.value.as_str(),
        alarm.config.name,
        region_long_name(&alarm.region)
    );
    // SNS subjects are under 100 characters.
    s.chars().take(99).collect()
}

/// The alarm message AWS publishes to SNS on a state change (compact JSON, keys in AWS's
/// order).
pub fn alarm_message(alarm: &Alarm, old: StateValue) -> String {
    let c = &alarm.config;
    let mut trigger = Map::new();
    trigger.insert("MetricName".into(), json!(c.metric_name));
    trigger.insert("Namespace".into(), json!(c.namespace));
    match (&c.statistic, &c.extended_statistic) {
        (Some(s), _) => {
            trigger.insert("StatisticType".into(), json!("Statistic"));
            trigger.insert("Statistic".into(), json!(s.to_uppercase()));
        }
        (None, Some(p)) => {
            trigger.insert("StatisticType".into(), json!("ExtendedStatistic"));
            trigger.insert("ExtendedStatistic".into(), json!(p));
        }
        _ => {}
    }
    trigger.insert("Unit".into(), json!(c.unit));
    trigger.insert(
        "Dimensions".into(),
        Value::Array(
            c.dimensions
                .iter()
                .map(|(n, v)| {
                    let mut d = Map::new();
                    d.insert("value".into(), json!(v));
                    d.insert("name".into(), json!(n));
                    Value::Object(d)
                })
                .collect(),
        ),
    );
    trigger.insert("Period".into(), json!(c.period));
    trigger.insert("EvaluationPeriods".into(), json!(c.evaluation_periods));
    if let Some(m) = c.datapoints_to_alarm {
        trigger.insert("DatapointsToAlarm".into(), json!(m));
    }
    trigger.insert("ComparisonOperator".into(), json!(c.comparison.as_str()));
    trigger.insert("Threshold".into(), json!(c.threshold));
    trigger.insert(
        "TreatMissingData".into(),
        json!(c.treat_missing_data.map_or("missing", |t| t.as_str())),
    );
    trigger.insert(
        "EvaluateLowSampleCountPercentile".into(),
        json!(
            c.evaluate_low_sample_count_percentile
                .clone()
                .unwrap_or_default()
        ),
    );
    let mut m = Map::new();
    m.insert("AlarmName".into(), json!(c.name));
    m.insert("AlarmDescription".into(), json!(c.description));
    m.insert("AWSAccountId".into(), json!(alarm.account));
    m.insert(
        "AlarmConfigurationUpdatedTimestamp".into(),
        json!(data_stamp(alarm.config_updated_ms)),
    );
    m.insert("NewStateValue".into(), json!(alarm.state.value.as_str()));
    m.insert("NewStateReason".into(), json!(alarm.state.reason));
    m.insert(
        "StateChangeTime".into(),
        json!(data_stamp(alarm.state.transitioned_ms)),
    );
    m.insert("Region".into(), json!(region_long_name(&alarm.region)));
    m.insert("AlarmArn".into(), json!(alarm.arn()));
    m.insert("OldStateValue".into(), json!(old.as_str()));
    m.insert("OKActions".into(), json!(c.ok_actions));
    m.insert("AlarmActions".into(), json!(c.alarm_actions));
    m.insert(
        "InsufficientDataActions".into(),
        json!(c.insufficient_data_actions),
    );
    m.insert("Trigger".into(), Value::Object(trigger));
    Value::Object(m).to_string()
}

/// The history data of a state update (`{"version":"1.0","oldState":{…},"newState":{…}}`).
pub fn state_update_data(old: &super::AlarmState, new: &super::AlarmState) -> String {
    let state = |s: &super::AlarmState| {
        let mut o = Map::new();
        o.insert("stateValue".into(), json!(s.value.as_str()));
        o.insert("stateReason".into(), json!(s.reason));
        if let Some(d) = &s.reason_data
            && let Ok(v) = serde_json::from_str::<Value>(d)
        {
            o.insert("stateReasonData".into(), v);
        }
        Value::Object(o)
    };
    json!({"version": "1.0", "oldState": state(old), "newState": state(new)}).to_string()
}

/// The model's longest `StateReason`, `StateReasonData`, `HistorySummary` and `HistoryData`.
pub const MAX_REASON: usize = 1023;
/// See [`MAX_REASON`].
pub const MAX_REASON_DATA: usize = 4000;
/// See [`MAX_REASON`].
pub const MAX_HISTORY_SUMMARY: usize = 255;
/// See [`MAX_REASON`].
pub const MAX_HISTORY_DATA: usize = 4095;

/// `text` cut to at most `max` characters.
pub fn cut(mut text: String, max: usize) -> String {
    if let Some((i, _)) = text.char_indices().nth(max) {
        text.truncate(i);
    }
    text
}

/// `StateReasonData` within the model's length: the oldest datapoints are left out until it
/// fits (an alarm over many periods lists more than 4,000 characters of them).
pub fn fit_reason_data(data: String) -> String {
    if data.chars().count() <= MAX_REASON_DATA {
        return data;
    }
    let Ok(Value::Object(mut o)) = serde_json::from_str::<Value>(&data) else {
        return cut(data, MAX_REASON_DATA);
    };
    loop {
        let text = Value::Object(o.clone()).to_string();
        let recent = o
            .get("recentDatapoints")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if text.chars().count() <= MAX_REASON_DATA || recent == 0 {
            return text;
        }
        // Oldest first in `recentDatapoints`, newest first in `evaluatedDatapoints`.
        let drop = recent.div_ceil(2);
        if let Some(Value::Array(a)) = o.get_mut("recentDatapoints") {
            a.drain(..drop.min(a.len()));
        }
        if let Some(Value::Array(a)) = o.get_mut("evaluatedDatapoints") {
            let keep = a.len().saturating_sub(drop);
            a.truncate(keep);
        }
    }
}

/// `HistoryData` within the model's length: the states' reason data left out, then their
/// reasons shortened, until it fits.
pub fn fit_history_data(data: String) -> String {
    if data.chars().count() <= MAX_HISTORY_DATA {
        return data;
    }
    let Ok(Value::Object(mut o)) = serde_json::from_str::<Value>(&data) else {
        return cut(data, MAX_HISTORY_DATA);
    };
    for state in ["oldState", "newState"] {
        if let Some(Value::Object(s)) = o.get_mut(state) {
            s.shift_remove("stateReasonData");
        }
    }
    let text = Value::Object(o.clone()).to_string();
    if text.chars().count() <= MAX_HISTORY_DATA {
        return text;
    }
    for state in ["oldState", "newState"] {
        if let Some(Value::Object(s)) = o.get_mut(state)
            && let Some(Value::String(r)) = s.get_mut("stateReason")
        {
            *r = cut(std::mem::take(r), 1000);
        }
    }
    Value::Object(o).to_string()
}
