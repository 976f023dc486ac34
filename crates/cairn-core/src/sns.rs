//! The minimal SNS semantics CloudTrail needs: topics with access policies, HTTP(S)
//! subscriptions with the confirmation handshake, and the check that a topic lets CloudTrail
//! publish.

use cairn_store::Connection;
use cairn_store::sns::{self, Subscription, Topic};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::policy::{AccessRequest, Caller, Decision, Policy};

fn not_found() -> ApiError {
    ApiError::new(ErrorKind::SnsNotFound, "Topic does not exist")
}

fn default_policy(arn: &str, account: &str) -> String {
    serde_json::json!({"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [{
        "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                   "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
        "Resource": arn, "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]})
    .to_string()
}

/// CreateTopic (idempotent, like SNS).
pub fn create_topic(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<String> {
    let ok = (1..=256).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(ApiError::new(
            ErrorKind::SnsInvalidParameter,
            "Invalid parameter: Topic Name",
        ));
    }
    let arn = format!("arn:aws:sns:{}:{}:{name}", ctx.region, ctx.account());
    sns::create_topic(
        conn,
        &Topic {
            arn: arn.clone(),
            account: ctx.account().to_string(),
            region: ctx.region.to_string(),
            name: name.to_owned(),
            policy: default_policy(&arn, ctx.account().as_str()),
        },
        ctx.now,
    )?;
    Ok(arn)
}

fn owned(conn: &Connection, ctx: &CallContext, arn: &str) -> ApiResult<Topic> {
    sns::get_topic(conn, arn)?
        .filter(|t| t.account == ctx.account().as_str())
        .ok_or_else(not_found)
}

/// DeleteTopic (deleting a missing topic succeeds, like SNS).
pub fn delete_topic(conn: &Connection, ctx: &CallContext, arn: &str) -> ApiResult<()> {
    if owned(conn, ctx, arn).is_ok() {
        sns::delete_topic(conn, arn)?;
    }
    Ok(())
}

/// ListTopics.
pub fn list_topics(conn: &Connection, ctx: &CallContext) -> ApiResult<Vec<String>> {
    Ok(sns::list_topics(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
    )?)
}

/// GetTopicAttributes: (name, value) pairs.
pub fn get_attributes(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
) -> ApiResult<Vec<(String, String)>> {
    let t = owned(conn, ctx, arn)?;
    let subs = sns::subscriptions(conn, arn)?;
    Ok(vec![
        ("TopicArn".into(), t.arn.clone()),
        ("Owner".into(), t.account.clone()),
        ("Policy".into(), t.policy),
        ("DisplayName".into(), String::new()),
        (
            "SubscriptionsConfirmed".into(),
            subs.iter().filter(|s| s.confirmed).count().to_string(),
        ),
        (
            "SubscriptionsPending".into(),
            subs.iter().filter(|s| !s.confirmed).count().to_string(),
        ),
    ])
}

/// SetTopicAttributes (only `Policy` and `DisplayName` are kept).
pub fn set_attribute(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    name: &str,
    value: &str,
) -> ApiResult<()> {
    owned(conn, ctx, arn)?;
    match name {
        "Policy" => {
            Policy::parse(value).map_err(|m| {
                ApiError::new(
                    ErrorKind::SnsInvalidParameter,
                    format!("Invalid parameter: Policy Error: {m}"),
                )
            })?;
            sns::set_policy(conn, arn, value)?;
            Ok(())
        }
        "DisplayName" => Ok(()),
        other => Err(ApiError::new(
            ErrorKind::SnsInvalidParameter,
            format!("Invalid parameter: AttributeName {other}"),
        )),
    }
}

/// Subscribe an HTTP(S) endpoint; returns the pending subscription (its token is sent to the
/// endpoint by the edge).
pub fn subscribe(
    conn: &Connection,
    ctx: &CallContext,
    topic_arn: &str,
    protocol: &str,
    endpoint: &str,
    token: &str,
    id: &str,
) -> ApiResult<Subscription> {
    owned(conn, ctx, topic_arn)?;
    let valid =
        matches!(protocol, "http" | "https") && endpoint.starts_with(&format!("{protocol}://"));
    if !valid {
        return Err(ApiError::new(
            ErrorKind::SnsInvalidParameter,
            "Invalid parameter: only http and https endpoints are supported",
        ));
    }
    let sub = Subscription {
        arn: format!("{topic_arn}:{id}"),
        topic_arn: topic_arn.to_owned(),
        protocol: protocol.to_owned(),
        endpoint: endpoint.to_owned(),
        token: token.to_owned(),
        confirmed: false,
    };
    sns::subscribe(conn, &sub)?;
    Ok(sub)
}

/// Unsubscribe: removes a subscription of one of the caller's topics.
pub fn unsubscribe(conn: &Connection, ctx: &CallContext, subscription_arn: &str) -> ApiResult<()> {
    let gone = || ApiError::new(ErrorKind::SnsNotFound, "Subscription does not exist");
    let topic = subscription_arn
        .rsplit_once(':')
        .map(|(t, _)| t)
        .ok_or_else(gone)?;
    owned(conn, ctx, topic).map_err(|_| gone())?;
    if sns::delete_subscription(conn, subscription_arn)? {
        Ok(())
    } else {
        Err(gone())
    }
}

/// ConfirmSubscription (token-authorised, like SNS).
pub fn confirm(conn: &Connection, topic_arn: &str, token: &str) -> ApiResult<String> {
    sns::confirm(conn, topic_arn, token)?
        .ok_or_else(|| ApiError::new(ErrorKind::SnsInvalidParameter, "Invalid token"))
}

/// Whether the topic exists and its policy lets `cloudtrail.amazonaws.com` publish.
pub fn cloudtrail_may_publish(
    conn: &Connection,
    topic_arn: &str,
    trail_arn: &str,
    account: &str,
) -> ApiResult<bool> {
    let Some(topic) = sns::get_topic(conn, topic_arn)? else {
        return Ok(false);
    };
    let Ok(policy) = Policy::parse(&topic.policy) else {
        return Ok(false);
    };
    let context = [("aws:SourceArn", trail_arn), ("aws:SourceAccount", account)];
    Ok(policy.evaluate(&AccessRequest {
        caller: Caller::Service("cloudtrail.amazonaws.com"),
        action: "SNS:Publish",
        resource: topic_arn,
        context: &context,
    }) == Decision::Allow)
}
