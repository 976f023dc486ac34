//! CloudFormation's own records: stacks, their resources and events, change sets, exports
//! and the stacks that import them (schema version 12). Rows carry the keys queries need;
//! the rest of each record is a JSON body owned by `cairn_core::cloudformation`.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// Schema version 12.
pub(crate) const SCHEMA_V12: &str = "
CREATE TABLE cfn_stacks (
    stack_id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
    status TEXT NOT NULL, deleted INTEGER NOT NULL, created REAL NOT NULL, body TEXT NOT NULL);
CREATE INDEX cfn_stacks_by_name ON cfn_stacks (account, region, name, deleted);
CREATE TABLE cfn_resources (
    stack_id TEXT NOT NULL, logical_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (stack_id, logical_id));
CREATE TABLE cfn_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, stack_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX cfn_events_by_stack ON cfn_events (stack_id, seq);
CREATE TABLE cfn_change_sets (
    change_set_id TEXT PRIMARY KEY, stack_id TEXT NOT NULL, name TEXT NOT NULL,
    created REAL NOT NULL, body TEXT NOT NULL);
CREATE INDEX cfn_change_sets_by_stack ON cfn_change_sets (stack_id, name);
CREATE TABLE cfn_exports (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, stack_id TEXT NOT NULL,
    value TEXT NOT NULL, PRIMARY KEY (account, region, name));
CREATE TABLE cfn_imports (
    account TEXT NOT NULL, region TEXT NOT NULL, export_name TEXT NOT NULL,
    stack_id TEXT NOT NULL, PRIMARY KEY (account, region, export_name, stack_id));
";

/// A stack's row.
#[derive(Clone, Debug, PartialEq)]
pub struct StackRow {
    /// The stack ARN.
    pub stack_id: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Stack name.
    pub name: String,
    /// `StackStatus`.
    pub status: String,
    /// Whether the stack reached `DELETE_COMPLETE` (kept for ListStacks and by-id lookups).
    pub deleted: bool,
    /// Creation time, epoch seconds.
    pub created: f64,
    /// The rest of the stack.
    pub body: String,
}

fn stack_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StackRow> {
    Ok(StackRow {
        stack_id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        name: r.get(3)?,
        status: r.get(4)?,
        deleted: r.get(5)?,
        created: r.get(6)?,
        body: r.get(7)?,
    })
}

const STACK_COLUMNS: &str = "stack_id, account, region, name, status, deleted, created, body";

/// Inserts or replaces a stack.
pub fn put_stack(conn: &Connection, s: &StackRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO cfn_stacks (stack_id, account, region, name, status, deleted, created, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (stack_id) DO UPDATE SET status = excluded.status,
             deleted = excluded.deleted, body = excluded.body",
    )?
    .execute(params![
        s.stack_id, s.account, s.region, s.name, s.status, s.deleted, s.created, s.body
    ])?;
    Ok(())
}

/// A stack by id.
pub fn get_stack(conn: &Connection, stack_id: &str) -> StoreResult<Option<StackRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {STACK_COLUMNS} FROM cfn_stacks WHERE stack_id = ?1"
        ))?
        .query_row(params![stack_id], stack_row)
        .optional()?)
}

/// The live (not deleted) stack of a name.
pub fn live_stack(
    conn: &Connection,
    account: &str,
    region: &str,
    name: &str,
) -> StoreResult<Option<StackRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {STACK_COLUMNS} FROM cfn_stacks
             WHERE account = ?1 AND region = ?2 AND name = ?3 AND deleted = 0"
        ))?
        .query_row(params![account, region, name], stack_row)
        .optional()?)
}

/// How many live (not deleted) stacks an account has in a region.
pub fn live_stack_count(conn: &Connection, account: &str, region: &str) -> StoreResult<u64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM cfn_stacks WHERE account = ?1 AND region = ?2 AND deleted = 0",
        )?
        .query_row(params![account, region], |r| r.get::<_, i64>(0))?
        .max(0) as u64)
}

