//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases, and the AWS managed keys
//! other services create on first use (`alias/aws/<service>`, [`aws_managed_key`]). KMS
//! predefines some `alias/aws/<service>` names in every account and Region
//! (`data/predefined-aliases.txt`): ListAliases lists them without a key until one exists,
//! and DescribeKey of one creates its key ([`resolve_creating_managed`]).
//!
//! Names are `alias/` followed by `[a-zA-Z0-9/_-]`, at most 256 characters in all; the
//! `alias/aws/` prefix is reserved for AWS managed keys.

use cairn_store::Connection;
use cairn_store::kms::Alias;

use super::authz::{Actor, KeyPermission};
use super::ids::{KeyRef, Target};
use super::keys::NewKey;
use super::paging::{self, Page};
use super::{AWS_MANAGED, Key, MasterKey, Scope, check_len, constraint, err, ids, not_pending};
use crate::authz::Permission;
use crate::context::CallContext;
use crate::error::{ApiResult, ErrorKind};

/// Most aliases one key may have.
pub const MAX_ALIASES_PER_KEY: i64 = 50;
/// The reserved prefix.
pub const RESERVED_PREFIX: &str = "alias/aws/";

/// The services whose `alias/aws/<service>` KMS predefines (see `data/README.md`).
const PREDEFINED: &str = include_str!("data/predefined-aliases.txt");

/// The service of a predefined alias name (`alias/aws/s3` gives `s3`), if it is one.
pub fn predefined_service(name: &str) -> Option<&'static str> {
    let service = name.strip_prefix(RESERVED_PREFIX)?;
    PREDEFINED
        .lines()
        .map(str::trim)
        .find(|s| !s.is_empty() && *s == service)
}

/// The predefined alias a key identifier names (an alias name, or an alias ARN of any
/// account and Region), if it does: such a DescribeKey may create a key, so it runs on the
/// writer.
pub fn names_predefined(id: &str) -> bool {
    match ids::parse(id) {
        Ok(KeyRef::AliasName(name) | KeyRef::AliasArn { name, .. }) => {
            predefined_service(&name).is_some()
        }
        _ => false,
    }
}

/// Resolves a key identifier as DescribeKey does: a predefined alias of the caller's account
/// and Region that has no key yet gets its AWS managed key first, as KMS creates it for the
/// services that call DescribeKey on it. Run on the writer.
pub fn resolve_creating_managed(
    conn: &Connection,
    master: &MasterKey,
    ctx: &CallContext,
    id: &str,
) -> ApiResult<Target> {
    let scope = Scope::of(ctx);
    match ids::resolve(conn, &scope, id, true) {
        Err(e) if e.kind == ErrorKind::KmsNotFound => {
            let service = match ids::parse(id) {
                Ok(KeyRef::AliasName(name)) => predefined_service(&name),
                Ok(KeyRef::AliasArn {
                    region,
                    account,
                    name,
                }) if region == scope.region && account == scope.account => {
                    predefined_service(&name)
                }
                _ => None,
            };
            let Some(service) = service else {
                return Err(e);
            };
            aws_managed_key(conn, master, ctx, service)?;
            ids::resolve(conn, &scope, id, true)
        }
        other => other,
    }
}

/// Checks an alias name: model length and pattern, the `alias/` prefix, the characters of
/// the name. With `reserved_ok` false, `alias/aws/` names are refused too.
pub fn validate_name(name: &str, reserved_ok: bool) -> ApiResult<()> {
    check_len("aliasName", name, 1, 256)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ":/_-".contains(c))
    {
        return Err(constraint(
            "aliasName",
            name,
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
        ));
    }
    let Some(rest) = name.strip_prefix("alias/") else {
        // KMS's own words (as KMS emulators that copy its messages have them).
        return Err(err(
            ErrorKind::Validation,
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        ));
    };
    if rest.is_empty() {
        return Err(err(
            ErrorKind::KmsInvalidAliasName,
            format!("Alias name {name} must begin with alias/ followed by a name."),
        ));
    }
    if rest.contains(':') {
        return Err(err(
            ErrorKind::KmsInvalidAliasName,
            format!(
                "Alias name {name} may contain only alphanumeric characters, forward slashes (/), underscores (_) and dashes (-) after alias/."
            ),
        ));
    }
    if !reserved_ok && name.starts_with(RESERVED_PREFIX) {
        // KMS answers `NotAuthorizedException` here (as its emulators observed it).
        return Err(err(
            ErrorKind::KmsNotAuthorized,
            format!(
                "Alias name {name} must not begin with alias/aws/: that prefix is reserved for AWS managed keys."
            ),
        ));
    }
    Ok(())
}

