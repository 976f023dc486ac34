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

/// The account password policy (UpdateAccountPasswordPolicy), as IAM reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordPolicy {
    /// 6–128.
    pub minimum_password_length: i64,
    /// At least one symbol.
    pub require_symbols: bool,
    /// At least one digit.
    pub require_numbers: bool,
    /// At least one upper-case letter.
    pub require_uppercase_characters: bool,
    /// At least one lower-case letter.
    pub require_lowercase_characters: bool,
    /// Users may change their own passwords.
    pub allow_users_to_change_password: bool,
    /// Days a password is valid, 1–1095 (`None`: passwords never expire).
    pub max_password_age: Option<i64>,
    /// Earlier passwords that may not be reused, 1–24.
    pub password_reuse_prevention: Option<i64>,
    /// An expired password cannot be changed by its user.
    pub hard_expiry: Option<bool>,
}

fn password_policy_key(account: &str) -> String {
    format!("iam.password_policy.{account}")
}

/// The account's password policy, if one is set.
pub fn password_policy(conn: &Connection, account: &str) -> StoreResult<Option<PasswordPolicy>> {
    Ok(crate::meta::get(conn, &password_policy_key(account))?
        .and_then(|v| serde_json::from_str(&v).ok()))
}

/// Sets (`Some`) or deletes (`None`) the account's password policy.
pub fn set_password_policy(
    conn: &Connection,
    account: &str,
    policy: Option<&PasswordPolicy>,
) -> StoreResult<()> {
    let key = password_policy_key(account);
    match policy {
        Some(p) => crate::meta::put(
            conn,
            &key,
            &serde_json::to_string(p).expect("a password policy serializes"),
        ),
        None => crate::meta::delete(conn, &key),
    }
}
