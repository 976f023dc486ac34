//! Metric filters (pattern stored verbatim, the transformation as the core's JSON) and Logs
//! Insights queries (their answer kept with them).

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreResult;

/// A stored metric filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFilter {
    /// Its group.
    pub group_id: i64,
    /// The group's name.
    pub group_name: String,
    /// Filter name.
    pub name: String,
    /// The pattern, byte for byte as given.
    pub pattern: String,
    /// The metric transformation, as the core serialises it.
    pub transformation: String,
    /// Creation time, ms.
    pub created: i64,
}

const COLUMNS: &str = "f.group_id, g.name, f.name, f.pattern, f.transformation, f.created FROM log_metric_filters f JOIN log_groups g ON g.id = f.group_id";

fn row(r: &Row<'_>) -> rusqlite::Result<StoredFilter> {
    Ok(StoredFilter {
        group_id: r.get(0)?,
        group_name: r.get(1)?,
        name: r.get(2)?,
        pattern: r.get(3)?,
        transformation: r.get(4)?,
        created: r.get(5)?,
    })
}

/// Creates or replaces a filter (the creation time of a replaced filter is kept).
pub fn put(
    conn: &Connection,
    group_id: i64,
    name: &str,
    pattern: &str,
    transformation: &str,
    created: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO log_metric_filters (group_id, name, pattern, transformation, created)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (group_id, name) DO UPDATE SET pattern = excluded.pattern,
            transformation = excluded.transformation",
    )?
    .execute(params![group_id, name, pattern, transformation, created])?;
    Ok(())
}

/// Deletes a filter; whether it existed.
pub fn delete(conn: &Connection, group_id: i64, name: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM log_metric_filters WHERE group_id = ?1 AND name = ?2")?
        .execute(params![group_id, name])?
        == 1)
}

/// Fetches one filter.
pub fn get(conn: &Connection, group_id: i64, name: &str) -> StoreResult<Option<StoredFilter>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} WHERE f.group_id = ?1 AND f.name = ?2"
        ))?
        .query_row(params![group_id, name], row)
        .optional()?)
}

/// Every filter of a group, by name (what ingestion applies).
pub fn of_group(conn: &Connection, group_id: i64) -> StoreResult<Vec<StoredFilter>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} WHERE f.group_id = ?1 ORDER BY f.name COLLATE BINARY"
    ))?;
    let rows = stmt.query_map([group_id], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Filters of an account and region (optionally one group and a name prefix), ordered by group
/// then name, strictly after the keyset position `after` (group name, filter name), at most
/// `limit`.
pub fn list(
    conn: &Connection,
    account: &str,
    region: &str,
    group_id: Option<i64>,
    prefix: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> StoreResult<Vec<StoredFilter>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} WHERE g.account = ?1 AND g.region = ?2
           AND (?3 IS NULL OR f.group_id = ?3)
           AND (?4 IS NULL OR substr(f.name, 1, length(?4)) = ?4)
           AND (?6 IS NULL OR g.name > ?6 OR (g.name = ?6 AND f.name > ?7))
         ORDER BY g.name COLLATE BINARY, f.name COLLATE BINARY LIMIT ?5"
    ))?;
    let (after_group, after_name) = match after {
        Some((g, n)) => (Some(g), Some(n)),
        None => (None, None),
    };
    let rows = stmt.query_map(
        params![
            account,
            region,
            group_id,
            prefix,
            limit,
            after_group,
            after_name
        ],
        row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A Logs Insights query and its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredQuery {
    /// Id.
    pub query_id: String,
    /// Owner.
    pub account: String,
    /// Region.
    pub region: String,
    /// The query text.
    pub query_string: String,
    /// The (first) log group queried.
    pub log_group: String,
    /// `Scheduled`, `Running`, `Complete`, `Failed`, `Cancelled`, `Timeout`.
    pub status: String,
    /// Creation time, ms.
    pub created: i64,
    /// Run time, ms.
    pub duration: i64,
    /// The answer (rows and statistics), as the core serialises it.
    pub result: String,
}

fn query_row(r: &Row<'_>) -> rusqlite::Result<StoredQuery> {
    Ok(StoredQuery {
        query_id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        query_string: r.get(3)?,
        log_group: r.get(4)?,
        status: r.get(5)?,
        created: r.get(6)?,
        duration: r.get(7)?,
        result: r.get(8)?,
    })
}

const QUERY_COLUMNS: &str =
    "query_id, account, region, query_string, log_group, status, created, duration, result";

/// Inserts or replaces a query.
pub fn put_query(conn: &Connection, q: &StoredQuery) -> StoreResult<()> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO logs_queries ({QUERY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(params![
        q.query_id,
        q.account,
        q.region,
        q.query_string,
        q.log_group,
        q.status,
        q.created,
        q.duration,
        q.result
    ])?;
    Ok(())
}

/// Fetches a query of an account and region.
pub fn get_query(
    conn: &Connection,
    account: &str,
    region: &str,
    query_id: &str,
) -> StoreResult<Option<StoredQuery>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {QUERY_COLUMNS} FROM logs_queries WHERE query_id = ?1 AND account = ?2 AND region = ?3"
        ))?
        .query_row(params![query_id, account, region], query_row)
        .optional()?)
}

/// Queries of an account and region, newest first, optionally of one group and status.
pub fn list_queries(
    conn: &Connection,
    account: &str,
    region: &str,
    log_group: Option<&str>,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> StoreResult<Vec<StoredQuery>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {QUERY_COLUMNS} FROM logs_queries WHERE account = ?1 AND region = ?2
           AND (?3 IS NULL OR log_group = ?3) AND (?4 IS NULL OR status = ?4)
         ORDER BY created DESC, query_id LIMIT ?5 OFFSET ?6"
    ))?;
    let rows = stmt.query_map(
        params![account, region, log_group, status, limit, offset],
        query_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes queries created before `cutoff` (ms); AWS keeps results for 7 days.
pub fn expire_queries(conn: &Connection, cutoff: i64) -> StoreResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM logs_queries WHERE created < ?1")?
        .execute([cutoff])?)
}