/// The permission on the alias itself that CreateAlias, UpdateAlias and DeleteAlias need
/// besides the one on the key (aliases have no resource policy: identity policies decide).
pub fn alias_permission(actor: &Actor<'_>, action: &str, name: &str) -> KeyPermission {
    let scope = actor.scope();
    let mut p = Permission::new(action, ids::alias_arn(&scope, name));
    if let Some(acct) = actor.caller_account() {
        p = p.with("kms:CallerAccount", acct);
    }
    KeyPermission::policy_only(p)
}

/// An alias by name (`NotFoundException` "Alias <ARN> is not found.").
pub fn get(conn: &Connection, scope: &Scope, name: &str) -> ApiResult<Alias> {
    cairn_store::kms::get_alias(conn, &scope.account, &scope.region, name)?.ok_or_else(|| {
        err(
            ErrorKind::KmsNotFound,
            format!("Alias {} is not found.", ids::alias_arn(scope, name)),
        )
    })
}

/// Refuses one more alias for `key` when it has [`MAX_ALIASES_PER_KEY`] already.
fn room_for_alias(conn: &Connection, key: &Key) -> ApiResult<()> {
    if cairn_store::kms::count_aliases_for_key(conn, &key.key_id)? >= MAX_ALIASES_PER_KEY {
        return Err(err(
            ErrorKind::KmsLimitExceeded,
            format!("{} already has {MAX_ALIASES_PER_KEY} aliases.", key.arn),
        ));
    }
    Ok(())
}

/// CreateAlias (after authorization).
pub fn create(conn: &Connection, scope: &Scope, name: &str, key: &Key, now: f64) -> ApiResult<()> {
    validate_name(name, false)?;
    not_pending(key)?;
    room_for_alias(conn, key)?;
    let inserted = cairn_store::kms::insert_alias(
        conn,
        &Alias {
            account: scope.account.clone(),
            region: scope.region.clone(),
            name: name.to_owned(),
            target_key_id: key.key_id.clone(),
            created: now,
            updated: now,
        },
    )?;
    if !inserted {
        return Err(err(
            ErrorKind::KmsAlreadyExists,
            format!(
                "An alias with the name {} already exists",
                ids::alias_arn(scope, name)
            ),
        ));
    }
    Ok(())
}

/// UpdateAlias: points an existing alias at another key.
pub fn update(conn: &Connection, scope: &Scope, name: &str, key: &Key, now: f64) -> ApiResult<()> {
    validate_name(name, false)?;
    let current = get(conn, scope, name)?;
    not_pending(key)?;
    // The per-key limit holds for UpdateAlias too (its LimitExceededException), unless the
    // alias already points at this key.
    if current.target_key_id != key.key_id {
        room_for_alias(conn, key)?;
    }
    cairn_store::kms::update_alias(conn, &scope.account, &scope.region, name, &key.key_id, now)?;
    Ok(())
}

/// DeleteAlias.
pub fn delete(conn: &Connection, scope: &Scope, name: &str) -> ApiResult<()> {
    validate_name(name, false)?;
    get(conn, scope, name)?;
    cairn_store::kms::delete_alias(conn, &scope.account, &scope.region, name)?;
    Ok(())
}

/// ListAliases: one page, by name; of one key when `key` is given. Without a key, the
/// predefined aliases that have no key yet are listed among them, with an empty
/// `target_key_id`.
pub fn list(
    conn: &Connection,
    scope: &Scope,
    key: Option<&Key>,
    marker: Option<&str>,
    limit: usize,
) -> ApiResult<Page<Alias>> {
    let markers = paging::Markers::new(
        conn,
        "ListAliases",
        &[
            &scope.account,
            &scope.region,
            key.map(|k| k.key_id.as_str()).unwrap_or_default(),
        ],
    )?;
    let after = markers.decode(marker)?;
    let mut items = cairn_store::kms::list_aliases(
        conn,
        &scope.account,
        &scope.region,
        key.map(|k| k.key_id.as_str()),
        &after,
        limit + 1,
    )?;
    if key.is_none() {
        // Predefined aliases without a key yet are listed too, with no target.
        for service in PREDEFINED.lines().map(str::trim).filter(|s| !s.is_empty()) {
            let name = format!("{RESERVED_PREFIX}{service}");
            if name > after
                && cairn_store::kms::get_alias(conn, &scope.account, &scope.region, &name)?
                    .is_none()
            {
                items.push(Alias {
                    account: scope.account.clone(),
                    region: scope.region.clone(),
                    name,
                    target_key_id: String::new(),
                    created: 0.0,
                    updated: 0.0,
                });
            }
        }
        items.sort_by(|a, b| a.name.cmp(&b.name));
        items.truncate(limit + 1);
    }
    Ok(markers.page(items, limit, |a| a.name.clone()))
}