/// Every stack of an account and region, deleted ones included, newest first.
pub fn list_stacks(conn: &Connection, account: &str, region: &str) -> StoreResult<Vec<StackRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STACK_COLUMNS} FROM cfn_stacks WHERE account = ?1 AND region = ?2
         ORDER BY created DESC, stack_id"
    ))?;
    let rows = stmt.query_map(params![account, region], stack_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stacks whose status ends in `_IN_PROGRESS` (an operation that must go on after a restart).
pub fn stacks_in_progress(conn: &Connection) -> StoreResult<Vec<StackRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STACK_COLUMNS} FROM cfn_stacks
         WHERE deleted = 0 AND status LIKE '%\\_IN\\_PROGRESS' ESCAPE '\\'
         ORDER BY created"
    ))?;
    let rows = stmt.query_map([], stack_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Inserts or replaces a stack resource.
pub fn put_resource(
    conn: &Connection,
    stack_id: &str,
    logical_id: &str,
    body: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO cfn_resources (stack_id, logical_id, body) VALUES (?1, ?2, ?3)
         ON CONFLICT (stack_id, logical_id) DO UPDATE SET body = excluded.body",
    )?
    .execute(params![stack_id, logical_id, body])?;
    Ok(())
}

/// Removes a stack resource.
pub fn delete_resource(conn: &Connection, stack_id: &str, logical_id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM cfn_resources WHERE stack_id = ?1 AND logical_id = ?2")?
        .execute(params![stack_id, logical_id])?;
    Ok(())
}

/// A stack's resources: (logical id, body), by logical id.
pub fn resources(conn: &Connection, stack_id: &str) -> StoreResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT logical_id, body FROM cfn_resources WHERE stack_id = ?1 ORDER BY logical_id",
    )?;
    let rows = stmt.query_map(params![stack_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Appends a stack event; returns its sequence number.
pub fn append_event(conn: &Connection, stack_id: &str, body: &str) -> StoreResult<i64> {
    conn.prepare_cached("INSERT INTO cfn_events (stack_id, body) VALUES (?1, ?2)")?
        .execute(params![stack_id, body])?;
    Ok(conn.last_insert_rowid())
}

/// A stack's events, newest first, before `before` (a sequence number), at most `limit`.
pub fn events(
    conn: &Connection,
    stack_id: &str,
    before: Option<i64>,
    limit: usize,
) -> StoreResult<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, body FROM cfn_events WHERE stack_id = ?1 AND seq < ?2
         ORDER BY seq DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![stack_id, before.unwrap_or(i64::MAX), limit as i64],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A change set's row.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeSetRow {
    /// The change set ARN.
    pub change_set_id: String,
    /// Its stack's ARN.
    pub stack_id: String,
    /// Its name.
    pub name: String,
    /// Creation time.
    pub created: f64,
    /// The rest.
    pub body: String,
}

fn change_set_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChangeSetRow> {
    Ok(ChangeSetRow {
        change_set_id: r.get(0)?,
        stack_id: r.get(1)?,
        name: r.get(2)?,
        created: r.get(3)?,
        body: r.get(4)?,
    })
}

/// Inserts or replaces a change set.
pub fn put_change_set(conn: &Connection, c: &ChangeSetRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO cfn_change_sets (change_set_id, stack_id, name, created, body)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (change_set_id) DO UPDATE SET body = excluded.body",
    )?
    .execute(params![
        c.change_set_id,
        c.stack_id,
        c.name,
        c.created,
        c.body
    ])?;
    Ok(())
}

/// A change set by id.
pub fn get_change_set(conn: &Connection, id: &str) -> StoreResult<Option<ChangeSetRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT change_set_id, stack_id, name, created, body FROM cfn_change_sets WHERE change_set_id = ?1",
        )?
        .query_row(params![id], change_set_row)
        .optional()?)
}

