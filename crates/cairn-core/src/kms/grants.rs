//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant, and the
//! check that lets a grant allow an operation ([`grant_allows`]).
//!
//! A grant names a key, a grantee principal (ARN, account, or service principal), the
//! operations it allows, optional encryption-context constraints (`EncryptionContextSubset`
//! or `EncryptionContextEquals`) and an optional retiring principal. Grants take effect at
//! once in Cairn; grant tokens are still issued and checked, because clients pass them.
//!
//! Grant token: base64 of `0x02 ‖ grant id (32 bytes) ‖ nonce (16 bytes) ‖
//! HMAC-SHA256(master-derived key, grant id ‖ nonce)`: unique to each CreateGrant, even one
//! that answers an existing grant by its `Name` (as KMS's are), all of a grant's tokens
//! interchangeable. It identifies its grant to RetireGrant and cannot be forged from a grant
//! id. Tokens of the first form (`0x01 ‖ grant id ‖ HMAC(grant id)`) still verify.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_store::Connection;
use cairn_store::kms::{Grant, GrantConstraints};

use super::authz::{Actor, GrantUse, KeyAction, KeyPermission, key_permission};
use super::paging::{self, Page};
use super::{EncryptionContext, Key, MasterKey, Scope, check_len, constraint, err, not_usable};
use crate::error::{ApiError, ApiResult, ErrorKind};

/// Every `GrantOperation` of the model.
pub const OPERATIONS: [&str; 19] = [
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
];

/// Operations a grant on a symmetric encryption key may allow.
const SYMMETRIC_OPERATIONS: [&str; 11] = [
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
];

const TOKEN_VERSION: u8 = 2;
/// The first form of grant token (no nonce), still verified.
const FIRST_TOKEN_VERSION: u8 = 1;

/// CreateGrant's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CreateGrantInput {
    /// `GranteePrincipal`.
    pub grantee: String,
    /// `RetiringPrincipal`.
    pub retiring: Option<String>,
    /// `Operations`.
    pub operations: Vec<String>,
    /// `Constraints`.
    pub constraints: Option<GrantConstraints>,
    /// `Name`.
    pub name: Option<String>,
}

/// A created grant.
#[derive(Clone, Debug, PartialEq)]
pub struct CreatedGrant {
    /// `GrantId`.
    pub grant_id: String,
    /// `GrantToken`.
    pub token: String,
}

fn check_principal(member: &str, value: &str) -> ApiResult<()> {
    check_len(member, value, 1, 256)?;
    let ok = value
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@:/-".contains(c));
    if !ok {
        return Err(constraint(
            member,
            value,
            "Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$",
        ));
    }
    let is_arn = value.starts_with("arn:aws:iam::") || value.starts_with("arn:aws:sts::");
    let is_account = value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit());
    let is_service = value.ends_with(".amazonaws.com") && !value.contains(':');
    // An IAM ARN must name a principal: the account, a user or a role (STS: an assumed-role
    // or federated-user session), never a group, a policy or an instance profile, which
    // cannot make a call, so a grant to one gave nobody access (kms6).
    // Its account is 12 digits and each name after a type is non-empty (recheck31:
    // `arn:aws:iam::1:root` and `…:user/` were kept as grantees).
    let fields: Vec<&str> = value.splitn(6, ':').collect();
    let account_ok = fields
        .get(4)
        .is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    let named = |resource: &str, types: &[&str], parts: usize| {
        types.iter().any(|t| {
            resource.strip_prefix(t).is_some_and(|rest| {
                let names: Vec<&str> = rest.split('/').collect();
                names.len() >= parts && names[names.len() - parts..].iter().all(|n| !n.is_empty())
            })
        })
    };
    let principal_arn = account_ok
        && fields.get(5).is_some_and(|resource| {
            if value.starts_with("arn:aws:sts::") {
                named(resource, &["assumed-role/"], 2) || named(resource, &["federated-user/"], 1)
            } else {
                *resource == "root" || named(resource, &["user/", "role/"], 1)
            }
        });
    if !((is_arn && principal_arn) || is_account || is_service) {
        return Err(err(
            ErrorKind::KmsInvalidArn,
            format!("ARN {value} is not a valid principal"),
        ));
    }
    Ok(())
}

