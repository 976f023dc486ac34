//! The account's alias (Create/Delete/ListAccountAliases) and GetAccountSummary, with IAM's
//! rules: one alias an account, unique across accounts, 3–63 lower-case letters, digits and
//! single hyphens, neither first nor last.

use cairn_store::Connection;
use cairn_store::iam::account as store;

use super::{err, validate};
use crate::CallContext;
use crate::error::{ApiResult, ErrorKind};

/// The model's pattern for `AccountAlias`, as IAM names it in its error.
const PATTERN: &str = "^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$";

fn check(alias: &str) -> ApiResult<()> {
    validate::length(alias, "accountAlias", 3, 63)?;
    let bytes = alias.as_bytes();
    let ok = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
        && !alias.contains("--");
    if !ok {
        return Err(validate::violation(
            alias,
            "accountAlias",
            &format!("Member must satisfy regular expression pattern: {PATTERN}"),
        ));
    }
    Ok(())
}

/// CreateAccountAlias: sets the account's alias (replacing its old one). Another account's
/// alias is `EntityAlreadyExists`.
pub fn create(conn: &Connection, ctx: &CallContext, alias: &str) -> ApiResult<()> {
    check(alias)?;
    let account = ctx.account().as_str();
    match store::alias_owner(conn, alias)? {
        Some(owner) if owner != account => Err(err(
            ErrorKind::EntityAlreadyExists,
            format!("The account alias {alias} already exists."),
        )),
        Some(_) => Ok(()),
        None => Ok(store::set_account_alias(conn, account, alias)?),
    }
}

/// DeleteAccountAlias: only the account's own alias (`NoSuchEntity` otherwise).
pub fn delete(conn: &Connection, ctx: &CallContext, alias: &str) -> ApiResult<()> {
    check(alias)?;
    let account = ctx.account().as_str();
    if store::account_alias(conn, account)?.as_deref() != Some(alias) {
        return Err(err(
            ErrorKind::NoSuchEntity,
            format!("The account alias {alias} cannot be found."),
        ));
    }
    Ok(store::delete_account_alias(conn, account)?)
}

/// ListAccountAliases: the account's alias, if any.
pub fn list(conn: &Connection, ctx: &CallContext) -> ApiResult<Vec<String>> {
    Ok(store::account_alias(conn, ctx.account().as_str())?
        .into_iter()
        .collect())
}