/// A stack's change sets, oldest first.
pub fn change_sets(conn: &Connection, stack_id: &str) -> StoreResult<Vec<ChangeSetRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT change_set_id, stack_id, name, created, body FROM cfn_change_sets
         WHERE stack_id = ?1 ORDER BY created, change_set_id",
    )?;
    let rows = stmt.query_map(params![stack_id], change_set_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Removes a change set.
pub fn delete_change_set(conn: &Connection, id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM cfn_change_sets WHERE change_set_id = ?1")?
        .execute(params![id])?;
    Ok(())
}

/// Replaces a stack's exports.
pub fn set_exports(
    conn: &Connection,
    account: &str,
    region: &str,
    stack_id: &str,
    exports: &[(String, String)],
) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM cfn_exports WHERE stack_id = ?1")?
        .execute(params![stack_id])?;
    for (name, value) in exports {
        conn.prepare_cached(
            "INSERT INTO cfn_exports (account, region, name, stack_id, value) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![account, region, name, stack_id, value])?;
    }
    Ok(())
}

/// Every export of an account and region: (name, stack id, value), by name.
pub fn exports(
    conn: &Connection,
    account: &str,
    region: &str,
) -> StoreResult<Vec<(String, String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, stack_id, value FROM cfn_exports WHERE account = ?1 AND region = ?2 ORDER BY name",
    )?;
    let rows = stmt.query_map(params![account, region], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replaces the exports a stack imports.
pub fn set_imports(
    conn: &Connection,
    account: &str,
    region: &str,
    stack_id: &str,
    names: &[String],
) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM cfn_imports WHERE stack_id = ?1")?
        .execute(params![stack_id])?;
    for name in names {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO cfn_imports (account, region, export_name, stack_id) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![account, region, name, stack_id])?;
    }
    Ok(())
}

/// The stacks importing an export.
pub fn importers(
    conn: &Connection,
    account: &str,
    region: &str,
    export_name: &str,
) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT stack_id FROM cfn_imports WHERE account = ?1 AND region = ?2 AND export_name = ?3 ORDER BY stack_id",
    )?;
    let rows = stmt.query_map(params![account, region, export_name], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_resources_events_exports() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA_V12).unwrap();
        let mut s = StackRow {
            stack_id: "arn:s/1".into(),
            account: "1".into(),
            region: "us-east-1".into(),
            name: "s".into(),
            status: "CREATE_IN_PROGRESS".into(),
            deleted: false,
            created: 1.0,
            body: "{}".into(),
        };
        put_stack(&conn, &s).unwrap();
        assert_eq!(stacks_in_progress(&conn).unwrap().len(), 1);
        s.status = "CREATE_COMPLETE".into();
        put_stack(&conn, &s).unwrap();
        assert!(stacks_in_progress(&conn).unwrap().is_empty());
        assert_eq!(
            live_stack(&conn, "1", "us-east-1", "s")
                .unwrap()
                .unwrap()
                .status,
            "CREATE_COMPLETE"
        );
        put_resource(&conn, "arn:s/1", "B", "{}").unwrap();
        assert_eq!(resources(&conn, "arn:s/1").unwrap().len(), 1);
        let a = append_event(&conn, "arn:s/1", "a").unwrap();
        append_event(&conn, "arn:s/1", "b").unwrap();
        let evs = events(&conn, "arn:s/1", None, 10).unwrap();
        assert_eq!(evs[0].1, "b");
        assert_eq!(events(&conn, "arn:s/1", Some(a + 1), 10).unwrap().len(), 1);
        set_exports(
            &conn,
            "1",
            "us-east-1",
            "arn:s/1",
            &[("e".into(), "v".into())],
        )
        .unwrap();
        assert_eq!(exports(&conn, "1", "us-east-1").unwrap().len(), 1);
        set_imports(&conn, "1", "us-east-1", "arn:s/2", &["e".into()]).unwrap();
        assert_eq!(
            importers(&conn, "1", "us-east-1", "e").unwrap(),
            vec!["arn:s/2".to_owned()]
        );
    }
}