/// A grant's principal as stored: a user or role of the account by its unique id, so the
/// grant of a deleted principal passes to no one, not even to a new principal of the same
/// name (AWS keeps the id, and ListGrants shows it once the principal is gone). A user or role
/// of the account that does not exist is `InvalidArnException`: a grant cannot wait for
/// whoever creates that name later. Other principals (other accounts, sessions, services)
/// are kept as given.
fn bind_principal(conn: &Connection, account: &str, value: &str) -> ApiResult<String> {
    if let Some(id) = crate::iam::principal_ids::bind_one(conn, account, value)? {
        return Ok(id);
    }
    // A session of a role of the account: its role's id and the session name, so a role
    // re-created under the name gives its sessions nothing.
    if let Some((role, session)) = session_of(account, value) {
        return match cairn_store::iam::roles::get_role(conn, account, role)? {
            Some(r) => Ok(format!("{}:{session}", r.role_id)),
            None => Err(err(
                ErrorKind::KmsInvalidArn,
                format!("ARN does not refer to a valid principal: {value}"),
            )),
        };
    }
    let names_entity = value
        .strip_prefix(&format!("arn:aws:iam::{account}:"))
        .is_some_and(|rest| rest.starts_with("user/") || rest.starts_with("role/"));
    if names_entity {
        return Err(err(
            ErrorKind::KmsInvalidArn,
            format!("ARN does not refer to a valid principal: {value}"),
        ));
    }
    Ok(value.to_owned())
}

/// The role name and session name of an assumed-role session ARN of `account`.
fn session_of<'a>(account: &str, value: &'a str) -> Option<(&'a str, &'a str)> {
    value
        .strip_prefix("arn:aws:sts::")?
        .strip_prefix(account)?
        .strip_prefix(":assumed-role/")?
        .split_once('/')
        .filter(|(role, session)| !role.is_empty() && !session.is_empty())
}

/// A principal as a ListGrants filter matches it: bound as a grant stores it, when it names
/// an existing user, role or role session of the account.
fn principal_filter(conn: &Connection, account: &str, value: &str) -> ApiResult<String> {
    match bind_principal(conn, account, value) {
        // A principal that does not exist matches the grants that name it as given.
        Err(e) if e.kind == ErrorKind::KmsInvalidArn => Ok(value.to_owned()),
        bound => bound,
    }
}

/// A stored principal as shown: a user's or role's current ARN, a role session's
/// `arn:aws:sts::…:assumed-role/<role>/<session>`, or the bare id once it is gone.
fn render_principal(conn: &Connection, stored: &str) -> ApiResult<String> {
    if let Some(arn) = crate::iam::principal_ids::render_one(conn, stored)? {
        return Ok(arn);
    }
    if let Some((role_id, session)) = stored.split_once(':')
        && role_id.starts_with("AROA")
        && let Some(r) = cairn_store::iam::roles::get_role_by_id(conn, role_id)?
    {
        return Ok(format!(
            "arn:aws:sts::{}:assumed-role/{}/{session}",
            r.account, r.name
        ));
    }
    Ok(stored.to_owned())
}

/// A stored grant as shown: bound principals as their current ARNs, or their ids once gone.
pub fn shown(conn: &Connection, mut g: Grant) -> ApiResult<Grant> {
    g.grantee = render_principal(conn, &g.grantee)?;
    g.retiring = g
        .retiring
        .as_deref()
        .map(|r| render_principal(conn, r))
        .transpose()?;
    Ok(g)
}

