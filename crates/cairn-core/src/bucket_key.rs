//! S3 Bucket Keys (spec iam-kms.md §8.1, §8.3): S3 asks KMS for a bucket-level key (a
//! `GenerateDataKey` bound to the bucket ARN), keeps its plaintext for a limited time, and
//! derives each object's data key from it with a salt of the object's own, so KMS is called
//! about once per bucket key period instead of once per object. Readers likewise keep what
//! `Decrypt` opened.
//!
//! [`BucketKeys`] is that memory: bounded, time-limited on the call clock, in memory only
//! (the wrapped key is stored with every object, so a restart just asks KMS again). Keys
//! are kept per principal (a writer's slot also names the KMS key as requested and the
//! caller's encryption context; a reader's the wrapped key), so KMS still authorizes every
//! principal that uses a bucket key, at least once per period.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::encryption::{Seal, Sealing};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::kms::Secret;
use crate::kms::internal::Actor;
use crate::sse::{SseKms, frames};

/// How long a bucket key is used after KMS made or opened it, in seconds of the call clock.
pub const BUCKET_KEY_SECS: f64 = 3600.0;
/// How many bucket keys are kept at once, for writers and for readers each.
pub const MAX_HELD: usize = 1024;

/// Who a bucket key is kept for: the principal and the credential it signed with (a service
/// principal by name and the resource it acts for).
pub fn holder(actor: &Actor<'_>) -> (String, f64) {
    match actor {
        // A SigV2-signed request is its own holder: it never finds a key another request
        // kept, and KMS refuses it one of its own (S3 takes only SigV4 for SSE-KMS).
        Actor::Caller(c) | Actor::Via { ctx: c, .. } => (
            format!(
                "{}\n{}{}",
                c.principal.arn(),
                c.principal.access_key_id(),
                if c.origin.sigv2 { "\nsigv2" } else { "" }
            ),
            c.now,
        ),
        Actor::Service(s) => (
            format!(
                "{}\n{}",
                s.service,
                s.source_arn.as_deref().unwrap_or_default()
            ),
            s.now,
        ),
    }
}

/// A writer's slot: the bucket, the KMS key as requested (`None`: the account's
/// `alias/aws/s3`), the caller's encryption context, and the holder.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WriteSlot {
    bucket: String,
    key_id: Option<String>,
    context: Vec<(String, String)>,
    holder: String,
}

impl WriteSlot {
    /// The slot of a write sealed as `sealing` says, when it uses a Bucket Key.
    pub fn of(sealing: &Sealing, bucket: &str, holder: &str) -> Option<Self> {
        match sealing {
            Sealing::Kms {
                key_id,
                context,
                bucket_key: true,
            } => Some(Self {
                bucket: bucket.to_owned(),
                key_id: key_id.clone(),
                context: context
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                holder: holder.to_owned(),
            }),
            _ => None,
        }
    }
}

/// A bucket key in the clear and how it is recorded with objects (`data_key` wrapped, the
/// bucket-ARN context, no salt yet).
#[derive(Clone)]
pub struct Held {
    /// The bucket key.
    pub plaintext: Secret,
    /// The record each object sealed under it starts from.
    pub sse: SseKms,
}

impl Held {
    /// A new object's data key under this bucket key, and its record (with a fresh salt).
    pub fn seal_object(&self) -> ApiResult<(Secret, Seal)> {
        let salt: [u8; frames::PIECE_SALT_LEN] = cairn_crypto::random_array()
            .map_err(|_| ApiError::new(ErrorKind::Internal, "object key material is unusable"))?;
        let sse = SseKms {
            bucket_key: true,
            bucket_key_salt: Some(hex::encode(salt)),
            ..self.sse.clone()
        };
        let key = frames::bucket_object_key(self.plaintext.expose(), &salt);
        Ok((key, Seal::Kms(sse)))
    }
}

struct Entry<V> {
    value: V,
    since: f64,
}

impl<V> Entry<V> {
    /// Fresh at `now` (a clock set back before the key was made counts as stale).
    fn fresh(&self, now: f64) -> bool {
        now >= self.since && now < self.since + BUCKET_KEY_SECS
    }
}

fn keep<K: Clone + Eq + std::hash::Hash, V>(map: &mut HashMap<K, Entry<V>>, k: K, v: V, now: f64) {
    if map.len() >= MAX_HELD && !map.contains_key(&k) {
        map.retain(|_, e| e.fresh(now));
        if map.len() >= MAX_HELD
            && let Some(oldest) = map
                .iter()
                .min_by(|a, b| a.1.since.total_cmp(&b.1.since))
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
    }
    map.insert(
        k,
        Entry {
            value: v,
            since: now,
        },
    );
}

#[derive(Default)]
struct Inner {
    writes: HashMap<WriteSlot, Entry<Held>>,
    /// (wrapped bucket key hex, holder) → the bucket key.
    reads: HashMap<(String, String), Entry<Secret>>,
}

/// The bucket keys S3 holds (one per process, in memory only).
#[derive(Default)]
pub struct BucketKeys {
    inner: Mutex<Inner>,
}

impl BucketKeys {
    /// An empty memory.
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves only whole entries behind.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bucket key a writer holds for `slot`, if still fresh at `now`.
    pub fn for_write(&self, slot: &WriteSlot, now: f64) -> Option<Held> {
        let inner = self.inner();
        inner
            .writes
            .get(slot)
            .filter(|e| e.fresh(now))
            .map(|e| e.value.clone())
    }

