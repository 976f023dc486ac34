//! Access keys' last use, noted for every call the gate runs: GetAccessKeyLastUsed and the
//! credential report must show a key used only for calls the event log does not keep (S3
//! object calls no trail selects, PutLogEvents, PutMetricData, Publish). Uses are held in
//! memory, newest per key, and written to the store every few seconds
//! ([`KeyUse::flush`]) rather than one write per call: a read that records no event must not
//! pay a write. Only long-term keys (root's and users') are kept; temporary keys have no
//! last use.

use std::collections::HashMap;
use std::sync::Mutex;

use cairn_core::CallContext;

/// The uses not yet written: key id → (epoch seconds, service, region).
#[derive(Default)]
pub struct KeyUse {
    pending: Mutex<HashMap<String, (i64, String, String)>>,
}

impl KeyUse {
    /// Notes that `ctx`'s key signed a call to `event_source` (`s3.amazonaws.com`).
    pub fn note(&self, ctx: &CallContext, event_source: &str) {
        let key = match &ctx.principal {
            cairn_model::Principal::Root { access_key_id, .. }
            | cairn_model::Principal::IamUser { access_key_id, .. } => access_key_id,
            _ => return,
        };
        // A temporary key (GetSessionToken's) has no last use.
        if key.is_empty() || key.starts_with("ASIA") {
            return;
        }
        let service = event_source
            .strip_suffix(".amazonaws.com")
            .unwrap_or(event_source);
        let secs = ctx.now.floor() as i64;
        let region = ctx.region.as_str();
        if let Ok(mut pending) = self.pending.lock() {
            // The common case (the same key, service and region again within the second)
            // allocates nothing.
            let newer = pending
                .get(key)
                .is_none_or(|(t, s, r)| *t < secs || (*t == secs && (s != service || r != region)));
            if newer {
                pending.insert(
                    key.to_owned(),
                    (secs, service.to_owned(), region.to_owned()),
                );
            }
        }
    }

    /// Writes the noted uses to the store; kept for the next flush if the write fails.
    pub async fn flush(&self, store: &cairn_store::Store) {
        let taken: Vec<(String, i64, String, String)> = match self.pending.lock() {
            Ok(mut pending) => pending.drain().map(|(k, (t, s, r))| (k, t, s, r)).collect(),
            Err(_) => return,
        };
        if taken.is_empty() {
            return;
        }
        let uses = taken.clone();
        let written = store
            .write(move |c| cairn_store::iam::key_use::record(c, &uses))
            .await;
        if !matches!(written, Ok(Ok(()))) {
            // A full store is reported once by the store itself; this retries every flush.
            if matches!(&written, Ok(Err(e)) | Err(e) if e.is_full()) {
                tracing::debug!(
                    "access keys' last use could not be written (the disk is full); kept for the next try"
                );
            } else {
                tracing::warn!("access keys' last use could not be written; kept for the next try");
            }
            if let Ok(mut pending) = self.pending.lock() {
                for (k, t, s, r) in taken {
                    pending.entry(k).or_insert((t, s, r));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::{AccountId, Principal, Region};

    fn call(key: &str, now: f64) -> CallContext {
        CallContext {
            principal: Principal::Root {
                account: AccountId::parse("123456789012").unwrap(),
                access_key_id: key.to_owned(),
                session: None,
            },
            region: Region::parse("us-east-1").unwrap(),
            now,
            origin: Default::default(),
        }
    }

    #[test]
    fn the_newest_use_of_a_long_term_key_is_kept() {
        let uses = KeyUse::default();
        uses.note(&call("AKIAROOT", 10.5), "s3.amazonaws.com");
        uses.note(&call("AKIAROOT", 9.0), "sns.amazonaws.com");
        uses.note(&call("ASIATEMP", 11.0), "s3.amazonaws.com");
        let pending = uses.pending.lock().unwrap();
        assert_eq!(
            pending.get("AKIAROOT"),
            Some(&(10, "s3".to_owned(), "us-east-1".to_owned()))
        );
        assert!(!pending.contains_key("ASIATEMP"));
    }
}