/// Validates CreateGrant's input (model constraints and KMS's rules).
pub fn validate_create(input: &CreateGrantInput) -> ApiResult<()> {
    check_principal("granteePrincipal", &input.grantee)?;
    if let Some(r) = &input.retiring {
        check_principal("retiringPrincipal", r)?;
    }
    if input.operations.is_empty() {
        return Err(constraint(
            "operations",
            "[]",
            "Member must have length greater than or equal to 1",
        ));
    }
    for op in &input.operations {
        if !OPERATIONS.contains(&op.as_str()) {
            return Err(constraint(
                "operations",
                op,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    OPERATIONS.join(", ")
                ),
            ));
        }
        if !SYMMETRIC_OPERATIONS.contains(&op.as_str()) {
            return Err(err(
                ErrorKind::Validation,
                format!(
                    "The grant operation {op} is not valid for a symmetric encryption KMS key."
                ),
            ));
        }
    }
    // AWS's answer to such a grant (a boto3 run quoted in ansible/ansible#31960).
    if !input.operations.is_empty() && input.operations.iter().all(|o| o == "CreateGrant") {
        return Err(err(
            ErrorKind::Validation,
            "Grants must not contain only the CreateGrant operation.",
        ));
    }
    if let Some(c) = &input.constraints {
        if c.subset.is_some() && c.equals.is_some() {
            return Err(err(
                ErrorKind::Validation,
                "A grant can have only one type of encryption context constraint: EncryptionContextSubset or EncryptionContextEquals.",
            ));
        }
        for map in [&c.subset, &c.equals].into_iter().flatten() {
            if map.len() > 8 {
                return Err(err(
                    ErrorKind::Validation,
                    "A grant constraint can include at most 8 encryption context pairs.",
                ));
            }
            if let Some((k, _)) = map.iter().find(|(_, v)| v.chars().count() > 384) {
                return Err(err(
                    ErrorKind::Validation,
                    format!("The value of grant constraint pair {k} exceeds 384 characters."),
                ));
            }
        }
    }
    if let Some(name) = &input.name {
        check_len("name", name, 1, 256)?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/_-".contains(c))
        {
            return Err(constraint(
                "name",
                name,
                "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
            ));
        }
    }
    Ok(())
}

/// The condition keys CreateGrant adds to `kms:CreateGrant`.
pub fn create_condition_keys(input: &CreateGrantInput, via: bool) -> Vec<(String, Vec<String>)> {
    let mut keys = vec![
        (
            "kms:GranteePrincipal".to_owned(),
            vec![input.grantee.clone()],
        ),
        ("kms:GrantOperations".to_owned(), input.operations.clone()),
        (
            "kms:GrantIsForAWSResource".to_owned(),
            vec![if via { "true" } else { "false" }.to_owned()],
        ),
    ];
    if let Some(r) = &input.retiring {
        keys.push(("kms:RetiringPrincipal".to_owned(), vec![r.clone()]));
    }
    if let Some(c) = &input.constraints {
        let (kind, map) = match (&c.subset, &c.equals) {
            (Some(m), _) => ("EncryptionContextSubset", m),
            (_, Some(m)) => ("EncryptionContextEquals", m),
            _ => return keys,
        };
        keys.push(("kms:GrantConstraintType".to_owned(), vec![kind.to_owned()]));
        for (k, v) in map {
            keys.push((format!("kms:EncryptionContext:{k}"), vec![v.clone()]));
        }
        keys.push((
            "kms:EncryptionContextKeys".to_owned(),
            map.keys().cloned().collect(),
        ));
    }
    keys
}

fn token_for(master: &MasterKey, grant_id: &str) -> ApiResult<String> {
    let id = hex::decode(grant_id).map_err(|_| err(ErrorKind::Internal, "bad grant id"))?;
    let nonce: [u8; 16] =
        cairn_crypto::random_array().map_err(|e| err(ErrorKind::Internal, e.to_string()))?;
    let mut signed = id.clone();
    signed.extend_from_slice(&nonce);
    let mut raw = vec![TOKEN_VERSION];
    raw.extend_from_slice(&signed);
    raw.extend_from_slice(&master.grant_token_mac(&signed));
    Ok(STANDARD.encode(raw))
}

