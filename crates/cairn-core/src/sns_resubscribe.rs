//! Restoring a subscription from its UnsubscribeConfirmation. SNS tells an HTTP(S) endpoint it
//! was unsubscribed with a message whose `SubscribeURL` (or `Token`, with
//! ConfirmSubscription) restores the subscription. Cairn keeps nothing of a removed
//! subscription; instead the token itself names it — topic, protocol, endpoint, the Cairn URL
//! of its links and (up to 2 KiB) its attributes — sealed under the store's token key, and
//! valid for three days, as SNS's confirmation tokens are.

use cairn_store::Connection;
use cairn_store::sns::{self, Subscription};
use serde_json::{Value, json};

use crate::error::ApiResult;
use crate::token::TokenKey;

/// How long an UnsubscribeConfirmation restores its subscription (seconds).
pub const TTL: i64 = 3 * 86_400;

/// Attributes longer than this are not carried (the link would be too long for a URL); the
/// subscription is then restored without them.
const MAX_ATTRIBUTES: usize = 2048;

fn scope(topic_arn: &str) -> String {
    format!("sns-resubscribe\n{topic_arn}")
}

/// The token an UnsubscribeConfirmation of `sub` carries, issued at `now` (epoch seconds).
pub fn token(conn: &Connection, sub: &Subscription, now: i64) -> ApiResult<String> {
    let key = TokenKey::stored(conn)?;
    let attributes = if sub.attributes.len() <= MAX_ATTRIBUTES {
        sub.attributes.as_str()
    } else {
        "{}"
    };
    let named = json!({
        "protocol": sub.protocol,
        "endpoint": sub.endpoint,
        "attributes": attributes,
        "base_url": sub.base_url,
    });
    Ok(key.seal_timed(&scope(&sub.topic_arn), &named.to_string(), now))
}

/// The new subscription's id and confirmation token (the caller's random values).
pub struct Fresh<'a> {
    /// The id after the topic ARN in the new subscription's ARN.
    pub id: &'a str,
    /// Its confirmation token.
    pub token: &'a str,
}

/// Whether `token` is an UnsubscribeConfirmation token of `topic_arn` still in its time.
pub fn is_restore_token(
    conn: &Connection,
    topic_arn: &str,
    token: &str,
    now: i64,
) -> ApiResult<bool> {
    let key = TokenKey::stored(conn)?;
    Ok(key.open_timed(&scope(topic_arn), token, now, TTL).is_ok())
}

/// What an UnsubscribeConfirmation token of `topic_arn` still in its time names.
fn named(conn: &Connection, topic_arn: &str, token: &str, now: i64) -> ApiResult<Option<Value>> {
    let key = TokenKey::stored(conn)?;
    Ok(key
        .open_timed(&scope(topic_arn), token, now, TTL)
        .ok()
        .and_then(|n| serde_json::from_str::<Value>(&n).ok()))
}

/// Restores the subscription an UnsubscribeConfirmation token names, confirmed; returns its
/// ARN. `None` when the token is not such a token, is older than [`TTL`], or its topic is
/// gone. A subscription of the same endpoint made since is answered as it is.
pub fn restore(
    conn: &Connection,
    topic_arn: &str,
    token: &str,
    authenticated_unsubscribe: bool,
    now: i64,
    fresh: &Fresh<'_>,
) -> ApiResult<Option<String>> {
    let Some(named) = named(conn, topic_arn, token, now)? else {
        return Ok(None);
    };
    let text = |k: &str| named.get(k).and_then(Value::as_str).unwrap_or_default();
    if sns::get_topic(conn, topic_arn)?.is_none() {
        return Ok(None);
    }
    let (protocol, endpoint) = (text("protocol"), text("endpoint"));
    if let Some(existing) = sns::find_subscription(conn, topic_arn, protocol, endpoint)? {
        return Ok(Some(existing.arn));
    }
    // A restored filter policy counts against the quotas as a new one does (recheck35b).
    let attributes = text("attributes");
    if serde_json::from_str::<serde_json::Map<String, Value>>(attributes)
        .is_ok_and(|a| a.contains_key("FilterPolicy"))
    {
        let account = topic_arn.split(':').nth(4).unwrap_or_default();
        crate::sns_subscription_checks::filter_policy_room(conn, topic_arn, account, "")?;
    }
    let sub = Subscription {
        arn: format!("{topic_arn}:{}", fresh.id),
        topic_arn: topic_arn.to_owned(),
        protocol: protocol.to_owned(),
        endpoint: endpoint.to_owned(),
        token: fresh.token.to_owned(),
        confirmed: true,
        attributes: text("attributes").to_owned(),
        base_url: text("base_url").to_owned(),
        authenticated_unsubscribe,
    };
    sns::subscribe(conn, &sub)?;
    Ok(Some(sub.arn))
}
