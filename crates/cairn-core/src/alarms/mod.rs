//! CloudWatch metric alarms (spec monitoring.md §3.3–§3.6): their configuration and state
//! ([`Alarm`], stored as versioned JSON through `cairn_store::alarms`), the alarm API
//! ([`api`]), the pure evaluation ([`eval::decide`]), AWS's state-reason texts and alarm
//! message ([`reason`]), and the evaluation pass that moves alarms between states and writes
//! their history and actions ([`run::evaluate_due`]).

pub mod actions;
pub mod api;
pub mod email;
pub mod eval;
pub mod reason;
pub mod run;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, ErrorKind};

/// An alarm state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateValue {
    /// `OK`.
    #[serde(rename = "OK")]
    Ok,
    /// `ALARM`.
    #[serde(rename = "ALARM")]
    Alarm,
    /// `INSUFFICIENT_DATA`.
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl StateValue {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "OK" => Some(Self::Ok),
            "ALARM" => Some(Self::Alarm),
            "INSUFFICIENT_DATA" => Some(Self::InsufficientData),
            _ => None,
        }
    }
}

/// A threshold comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// `GreaterThanOrEqualToThreshold`.
    GreaterThanOrEqualToThreshold,
    /// `GreaterThanThreshold`.
    GreaterThanThreshold,
    /// `LessThanThreshold`.
    LessThanThreshold,
    /// `LessThanOrEqualToThreshold`.
    LessThanOrEqualToThreshold,
}

impl Comparison {
    /// Parses a wire name (the anomaly-band operators are not supported).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "GreaterThanOrEqualToThreshold" => Some(Self::GreaterThanOrEqualToThreshold),
            "GreaterThanThreshold" => Some(Self::GreaterThanThreshold),
            "LessThanThreshold" => Some(Self::LessThanThreshold),
            "LessThanOrEqualToThreshold" => Some(Self::LessThanOrEqualToThreshold),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Self::GreaterThanThreshold => "GreaterThanThreshold",
            Self::LessThanThreshold => "LessThanThreshold",
            Self::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
        }
    }

    /// Whether `v` breaches `threshold`.
    pub fn breaches(self, v: f64, threshold: f64) -> bool {
        match self {
            Self::GreaterThanOrEqualToThreshold => v >= threshold,
            Self::GreaterThanThreshold => v > threshold,
            Self::LessThanThreshold => v < threshold,
            Self::LessThanOrEqualToThreshold => v <= threshold,
        }
    }

    /// The phrase state reasons use ("greater than or equal to").
    pub fn phrase(self) -> &'static str {
        match self {
            Self::GreaterThanOrEqualToThreshold => "greater than or equal to",
            Self::GreaterThanThreshold => "greater than",
            Self::LessThanThreshold => "less than",
            Self::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }
}

/// `TreatMissingData`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreatMissing {
    /// `missing` (the default).
    Missing,
    /// `ignore`: keep the current state.
    Ignore,
    /// `breaching`.
    Breaching,
    /// `notBreaching`.
    NotBreaching,
}

impl TreatMissing {
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "missing" => Some(Self::Missing),
            "ignore" => Some(Self::Ignore),
            "breaching" => Some(Self::Breaching),
            "notBreaching" => Some(Self::NotBreaching),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Ignore => "ignore",
            Self::Breaching => "breaching",
            Self::NotBreaching => "notBreaching",
        }
    }
}

/// What an alarm watches and how it decides (PutMetricAlarm's input).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmConfig {
    /// `AlarmName`.
    pub name: String,
    /// `AlarmDescription`.
    pub description: Option<String>,
    /// `ActionsEnabled`.
    pub actions_enabled: bool,
    /// `OKActions`.
    pub ok_actions: Vec<String>,
    /// `AlarmActions`.
    pub alarm_actions: Vec<String>,
    /// `InsufficientDataActions`.
    pub insufficient_data_actions: Vec<String>,
    /// `MetricName`.
    pub metric_name: String,
    /// `Namespace`.
    pub namespace: String,
    /// `Statistic` (SampleCount, Average, Sum, Minimum, Maximum).
    pub statistic: Option<String>,
    /// `ExtendedStatistic` (`p0.0`–`p100`).
    pub extended_statistic: Option<String>,
    /// `Dimensions`, in the caller's order.
    pub dimensions: Vec<(String, String)>,
    /// `Period`, seconds.
    pub period: i64,
    /// `Unit`.
    pub unit: Option<String>,
    /// `EvaluationPeriods` (N).
    pub evaluation_periods: i64,
    /// `DatapointsToAlarm` (M), when set.
    pub datapoints_to_alarm: Option<i64>,
    /// `Threshold`.
    pub threshold: f64,
    /// `ComparisonOperator`.
    pub comparison: Comparison,
    /// `TreatMissingData`, when set.
    pub treat_missing_data: Option<TreatMissing>,
    /// `EvaluateLowSampleCountPercentile`, when set.
    pub evaluate_low_sample_count_percentile: Option<String>,
    /// `WarmUpConfiguration`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_up: Option<WarmUp>,
    /// `EvaluationWindow` given as `SlidingWindow` (how every alarm is evaluated), to return.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sliding_window: bool,
}