fn bad_token() -> ApiError {
    err(
        ErrorKind::KmsInvalidGrantToken,
        "The grant token is not valid.",
    )
}

/// What a token's MAC covers (the grant id, then the nonce of a second-form token) and the
/// MAC, after checking its form (not its MAC).
fn token_parts(token: &str) -> ApiResult<(Vec<u8>, Vec<u8>)> {
    let raw = STANDARD.decode(token.trim()).map_err(|_| bad_token())?;
    let signed = match (raw.first(), raw.len()) {
        (Some(&FIRST_TOKEN_VERSION), 65) => 33,
        (Some(&TOKEN_VERSION), 81) => 49,
        _ => return Err(bad_token()),
    };
    Ok((raw[1..signed].to_vec(), raw[signed..].to_vec()))
}

/// Checks the form of the grant tokens a request carries (`InvalidGrantTokenException`).
pub fn check_tokens(tokens: &[String]) -> ApiResult<()> {
    if tokens.len() > 10 {
        return Err(constraint(
            "grantTokens",
            &format!("{tokens:?}"),
            "Member must have length less than or equal to 10",
        ));
    }
    tokens.iter().try_for_each(|t| token_parts(t).map(|_| ()))
}

/// The grant id of a genuine token.
pub fn verify_token(master: &MasterKey, token: &str) -> ApiResult<String> {
    let (signed, mac) = token_parts(token)?;
    if !cairn_crypto::constant_time_eq(&master.grant_token_mac(&signed), &mac) {
        return Err(bad_token());
    }
    Ok(hex::encode(&signed[..32]))
}

/// CreateGrant (after authorization): returns the grant id and token. A request naming an
/// existing grant by `Name` with identical parameters returns that grant.
pub fn create_grant(
    conn: &Connection,
    master: &MasterKey,
    scope: &Scope,
    key: &Key,
    input: &CreateGrantInput,
    now: f64,
) -> ApiResult<CreatedGrant> {
    validate_create(input)?;
    if let Some(e) = not_usable(key) {
        return Err(e);
    }
    let grantee = bind_principal(conn, &scope.account, &input.grantee)?;
    let retiring = input
        .retiring
        .as_deref()
        .map(|r| bind_principal(conn, &scope.account, r))
        .transpose()?;
    if let Some(name) = &input.name {
        for g in cairn_store::kms::find_named_grant(conn, &key.key_id, name)? {
            if g.grantee == grantee
                && g.retiring == retiring
                && g.operations == input.operations
                && g.constraints == input.constraints
            {
                return Ok(CreatedGrant {
                    token: token_for(master, &g.grant_id)?,
                    grant_id: g.grant_id,
                });
            }
        }
    }
    if cairn_store::kms::count_grants(conn, &key.key_id)? >= super::MAX_GRANTS_PER_KEY {
        return Err(super::quota_exceeded());
    }
    let grant_id = hex::encode(cairn_crypto::random_array::<32>().map_err(super::material_fault)?);
    cairn_store::kms::insert_grant(
        conn,
        &Grant {
            seq: 0,
            grant_id: grant_id.clone(),
            key_id: key.key_id.clone(),
            name: input.name.clone(),
            created: now,
            grantee,
            retiring,
            issuing_account: format!("arn:aws:iam::{}:root", scope.account),
            operations: input.operations.clone(),
            constraints: input.constraints.clone(),
        },
    )?;
    Ok(CreatedGrant {
        token: token_for(master, &grant_id)?,
        grant_id,
    })
}

