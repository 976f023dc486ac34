//! Keys and their state machine (spec §7.2): CreateKey, DescribeKey, ListKeys, EnableKey,
//! DisableKey, ScheduleKeyDeletion (7–30 days, default 30), CancelKeyDeletion (back to
//! `Disabled`), UpdateKeyDescription, and the sweep that deletes keys whose window has passed
//! and rotates keys whose automatic rotation is due.
//!
//! ```text
//! Enabled ⇄ Disabled ─ScheduleKeyDeletion→ PendingDeletion ─window passes→ deleted
//!    └──────────────── ScheduleKeyDeletion ─↗        └─CancelKeyDeletion→ Disabled
//! ```

use cairn_store::Connection;

use super::authz::KeyPermission;
use super::paging::{self, Page};
use super::{
    AWS_KMS, CUSTOMER, DISABLED, ENABLED, ENCRYPT_DECRYPT, Key, MasterKey, PENDING_DELETION,
    SYMMETRIC_DEFAULT, Scope, check_len, constraint, err, ids, material_fault, not_pending,
    pending,
};
use crate::authz::{Evaluator, Permission};
use crate::context::CallContext;
use crate::error::{ApiResult, ErrorKind};

/// `KeyUsage` values of the model.
pub const KEY_USAGES: [&str; 5] = [
    "SIGN_VERIFY",
    "ENCRYPT_DECRYPT",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
    "ENCAPSULATE_DECAPSULATE",
];
/// `KeySpec` values of the model.
pub const KEY_SPECS: [&str; 20] = [
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SYMMETRIC_DEFAULT",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
    "ECC_NIST_EDWARDS25519",
    "ML_KEM_512",
    "ML_KEM_768",
    "ML_KEM_1024",
];
/// `Origin` values of the model.
pub const ORIGINS: [&str; 4] = ["AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"];

/// CreateKey's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CreateKeyInput {
    /// `Policy` (default: [`super::policy::default_policy`]).
    pub policy: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `KeyUsage`.
    pub key_usage: Option<String>,
    /// `KeySpec`.
    pub key_spec: Option<String>,
    /// `CustomerMasterKeySpec` (deprecated synonym).
    pub customer_master_key_spec: Option<String>,
    /// `Origin`.
    pub origin: Option<String>,
    /// `CustomKeyStoreId` or `XksKeyId` was given.
    pub custom_key_store: bool,
    /// `BypassPolicyLockoutSafetyCheck`.
    pub bypass_lockout_check: bool,
    /// `Tags`.
    pub tags: Vec<(String, String)>,
    /// `MultiRegion`.
    pub multi_region: bool,
}

impl CreateKeyInput {
    /// The key spec asked for.
    pub fn spec(&self) -> &str {
        self.key_spec
            .as_deref()
            .or(self.customer_master_key_spec.as_deref())
            .unwrap_or(SYMMETRIC_DEFAULT)
    }

    /// The key usage asked for.
    pub fn usage(&self) -> &str {
        self.key_usage.as_deref().unwrap_or(ENCRYPT_DECRYPT)
    }
}

fn check_enum(member: &str, value: &str, allowed: &[&str]) -> ApiResult<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(constraint(
        member,
        value,
        &format!(
            "Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ),
    ))
}

/// Validates CreateKey's input: model constraints, then what Cairn supports.
pub fn validate_create(input: &CreateKeyInput) -> ApiResult<()> {
    if input.key_spec.is_some() && input.customer_master_key_spec.is_some() {
        return Err(err(
            ErrorKind::Validation,
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.",
        ));
    }
    check_enum("keyUsage", input.usage(), &KEY_USAGES)?;
    check_enum("keySpec", input.spec(), &KEY_SPECS)?;
    let origin = input.origin.as_deref().unwrap_or(AWS_KMS);
    check_enum("origin", origin, &ORIGINS)?;
    if let Some(d) = &input.description {
        check_len("description", d, 0, 8192)?;
    }
    super::tags::validate(&input.tags)?;
    if input.tags.len() > super::tags::MAX_TAGS {
        return Err(err(
            ErrorKind::KmsTag,
            format!("A KMS key can have at most {} tags.", super::tags::MAX_TAGS),
        ));
    }
    let unsupported = if input.spec() != SYMMETRIC_DEFAULT {
        Some(format!("KeySpec {}", input.spec()))
    } else if input.usage() != ENCRYPT_DECRYPT {
        Some(format!("KeyUsage {}", input.usage()))
    } else if origin != AWS_KMS {
        Some(format!("Origin {origin}"))
    } else if input.custom_key_store {
        Some("custom key stores".to_owned())
    } else {
        None
    };
    if let Some(what) = unsupported {
        return Err(err(
            ErrorKind::UnsupportedOperation,
            format!(
                "Cairn supports symmetric encryption keys only (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, origin AWS_KMS); {what} is not supported."
            ),
        ));
    }
    if let Some(p) = &input.policy {
        super::policy::validate(p)?;
    }
    Ok(())
}

