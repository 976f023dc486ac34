//! Key identifiers (spec §7.3): key id, key ARN, alias name, alias ARN. Administrative
//! operations take only the first two; cryptographic operations and DescribeKey take all four.
//! ARNs naming another account or region are not found (Cairn serves one account).

use cairn_store::Connection;

use super::{Key, Scope, err};
use crate::error::{ApiResult, ErrorKind};

/// A parsed identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyRef {
    /// A bare key id.
    KeyId(String),
    /// A key ARN.
    KeyArn {
        /// Region field.
        region: String,
        /// Account field.
        account: String,
        /// Key id.
        key_id: String,
    },
    /// `alias/<name>`.
    AliasName(String),
    /// An alias ARN.
    AliasArn {
        /// Region field.
        region: String,
        /// Account field.
        account: String,
        /// `alias/<name>`.
        name: String,
    },
}

impl KeyRef {
    /// Whether the identifier names an alias.
    pub fn is_alias(&self) -> bool {
        matches!(self, Self::AliasName(_) | Self::AliasArn { .. })
    }
}

/// `arn:aws:kms:<region>:<account>:key/<id>`.
pub fn key_arn(scope: &Scope, key_id: &str) -> String {
    format!(
        "arn:aws:kms:{}:{}:key/{key_id}",
        scope.region, scope.account
    )
}

/// `arn:aws:kms:<region>:<account>:alias/<name>` (`name` includes `alias/`).
pub fn alias_arn(scope: &Scope, name: &str) -> String {
    format!("arn:aws:kms:{}:{}:{name}", scope.region, scope.account)
}

/// Whether `s` has the shape of a key id: a UUID, or `mrk-` and 32 hex digits.
pub fn is_key_id(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix("mrk-") {
        return rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit());
    }
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn invalid(value: &str) -> crate::ApiError {
    let shown: String = value.chars().take(2048).collect();
    err(ErrorKind::KmsNotFound, format!("Invalid keyId {shown}"))
}

/// Parses an identifier; anything that is none of the four forms is `NotFoundException`
/// "Invalid keyId <value>".
pub fn parse(value: &str) -> ApiResult<KeyRef> {
    if let Some(rest) = value.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts[..] else {
            return Err(invalid(value));
        };
        if !cairn_policy::is_partition(partition) || service != "kms" || region.is_empty() {
            return Err(invalid(value));
        }
        if let Some(id) = resource.strip_prefix("key/") {
            return Ok(KeyRef::KeyArn {
                region: region.to_owned(),
                account: account.to_owned(),
                key_id: id.to_owned(),
            });
        }
        if resource.starts_with("alias/") && resource.len() > "alias/".len() {
            return Ok(KeyRef::AliasArn {
                region: region.to_owned(),
                account: account.to_owned(),
                name: resource.to_owned(),
            });
        }
        return Err(invalid(value));
    }
    if value.starts_with("alias/") && value.len() > "alias/".len() {
        return Ok(KeyRef::AliasName(value.to_owned()));
    }
    if is_key_id(value) {
        return Ok(KeyRef::KeyId(value.to_owned()));
    }
    Err(invalid(value))
}

/// A key an identifier resolved to, and the alias it was named by (for `kms:RequestAlias`).
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The key.
    pub key: Key,
    /// `alias/<name>` when the request named an alias.
    pub alias: Option<String>,
}

fn key_not_found(arn: &str) -> crate::ApiError {
    err(
        ErrorKind::KmsNotFound,
        format!("Key '{arn}' does not exist"),
    )
}

/// The key with id `key_id` in `scope`.
pub fn key_in_scope(conn: &Connection, scope: &Scope, key_id: &str) -> ApiResult<Key> {
    match cairn_store::kms::get_key(conn, key_id)? {
        Some(k) if k.account == scope.account && k.region == scope.region => Ok(k),
        _ => Err(key_not_found(&key_arn(scope, key_id))),
    }
}

/// Resolves an identifier in `scope`. With `aliases` false (administrative operations), an
/// alias is refused like any malformed identifier.
pub fn resolve(conn: &Connection, scope: &Scope, value: &str, aliases: bool) -> ApiResult<Target> {
    let parsed = parse(value)?;
    if parsed.is_alias() && !aliases {
        return Err(invalid(value));
    }
    // Cairn's keys and aliases are all in the `aws` partition: an ARN of another partition
    // (`aws-cn`, `aws-us-gov`) names a key or alias that is not here, as one of another
    // region or account does (kms3: such ARNs resolved to the `aws` key).
    let foreign = value
        .strip_prefix("arn:")
        .is_some_and(|rest| !rest.starts_with("aws:"));
    match parsed {
        KeyRef::KeyId(id) => Ok(Target {
            key: key_in_scope(conn, scope, &id)?,
            alias: None,
        }),
        KeyRef::KeyArn {
            region,
            account,
            key_id,
        } => {
            if foreign || region != scope.region || account != scope.account {
                return Err(key_not_found(value));
            }
            Ok(Target {
                key: key_in_scope(conn, scope, &key_id)?,
                alias: None,
            })
        }
        KeyRef::AliasName(name) => resolve_alias(conn, scope, &name),
        KeyRef::AliasArn {
            region,
            account,
            name,
        } => {
            if foreign || region != scope.region || account != scope.account {
                return Err(err(
                    ErrorKind::KmsNotFound,
                    format!("Alias {value} is not found."),
                ));
            }
            resolve_alias(conn, scope, &name)
        }
    }
}

fn resolve_alias(conn: &Connection, scope: &Scope, name: &str) -> ApiResult<Target> {
    let not_found = || {
        err(
            ErrorKind::KmsNotFound,
            format!("Alias {} is not found.", alias_arn(scope, name)),
        )
    };
    let alias = cairn_store::kms::get_alias(conn, &scope.account, &scope.region, name)?
        .ok_or_else(not_found)?;
    let key = key_in_scope(conn, scope, &alias.target_key_id).map_err(|_| not_found())?;
    Ok(Target {
        key,
        alias: Some(name.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_forms_parse_and_others_are_invalid() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(parse(id).unwrap(), KeyRef::KeyId(id.into()));
        assert!(matches!(
            parse(&format!("arn:aws:kms:us-east-1:111122223333:key/{id}")).unwrap(),
            KeyRef::KeyArn { .. }
        ));
        assert_eq!(
            parse("alias/x").unwrap(),
            KeyRef::AliasName("alias/x".into())
        );
        assert!(matches!(
            parse("arn:aws:kms:us-east-1:111122223333:alias/x").unwrap(),
            KeyRef::AliasArn { .. }
        ));
        assert!(parse("mrk-1234abcd12ab34cd56ef1234567890ab").is_ok());
        for bad in [
            "nope",
            "alias/",
            "arn:aws:s3:::b",
            "1234",
            "arn:aws:kms:r:a:other/x",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::KmsNotFound);
            assert_eq!(e.message, format!("Invalid keyId {bad}"));
        }
    }
}