/// ListGrants of a key (optionally one grant id or grantee).
pub fn list_grants(
    conn: &Connection,
    key: &Key,
    grant_id: Option<&str>,
    grantee: Option<&str>,
    marker: Option<&str>,
    limit: usize,
) -> ApiResult<Page<Grant>> {
    if let Some(id) = grant_id {
        check_grant_id(id)?;
    }
    let markers = paging::Markers::new(conn, "ListGrants", &[&key.arn])?;
    let after = seq_after(&markers, marker)?;
    let grantee = grantee
        .map(|g| principal_filter(conn, &key.account, g))
        .transpose()?;
    let items = cairn_store::kms::list_grants(
        conn,
        &key.key_id,
        grant_id,
        grantee.as_deref(),
        after,
        limit + 1,
    )?
    .into_iter()
    .map(|g| shown(conn, g))
    .collect::<ApiResult<Vec<_>>>()?;
    Ok(markers.page(items, limit, |g| g.seq.to_string()))
}

/// ListRetirableGrants: grants naming `retiring` as their retiring principal, on keys of the
/// caller's account.
pub fn list_retirable(
    conn: &Connection,
    scope: &Scope,
    retiring: &str,
    marker: Option<&str>,
    limit: usize,
) -> ApiResult<Page<(Grant, String)>> {
    check_principal("retiringPrincipal", retiring)?;
    let markers = paging::Markers::new(
        conn,
        "ListRetirableGrants",
        &[&scope.account, &scope.region, retiring],
    )?;
    let mut after = seq_after(&markers, marker)?;
    let mut out = Vec::new();
    let bound = principal_filter(conn, &scope.account, retiring)?;
    loop {
        let batch = cairn_store::kms::list_retirable_grants(conn, &bound, after, limit + 1)?;
        let done = batch.len() <= limit;
        for g in batch {
            after = g.seq;
            if let Some(k) = cairn_store::kms::get_key(conn, &g.key_id)?
                && k.account == scope.account
            {
                out.push((shown(conn, g)?, k.arn));
            }
        }
        if done || out.len() > limit {
            break;
        }
    }
    Ok(markers.page(out, limit, |(g, _)| g.seq.to_string()))
}

fn seq_after(markers: &paging::Markers, marker: Option<&str>) -> ApiResult<i64> {
    let s = markers.decode(marker)?;
    if s.is_empty() {
        return Ok(0);
    }
    s.parse()
        .map_err(|_| err(ErrorKind::KmsInvalidMarker, "Invalid marker"))
}

fn check_grant_id(id: &str) -> ApiResult<()> {
    check_len("grantId", id, 1, 128)?;
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err(
            ErrorKind::KmsInvalidGrantId,
            format!("Invalid grant id {id}"),
        ));
    }
    Ok(())
}

/// A grant of `key` by id (`NotFoundException` if it does not exist).
pub fn grant_of_key(conn: &Connection, key: &Key, grant_id: &str) -> ApiResult<Grant> {
    check_grant_id(grant_id)?;
    match cairn_store::kms::get_grant(conn, grant_id)? {
        Some(g) if g.key_id == key.key_id => Ok(g),
        _ => Err(err(
            ErrorKind::KmsNotFound,
            format!("Grant id not found: {grant_id}"),
        )),
    }
}

/// The grant a token names (`NotFoundException` once retired or revoked).
pub fn grant_of_token(conn: &Connection, master: &MasterKey, token: &str) -> ApiResult<Grant> {
    let id = verify_token(master, token)?;
    cairn_store::kms::get_grant(conn, &id)?
        .ok_or_else(|| err(ErrorKind::KmsNotFound, format!("Grant id not found: {id}")))
}