/// The AWS managed key of `service` (e.g. `s3`) in the caller's account and region:
/// `alias/aws/<service>`, created on first use with the AWS managed key policy (usable by
/// account principals only through that service) and yearly rotation. Run on the writer.
pub fn aws_managed_key(
    conn: &Connection,
    master: &MasterKey,
    ctx: &CallContext,
    service: &str,
) -> ApiResult<Key> {
    aws_managed_key_in(conn, master, &Scope::of(ctx), ctx.now, service)
}

/// The id of the AWS managed key of `service` in `scope`, fixed before the key exists: a
/// DescribeKey refused before the key is made names (and is recorded against) the key later
/// calls find, not one rolled back with the refusal (kms3), and the key is still made only
/// by a call allowed to (a refused one changes nothing).
fn managed_key_id(scope: &Scope, service: &str) -> String {
    crate::insights::records::uuid_v5(&format!(
        "aws-managed-key\n{}\n{}\n{service}",
        scope.account, scope.region
    ))
}

/// [`aws_managed_key`] in `scope`, as of `now` (epoch seconds): for a service that creates
/// its key on its own behalf (SNS for a topic naming `alias/aws/sns`).
pub fn aws_managed_key_in(
    conn: &Connection,
    master: &MasterKey,
    scope: &Scope,
    now: f64,
    service: &str,
) -> ApiResult<Key> {
    let scope = scope.clone();
    let name = format!("{RESERVED_PREFIX}{service}");
    validate_name(&name, true)?;
    if let Some(a) = cairn_store::kms::get_alias(conn, &scope.account, &scope.region, &name)? {
        return ids::key_in_scope(conn, &scope, &a.target_key_id);
    }
    let title = if service == "s3" {
        "S3".to_owned()
    } else {
        service.to_ascii_uppercase()
    };
    let key = super::keys::insert_new(
        conn,
        master,
        &scope,
        now,
        NewKey {
            description: &format!(
                "Default KMS key that protects my {title} objects when no other key is defined"
            ),
            policy: super::policy::aws_managed_policy(&scope.account, &scope.region, service),
            key_manager: AWS_MANAGED,
            multi_region: false,
            key_id: Some(managed_key_id(&scope, service)),
        },
    )?;
    let next = now + 365.0 * 86_400.0;
    cairn_store::kms::set_rotation(conn, &key.key_id, true, Some(365), Some(next))?;
    cairn_store::kms::insert_alias(
        conn,
        &Alias {
            account: scope.account.clone(),
            region: scope.region.clone(),
            name,
            target_key_id: key.key_id.clone(),
            created: now,
            updated: now,
        },
    )?;
    ids::key_in_scope(conn, &scope, &key.key_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_name_rules() {
        assert!(validate_name("alias/my-key_1/x", false).is_ok());
        assert_eq!(
            validate_name("my-key", false).unwrap_err().kind,
            ErrorKind::Validation
        );
        assert_eq!(
            validate_name("alias/", false).unwrap_err().kind,
            ErrorKind::KmsInvalidAliasName
        );
        assert_eq!(
            validate_name("alias/aws/s3", false).unwrap_err().kind,
            ErrorKind::KmsNotAuthorized
        );
        assert!(validate_name("alias/aws/s3", true).is_ok());
        assert_eq!(
            validate_name("alias/a b", false).unwrap_err().kind,
            ErrorKind::Validation
        );
        assert_eq!(
            validate_name(&format!("alias/{}", "a".repeat(251)), false)
                .unwrap_err()
                .kind,
            ErrorKind::Validation
        );
    }
}
