//! Pending subscriptions expire: SNS deletes a subscription still pending confirmation after
//! 48 hours, and its confirmation token ("short-lived") no longer confirms it. A token
//! carries the second it was issued in its first 16 hex digits; an expired pending
//! subscription is left out of the listings, refused by ConfirmSubscription and the
//! `SubscribeURL` link (and removed), and replaced by a new Subscribe of its endpoint.
//! Tokens issued before this rule (64 hex digits, no time) do not expire.

use cairn_store::Connection;
use cairn_store::sns::{self, Subscription};

use crate::error::ApiResult;

/// How long a subscription may stay pending (seconds).
pub const PENDING_TTL: i64 = 48 * 3600;

/// A new confirmation token issued at `now` (epoch seconds): the time, then 32 random bytes.
pub fn new_token(now: i64) -> String {
    format!(
        "{:016x}{}",
        now.max(0),
        hex::encode(rand::random::<[u8; 32]>())
    )
}

/// When `token` was issued, if it says.
fn issued(token: &str) -> Option<i64> {
    (token.len() == 80)
        .then(|| i64::from_str_radix(&token[..16], 16).ok())
        .flatten()
}

/// Whether `sub` is pending and past SNS's 48 hours at `now`.
pub fn expired(sub: &Subscription, now: i64) -> bool {
    !sub.confirmed && issued(&sub.token).is_some_and(|t| now - t >= PENDING_TTL)
}

/// Removes `topic_arn`'s expired pending subscription holding `token`, if there is one;
/// returns whether it did (the token then confirms nothing).
pub fn drop_expired_token(
    conn: &Connection,
    topic_arn: &str,
    token: &str,
    now: i64,
) -> ApiResult<bool> {
    let found = sns::subscriptions(conn, topic_arn)?
        .into_iter()
        .find(|s| s.token == token && expired(s, now));
    if let Some(s) = &found {
        sns::delete_subscription(conn, &s.arn)?;
    }
    Ok(found.is_some())
}

/// Deletes every pending subscription past its 48 hours at `now`, as SNS deletes them: hidden
/// only, one came back when the clock stepped back, and its old token then confirmed it
/// (recheck30). Returns how many went. Run by the server's sweep.
pub fn delete_expired(conn: &Connection, now: i64) -> ApiResult<usize> {
    let mut gone = 0;
    for s in sns::pending_subscriptions(conn)? {
        if expired(&s, now) && sns::delete_subscription(conn, &s.arn)? {
            gone += 1;
        }
    }
    Ok(gone)
}

/// Whether an unsigned link names something that exists: the subscription an
/// `UnsubscribeURL` names, or a subscription of the topic with the token a `SubscribeURL`
/// confirms (or an UnsubscribeConfirmation's token, which restores one). A link that names nothing is refused without a record (sns6: anyone could
/// fill the event store with unsigned links naming made-up ARNs of any length; hostile14:
/// made-up tokens on an existing topic).
pub fn link_names_something(
    conn: &Connection,
    subscription_arn: Option<&str>,
    topic_and_token: Option<(&str, &str)>,
    now: i64,
) -> ApiResult<bool> {
    Ok(match (subscription_arn, topic_and_token) {
        (Some(s), _) => sns::get_subscription(conn, s)?.is_some(),
        (None, Some((t, token))) => {
            !token.is_empty()
                && (sns::token_known(conn, t, token)?
                    || crate::sns_resubscribe::is_restore_token(conn, t, token, now)?)
        }
        (None, None) => false,
    })
}

/// Whether a confirmation link is anything but the first confirmation of a pending
/// subscription: its token is that of a subscription already confirmed, an
/// UnsubscribeConfirmation's, or no subscription's (recheck35, recheck35b: such links could be
/// replayed without end, each one recorded).
pub fn link_repeats(conn: &Connection, topic_arn: &str, token: &str) -> ApiResult<bool> {
    Ok(cairn_store::sns::token_confirmed(conn, topic_arn, token)? != Some(false))
}

/// Whether the topic exists (a link with an unknown token names an existing topic or none).
pub fn topic_exists(conn: &Connection, topic_arn: &str) -> ApiResult<bool> {
    Ok(sns::get_topic(conn, topic_arn)?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(token: String) -> Subscription {
        Subscription {
            arn: "arn:aws:sns:us-east-1:1:t:x".into(),
            topic_arn: "arn:aws:sns:us-east-1:1:t".into(),
            protocol: "http".into(),
            endpoint: "http://h/".into(),
            token,
            confirmed: false,
            attributes: "{}".into(),
            base_url: String::new(),
            authenticated_unsubscribe: false,
        }
    }

    #[test]
    fn a_pending_subscription_expires_after_48_hours() {
        let t = new_token(1_000_000);
        assert_eq!(issued(&t), Some(1_000_000));
        assert!(!expired(&pending(t.clone()), 1_000_000 + PENDING_TTL - 1));
        assert!(expired(&pending(t.clone()), 1_000_000 + PENDING_TTL));
        let mut confirmed = pending(t);
        confirmed.confirmed = true;
        assert!(!expired(&confirmed, i64::MAX / 2));
        // A token of an older release says no time and never expires.
        assert!(!expired(&pending("ab".repeat(32)), i64::MAX / 2));
    }
}