    /// Keeps a bucket key KMS just made for `slot` (the writer may also read with it).
    pub fn keep_write(&self, slot: WriteSlot, held: Held, now: f64) {
        let mut inner = self.inner();
        let read = (held.sse.data_key.clone(), slot.holder.clone());
        keep(&mut inner.reads, read, held.plaintext.clone(), now);
        keep(&mut inner.writes, slot, held, now);
    }

    /// The bucket key wrapped as `wrapped` that `holder` opened lately, if still fresh.
    pub fn for_read(&self, wrapped: &str, holder: &str, now: f64) -> Option<Secret> {
        let inner = self.inner();
        inner
            .reads
            .get(&(wrapped.to_owned(), holder.to_owned()))
            .filter(|e| e.fresh(now))
            .map(|e| e.value.clone())
    }

    /// Keeps a bucket key `holder` just opened with `Decrypt`.
    pub fn keep_read(&self, wrapped: &str, holder: &str, key: Secret, now: f64) {
        let mut inner = self.inner();
        keep(
            &mut inner.reads,
            (wrapped.to_owned(), holder.to_owned()),
            key,
            now,
        );
    }

    /// How many keys are held (writers', readers').
    pub fn len(&self) -> (usize, usize) {
        let inner = self.inner();
        (inner.writes.len(), inner.reads.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn sealing(key: &str, bucket_key: bool) -> Sealing {
        Sealing::Kms {
            key_id: Some(key.to_owned()),
            context: BTreeMap::new(),
            bucket_key,
        }
    }

    fn held(tag: u8) -> Held {
        Held {
            plaintext: Secret::from_vec(vec![tag; 32]),
            sse: SseKms {
                key_arn: "arn:aws:kms:us-east-1:123456789012:key/k".into(),
                data_key: format!("wrapped-{tag}"),
                context: BTreeMap::from([("aws:s3:arn".into(), "arn:aws:s3:::b".into())]),
                bucket_key: true,
                bucket_key_salt: None,
            },
        }
    }

    #[test]
    fn only_bucket_key_writes_have_a_slot_and_slots_separate_principals() {
        assert!(WriteSlot::of(&sealing("k", false), "b", "alice").is_none());
        assert!(WriteSlot::of(&Sealing::SseS3, "b", "alice").is_none());
        let a = WriteSlot::of(&sealing("k", true), "b", "alice").unwrap();
        let keys = BucketKeys::new();
        keys.keep_write(a.clone(), held(1), 100.0);
        assert!(keys.for_write(&a, 100.0).is_some());
        let bob = WriteSlot::of(&sealing("k", true), "b", "bob").unwrap();
        assert!(keys.for_write(&bob, 100.0).is_none());
        let other_key = WriteSlot::of(&sealing("k2", true), "b", "alice").unwrap();
        assert!(keys.for_write(&other_key, 100.0).is_none());
        let other_bucket = WriteSlot::of(&sealing("k", true), "c", "alice").unwrap();
        assert!(keys.for_write(&other_bucket, 100.0).is_none());
        // The writer may read with it; nobody else.
        assert!(keys.for_read("wrapped-1", "alice", 101.0).is_some());
        assert!(keys.for_read("wrapped-1", "bob", 101.0).is_none());
    }

    #[test]
    fn keys_expire_with_the_clock_and_memory_is_bounded() {
        let keys = BucketKeys::new();
        let a = WriteSlot::of(&sealing("k", true), "b", "alice").unwrap();
        keys.keep_write(a.clone(), held(1), 1000.0);
        assert!(keys.for_write(&a, 1000.0 + BUCKET_KEY_SECS - 1.0).is_some());
        assert!(keys.for_write(&a, 1000.0 + BUCKET_KEY_SECS).is_none());
        assert!(keys.for_write(&a, 999.0).is_none(), "clock set back");
        for i in 0..(MAX_HELD + 50) {
            keys.keep_read(
                &format!("w{i}"),
                "alice",
                Secret::from_vec(vec![1]),
                i as f64,
            );
        }
        let (_, reads) = keys.len();
        assert!(reads <= MAX_HELD, "{reads}");
        // The newest stay.
        let last = format!("w{}", MAX_HELD + 49);
        assert!(
            keys.for_read(&last, "alice", (MAX_HELD + 49) as f64)
                .is_some()
        );
    }

    #[test]
    fn objects_under_one_bucket_key_get_keys_of_their_own() {
        let h = held(3);
        let (k1, s1) = h.seal_object().unwrap();
        let (k2, s2) = h.seal_object().unwrap();
        assert_ne!(k1.expose(), k2.expose());
        assert_ne!(k1.expose(), h.plaintext.expose());
        let (Seal::Kms(s1), Seal::Kms(s2)) = (s1, s2) else {
            panic!("SSE-KMS seals");
        };
        assert_eq!(s1.data_key, "wrapped-3");
        assert!(s1.bucket_key && s1.bucket_key_salt.is_some());
        assert_ne!(s1.bucket_key_salt, s2.bucket_key_salt);
        // Reopening derives the same key from the bucket key.
        let again = s1.object_key(h.plaintext.clone()).unwrap();
        assert_eq!(again.expose(), k1.expose());
    }
}