/// What RetireGrant needs. The grant's retiring principal, and its grantee when the grant
/// allows `RetireGrant`, need no policy to allow it, but an explicit `Deny` still stops them
/// ("To deny permission to retire a grant, you can use a Deny action with the
/// kms:RetireGrant permission in your IAM policies", the KMS developer guide). Anyone else in
/// the key's account needs `kms:RetireGrant` from the account: its root, or an identity policy
/// that delegates it. A key policy's `Allow` does not count (the guide: the permission "is not
/// effective in a key policy"), though its `Deny` does.
pub fn retire_permissions(
    conn: &Connection,
    actor: &Actor<'_>,
    key: &Key,
    grant: &Grant,
) -> ApiResult<Vec<KeyPermission>> {
    let retiring = grant
        .retiring
        .as_deref()
        .is_some_and(|r| actor.is_grantee(r));
    let grantee_may =
        actor.is_grantee(&grant.grantee) && grant.operations.iter().any(|o| o == "RetireGrant");
    let mut needed = key_permission(
        conn,
        actor,
        key,
        KeyAction {
            action: "kms:RetireGrant",
            ..Default::default()
        },
    )?;
    needed.unless_denied = retiring || grantee_may;
    if needed.unless_denied || actor.caller_account().as_deref() != Some(key.account.as_str()) {
        return Ok(vec![needed]);
    }
    // The key policy may only deny; the allow must come from the account's own policies.
    let delegated = KeyPermission::policy_only(
        needed
            .permission
            .clone()
            .under(crate::authz::ResourcePolicy::None),
    );
    needed.unless_denied = true;
    Ok(vec![needed, delegated])
}

/// Deletes a grant (RetireGrant and RevokeGrant, after authorization).
pub fn delete(conn: &Connection, grant: &Grant) -> ApiResult<()> {
    cairn_store::kms::delete_grant(conn, &grant.grant_id)?;
    Ok(())
}

/// Grant operations that take an encryption context: the only ones grant constraints apply
/// to (DescribeKey, RetireGrant and CreateGrant are allowed whatever the constraints).
const CONTEXT_OPERATIONS: [&str; 8] = [
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
];

/// Whether a request's context meets a grant's constraints. In a constraint, keys match
/// case-insensitively and values case-sensitively (KMS's rule for grant constraints).
fn constraints_met(
    c: &Option<GrantConstraints>,
    operation: &str,
    context: &EncryptionContext,
) -> bool {
    let Some(c) = c else {
        return true;
    };
    if !CONTEXT_OPERATIONS.contains(&operation) {
        return true;
    }
    let has = |k: &str, v: &str| {
        context
            .iter()
            .any(|(rk, rv)| rk.eq_ignore_ascii_case(k) && rv == v)
    };
    if let Some(equals) = &c.equals
        && (equals.len() != context.len() || !equals.iter().all(|(k, v)| has(k, v)))
    {
        return false;
    }
    if let Some(subset) = &c.subset
        && !subset.iter().all(|(k, v)| has(k, v))
    {
        return false;
    }
    true
}

/// Whether a grant on the key lets `actor` perform `use_.operation` with `use_.context`.
pub fn grant_allows(conn: &Connection, actor: &Actor<'_>, use_: &GrantUse) -> ApiResult<bool> {
    Ok(cairn_store::kms::grants_for_key(conn, &use_.key_id)?
        .iter()
        .any(|g| {
            actor.is_grantee(&g.grantee)
                && g.operations.contains(&use_.operation)
                && constraints_met(&g.constraints, &use_.operation, &use_.context)
                && use_.creates.as_ref().is_none_or(|(ops, constraints)| {
                    ops.iter().all(|o| g.operations.contains(o))
                        && at_least_as_strict(constraints, &g.constraints)
                })
        }))
}

