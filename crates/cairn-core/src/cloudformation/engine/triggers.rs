//! Rollback triggers in the engine: an operation whose trigger alarm is missing, or in
//! `ALARM` when it starts, when its resources are deployed, or at any check through the
//! monitoring period after, fails and rolls back (see `rollback_triggers`).

use std::time::Duration;

use super::{Run, now};
use crate::alarms::{Alarm, StateValue};
use crate::error::ApiResult;

/// How often the monitoring period looks at the alarms, and for a CancelUpdateStack.
const POLL: Duration = Duration::from_secs(1);

impl Run<'_> {
    /// Why the stack's triggers stop the operation now, if they do: the first missing alarm,
    /// else the alarms in `ALARM`.
    pub(crate) async fn tripped_trigger(&self) -> ApiResult<Option<String>> {
        let triggers = self.stack.rollback_configuration.triggers.clone();
        if triggers.is_empty() {
            return Ok(None);
        }
        let (account, region) = (self.stack.account.clone(), self.stack.region.clone());
        let found = self
            .engine
            .store
            .read(move |c| {
                let mut found = Vec::new();
                for t in &triggers {
                    let name = crate::cloudformation::rollback_triggers::alarm_name(&t.arn)
                        .unwrap_or_default();
                    // Cairn keeps no composite alarms: such a trigger is always missing.
                    let body = if t.kind == "AWS::CloudWatch::Alarm" {
                        cairn_store::alarms::get(c, &account, &region, name)?
                    } else {
                        None
                    };
                    found.push((t.arn.clone(), body));
                }
                Ok(found)
            })
            .await?;
        let mut in_alarm = Vec::new();
        for (arn, body) in found {
            let Some(body) = body else {
                return Ok(Some(format!(
                    "Rollback trigger {arn} was not found: the operation is rolled back"
                )));
            };
            if Alarm::decode(&body)?.state.value == StateValue::Alarm {
                in_alarm.push(arn);
            }
        }
        Ok((!in_alarm.is_empty()).then(|| {
            format!(
                "The following rollback trigger(s) are in ALARM state: [{}]",
                in_alarm.join(", ")
            )
        }))
    }

    /// Watches the triggers once the resources are deployed: now, then through the
    /// monitoring period (the operation stays in progress meanwhile). A CancelUpdateStack
    /// ends the period at once: it is the documented way out of one (cfn7: the cancel waited
    /// for the whole period, up to three hours).
    pub(crate) async fn monitor_triggers(&self) -> ApiResult<Option<String>> {
        let end = now() + self.stack.rollback_configuration.monitoring_secs() as f64;
        loop {
            if let Some(reason) = self.tripped_trigger().await? {
                return Ok(Some(reason));
            }
            if crate::cloudformation::recovery::cancelled(&self.stack.stack_id) {
                return Ok(None);
            }
            let left = end - now();
            if left <= 0.0 {
                return Ok(None);
            }
            tokio::time::sleep(POLL.min(Duration::from_secs_f64(left))).await;
        }
    }
}
