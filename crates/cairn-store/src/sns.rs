//! SNS topics and their subscriptions: access policy, topic and subscription attributes (a JSON
//! map each), topic tags, and the Cairn URL a subscription's messages point back to.

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
    /// Other attributes (`DisplayName`, `SignatureVersion`, …) as a JSON object.
    pub attributes: String,
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
    /// Attributes (`RawMessageDelivery`, `FilterPolicy`, …) as a JSON object.
    pub attributes: String,
    /// The Cairn URL the subscriber's `SubscribeURL`, `UnsubscribeURL` and `SigningCertURL`
    /// point at (where the subscribing call reached Cairn).
    pub base_url: String,
    /// Confirmed by a signed ConfirmSubscription with `AuthenticateOnUnsubscribe=true`: only
    /// an authenticated Unsubscribe may remove it.
    pub authenticated_unsubscribe: bool,
}

/// Version 16: topic and subscription attributes, the subscription's Cairn URL (on the
/// tables that exist: a store built by a test at a later version may lack them).
pub(crate) fn schema_v16(conn: &Connection) -> StoreResult<String> {
    let has = |t: &str| -> StoreResult<bool> {
        Ok(conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [t],
            |r| r.get::<_, i64>(0),
        )? > 0)
    };
    let mut sql = String::new();
    if has("sns_topics")? {
        sql.push_str("ALTER TABLE sns_topics ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';");
    }
    if has("sns_subscriptions")? {
        sql.push_str(
            "ALTER TABLE sns_subscriptions ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';\
             ALTER TABLE sns_subscriptions ADD COLUMN base_url TEXT NOT NULL DEFAULT '';",
        );
    }
    Ok(sql)
}

const SUB_COLUMNS: &str = "arn, topic_arn, protocol, endpoint, token, confirmed, attributes, base_url, authenticated_unsubscribe";

fn sub_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Subscription> {
    Ok(Subscription {
        arn: r.get(0)?,
        topic_arn: r.get(1)?,
        protocol: r.get(2)?,
        endpoint: r.get(3)?,
        token: r.get(4)?,
        confirmed: r.get(5)?,
        attributes: r.get(6)?,
        base_url: r.get(7)?,
        authenticated_unsubscribe: r.get(8)?,
    })
}

/// Inserts a topic (no-op if it exists).
/// How many topics an account has in a region (read off the ARN key's range).
pub fn count_topics(conn: &Connection, account: &str, region: &str) -> StoreResult<i64> {
    let from = format!("arn:aws:sns:{region}:{account}:");
    let to = format!("arn:aws:sns:{region}:{account};");
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM sns_topics WHERE arn >= ?1 AND arn < ?2")?
        .query_row([from, to], |r| r.get(0))?)
}

pub fn create_topic(conn: &Connection, t: &Topic, created: f64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO sns_topics (arn, account, region, name, policy, created, attributes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![t.arn, t.account, t.region, t.name, t.policy, created, t.attributes])?;
    Ok(())
}

/// Fetches a topic.
pub fn get_topic(conn: &Connection, arn: &str) -> StoreResult<Option<Topic>> {
    Ok(conn
        .prepare_cached(
            "SELECT arn, account, region, name, policy, attributes FROM sns_topics WHERE arn = ?1",
        )?
        .query_row([arn], |r| {
            Ok(Topic {
                arn: r.get(0)?,
                account: r.get(1)?,
                region: r.get(2)?,
                name: r.get(3)?,
                policy: r.get(4)?,
                attributes: r.get(5)?,
            })
        })
        .optional()?)
}

/// Up to `limit` topics of an account and region whose ARN sorts after `after`, by ARN.
pub fn list_topics(
    conn: &Connection,
    account: &str,
    region: &str,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT arn FROM sns_topics WHERE account = ?1 AND region = ?2 AND arn > ?3 ORDER BY arn LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![account, region, after, limit as i64], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// A topic's tags, by key.
pub fn topic_tags(conn: &Connection, arn: &str) -> StoreResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT tag_key, tag_value FROM sns_topic_tags WHERE topic_arn = ?1 ORDER BY tag_key",
    )?;
    let rows = stmt.query_map([arn], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Adds tags to a topic, replacing the values of keys it has.
pub fn put_topic_tags(conn: &Connection, arn: &str, tags: &[(String, String)]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO sns_topic_tags (topic_arn, tag_key, tag_value) VALUES (?1, ?2, ?3) \
         ON CONFLICT (topic_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
    )?;
    for (k, v) in tags {
        stmt.execute(params![arn, k, v])?;
    }
    Ok(())
}

/// Removes these tag keys from a topic (absent keys are ignored).
pub fn delete_topic_tags(conn: &Connection, arn: &str, keys: &[String]) -> StoreResult<()> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM sns_topic_tags WHERE topic_arn = ?1 AND tag_key = ?2")?;
    for k in keys {
        stmt.execute(params![arn, k])?;
    }
    Ok(())
}

/// Deletes a topic and its subscriptions.
pub fn delete_topic(conn: &Connection, arn: &str) -> StoreResult<()> {
    // What was queued for its subscriptions is never sent.
    crate::sns_queue::forget_topic(conn, arn)?;
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

/// Replaces a topic's attributes (JSON object).
pub fn set_topic_attributes(conn: &Connection, arn: &str, attributes: &str) -> StoreResult<()> {
    conn.prepare_cached("UPDATE sns_topics SET attributes = ?2 WHERE arn = ?1")?
        .execute(params![arn, attributes])?;
    Ok(())
}

/// Replaces a subscription's attributes (JSON object).
pub fn set_subscription_attributes(
    conn: &Connection,
    arn: &str,
    attributes: &str,
) -> StoreResult<()> {
    conn.prepare_cached("UPDATE sns_subscriptions SET attributes = ?2 WHERE arn = ?1")?
        .execute(params![arn, attributes])?;
    Ok(())
}

/// Fetches a subscription.
pub fn get_subscription(conn: &Connection, arn: &str) -> StoreResult<Option<Subscription>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SUB_COLUMNS} FROM sns_subscriptions WHERE arn = ?1"
        ))?
        .query_row([arn], sub_row)
        .optional()?)
}

