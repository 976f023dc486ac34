//! SNS topics and their subscriptions (the minimum CloudTrail notifications need).

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// A topic.
#[derive(Clone, Debug, PartialEq)]
pub struct Topic {
    /// ARN.
    pub arn: String,
    /// Owner.
    pub account: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// Access policy JSON.
    pub policy: String,
}

/// A subscription.
#[derive(Clone, Debug, PartialEq)]
pub struct Subscription {
    /// ARN.
    pub arn: String,
    /// Topic.
    pub topic_arn: String,
    /// `http` or `https`.
    pub protocol: String,
    /// Endpoint URL.
    pub endpoint: String,
    /// Confirmation token.
    pub token: String,
    /// Whether the endpoint confirmed.
    pub confirmed: bool,
}

/// Inserts a topic (no-op if it exists).
pub fn create_topic(conn: &Connection, t: &Topic, created: f64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO sns_topics (arn, account, region, name, policy, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![t.arn, t.account, t.region, t.name, t.policy, created])?;
    Ok(())
}

/// Fetches a topic.
pub fn get_topic(conn: &Connection, arn: &str) -> StoreResult<Option<Topic>> {
    Ok(conn
        .prepare_cached("SELECT arn, account, region, name, policy FROM sns_topics WHERE arn = ?1")?
        .query_row([arn], |r| {
            Ok(Topic {
                arn: r.get(0)?,
                account: r.get(1)?,
                region: r.get(2)?,
                name: r.get(3)?,
                policy: r.get(4)?,
            })
        })
        .optional()?)
}

/// Topics of an account and region, by ARN.
pub fn list_topics(conn: &Connection, account: &str, region: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT arn FROM sns_topics WHERE account = ?1 AND region = ?2 ORDER BY arn",
    )?;
    let rows = stmt.query_map(params![account, region], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Deletes a topic and its subscriptions.
pub fn delete_topic(conn: &Connection, arn: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM sns_topics WHERE arn = ?1")?
        .execute([arn])?;
    Ok(())
}

/// Replaces a topic's policy.
pub fn set_policy(conn: &Connection, arn: &str, policy: &str) -> StoreResult<()> {
    conn.prepare_cached("UPDATE sns_topics SET policy = ?2 WHERE arn = ?1")?
        .execute(params![arn, policy])?;
    Ok(())
}

/// Adds a subscription.
pub fn subscribe(conn: &Connection, s: &Subscription) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO sns_subscriptions (arn, topic_arn, protocol, endpoint, token, confirmed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![s.arn, s.topic_arn, s.protocol, s.endpoint, s.token, s.confirmed])?;
    Ok(())
}

/// Confirms the subscription holding `token`; returns its ARN.
pub fn confirm(conn: &Connection, topic_arn: &str, token: &str) -> StoreResult<Option<String>> {
    let arn: Option<String> = conn
        .prepare_cached("SELECT arn FROM sns_subscriptions WHERE topic_arn = ?1 AND token = ?2")?
        .query_row(params![topic_arn, token], |r| r.get(0))
        .optional()?;
    if let Some(a) = &arn {
        conn.prepare_cached("UPDATE sns_subscriptions SET confirmed = 1 WHERE arn = ?1")?
            .execute([a])?;
    }
    Ok(arn)
}

/// Subscriptions of a topic.
pub fn subscriptions(conn: &Connection, topic_arn: &str) -> StoreResult<Vec<Subscription>> {
    let mut stmt = conn.prepare_cached(
        "SELECT arn, topic_arn, protocol, endpoint, token, confirmed FROM sns_subscriptions WHERE topic_arn = ?1 ORDER BY arn",
    )?;
    let rows = stmt.query_map([topic_arn], |r| {
        Ok(Subscription {
            arn: r.get(0)?,
            topic_arn: r.get(1)?,
            protocol: r.get(2)?,
            endpoint: r.get(3)?,
            token: r.get(4)?,
            confirmed: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Deletes a subscription; whether it existed.
pub fn delete_subscription(conn: &Connection, arn: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM sns_subscriptions WHERE arn = ?1")?
        .execute(rusqlite::params![arn])?
        > 0)
}