/// What CreateKey needs: `kms:CreateKey` (and `kms:TagResource` when it tags), with the key
/// properties as condition keys.
pub fn create_permissions(ctx: &CallContext, input: &CreateKeyInput) -> Vec<KeyPermission> {
    let with_keys = |action: &str| {
        let mut p = Permission::any(action)
            .with("kms:CallerAccount", ctx.account().to_string())
            .with("kms:KeySpec", input.spec())
            .with("kms:KeyUsage", input.usage())
            .with("kms:KeyOrigin", input.origin.as_deref().unwrap_or(AWS_KMS))
            .with(
                "kms:MultiRegion",
                if input.multi_region { "true" } else { "false" },
            )
            .with(
                "kms:BypassPolicyLockoutSafetyCheck",
                if input.bypass_lockout_check {
                    "true"
                } else {
                    "false"
                },
            );
        if !input.tags.is_empty() {
            for (k, v) in &input.tags {
                p = p.with(&format!("aws:RequestTag/{k}"), v);
            }
            p = p.with_values(
                "aws:TagKeys",
                input.tags.iter().map(|(k, _)| k.clone()).collect(),
            );
        }
        KeyPermission::policy_only(p)
    };
    let mut needed = vec![with_keys("kms:CreateKey")];
    if !input.tags.is_empty() {
        needed.push(with_keys("kms:TagResource"));
    }
    needed
}

/// Makes, wraps and stores a new backing-key generation.
pub(crate) fn add_generation(
    conn: &Connection,
    master: &MasterKey,
    key: &Key,
    generation: u32,
    now: f64,
    rotation_type: Option<&str>,
) -> ApiResult<()> {
    let backing = cairn_crypto::random_secret(32).map_err(material_fault)?;
    let wrapped = master
        .wrap(
            backing.expose(),
            &cairn_crypto::backing_key_aad(&key.arn, generation),
        )
        .map_err(material_fault)?;
    cairn_store::kms::add_material(conn, &key.key_id, generation, &wrapped, now, rotation_type)?;
    Ok(())
}

/// What a new key is made of.
pub(crate) struct NewKey<'a> {
    pub(crate) description: &'a str,
    pub(crate) policy: String,
    pub(crate) key_manager: &'a str,
    pub(crate) multi_region: bool,
    /// The key's id when it is fixed in advance (an AWS managed key's); else a random one.
    pub(crate) key_id: Option<String>,
}

/// Inserts a new key with its first backing key (no authorization, no lockout check).
pub(crate) fn insert_new(
    conn: &Connection,
    master: &MasterKey,
    scope: &Scope,
    now: f64,
    new: NewKey<'_>,
) -> ApiResult<Key> {
    let NewKey {
        description,
        policy,
        key_manager,
        multi_region,
        key_id,
    } = new;
    let key_id = match key_id {
        Some(id) => id,
        None => super::new_key_id(multi_region)?,
    };
    let mut key = Key {
        arn: ids::key_arn(scope, &key_id),
        key_id,
        account: scope.account.clone(),
        region: scope.region.clone(),
        created: now,
        description: description.to_owned(),
        key_usage: ENCRYPT_DECRYPT.to_owned(),
        key_spec: SYMMETRIC_DEFAULT.to_owned(),
        origin: AWS_KMS.to_owned(),
        key_manager: key_manager.to_owned(),
        state: ENABLED.to_owned(),
        deletion_date: None,
        pending_window: None,
        policy,
        rotation_enabled: false,
        rotation_period: None,
        next_rotation: None,
        current_generation: 0,
        multi_region,
    };
    // KMS's resource quota (hostile11: a user allowed kms:CreateKey made keys without end).
    if key.key_manager == "CUSTOMER"
        && cairn_store::kms::count_customer_keys(conn, &key.account, &key.region)?
            >= super::MAX_CUSTOMER_KEYS
    {
        return Err(super::quota_exceeded());
    }
    cairn_store::kms::insert_key(conn, &key)?;
    add_generation(conn, master, &key, 1, now, None)?;
    key.current_generation = 1;
    Ok(key)
}

/// CreateKey (after `kms:CreateKey` is authorized): a new enabled symmetric key. With a
/// `Policy` and no bypass, the lockout check runs against it; a refusal fails the call, and
/// the caller's transaction drops the key.
pub fn create_key(
    conn: &Connection,
    master: &MasterKey,
    evaluator: &dyn Evaluator,
    ctx: &CallContext,
    input: &CreateKeyInput,
) -> ApiResult<Key> {
    validate_create(input)?;
    let scope = Scope::of(ctx);
    if let Some(p) = &input.policy {
        super::policy::check_principals(conn, &scope.account, p)?;
    }
    let policy = match &input.policy {
        Some(p) => crate::iam::principal_ids::bind(conn, &scope.account, p)?,
        None => super::policy::default_policy(&scope.account),
    };
    cairn_store::with_savepoint(conn, |c| {
        let key = insert_new(
            c,
            master,
            &scope,
            ctx.now,
            NewKey {
                description: input.description.as_deref().unwrap_or(""),
                policy,
                key_manager: CUSTOMER,
                multi_region: input.multi_region,
                key_id: None,
            },
        )?;
        for (k, v) in &input.tags {
            cairn_store::kms::put_tag(c, &key.key_id, k, v)?;
        }
        if input.policy.is_some() && !input.bypass_lockout_check {
            super::policy::lockout_check(c, evaluator, ctx, &key)?;
        }
        Ok(key)
    })
}

