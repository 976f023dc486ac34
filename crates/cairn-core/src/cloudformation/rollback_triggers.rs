//! Rollback triggers (`RollbackConfiguration`): CloudWatch alarms a stack operation watches.
//!
//! "If any of the alarms you specify goes to ALARM state during the stack operation or within
//! the specified monitoring period afterwards, CloudFormation rolls back the entire stack
//! operation", and "if a specified trigger is missing, the entire stack operation fails and is
//! rolled back" (the API reference's RollbackTrigger). The engine checks the triggers when an
//! operation starts, when its resources are deployed and through the monitoring period after
//! (`engine::triggers`); this module holds the configuration and its validation.

use serde::{Deserialize, Serialize};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The most triggers a configuration holds, and the longest monitoring period (the model).
const MAX_TRIGGERS: usize = 5;
const MAX_MONITORING_MINUTES: i64 = 180;

/// The alarm types a trigger may name.
const TYPES: [&str; 2] = ["AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"];

/// One trigger.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RollbackTrigger {
    /// The alarm's ARN.
    pub arn: String,
    /// `AWS::CloudWatch::Alarm` or `AWS::CloudWatch::CompositeAlarm`.
    pub kind: String,
}

/// A stack's `RollbackConfiguration`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RollbackConfiguration {
    /// The alarms watched.
    pub triggers: Vec<RollbackTrigger>,
    /// `MonitoringTimeInMinutes`, when given.
    pub monitoring_minutes: Option<i64>,
}

impl RollbackConfiguration {
    /// The monitoring period after the resources are deployed, in seconds.
    pub fn monitoring_secs(&self) -> i64 {
        self.monitoring_minutes.unwrap_or(0) * 60
    }
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::IamValidation, message)
}

/// Checks a configuration a call gives: at most 5 triggers of the two alarm types, each an
/// alarm ARN of the call's account and region, and a monitoring period of 0 to 180 minutes.
/// Whether the alarms exist is the operation's to find (a missing one fails it).
pub fn check(ctx: &CallContext, c: &RollbackConfiguration) -> ApiResult<()> {
    if c.triggers.len() > MAX_TRIGGERS {
        return Err(validation(format!(
            "1 validation error detected: Value at 'rollbackConfiguration.rollbackTriggers' failed to satisfy constraint: Member must have length less than or equal to {MAX_TRIGGERS}"
        )));
    }
    if let Some(m) = c.monitoring_minutes
        && !(0..=MAX_MONITORING_MINUTES).contains(&m)
    {
        let bound = if m < 0 {
            "greater than or equal to 0".to_owned()
        } else {
            format!("less than or equal to {MAX_MONITORING_MINUTES}")
        };
        return Err(validation(format!(
            "1 validation error detected: Value '{m}' at 'rollbackConfiguration.monitoringTimeInMinutes' failed to satisfy constraint: Member must have value {bound}"
        )));
    }
    let prefix = format!("arn:aws:cloudwatch:{}:{}:alarm:", ctx.region, ctx.account());
    for t in &c.triggers {
        if !TYPES.contains(&t.kind.as_str()) {
            return Err(validation(format!(
                "Rollback trigger type {} is not supported: use AWS::CloudWatch::Alarm or AWS::CloudWatch::CompositeAlarm",
                t.kind
            )));
        }
        let name = t.arn.strip_prefix(&prefix).unwrap_or_default();
        if name.is_empty() || name.len() > 255 {
            return Err(validation(format!(
                "Rollback trigger ARN {} is not the ARN of an alarm in this account and region",
                t.arn
            )));
        }
    }
    if c.triggers
        .iter()
        .enumerate()
        .any(|(i, t)| c.triggers[..i].iter().any(|u| u.arn == t.arn))
    {
        return Err(validation("Rollback triggers must name distinct alarms"));
    }
    Ok(())
}

/// The alarm name a trigger's (checked) ARN names.
pub fn alarm_name(arn: &str) -> Option<&str> {
    arn.split_once(":alarm:").map(|(_, name)| name)
}