/// GetAccountSummary's `SummaryMap`: the account's counts and IAM's quotas, in AWS's order.
pub fn summary(conn: &Connection, ctx: &CallContext) -> ApiResult<Vec<(&'static str, i64)>> {
    let c = store::counts(conn, ctx.account().as_str())?;
    Ok(vec![
        ("GroupPolicySizeQuota", 5120),
        ("InstanceProfilesQuota", 1000),
        ("Policies", c.policies),
        ("GroupsPerUserQuota", 10),
        ("InstanceProfiles", 0),
        ("AttachedPoliciesPerUserQuota", 10),
        ("Users", c.users),
        ("PoliciesQuota", super::managed::POLICIES_PER_ACCOUNT),
        ("Providers", 0),
        ("AccountMFAEnabled", 0),
        ("AccessKeysPerUserQuota", 2),
        ("AssumeRolePolicySizeQuota", 2048),
        ("PolicyVersionsInUseQuota", 10000),
        ("GlobalEndpointTokenVersion", 1),
        ("VersionsPerPolicyQuota", 5),
        ("AttachedPoliciesPerGroupQuota", 10),
        ("PolicySizeQuota", 6144),
        ("Groups", c.groups),
        ("AccountSigningCertificatesPresent", 0),
        ("UsersQuota", super::users::USERS_PER_ACCOUNT),
        ("ServerCertificatesQuota", 20),
        ("MFADevices", 0),
        ("UserPolicySizeQuota", 2048),
        ("PolicyVersionsInUse", c.attached),
        ("ServerCertificates", 0),
        ("Roles", c.roles),
        ("RolesQuota", super::roles::ROLES_PER_ACCOUNT),
        ("SigningCertificatesPerUserQuota", 2),
        ("MFADevicesInUse", 0),
        ("RolePolicySizeQuota", 10240),
        ("AttachedPoliciesPerRoleQuota", 10),
        // The root user's keys: Cairn's root always has them.
        ("AccountAccessKeysPresent", 1),
        ("GroupsQuota", super::groups::GROUPS_PER_ACCOUNT),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_rules() {
        for ok in ["abc", "my-company-prod", "a1b", &"a".repeat(63)] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "-abc", "abc-", "a--b", "ABC", "a_b", &"a".repeat(64)] {
            assert_eq!(
                check(bad).unwrap_err().kind,
                ErrorKind::IamValidation,
                "{bad}"
            );
        }
    }
}

/// UpdateAccountPasswordPolicy's parameters; each left out takes IAM's default (length 6,
/// no requirement, no expiry, no reuse prevention).
#[derive(Clone, Debug, Default)]
pub struct PasswordPolicyInput {
    /// `MinimumPasswordLength`, 6–128.
    pub minimum_password_length: Option<i64>,
    /// `RequireSymbols`.
    pub require_symbols: Option<bool>,
    /// `RequireNumbers`.
    pub require_numbers: Option<bool>,
    /// `RequireUppercaseCharacters`.
    pub require_uppercase_characters: Option<bool>,
    /// `RequireLowercaseCharacters`.
    pub require_lowercase_characters: Option<bool>,
    /// `AllowUsersToChangePassword`.
    pub allow_users_to_change_password: Option<bool>,
    /// `MaxPasswordAge`, 1–1095.
    pub max_password_age: Option<i64>,
    /// `PasswordReusePrevention`, 1–24.
    pub password_reuse_prevention: Option<i64>,
    /// `HardExpiry`.
    pub hard_expiry: Option<bool>,
}

fn in_range(value: Option<i64>, member: &str, min: i64, max: i64) -> ApiResult<()> {
    match value {
        Some(v) if v < min => Err(err(
            ErrorKind::IamValidation,
            format!(
                "1 validation error detected: Value '{v}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
            ),
        )),
        Some(v) if v > max => Err(err(
            ErrorKind::IamValidation,
            format!(
                "1 validation error detected: Value '{v}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to {max}"
            ),
        )),
        _ => Ok(()),
    }
}

/// UpdateAccountPasswordPolicy: replaces the whole policy (a parameter left out is reset to
/// its default, as IAM documents). Cairn keeps no passwords, so the policy is reported, not
/// enforced.
pub fn update_password_policy(
    conn: &Connection,
    ctx: &CallContext,
    input: &PasswordPolicyInput,
) -> ApiResult<()> {
    in_range(
        input.minimum_password_length,
        "minimumPasswordLength",
        6,
        128,
    )?;
    in_range(input.max_password_age, "maxPasswordAge", 1, 1095)?;
    in_range(
        input.password_reuse_prevention,
        "passwordReusePrevention",
        1,
        24,
    )?;
    let policy = store::PasswordPolicy {
        minimum_password_length: input.minimum_password_length.unwrap_or(6),
        require_symbols: input.require_symbols.unwrap_or(false),
        require_numbers: input.require_numbers.unwrap_or(false),
        require_uppercase_characters: input.require_uppercase_characters.unwrap_or(false),
        require_lowercase_characters: input.require_lowercase_characters.unwrap_or(false),
        allow_users_to_change_password: input.allow_users_to_change_password.unwrap_or(false),
        max_password_age: input.max_password_age,
        password_reuse_prevention: input.password_reuse_prevention,
        hard_expiry: input.hard_expiry,
    };
    store::set_password_policy(conn, ctx.account().as_str(), Some(&policy))?;
    Ok(())
}

fn no_policy(ctx: &CallContext) -> crate::ApiError {
    err(
        ErrorKind::NoSuchEntity,
        format!(
            "The Password Policy with domain name {} cannot be found.",
            ctx.account()
        ),
    )
}

/// GetAccountPasswordPolicy.
pub fn password_policy(conn: &Connection, ctx: &CallContext) -> ApiResult<store::PasswordPolicy> {
    store::password_policy(conn, ctx.account().as_str())?.ok_or_else(|| no_policy(ctx))
}

/// DeleteAccountPasswordPolicy.
pub fn delete_password_policy(conn: &Connection, ctx: &CallContext) -> ApiResult<()> {
    let account = ctx.account().as_str();
    if store::password_policy(conn, account)?.is_none() {
        return Err(err(
            ErrorKind::NoSuchEntity,
            "The account policy with name PasswordPolicy cannot be found.",
        ));
    }
    store::set_password_policy(conn, account, None)?;
    Ok(())
}
