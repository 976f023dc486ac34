//! Running one alarm action, as CloudWatch does when an alarm changes state: only SNS topics
//! of the alarm's account and region are executed. CloudWatch publishes as the service
//! principal `cloudwatch.amazonaws.com`, with the alarm as `aws:SourceArn` and its account as
//! `aws:SourceAccount` and `AWS:SourceOwner`: the topic's policy must let it `SNS:Publish`
//! (the default topic policy does, for the owner's alarms), and a topic with a KMS key must
//! have a key policy that lets it `kms:GenerateDataKey*` (CloudWatch User Guide, "Amazon SNS
//! topics encrypted with a KMS key"). `email` subscribers get CloudWatch's alarm text
//! ([`super::email`]); every other protocol the JSON alarm message.

use cairn_store::Connection;

use super::{Alarm, StateValue};
use crate::error::{ApiResult, ErrorKind};
use crate::publish::{self, Publication};
use crate::sse::KmsAccess;

/// The service principal CloudWatch acts as when it runs an alarm's actions.
pub const CLOUDWATCH: &str = "cloudwatch.amazonaws.com";

/// Runs the action `arn` of `alarm`, which just moved from `old`: the publication to send
/// once the caller's transaction commits, or why the action failed (for the history). A
/// store failure is the outer error: nothing of the evaluation commits.
pub fn execute(
    conn: &Connection,
    kms: Option<KmsAccess<'_>>,
    alarm: &Alarm,
    arn: &str,
    old: StateValue,
    now_ms: i64,
) -> ApiResult<Result<Publication, String>> {
    if !sns_topic_of(arn, &alarm.account, &alarm.region) {
        return Ok(Err(
            "Cairn executes only SNS topic actions of the alarm's account and region".into(),
        ));
    }
    let Some(topic) = cairn_store::sns::get_topic(conn, arn)? else {
        return Ok(Err("Topic does not exist".into()));
    };
    let source = alarm.arn();
    let keys = [
        ("aws:SourceArn", source.as_str()),
        ("aws:SourceAccount", alarm.account.as_str()),
        ("AWS:SourceOwner", alarm.account.as_str()),
    ];
    if !crate::policy::service_allowed(&topic.policy, CLOUDWATCH, "SNS:Publish", arn, &keys) {
        return Ok(Err(format!(
            "CloudWatch Alarms is not authorized to perform: SNS:Publish on resource:{arn}"
        )));
    }
    let seal = match kms {
        Some(kms) => match topic_seal(conn, kms, alarm, arn, now_ms)? {
            Ok(seal) => seal,
            Err(why) => return Ok(Err(why)),
        },
        // No master key at hand (`cairn alarms run` without one): an encrypted topic's
        // message is never queued unsealed.
        None if crate::sns_sse::topic_key(&topic).is_some() => {
            return Ok(Err(
                "CloudWatch Alarms does not have authorization to access the SNS topic encryption key. (no KMS master key)".into(),
            ));
        }
        None => None,
    };
    let message = super::reason::alarm_message(alarm, old);
    let subject = super::reason::subject(alarm);
    let email = super::email::text(alarm, old);
    match publish::prepare_alarm(conn, arn, &subject, &message, &email, now_ms, seal.as_ref()) {
        // The store failed (some recipients may be queued already): nothing of this
        // evaluation commits, rather than a half-queued action noted as failed.
        Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::ServiceUnavailable) => Err(e),
        r => Ok(r.map_err(|e| e.message)),
    }
}

/// The data key CloudWatch seals an action's notification with when the topic has a KMS key,
/// asked of KMS as CloudWatch. The KMS event is recorded either way, in the evaluation's
/// transaction. A refusal is AWS's history text, with KMS's reason after it.
fn topic_seal(
    conn: &Connection,
    kms: KmsAccess<'_>,
    alarm: &Alarm,
    topic: &str,
    now_ms: i64,
) -> ApiResult<Result<Option<crate::sns_sse::TopicSeal>, String>> {
    let call = crate::sse::service_call(
        CLOUDWATCH,
        &alarm.arn(),
        &alarm.account,
        &alarm.region,
        now_ms as f64 / 1000.0,
    )?;
    let (seal, event) = crate::sns_sse::for_service(conn, kms, &call, topic);
    if let Some(event) = event {
        crate::record::append(conn, &event)?;
    }
    match seal {
        // The store failed (full, damaged): the evaluation fails, nothing of it commits.
        Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::ServiceUnavailable) => Err(e),
        Err(e) => Ok(Err(format!(
            "CloudWatch Alarms does not have authorization to access the SNS topic encryption key. ({}: {})",
            crate::sns_sse::refusal_code(&e),
            e.message
        ))),
        Ok(seal) => Ok(Ok(seal)),
    }
}

fn sns_topic_of(arn: &str, account: &str, region: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "sns"
        && parts[3] == region
        && parts[4] == account
}