/// Whether a new grant's constraints are at least as strict as its parent grant's (KMS: a
/// grant created through a grant's CreateGrant may not widen it): every pair a parent's
/// `EncryptionContextSubset` requires is required again, and a parent's
/// `EncryptionContextEquals` is kept as it is.
fn at_least_as_strict(new: &Option<GrantConstraints>, parent: &Option<GrantConstraints>) -> bool {
    let Some(parent) = parent else { return true };
    let Some(new) = new else { return false };
    let covers = |required: &std::collections::BTreeMap<String, String>| {
        let has_all = |m: &std::collections::BTreeMap<String, String>| {
            required.iter().all(|(k, v)| m.get(k) == Some(v))
        };
        new.subset.as_ref().is_some_and(has_all) || new.equals.as_ref().is_some_and(has_all)
    };
    parent.subset.as_ref().is_none_or(covers)
        && parent
            .equals
            .as_ref()
            .is_none_or(|e| new.equals.as_ref() == Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn constraints_subset_and_equals() {
        let subset = Some(GrantConstraints {
            subset: Some(map(&[("a", "1")])),
            equals: None,
        });
        assert!(constraints_met(
            &subset,
            "Decrypt",
            &map(&[("a", "1"), ("b", "2")])
        ));
        assert!(constraints_met(&subset, "Decrypt", &map(&[("A", "1")])));
        assert!(!constraints_met(&subset, "Decrypt", &map(&[("a", "2")])));
        assert!(constraints_met(&subset, "DescribeKey", &map(&[])));
        let equals = Some(GrantConstraints {
            subset: None,
            equals: Some(map(&[("a", "1")])),
        });
        assert!(constraints_met(&equals, "Encrypt", &map(&[("a", "1")])));
        assert!(!constraints_met(
            &equals,
            "Encrypt",
            &map(&[("a", "1"), ("b", "2")])
        ));
        assert!(!constraints_met(&equals, "Encrypt", &map(&[("a", "A")])));
        assert!(constraints_met(&None, "Encrypt", &map(&[])));
    }

    #[test]
    fn tokens_verify_and_forgeries_fail() {
        let (master, _) = MasterKey::generate().unwrap();
        let id = "ab".repeat(32);
        let token = token_for(&master, &id).unwrap();
        assert_eq!(verify_token(&master, &token).unwrap(), id);
        let (other, _) = MasterKey::generate().unwrap();
        assert!(verify_token(&other, &token).is_err());
        assert!(check_tokens(&["garbage".into()]).is_err());
        assert!(check_tokens(std::slice::from_ref(&token)).is_ok());
        // Each token is new, and every one names the grant.
        let again = token_for(&master, &id).unwrap();
        assert_ne!(again, token);
        assert_eq!(verify_token(&master, &again).unwrap(), id);
        // A token of the first form (no nonce) still verifies.
        let raw = hex::decode(&id).unwrap();
        let mut first = vec![FIRST_TOKEN_VERSION];
        first.extend_from_slice(&raw);
        first.extend_from_slice(&master.grant_token_mac(&raw));
        assert_eq!(verify_token(&master, &STANDARD.encode(first)).unwrap(), id);
    }

    #[test]
    fn create_input_rules() {
        let mut input = CreateGrantInput {
            grantee: "arn:aws:iam::111122223333:user/bob".into(),
            operations: vec!["Decrypt".into()],
            ..Default::default()
        };
        assert!(validate_create(&input).is_ok());
        input.operations = vec!["Sign".into()];
        assert_eq!(
            validate_create(&input).unwrap_err().kind,
            ErrorKind::Validation
        );
        input.operations = vec!["Nope".into()];
        assert!(validate_create(&input).is_err());
        input.operations = vec!["Decrypt".into()];
        input.grantee = "bob".into();
        assert_eq!(
            validate_create(&input).unwrap_err().kind,
            ErrorKind::KmsInvalidArn
        );
    }

    #[test]
    fn principal_arns_name_an_account_and_a_principal() {
        for ok in [
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:user/division/bob",
            "arn:aws:iam::111122223333:role/r",
            "arn:aws:sts::111122223333:assumed-role/r/session",
            "arn:aws:sts::111122223333:federated-user/fed",
            "111122223333",
        ] {
            assert!(check_principal("granteePrincipal", ok).is_ok(), "{ok}");
        }
        for bad in [
            "arn:aws:iam::12345678901:root",
            "arn:aws:iam::abcdefghijkl:root",
            "arn:aws:iam::1:root",
            "arn:aws:sts::12345:assumed-role/r/s",
            "arn:aws:sts::999999999999:assumed-role//",
            "arn:aws:sts::999999999999:assumed-role/r",
            "arn:aws:iam::999999999999:user/",
            "arn:aws:iam::999999999999:role/",
            "arn:aws:iam::999999999999:group/g",
        ] {
            let e = check_principal("granteePrincipal", bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::KmsInvalidArn, "{bad}");
        }
    }
}
