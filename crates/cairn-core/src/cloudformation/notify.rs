//! A stack's `NotificationARNs`: every stack event is published to each topic, as
//! CloudFormation does, in its text form (`StackId='…'` lines, subject "AWS CloudFormation
//! Notification"). CloudFormation publishes as `cloudformation.amazonaws.com` with the stack's
//! account as `AWS:SourceOwner`/`aws:SourceAccount` and the stack as `aws:SourceArn`: a topic
//! whose policy does not allow that (the default topic policy does, for the owner's stacks)
//! gets nothing. A topic with a KMS key gets nothing either: the message would wait in the
//! queue unsealed (Cairn seals it only where the KMS master key is at hand), so it is left
//! out with a warning. The messages are queued in the event's transaction, durable, and sent
//! by the server's SNS sweep within about ten seconds.

use cairn_store::Connection;

use super::model::{Stack, StackEvent};
use crate::error::{ApiResult, ErrorKind};

/// The service principal CloudFormation publishes as.
const CLOUDFORMATION: &str = "cloudformation.amazonaws.com";

/// Queues `event` for each of `stack`'s notification topics.
pub fn publish_event(conn: &Connection, stack: &Stack, event: &StackEvent) -> ApiResult<()> {
    if stack.notification_arns.is_empty() {
        return Ok(());
    }
    let message = message(stack, event);
    let now_ms = (event.timestamp * 1000.0) as i64;
    for topic_arn in &stack.notification_arns {
        let Some(topic) = cairn_store::sns::get_topic(conn, topic_arn)? else {
            continue;
        };
        let keys = [
            ("aws:SourceArn", stack.stack_id.as_str()),
            ("aws:SourceAccount", stack.account.as_str()),
            ("AWS:SourceOwner", stack.account.as_str()),
        ];
        let allowed = crate::policy::service_allowed(
            &topic.policy,
            CLOUDFORMATION,
            "SNS:Publish",
            topic_arn,
            &keys,
        );
        if !allowed {
            continue;
        }
        if crate::sns_sse::topic_key(&topic).is_some() {
            tracing::warn!(topic = %topic_arn, stack = %stack.name,
                "a stack notification to a topic with a KMS key is not sent");
            continue;
        }
        match crate::publish::prepare(
            conn,
            topic_arn,
            Some("AWS CloudFormation Notification"),
            &message,
            now_ms,
            None,
        ) {
            Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::ServiceUnavailable) => {
                return Err(e);
            }
            _ => {}
        }
    }
    Ok(())
}

/// The notification text of one stack event, as CloudFormation sends it.
fn message(stack: &Stack, e: &StackEvent) -> String {
    let quoted = |v: &str| format!("'{}'", v.replace('\'', "\\'"));
    let lines = [
        ("StackId", stack.stack_id.clone()),
        ("Timestamp", super::records::iso_millis(e.timestamp)),
        ("EventId", e.event_id.clone()),
        ("LogicalResourceId", e.logical_id.clone()),
        ("Namespace", stack.account.clone()),
        (
            "PhysicalResourceId",
            e.physical_id.clone().unwrap_or_default(),
        ),
        (
            "PrincipalId",
            stack
                .caller
                .principal()
                .map(|p| p.principal_id())
                .unwrap_or_default(),
        ),
        (
            "ResourceProperties",
            e.properties.clone().unwrap_or_else(|| "null".to_owned()),
        ),
        ("ResourceStatus", e.status.clone()),
        ("ResourceStatusReason", e.reason.clone().unwrap_or_default()),
        ("ResourceType", e.resource_type.clone()),
        ("StackName", stack.name.clone()),
        (
            "ClientRequestToken",
            e.client_request_token
                .clone()
                .unwrap_or_else(|| "null".to_owned()),
        ),
    ];
    lines
        .iter()
        .map(|(k, v)| format!("{k}={}\n", quoted(v)))
        .collect()
}