/// The subscription of `topic_arn` with this protocol and endpoint, if any.
pub fn find_subscription(
    conn: &Connection,
    topic_arn: &str,
    protocol: &str,
    endpoint: &str,
) -> StoreResult<Option<Subscription>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SUB_COLUMNS} FROM sns_subscriptions WHERE topic_arn = ?1 AND protocol = ?2 AND endpoint = ?3"
        ))?
        .query_row(params![topic_arn, protocol, endpoint], sub_row)
        .optional()?)
}

/// Every subscription still pending confirmation (the sweep removes those past SNS's 48
/// hours).
pub fn pending_subscriptions(conn: &Connection) -> StoreResult<Vec<Subscription>> {
    let sql = format!("SELECT {SUB_COLUMNS} FROM sns_subscriptions WHERE confirmed = 0");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], sub_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Up to `limit` subscriptions of an account and region's topics (of one topic when
/// `topic_arn` is given) whose ARN sorts after `after`, by ARN.
pub fn list_subscriptions(
    conn: &Connection,
    account: &str,
    region: &str,
    topic_arn: Option<&str>,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<Subscription>> {
    let sql = format!(
        "SELECT s.{} FROM sns_subscriptions s JOIN sns_topics t ON t.arn = s.topic_arn \
         WHERE t.account = ?1 AND t.region = ?2 AND (?3 IS NULL OR s.topic_arn = ?3) AND s.arn > ?4 \
         ORDER BY s.arn LIMIT ?5",
        SUB_COLUMNS.replace(", ", ", s.")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![account, region, topic_arn, after, limit as i64],
        sub_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Adds a subscription.
pub fn subscribe(conn: &Connection, s: &Subscription) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO sns_subscriptions (arn, topic_arn, protocol, endpoint, token, confirmed, attributes, base_url, authenticated_unsubscribe) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![s.arn, s.topic_arn, s.protocol, s.endpoint, s.token, s.confirmed, s.attributes, s.base_url, s.authenticated_unsubscribe])?;
    Ok(())
}

/// Whether a subscription of `topic_arn` has the confirmation `token`.
pub fn token_known(conn: &Connection, topic_arn: &str, token: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sns_subscriptions WHERE topic_arn = ?1 AND token = ?2")?
        .query_row(params![topic_arn, token], |_| Ok(()))
        .optional()?
        .is_some())
}

/// How many subscriptions other than `except` hold a filter policy: of `topic_arn`, or, when
/// `None`, of every topic of `account`.
pub fn count_filter_policies(
    conn: &Connection,
    topic_arn: Option<&str>,
    account: &str,
    except: &str,
) -> StoreResult<i64> {
    // The attributes are a JSON object written by serde_json: a key is `"FilterPolicy":`,
    // which no escaped string value can contain.
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM sns_subscriptions s JOIN sns_topics t ON t.arn = s.topic_arn
             WHERE (?1 IS NULL OR s.topic_arn = ?1) AND t.account = ?2 AND s.arn <> ?3
               AND s.attributes LIKE '%\"FilterPolicy\":%'",
        )?
        .query_row(params![topic_arn, account, except], |r| r.get(0))?)
}

/// Whether the subscription of `topic_arn` holding `token` is already confirmed (`None` when
/// no subscription holds it).
pub fn token_confirmed(
    conn: &Connection,
    topic_arn: &str,
    token: &str,
) -> StoreResult<Option<bool>> {
    Ok(conn
        .prepare_cached(
            "SELECT confirmed FROM sns_subscriptions WHERE topic_arn = ?1 AND token = ?2",
        )?
        .query_row(params![topic_arn, token], |r| r.get(0))
        .optional()?)
}

/// Confirms the subscription holding `token`; returns its ARN. `authenticated_unsubscribe`
/// sets the subscription's flag (it is never cleared by a later confirmation).
pub fn confirm(
    conn: &Connection,
    topic_arn: &str,
    token: &str,
    authenticated_unsubscribe: bool,
) -> StoreResult<Option<String>> {
    let arn: Option<String> = conn
        .prepare_cached("SELECT arn FROM sns_subscriptions WHERE topic_arn = ?1 AND token = ?2")?
        .query_row(params![topic_arn, token], |r| r.get(0))
        .optional()?;
    if let Some(a) = &arn {
        conn.prepare_cached(
            "UPDATE sns_subscriptions SET confirmed = 1, \
             authenticated_unsubscribe = CASE WHEN ?2 THEN 1 ELSE authenticated_unsubscribe END WHERE arn = ?1",
        )?
        .execute(params![a, authenticated_unsubscribe])?;
    }
    Ok(arn)
}

/// Subscriptions of a topic.
pub fn subscriptions(conn: &Connection, topic_arn: &str) -> StoreResult<Vec<Subscription>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUB_COLUMNS} FROM sns_subscriptions WHERE topic_arn = ?1 ORDER BY arn"
    ))?;
    let rows = stmt.query_map([topic_arn], sub_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Deletes a subscription; whether it existed.
pub fn delete_subscription(conn: &Connection, arn: &str) -> StoreResult<bool> {
    crate::sns_queue::forget(conn, arn)?;
    Ok(conn
        .prepare_cached("DELETE FROM sns_subscriptions WHERE arn = ?1")?
        .execute(rusqlite::params![arn])?
        > 0)
}
