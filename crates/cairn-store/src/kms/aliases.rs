//! KMS aliases: per account and region, each naming one key.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreResult;

/// An alias.
#[derive(Clone, Debug, PartialEq)]
pub struct Alias {
    /// Owner.
    pub account: String,
    /// Region.
    pub region: String,
    /// `alias/<name>`.
    pub name: String,
    /// The key it names.
    pub target_key_id: String,
    /// Creation time.
    pub created: f64,
    /// Last retarget time.
    pub updated: f64,
}

fn alias_row(r: &Row<'_>) -> rusqlite::Result<Alias> {
    Ok(Alias {
        account: r.get(0)?,
        region: r.get(1)?,
        name: r.get(2)?,
        target_key_id: r.get(3)?,
        created: r.get(4)?,
        updated: r.get(5)?,
    })
}

const COLUMNS: &str = "account, region, name, target_key_id, created, updated";

/// Inserts an alias; `false` when the name is taken.
pub fn insert_alias(conn: &Connection, a: &Alias) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(&format!(
            "INSERT OR IGNORE INTO kms_aliases ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ))?
        .execute(params![
            a.account,
            a.region,
            a.name,
            a.target_key_id,
            a.created,
            a.updated
        ])?;
    Ok(n == 1)
}

/// An alias by name.
pub fn get_alias(
    conn: &Connection,
    account: &str,
    region: &str,
    name: &str,
) -> StoreResult<Option<Alias>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM kms_aliases WHERE account = ?1 AND region = ?2 AND name = ?3"
        ))?
        .query_row(params![account, region, name], alias_row)
        .optional()?)
}

/// Points an alias at another key.
pub fn update_alias(
    conn: &Connection,
    account: &str,
    region: &str,
    name: &str,
    target_key_id: &str,
    updated: f64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE kms_aliases SET target_key_id = ?4, updated = ?5 \
         WHERE account = ?1 AND region = ?2 AND name = ?3",
    )?
    .execute(params![account, region, name, target_key_id, updated])?;
    Ok(())
}

/// Deletes an alias.
pub fn delete_alias(conn: &Connection, account: &str, region: &str, name: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "DELETE FROM kms_aliases WHERE account = ?1 AND region = ?2 AND name = ?3",
    )?
    .execute(params![account, region, name])?;
    Ok(())
}

/// Aliases of an account and region (optionally of one key) after `after` (a name), by name.
pub fn list_aliases(
    conn: &Connection,
    account: &str,
    region: &str,
    key_id: Option<&str>,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<Alias>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM kms_aliases WHERE account = ?1 AND region = ?2 \
         AND (?3 IS NULL OR target_key_id = ?3) AND name > ?4 ORDER BY name LIMIT ?5"
    ))?;
    let rows = stmt.query_map(
        params![account, region, key_id, after, limit as i64],
        alias_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// How many aliases name a key.
pub fn count_aliases_for_key(conn: &Connection, key_id: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM kms_aliases WHERE target_key_id = ?1")?
        .query_row([key_id], |r| r.get(0))?)
}