/// ListKeys: one page of the region's keys (pending deletion included), by key id.
pub fn list_keys(
    conn: &Connection,
    scope: &Scope,
    marker: Option<&str>,
    limit: usize,
) -> ApiResult<Page<(String, String)>> {
    let markers = paging::Markers::new(conn, "ListKeys", &[&scope.account, &scope.region])?;
    let after = markers.decode(marker)?;
    let items =
        cairn_store::kms::list_keys(conn, &scope.account, &scope.region, &after, limit + 1)?;
    Ok(markers.page(items, limit, |(id, _)| id.clone()))
}

/// EnableKey.
pub fn enable(conn: &Connection, key: &Key) -> ApiResult<()> {
    not_pending(key)?;
    cairn_store::kms::set_state(conn, &key.key_id, ENABLED, None, None)?;
    Ok(())
}

/// DisableKey.
pub fn disable(conn: &Connection, key: &Key) -> ApiResult<()> {
    not_pending(key)?;
    cairn_store::kms::set_state(conn, &key.key_id, DISABLED, None, None)?;
    Ok(())
}

/// Checks `PendingWindowInDays` (the model allows 1–365; KMS enforces 7–30).
pub fn check_window(days: Option<i64>) -> ApiResult<i64> {
    let d = days.unwrap_or(30);
    if d < 7 {
        return Err(constraint(
            "pendingWindowInDays",
            &d.to_string(),
            "Member must have value greater than or equal to 7",
        ));
    }
    if d > 30 {
        return Err(constraint(
            "pendingWindowInDays",
            &d.to_string(),
            "Member must have value less than or equal to 30",
        ));
    }
    Ok(d)
}

/// ScheduleKeyDeletion: returns (deletion date, window days).
pub fn schedule_deletion(
    conn: &Connection,
    key: &Key,
    days: Option<i64>,
    now: f64,
) -> ApiResult<(f64, i64)> {
    let days = check_window(days)?;
    if key.state == PENDING_DELETION {
        return Err(pending(key));
    }
    let when = now + (days * 86_400) as f64;
    cairn_store::kms::set_state(conn, &key.key_id, PENDING_DELETION, Some(when), Some(days))?;
    Ok((when, days))
}

/// CancelKeyDeletion: the key becomes `Disabled`.
pub fn cancel_deletion(conn: &Connection, key: &Key) -> ApiResult<()> {
    if key.state != PENDING_DELETION {
        return Err(err(
            ErrorKind::KmsInvalidState,
            format!("{} is not pending deletion.", key.arn),
        ));
    }
    cairn_store::kms::set_state(conn, &key.key_id, DISABLED, None, None)?;
    Ok(())
}

/// UpdateKeyDescription.
pub fn update_description(conn: &Connection, key: &Key, description: &str) -> ApiResult<()> {
    check_len("description", description, 0, 8192)?;
    not_pending(key)?;
    cairn_store::kms::set_description(conn, &key.key_id, description)?;
    Ok(())
}

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepReport {
    /// ARNs of keys deleted because their window passed.
    pub deleted: Vec<String>,
    /// ARNs of keys rotated automatically.
    pub rotated: Vec<String>,
}

/// Deletes every key whose deletion date is at or before `now`, and (given the master key)
/// rotates every enabled key whose automatic rotation is due. Each is recorded as KMS records
/// it: a `DeleteKey` / `RotateKey` service event. Run it inside one write job.
pub fn sweep(conn: &Connection, master: Option<&MasterKey>, now: f64) -> ApiResult<SweepReport> {
    let mut report = SweepReport::default();
    for key in cairn_store::kms::due_deletions(conn, now)? {
        cairn_store::kms::delete_key(conn, &key.key_id)?;
        let event = super::internal::service_event(
            &key,
            "DeleteKey",
            now,
            serde_json::json!({"keyId": key.arn}),
            None,
        );
        crate::record::append(conn, &event)?;
        report.deleted.push(key.arn);
    }
    if let Some(master) = master {
        for key in cairn_store::kms::due_rotations(conn, now)? {
            let generation = super::rotation::rotate(conn, master, &key, now, "AUTOMATIC")?;
            let period = key.rotation_period.unwrap_or(365);
            let mut next = key.next_rotation.unwrap_or(now);
            while next <= now {
                next += (period * 86_400) as f64;
            }
            cairn_store::kms::set_rotation(conn, &key.key_id, true, Some(period), Some(next))?;
            let event = super::internal::service_event(
                &key,
                "RotateKey",
                now,
                serde_json::Value::Null,
                Some(serde_json::json!({
                    "keyMaterialId": cairn_crypto::key_material_id(&key.arn, generation)
                })),
            );
            crate::record::append(conn, &event)?;
            report.rotated.push(key.arn);
        }
    }
    Ok(report)
}
