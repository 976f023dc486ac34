//! The text CloudWatch's alarm notification gives `email` subscribers: the familiar "You are
//! receiving this email because your Amazon CloudWatch Alarm …" with the alarm's details,
//! threshold, monitored metric and actions, where every other protocol (`email-json`, HTTP/S)
//! gets the JSON alarm message ([`super::reason::alarm_message`]). The sections and labels
//! follow the alarm emails AWS sends; the console link AWS adds is left out, as it would name
//! AWS's console, not this server.

use chrono::{TimeZone, Utc};

use super::{Alarm, StateValue};

/// The email body of `alarm`'s change from `old` to its current state.
pub fn text(alarm: &Alarm, old: StateValue) -> String {
    let c = &alarm.config;
    let state = alarm.state.value.as_str();
    let region = super::reason::region_long_name(&alarm.region);
    let at = stamp(alarm.state.transitioned_ms);
    let reason = &alarm.state.reason;
    let statistic = c
        .statistic
        .clone()
        .or_else(|| c.extended_statistic.clone())
        .unwrap_or_default();
    let dimensions = c
        .dimensions
        .iter()
        .map(|(n, v)| format!("[{n} = {v}]"))
        .collect::<Vec<_>>()
        .join(", ");
    let of_last = c.datapoints_to_alarm.unwrap_or(c.evaluation_periods);
    let lines = [
        format!(
            "You are receiving this email because your Amazon CloudWatch Alarm \"{}\" in the {region} region has entered the {state} state, because \"{reason}\" at \"{at}\".",
            c.name
        ),
        String::new(),
        "Alarm Details:".into(),
        detail("Name:", &c.name),
        detail("Description:", c.description.as_deref().unwrap_or("")),
        detail("State Change:", &format!("{} -> {state}", old.as_str())),
        detail("Reason for State Change:", reason),
        detail("Timestamp:", &at),
        detail("AWS Account:", &alarm.account),
        detail("Alarm Arn:", &alarm.arn()),
        String::new(),
        "Threshold:".into(),
        format!(
            "- The alarm is in the ALARM state when the metric is {} {} for at least {of_last} of the last {} period(s) of {} seconds.",
            c.comparison.as_str(),
            super::reason::java_double(c.threshold),
            c.evaluation_periods,
            c.period
        ),
        String::new(),
        "Monitored Metric:".into(),
        metric("MetricNamespace:", &c.namespace),
        metric("MetricName:", &c.metric_name),
        metric("Dimensions:", &dimensions),
        metric("Period:", &format!("{} seconds", c.period)),
        metric("Statistic:", &statistic),
        metric("Unit:", c.unit.as_deref().unwrap_or("not specified")),
        metric(
            "TreatMissingData:",
            c.treat_missing_data.map_or("missing", |t| t.as_str()),
        ),
        String::new(),
        String::new(),
        "State Change Actions:".into(),
        format!("- OK: {}", list(&c.ok_actions)),
        format!("- ALARM: {}", list(&c.alarm_actions)),
        format!(
            "- INSUFFICIENT_DATA: {}",
            list(&c.insufficient_data_actions)
        ),
    ];
    lines.join("\n") + "\n"
}

/// An "Alarm Details" line: the label padded to 30 columns.
fn detail(label: &str, value: &str) -> String {
    format!("- {label:<28}{value}")
}

/// A "Monitored Metric" line: the label padded to 39 columns.
fn metric(label: &str, value: &str) -> String {
    format!("- {label:<37}{value}")
}

/// A list of ARNs as AWS prints it: `[a, b]`.
fn list(arns: &[String]) -> String {
    format!("[{}]", arns.join(", "))
}

/// A time as the alarm email gives it: `Thursday 03 December, 2026 22:01:00 UTC`.
fn stamp(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%A %d %B, %Y %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}
