//! Account-wide IAM state: the account's alias (CreateAccountAlias; at most one an account,
//! unique across accounts) and the counts GetAccountSummary reports.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// Version 26: the account aliases.
pub(crate) const SCHEMA_V26: &str = "
CREATE TABLE IF NOT EXISTS iam_account_aliases (
    account TEXT PRIMARY KEY,
    alias TEXT NOT NULL UNIQUE);
";

/// The account's alias, if it has one.
pub fn account_alias(conn: &Connection, account: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT alias FROM iam_account_aliases WHERE account = ?1")?
        .query_row([account], |r| r.get(0))
        .optional()?)
}

/// The account an alias belongs to, if any.
pub fn alias_owner(conn: &Connection, alias: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT account FROM iam_account_aliases WHERE alias = ?1")?
        .query_row([alias], |r| r.get(0))
        .optional()?)
}

/// Sets the account's alias, replacing the one it had.
pub fn set_account_alias(conn: &Connection, account: &str, alias: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO iam_account_aliases (account, alias) VALUES (?1, ?2)
         ON CONFLICT (account) DO UPDATE SET alias = excluded.alias",
    )?
    .execute(params![account, alias])?;
    Ok(())
}

/// Removes the account's alias.
pub fn delete_account_alias(conn: &Connection, account: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM iam_account_aliases WHERE account = ?1")?
        .execute([account])?;
    Ok(())
}

/// What GetAccountSummary counts of an account's IAM entities.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Users.
    pub users: i64,
    /// Groups.
    pub groups: i64,
    /// Roles.
    pub roles: i64,
    /// Customer managed policies.
    pub policies: i64,
    /// Managed policies attached to the account's users, groups and roles.
    pub attached: i64,
}

/// The account's counts.
pub fn counts(conn: &Connection, account: &str) -> StoreResult<Counts> {
    let one = |sql: &str| -> StoreResult<i64> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row([account], |r| r.get(0))?)
    };
    Ok(Counts {
        users: one("SELECT COUNT(*) FROM iam_users WHERE account = ?1")?,
        groups: one("SELECT COUNT(*) FROM iam_groups WHERE account = ?1")?,
        roles: one("SELECT COUNT(*) FROM iam_roles WHERE account = ?1")?,
        policies: one("SELECT COUNT(*) FROM iam_policies WHERE account = ?1")?,
        attached: one("SELECT COUNT(*) FROM iam_attachments WHERE owner_id IN (
                 SELECT user_id FROM iam_users WHERE account = ?1
                 UNION SELECT group_id FROM iam_groups WHERE account = ?1
                 UNION SELECT role_id FROM iam_roles WHERE account = ?1)")?,
    })
}
