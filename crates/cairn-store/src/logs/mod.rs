//! CloudWatch Logs tables: log groups and their tags here; streams, events, metric filters and
//! Logs Insights queries in the submodules. Times are epoch milliseconds.

pub mod events;
pub mod filters;
pub mod purge;
pub mod streams;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreResult;

/// A log group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogGroup {
    /// Row id (events and streams refer to it).
    pub id: i64,
    /// Owner.
    pub account: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// Creation time, ms.
    pub created: i64,
    /// Retention, if set.
    pub retention_days: Option<i64>,
    /// KMS key ARN, if set.
    pub kms_key_id: Option<String>,
    /// `STANDARD`, `INFREQUENT_ACCESS` or `DELIVERY`.
    pub class: String,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Bytes of stored messages.
    pub stored_bytes: i64,
    /// Number of metric filters.
    pub metric_filter_count: i64,
}

const GROUP_COLUMNS: &str = "g.id, g.account, g.region, g.name, g.created, g.retention_days, g.kms_key_id, g.class, g.deletion_protection, g.stored_bytes, (SELECT COUNT(*) FROM log_metric_filters f WHERE f.group_id = g.id)";

fn group_row(r: &Row<'_>) -> rusqlite::Result<LogGroup> {
    Ok(LogGroup {
        id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        name: r.get(3)?,
        created: r.get(4)?,
        retention_days: r.get(5)?,
        kms_key_id: r.get(6)?,
        class: r.get(7)?,
        deletion_protection: r.get(8)?,
        stored_bytes: r.get(9)?,
        metric_filter_count: r.get(10)?,
    })
}

/// What a new group is made of.
#[derive(Clone, Debug)]
pub struct NewGroup<'a> {
    /// Owner.
    pub account: &'a str,
    /// Region.
    pub region: &'a str,
    /// Name.
    pub name: &'a str,
    /// Creation time, ms.
    pub created: i64,
    /// KMS key ARN.
    pub kms_key_id: Option<&'a str>,
    /// Class.
    pub class: &'a str,
    /// Deletion protection.
    pub deletion_protection: bool,
}

/// Inserts a group; returns its id, or `None` if the name is taken.
pub fn create_group(conn: &Connection, g: &NewGroup<'_>) -> StoreResult<Option<i64>> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO log_groups (id, account, region, name, created, kms_key_id, class, deletion_protection)
             VALUES (?8, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            g.account,
            g.region,
            g.name,
            g.created,
            g.kms_key_id,
            g.class,
            g.deletion_protection,
            purge::next_group_id(conn)?
        ])?;
    Ok((n == 1).then(|| conn.last_insert_rowid()))
}

/// Fetches a group by name.
pub fn get_group(
    conn: &Connection,
    account: &str,
    region: &str,
    name: &str,
) -> StoreResult<Option<LogGroup>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {GROUP_COLUMNS} FROM log_groups g WHERE g.account = ?1 AND g.region = ?2 AND g.name = ?3"
        ))?
        .query_row(params![account, region, name], group_row)
        .optional()?)
}

/// How many groups an account has in a region.
pub fn count_groups(conn: &Connection, account: &str, region: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM log_groups WHERE account = ?1 AND region = ?2")?
        .query_row(params![account, region], |r| r.get(0))?)
}

/// Which groups [`list_groups`] returns.
#[derive(Clone, Debug, Default)]
pub struct GroupFilter<'a> {
    /// Name prefix.
    pub prefix: Option<&'a str>,
    /// Case-sensitive substring of the name.
    pub pattern: Option<&'a str>,
    /// Class.
    pub class: Option<&'a str>,
    /// Exact names.
    pub names: Option<&'a [String]>,
}

/// Groups of an account and region in byte order of their names, strictly after the name
/// `after` (a keyset position), at most `limit`.
pub fn list_groups(
    conn: &Connection,
    account: &str,
    region: &str,
    filter: &GroupFilter<'_>,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<LogGroup>> {
    let names = filter
        .names
        .map(|n| serde_json::to_string(n).unwrap_or_else(|_| "[]".into()));
    // `substr` and `instr` compare bytes: prefixes and patterns are case-sensitive, as the
    // API's are, and the page holds `limit` matches.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {GROUP_COLUMNS} FROM log_groups g
         WHERE g.account = ?1 AND g.region = ?2
           AND (?3 IS NULL OR substr(g.name, 1, length(?3)) = ?3)
           AND (?4 IS NULL OR instr(g.name, ?4) > 0)
           AND (?5 IS NULL OR g.class = ?5)
           AND (?6 IS NULL OR g.name IN (SELECT value FROM json_each(?6)))
           AND (?8 IS NULL OR g.name > ?8)
         ORDER BY g.name COLLATE BINARY LIMIT ?7"
    ))?;
    let rows = stmt.query_map(
        params![
            account,
            region,
            filter.prefix,
            filter.pattern,
            filter.class,
            names,
            limit,
            after
        ],
        group_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes a group with its streams, tags and metric filters; its events are purged later
/// ([`purge`]).
pub fn delete_group(conn: &Connection, id: i64) -> StoreResult<()> {
    purge::note(conn, id, None)?;
    conn.prepare_cached("DELETE FROM log_groups WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Sets or clears a group's retention.
pub fn set_retention(conn: &Connection, id: i64, days: Option<i64>) -> StoreResult<()> {
    conn.prepare_cached("UPDATE log_groups SET retention_days = ?2 WHERE id = ?1")?
        .execute(params![id, days])?;
    Ok(())
}

/// Sets (AssociateKmsKey) or clears (DisassociateKmsKey) a group's KMS key.
pub fn set_kms_key(conn: &Connection, id: i64, key: Option<&str>) -> StoreResult<()> {
    conn.prepare_cached("UPDATE log_groups SET kms_key_id = ?2 WHERE id = ?1")?
        .execute(params![id, key])?;
    Ok(())
}

/// Turns a group's deletion protection on or off (PutLogGroupDeletionProtection).
pub fn set_deletion_protection(conn: &Connection, id: i64, enabled: bool) -> StoreResult<()> {
    conn.prepare_cached("UPDATE log_groups SET deletion_protection = ?2 WHERE id = ?1")?
        .execute(params![id, enabled])?;
    Ok(())
}

/// Every group that has a retention: (id, days).
pub fn retained_groups(conn: &Connection) -> StoreResult<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, retention_days FROM log_groups WHERE retention_days IS NOT NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A group's tags, by key.
pub fn tags(conn: &Connection, group_id: i64) -> StoreResult<Vec<(String, String)>> {
    let mut stmt = conn
        .prepare_cached("SELECT key, value FROM log_group_tags WHERE group_id = ?1 ORDER BY key")?;
    let rows = stmt.query_map([group_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Adds or overwrites tags.
pub fn put_tags(conn: &Connection, group_id: i64, tags: &[(String, String)]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO log_group_tags (group_id, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value",
    )?;
    for (k, v) in tags {
        stmt.execute(params![group_id, k, v])?;
    }
    Ok(())
}

/// Removes tags by key (absent keys are ignored).
pub fn remove_tags(conn: &Connection, group_id: i64, keys: &[String]) -> StoreResult<()> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM log_group_tags WHERE group_id = ?1 AND key = ?2")?;
    for k in keys {
        stmt.execute(params![group_id, k])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
