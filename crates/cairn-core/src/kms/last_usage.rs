//! GetKeyLastUsage: the key's last successful cryptographic operation, read from event
//! history, where every KMS call is recorded (kms7: the operation was refused as unsupported).
//! Tracking starts at the key's creation, or at the oldest event history keeps (90 days),
//! whichever is later.

use cairn_store::Connection;
use cairn_store::events::{LookupFilter, LookupQuery};
use cairn_store::kms::KeyRow;

use crate::error::ApiResult;

/// The operations GetKeyLastUsage reports (the `Operation` values of `KeyLastUsageData`).
pub const CRYPTOGRAPHIC: [&str; 12] = [
    "Decrypt",
    "DeriveSharedSecret",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "ReEncrypt",
    "Sign",
    "Verify",
    "VerifyMac",
];

/// How far back event history goes.
const HISTORY_SECS: i64 = 90 * 86_400;
/// Events of the key read at most, newest first, looking for a cryptographic one.
const MAX_SCANNED: usize = 10_000;
const PAGE: usize = 200;

/// The last successful cryptographic operation with a key.
#[derive(Clone, Debug, PartialEq)]
pub struct LastUsage {
    /// Its event name.
    pub operation: String,
    /// Its `eventTime`, epoch seconds.
    pub time: i64,
    /// Its `eventID`.
    pub event_id: String,
    /// Its `requestID`.
    pub request_id: String,
}

/// When tracking started for `key`: its creation, or the start of event history if later.
pub fn tracking_start(key: &KeyRow, now: i64) -> i64 {
    (key.created as i64).max(now - HISTORY_SECS)
}

/// The key's last successful cryptographic operation since tracking started, if any.
pub fn last_usage(conn: &Connection, key: &KeyRow, now: i64) -> ApiResult<Option<LastUsage>> {
    let filter = LookupFilter::ResourceName(key.arn.clone());
    let mut after = None;
    let mut scanned = 0;
    while scanned < MAX_SCANNED {
        let page = cairn_store::events::lookup(
            conn,
            &LookupQuery {
                account: &key.account,
                region: &key.region,
                category: "Management",
                filter: &filter,
                start: tracking_start(key, now),
                end: now,
                after,
                limit: PAGE,
            },
        )?;
        for e in &page {
            if !CRYPTOGRAPHIC.contains(&e.event_name.as_str()) {
                continue;
            }
            let record: serde_json::Value = serde_json::from_str(&e.record).unwrap_or_default();
            if record.get("errorCode").is_some_and(|c| !c.is_null()) {
                continue;
            }
            return Ok(Some(LastUsage {
                operation: e.event_name.clone(),
                time: e.event_time,
                event_id: e.event_id.clone(),
                request_id: record["requestID"].as_str().unwrap_or_default().to_owned(),
            }));
        }
        scanned += page.len();
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some((last.event_time, last.seq)),
            _ => break,
        }
    }
    Ok(None)
}
