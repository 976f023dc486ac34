//! Trails, persisted as versioned JSON bodies keyed by (account, home region, name).

use cairn_model::trail::Trail;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{StoreError, StoreResult};

#[derive(serde::Serialize, serde::Deserialize)]
struct Persisted {
    v: u32,
    trail: Trail,
}

fn decode(body: String) -> StoreResult<Trail> {
    serde_json::from_str::<Persisted>(&body)
        .map(|p| p.trail)
        .map_err(|e| StoreError::Corrupt(format!("trail: {e}")))
}

/// Inserts or replaces a trail.
pub fn put(conn: &Connection, trail: &Trail) -> StoreResult<()> {
    let body = serde_json::to_string(&Persisted {
        v: 1,
        trail: trail.clone(),
    })
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO trails (account, home_region, name, multi_region, body) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account, home_region, name) DO UPDATE SET multi_region = excluded.multi_region, body = excluded.body",
    )?
    .execute(params![
        trail.account,
        trail.home_region,
        trail.name,
        trail.is_multi_region_trail,
        body
    ])?;
    Ok(())
}

/// Fetches one trail by home region and name.
pub fn get(
    conn: &Connection,
    account: &str,
    home_region: &str,
    name: &str,
) -> StoreResult<Option<Trail>> {
    let body: Option<String> = conn
        .prepare_cached(
            "SELECT body FROM trails WHERE account = ?1 AND home_region = ?2 AND name = ?3",
        )?
        .query_row(params![account, home_region, name], |r| r.get(0))
        .optional()?;
    body.map(decode).transpose()
}

/// Deletes one trail.
pub fn delete(
    conn: &Connection,
    account: &str,
    home_region: &str,
    name: &str,
) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("DELETE FROM trails WHERE account = ?1 AND home_region = ?2 AND name = ?3")?
        .execute(params![account, home_region, name])?;
    Ok(n > 0)
}

/// Every trail of the account visible from `region`: homed there, or multi-region.
/// Ordered by home region then name.
pub fn visible_in(conn: &Connection, account: &str, region: &str) -> StoreResult<Vec<Trail>> {
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM trails WHERE account = ?1 AND (home_region = ?2 OR multi_region = 1)
         ORDER BY home_region, name",
    )?;
    let bodies = stmt
        .query_map(params![account, region], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    bodies.into_iter().map(decode).collect()
}

/// Every trail of one account, in every region.
pub fn of_account(conn: &Connection, account: &str) -> StoreResult<Vec<Trail>> {
    let mut stmt = conn
        .prepare_cached("SELECT body FROM trails WHERE account = ?1 ORDER BY home_region, name")?;
    let bodies = stmt
        .query_map([account], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    bodies.into_iter().map(decode).collect()
}

/// Every trail of every account (for the delivery worker).
pub fn all(conn: &Connection) -> StoreResult<Vec<Trail>> {
    let mut stmt =
        conn.prepare_cached("SELECT body FROM trails ORDER BY account, home_region, name")?;
    let bodies = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    bodies.into_iter().map(decode).collect()
}
