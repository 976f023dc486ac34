//! Operator commands on a data dir (`cairn kms …`), outside the API:
//!
//! - [`reset_key_policy`]: the escape hatch for a locked-out key. KMS's key policy is
//!   mandatory, so a policy that names nobody who may change it locks the key for good (AWS
//!   needs its Support to recover). Cairn's operator restores the default policy; the reset
//!   is recorded as a `PutKeyPolicy` event by `cairn-admin`, visible in event history.
//! - [`rotate_master_key`]: rewraps every backing key, and every SSE-S3 object's data key,
//!   from the old master key to the new one in one transaction.
//! - [`check_master`] / [`adopt_master`]: a data dir remembers (as a wrapped check value)
//!   which master key wraps its key material, so a start with another key is refused before
//!   it can mix keys.

use cairn_store::Connection;
use serde_json::json;

use super::internal::{Draft, build};
use super::{AWS_MANAGED, Key, MasterKey, Scope, err, ids};
use crate::error::{ApiResult, ErrorKind};

/// How a master key relates to a data dir.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MasterStatus {
    /// The data dir has no KMS material and no check value yet.
    Fresh,
    /// The key is the one the data dir's material is wrapped under.
    Matches,
    /// Another key wraps the data dir's material.
    Mismatch,
}

/// Compares `master` with the data dir's check value (or, without one, tries to unwrap the
/// first stored generation).
pub fn check_master(conn: &Connection, master: &MasterKey) -> ApiResult<MasterStatus> {
    if let Some((_, check)) = cairn_store::kms::master_check(conn)? {
        return Ok(if master.verify_check(&check) {
            MasterStatus::Matches
        } else {
            MasterStatus::Mismatch
        });
    }
    match cairn_store::kms::all_wrapped(conn)?.first() {
        None => Ok(MasterStatus::Fresh),
        Some(w) => Ok(
            if master
                .unwrap(
                    &w.wrapped,
                    &cairn_crypto::backing_key_aad(&w.arn, w.generation),
                )
                .is_ok()
            {
                MasterStatus::Matches
            } else {
                MasterStatus::Mismatch
            },
        ),
    }
}

/// Records `master` as the data dir's master key (its check value and fingerprint).
pub fn adopt_master(conn: &Connection, master: &MasterKey) -> ApiResult<()> {
    let check = master.check_value().map_err(super::material_fault)?;
    cairn_store::kms::set_master_check(conn, master.fingerprint(), &check)?;
    Ok(())
}

/// What a master-key rotation rewrapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotated {
    /// Generations of KMS backing keys.
    pub backing_keys: usize,
    /// SSE-S3 data keys of objects and multipart uploads.
    pub object_keys: usize,
}

/// Rewraps every stored backing key and every SSE-S3 data key from `old` to `new` and
/// adopts `new`. Run it in one write job: all or nothing.
pub fn rotate_master_key(
    conn: &Connection,
    old: &MasterKey,
    new: &MasterKey,
) -> ApiResult<Rotated> {
    if check_master(conn, old)? == MasterStatus::Mismatch {
        return Err(err(
            ErrorKind::Validation,
            format!(
                "the old master key (fingerprint {}) does not open this data dir's key material",
                old.fingerprint()
            ),
        ));
    }
    let all = cairn_store::kms::all_wrapped(conn)?;
    for w in &all {
        let (arn, generation) = (&w.arn, w.generation);
        let aad = cairn_crypto::backing_key_aad(arn, generation);
        let plain = old.unwrap(&w.wrapped, &aad).map_err(|_| {
            err(
                ErrorKind::Validation,
                format!("generation {generation} of {arn} does not open under the old master key"),
            )
        })?;
        let rewrapped = new
            .wrap(plain.expose(), &aad)
            .map_err(super::material_fault)?;
        cairn_store::kms::replace_wrapped(conn, &w.key_id, generation, &rewrapped)?;
    }
    let object_keys = crate::encryption::rewrap_sse_s3_keys(conn, old, new)?;
    adopt_master(conn, new)?;
    Ok(Rotated {
        backing_keys: all.len(),
        object_keys,
    })
}

/// The key named by an id or key ARN, in whatever account and region it lives.
fn find_key(conn: &Connection, key: &str) -> ApiResult<Key> {
    let missing = || {
        err(
            ErrorKind::KmsNotFound,
            format!("Key '{key}' does not exist"),
        )
    };
    // An ARN names its region and account too: the key with that id elsewhere is not it.
    let (id, place) = match ids::parse(key)? {
        ids::KeyRef::KeyId(id) => (id, None),
        ids::KeyRef::KeyArn {
            key_id,
            region,
            account,
        } => (key_id, Some((region, account))),
        _ => {
            return Err(err(
                ErrorKind::KmsNotFound,
                format!("Invalid keyId {key}: give a key id or key ARN"),
            ));
        }
    };
    let found = cairn_store::kms::get_key(conn, &id)?.ok_or_else(missing)?;
    match place {
        Some((region, account)) if region != found.region || account != found.account => {
            Err(missing())
        }
        _ => Ok(found),
    }
}

/// Writes the default policy back on a key (the AWS managed policy for an AWS managed key)
/// and records it as a `PutKeyPolicy` event by `cairn-admin`. Returns the key.
pub fn reset_key_policy(conn: &Connection, key: &str, now: f64) -> ApiResult<Key> {
    let key = find_key(conn, key)?;
    let scope = Scope {
        account: key.account.clone(),
        region: key.region.clone(),
    };
    let policy = if key.key_manager == AWS_MANAGED {
        let service = cairn_store::kms::list_aliases(
            conn,
            &scope.account,
            &scope.region,
            Some(&key.key_id),
            "",
            10,
        )?
        .into_iter()
        .find_map(|a| {
            a.name
                .strip_prefix(super::aliases::RESERVED_PREFIX)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "s3".to_owned());
        super::policy::aws_managed_policy(&scope.account, &scope.region, &service)
    } else {
        super::policy::default_policy(&scope.account)
    };
    cairn_store::kms::set_policy(conn, &key.key_id, &policy)?;
    let event = build(Draft {
        scope: &scope,
        now,
        identity: json!({"type": "AWSService", "invokedBy": "cairn-admin"}),
        source_ip: "cairn-admin".into(),
        user_agent: "cairn-admin".into(),
        username: "cairn-admin".into(),
        event_name: "PutKeyPolicy",
        request_parameters: json!({
            "keyId": key.arn,
            "policyName": "default",
            "policy": policy,
            "bypassPolicyLockoutSafetyCheck": true,
        }),
        response_elements: serde_json::Value::Null,
        additional: Some(json!({"cairnAdminCommand": "kms reset-key-policy"})),
        key_arn: Some(&key.arn),
        read_only: false,
        event_type: "AwsApiCall",
        error: None,
    });
    crate::record::append(conn, &event)?;
    Ok(Key { policy, ..key })
}
