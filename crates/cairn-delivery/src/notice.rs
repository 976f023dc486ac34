//! CloudTrail's notification of a delivered log file, decided in the transaction that records
//! the file: the trail's topic must exist (else `NotFound`) and its policy must let
//! `cloudtrail.amazonaws.com` publish now (`SNS:Publish` with `aws:SourceArn` the trail and
//! `aws:SourceAccount` its account, through `cairn_core::sns::cloudtrail_may_publish`, the
//! one policy evaluator), else `AuthorizationError` (SNS's code for a refused Publish; AWS
//! does not document the text CloudTrail shows). A refused file's notification is skipped,
//! not kept for later; the error shows in GetTrailStatus until a notification succeeds. An
//! allowed one is accepted for the topic, queued durably in the same transaction.

use cairn_core::publish::Publication;
use cairn_model::trail::DeliveryStatus;
use cairn_store::{Connection, StoreError, StoreResult};

/// What became of a file's notification.
pub(crate) enum Notice {
    /// The trail has no topic.
    None,
    /// Accepted by the topic.
    Published(Box<Publication>),
    /// Refused, with the error GetTrailStatus shows.
    Refused(&'static str),
}

impl Notice {
    /// Records the outcome in the trail's delivery status.
    pub(crate) fn record(&self, d: &mut DeliveryStatus, now: f64) {
        match self {
            Notice::None => {}
            Notice::Published(_) => {
                d.latest_notification_time = Some(now);
                d.latest_notification_error = None;
            }
            Notice::Refused(code) => d.latest_notification_error = Some((*code).to_owned()),
        }
    }

    /// The publication to send once the transaction commits.
    pub(crate) fn publication(self) -> Option<Publication> {
        match self {
            Notice::Published(p) => Some(*p),
            _ => None,
        }
    }
}

fn fault(e: cairn_core::ApiError) -> StoreError {
    StoreError::Corrupt(e.message)
}

/// Publishes `message` to the topic of the live trail `trail_arn`, if it has one and may. A
/// topic with a KMS key (`KmsMasterKeyId`) seals the notification under a data key CloudTrail
/// asks for as itself, recorded either way: a key policy that does not let
/// `cloudtrail.amazonaws.com` use the key refuses the notification (`KMSAccessDenied`, …),
/// as on AWS. `kms` is `None` only without a master key, when no KMS key can exist.
pub(crate) fn publish(
    conn: &Connection,
    trail_arn: &str,
    message: &str,
    now: f64,
    kms: Option<cairn_core::sse::KmsAccess<'_>>,
) -> StoreResult<Notice> {
    let Some(parsed) = cairn_model::trail::TrailArn::parse(trail_arn) else {
        return Ok(Notice::None);
    };
    let trail = cairn_store::trails::get(conn, &parsed.account, &parsed.region, &parsed.name)?;
    let Some(topic) = trail.and_then(|t| t.sns_topic_arn) else {
        return Ok(Notice::None);
    };
    if cairn_store::sns::get_topic(conn, &topic)?.is_none() {
        tracing::warn!(
            trail = trail_arn,
            topic,
            "the trail's topic does not exist; the file's notification is skipped"
        );
        return Ok(Notice::Refused("NotFound"));
    }
    let account = parsed.account.to_string();
    if !cairn_core::sns::cloudtrail_may_publish(conn, &topic, trail_arn, &account).map_err(fault)? {
        tracing::warn!(
            trail = trail_arn,
            topic,
            "the topic's policy does not let CloudTrail publish; the file's notification is skipped"
        );
        return Ok(Notice::Refused("AuthorizationError"));
    }
    let seal = match kms {
        Some(kms) => {
            let call = cairn_core::sse::cloudtrail_call(trail_arn, &account, &parsed.region, now)
                .map_err(fault)?;
            let (seal, event) = cairn_core::sns_sse::for_service(conn, kms, &call, &topic);
            if let Some(event) = event {
                cairn_core::record::append(conn, &event)?;
            }
            match seal {
                Ok(seal) => seal,
                Err(e)
                    if matches!(
                        e.kind,
                        cairn_core::ErrorKind::Internal | cairn_core::ErrorKind::ServiceUnavailable
                    ) =>
                {
                    return Err(fault(e));
                }
                Err(e) => {
                    tracing::warn!(
                        trail = trail_arn,
                        topic,
                        error = %e.message,
                        "the topic's KMS key does not let CloudTrail publish; the file's notification is skipped"
                    );
                    return Ok(Notice::Refused(cairn_core::sns_sse::refusal_code(&e)));
                }
            }
        }
        None => None,
    };
    let now_ms = (now * 1000.0) as i64;
    let p = cairn_core::publish::prepare(conn, &topic, None, message, now_ms, seal.as_ref())
        .map_err(fault)?;
    Ok(Notice::Published(Box::new(p)))
}