/// `WarmUpConfiguration` (newer SDKs): for this long after the alarm is created or updated,
/// it is not evaluated, so it stays in its state (`INSUFFICIENT_DATA` for a new alarm) and
/// runs no action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WarmUp {
    /// `WarmUpPeriodDurationInMinutes` (1–2,880).
    pub minutes: i64,
    /// `OnlyStartEvaluatingAfterWarmUpPeriodEnds`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_after: Option<bool>,
}

impl Alarm {
    /// Whether the period ending at `end_ms` falls in the alarm's warm-up: within its minutes
    /// of the last create or update, unless data already fills the evaluation window
    /// (`window_full`) and the alarm does not wait the whole warm-up
    /// (`OnlyStartEvaluatingAfterWarmUpPeriodEnds`, default false, ends it early then).
    pub fn warming_up(&self, end_ms: i64, window_full: bool) -> bool {
        self.config.warm_up.as_ref().is_some_and(|w| {
            end_ms < self.config_updated_ms + w.minutes * 60_000
                && (w.only_after == Some(true) || !window_full)
        })
    }
}

impl AlarmConfig {
    /// The evaluation rule.
    pub fn rule(&self) -> eval::Rule {
        let n = usize::try_from(self.evaluation_periods.max(1)).unwrap_or(1);
        eval::Rule {
            n,
            m: self
                .datapoints_to_alarm
                .and_then(|m| usize::try_from(m).ok())
                .unwrap_or(n),
            op: self.comparison,
            threshold: self.threshold,
            treat: self.treat_missing_data.unwrap_or(TreatMissing::Missing),
        }
    }

    /// The actions of a state.
    pub fn actions_for(&self, state: StateValue) -> &[String] {
        match state {
            StateValue::Ok => &self.ok_actions,
            StateValue::Alarm => &self.alarm_actions,
            StateValue::InsufficientData => &self.insufficient_data_actions,
        }
    }
}

/// An alarm's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmState {
    /// `StateValue`.
    pub value: StateValue,
    /// `StateReason`.
    pub reason: String,
    /// `StateReasonData` (JSON text), when set.
    pub reason_data: Option<String>,
    /// `StateUpdatedTimestamp`, ms.
    pub updated_ms: i64,
    /// `StateTransitionedTimestamp`, ms.
    pub transitioned_ms: i64,
}

/// A stored alarm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    /// Body version (1).
    pub v: u32,
    /// Owner.
    pub account: String,
    /// Region.
    pub region: String,
    /// Configuration.
    pub config: AlarmConfig,
    /// State.
    pub state: AlarmState,
    /// `AlarmConfigurationUpdatedTimestamp`, ms.
    pub config_updated_ms: i64,
    /// The end of the last evaluated period, ms (evaluation runs once per period end).
    pub last_evaluated_ms: i64,
    /// Tags, in key order.
    pub tags: Vec<(String, String)>,
}

impl Alarm {
    /// `arn:aws:cloudwatch:<region>:<account>:alarm:<name>`.
    pub fn arn(&self) -> String {
        alarm_arn(&self.region, &self.account, &self.config.name)
    }

    /// Decodes a stored body.
    pub fn decode(body: &str) -> ApiResult<Self> {
        serde_json::from_str(body).map_err(|e| {
            tracing::error!(error = %e, "damaged alarm body");
            ApiError::new(ErrorKind::Internal, "An internal error occurred.")
        })
    }

    /// Encodes for storage.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("an alarm serializes")
    }
}

/// An alarm's ARN.
pub fn alarm_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

/// `InvalidParameterValue` with `message`.
pub fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::CwInvalidParameterValue, message)
}

/// `MissingParameter`: "The parameter X is required.".
pub fn missing(member: &str) -> ApiError {
    ApiError::new(
        ErrorKind::CwMissingParameter,
        format!("The parameter {member} is required."),
    )
}
