//! Key rotation: EnableKeyRotation (90–2560 days, default 365), DisableKeyRotation,
//! GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations. A rotation adds a backing-key
//! generation that new ciphertexts use; every older generation stays, so old ciphertexts
//! still decrypt.

use cairn_store::Connection;
use cairn_store::kms::Material;

use super::paging::{self, Page};
use super::{AWS_MANAGED, Key, MasterKey, constraint, err, not_usable};
use crate::error::{ApiResult, ErrorKind};

/// Most on-demand rotations a key may have.
pub const MAX_ON_DEMAND: usize = 25;

/// GetKeyRotationStatus's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct RotationStatus {
    /// Automatic rotation on.
    pub enabled: bool,
    /// Period, days (when enabled).
    pub period_days: Option<i64>,
    /// Next automatic rotation (when enabled).
    pub next: Option<f64>,
}

fn rotatable(key: &Key) -> ApiResult<()> {
    if let Some(e) = not_usable(key) {
        return Err(e);
    }
    if key.key_manager == AWS_MANAGED {
        return Err(err(
            ErrorKind::UnsupportedOperation,
            format!(
                "{} is an AWS managed key; AWS rotates it every year.",
                key.arn
            ),
        ));
    }
    Ok(())
}

/// EnableKeyRotation.
pub fn enable(conn: &Connection, key: &Key, period_days: Option<i64>, now: f64) -> ApiResult<()> {
    let period = period_days.unwrap_or(365);
    if !(90..=2560).contains(&period) {
        return Err(constraint(
            "rotationPeriodInDays",
            &period.to_string(),
            if period < 90 {
                "Member must have value greater than or equal to 90"
            } else {
                "Member must have value less than or equal to 2560"
            },
        ));
    }
    rotatable(key)?;
    let next = now + (period * 86_400) as f64;
    cairn_store::kms::set_rotation(conn, &key.key_id, true, Some(period), Some(next))?;
    Ok(())
}

/// DisableKeyRotation.
pub fn disable(conn: &Connection, key: &Key) -> ApiResult<()> {
    rotatable(key)?;
    cairn_store::kms::set_rotation(conn, &key.key_id, false, None, None)?;
    Ok(())
}

/// GetKeyRotationStatus. A key pending deletion answers `false` (KMS: "While a KMS key is
/// pending deletion, its key rotation status is false"); its setting is kept, so canceling
/// the deletion shows it again.
pub fn status(key: &Key) -> ApiResult<RotationStatus> {
    let enabled = key.rotation_enabled && key.state != super::PENDING_DELETION;
    Ok(RotationStatus {
        enabled,
        period_days: key.rotation_period.filter(|_| enabled),
        next: key.next_rotation.filter(|_| enabled),
    })
}

/// Adds a generation (`rotation_type` `AUTOMATIC` or `ON_DEMAND`); returns it.
pub(crate) fn rotate(
    conn: &Connection,
    master: &MasterKey,
    key: &Key,
    now: f64,
    rotation_type: &str,
) -> ApiResult<u32> {
    let generation = key.current_generation + 1;
    super::keys::add_generation(conn, master, key, generation, now, Some(rotation_type))?;
    Ok(generation)
}

/// RotateKeyOnDemand: a new generation now (at most [`MAX_ON_DEMAND`] per key).
pub fn rotate_on_demand(
    conn: &Connection,
    master: &MasterKey,
    key: &Key,
    now: f64,
) -> ApiResult<u32> {
    rotatable(key)?;
    let done = cairn_store::kms::materials(conn, &key.key_id)?
        .iter()
        .filter(|m| m.rotation_type.as_deref() == Some("ON_DEMAND"))
        .count();
    if done >= MAX_ON_DEMAND {
        return Err(err(
            ErrorKind::KmsLimitExceeded,
            format!(
                "{} has reached the limit of {MAX_ON_DEMAND} on-demand rotations.",
                key.arn
            ),
        ));
    }
    rotate(conn, master, key, now, "ON_DEMAND")
}

/// ListKeyRotations: the rotations done (generations after the first), oldest first.
pub fn list(
    conn: &Connection,
    key: &Key,
    marker: Option<&str>,
    limit: usize,
) -> ApiResult<Page<Material>> {
    super::not_pending(key)?;
    let markers = paging::Markers::new(conn, "ListKeyRotations", &[&key.arn])?;
    let after: u32 = match markers.decode(marker)? {
        s if s.is_empty() => 1,
        s => s
            .parse()
            .map_err(|_| err(ErrorKind::KmsInvalidMarker, "Invalid marker"))?,
    };
    let items: Vec<Material> = cairn_store::kms::materials(conn, &key.key_id)?
        .into_iter()
        .filter(|m| m.generation > after)
        .take(limit + 1)
        .collect();
    Ok(markers.page(items, limit, |m| m.generation.to_string()))
}
